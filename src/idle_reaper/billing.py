"""What a resource costs: billed per second with a one-minute minimum (Glue, SageMaker, EC2).

One place for the arithmetic, so the verdict, the simulator's summary and (later) the
audit trail all agree to the cent.
"""

from __future__ import annotations

from datetime import datetime

MINIMUM_BILLED_SECONDS = 60


def billed_cost(cost_per_hour: float, start: datetime, end: datetime) -> float:
    """Cost in USD of running from start to end, unrounded."""
    seconds = max((end - start).total_seconds(), MINIMUM_BILLED_SECONDS)
    return cost_per_hour * seconds / 3600


def idle_cost(cost_per_hour: float, idle_from: datetime | None, end: datetime) -> float:
    """Cost in USD of the time billed after the last activity (no minimum: it is a slice)."""
    if idle_from is None or end <= idle_from:
        return 0.0
    return cost_per_hour * (end - idle_from).total_seconds() / 3600


def usd(amount: float) -> float:
    """Round to cents for display and reports."""
    return round(amount + 1e-9, 2)
