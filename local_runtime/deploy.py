"""Create the stack's resources in the emulated account, as CloudFormation would."""

from __future__ import annotations

import json
from typing import Any

from local_runtime.bus import schedule_period
from local_runtime.errors import TemplateError
from local_runtime.iam import Identities, provide_aws_managed_policy, put_role_policy
from local_runtime.lambdas import Functions, FunctionSpec
from local_runtime.stack import Stack

_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MessageRetentionPeriod",
    "VisibilityTimeout",
    "KmsMasterKeyId",
    "SqsManagedSseEnabled",
    "ReceiveMessageWaitTimeSeconds",
)


def deploy(
    stack: Stack,
    clients: dict[str, Any],
    functions: Functions,
    identities: Identities | None = None,
) -> None:
    """Roles first (functions and machines run as them), queues (rules name them as dead-letter
    queues), then functions, machines, rules (an event pattern, or a rate schedule the bus
    runs: `Bus.arm_schedules` after the deployment). With `identities` (IAM enforced), each
    function's environment carries its role's credentials, as Lambda sets them."""
    _roles(stack, clients)
    for logical, res in stack.of_type("AWS::SQS::Queue").items():
        props = res["Properties"]
        attributes = {
            k: str(props[k]).lower() if isinstance(props[k], bool) else str(props[k])
            for k in _QUEUE_ATTRIBUTES
            if k in props
        }
        clients["sqs"].create_queue(QueueName=stack.physical_name(logical), Attributes=attributes)

    for logical, res in stack.of_type("AWS::DynamoDB::Table").items():
        props = res["Properties"]
        table: dict[str, Any] = {
            "TableName": stack.physical_name(logical),
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "GlobalSecondaryIndexes" in props:
            table["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        sse = props.get("SSESpecification", {})
        if sse.get("SSEEnabled"):  # CloudFormation's spelling
            table["SSESpecification"] = {"Enabled": True, **_pick(sse, "SSEType", "KMSMasterKeyId")}
        clients["dynamodb"].create_table(**table)
        if props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
            clients["dynamodb"].update_continuous_backups(
                TableName=table["TableName"],
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            clients["dynamodb"].update_time_to_live(
                TableName=table["TableName"], TimeToLiveSpecification=ttl
            )

    for logical in stack.of_type("AWS::SNS::Topic"):
        clients["sns"].create_topic(Name=stack.physical_name(logical))
    for res in stack.of_type("AWS::SNS::Subscription").values():
        props = res["Properties"]
        attributes = {}
        if "FilterPolicy" in props:
            attributes["FilterPolicy"] = json.dumps(props["FilterPolicy"])
        clients["sns"].subscribe(
            TopicArn=props["TopicArn"],
            Protocol=props["Protocol"],
            Endpoint=props["Endpoint"],
            Attributes=attributes,
        )

    for logical, res in stack.of_type("AWS::Lambda::Function").items():
        props = res["Properties"]
        functions.add(
            FunctionSpec(
                logical_id=logical,
                name=stack.physical_name(logical),
                arn=stack.arn(logical),
                code_dir=stack.code_dirs[logical],
                handler=props["Handler"],
                environment={
                    **{
                        k: str(v)
                        for k, v in props.get("Environment", {}).get("Variables", {}).items()
                    },
                    **(
                        identities.function_environment(props["Role"], stack.physical_name(logical))
                        if identities is not None
                        else {}
                    ),
                },
                timeout=int(props.get("Timeout", 3)),
                memory=int(props.get("MemorySize", 128)),
            )
        )

    for res in stack.of_type("AWS::Lambda::EventInvokeConfig").values():
        props = res["Properties"]
        spec = functions.spec(props["FunctionName"])
        if spec is not None:
            spec.max_retry_attempts = int(props.get("MaximumRetryAttempts", 2))
            spec.max_event_age_seconds = int(props.get("MaximumEventAgeInSeconds", 21600))
            failure = props.get("DestinationConfig", {}).get("OnFailure", {})
            spec.on_failure = failure.get("Destination")

    for logical, res in stack.of_type("AWS::StepFunctions::StateMachine").items():
        props = res["Properties"]
        if identities is not None:
            identities.require_trust(props["RoleArn"], "states.amazonaws.com", logical)
        definition = props.get("DefinitionString") or json.dumps(props["Definition"])
        for key, value in (props.get("DefinitionSubstitutions") or {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        clients["stepfunctions"].create_state_machine(
            name=stack.physical_name(logical),
            definition=definition,
            roleArn=props["RoleArn"],
            type=props.get("StateMachineType", "STANDARD"),
        )

    for logical in stack.of_type("AWS::Events::EventBus"):
        clients["events"].create_event_bus(Name=stack.physical_name(logical))
    for res in stack.of_type("AWS::Events::EventBusPolicy").values():
        props = res["Properties"]
        clients["events"].put_permission(
            EventBusName=props["EventBusName"],
            Policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Sid": props["StatementId"], **props["Statement"]}],
                }
            ),
        )

    for logical, res in stack.of_type("AWS::Events::Rule").items():
        props = res["Properties"]
        name = stack.physical_name(logical)
        bus = props.get("EventBusName", "default")
        rule: dict[str, Any] = {
            "Name": name,
            "EventBusName": bus,
            "State": props.get("State", "ENABLED"),  # a kill switch deploys rules DISABLED
        }
        if "EventPattern" in props:
            rule["EventPattern"] = json.dumps(props["EventPattern"])
        if "ScheduleExpression" in props:
            schedule_period(props["ScheduleExpression"])  # a rate we can run, or one line
            if bus != "default":
                raise TemplateError(
                    f"{logical}: a ScheduleExpression rule must be on the default event bus"
                )
            rule["ScheduleExpression"] = props["ScheduleExpression"]
        if ("EventPattern" in rule) == ("ScheduleExpression" in rule):
            raise TemplateError(
                f"{logical}: needs one of EventPattern and ScheduleExpression (not both)"
            )
        clients["events"].put_rule(**rule)
        clients["events"].put_targets(Rule=name, EventBusName=bus, Targets=props.get("Targets", []))


def _roles(stack: Stack, clients: dict[str, Any]) -> None:
    """The stack's IAM roles and policies (SAM generates one role per function and state
    machine from its `Policies`), as CloudFormation creates them."""
    iam = clients["iam"]
    for logical, res in stack.of_type("AWS::IAM::Role").items():
        props = res["Properties"]
        name = stack.physical_name(logical)
        iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]),
            Path=props.get("Path", "/"),
            Tags=props.get("Tags", []),
            **_pick(props, "Description", "MaxSessionDuration"),
        )
        for policy in props.get("Policies", []):
            put_role_policy(stack.account, name, policy["PolicyName"], policy["PolicyDocument"])
        for arn in props.get("ManagedPolicyArns", []):
            provide_aws_managed_policy(stack.account, arn)
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    for res in stack.of_type("AWS::IAM::Policy").values():
        props = res["Properties"]
        for role in props.get("Roles", []):
            put_role_policy(stack.account, role, props["PolicyName"], props["PolicyDocument"])


def _pick(props: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: props[k] for k in keys if k in props}
