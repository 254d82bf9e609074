"""A generated workload (N sessions over D days) through the whole system, timed.

The workload is seeded, so every machine runs the same one; the numbers in BENCHMARKS.md
come from here.
"""

from __future__ import annotations

import io
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from idle_reaper.times import to_iso
from local_runtime.emulators.glue import Activity, GlueSpec
from local_runtime.scenario import ResourceSpec, Scenario
from local_runtime.simulation import simulate

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
STOPPED_EVENT = Path(__file__).resolve().parent.parent / "events" / "reaper-stopped.json"


def _wall() -> float:
    """A monotonic clock the virtual clock (freezegun) does not freeze."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


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
                kind_spec=GlueSpec(workers=rng.choice([2, 5, 10]), statements=tuple(statements)),
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
    began = _wall()
    summary = simulate(scenario, out=io.StringIO(), progress=sys.stderr)["summary"]
    seconds = _wall() - began
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
            **_machine(),
        }
    }


def bench_notify(invocations: int) -> dict[str, Any]:
    """The notify handler's warm duration, in-process, against the loopback Slack sink and
    the emulated SNS topic, secret and idempotency table; each invocation is a new event,
    so each one really delivers to both channels."""
    from unittest import mock

    from botocore.client import BaseClient

    from local_runtime.runtime import running

    event = json.loads(STOPPED_EVENT.read_text())
    durations: list[float] = []
    emulated: list[float] = []
    api_call = getattr(BaseClient, "_make_api_call")  # noqa: B009 (private, so mypy cannot see it)

    def timed_api_call(client: Any, operation: str, params: Any) -> Any:
        began = _wall()
        try:
            return api_call(client, operation, params)
        finally:
            emulated[-1] += (_wall() - began) * 1000

    with running(START) as account, mock.patch.object(BaseClient, "_make_api_call", timed_api_call):
        for n in range(invocations + 1):
            event["id"] = str(uuid.uuid4())
            emulated.append(0.0)
            began = _wall()
            account.functions.invoke("NotifyFunction", event)
            durations.append((_wall() - began) * 1000)
            print(f"[bench-notify] {n + 1}/{invocations + 1}", end="\r", file=sys.stderr)
        delivered = sum(1 for r in account.slack.requests if r.delivered)
    print(file=sys.stderr)
    cold, warm = durations[0], sorted(durations[1:])
    own = sorted(d - e for d, e in zip(durations[1:], emulated[1:], strict=True))
    return {
        "bench_notify": {
            "invocations": invocations,
            "slack_delivered": delivered,
            "cold_ms": round(cold, 1),
            "warm_median_ms": round(statistics.median(warm), 1),
            "warm_p95_ms": round(warm[int(0.95 * (len(warm) - 1))], 1),
            "emulated_aws_median_ms": round(statistics.median(emulated[1:]), 1),
            "warm_median_without_emulated_aws_ms": round(statistics.median(own), 1),
            "target_median_ms": 20,
            **_machine(),
        }
    }


def _machine() -> dict[str, str]:
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}",
        "date": to_iso(datetime.now(UTC))[:10],
    }
