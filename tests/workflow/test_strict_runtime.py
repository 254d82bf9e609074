"""The local runtime is at least as strict as AWS where AWS documents a rule.

Each test runs a small synthetic state machine (not the watcher ASL) in the runtime, on the
virtual clock, and checks one documented rule: a Choice on a missing path, the history quota,
Wait states waking exactly on time, a Lambda function's Timeout, the names of aws-sdk Task errors.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from local_runtime import fidelity, sdk_errors
from local_runtime.runtime import TEMPLATE, Account, running

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TIMED_OUT = re.compile(r"^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$")
CHOICE_CAUSE = (
    "Invalid path '$.missing': The choice state's condition path references an invalid value."
)


@dataclass
class Machines:
    """Create and run synthetic state machines in one emulated account."""

    account: Account
    role_arn: str
    executions: list[str] = field(default_factory=list)

    @property
    def sfn(self) -> Any:
        return self.account.clients["stepfunctions"]

    def start(self, definition: dict[str, Any], payload: dict[str, Any] | None = None) -> str:
        machine = self.sfn.create_state_machine(
            name=f"strict-{uuid.uuid4().hex[:12]}",
            definition=json.dumps(definition),
            roleArn=self.role_arn,
        )
        arn: str = self.sfn.start_execution(
            stateMachineArn=machine["stateMachineArn"],
            name=f"run-{uuid.uuid4().hex[:12]}",
            input=json.dumps(payload or {}),
        )["executionArn"]
        self.executions.append(arn)
        return arn

    def run(self, minutes: float = 60) -> None:
        self.account.clock.run_until(self.account.clock.now() + timedelta(minutes=minutes))

    def describe(self, arn: str) -> dict[str, Any]:
        described: dict[str, Any] = self.sfn.describe_execution(executionArn=arn)
        return described

    def entered(self, arn: str) -> list[str]:
        return [
            e["stateEnteredEventDetails"]["name"]
            for e in self.account.history(arn)
            if e["type"].endswith("StateEntered")
        ]

    def lambda_task(self, logical_id: str, **extra: Any) -> dict[str, Any]:
        spec = self.account.functions.spec(logical_id)
        assert spec is not None
        return {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": spec.arn, "Payload.$": "$"},
            **extra,
        }


def _machine_role(account: Account) -> str:
    """A role Step Functions may assume, allowed to invoke the stack's functions (the runtime
    may check each Task's call against its state machine's role, as AWS does)."""
    iam = boto3.client("iam", region_name=account.region)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "states.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    allow = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Resource": f"arn:aws:lambda:{account.region}:{account.account_id}:function:*",
            },
            {  # the aws-sdk Tasks' calls (their errors are the service's, not IAM's)
                "Effect": "Allow",
                "Action": ["glue:*", "sagemaker:*", "ec2:*"],
                "Resource": "*",
            },
        ],
    }
    role = iam.create_role(RoleName="strict-test", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(
        RoleName="strict-test", PolicyName="invoke", PolicyDocument=json.dumps(allow)
    )
    arn: str = role["Role"]["Arn"]
    return arn


@pytest.fixture
def machines() -> Iterator[Machines]:
    with running(T0) as account:
        made = Machines(account, _machine_role(account))
        try:
            yield made
        finally:
            # An execution still looping when a test fails must not spin on after the clock stops.
            for arn in made.executions:
                if made.describe(arn)["status"] == "RUNNING":
                    made.sfn.stop_execution(executionArn=arn, cause="test ended")


def _choice_machine(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "StartAt": "Route",
        "States": {
            "Route": {
                "Type": "Choice",
                "Choices": [{**rule, "Next": "Matched"}],
                "Default": "Fallback",
            },
            "Matched": {"Type": "Pass", "End": True},
            "Fallback": {"Type": "Pass", "End": True},
        },
    }


MISSING = {"Variable": "$.missing", "StringEquals": "yes"}
PRESENT_FALSE = {"Variable": "$.present", "StringEquals": "no"}
PRESENT_TRUE = {"Variable": "$.present", "StringEquals": "yes"}


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(MISSING, id="top-level"),
        pytest.param({"Not": MISSING}, id="not"),
        pytest.param({"And": [PRESENT_TRUE, MISSING]}, id="and"),
        pytest.param({"Or": [PRESENT_FALSE, MISSING]}, id="or"),
    ],
)
def test_choice_rule_on_a_missing_path_fails_the_execution(
    machines: Machines, rule: dict[str, Any]
) -> None:
    arn = machines.start(_choice_machine(rule), {"present": "yes"})
    machines.run()
    described = machines.describe(arn)
    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert described["cause"].endswith(CHOICE_CAUSE)
    assert machines.entered(arn) == ["Route"]


def test_is_present_tests_a_missing_path_without_failing(machines: Machines) -> None:
    absent = machines.start(
        _choice_machine({"Variable": "$.missing", "IsPresent": False}), {"present": "yes"}
    )
    compared = machines.start(_choice_machine(MISSING), {"present": "yes"})
    machines.run()
    assert machines.describe(absent)["status"] == "SUCCEEDED"
    assert machines.entered(absent) == ["Route", "Matched"]
    assert machines.describe(compared)["status"] == "FAILED"


def test_math_random_never_returns_its_end(machines: Machines) -> None:
    """States.MathRandom: "between the specified start number (inclusive) and end number
    (exclusive)"; moto included the end."""
    draw = {
        "StartAt": "Draw",
        "States": {
            "Draw": {
                "Type": "Pass",
                "Parameters": {"n.$": "States.MathRandom(1, 2)"},
                "End": True,
            }
        },
    }
    runs = [machines.start(draw) for _ in range(12)]
    machines.run(1)
    outputs = [json.loads(machines.describe(arn)["output"]) for arn in runs]
    assert outputs == [{"n": 1}] * 12


def test_states_all_catches_no_states_runtime_error(machines: Machines) -> None:
    """A Choice failing inside a Parallel branch is not caught by the Parallel's States.ALL."""
    arn = machines.start(
        {
            "StartAt": "Branches",
            "States": {
                "Branches": {
                    "Type": "Parallel",
                    "Branches": [_choice_machine(MISSING)],
                    "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                    "End": True,
                },
                "Caught": {"Type": "Pass", "End": True},
            },
        },
        {"present": "yes"},
    )
    machines.run()
    described = machines.describe(arn)
    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert "Caught" not in machines.entered(arn)
    assert machines.entered(arn).count("Route") == 1  # not retried either


def test_task_parameter_path_failure_is_neither_retried_nor_caught(machines: Machines) -> None:
    calls: list[Any] = []
    machines.account.functions.replace(
        "InspectFunction", lambda event, context: calls.append(event)
    )
    task = machines.lambda_task(
        "InspectFunction",
        Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "IntervalSeconds": 1}],
        Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
        End=True,
    )
    task["Parameters"] = {
        "FunctionName": task["Parameters"]["FunctionName"],
        "Payload": {"x.$": "$.nope"},
    }
    arn = machines.start(
        {"StartAt": "Call", "States": {"Call": task, "Caught": {"Type": "Pass", "End": True}}}
    )
    machines.run()
    described = machines.describe(arn)
    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert machines.entered(arn) == ["Call"]
    assert sum(e["type"] == "TaskFailed" for e in machines.account.history(arn)) == 1
    assert calls == []


# -- execution history quota ---------------------------------------------------------------------
def test_history_limit_is_the_documented_25000() -> None:
    assert fidelity.HISTORY_EVENT_LIMIT == 25_000


LOOP = {
    "StartAt": "Again",
    "States": {
        "Again": {"Type": "Pass", "Next": "Breathe"},
        "Breathe": {"Type": "Wait", "Seconds": 1, "Next": "Again"},
    },
}


def test_an_execution_fails_when_its_history_reaches_the_limit(
    machines: Machines, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fidelity, "HISTORY_EVENT_LIMIT", 21)
    arn = machines.start(LOOP)
    machines.run(10)
    described = machines.describe(arn)
    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert described["cause"] == "The execution reached the maximum number of history events (21)."
    history = machines.account.history(arn)
    assert [e["id"] for e in history] == list(range(1, 22))
    assert history[-1]["type"] == "ExecutionFailed"
    assert history[-1]["executionFailedEventDetails"]["error"] == "States.Runtime"
    assert fidelity.history_events(arn) == 21
    # Nothing runs on after the failure: the clock moves on, the history stays.
    machines.run(10)
    assert fidelity.history_events(arn) == 21


@pytest.mark.parametrize(("limit", "status"), [(4, "FAILED"), (5, "SUCCEEDED")])
def test_the_limit_counts_the_closing_event_too(
    machines: Machines, monkeypatch: pytest.MonkeyPatch, limit: int, status: str
) -> None:
    """One Pass state makes 4 events, ExecutionSucceeded last: a limit of 4 is reached."""
    monkeypatch.setattr(fidelity, "HISTORY_EVENT_LIMIT", limit)
    arn = machines.start({"StartAt": "Only", "States": {"Only": {"Type": "Pass", "End": True}}})
    machines.run()
    assert machines.describe(arn)["status"] == status
    last = machines.account.history(arn)[-1]
    assert (last["id"], last["type"]) == (4, f"Execution{status.title()}")


def test_the_task_that_would_pass_the_limit_is_never_scheduled(
    machines: Machines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events 1-4: ExecutionStarted, Pass entered and exited, Task entered; #5 would be
    TaskScheduled: it is the ExecutionFailed instead, and the function never runs."""
    calls: list[Any] = []
    machines.account.functions.replace(
        "InspectFunction", lambda event, context: calls.append(event)
    )
    monkeypatch.setattr(fidelity, "HISTORY_EVENT_LIMIT", 5)
    arn = machines.start(
        {
            "StartAt": "First",
            "States": {
                "First": {"Type": "Pass", "Next": "Call"},
                "Call": machines.lambda_task(
                    "InspectFunction",
                    Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                    End=True,
                ),
                "Caught": {"Type": "Pass", "End": True},
            },
        }
    )
    machines.run()
    assert machines.describe(arn)["status"] == "FAILED"
    assert [e["type"] for e in machines.account.history(arn)] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "TaskStateEntered",
        "ExecutionFailed",
    ]
    assert calls == []


# -- Wait states ---------------------------------------------------------------------------------
def test_wait_states_wake_exactly_at_their_time(machines: Machines) -> None:
    """From a fractional second (as a jittered Retry leaves the clock), a timestamp wait wakes
    on its timestamp, fractions included, and a Seconds wait lasts exactly its seconds."""
    machines.account.clock.run_until(T0 + timedelta(milliseconds=400))
    arn = machines.start(
        {
            "StartAt": "UntilPath",
            "States": {
                "UntilPath": {"Type": "Wait", "TimestampPath": "$.until", "Next": "UntilLiteral"},
                "UntilLiteral": {
                    "Type": "Wait",
                    "Timestamp": "2026-03-02T09:45:00.750Z",
                    "Next": "TenSeconds",
                },
                "TenSeconds": {"Type": "Wait", "Seconds": 10, "Next": "SoonPath"},
                "SoonPath": {"Type": "Wait", "TimestampPath": "$.soon", "End": True},
            },
        },
        {"until": "2026-03-02T09:30:00Z", "soon": "2026-03-02T09:45:11.250Z"},
    )
    machines.run(120)
    assert machines.describe(arn)["status"] == "SUCCEEDED"
    woke = {
        e["stateExitedEventDetails"]["name"]: e["timestamp"]
        for e in machines.account.history(arn)
        if e["type"] == "WaitStateExited"
    }
    assert woke == {
        "UntilPath": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        "UntilLiteral": datetime(2026, 3, 2, 9, 45, 0, 750_000, tzinfo=UTC),
        "TenSeconds": datetime(2026, 3, 2, 9, 45, 10, 750_000, tzinfo=UTC),
        "SoonPath": datetime(2026, 3, 2, 9, 45, 11, 250_000, tzinfo=UTC),
    }


# -- Lambda Timeout ------------------------------------------------------------------------------
def _slow(seconds: float) -> Any:
    def handler(event: Any, context: Any) -> dict[str, str]:
        time.sleep(seconds)
        return {"finished": "late"}

    return handler


def test_a_task_fails_with_sandbox_timedout_past_the_function_timeout(machines: Machines) -> None:
    spec = machines.account.functions.spec("InspectFunction")
    assert spec is not None
    spec.timeout = 1
    machines.account.functions.replace("InspectFunction", _slow(1.1))
    arn = machines.start(
        {
            "StartAt": "Call",
            "States": {
                "Call": machines.lambda_task(
                    "InspectFunction",
                    Catch=[
                        {
                            "ErrorEquals": ["Sandbox.Timedout"],
                            "ResultPath": "$.error",
                            "Next": "TimedOut",
                        }
                    ],
                    Next="Finished",
                ),
                "Finished": {"Type": "Pass", "End": True},
                "TimedOut": {"Type": "Pass", "End": True},
            },
        }
    )
    machines.run()
    assert machines.entered(arn) == ["Call", "TimedOut"]
    error = json.loads(machines.describe(arn)["output"])["error"]
    assert error["Error"] == "Sandbox.Timedout"
    payload = json.loads(error["Cause"])
    assert payload["errorType"] == "Sandbox.Timedout"
    assert TIMED_OUT.match(payload["errorMessage"])


def test_an_async_invoke_that_times_out_is_retried_then_dead_lettered(machines: Machines) -> None:
    functions = machines.account.functions
    notify = functions.spec("NotifyFunction")
    assert notify is not None
    notify.timeout = 1
    notify.max_retry_attempts = 1
    functions.replace("NotifyFunction", _slow(1.1))
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "source": "idle-reaper",
        "detail-type": "warning",
        "account": machines.account.account_id,
        "region": machines.account.region,
        "time": T0.isoformat(),
        "resources": [],
        "detail": {},
    }
    # EventBridge delivering a matched event to the function as its target (asynchronous
    # invocation); which rule on which bus matched is not this test's concern.
    machines.account.bus._deliver({"Arn": notify.arn}, event, 0)
    machines.run(10)
    attempts = [i for i in functions.invocations if i.function == "NotifyFunction"]
    assert len(attempts) == 2
    assert all(a.error is not None and a.error.startswith("Sandbox.Timedout: ") for a in attempts)
    [(arn, _, reason)] = machines.account.bus.dead_letters
    assert arn == notify.arn
    assert TIMED_OUT.match(reason.removeprefix("Sandbox.Timedout: "))
    assert notify.on_failure is not None
    sqs = machines.account.clients["sqs"]
    url = sqs.get_queue_url(QueueName=notify.on_failure.split(":")[-1])["QueueUrl"]
    [message] = sqs.receive_message(QueueUrl=url)["Messages"]
    assert json.loads(message["Body"])["responsePayload"]["errorType"] == "Sandbox.Timedout"


def test_remaining_time_counts_down_in_real_time(machines: Machines) -> None:
    functions = machines.account.functions
    spec = functions.spec("InspectFunction")
    assert spec is not None
    spec.timeout = 2
    seen: list[int] = []

    def handler(event: Any, context: Any) -> None:
        seen.append(context.get_remaining_time_in_millis())
        time.sleep(0.3)
        seen.append(context.get_remaining_time_in_millis())

    functions.replace("InspectFunction", handler)
    functions.invoke("InspectFunction", {})
    first, second = seen
    assert 1_900 <= first <= 2_000
    assert 250 <= first - second <= 600


def test_executions_started_without_a_name_each_get_their_own(machines: Machines) -> None:
    """AWS generates a unique name; moto named every such execution `None`."""
    machine = machines.sfn.create_state_machine(
        name="unnamed-runs",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn=machines.role_arn,
    )["stateMachineArn"]
    first = machines.sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    second = machines.sfn.start_execution(stateMachineArn=machine, input='{"n": 2}')["executionArn"]
    assert first != second
    assert not first.endswith(":None") and not second.endswith(":None")


# -- aws-sdk Task errors -------------------------------------------------------------------------
SDK_CAUSE = re.compile(
    r"^(?P<message>.*) \(Service: (?P<service>\w+), Status Code: (?P<status>\d+)"
    r", Request ID: [\w-]+\)$",
    re.DOTALL,
)


def sdk_failure(
    machines: Machines, resource: str, parameters: dict[str, Any], catch: str | None = None
) -> tuple[dict[str, str], list[str]]:
    """Run one aws-sdk Task that fails: its TaskFailed details, and the states entered (a Catch
    on `catch` goes to a state of that name)."""
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": f"arn:aws:states:::aws-sdk:{resource}",
        "Parameters": parameters,
        "End": True,
    }
    states: dict[str, Any] = {"Call": task}
    if catch:
        task["Catch"] = [{"ErrorEquals": [catch], "Next": "Caught"}]
        states["Caught"] = {"Type": "Pass", "End": True}
    arn = machines.start({"StartAt": "Call", "States": states})
    machines.run()
    [failed] = [e for e in machines.account.history(arn) if e["type"] == "TaskFailed"]
    details: dict[str, str] = failed["taskFailedEventDetails"]
    return details, machines.entered(arn)


def test_an_error_the_service_model_declares_keeps_its_name_with_exception_added(
    machines: Machines,
) -> None:
    """SageMaker's model declares `ResourceNotFound` (no suffix): Step Functions adds it."""
    details, entered = sdk_failure(
        machines,
        "sagemaker:describeCompilationJob",
        {"CompilationJobName": "missing"},
        catch="SageMaker.ResourceNotFoundException",
    )
    assert details["error"] == "SageMaker.ResourceNotFoundException"
    assert entered == ["Call", "Caught"]
    cause = SDK_CAUSE.match(details["cause"])
    assert cause is not None, details["cause"]
    assert (cause["service"], cause["status"]) == ("SageMaker", "400")


def test_an_error_the_service_model_does_not_declare_is_the_services_exception(
    machines: Machines,
) -> None:
    """StopNotebookInstance's refusal of a missing notebook is a ValidationException, which
    SageMaker's model does not declare: `SageMaker.SageMakerException`, SageMaker's message
    first in the Cause."""
    details, entered = sdk_failure(
        machines,
        "sagemaker:stopNotebookInstance",
        {"NotebookInstanceName": "missing"},
        catch="SageMaker.SageMakerException",
    )
    assert details["error"] == "SageMaker.SageMakerException"
    assert entered == ["Call", "Caught"]
    cause = SDK_CAUSE.match(details["cause"])
    assert cause is not None, details["cause"]
    assert (cause["message"], cause["service"], cause["status"]) == (
        "RecordNotFound",
        "SageMaker",
        "400",
    )


def test_every_ec2_error_is_ec2_exception(machines: Machines) -> None:
    """EC2's model declares no error shape: InvalidInstanceID.NotFound is `Ec2.Ec2Exception`."""
    missing = "i-0123456789abcdef0"
    details, entered = sdk_failure(
        machines,
        "ec2:stopInstances",
        {"InstanceIds": [missing]},
        catch="Ec2.Ec2Exception",
    )
    assert details["error"] == "Ec2.Ec2Exception"
    assert entered == ["Call", "Caught"]
    cause = SDK_CAUSE.match(details["cause"])
    assert cause is not None, details["cause"]
    assert (cause["service"], cause["status"]) == ("Ec2", "400")
    assert missing in cause["message"]


def test_glue_names_its_errors_from_the_whole_service_model(machines: Machines) -> None:
    """EntityNotFoundException is declared by Glue's model though not in StopSession's own
    list: the SDK maps error codes with one table for the whole service, so the watcher's
    `Glue.EntityNotFoundException` catch does fire."""
    details, entered = sdk_failure(
        machines, "glue:stopSession", {"Id": "missing"}, catch="Glue.EntityNotFoundException"
    )
    assert details["error"] == "Glue.EntityNotFoundException"
    assert entered == ["Call", "Caught"]
    cause = SDK_CAUSE.match(details["cause"])
    assert cause is not None and cause["service"] == "Glue", details["cause"]


@pytest.mark.parametrize(
    ("service", "code", "error"),
    [
        # the developer guide's own examples
        ("acmpca", "ResourceNotFoundException", "AcmPca.ResourceNotFoundException"),
        ("s3", "BucketAlreadyExists", "S3.BucketAlreadyExistsException"),
        # the SDK's names for services whose serviceId is an acronym or mixed case
        ("dynamodb", "NoSuchThing", "DynamoDb.DynamoDbException"),
        ("sfn", "ExecutionAlreadyExists", "Sfn.ExecutionAlreadyExistsException"),
        ("eventbridge", "ResourceNotFoundException", "EventBridge.ResourceNotFoundException"),
        ("ec2", "UnauthorizedOperation", "Ec2.Ec2Exception"),
        ("sagemaker", "AccessDeniedException", "SageMaker.SageMakerException"),
        ("sagemaker", "ResourceInUse", "SageMaker.ResourceInUseException"),
        ("glue", "ThrottlingException", "Glue.ThrottlingException"),  # declared by Glue
        ("glue", "AccessDeniedException", "Glue.AccessDeniedException"),
        ("glue", "Throttling", "Glue.GlueException"),
        # a `...Fault` shape's class is `...Exception`, matched by its error code
        ("cloudwatch", "InternalServiceError", "CloudWatch.InternalServiceException"),
        ("cloudwatch", "AccessDenied", "CloudWatch.CloudWatchException"),
    ],
)
def test_aws_sdk_error_names_follow_the_sdks_naming(service: str, code: str, error: str) -> None:
    assert sdk_errors.aws_sdk_error(service, code)[1] == error


def _aws_sdk_catches(states: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for name, state in states.items():
        resource = str(state.get("Resource", ""))
        if ":states:::aws-sdk:" in resource:
            service = resource.split(":states:::aws-sdk:", 1)[1].split(":", 1)[0]
            for rule in [*state.get("Retry", []), *state.get("Catch", [])]:
                for error in rule["ErrorEquals"]:
                    if not error.startswith("States."):
                        yield f"{name} ({service})", error
        for branch in state.get("Branches", []):
            yield from _aws_sdk_catches(branch["States"])
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from _aws_sdk_catches(state[key]["States"])


def test_every_error_the_watcher_catches_from_an_aws_sdk_task_is_one_aws_can_produce() -> None:
    """A Retry or Catch naming an error the integration never produces never fires: each name
    must be the service's undeclared `<Service>Exception` or a declared exception's name."""
    definition = json.loads((TEMPLATE.parent / "statemachine" / "watcher.asl.json").read_text())
    found = list(_aws_sdk_catches(definition["States"]))
    assert found, "the watcher has no aws-sdk Task"
    never = []
    for where, error in found:
        if error not in sdk_errors.aws_sdk_error_names(where.split("(", 1)[1].rstrip(")")):
            never.append(f"{where}: {error}")
    assert never == []


# -- payload limits ------------------------------------------------------------------------------
LIMIT = fidelity.PAYLOAD_LIMIT_BYTES


def _padded(template: Any, size: int) -> Any:
    """`template` with its one "" string padded so its compact JSON is `size` bytes."""
    text = json.dumps(template, separators=(",", ":"))
    assert text.count('""') == 1
    padded = text.replace('""', '"' + "x" * (size - len(text)) + '"')
    assert fidelity.payload_bytes(padded) == size
    return json.loads(padded)


def test_the_payload_limit_is_the_documented_256_kib() -> None:
    assert LIMIT == 262_144 == 256 * 1024
    assert fidelity.payload_bytes({"a": "é"}) == len('{"a":"é"}'.encode())  # UTF-8 bytes


def test_start_execution_takes_an_input_of_the_limit_and_refuses_one_byte_more(
    machines: Machines,
) -> None:
    machine = machines.sfn.create_state_machine(
        name="sized-inputs",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn=machines.role_arn,
    )["stateMachineArn"]
    at_limit = json.dumps(_padded({"event": ""}, LIMIT), separators=(",", ":"))
    machines.sfn.start_execution(stateMachineArn=machine, input=at_limit)
    over = json.dumps(_padded({"event": ""}, LIMIT + 1), separators=(",", ":"))
    with pytest.raises(machines.sfn.exceptions.ValidationException) as refused:
        machines.sfn.start_execution(stateMachineArn=machine, input=over)
    assert refused.value.response["Error"]["Message"] == fidelity.INPUT_TOO_LARGE.format(
        limit=LIMIT
    )


def _caught_everywhere(task: dict[str, Any]) -> dict[str, Any]:
    return {
        "StartAt": "Call",
        "States": {
            "Call": {
                **task,
                "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "IntervalSeconds": 1}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }


@pytest.mark.parametrize(("extra", "status"), [(0, "SUCCEEDED"), (1, "FAILED")])
def test_a_task_input_after_parameters_over_the_limit_fails_the_execution_uncaught(
    machines: Machines, extra: int, status: str
) -> None:
    """The Task's input after Parameters (the function's Payload, here) may be the limit; one
    byte more is States.DataLimitExceeded, which neither States.ALL retrier nor catcher takes:
    the function is never called."""
    calls: list[int] = []

    def measure(event: Any, context: Any) -> dict[str, str]:
        calls.append(len(event["a"]))
        return {}

    machines.account.functions.replace("InspectFunction", measure)
    task = machines.lambda_task("InspectFunction")
    function = task["Parameters"]["FunctionName"]
    overhead = fidelity.payload_bytes({"FunctionName": function, "Payload": {"a": ""}})
    task["Parameters"] = {"FunctionName": function, "Payload": {"a.$": "$.a"}}
    arn = machines.start(_caught_everywhere(task), {"a": "x" * (LIMIT - overhead + extra)})
    machines.run()
    described = machines.describe(arn)
    assert described["status"] == status
    if status == "SUCCEEDED":
        assert calls == [LIMIT - overhead]
        assert machines.entered(arn) == ["Call"]
        return
    assert described["error"] == "States.DataLimitExceeded"
    assert described["cause"] == fidelity.TASK_INPUT_CAUSE.format(name="Call")
    assert calls == []
    assert machines.entered(arn) == ["Call"]  # neither retried nor caught


def test_a_task_result_over_the_limit_fails_the_execution_uncaught(machines: Machines) -> None:
    machines.account.functions.replace(
        "InspectFunction", lambda event, context: {"big": "x" * LIMIT}
    )
    arn = machines.start(_caught_everywhere(machines.lambda_task("InspectFunction")))
    machines.run()
    described = machines.describe(arn)
    assert described["status"] == "FAILED"
    assert described["error"] == "States.DataLimitExceeded"
    assert "returned a result with a size exceeding" in described["cause"]
    assert machines.entered(arn) == ["Call"]


@pytest.mark.parametrize(("extra", "status"), [(0, "SUCCEEDED"), (1, "FAILED")])
def test_a_state_output_may_be_the_limit_and_not_one_byte_more(
    machines: Machines, extra: int, status: str
) -> None:
    """A Pass doubling its input: an output of exactly 262,144 bytes passes (moto failed it,
    measuring `<` on JSON with spaces), one more fails the execution."""
    base = fidelity.payload_bytes({"one": "", "twos": ""})
    half, odd = divmod(LIMIT + extra - base, 2)
    keys = ("one", "twos") if odd == 0 else ("one", "twos_")
    if odd:
        half, _ = divmod(LIMIT + extra - fidelity.payload_bytes(dict.fromkeys(keys, "")), 2)
    arn = machines.start(
        {
            "StartAt": "Double",
            "States": {
                "Double": {
                    "Type": "Pass",
                    "Parameters": {f"{keys[0]}.$": "$.a", f"{keys[1]}.$": "$.a"},
                    "End": True,
                }
            },
        },
        {"a": "x" * half},
    )
    machines.run()
    described = machines.describe(arn)
    assert described["status"] == status
    if status == "SUCCEEDED":
        assert fidelity.payload_bytes(json.loads(described["output"])) == LIMIT
    else:
        assert described["error"] == "States.DataLimitExceeded"
