"""A generated workload (N sessions over D days) through the whole system, timed.

The workload is seeded, so every machine runs the same one; the numbers in BENCHMARKS.md
come from here.
"""

from __future__ import annotations

import io
import os
import platform
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from idle_reaper.times import to_iso
from local_runtime.scenario import Activity, ResourceSpec, Scenario
from local_runtime.simulation import simulate

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def workload(sessions: int, days: float, seed: int) -> Scenario:
    """Sessions start through the period; most run a few statements, some are exempt,
    some are stopped by their users, the rest are left to idle."""
    rng = random.Random(seed)
    span = timedelta(days=days)
    specs = []
    for n in range(sessions):
        at = timedelta(seconds=rng.uniform(0, span.total_seconds() * 0.9))
        statements, cursor = [], at + timedelta(minutes=rng.uniform(1, 10))
        for _ in range(rng.choice([0, 1, 2, 3, 4])):
            runs = timedelta(minutes=rng.choice([1, 2, 5, 10, 20, 45]))
            statements.append(Activity(at=cursor, runs=runs))
            cursor += runs + timedelta(minutes=rng.uniform(1, 40))
        roll = rng.random()
        specs.append(
            ResourceSpec(
                kind="glue-session",
                id=f"s{n:05d}",
                at=at,
                tags={"idle-reaper:exempt": "true"} if roll < 0.1 else {},
                workers=rng.choice([2, 5, 10]),
                statements=tuple(statements),
                stop_by_user=cursor + timedelta(minutes=5) if 0.1 <= roll < 0.3 else None,
            )
        )
    return Scenario(
        name=f"bench {sessions} sessions, {days:g} days",
        start=START,
        until=span,
        resources=tuple(specs),
    )


def bench(sessions: int, days: float, seed: int) -> dict[str, Any]:
    scenario = workload(sessions, days, seed)
    began = time.perf_counter()
    summary = simulate(scenario, out=io.StringIO(), progress=sys.stderr)["summary"]
    seconds = time.perf_counter() - began
    totals = summary["totals"]
    outcomes: dict[str, int] = {}
    for res in summary["resources"]:
        outcomes[res["outcome"]] = outcomes.get(res["outcome"], 0) + 1
    return {
        "bench": {
            "workload": scenario.name,
            "seed": seed,
            "wall_seconds": round(seconds, 1),
            "virtual_days_per_wall_minute": round(days / (seconds / 60), 2),
            "sessions": sessions,
            "executions": totals["executions"],
            "state_transitions": totals["state_transitions"],
            "outcomes": outcomes,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores,"
            f" Python {platform.python_version()}",
            "date": to_iso(datetime.now(UTC))[:10],
        }
    }
