"""What a stopping strategy did to each session of the benchmark, judged from the emulator's
billing record (when the session started and stopped billing, who ended it, when each
statement ran) and never from what the strategy says about itself.

For one session, with `last` its last activity before billing ended (the latest StartedOn or
CompletedOn, else its creation; a statement the stop cancelled counts by its start only) and
`deadline = last + allowance`:

- billed: the per-second bill (one-minute minimum, billing.py) from creation to its end, or
  to the end of the run if it still bills.
- idle: billed after `last`, unless work was still running when billing ended (then none);
  idle past the allowance: billed after `deadline`.
- a false stop: the strategy stopped it (StopSession) while a statement ran, or before
  `deadline` ("inside the allowance"). Times are compared at Glue's resolution: StartedOn
  and CompletedOn are epoch milliseconds.
- stop latency: how long after `deadline` billing ended, for every session that was still
  billing, idle, at its deadline and then ended by the strategy or by Glue's own IdleTimeout
  (a false stop has none; neither has a session its user stopped first, nor one whose own
  shorter IdleTimeout ended it before the deadline). One still billing when the run ends is
  counted apart, never given a made-up latency.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from idle_reaper.billing import billed_cost, idle_cost

STRATEGY_STOP = "reaper"
"""The emulator's `ended_by` for a StopSession over the API: whichever strategy made it."""


@dataclass(frozen=True)
class StatementRecord:
    started_at: datetime | None
    completed_at: datetime | None
    killed: bool = False
    """In flight when the session was stopped: the stop cancelled it."""


@dataclass(frozen=True)
class SessionRecord:
    id: str
    archetype: str
    created_at: datetime
    cost_per_hour: float
    ended_at: datetime | None
    ended_by: str | None
    """`reaper` (a StopSession: the strategy's), `user`, `timeout` (Glue's IdleTimeout)."""
    statements: tuple[StatementRecord, ...]
    planned_statements: int


@dataclass(frozen=True)
class SessionOutcome:
    billed_usd: float
    idle_usd: float
    idle_past_allowance_usd: float
    stopped: bool
    """Stopped by the strategy."""
    busy_stop: bool
    early_stop: bool
    latency_seconds: float | None
    still_billing_past_deadline: bool
    refused_statements: int

    @property
    def false_stop(self) -> bool:
        return self.busy_stop or self.early_stop


def record_of(life: Any, archetype: str, planned: int) -> SessionRecord:
    """A SessionRecord from the Glue emulator's SessionLife (its statements included)."""
    statements = tuple(
        StatementRecord(
            started_at=s.started_at,
            completed_at=s.completed_at,
            killed=life.ended_at is not None
            and life.ended_by is not None
            and s.state == "CANCELLED"
            and s.completed_at == life.ended_at,
        )
        for s in life.statements
    )
    return SessionRecord(
        id=life.id,
        archetype=archetype,
        created_at=life.created_at,
        cost_per_hour=float(life.cost_per_hour),
        ended_at=life.ended_at,
        ended_by=life.ended_by,
        statements=statements,
        planned_statements=planned,
    )


def outcome(record: SessionRecord, allowance: timedelta, run_end: datetime) -> SessionOutcome:
    """The session's figures under the module's definitions."""
    end = min(record.ended_at or run_end, run_end)
    ended = record.ended_at is not None and record.ended_at <= run_end
    last = _last_activity(record)
    working_at_end = any(s.killed for s in record.statements) or (
        not ended and any(s.completed_at is None for s in record.statements)
    )
    deadline = last + allowance
    price = record.cost_per_hour
    stopped = ended and record.ended_by == STRATEGY_STOP
    busy_stop = stopped and any(s.killed for s in record.statements)
    early_stop = stopped and not busy_stop and _ms(end) < _ms(deadline)
    latency: float | None = None
    if (
        ended
        and not busy_stop
        and not early_stop
        and record.ended_by in (STRATEGY_STOP, "timeout")
        and end >= deadline
    ):
        latency = (end - deadline).total_seconds()
    return SessionOutcome(
        billed_usd=billed_cost(price, record.created_at, end),
        idle_usd=0.0 if working_at_end else idle_cost(price, last, end),
        idle_past_allowance_usd=0.0 if working_at_end else idle_cost(price, deadline, end),
        stopped=stopped,
        busy_stop=busy_stop,
        early_stop=early_stop,
        latency_seconds=latency,
        still_billing_past_deadline=not ended and not working_at_end and end > deadline,
        refused_statements=max(0, record.planned_statements - len(record.statements)),
    )


def _last_activity(record: SessionRecord) -> datetime:
    moments = [record.created_at]
    for s in record.statements:
        if s.started_at is not None:
            moments.append(s.started_at)
        if s.completed_at is not None and not s.killed:
            moments.append(s.completed_at)
    return max(moments)


def _ms(moment: datetime) -> int:
    """Epoch milliseconds, truncated: the resolution Glue reports statement times in."""
    return math.floor(moment.timestamp() * 1000)


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (`share` 0.99 for p99): a value that occurred, never an
    interpolation; None for no values."""
    if not values:
        return None
    if not 0 < share <= 1:
        raise ValueError(f"a percentile's share is in (0, 1], not {share}")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def totals(outcomes: Iterable[SessionOutcome]) -> dict[str, Any]:
    """Sums and latency statistics over the sessions (money unrounded; round to show)."""
    items = list(outcomes)
    latencies = [o.latency_seconds for o in items if o.latency_seconds is not None]
    return {
        "sessions": len(items),
        "billed_usd": sum(o.billed_usd for o in items),
        "idle_usd": sum(o.idle_usd for o in items),
        "idle_past_allowance_usd": sum(o.idle_past_allowance_usd for o in items),
        "stopped": sum(o.stopped for o in items),
        "false_stops": sum(o.false_stop for o in items),
        "busy_stops": sum(o.busy_stop for o in items),
        "early_stops": sum(o.early_stop for o in items),
        "refused_statements": sum(o.refused_statements for o in items),
        "latency_count": len(latencies),
        "latency_median_seconds": statistics.median(latencies) if latencies else None,
        "latency_p99_seconds": percentile(latencies, 0.99),
        "still_billing_past_deadline": sum(o.still_billing_past_deadline for o in items),
    }
