"""Whether a watch holds a resource's claim: the sweeper starts a watcher only for a resource no
watch holds.

A claim outlives its watch (it expires after CLAIM_DAYS). A watch that ended while its resource
runs on keeps it when its end was a verdict about that resource (stopped, would-stop in a dry
run, gone): the sweeper must not judge it again and again. It lets it go when the watch ended
`exempt` (so removing the exemption brings the resource back under watch at the next sweep) or
never reached a verdict (failed, timed out, aborted: the outage is over, watch it again).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from idle_reaper.exceptions import ClaimReadError
from idle_reaper.watch import continuation_name

READ_AT_ONCE = 100
"""Claims one read asks for at most: BatchGetItem's limit of 100 items a request."""
MAX_GENERATIONS = 1000
"""Continuations followed at most (each holds about 10,000 history events): past it, when in
doubt, the claim counts as held."""


@dataclass(frozen=True)
class Claims:
    """The claims table, and Step Functions to ask whether a claim's watch still runs."""

    dynamodb: Any
    table: str
    sfn: Any

    def items(self, keys: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        """The claim items there are among `keys` (at most READ_AT_ONCE), by key: one
        BatchGetItem, strongly consistent, for a whole page of a sweep. Keys DynamoDB leaves
        unprocessed (throttling, size) are read one by one, with the client's retries. Keys
        DynamoDB refuses (ValidationException) or an answer that cannot be read raise
        ClaimReadError: the caller reads those keys one by one."""
        unique = list(dict.fromkeys(keys))  # BatchGetItem refuses a list with duplicates
        if len(unique) > READ_AT_ONCE:
            raise ValueError(f"{len(unique)} claims in one read: at most {READ_AT_ONCE}")
        if not unique:
            return {}
        try:
            answer = self.dynamodb.batch_get_item(
                RequestItems={
                    self.table: {
                        "Keys": [{"claim": {"S": key}} for key in unique],
                        "ConsistentRead": True,
                    }
                }
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ValidationException":
                raise ClaimReadError(f"BatchGetItem refused the keys: {exc}") from exc
            raise
        if not isinstance(answer, Mapping):
            raise ClaimReadError("BatchGetItem's answer is not an object")
        asked = set(unique)
        left = [key for key in _keys(answer.get("UnprocessedKeys"), self.table) if key in asked]
        # No entry for the table reads as nothing found: were that wrong, a watcher started for
        # a claimed resource ends at its Claim state (Duplicate), while refusing the answer
        # would stop every sweep from starting anything.
        responses = answer.get("Responses") or {}
        listed = responses.get(self.table, []) if isinstance(responses, Mapping) else None
        if not isinstance(listed, list):
            raise ClaimReadError(f"BatchGetItem's Responses for {self.table} are not a list")
        found: dict[str, Mapping[str, Any]] = {}
        for item in listed:
            key = _claim(item)
            if key not in asked:
                raise ClaimReadError("BatchGetItem answered an item that names no claim asked for")
            found[key] = item
        for key in left:
            item = self.dynamodb.get_item(
                TableName=self.table, Key={"claim": {"S": key}}, ConsistentRead=True
            ).get("Item")
            if item:
                found[key] = item
        return found

    def holds(self, key: str, item: Mapping[str, Any] | None) -> bool:
        """Whether a watch holds the claim `key`, whose item was read as `item` (None: there
        is none). A claim whose watch has ended is deleted (on the condition that nobody
        re-claimed it meanwhile) and is no longer held."""
        if not item:
            return False
        holder = (item.get("execution_arn") or {}).get("S")
        if not isinstance(holder, str) or ":execution:" not in holder or self._watching(holder):
            return True  # a claim we cannot read is held: never two watchers
        try:
            self.dynamodb.delete_item(
                TableName=self.table,
                Key={"claim": {"S": key}},
                ConditionExpression="execution_arn = :holder",
                ExpressionAttributeValues={":holder": {"S": holder}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return True  # another watch claimed it in between
            raise
        return False

    def _watching(self, first: str) -> bool:
        """The watch runs, or ended with a verdict that holds: its first execution, or the
        last of its continuations (`<first>-g2`, `-g3`, ...), tells."""
        prefix, origin = first.rsplit(":", 1)
        last = self._execution(first)
        if last is None:
            return False  # no such execution (gone after 90 days): nothing holds it
        for generation in range(2, MAX_GENERATIONS):
            if last["status"] != "SUCCEEDED" or not _continued(last):
                break
            found = self._execution(f"{prefix}:{continuation_name(origin, generation)}")
            if found is None:
                return True  # it continued, but its next execution cannot be found: in doubt
            last = found
        else:
            return True
        if last["status"] == "RUNNING":
            return True
        if last["status"] != "SUCCEEDED":
            return False  # failed, timed out or aborted before a verdict: watch it again
        return _outcome(last) != "exempt"

    def _execution(self, arn: str) -> dict[str, Any] | None:
        try:
            return dict(self.sfn.describe_execution(executionArn=arn))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionDoesNotExist":
                return None
            raise


def _claim(item: object) -> str | None:
    """The claim key an item of the claims table holds (None when it holds none)."""
    key = item.get("claim") if isinstance(item, Mapping) else None
    value = key.get("S") if isinstance(key, Mapping) else None
    return value if isinstance(value, str) else None


def _keys(unprocessed: object, name: str) -> list[str]:
    """The claim keys BatchGetItem's UnprocessedKeys names for table `name` (the shape of
    RequestItems); ClaimReadError when that entry cannot be read."""
    table = unprocessed.get(name) if isinstance(unprocessed, Mapping) else None
    if table is None:
        return []
    keys = table.get("Keys") if isinstance(table, Mapping) else None
    named = [_claim(key) for key in keys] if isinstance(keys, list) else [None]
    if None in named:
        raise ClaimReadError(f"BatchGetItem's UnprocessedKeys for {name} cannot be read")
    return [key for key in named if key is not None]


def _output(execution: dict[str, Any]) -> dict[str, Any]:
    try:
        output = json.loads(execution.get("output") or "{}")
    except (TypeError, ValueError):
        return {}
    return output if isinstance(output, dict) else {}


def _continued(execution: dict[str, Any]) -> bool:
    """It ended handing over to a continuation (its output's watch says `continue`)."""
    watch = _output(execution).get("watch")
    return isinstance(watch, dict) and watch.get("continue") is True


def _outcome(execution: dict[str, Any]) -> str | None:
    verdict = _output(execution).get("verdict")
    return verdict.get("outcome") if isinstance(verdict, dict) else None
