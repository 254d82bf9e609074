"""Command line: simulate a scenario, replay an event, benchmark the runtime, replay a
CloudTrail history both ways (what-if)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from local_runtime.errors import LocalRuntimeError, ScenarioError

REPLAY_LIMIT = timedelta(days=3)
REPLAY_SETTLE = timedelta(minutes=5)
"""Once every watcher is done, a replay runs on while anything is due within this much
virtual time: the notify and audit invocations the last reaper event queued (Lambda runs
them asynchronously, and retries them 1 and 2 minutes later), the session's STOPPED."""
MAX_BENCH_SESSIONS = 100_000
MAX_BENCH_INVOCATIONS = 100_000
_ACCOUNT_ID = re.compile(r"\d{12}")
_PARAMETER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,254}")
"""A CloudFormation parameter's logical name: alphanumeric."""


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
    what = commands.add_parser(
        "whatif", help="a CloudTrail history through the reaper and Glue's default"
    )
    what.add_argument("trail", type=Path, help="folder of CloudTrail .json / .json.gz files")
    what.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a template parameter for the reaper run (GlueIdleMinutes=60); repeatable",
    )
    what.add_argument(
        "--statement-minutes",
        type=float,
        default=5.0,
        help="how long a statement is taken to run when the trail has no GetStatement polls",
    )
    what.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    try:
        if args.command == "simulate":
            summary = _simulate(args.scenario, args.quiet, args.audit_out)
        elif args.command == "whatif":
            summary = _whatif(args.trail, args.param, args.statement_minutes, args.quiet)
        elif args.command == "replay":
            summary = _replay(args.event)
        elif args.command == "bench-notify":
            from local_runtime.bench import bench_notify

            _bounded("--invocations", args.invocations, 1, MAX_BENCH_INVOCATIONS)
            summary = bench_notify(args.invocations)
        else:
            from local_runtime.bench import bench as run_bench
            from local_runtime.scenario import MAX_SPAN

            _bounded("--sessions", args.sessions, 1, MAX_BENCH_SESSIONS)
            _bounded("--days", args.days, 1 / 1440, MAX_SPAN.days)
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


def _whatif(trail: Path, params: list[str], minutes: float, quiet: bool) -> dict[str, Any]:
    from local_runtime.whatif import MAX_STATEMENT_MINUTES, Assumptions, whatif

    _bounded("--statement-minutes", minutes, 1 / 60, MAX_STATEMENT_MINUTES)
    parameters: dict[str, str] = {}
    for item in params:
        name, equals, value = item.partition("=")
        if not equals or not _PARAMETER_NAME.fullmatch(name):
            raise LocalRuntimeError(f"--param: {item[:60]!r} is not NAME=VALUE")
        parameters[name] = value
    return whatif(
        trail,
        parameters,
        Assumptions(statement_minutes=minutes),
        progress=None if quiet else sys.stderr,
    )


def _bounded(option: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:  # also refuses nan
        raise LocalRuntimeError(f"{option}: {value:g} is outside {low:g} to {high:g}")


def _replay(path: Path) -> dict[str, Any]:
    """Deliver one recorded event to the stack deployed in the event's own account and
    region; run until its watchers are done and nothing they set off is still due."""
    from idle_reaper.times import parse_iso
    from local_runtime.actors import spec_from_start_event
    from local_runtime.runtime import Account
    from local_runtime.scenario import Scenario, start_time
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
    except (ValueError, OverflowError):
        shown = str(event["time"])[:40]
        raise ScenarioError(f"{path}: `time` {shown!r} is not an ISO-8601 time") from None
    start = start_time(start, f"{path}: `time`")
    region, account_id = _placed(event, path)
    try:
        spec = spec_from_start_event(event)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    scenario = Scenario(
        name=f"replay {path.name}",
        start=start,
        until=REPLAY_LIMIT,
        resources=(spec,) if spec else (),
        events=() if spec else (event,),
        region=region,
        account=account_id,
    )

    def settled(account: Account) -> bool:
        """Every watcher done, and nothing (a notification, an audit record, a retry) due
        soon: the replay has shown all the event set off."""
        if any(account.execution_status(s.execution_arn) == "RUNNING" for s in account.bus.started):
            return False
        due = account.clock.next_due()
        return due is None or due > account.clock.now() + REPLAY_SETTLE

    return simulate(scenario, progress=None, stop_when=settled)


def _placed(event: dict[str, Any], path: Path) -> tuple[str, str]:
    """The event's region and account (where the replay deploys the stack), checked: a
    12-digit account, a region botocore knows, and a CloudTrail record that agrees."""
    from local_runtime.stack import known_regions

    region, account = event.get("region"), event.get("account")
    if not isinstance(account, str) or not _ACCOUNT_ID.fullmatch(account):
        raise ScenarioError(f"{path}: `account` {str(account)[:40]!r} is not a 12-digit account id")
    if not isinstance(region, str) or region not in known_regions():
        raise ScenarioError(f"{path}: `region` {str(region)[:40]!r} is not an AWS region")
    detail = event["detail"] if isinstance(event["detail"], dict) else {}
    for key, expected in (("awsRegion", region), ("recipientAccountId", account)):
        if key in detail and detail[key] != expected:
            raise ScenarioError(
                f"{path}: detail.{key} {str(detail[key])[:40]!r} is not the event's {expected!r}"
            )
    return region, account


if __name__ == "__main__":
    sys.exit(main())
