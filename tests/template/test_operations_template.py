"""What an operator relies on without reading the code: who the alarms reach, and that a
notification redriven from its dead-letter queue is still delivered once."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest
from cfnlint.decode import decode

from local_runtime import stack as stack_module
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def stack() -> stack_module.Stack:
    return stack_module.load(ROOT / "template.yaml")


def _notify_app() -> ModuleType:
    """functions/notify/app.py as Lambda imports it (it is no package: loaded by path)."""
    path = ROOT / "functions/notify/app.py"
    spec = importlib.util.spec_from_file_location("notify_app_operations", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_delivery_is_remembered_longer_than_its_event_can_wait_in_the_dead_letter_queue(
    stack: stack_module.Stack,
) -> None:
    """Notify remembers a delivery (event id and channel) from the moment it succeeded. The
    event may still fail on the other channel: Lambda retries it up to its maximum event age,
    one last run may take the function's timeout, then it goes to the dead-letter queue, which
    keeps it for its retention; EventBridge's own retries (before Lambda accepted the event)
    are counted too, though no delivery happens then. A redrive at the last moment must still
    find the record, or the channel that had succeeded sends twice."""
    app = _notify_app()
    window = app.idempotency.expires_after_seconds
    assert window == app.DELIVERY_MEMORY_SECONDS

    function = stack.resources["NotifyFunction"]["Properties"]
    retention = stack.resources["NotifyDeadLetterQueue"]["Properties"]["MessageRetentionPeriod"]
    invoke = stack.resources["NotifyFunctionEventInvokeConfig"]["Properties"]
    assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == stack.arn(
        "NotifyDeadLetterQueue"
    )
    (target,) = stack.resources["NotifyFunctionReaperEvents"]["Properties"]["Targets"]
    assert target["DeadLetterConfig"]["Arn"] == stack.arn("NotifyDeadLetterQueue")

    longest_wait = (
        int(target["RetryPolicy"]["MaximumEventAgeInSeconds"])
        + int(invoke["MaximumEventAgeInSeconds"])
        + int(function["Timeout"])
        + int(retention)
    )
    assert window >= longest_wait, (window, longest_wait)


def test_the_topic_every_alarm_publishes_to_is_an_output(stack: stack_module.Stack) -> None:
    """Whoever deploys without NotificationEmail must be able to find the topic to subscribe."""
    alarms = stack.of_type("AWS::CloudWatch::Alarm")
    assert alarms
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [stack.ref("NotificationTopic")], name
    raw, _ = decode(str(ROOT / "template.yaml"))  # as written: what CloudFormation receives
    output = raw["Outputs"]["NotificationTopicArn"]
    assert "Condition" not in output
    assert output["Value"] == {"Ref": "NotificationTopic"}


@pytest.mark.parametrize(("email", "shown"), [("", True), ("team@example.com", False)])
def test_a_stack_without_an_email_says_its_alarms_reach_nobody(email: str, shown: bool) -> None:
    """Empty NotificationEmail subscribes nobody (EmailSubscription is conditional on it), so
    the stack's outputs say so; with an address, neither the warning nor a doubt is shown."""
    stack = stack_module.load(ROOT / "template.yaml", {"NotificationEmail": email})
    assert ("EmailSubscription" in stack.resources) is not shown
    raw, _ = decode(str(ROOT / "template.yaml"))
    output = raw["Outputs"]["AlarmsReachNobody"]
    assert stack.conditions[output["Condition"]] is shown
    assert output["Value"] == {"Ref": "NotificationTopic"}
    assert "NotificationTopicArn" in output["Description"]
