"""The policy check: a write of the policy parameter gives one `failed` event, naming the
field, when the document is invalid, and nothing when it is valid or is another parameter."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from idle_reaper.messages import render
from idle_reaper.policy import Policy
from idle_reaper.policy_check import changed_parameter, checked_by, failed_detail
from idle_reaper.reaper_event import ReaperEvent
from tests.conftest import load_event

NAME = "/idle-reaper/policy"


def test_a_parameter_store_change_names_its_operation_and_parameter() -> None:
    assert changed_parameter(load_event("policy-parameter-changed.json")) == ("Update", NAME)


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"source": "aws.ssm", "detail-type": "Parameter Store Change"},
        {"source": "aws.ssm", "detail-type": "Parameter Store Change", "detail": {"name": 5}},
        {"source": "aws.glue", "detail-type": "Parameter Store Change", "detail": {}},
    ],
)
def test_anything_else_is_not_a_change(event: dict[str, Any]) -> None:
    assert changed_parameter(event) is None


def test_only_writes_of_the_named_parameter_and_the_schedule_are_checked() -> None:
    write = load_event("policy-parameter-changed.json")
    assert checked_by(write, NAME) == "Update"
    assert checked_by(write, "/another") is None
    assert checked_by(load_event("sweep-scheduled.json"), NAME) == "schedule"
    write["detail"]["operation"] = "LabelParameterVersion"
    assert checked_by(write, NAME) is None


def test_a_valid_document_gives_no_event() -> None:
    policy = Policy.from_env({}).with_document("version: 1")
    assert failed_detail(NAME, policy, "2026-03-02T09:00:00Z") is None


def test_an_invalid_document_gives_a_failed_event_a_person_can_read() -> None:
    policy = Policy.from_env({}).with_document('{"version": 1, "rules": [{"name": "x y"}]}')
    detail = failed_detail(NAME, policy, "2026-03-02T09:00:00Z")
    assert detail is not None
    assert detail["error"]["Error"] == "PolicyInvalid"
    assert detail["error"]["Cause"].startswith("rules[0].name:")
    event = ReaperEvent.parse({"id": "e1", "detail-type": "failed", "detail": detail})
    message = render(event)
    assert message.subject.startswith("idle-reaper: the idle-reaper policy document is invalid")
    assert "rules[0].name" in message.email_text
    assert "nothing is stopped until it is fixed" in message.email_text


@mock_aws
def test_the_handler_puts_exactly_one_event_for_an_invalid_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from functions.policy_check import app

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("POLICY_PARAMETER_NAME", NAME)
    monkeypatch.setenv("EVENT_BUS_NAME", "bus")
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "deliveries")
    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName="deliveries",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(
        Name=NAME, Value="version: 1\nrules: [{name: a, idle_minutes: -3}]", Type="String"
    )
    put: list[dict[str, Any]] = []

    class Events:
        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
            put.extend(Entries)
            return {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}

    real_client = boto3.client
    monkeypatch.setattr(
        app.boto3,
        "client",
        lambda name, **kw: Events() if name == "events" else real_client(name, **kw),
    )
    app._ssm.cache_clear()
    app._reports.cache_clear()
    context = type(
        "Context",
        (),
        {
            "function_name": "f",
            "memory_limit_in_mb": 256,
            "invoked_function_arn": "arn",
            "aws_request_id": "r",
            "get_remaining_time_in_millis": lambda self: 30_000,
        },
    )()
    answer = app.handler(load_event("policy-parameter-changed.json"), context)  # type: ignore[arg-type]
    assert answer["checked"] is True and answer["valid"] is False
    assert answer["error"].startswith("rules[0].idle_minutes:")
    # the same bad document again (its label, the schedule's check): no second event
    label = load_event("policy-parameter-changed.json")
    label["detail"]["operation"] = "LabelParameterVersion"
    assert app.handler(label, context) == {"checked": False}  # type: ignore[arg-type]
    scheduled = load_event("sweep-scheduled.json")
    assert app.handler(scheduled, context)["valid"] is False  # type: ignore[arg-type]
    (entry,) = put
    assert entry["DetailType"] == "failed" and entry["EventBusName"] == "bus"
    assert json.loads(entry["Detail"])["error"]["Error"] == "PolicyInvalid"
    other = load_event("policy-parameter-changed.json")
    other["detail"]["name"] = "/someone/else"
    assert app.handler(other, context) == {"checked": False}  # type: ignore[arg-type]
    assert len(put) == 1
