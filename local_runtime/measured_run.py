"""One run of the benchmark week, timed and fingerprinted, so two trees can be compared.

`side_by_side.py` runs this file's source in a git worktree of another commit, so it imports
only what every tree since 2026-11-24 has (`local_runtime.simulation.simulate`, the Glue
emulator's specs, `Scenario`) and carries its own copy of the workload: the generator of
`bench.workload` as of commit 709968c, the 1,000-session week of BENCHMARKS.md. A later change
to `make bench`'s workload cannot change what is compared.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
_RANDOM_SUFFIX = re.compile(r"(slack-webhook)-[A-Za-z0-9]{6}\b")
"""The one random name in a run's output: Secrets Manager's suffix on the webhook secret."""


def workload(sessions: int, days: float, seed: int) -> Any:
    """Sessions start through the period; most run a few statements, 10% are exempt, 20%
    are stopped by their users, the rest are left to idle (bench.workload of 709968c)."""
    from local_runtime.emulators.glue import Activity, GlueSpec
    from local_runtime.scenario import ResourceSpec, Scenario

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


def unrandomized(text: str) -> str:
    """A run's output with its one random name (the secret's suffix) made constant."""
    return _RANDOM_SUFFIX.sub(r"\1-RANDOM", text)


def fingerprint(text: str) -> str:
    """SHA-256 of a run's output with its one random name made constant."""
    return hashlib.sha256(unrandomized(text).encode()).hexdigest()


def _cpu_seconds() -> float:
    """User and system CPU of this process, every thread (the virtual clock freezes
    neither this nor CLOCK_MONOTONIC)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(sessions: int, days: float, seed: int, keep: Path | None = None) -> dict[str, Any]:
    """Run the week; its wall and CPU time, its counts, and fingerprints of everything it
    reported: the summary (every resource's outcome, times, costs, transitions, every
    notification) and the timeline (every event of the run, in order)."""
    from local_runtime.simulation import simulate

    scenario = workload(sessions, days, seed)
    timeline = io.StringIO()
    wall, cpu = time.clock_gettime(time.CLOCK_MONOTONIC), _cpu_seconds()
    summary = simulate(scenario, out=timeline, progress=sys.stderr)["summary"]
    wall, cpu = time.clock_gettime(time.CLOCK_MONOTONIC) - wall, _cpu_seconds() - cpu
    if keep is not None:  # what was fingerprinted, to diff two runs
        keep.mkdir(parents=True, exist_ok=True)
        (keep / "timeline.txt").write_text(timeline.getvalue())
        kept = json.dumps(summary, indent=1, sort_keys=True, default=str)
        (keep / "summary.json").write_text(kept)
    outcomes: dict[str, int] = {}
    for res in summary["resources"]:
        outcomes[res["outcome"]] = outcomes.get(res["outcome"], 0) + 1
    return {
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "sessions": sessions,
        "days": days,
        "seed": seed,
        "executions": summary["totals"]["executions"],
        "state_transitions": summary["totals"]["state_transitions"],
        "outcomes": dict(sorted(outcomes.items())),
        "summary_sha256": fingerprint(json.dumps(summary, sort_keys=True, default=str)),
        "timeline_sha256": fingerprint(timeline.getvalue()),
        "resources": [
            fingerprint(json.dumps(r, sort_keys=True, default=str)) for r in summary["resources"]
        ],
    }


def main(argv: list[str]) -> int:
    sessions, days, seed = int(argv[0]), float(argv[1]), int(argv[2])
    keep = Path(argv[3]) if len(argv) > 3 else None
    print(json.dumps(measure(sessions, days, seed, keep)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
