"""Command line: simulate a scenario, replay an event, benchmark the runtime."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from local_runtime.errors import LocalRuntimeError, ScenarioError

REPLAY_LIMIT = timedelta(days=3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_runtime", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser("simulate", help="run a what-if scenario (YAML)")
    sim.add_argument("scenario", type=Path)
    sim.add_argument("--quiet", action="store_true", help="no progress on stderr")
    sim.add_argument(
        "--audit-out",
        type=Path,
        default=None,
        help="where to keep the run's audit table for `make report`"
        " (default .local-runtime/audit-table.json)",
    )
    rep = commands.add_parser("replay", help="replay one EventBridge event (JSON)")
    rep.add_argument("event", type=Path)
    bench = commands.add_parser("bench", help="time the runtime on a generated workload")
    bench.add_argument("--sessions", type=int, default=1000)
    bench.add_argument("--days", type=float, default=7)
    bench.add_argument("--seed", type=int, default=7)
    notify = commands.add_parser("bench-notify", help="time the notify handler, warm")
    notify.add_argument("--invocations", type=int, default=200)
    args = parser.parse_args(argv)
    try:
        if args.command == "simulate":
            summary = _simulate(args.scenario, args.quiet, args.audit_out)
        elif args.command == "replay":
            summary = _replay(args.event)
        elif args.command == "bench-notify":
            from local_runtime.bench import bench_notify

            summary = bench_notify(args.invocations)
        else:
            from local_runtime.bench import bench as run_bench

            summary = run_bench(args.sessions, args.days, args.seed)
    except LocalRuntimeError as exc:
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)  # one line, always
        return 2
    print(json.dumps(summary, separators=(", ", ": ")))
    return 0


def _simulate(path: Path, quiet: bool, audit_out: Path | None) -> dict[str, Any]:
    from local_runtime import audit_snapshot
    from local_runtime import scenario as scenarios
    from local_runtime.runtime import Account
    from local_runtime.simulation import simulate

    scenario = scenarios.load(path)
    out = audit_out or audit_snapshot.DEFAULT_PATH

    def keep_audit_table(account: Account) -> None:
        kept = audit_snapshot.save(account, out, min(account.clock.now(), scenario.end))
        if not quiet:
            print(f"[simulate] audit table ({kept} records) kept in {out}", file=sys.stderr)

    return simulate(scenario, progress=None if quiet else sys.stderr, inspect=keep_audit_table)


def _replay(path: Path) -> dict[str, Any]:
    from idle_reaper.times import parse_iso
    from local_runtime.actors import spec_from_start_event
    from local_runtime.runtime import Account
    from local_runtime.scenario import Scenario
    from local_runtime.simulation import simulate

    try:
        event = json.loads(path.read_text())
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{path}: not valid JSON ({exc})") from exc
    missing = [
        k
        for k in ("source", "detail-type", "detail", "time")
        if not isinstance(event, dict) or k not in event
    ]
    if missing:
        raise ScenarioError(f"{path}: not an EventBridge event (missing {', '.join(missing)})")
    try:
        start = parse_iso(str(event["time"]))
    except ValueError:
        raise ScenarioError(f"{path}: `time` {event['time']!r} is not an ISO-8601 time") from None
    spec = spec_from_start_event(event)
    scenario = Scenario(
        name=f"replay {path.name}",
        start=start,
        until=REPLAY_LIMIT,
        resources=(spec,) if spec else (),
        events=() if spec else (event,),
    )

    def watchers_done(account: Account) -> bool:
        started = account.bus.started
        if not started and account.clock.next_due() is None:
            return True  # the event started no watcher and nothing else is pending
        return bool(started) and all(
            account.execution_status(s.execution_arn) != "RUNNING" for s in started
        )

    return simulate(scenario, progress=None, stop_when=watchers_done)


if __name__ == "__main__":
    sys.exit(main())
