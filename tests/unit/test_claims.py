"""Who holds a claim: a running watch (or a continuation of it) does; an ended watch's claim is
freed for the sweeper, unless somebody re-claimed it meanwhile."""

from __future__ import annotations

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


class FakeSfn:
    def __init__(self, statuses: dict[str, str]) -> None:
        self.statuses = statuses
        self.asked: list[str] = []

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        self.asked.append(executionArn)
        if executionArn not in self.statuses:
            raise ClientError(
                {"Error": {"Code": "ExecutionDoesNotExist", "Message": "no"}}, "DescribeExecution"
            )
        return {"status": self.statuses[executionArn]}


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
    assert Claims(dynamodb, TABLE, FakeSfn({FIRST: "RUNNING"})).held("k") is True
    assert exists(dynamodb)


def test_a_continuation_that_runs_holds_the_claim_its_first_execution_wrote(dynamodb: Any) -> None:
    claim(dynamodb)
    second = f"{SM}:{continuation_name('first-watch', 1)}"
    third = f"{SM}:{continuation_name('first-watch', 2)}"
    sfn = FakeSfn({FIRST: "SUCCEEDED", second: "SUCCEEDED", third: "RUNNING"})
    assert Claims(dynamodb, TABLE, sfn).held("k") is True
    assert sfn.asked == [FIRST, second, third]


@pytest.mark.parametrize("status", ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"])
def test_an_ended_watch_frees_its_claim(dynamodb: Any, status: str) -> None:
    claim(dynamodb)
    assert Claims(dynamodb, TABLE, FakeSfn({FIRST: status})).held("k") is False
    assert not exists(dynamodb)


def test_a_claim_taken_over_in_between_is_held(dynamodb: Any) -> None:
    claim(dynamodb)

    class Racing(FakeSfn):
        def describe_execution(self, executionArn: str) -> dict[str, Any]:
            claim(dynamodb, holder=f"{SM}:another-watch")  # a new watch claims it meanwhile
            return {"status": "SUCCEEDED"}

    assert Claims(dynamodb, TABLE, Racing({})).held("k") is True
    assert exists(dynamodb)


@pytest.mark.parametrize("holder", ["", "not-an-arn"])
def test_a_claim_whose_holder_cannot_be_read_counts_as_held(dynamodb: Any, holder: str) -> None:
    claim(dynamodb, holder=holder)
    assert Claims(dynamodb, TABLE, FakeSfn({})).held("k") is True
