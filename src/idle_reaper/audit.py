"""The audit trail: one record per reaper event, keyed for the two questions people ask.

Access patterns (no scan for either):
- "What happened to this session?"  Query the table on `pk` = `<kind>#<account>#<region>#<id>`,
  sorted by `sk` = `<at>#<event id>` (time order).
- "What happened in this account this week?"  Query the `ByAccountWeek` index on
  `week` = `<account>#<ISO year>-W<ISO week>`, sorted by the same `sk`; a date range is a
  `sk` BETWEEN on each week it touches.

The record is written with a condition that its key does not exist yet, so a redelivered
event (same event id, same `at`) writes nothing new and emits no metric twice. The event is
read by ReaperEvent.parse, as the notify function reads it: an event without an id is keyed
by its content, one that failed before its first verdict is keyed by the resource its start
event names, and one that cannot be read at all raises AuditRecordError (a
MalformedEventError), so it is dead-lettered by both functions alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from idle_reaper.exceptions import AuditRecordError, MalformedEventError
from idle_reaper.reaper_event import (
    ReaperEvent,
    failure_of,
    number_of,
    require_subject,
    text_of,
)
from idle_reaper.times import parse_iso, to_iso

STOPS = ("stopped", "guardrail")
"""The event types of a stop by the reaper: idle, or at once for a guardrail."""

WEEK_INDEX = "ByAccountWeek"
DEFAULT_RETENTION_DAYS = 400
"""Thirteen months: enough to compare a month with the same month a year before."""


@dataclass(frozen=True)
class AuditRecord:
    pk: str
    sk: str
    week: str
    event_id: str
    type: str
    at: str
    kind: str
    resource_id: str
    account: str
    region: str
    owner: str
    reason: str | None = None
    execution_arn: str | None = None
    idle_since: str | None = None
    deadline: str | None = None
    allowed_idle_minutes: int | None = None
    cost_usd: float | None = None
    savings_usd: float | None = None
    """Only on `stopped`: what the stop saved (savings.py)."""
    potential_savings_usd: float | None = None
    """Only on `would-stop` (dry run): what a stop would have saved."""
    idle_minutes_reclaimed: float | None = None
    error: str | None = None
    notes: str | None = None
    """What was damaged in the event and how it was read (ReaperEvent.notes)."""
    kept_until: str | None = None
    """Only on `kept`: the keep-until a Slack click set."""
    kept_by: str | None = None
    """Only on `kept`: who clicked (their Slack profile's email, or `slack:<user id>`)."""
    kept_from: str | None = None
    """Only on `kept`: where the click came from (`slack:<team>/<channel>`)."""
    expires_at: int | None = None
    """Epoch seconds; DynamoDB's TTL deletes the record after it."""

    def to_item(self) -> dict[str, Any]:
        """The DynamoDB item (typed attribute values), without empty attributes."""
        return {k: _typed(v) for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> AuditRecord:
        fields = cls.__dataclass_fields__
        return cls(**{k: _untyped(v) for k, v in item.items() if k in fields})


def pk_of(kind: str, account: str, region: str, resource_id: str) -> str:
    """The partition key of one resource's records."""
    return f"{kind}#{account}#{region}#{resource_id}"


def week_of(account: str, at: datetime) -> str:
    year, week, _ = at.isocalendar()
    return f"{account}#{year}-W{week:02d}"


def weeks_between(account: str, start: datetime, end: datetime) -> Iterator[str]:
    """Every `week` partition a time range touches, oldest first."""
    monday = (start - timedelta(days=start.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    while monday <= end:
        yield week_of(account, monday)
        monday += timedelta(days=7)


def record_for(event: Mapping[str, Any], retention_days: int) -> AuditRecord:
    """The audit record of one watcher event (an EventBridge envelope from `idle-reaper`)."""
    try:
        parsed = require_subject(ReaperEvent.parse(event))
    except MalformedEventError as exc:
        raise AuditRecordError(str(exc)) from exc
    resource, verdict, error = parsed.resource, parsed.verdict, parsed.error
    try:
        at = parse_iso(parsed.at or parsed.time or "")
        expires_at = int((at + timedelta(days=retention_days)).timestamp())
    except (ValueError, OverflowError) as exc:  # 9999-12-31 plus the retention overflows
        raise AuditRecordError(f"event {parsed.id}: no usable time ({exc})") from exc
    account = text_of(resource.get("account")) or parsed.account or "unknown"
    region = text_of(resource.get("region")) or parsed.region or "unknown"
    kind = text_of(resource.get("kind")) or "unknown"
    resource_id = text_of(resource.get("id")) or "unknown"
    detail_type = parsed.detail_type
    saved = _amount(verdict.get("savings_usd"))
    keep = parsed.keep if detail_type == "kept" else {}
    kept_until, kept_by = text_of(keep.get("until")), text_of(keep.get("by"))
    kept_from = text_of(keep.get("from"))
    reason = text_of(verdict.get("reason"))
    if detail_type == "kept" and reason is None:
        reason = f"kept until {kept_until} by {kept_by} from {kept_from}"[:1000]
    return AuditRecord(
        pk=pk_of(kind, account, region, resource_id),
        sk=f"{to_iso(at)}#{parsed.id}",
        week=week_of(account, at),
        event_id=parsed.id,
        type=detail_type,
        at=to_iso(at),
        kind=kind,
        resource_id=resource_id,
        account=account,
        region=region,
        owner=text_of(resource.get("owner")) or text_of(resource.get("principal")) or "unknown",
        reason=reason,
        execution_arn=parsed.execution_arn,
        idle_since=text_of(verdict.get("idle_since")),
        deadline=text_of(verdict.get("deadline")),
        allowed_idle_minutes=_whole(verdict.get("idle_minutes")),
        cost_usd=_amount(verdict.get("cost_usd")),
        savings_usd=saved if detail_type in STOPS else None,
        potential_savings_usd=saved if detail_type == "would-stop" else None,
        idle_minutes_reclaimed=_amount(verdict.get("idle_minutes_reclaimed"))
        if detail_type in STOPS
        else None,
        error=": ".join(failure_of(error))[:1000] if error else None,
        notes="; ".join(parsed.notes)[:1000] or None,
        kept_until=kept_until[:40] if kept_until else None,
        kept_by=kept_by[:256] if kept_by else None,
        kept_from=kept_from[:200] if kept_from else None,
        expires_at=expires_at,
    )


def metrics_for(record: AuditRecord) -> list[tuple[str, str, float]]:
    """(name, unit, value) for the metrics one record adds; the kind is their dimension."""
    if record.type in STOPS:
        breach = [("GuardrailBreaches", "Count", 1.0)] if record.type == "guardrail" else []
        return [
            *breach,
            ("ResourcesStopped", "Count", 1),
            ("IdleMinutesReclaimed", "Count", record.idle_minutes_reclaimed or 0),
            ("EstimatedSavingsUSD", "None", record.savings_usd or 0),
        ]
    counted: dict[str, list[tuple[str, str, float]]] = {
        "warning": [("Warnings", "Count", 1)],
        "failed": [("StopFailures", "Count", 1)],
        "would-stop": [("WouldStop", "Count", 1)],
        "guardrail-notice": [("GuardrailBreaches", "Count", 1)],
        "kept": [("Keeps", "Count", 1)],
    }
    return counted.get(record.type, [])


WARNING_LOOKBACK_PAGES = 5
"""Pages of one resource's records read, newest first, for its last warning: a resource has a
handful of records (warnings, a keep, its end), so five pages are more than any has."""


def latest_warning(dynamodb: Any, table: str, pk: str) -> AuditRecord | None:
    """The newest `warning` on record for one resource (one Query on its partition, newest
    first); None when it was never warned."""
    token: dict[str, Any] | None = None
    for _ in range(WARNING_LOOKBACK_PAGES):
        page = dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ScanIndexForward=False,
            **({"ExclusiveStartKey": token} if token else {}),
        )
        for item in page.get("Items", []):
            if item.get("type", {}).get("S") == "warning":
                return AuditRecord.from_item(item)
        token = page.get("LastEvaluatedKey")
        if not token:
            return None
    return None


def _amount(value: object) -> float | None:
    number = number_of(value)
    return None if number is None else float(number)


def _whole(value: object) -> int | None:
    number = number_of(value)
    return int(number) if number is not None and number == int(number) else None


def _typed(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(Decimal(str(value)))}
    return {"S": str(value)}


def _untyped(value: Mapping[str, Any]) -> Any:
    if "N" in value:
        number = Decimal(value["N"])
        return int(number) if number == number.to_integral_value() else float(number)
    if "BOOL" in value:
        return bool(value["BOOL"])
    return value.get("S")
