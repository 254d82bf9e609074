"""ISO-8601 UTC times as the watcher carries them.

Step Functions' Wait state takes whole-second timestamps ending in Z, so that is the one
format we emit; we round up so a watcher never wakes before the moment it waits for.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_ISO_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", re.ASCII)
"""ASCII digits only: `\\d` alone also takes full-width digits, which strptime reads."""


def now_utc() -> datetime:
    """The current time, timezone-aware (freezegun and the local runtime's clock move it)."""
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    """Format as `YYYY-MM-DDTHH:MM:SSZ`, rounding any fraction of a second up."""
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """Parse an ISO-8601 timestamp; a naive one is taken as UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def from_epoch(value: float | int | datetime) -> datetime:
    """A Glue `long` timestamp: epoch milliseconds from the service, seconds from some tools.

    Values above 10^11 cannot be seconds (that is the year 5138), so they are milliseconds.
    """
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    seconds = value / 1000 if value > 1e11 else value
    return datetime.fromtimestamp(seconds, UTC)


MAX_EPOCH_MS = 10**14
"""Epoch milliseconds up to the year 5138: a larger or stranger number is no time at all."""


def moment_of(value: object) -> datetime | None:
    """A time from an untrusted field: a datetime boto3 parsed (naive ones are UTC), or epoch
    seconds or milliseconds; a bool, a string, zero or a huge number is no time (None)."""
    if isinstance(value, datetime):
        return from_epoch(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < MAX_EPOCH_MS:
        return from_epoch(value)
    return None


def from_iso_second(value: object) -> datetime | None:
    """A time exactly as to_iso writes it (`YYYY-MM-DDThh:mm:ssZ`), else None: for values from
    tags and carried state, which anyone may have written."""
    if not isinstance(value, str) or _ISO_SECOND.fullmatch(value) is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:  # 2026-02-30T25:00:00Z
        return None


def minutes_between(start: datetime, end: datetime) -> float:
    """Whole-and-fractional minutes from start to end, never negative."""
    return max(0.0, (end - start).total_seconds() / 60)


def ceil_seconds(moment: datetime) -> datetime:
    """Round up to the next whole second (the Wait state's precision)."""
    if moment.microsecond:
        return moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment


__all__ = [
    "ceil_seconds",
    "from_epoch",
    "from_iso_second",
    "minutes_between",
    "now_utc",
    "parse_iso",
    "to_iso",
]
