"""What a stop saved: the one savings model behind the audit record, the metrics, the
notifications and the simulator's summary.

    would_have_ended = idle_since + own_idle_timeout      (Glue's IdleTimeout; 2880 min unset)
    saved            = billed(start, would_have_ended) - billed(start, stopped_at)
    reclaimed        = would_have_ended - stopped_at       (idle minutes not billed)

Both billed amounts use the same per-second, one-minute-minimum arithmetic (billing.py). A
stop after the resource's own timeout would have ended it saves nothing, never less.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from idle_reaper.billing import billed_cost, usd

DEFAULT_OWN_IDLE_TIMEOUT_MINUTES = 2880
"""Glue's IdleTimeout when a session sets none; the fallback for a kind that reports none."""


@dataclass(frozen=True)
class Savings:
    usd: float
    """Rounded to the cent, so every sum of savings agrees with every other."""
    idle_minutes_reclaimed: float
    would_have_ended_at: datetime


def savings(
    cost_per_hour: float,
    started_at: datetime,
    stopped_at: datetime,
    idle_since: datetime,
    own_idle_timeout_minutes: int,
) -> Savings:
    """What stopping at `stopped_at` saved against leaving the resource to its own timeout."""
    would_end = idle_since + timedelta(minutes=own_idle_timeout_minutes)
    if would_end <= stopped_at:
        return Savings(0.0, 0.0, would_end)
    saved = billed_cost(cost_per_hour, started_at, would_end) - billed_cost(
        cost_per_hour, started_at, stopped_at
    )
    reclaimed = round((would_end - stopped_at).total_seconds() / 60, 1)
    return Savings(usd(saved), reclaimed, would_end)
