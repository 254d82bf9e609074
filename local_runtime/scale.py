"""`make bench-scale`: many Glue sessions start within one virtual minute; does every one get
exactly one watcher and exactly one outcome, and how close do the watchers come to Step
Functions' Standard-workflow quotas?

    python -m local_runtime.scale [--sessions 1000] [--seed 7]

The sessions are forgotten tabs (created, never used) owned by different people, each created
at a random millisecond of the same minute, so every watcher also warns and stops within one
minute, 25 and 30 minutes later: three bursts of the same size. The real template runs with
its defaults (its sweeper every 15 minutes included, which must start nothing here).

Rates are counted per second of virtual time. The runtime does not advance its clock while
executions run, so every state an execution enters at one moment carries the same timestamp:
a per-second count here is an upper bound of what AWS would see in that second.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TextIO

from local_runtime.emulators.glue import GlueSpec
from local_runtime.errors import LocalRuntimeError
from local_runtime.glue_week import START
from local_runtime.runtime import Account
from local_runtime.scenario import ResourceSpec, Scenario
from local_runtime.simulation import simulate
from local_runtime.stack import ACCOUNT

WINDOW = timedelta(minutes=1)
SPAN = timedelta(hours=2)
"""Long enough for every watcher to warn (25 minutes in), stop (30) and end."""
OUTCOMES = frozenset({"stopped", "would-stop", "exempt", "gone", "failed"})
MAX_SESSIONS = 20_000


@dataclass(frozen=True)
class TokenBucket:
    """A Step Functions throttling quota: `size` tokens, refilled at `refill` per second."""

    name: str
    size: int
    refill: float
    source: str


# Quotas for Standard workflows in US East (N. Virginia), US West (Oregon) and Europe
# (Ireland), as the Step Functions developer guide's quota tables give them (its GitHub source,
# awsdocs/aws-step-functions-developer-guide, doc_source/limits.md at commit 7af80d04: "Limits
# Related to API Action Throttling" and "Limits Related to State Throttling"). The current page
# is https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html, which adds that
# AWS may raise these at any time and that new accounts start with reduced state-transition
# quotas: check the account's own in the Service Quotas console.
START_EXECUTION = TokenBucket(
    "StartExecution",
    1300,
    300.0,
    "Step Functions developer guide, quotas, API action throttling: StartExecution bucket"
    " 1,300, refill 300 per second (us-east-1, us-west-2, eu-west-1)",
)
STATE_TRANSITION = TokenBucket(
    "StateTransition",
    5000,
    1500.0,
    "Step Functions developer guide, quotas, state throttling: StateTransition bucket 5,000,"
    " refill 1,500 per second (us-east-1, us-west-2, eu-west-1)",
)
MAX_OPEN_EXECUTIONS = 1_000_000
"""Open executions per account and Region (same guide, "Maximum open executions"; beyond it
StartExecution fails with ExecutionLimitExceeded)."""


def burst(sessions: int, seed: int) -> Scenario:
    """`sessions` forgotten sessions, each created at a random millisecond of one minute."""
    rng = random.Random(seed)
    specs = tuple(
        ResourceSpec(
            kind="glue-session",
            id=f"b{n:05d}",
            at=timedelta(milliseconds=rng.randrange(int(WINDOW.total_seconds() * 1000))),
            by=f"arn:aws:sts::{ACCOUNT}:assumed-role/DataEngineer/person{n:05d}",
            kind_spec=GlueSpec(workers=rng.choice((2, 5, 10))),
        )
        for n in range(sessions)
    )
    return Scenario(
        name=f"scale: {sessions} sessions started within {WINDOW.seconds} s, seed {seed}",
        start=START,
        until=SPAN,
        resources=specs,
    )


def throttled(moments: Iterable[datetime], bucket: TokenBucket) -> tuple[int, float]:
    """Replay requests at `moments` through a full token bucket: how many it would throttle,
    and the fewest tokens ever left (negative: in debt by that many)."""
    tokens, last, fewest, refused = float(bucket.size), None, float(bucket.size), 0
    for moment in sorted(moments):
        if last is not None:
            tokens = min(bucket.size, tokens + (moment - last).total_seconds() * bucket.refill)
        last = moment
        if tokens >= 1:
            tokens -= 1
        else:
            refused += 1
        fewest = min(fewest, tokens)
    return refused, fewest


def peak_per_second(moments: Iterable[datetime]) -> int:
    """The most events in any one whole second."""
    counts = Counter(m.replace(microsecond=0) for m in moments)
    return max(counts.values(), default=0)


def peak_concurrency(intervals: Sequence[tuple[datetime, datetime]]) -> tuple[int, datetime | None]:
    """The most intervals open at once (an interval ending when another starts is closed
    first), and when that was first reached."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    open_now, peak, when = 0, 0, None
    for moment, step in edges:
        open_now += step
        if open_now > peak:
            peak, when = open_now, moment
    return peak, when


def run(sessions: int, seed: int, progress: TextIO | None = sys.stderr) -> dict[str, Any]:
    scenario = burst(sessions, seed)
    seen: dict[str, Any] = {}

    def take(account: Account) -> None:
        sfn = account.clients["stepfunctions"]
        executions: list[dict[str, Any]] = []
        for logical in account.stack.of_type("AWS::StepFunctions::StateMachine"):
            pages = sfn.get_paginator("list_executions").paginate(
                stateMachineArn=account.stack.ref(logical)
            )
            executions += [e for page in pages for e in page["executions"]]
        if progress:
            progress.write(f"[scale] reading {len(executions)} execution histories\n")
        entered: list[datetime] = []
        for execution in executions:
            entered += [
                e["timestamp"]
                for e in account.history(execution["executionArn"])
                if str(e["type"]).endswith("StateEntered")
            ]
        outcomes = Counter(
            p.resource_id for p in account.bus.published if p.detail_type in OUTCOMES
        )
        seen.update(
            executions=executions,
            entered=entered,
            outcomes=outcomes,
            end=account.clock.now(),
            sweeps=sum(1 for i in account.functions.invocations if i.function == "SweepFunction"),
        )

    began = time.clock_gettime(time.CLOCK_MONOTONIC)
    summary = simulate(scenario, out=io.StringIO(), progress=progress, inspect=take)["summary"]
    seconds = time.clock_gettime(time.CLOCK_MONOTONIC) - began
    per_resource = {r["id"]: r for r in summary["resources"]}
    executions_each = Counter(r["executions"] for r in per_resource.values())
    outcomes_each = Counter(seen["outcomes"].get(r, 0) for r in per_resource)
    starts = [e["startDate"] for e in seen["executions"]]
    intervals = [(e["startDate"], e.get("stopDate") or seen["end"]) for e in seen["executions"]]
    peak, peak_at = peak_concurrency(intervals)
    start_refused, start_fewest = throttled(starts, START_EXECUTION)
    state_refused, state_fewest = throttled(seen["entered"], STATE_TRANSITION)
    return {
        "bench_scale": {
            "workload": scenario.name,
            "sessions": sessions,
            "wall_seconds": round(seconds, 1),
            "executions": len(seen["executions"]),
            "sessions_by_watchers": {str(k): v for k, v in sorted(executions_each.items())},
            "sessions_by_outcome_events": {str(k): v for k, v in sorted(outcomes_each.items())},
            "outcomes": dict(Counter(r["outcome"] for r in per_resource.values())),
            "warnings": summary["totals"]["warnings"],
            "sweeps": seen["sweeps"],
            "peak_concurrent_watchers": peak,
            "peak_reached_after_seconds": (
                round((peak_at - scenario.start).total_seconds(), 3) if peak_at else None
            ),
            "state_transitions": len(seen["entered"]),
            "start_execution": {
                "peak_per_second": peak_per_second(starts),
                "over_the_minute": len(starts),
                "quota": _quota(START_EXECUTION),
                "throttled_by_quota": start_refused,
                "fewest_tokens_left": round(start_fewest, 1),
            },
            "state_transition": {
                "peak_per_second": peak_per_second(seen["entered"]),
                "quota": _quota(STATE_TRANSITION),
                "throttled_by_quota": state_refused,
                "fewest_tokens_left": round(state_fewest, 1),
            },
            "max_open_executions": MAX_OPEN_EXECUTIONS,
        }
    }


def _quota(bucket: TokenBucket) -> dict[str, Any]:
    return {"bucket": bucket.size, "refill_per_second": bucket.refill, "source": bucket.source}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_runtime.scale", description=__doc__)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if not 1 <= args.sessions <= MAX_SESSIONS:
        print(f"error: --sessions: {args.sessions} is outside 1 to {MAX_SESSIONS}", file=sys.stderr)
        return 2
    try:
        report = run(args.sessions, args.seed)
    except LocalRuntimeError as exc:
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    from local_runtime.comparison import machine

    report["bench_scale"].update(machine())
    print(json.dumps(report, separators=(", ", ": "), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
