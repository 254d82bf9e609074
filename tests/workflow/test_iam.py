"""IAM is enforced in the local runtime: every call is checked against its caller's policies.

Each handler calls with its function role (as Lambda runs it), the watcher's Tasks with the
state machine role, and a refusal looks like AWS's, so a missing or wrong permission in
template.yaml fails a scenario here instead of a deployment.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from cfnlint.decode import decode

from local_runtime.actors import start
from local_runtime.iam import Caller, Context, conditions_hold, decide
from local_runtime.runtime import TEMPLATE, Account, running
from local_runtime.scenario import ResourceSpec, load
from local_runtime.simulation import simulate
from tests.conftest import SCENARIOS
from tests.workflow.conftest import T0, at


@pytest.fixture
def account() -> Iterator[Account]:
    with running(T0) as account:
        yield account


def refusal(call: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as refused:
        call()
    error = refused.value.response["Error"]
    return {"Code": str(error.get("Code")), "Message": str(error.get("Message"))}


def role_client(account: Account, role: str, service: str) -> Any:
    """A client signed with a session of one of the stack's roles."""
    assert account.iam is not None
    credentials = account.iam.role_credentials(account.stack.arn(role), "test")
    return boto3.client(service, region_name=account.region, **credentials.client_kwargs())  # type: ignore[call-overload]


def ready_session(account: Account, session_id: str = "s1") -> None:
    account.clients["glue"].create_session(
        Id=session_id,
        Role=f"arn:aws:iam::{account.account_id}:role/Glue",
        Command={"Name": "glueetl", "PythonVersion": "3"},
    )
    account.clock.run_until(account.clock.now() + timedelta(minutes=1))


# -- handlers call with their function's role ---------------------------------------------------
def test_a_handler_call_its_role_does_not_allow_is_refused_with_access_denied(
    account: Account,
) -> None:
    """The audit role may put items in the audit table, and nowhere else: the action alone
    is not enough, the table's ARN must be in the statement's Resource."""
    audit_table = account.stack.physical_name("AuditTable")
    claims_table = account.stack.physical_name("WatcherClaimsTable")

    def put(event: dict[str, Any], context: Any) -> None:
        boto3.client("dynamodb").put_item(TableName=event["table"], Item=event["item"])

    account.functions.replace("AuditFunction", put)
    error = refusal(
        lambda: account.functions.invoke(
            "AuditFunction", {"table": claims_table, "item": {"claim": {"S": "x"}}}
        )
    )
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (
        f"User: arn:aws:sts::{account.account_id}:assumed-role/idle-reaper-AuditFunctionRole/"
        f"{account.stack.physical_name('AuditFunction')} is not authorized to perform:"
        f" dynamodb:PutItem on resource: {account.stack.arn('WatcherClaimsTable')}"
        " because no identity-based policy allows the dynamodb:PutItem action"
    )
    account.functions.invoke(
        "AuditFunction", {"table": audit_table, "item": {"pk": {"S": "a"}, "sk": {"S": "b"}}}
    )
    stored = account.clients["dynamodb"].scan(TableName=audit_table)["Items"]
    assert stored == [{"pk": {"S": "a"}, "sk": {"S": "b"}}]


def test_the_inspect_role_cannot_stop_a_session_and_the_state_machine_role_can(
    account: Account,
) -> None:
    ready_session(account)

    def stop(event: dict[str, Any], context: Any) -> None:
        boto3.client("glue").stop_session(Id="s1")

    account.functions.replace("InspectFunction", stop)
    error = refusal(lambda: account.functions.invoke("InspectFunction", {}))
    assert error["Code"] == "AccessDeniedException"
    session = f"arn:aws:glue:{account.region}:{account.account_id}:session/s1"
    assert f"glue:StopSession on resource: {session} because no identity-based" in error["Message"]
    assert account.emulators["glue-session"].lives["s1"].ended_at is None

    role_client(account, "WatcherStateMachineRole", "glue").stop_session(Id="s1")
    assert account.emulators["glue-session"].status("s1") in ("STOPPING", "STOPPED")


def test_role_credentials_still_work_a_simulated_week_later(account: Account) -> None:
    """moto never expires assumed-role credentials, and botocore holds environment
    credentials as static: a handler's cached client signs correctly for the whole run."""

    def who(event: dict[str, Any], context: Any) -> str:
        dynamodb = boto3.client("dynamodb")
        item = {"pk": {"S": event["pk"]}, "sk": {"S": "x"}}
        dynamodb.put_item(TableName=account.stack.physical_name("AuditTable"), Item=item)
        arn: str = boto3.client("sts").get_caller_identity()["Arn"]
        return arn

    account.functions.replace("AuditFunction", who)
    first = account.functions.invoke("AuditFunction", {"pk": "day-0"})
    account.clock.run_until(T0 + timedelta(days=8))
    assert account.functions.invoke("AuditFunction", {"pk": "day-8"}) == first
    assert first.endswith(":assumed-role/idle-reaper-AuditFunctionRole/idle-reaper-AuditFunction")


# -- the watcher's Tasks call with the state machine's role -------------------------------------
def template_without(tmp_path: Path, resource: str, sid: str) -> Path:
    """template.yaml with one policy statement removed, next to the folders it refers to."""
    raw, problems = decode(str(TEMPLATE))
    assert raw is not None, problems
    template = json.loads(json.dumps(raw))
    removed = 0
    for policy in template["Resources"][resource]["Properties"]["Policies"]:
        statements = policy.get("Statement", []) if isinstance(policy, dict) else []
        kept = [s for s in statements if not (isinstance(s, dict) and s.get("Sid") == sid)]
        removed += len(statements) - len(kept)
        if statements:
            policy["Statement"] = kept
    assert removed == 1, f"{resource} has no statement {sid}"
    for folder in ("functions", "statemachine", "src"):
        (tmp_path / folder).symlink_to(TEMPLATE.parent / folder)
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    return path


def test_a_watcher_whose_role_cannot_stop_sessions_fails_its_task_with_glue_access_denied(
    tmp_path: Path,
) -> None:
    template = template_without(tmp_path, "WatcherStateMachine", "StopGlueSessions")
    with running(T0, template=template) as account:
        start(account, ResourceSpec(kind="glue-session", id="s1"))
        account.clock.run_until(at(60))
        execution = account.bus.started[0].execution_arn
        failures = [
            e["taskFailedEventDetails"]
            for e in account.history(execution)
            if e["type"] == "TaskFailed"
        ]
        assert failures, "the stop was never refused"
        assert {f["error"] for f in failures} == {"Glue.AccessDeniedException"}
        assert "not authorized to perform: glue:StopSession on resource:" in failures[0]["cause"]
        assert "assumed-role/idle-reaper-WatcherStateMachineRole/" in failures[0]["cause"]
        assert account.emulators["glue-session"].lives["s1"].ended_by != "reaper"


def test_the_demo_runs_with_every_call_checked_against_its_callers_policies() -> None:
    seen: list[Account] = []
    summary = simulate(
        load(SCENARIOS / "demo.yaml"), out=io.StringIO(), progress=None, inspect=seen.append
    )["summary"]
    assert summary["totals"]["stopped"] > 0 and summary["dead_letters"] == 0
    identities = seen[0].iam
    assert identities is not None
    refused = [key for key, calls in identities.decisions.items() if not key[2]]
    assert refused == []
    allowed = {
        (who.removeprefix("idle-reaper-"), action) for who, action, _ in identities.decisions
    }
    assert {
        ("InspectFunctionRole", "glue:GetSession"),
        ("InspectFunctionRole", "glue:ListStatements"),
        ("NotifyFunctionRole", "sns:Publish"),
        ("NotifyFunctionRole", "secretsmanager:GetSecretValue"),
        ("AuditFunctionRole", "dynamodb:PutItem"),
        ("WatcherStateMachineRole", "lambda:InvokeFunction"),
        ("WatcherStateMachineRole", "glue:StopSession"),
        ("WatcherStateMachineRole", "events:PutEvents"),
    } <= allowed
    # every call a role made was checked against its resource, not only its action
    assert not {a for who, a in identities.unchecked if who != "local-runtime"}


def test_a_state_machine_needs_a_role_step_functions_can_assume(account: Account) -> None:
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    sfn = account.clients["stepfunctions"]
    for role in (
        f"arn:aws:iam::{account.account_id}:role/missing",
        account.stack.arn("InspectFunctionRole"),  # trusts Lambda, not Step Functions
    ):
        error = refusal(
            lambda role=role: sfn.create_state_machine(
                name="probe", definition=definition, roleArn=role
            )
        )
        assert error["Code"] == "AccessDeniedException"
        assert error["Message"].startswith(
            "Neither the global service principal states.amazonaws.com, nor the regional one"
        )
    sfn.create_state_machine(
        name="probe", definition=definition, roleArn=account.stack.arn("WatcherStateMachineRole")
    )


# -- resource policies, and the policy language as AWS documents it ----------------------------
def test_an_event_bus_policy_allows_a_role_it_names_and_denies_everyone_else(
    account: Account,
) -> None:
    audit_role = account.stack.arn("AuditFunctionRole")
    events = account.clients["events"]
    bus = events.create_event_bus(Name="probe")["EventBusArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AuditMayPublish",
                "Effect": "Allow",
                "Principal": {"AWS": audit_role},
                "Action": "events:PutEvents",
                "Resource": bus,
            },
            {
                "Sid": "NobodyElse",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "events:PutEvents",
                "Resource": bus,
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": audit_role}},
            },
        ],
    }
    events.put_permission(EventBusName="probe", Policy=json.dumps(policy))
    entry = {"Source": "probe", "DetailType": "probe", "Detail": "{}", "EventBusName": bus}

    # the audit role has no events permission of its own: the bus's policy is enough
    role_client(account, "AuditFunctionRole", "events").put_events(Entries=[entry])
    error = refusal(lambda: events.put_events(Entries=[entry]))  # the administrator
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"].endswith("with an explicit deny in a resource-based policy")


def test_sns_refuses_with_its_own_error_code(account: Account) -> None:
    sns = role_client(account, "NotifyFunctionRole", "sns")
    other = account.clients["sns"].create_topic(Name="other")["TopicArn"]
    error = refusal(lambda: sns.publish(TopicArn=other, Message="x"))
    assert error["Code"] == "AuthorizationError"
    sns.publish(TopicArn=account.stack.ref("NotificationTopic"), Message="x")


ROLE = Caller(
    arn="arn:aws:sts::123456789012:assumed-role/r/s",
    principal_arn="arn:aws:iam::123456789012:role/r",
    account="123456789012",
    kind="AssumedRole",
    name="r",
    userid="AROA:s",
)
CONTEXT = Context({"aws:principalarn": [ROLE.principal_arn], "aws:requestedregion": ["us-east-1"]})


def allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    document = json.dumps({"Version": "2012-10-17", "Statement": statements})
    return decide([document], {}, [(action, resource)], ROLE, CONTEXT).allowed


FN = "arn:aws:lambda:us-east-1:123456789012:function:idle-reaper-InspectFunction"


@pytest.mark.parametrize(
    ("resource_pattern", "resource", "expected"),
    [
        pytest.param(f"{FN}*", f"{FN}:live", True, id="star-ending-a-segment-crosses-colons"),
        pytest.param(FN, f"{FN}:live", False, id="exact-arn-is-exact"),
        pytest.param(
            "arn:aws:glue:*:123456789012:session/a*z",
            "arn:aws:glue:us-east-1:123456789012:session/a:z",
            False,
            id="star-inside-a-segment-stays-in-it",
        ),
        pytest.param(
            "arn:aws:glue:us-east-?:*:session/*",
            "arn:aws:glue:us-east-1:123456789012:session/s1",
            True,
            id="question-mark-is-one-character",
        ),
        pytest.param(
            "arn:aws:glue:us-east-1:123456789012:session/S1",
            "arn:aws:glue:us-east-1:123456789012:session/s1",
            False,
            id="resources-are-case-sensitive",
        ),
        pytest.param(
            "arn:aws:glue:us-east-1:123456789012:session.s1",
            "arn:aws:glue:us-east-1:123456789012:sessionXs1",
            False,
            id="a-dot-is-a-dot",
        ),
    ],
)
def test_resource_arns_match_as_aws_documents(
    resource_pattern: str, resource: str, expected: bool
) -> None:
    statement = {"Effect": "Allow", "Action": "*", "Resource": resource_pattern}
    assert allows([statement], "glue:GetSession", resource) is expected


def test_actions_are_case_insensitive_and_an_explicit_deny_wins() -> None:
    session = "arn:aws:glue:us-east-1:123456789012:session/s1"
    allow = {"Effect": "Allow", "Action": "GLUE:get*", "Resource": "*"}
    assert allows([allow], "glue:GetSession", session)
    assert not allows([allow], "glue:StopSession", session)
    deny = {"Effect": "Deny", "NotAction": "glue:List*", "NotResource": "*:session/other"}
    assert not allows([allow, deny], "glue:GetSession", session)


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ({"StringEquals": {"aws:SourceAccount": "123456789012"}}, False),  # absent: false
        ({"StringNotEquals": {"aws:SourceAccount": "123456789012"}}, True),  # negated: true
        ({"StringEqualsIfExists": {"aws:SourceAccount": "1"}}, True),
        ({"Null": {"aws:SourceArn": "true"}}, True),
        (
            {"ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/x", "arn:aws:iam::*:role/r"]}},
            True,
        ),
        (
            {
                "ArnNotLike": {
                    "aws:PrincipalArn": ["arn:aws:iam::*:role/x", "arn:aws:iam::*:role/r"]
                }
            },
            False,
        ),
        (
            {"StringEquals": {"AWS:RequestedRegion": "us-east-1"}, "Bool": {"aws:SourceArn": "x"}},
            False,
        ),
    ],
)
def test_conditions_follow_aws_rules_for_missing_keys_and_multiple_values(
    condition: dict[str, Any], holds: bool
) -> None:
    assert conditions_hold(condition, CONTEXT) is holds


def test_a_condition_on_a_key_the_runtime_cannot_know_refuses_and_says_why() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "glue:*",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:ResourceTag/team": "data"}},
    }
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    decision = decide([document], {}, [("glue:GetSession", "*")], ROLE, CONTEXT)
    assert not decision.allowed
    assert "cannot evaluate the condition key aws:ResourceTag/team" in decision.reason


def test_start_events_reach_the_watcher_only_with_the_rule_targets_role(
    account: Account,
) -> None:
    """EventBridge starts the watcher as the rule target's role (SAM gives it
    states:StartExecution): without that permission the start event is dead-lettered."""
    iam = account.clients["iam"]
    role = account.stack.physical_name("WatcherStateMachineGlueSessionCreatedRole")
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role, PolicyName=name)
    start(account, ResourceSpec(kind="glue-session", id="s1"))
    account.clock.run_until(account.clock.now() + timedelta(days=1, hours=1))
    assert account.bus.started == []
    (dead,) = account.bus.dead_letters
    assert "AccessDenied" in dead[2]


# -- the new kinds' services: EC2, SageMaker, CloudWatch ---------------------------------------
OPT_IN = "idle-reaper:opt-in"


def probe_role(
    account: Account, name: str, statements: list[dict[str, Any]], service: str = "lambda"
) -> str:
    """A role `service` may assume, with exactly these statements; returns its ARN."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": f"{service}.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam = account.clients["iam"]
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]
    policy = {"Version": "2012-10-17", "Statement": statements}
    iam.put_role_policy(RoleName=name, PolicyName="probe", PolicyDocument=json.dumps(policy))
    return arn


def as_role(account: Account, role_arn: str, service: str) -> Any:
    assert account.iam is not None
    credentials = account.iam.role_credentials(role_arn, "probe")
    return boto3.client(service, region_name=account.region, **credentials.client_kwargs())  # type: ignore[call-overload]


def stop_opted_in(account: Account, service: str = "lambda") -> str:
    """The watcher's EC2 stop statement: StopInstances only on instances tagged opt-in=true."""
    return probe_role(
        account,
        f"stop-opted-in-{service}",
        [
            {
                "Effect": "Allow",
                "Action": "ec2:StopInstances",
                "Resource": f"arn:aws:ec2:{account.region}:{account.account_id}:instance/*",
                "Condition": {"StringEquals": {f"aws:ResourceTag/{OPT_IN}": "true"}},
            }
        ],
        service,
    )


def instance(account: Account, tags: dict[str, str] | None = None) -> str:
    """A running instance, launched by the runtime's administrator."""
    ec2 = boto3.client("ec2", region_name=account.region)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    extra: dict[str, Any] = {}
    if tags:
        pairs = [{"Key": k, "Value": v} for k, v in tags.items()]
        extra["TagSpecifications"] = [{"ResourceType": "instance", "Tags": pairs}]
    run = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", **extra)
    instance_id: str = run["Instances"][0]["InstanceId"]
    account.clock.run_until(account.clock.now() + timedelta(minutes=1))  # pending, then running
    assert instance_state(account, instance_id) == "running"
    return instance_id


def instance_state(account: Account, instance_id: str) -> str:
    ec2 = boto3.client("ec2", region_name=account.region)
    found = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    return str(found["State"]["Name"])


def test_a_tag_conditioned_stop_stops_opted_in_instances_and_no_other(account: Account) -> None:
    ec2 = as_role(account, stop_opted_in(account), "ec2")
    tagged = instance(account, {OPT_IN: "true"})
    untagged = instance(account)
    declined = instance(account, {OPT_IN: "True"})  # values are case-sensitive (StringEquals)

    ec2.stop_instances(InstanceIds=[tagged])
    assert instance_state(account, tagged) in ("stopping", "stopped")

    for other in (untagged, declined):
        error = refusal(lambda other=other: ec2.stop_instances(InstanceIds=[other]))
        assert error["Code"] == "UnauthorizedOperation"  # EC2's own code for an IAM refusal
        resource = f"arn:aws:ec2:{account.region}:{account.account_id}:instance/{other}"
        assert error["Message"].startswith(
            "You are not authorized to perform this operation. User: "
            f"arn:aws:sts::{account.account_id}:assumed-role/stop-opted-in-lambda/probe is not"
            f" authorized to perform: ec2:StopInstances on resource: {resource} because no"
            " identity-based policy allows the ec2:StopInstances action."
            " Encoded authorization failure message: "
        )
        assert instance_state(account, other) == "running"


def test_one_untagged_instance_refuses_the_whole_stop(account: Account) -> None:
    ec2 = as_role(account, stop_opted_in(account), "ec2")
    tagged, untagged = instance(account, {OPT_IN: "true"}), instance(account)
    error = refusal(lambda: ec2.stop_instances(InstanceIds=[tagged, untagged]))
    assert error["Code"] == "UnauthorizedOperation"
    assert f"instance/{untagged} because" in error["Message"]
    assert instance_state(account, tagged) == "running"


def test_resource_tag_key_names_match_in_any_case_but_never_ambiguously(account: Account) -> None:
    """IAM: tag key names in aws:ResourceTag/<key> are not case-sensitive, and a key matches a
    tag "named either TagKey1 or tagkey1, but not both": which of two it reads is undocumented,
    so the runtime refuses a resource carrying both rather than guess."""
    ec2 = as_role(account, stop_opted_in(account), "ec2")
    other_case = instance(account, {"Idle-Reaper:Opt-In": "true"})
    ec2.stop_instances(InstanceIds=[other_case])
    assert instance_state(account, other_case) in ("stopping", "stopped")

    both = instance(account, {OPT_IN: "true", "IDLE-REAPER:OPT-IN": "false"})
    error = refusal(lambda: ec2.stop_instances(InstanceIds=[both]))
    assert error["Code"] == "UnauthorizedOperation"
    assert "has tags that differ only in case" in error["Message"]
    assert instance_state(account, both) == "running"


def test_ec2s_own_resource_tag_key_is_evaluated_too(account: Account) -> None:
    role = probe_role(
        account,
        "stop-team",
        [
            {
                "Effect": "Allow",
                "Action": "ec2:StopInstances",
                "Resource": "*",
                "Condition": {"StringEquals": {"ec2:ResourceTag/team": "data"}},
            },
            {  # a SageMaker key is never in an EC2 request's context: this Deny never applies
                "Effect": "Deny",
                "Action": "ec2:StopInstances",
                "Resource": "*",
                "Condition": {"StringEquals": {"sagemaker:ResourceTag/team": "data"}},
            },
        ],
    )
    ec2 = as_role(account, role, "ec2")
    ours, theirs = instance(account, {"team": "data"}), instance(account, {"team": "web"})
    ec2.stop_instances(InstanceIds=[ours])
    assert instance_state(account, ours) in ("stopping", "stopped")
    assert refusal(lambda: ec2.stop_instances(InstanceIds=[theirs]))["Code"] == (
        "UnauthorizedOperation"
    )


def test_through_step_functions_an_iam_refusal_of_an_ec2_stop_is_ec2_exception(
    account: Account,
) -> None:
    """The watcher's stop task as AWS runs it: the state machine's role is refused on an
    instance without the opt-in tag, and EC2 declares no error shapes, so the Task fails with
    Ec2.Ec2Exception, the refusal's message in its Cause."""
    role = stop_opted_in(account, "states")
    sfn = account.clients["stepfunctions"]
    definition = {
        "StartAt": "Stop",
        "States": {
            "Stop": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:ec2:stopInstances",
                "Parameters": {"InstanceIds.$": "States.Array($.id)"},
                "End": True,
            }
        },
    }
    machine = sfn.create_state_machine(
        name="stop-probe", definition=json.dumps(definition), roleArn=role
    )["stateMachineArn"]
    runs = {}
    for name, tags in (("tagged", {OPT_IN: "true"}), ("untagged", None)):
        instance_id = instance(account, tags)
        runs[name] = (
            instance_id,
            sfn.start_execution(
                stateMachineArn=machine, name=name, input=json.dumps({"id": instance_id})
            )["executionArn"],
        )
    account.clock.run_until(account.clock.now() + timedelta(minutes=5))

    tagged_id, tagged_run = runs["tagged"]
    assert account.execution_status(tagged_run) == "SUCCEEDED"
    assert instance_state(account, tagged_id) in ("stopping", "stopped")

    untagged_id, untagged_run = runs["untagged"]
    assert account.execution_status(untagged_run) == "FAILED"
    [failed] = [e for e in account.history(untagged_run) if e["type"] == "TaskFailed"]
    details = failed["taskFailedEventDetails"]
    assert details["error"] == "Ec2.Ec2Exception"
    assert details["cause"].startswith("You are not authorized to perform this operation. User: ")
    assert f"instance/{untagged_id} because no identity-based policy" in details["cause"]
    assert re.search(
        r" \(Service: Ec2, Status Code: 403, Request ID: [0-9a-f-]{36}\)$", details["cause"]
    )
    assert instance_state(account, untagged_id) == "running"


def notebook(account: Account, name: str, tags: dict[str, str] | None = None) -> None:
    """An InService notebook instance, created by the runtime's administrator."""
    boto3.client("sagemaker", region_name=account.region).create_notebook_instance(
        NotebookInstanceName=name,
        InstanceType="ml.t3.medium",
        RoleArn=f"arn:aws:iam::{account.account_id}:role/SageMaker",
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    )
    account.clock.run_until(account.clock.now() + timedelta(minutes=6))  # Pending, InService


def test_a_notebook_stop_scoped_to_notebook_instances_cannot_delete_an_app(
    account: Account,
) -> None:
    prefix = f"arn:aws:sagemaker:{account.region}:{account.account_id}"
    role = probe_role(
        account,
        "stop-notebooks",
        [
            {
                "Effect": "Allow",
                "Action": ["sagemaker:StopNotebookInstance", "sagemaker:DeleteApp"],
                "Resource": f"{prefix}:notebook-instance/*",
            }
        ],
    )
    sagemaker = as_role(account, role, "sagemaker")
    notebook(account, "Team-Notebook")
    sagemaker.stop_notebook_instance(NotebookInstanceName="Team-Notebook")

    error = refusal(
        lambda: sagemaker.delete_app(
            DomainId="d-abc123", UserProfileName="Alice", AppType="JupyterLab", AppName="default"
        )
    )
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"].endswith(
        f"is not authorized to perform: sagemaker:DeleteApp on resource:"
        f" {prefix}:app/d-abc123/alice/jupyterlab/default because no identity-based policy"
        " allows the sagemaker:DeleteApp action"
    )


def test_sagemaker_notebook_arns_are_lower_case_for_iam(account: Account) -> None:
    """A policy naming the notebook as it was created (upper case) matches nothing: SageMaker
    names it in lower case."""
    prefix = f"arn:aws:sagemaker:{account.region}:{account.account_id}"
    exact = probe_role(
        account,
        "as-created",
        [
            {
                "Effect": "Allow",
                "Action": "sagemaker:StopNotebookInstance",
                "Resource": f"{prefix}:notebook-instance/Team-Notebook",
            }
        ],
    )
    lower = probe_role(
        account,
        "as-named",
        [
            {
                "Effect": "Allow",
                "Action": "sagemaker:StopNotebookInstance",
                "Resource": f"{prefix}:notebook-instance/team-notebook",
            }
        ],
    )
    notebook(account, "Team-Notebook")
    stop = {"NotebookInstanceName": "Team-Notebook"}
    error = refusal(lambda: as_role(account, exact, "sagemaker").stop_notebook_instance(**stop))
    assert f"on resource: {prefix}:notebook-instance/team-notebook because" in error["Message"]
    as_role(account, lower, "sagemaker").stop_notebook_instance(**stop)


def test_a_sagemaker_stop_conditioned_on_a_tag_reads_the_notebooks_tags(
    account: Account,
) -> None:
    role = probe_role(
        account,
        "stop-team-notebooks",
        [
            {
                "Effect": "Allow",
                "Action": "sagemaker:StopNotebookInstance",
                "Resource": "*",
                "Condition": {"StringEquals": {"sagemaker:ResourceTag/Team": "data"}},
            }
        ],
    )
    sagemaker = as_role(account, role, "sagemaker")
    notebook(account, "ours", {"team": "data"})
    notebook(account, "theirs")
    sagemaker.stop_notebook_instance(NotebookInstanceName="ours")
    error = refusal(lambda: sagemaker.stop_notebook_instance(NotebookInstanceName="theirs"))
    assert error["Code"] == "AccessDeniedException"
    # a notebook that does not exist has no tags: refused too, as IAM decides before SageMaker
    error = refusal(lambda: sagemaker.stop_notebook_instance(NotebookInstanceName="missing"))
    assert error["Code"] == "AccessDeniedException"


def test_cloudwatch_actions_are_cloudwatch_not_the_monitoring_signing_name(
    account: Account,
) -> None:
    query = {
        "MetricDataQueries": [
            {
                "Id": "cpu",
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization"},
                    "Period": 300,
                    "Stat": "Average",
                },
            }
        ],
        "StartTime": T0,
        "EndTime": T0 + timedelta(hours=1),
    }
    right = probe_role(
        account,
        "metrics",
        [{"Effect": "Allow", "Action": "cloudwatch:GetMetricData", "Resource": "*"}],
    )
    wrong = probe_role(
        account,
        "monitoring",
        [{"Effect": "Allow", "Action": "monitoring:GetMetricData", "Resource": "*"}],
    )
    as_role(account, right, "cloudwatch").get_metric_data(**query)
    error = refusal(lambda: as_role(account, wrong, "cloudwatch").get_metric_data(**query))
    assert error["Code"] == "AccessDenied"  # CloudWatch's query-compatible code
    assert error["Message"] == (
        f"User: arn:aws:sts::{account.account_id}:assumed-role/monitoring/probe is not authorized"
        " to perform: cloudwatch:GetMetricData because no identity-based policy allows the"
        " cloudwatch:GetMetricData action"
    )


def test_resource_tag_keys_are_absent_where_the_action_names_no_resource() -> None:
    """ec2:DescribeInstances supports no resource-level permission: no resource, so no
    resource's tags in the context (a condition on one is false, its negation true); where the
    runtime has no ARN rule (resource unknown) it refuses rather than guess."""

    def decision(operator: str, resource: str | None) -> Any:
        statement = {
            "Effect": "Allow",
            "Action": "ec2:*",
            "Resource": "*",
            "Condition": {operator: {"aws:ResourceTag/team": "data"}},
        }
        document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        return decide([document], {}, [("ec2:DescribeInstances", resource)], ROLE, CONTEXT)

    assert not decision("StringEquals", "*").allowed
    assert decision("StringNotEquals", "*").allowed
    unknown = decision("StringEquals", None)
    assert not unknown.allowed
    assert "cannot evaluate the condition key aws:ResourceTag/team" in unknown.reason
