"""Who holds a claim: a running watch (or a continuation of it) does; an ended watch's claim is
freed for the sweeper, unless somebody re-claimed it meanwhile."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from idle_reaper.claims import Claims
from idle_reaper.watch import continuation_name

TABLE = "claims"
SM = "arn:aws:states:us-east-1:123456789012:execution:idle-reaper-watcher"
FIRST = f"{SM}:first-watch"


def ended(status: str, outcome: str | None = None, continued: bool = False) -> dict[str, Any]:
    """What DescribeExecution says of an execution (its output: the watcher's last state)."""
    output = {
        "verdict": {"outcome": outcome} if outcome else None,
        "watch": {"continue": continued},
    }
    return {"status": status, "output": json.dumps(output)}


class FakeSfn:
    def __init__(self, executions: dict[str, dict[str, Any]]) -> None:
        self.executions = executions
        self.asked: list[str] = []

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        self.asked.append(executionArn)
        if executionArn not in self.executions:
            raise ClientError(
                {"Error": {"Code": "ExecutionDoesNotExist", "Message": "no"}}, "DescribeExecution"
            )
        return self.executions[executionArn]


@pytest.fixture
def dynamodb() -> Any:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "claim", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "claim", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def claim(dynamodb: Any, holder: str = FIRST) -> None:
    dynamodb.put_item(TableName=TABLE, Item={"claim": {"S": "k"}, "execution_arn": {"S": holder}})


def exists(dynamodb: Any) -> bool:
    return "Item" in dynamodb.get_item(TableName=TABLE, Key={"claim": {"S": "k"}})


def test_no_claim_is_not_held(dynamodb: Any) -> None:
    assert Claims(dynamodb, TABLE, FakeSfn({})).held("k") is False


def test_a_running_watch_holds_its_claim(dynamodb: Any) -> None:
    claim(dynamodb)
    assert Claims(dynamodb, TABLE, FakeSfn({FIRST: {"status": "RUNNING"}})).held("k") is True
    assert exists(dynamodb)


def test_a_continuation_that_runs_holds_the_claim_its_first_execution_wrote(dynamodb: Any) -> None:
    """Continuations are `<first>-g2`, `-g3`, ... (the first execution is generation 1)."""
    claim(dynamodb)
    second = f"{SM}:{continuation_name('first-watch', 2)}"
    third = f"{SM}:{continuation_name('first-watch', 3)}"
    sfn = FakeSfn(
        {
            FIRST: ended("SUCCEEDED", continued=True),
            second: ended("SUCCEEDED", continued=True),
            third: {"status": "RUNNING"},
        }
    )
    assert Claims(dynamodb, TABLE, sfn).held("k") is True
    assert sfn.asked == [FIRST, second, third]
    assert second.endswith("first-watch-g2")


@pytest.mark.parametrize("outcome", ["stopped", "would-stop", "gone", "ignored"])
def test_a_watch_that_ended_with_a_verdict_keeps_its_claim(dynamodb: Any, outcome: str) -> None:
    """A dry run's would-stop, say: judging it again at every sweep would warn again and again."""
    claim(dynamodb)
    assert Claims(dynamodb, TABLE, FakeSfn({FIRST: ended("SUCCEEDED", outcome)})).held("k")
    assert exists(dynamodb)


def test_an_exempt_watch_frees_its_claim_even_after_continuations(dynamodb: Any) -> None:
    claim(dynamodb)
    second = f"{SM}:{continuation_name('first-watch', 2)}"
    sfn = FakeSfn({FIRST: ended("SUCCEEDED", continued=True), second: ended("SUCCEEDED", "exempt")})
    assert Claims(dynamodb, TABLE, sfn).held("k") is False
    assert not exists(dynamodb)


@pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT", "ABORTED"])
def test_a_watch_that_never_reached_a_verdict_frees_its_claim(dynamodb: Any, status: str) -> None:
    claim(dynamodb)
    assert Claims(dynamodb, TABLE, FakeSfn({FIRST: ended(status)})).held("k") is False
    assert not exists(dynamodb)


def test_a_continuation_that_cannot_be_found_keeps_the_claim(dynamodb: Any) -> None:
    claim(dynamodb)
    assert Claims(dynamodb, TABLE, FakeSfn({FIRST: ended("SUCCEEDED", continued=True)})).held("k")


def test_a_claim_taken_over_in_between_is_held(dynamodb: Any) -> None:
    claim(dynamodb)

    class Racing(FakeSfn):
        def describe_execution(self, executionArn: str) -> dict[str, Any]:
            claim(dynamodb, holder=f"{SM}:another-watch")  # a new watch claims it meanwhile
            return ended("SUCCEEDED", "exempt")

    assert Claims(dynamodb, TABLE, Racing({})).held("k") is True
    assert exists(dynamodb)


@pytest.mark.parametrize("holder", ["", "not-an-arn"])
def test_a_claim_whose_holder_cannot_be_read_counts_as_held(dynamodb: Any, holder: str) -> None:
    claim(dynamodb, holder=holder)
    assert Claims(dynamodb, TABLE, FakeSfn({})).held("k") is True
