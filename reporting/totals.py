"""Adding records up: stops, warnings, keeps and savings per owner, kind or day."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from idle_reaper.audit import STOPS, AuditRecord
from idle_reaper.billing import usd

GROUPINGS: dict[str, Callable[[AuditRecord], str]] = {
    "owner": lambda r: r.owner,
    "kind": lambda r: r.kind,
    "day": lambda r: r.at[:10],
}


@dataclass
class Row:
    key: str
    stopped: int = 0
    warnings: int = 0
    kept: int = 0
    """Keeps from Slack (`kept` events): the owner, or an admin, postponed a stop."""
    would_stop: int = 0
    failed: int = 0
    idle_minutes_reclaimed: float = 0.0
    savings_usd: float = 0.0
    potential_savings_usd: float = 0.0
    """What dry-run stops would have saved."""

    def add(self, record: AuditRecord) -> None:
        self.stopped += record.type in STOPS
        self.warnings += record.type == "warning"
        self.kept += record.type == "kept"
        self.would_stop += record.type == "would-stop"
        self.failed += record.type == "failed"
        self.idle_minutes_reclaimed += record.idle_minutes_reclaimed or 0
        self.savings_usd += record.savings_usd or 0
        self.potential_savings_usd += record.potential_savings_usd or 0

    def to_dict(self) -> dict[str, Any]:
        """Rounded as people read money: to the cent, as the simulator's summary does."""
        row = asdict(self)
        row["idle_minutes_reclaimed"] = round(self.idle_minutes_reclaimed, 1)
        row["savings_usd"] = usd(self.savings_usd)
        row["potential_savings_usd"] = usd(self.potential_savings_usd)
        return row


def grouped(records: Iterable[AuditRecord], by: str) -> list[Row]:
    key_of = GROUPINGS[by]
    rows: dict[str, Row] = {}
    for record in records:
        key = key_of(record)
        rows.setdefault(key, Row(key)).add(record)
    return [rows[k] for k in sorted(rows)]


def total(records: Iterable[AuditRecord]) -> Row:
    row = Row("total")
    for record in records:
        row.add(record)
    return row


def daily_savings(records: Iterable[AuditRecord]) -> dict[str, float]:
    """USD saved per day (YYYY-MM-DD), for the chart."""
    return {row.key: usd(row.savings_usd) for row in grouped(records, "day")}
