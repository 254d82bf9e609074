"""Whether a running watch holds a resource's claim: the sweeper starts a watcher only for a
resource no running watch holds.

A claim outlives its watch (it expires after CLAIM_DAYS): a watch that ended `exempt` or
`failed` while its resource runs on leaves it behind. The sweeper frees such a claim when the
watch that wrote it, and every continuation of that watch, has ended, so the resource can be
watched again (its exemption removed, the outage over).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from idle_reaper.watch import continuation_name

MAX_GENERATIONS = 1000
"""Continuations followed at most (each holds about 10,000 history events): past it, when in
doubt, the claim counts as held."""


@dataclass(frozen=True)
class Claims:
    """The claims table, and Step Functions to ask whether a claim's watch still runs."""

    dynamodb: Any
    table: str
    sfn: Any

    def held(self, key: str) -> bool:
        """True while a watch holds the claim; a claim whose watch has ended is deleted (on
        the condition that nobody re-claimed it meanwhile) and is no longer held."""
        item = self.dynamodb.get_item(
            TableName=self.table, Key={"claim": {"S": key}}, ConsistentRead=True
        ).get("Item")
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
        """The watch runs in its first execution or in a continuation of it."""
        prefix, origin = first.rsplit(":", 1)
        for generation in range(MAX_GENERATIONS):
            arn = first if generation == 0 else f"{prefix}:{continuation_name(origin, generation)}"
            try:
                status = self.sfn.describe_execution(executionArn=arn)["status"]
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ExecutionDoesNotExist":
                    return False  # no further continuation: every execution has ended
                raise
            if status == "RUNNING":
                return True
        return True
