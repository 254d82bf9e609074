"""The policy document's place in the template: who may read it, who reports it invalid, and
that none of it exists without PolicyParameterName (least privilege either way)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local_runtime import stack as stack_module
from tests.conftest import ROOT
from tests.template.test_template import actions, matching_rules, statements

NAME = "/idle-reaper/policy"
PARAMETER_ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/idle-reaper/policy"


@pytest.fixture(scope="module")
def with_policy() -> stack_module.Stack:
    return stack_module.load(ROOT / "template.yaml", {"PolicyParameterName": NAME})


@pytest.fixture(scope="module")
def without() -> stack_module.Stack:
    return stack_module.load(ROOT / "template.yaml")


def event(name: str = NAME) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((ROOT / "events/policy-parameter-changed.json").read_text())
    found["detail"]["name"] = name
    return found


def _granting(stack: stack_module.Stack, role: str, action: str) -> list[dict[str, Any]]:
    return [s for s in statements(stack, role) if action in s["Action"]]


def test_inspect_and_the_sweeper_read_exactly_the_policy_parameter(
    with_policy: stack_module.Stack,
) -> None:
    for role in ("InspectFunctionRole", "SweepFunctionRole", "PolicyCheckFunctionRole"):
        (read,) = _granting(with_policy, role, "ssm:GetParameter")
        assert read["Action"] == ["ssm:GetParameter"] and read["Resource"] == PARAMETER_ARN
    for function in ("InspectFunction", "SweepFunction", "PolicyCheckFunction"):
        env = with_policy.resources[function]["Properties"]["Environment"]["Variables"]
        assert env["POLICY_PARAMETER_NAME"] == NAME


def test_the_policy_check_may_read_the_parameter_and_put_on_the_reaper_bus_only(
    with_policy: stack_module.Stack,
) -> None:
    assert actions(with_policy, "PolicyCheckFunctionRole") == {
        "ssm:GetParameter",
        "events:PutEvents",
        "sqs:SendMessage",  # its on-failure destination
        "dynamodb:GetItem",  # Powertools Idempotency: each problem reported once a day
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    }
    (once,) = _granting(with_policy, "PolicyCheckFunctionRole", "dynamodb:PutItem")
    assert once["Resource"] == with_policy.arn("IdempotencyTable")
    (dead,) = _granting(with_policy, "PolicyCheckFunctionRole", "sqs:SendMessage")
    assert dead["Resource"] == with_policy.arn("WatcherStartDeadLetterQueue")
    (put,) = _granting(with_policy, "PolicyCheckFunctionRole", "events:PutEvents")
    assert put["Resource"] == with_policy.arn("ReaperEventBus")
    assert put["Condition"] == {  # its `failed` events only: not a stop, a warning or a keep
        "StringEquals": {"events:detail-type": "failed"},
        "ForAllValues:StringEquals": {"events:source": ["idle-reaper"]},
        "Null": {"events:source": "false"},
    }


def test_the_bus_takes_events_from_the_watcher_and_the_policy_check_only(
    with_policy: stack_module.Stack, without: stack_module.Stack
) -> None:
    def allowed(stack: stack_module.Stack) -> list[str]:
        statement = stack.resources["ReaperEventBusPolicy"]["Properties"]["Statement"]
        value = statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
        return value if isinstance(value, list) else [value]

    assert allowed(with_policy) == [
        with_policy.arn("WatcherStateMachineRole"),
        with_policy.arn("PolicyCheckFunctionRole"),
    ]
    assert allowed(without) == [without.arn("WatcherStateMachineRole")]


def test_the_check_runs_on_writes_of_that_parameter_only(with_policy: stack_module.Stack) -> None:
    rules = matching_rules(with_policy, event())
    assert len(rules) == 1 and next(iter(rules)).startswith("PolicyCheckFunction")
    assert matching_rules(with_policy, event("/other/parameter")) == set()


def test_team_webhooks_are_readable_under_their_prefix_only(
    with_policy: stack_module.Stack, without: stack_module.Stack
) -> None:
    reads = _granting(with_policy, "NotifyFunctionRole", "secretsmanager:GetSecretValue")
    resources = {r["Resource"] for r in reads}
    assert "arn:aws:secretsmanager:us-east-1:123456789012:secret:idle-reaper/slack/*" in resources
    assert all("*" not in r["Action"] for r in reads)
    prefixed = _granting(without, "NotifyFunctionRole", "secretsmanager:GetSecretValue")
    assert all("idle-reaper/slack/*" not in str(r["Resource"]) for r in prefixed)


def test_without_a_policy_parameter_nothing_of_it_exists(without: stack_module.Stack) -> None:
    assert "PolicyCheckFunction" not in without.resources
    for role in ("InspectFunctionRole", "SweepFunctionRole"):
        assert not _granting(without, role, "ssm:GetParameter")


def test_the_policy_check_errors_raise_the_function_alarm(with_policy: stack_module.Stack) -> None:
    alarm = with_policy.resources["FunctionErrorsAlarm"]["Properties"]
    ids = {m["Id"] for m in alarm["Metrics"]}
    assert "policy" in ids
    (expression,) = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
    assert "policy" in expression


def test_the_parameter_name_is_checked() -> None:
    import re

    text = (ROOT / "template.yaml").read_text()
    found = re.search(r"PolicyParameterName:\n(?:    .*\n)*?    AllowedPattern: (\S+)\n", text)
    assert found
    pattern = found.group(1)
    assert re.fullmatch(pattern, "/idle-reaper/policy")
    assert re.fullmatch(pattern, "")
    for bad in ("idle-reaper/policy", "/a b", "/x/../y*", "/" + "a/" * 20):
        assert not re.fullmatch(pattern, bad), bad
