"""One `kept` event per keep, however many clicks race for it: a conditional write per
resource in the stack's idempotency table, `keep#<audit key>` -> the keep-until it holds.

The write succeeds when no keep is held, or the one held is more than DOUBLE_CLICK earlier
than this one (a later, real extension); two clicks handled at the same moment (a fast double
click, a replayed request) ask for keep-untils within a minute of each other, so the second
fails the condition and publishes nothing. ISO-8601 UTC times written alike
(`2026-03-02T10:27:00Z`) compare as strings in time order, which the condition relies on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from idle_reaper.exceptions import KeepError
from idle_reaper.times import to_iso

DOUBLE_CLICK = timedelta(minutes=5)
"""A keep within this of the one held is the same keep."""
KEPT_FOR = timedelta(days=1)
"""How long past its keep-until a claim is kept (DynamoDB's TTL deletes it after)."""


def claim_key(audit_key: str) -> str:
    return f"keep#{audit_key}"


def claim(dynamodb: Any, table: str, audit_key: str, until: datetime) -> bool:
    """Hold `until` as this resource's keep; False only when the same keep (within
    DOUBLE_CLICK) is already held: a later one held (its tag since shortened or removed by
    hand) does not swallow this one's record. KeepError when DynamoDB cannot be asked."""
    try:
        dynamodb.update_item(
            TableName=table,
            Key={"id": {"S": claim_key(audit_key)}},
            UpdateExpression="SET kept_until = :until, expiration = :expires",
            ConditionExpression=(
                "attribute_not_exists(id) OR kept_until < :floor OR kept_until > :ceiling"
            ),
            ExpressionAttributeValues={
                ":until": {"S": to_iso(until)},
                ":floor": {"S": to_iso(until - DOUBLE_CLICK)},
                ":ceiling": {"S": to_iso(until + DOUBLE_CLICK)},
                ":expires": {"N": str(int((until + KEPT_FOR).timestamp()))},
            },
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise KeepError(f"claiming the keep: {exc}") from exc
    except BotoCoreError as exc:
        raise KeepError(f"claiming the keep: {exc}") from exc
    return True


__all__ = ["DOUBLE_CLICK", "claim", "claim_key"]
