"""Who holds a claim: a running watch (or a continuation of it) does; an ended watch's claim is
freed for the sweeper, unless somebody re-claimed it meanwhile."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from idle_reaper.claims import READ_AT_ONCE, Claims
from idle_reaper.exceptions import ClaimReadError
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


def held(claims: Claims, key: str = "k") -> bool:
    """Whether a watch holds the claim, read as the sweeper reads it: items, then holds."""
    return claims.holds(key, claims.items([key]).get(key))


def exists(dynamodb: Any) -> bool:
    return "Item" in dynamodb.get_item(TableName=TABLE, Key={"claim": {"S": "k"}})


def test_no_claim_is_not_held(dynamodb: Any) -> None:
    assert held(Claims(dynamodb, TABLE, FakeSfn({}))) is False


def test_a_running_watch_holds_its_claim(dynamodb: Any) -> None:
    claim(dynamodb)
    assert held(Claims(dynamodb, TABLE, FakeSfn({FIRST: {"status": "RUNNING"}}))) is True
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
    assert held(Claims(dynamodb, TABLE, sfn)) is True
    assert sfn.asked == [FIRST, second, third]
    assert second.endswith("first-watch-g2")


@pytest.mark.parametrize("outcome", ["stopped", "would-stop", "gone", "ignored"])
def test_a_watch_that_ended_with_a_verdict_keeps_its_claim(dynamodb: Any, outcome: str) -> None:
    """A dry run's would-stop, say: judging it again at every sweep would warn again and again."""
    claim(dynamodb)
    assert held(Claims(dynamodb, TABLE, FakeSfn({FIRST: ended("SUCCEEDED", outcome)})))
    assert exists(dynamodb)


def test_an_exempt_watch_frees_its_claim_even_after_continuations(dynamodb: Any) -> None:
    claim(dynamodb)
    second = f"{SM}:{continuation_name('first-watch', 2)}"
    sfn = FakeSfn({FIRST: ended("SUCCEEDED", continued=True), second: ended("SUCCEEDED", "exempt")})
    assert held(Claims(dynamodb, TABLE, sfn)) is False
    assert not exists(dynamodb)


@pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT", "ABORTED"])
def test_a_watch_that_never_reached_a_verdict_frees_its_claim(dynamodb: Any, status: str) -> None:
    claim(dynamodb)
    assert held(Claims(dynamodb, TABLE, FakeSfn({FIRST: ended(status)}))) is False
    assert not exists(dynamodb)


def test_a_continuation_that_cannot_be_found_keeps_the_claim(dynamodb: Any) -> None:
    claim(dynamodb)
    assert held(Claims(dynamodb, TABLE, FakeSfn({FIRST: ended("SUCCEEDED", continued=True)})))


def test_a_claim_taken_over_in_between_is_held(dynamodb: Any) -> None:
    claim(dynamodb)

    class Racing(FakeSfn):
        def describe_execution(self, executionArn: str) -> dict[str, Any]:
            claim(dynamodb, holder=f"{SM}:another-watch")  # a new watch claims it meanwhile
            return ended("SUCCEEDED", "exempt")

    assert held(Claims(dynamodb, TABLE, Racing({}))) is True
    assert exists(dynamodb)


@pytest.mark.parametrize("holder", ["", "not-an-arn"])
def test_a_claim_whose_holder_cannot_be_read_counts_as_held(dynamodb: Any, holder: str) -> None:
    claim(dynamodb, holder=holder)
    assert held(Claims(dynamodb, TABLE, FakeSfn({}))) is True


# -- reading a page of claims at once ---------------------------------------------------------
def test_the_items_of_a_page_of_claims_come_from_one_read(dynamodb: Any) -> None:
    for key in ("a", "c"):
        dynamodb.put_item(TableName=TABLE, Item={"claim": {"S": key}, "execution_arn": {"S": key}})
    calls: list[str] = []
    dynamodb.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    found = Claims(dynamodb, TABLE, FakeSfn({})).items(["a", "b", "c", "a"])
    assert calls == ["BatchGetItem"]  # duplicates asked once: BatchGetItem refuses them
    assert {key: item["execution_arn"]["S"] for key, item in found.items()} == {"a": "a", "c": "c"}
    assert Claims(dynamodb, TABLE, FakeSfn({})).items([]) == {}


def test_more_claims_than_one_read_takes_is_refused_before_any_call(dynamodb: Any) -> None:
    with pytest.raises(ValueError, match="at most 100"):
        Claims(dynamodb, TABLE, FakeSfn({})).items([str(n) for n in range(READ_AT_ONCE + 1)])


def test_claims_left_unprocessed_are_read_one_by_one(dynamodb: Any) -> None:
    """BatchGetItem may return some keys unprocessed (throttled, too large): read them again."""
    for key in ("a", "b"):
        dynamodb.put_item(TableName=TABLE, Item={"claim": {"S": key}, "execution_arn": {"S": key}})

    class Partial:
        def __init__(self) -> None:
            self.single: list[str] = []

        def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
            assert RequestItems[TABLE]["ConsistentRead"] is True
            keys = RequestItems[TABLE]["Keys"]
            first = dynamodb.get_item(TableName=TABLE, Key=keys[0])["Item"]
            return {
                "Responses": {TABLE: [first]},
                "UnprocessedKeys": {TABLE: {"Keys": keys[1:], "ConsistentRead": True}},
            }

        def get_item(self, **kwargs: Any) -> dict[str, Any]:
            assert kwargs["ConsistentRead"] is True
            self.single.append(kwargs["Key"]["claim"]["S"])
            return dict(dynamodb.get_item(**kwargs))

    partial = Partial()
    found = Claims(partial, TABLE, FakeSfn({})).items(["a", "b", "missing"])
    assert partial.single == ["b", "missing"]
    assert sorted(found) == ["a", "b"]


def test_holds_judges_the_item_it_is_given_without_reading_it_again(dynamodb: Any) -> None:
    claims = Claims(dynamodb, TABLE, FakeSfn({FIRST: {"status": "RUNNING"}}))
    item = {"claim": {"S": "k"}, "execution_arn": {"S": FIRST}}
    assert claims.holds("k", item) is True  # the table is empty: the item given decides
    assert claims.holds("k", None) is False


class Answering:
    """A DynamoDB whose BatchGetItem gives a set answer: one that cannot be read must never
    read as "no claims"."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.single: list[str] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        return self.answer

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        self.single.append(kwargs["Key"]["claim"]["S"])
        return {}


@pytest.mark.parametrize(
    "answer",
    [
        {"Responses": [{"claim": {"S": "a"}}]},
        {"Responses": {TABLE: {"claim": {"S": "a"}}}},
        {"Responses": {TABLE: [{"execution_arn": {"S": FIRST}}]}},  # no claim named
        {"Responses": {TABLE: [{"claim": {"S": "never-asked"}}]}},
        {"Responses": {TABLE: [{"claim": {"N": "1"}}]}},
        {"Responses": {TABLE: "abc"}},
        {"UnprocessedKeys": {TABLE: {"Keys": "a"}}},
        {"UnprocessedKeys": {TABLE: {"Keys": [{"id": {"S": "a"}}]}}},
        {"UnprocessedKeys": {TABLE: {}}},
    ],
)
def test_an_answer_that_cannot_be_read_is_an_error(answer: dict[str, Any]) -> None:
    with pytest.raises(ClaimReadError):
        Claims(Answering(answer), TABLE, FakeSfn({})).items(["a", "b"])


@pytest.mark.parametrize("answer", [{}, {"Responses": None}, {"Responses": {"other": []}}])
def test_an_answer_without_the_tables_entry_is_nothing_found(answer: dict[str, Any]) -> None:
    assert Claims(Answering(answer), TABLE, FakeSfn({})).items(["a", "b"]) == {}


def test_keys_all_left_unprocessed_are_read_and_unasked_ones_never_are() -> None:
    unprocessed = {"Keys": [{"claim": {"S": k}} for k in ("a", "b", "never-asked")]}
    dynamodb = Answering({"UnprocessedKeys": {TABLE: unprocessed}})
    assert Claims(dynamodb, TABLE, FakeSfn({})).items(["a", "b"]) == {}
    assert dynamodb.single == ["a", "b"]


def test_keys_dynamodb_refuses_are_a_claim_read_error_and_throttling_is_not() -> None:
    """ValidationException (a key it will not take): the sweeper then reads key by key. A
    throttled or failed call stays what it is: one error for the page."""

    class Refusing:
        def __init__(self, code: str) -> None:
            self.code = code

        def batch_get_item(self, **_: Any) -> dict[str, Any]:
            raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, "BatchGetItem")

    with pytest.raises(ClaimReadError):
        Claims(Refusing("ValidationException"), TABLE, FakeSfn({})).items(["a"])
    with pytest.raises(ClientError):
        Claims(Refusing("ProvisionedThroughputExceededException"), TABLE, FakeSfn({})).items(["a"])
