"""EventBridge's PutEvents under the local runtime's IAM: each entry authorized with its own
events:source and events:detail-type, and an entry the caller may not publish failing alone
with AWS's ErrorCode (local_runtime/iam/put_events.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local_runtime.iam import enforced
from local_runtime.iam.context import Caller, Unevaluable, request_context
from local_runtime.iam.policies import Decision, decide
from local_runtime.iam.put_events import decide_entries, without_conditions_on
from local_runtime.iam.requests import Call, put_events_entries

ACCOUNT = "123456789012"
REGION = "us-east-1"
BUS = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/reaper"
KEEP_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "events:PutEvents",
            "Resource": BUS,
            "Condition": {
                "StringEquals": {"events:detail-type": "kept"},
                "ForAllValues:StringEquals": {"events:source": ["idle-reaper"]},
                "Null": {"events:source": "false"},
            },
        }
    ],
}
CALLER = Caller(
    arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/keep/keep",
    principal_arn=f"arn:aws:iam::{ACCOUNT}:role/keep",
    account=ACCOUNT,
    kind="AssumedRole",
    name="keep",
    userid="AROAKEEP:keep",
)
NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


def entry(source: str = "idle-reaper", detail_type: str = "kept", bus: str = "reaper") -> Any:
    return {"Source": source, "DetailType": detail_type, "Detail": "{}", "EventBusName": bus}


def decider(policy: Mapping[str, Any]) -> Any:
    def decide_one(bus: str, keys: Mapping[str, list[str]], leave_out: frozenset[str]) -> Decision:
        document = without_conditions_on(json.dumps(policy), leave_out)
        assert document is not None
        context = request_context(CALLER, REGION, NOW, {}, None, keys)
        return decide([document], {}, [("events:PutEvents", bus)], CALLER, context)

    return decide_one


def test_each_entry_names_its_bus_and_its_keys() -> None:
    call = Call(
        "events",
        "PutEvents",
        REGION,
        ACCOUNT,
        {"Entries": [entry(), {"Source": "x", "DetailType": "y"}, {"EventBusName": BUS}]},
    )
    default = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    assert put_events_entries(call) == [
        (BUS, {"events:source": ["idle-reaper"], "events:detail-type": ["kept"]}),
        (default, {"events:source": ["x"], "events:detail-type": ["y"]}),
        (BUS, {}),
    ]
    assert put_events_entries(Call("events", "PutRule", REGION, ACCOUNT, {})) is None
    assert put_events_entries(Call("events", "PutEvents", REGION, ACCOUNT, {})) is None


def test_the_keys_are_in_the_context_of_an_entry_and_unknown_elsewhere() -> None:
    keys = {"events:source": ["idle-reaper"], "events:detail-type": ["kept"]}
    context = request_context(CALLER, REGION, NOW, {}, None, keys)
    assert context.get("events:Detail-Type") == ["kept"]  # key names: any case
    assert context.get("events:source") == ["idle-reaper"]
    with pytest.raises(Unevaluable):
        request_context(CALLER, REGION, NOW, {}).get("events:detail-type")


def test_conditions_on_a_key_are_left_out_and_nothing_else() -> None:
    stripped = without_conditions_on(json.dumps(KEEP_POLICY), frozenset({"events:source"}))
    assert stripped is not None
    (statement,) = json.loads(stripped)["Statement"]
    assert statement["Condition"] == {"StringEquals": {"events:detail-type": "kept"}}
    both = frozenset({"events:source", "events:detail-type"})
    bare = without_conditions_on(json.dumps(KEEP_POLICY), both)
    assert bare is not None and "Condition" not in json.loads(bare)["Statement"][0]
    assert without_conditions_on(None, both) is None


@pytest.mark.parametrize(
    ("entries", "refused"),
    [
        pytest.param([entry()], {}, id="its-own-event"),
        pytest.param(
            [entry(), entry(detail_type="stopped")],
            {1: "NotAuthorizedForDetailTypeException"},
            id="another-detail-type-fails-alone",
        ),
        pytest.param(
            [entry(source="aws.ec2")], {0: "NotAuthorizedForSourceException"}, id="another-source"
        ),
        pytest.param(
            [entry(source="x", detail_type="y")],
            {0: "NotAuthorizedForSourceException"},
            id="both-wrong-names-the-source",
        ),
        pytest.param(
            [{"Source": "idle-reaper", "DetailType": "kept", "EventBusName": "reaper"}],
            {},
            id="detail-is-moto-s-business",
        ),
    ],
)
def test_an_entry_is_refused_in_the_answer_with_aws_error_code(
    entries: list[dict[str, str]], refused: dict[int, str]
) -> None:
    call = Call("events", "PutEvents", REGION, ACCOUNT, {"Entries": entries})
    found = put_events_entries(call)
    assert found is not None
    decision, failed = decide_entries(found, decider(KEEP_POLICY))
    assert decision.allowed
    assert failed == refused


def test_an_entry_without_a_source_fails_the_null_test_not_silently() -> None:
    call = Call("events", "PutEvents", REGION, ACCOUNT, {"Entries": [{"DetailType": "kept"}]})
    found = put_events_entries(call)
    assert found is not None
    decision, failed = decide_entries([(BUS, keys) for _, keys in found], decider(KEEP_POLICY))
    assert decision.allowed and failed == {0: "NotAuthorizedForSourceException"}


def test_another_bus_refuses_the_whole_request() -> None:
    other = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    keys = {"events:source": ["idle-reaper"], "events:detail-type": ["kept"]}
    decision, failed = decide_entries([(BUS, keys), (other, keys)], decider(KEEP_POLICY))
    assert not decision.allowed and decision.resource == other
    assert failed == {}


# -- through moto, as a role's client sees it ----------------------------------------------------
@pytest.fixture
def keep_role_events() -> Iterator[tuple[Any, Any]]:
    environment = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }
    with mock.patch.dict(os.environ, environment), mock_aws(), enforced(ACCOUNT, REGION) as who:
        admin = boto3.client("events", region_name=REGION)
        admin.create_event_bus(Name="reaper")
        iam = boto3.client("iam", region_name=REGION)
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = iam.create_role(RoleName="keep", AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(
            RoleName="keep", PolicyName="publish", PolicyDocument=json.dumps(KEEP_POLICY)
        )
        credentials = who.role_credentials(role["Role"]["Arn"], "keep")
        keep = boto3.client(
            "events",
            region_name=REGION,
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token,
        )
        yield keep, admin


def test_moto_answers_a_refused_entry_as_aws_and_publishes_the_others(
    keep_role_events: tuple[Any, Any],
) -> None:
    keep, _ = keep_role_events
    answer = keep.put_events(
        Entries=[entry(), entry(detail_type="stopped"), entry(source="idle-reaper.evil")]
    )
    assert answer["FailedEntryCount"] == 2
    first, second, third = answer["Entries"]
    assert "EventId" in first and "ErrorCode" not in first
    assert second["ErrorCode"] == "NotAuthorizedForDetailTypeException"
    assert third["ErrorCode"] == "NotAuthorizedForSourceException"
    assert keep.put_events(Entries=[entry()])["FailedEntryCount"] == 0


def test_moto_refuses_the_request_for_a_bus_the_role_may_not_use(
    keep_role_events: tuple[Any, Any],
) -> None:
    keep, admin = keep_role_events
    admin.create_event_bus(Name="other")
    with pytest.raises(ClientError) as refused:
        keep.put_events(Entries=[entry(bus="other")])
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "events:PutEvents" in refused.value.response["Error"]["Message"]
