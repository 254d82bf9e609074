"""`make bench`: five strategies for stopping idle Glue sessions, run on the same generated
week (local_runtime.glue_week) through the local runtime, side by side.

    python -m local_runtime.comparison [--sessions 1000] [--seed 7] [--chart docs/bench.png]

For each strategy (local_runtime.strategies) it deploys the stack the strategy is, runs the
week on the virtual clock, and measures from the emulator's billing record what was billed,
billed while idle, stopped too early or under work, and how late (strategy_metrics); and
what the strategy itself used (state transitions, Lambda requests and their measured
durations, events, API calls) priced at list prices (aws_prices). Prints the figures as JSON
on stdout and as Markdown tables on stderr, with the machine and date.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from unittest import mock

from local_runtime import aws_prices, strategy_metrics
from local_runtime.errors import LocalRuntimeError
from local_runtime.glue_week import WORKDAYS, Workload, week
from local_runtime.runtime import TEMPLATE, Account
from local_runtime.simulation import simulate
from local_runtime.strategies import (
    MAX_FIXED_WAIT_MINUTES,
    STRATEGIES,
    Strategy,
    fixed_wait,
    named,
    reaper_warning,
)

GLUE_KIND = "glue-session"
SCHEDULED_DETAIL_TYPE = "Scheduled Event"
NOT_THE_STRATEGYS = frozenset(
    {
        "glue:CreateSession",  # the scenario's people
        # the deployment (local_runtime.deploy): CloudFormation's, once, not per session
        "dynamodb:CreateTable",
        "dynamodb:UpdateContinuousBackups",
        "dynamodb:UpdateTimeToLive",
        "events:CreateEventBus",
        "events:PutPermission",
        "events:PutRule",
        "events:PutTargets",
        "iam:AttachRolePolicy",
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "secretsmanager:CreateSecret",
        "sns:CreateTopic",
        "sns:Subscribe",
        "sqs:CreateQueue",
        "states:CreateStateMachine",
    }
)
"""API calls made during a run that are not the strategy's own work."""
MAX_SESSIONS = 100_000


def _wall() -> float:
    """A monotonic clock the virtual clock (freezegun) does not freeze."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


@dataclass
class Meter:
    """What every run measures while it runs: API calls and Lambda durations."""

    api_calls: Counter[str] = field(default_factory=Counter)
    lambda_gb_seconds: float = 0.0
    lambda_seconds: list[float] = field(default_factory=list)


@contextmanager
def measuring() -> Iterator[Meter]:
    """Count every AWS API call by `service:Operation` and time every Lambda invocation (real
    time, in-process, emulated AWS calls included) for the duration of the block."""
    from botocore.client import BaseClient

    from local_runtime.lambdas import Functions

    meter = Meter()
    api_call = getattr(BaseClient, "_make_api_call")  # noqa: B009 (private: mypy cannot see it)
    invoke = Functions.invoke

    def counted(client: Any, operation: str, params: Any) -> Any:
        name = f"{client.meta.service_model.endpoint_prefix}:{operation}"
        meter.api_calls[name] += aws_prices.requests_billed(operation, params)
        return api_call(client, operation, params)

    def timed(functions: Functions, name_or_arn: str, event: Any) -> Any:
        began = _wall()
        try:
            return invoke(functions, name_or_arn, event)
        finally:
            seconds = _wall() - began
            spec = functions.spec(name_or_arn)
            meter.lambda_seconds.append(seconds)
            meter.lambda_gb_seconds += aws_prices.billed_gb_seconds(
                spec.memory if spec else 128, seconds
            )

    with (
        mock.patch.object(BaseClient, "_make_api_call", counted),
        mock.patch.object(Functions, "invoke", timed),
    ):
        yield meter


def _parameters() -> dict[str, Any]:
    """template.yaml's Parameters section, as CloudFormation reads it (short-form tags too)."""
    from local_runtime import stack

    return dict(stack.read(TEMPLATE)["Parameters"])


def allowance_minutes() -> int:
    """The template's GlueIdleMinutes default: the reaper's allowance, given to every strategy."""
    return int(_parameters()["GlueIdleMinutes"]["Default"])


def run_strategy(
    strategy: Strategy, workload: Workload, allowance: int, progress: TextIO | None
) -> dict[str, Any]:
    """One strategy on the workload: its session figures, its usage and cost, its wall time."""
    scenario = replace(
        workload.scenario,
        parameters={**strategy.parameters, "GlueIdleMinutes": str(allowance)},
    )
    seen: dict[str, Any] = {}

    def take(account: Account) -> None:
        """Before teardown: the billing records, and what the strategy used."""
        lives = account.emulators[GLUE_KIND].lives  # type: ignore[attr-defined]
        seen["records"] = [
            strategy_metrics.record_of(
                lives[spec.id], workload.archetype[spec.id], workload.planned[spec.id]
            )
            for spec in scenario.resources
            if spec.id in lives
        ]
        seen["missing"] = [spec.id for spec in scenario.resources if spec.id not in lives]
        invocations = account.functions.invocations
        seen["lambda_requests"] = len(invocations)
        seen["by_function"] = dict(Counter(i.function for i in invocations))
        seen["scheduled"] = sum(
            1
            for i in invocations
            if isinstance(i.event, dict) and i.event.get("detail-type") == SCHEDULED_DETAIL_TYPE
        )
        seen["lambda_errors"] = sum(1 for i in invocations if i.error)
        seen["custom_events"] = len(account.bus.published)
        seen["api_calls"] = {k: v for k, v in meter.api_calls.items() if k not in NOT_THE_STRATEGYS}
        seen["lambda_gb_seconds"] = meter.lambda_gb_seconds

    began = _wall()
    with measuring() as meter:
        summary = simulate(
            scenario,
            out=io.StringIO(),
            progress=progress,
            inspect=take,
            amend=strategy.amend(allowance),
        )["summary"]
    seconds = _wall() - began
    if seen["missing"]:
        raise LocalRuntimeError(f"{strategy.key}: sessions never created: {seen['missing'][:5]}")
    outcomes = [
        strategy_metrics.outcome(r, timedelta(minutes=allowance), scenario.end)
        for r in seen["records"]
    ]
    usage = aws_prices.Usage(
        state_transitions=int(summary["totals"]["state_transitions"]),
        lambda_requests=seen["lambda_requests"],
        lambda_gb_seconds=seen["lambda_gb_seconds"],
        custom_events=seen["custom_events"],
        scheduled_invocations=seen["scheduled"],
        api_calls=seen["api_calls"],
    )
    sessions = len(outcomes)
    false_by_archetype = Counter(
        r.archetype for r, o in zip(seen["records"], outcomes, strict=True) if o.false_stop
    )
    transitions: dict[str, list[int]] = {}
    for resource in summary["resources"]:
        kind = workload.archetype[resource["id"]]
        transitions.setdefault(kind, []).append(int(resource["state_transitions"]))
    return {
        "key": strategy.key,
        "title": strategy.title,
        "wall_seconds": round(seconds, 1),
        **strategy_metrics.totals(outcomes),
        "false_stops_by_archetype": dict(sorted(false_by_archetype.items())),
        "executions": int(summary["totals"]["executions"]),
        "warnings": int(summary["totals"]["warnings"]),
        "state_transitions_per_session_by_archetype": {
            kind: round(sum(counts) / len(counts), 1)
            for kind, counts in sorted(transitions.items())
        },
        "usage": {
            "state_transitions": usage.state_transitions,
            "lambda_requests": usage.lambda_requests,
            "lambda_requests_by_function": seen["by_function"],
            "lambda_errors": seen["lambda_errors"],
            "lambda_gb_seconds": round(usage.lambda_gb_seconds, 3),
            "custom_events": usage.custom_events,
            "scheduled_invocations": usage.scheduled_invocations,
            "dynamodb_writes": usage.calls("dynamodb", aws_prices.DYNAMODB_WRITES),
            "dynamodb_reads": usage.calls("dynamodb", aws_prices.DYNAMODB_READS),
            "sns_publishes": usage.calls("sns", frozenset({"Publish"})),
            "api_calls": dict(sorted(usage.api_calls.items())),
        },
        "cost_usd": aws_prices.cost(usage),
        "cost_per_1000_sessions_usd": aws_prices.per_thousand(aws_prices.cost(usage), sessions),
    }


def compare(
    sessions: int,
    seed: int,
    keys: Sequence[str] | None = None,
    progress: TextIO | None = sys.stderr,
    workdays: int = WORKDAYS,
    fixed_waits: Sequence[int] = (),
    warning_minutes: Sequence[int] = (),
) -> dict[str, Any]:
    """Every strategy (or those named) on the same generated week, one after the other, then
    the fixed wait again with each of `fixed_waits` minutes instead of the allowance, and the
    reaper again with each of `warning_minutes` as its WarningMinutes."""
    chosen = [named(k) for k in keys] if keys else list(STRATEGIES)
    chosen += [fixed_wait(minutes) for minutes in fixed_waits]
    chosen += [reaper_warning(minutes) for minutes in warning_minutes]
    workload = week(sessions, seed, workdays)
    load_before = _load()
    allowance = allowance_minutes()
    results = []
    for n, strategy in enumerate(chosen, 1):
        if progress:
            progress.write(f"[bench] {n}/{len(chosen)} {strategy.key}: {strategy.title}\n")
            progress.flush()
        result = run_strategy(strategy, workload, allowance, progress)
        results.append(result)
        if progress:
            progress.write(f"[bench] {strategy.key}: {_one_line(result)}\n")
            progress.flush()
    return {
        "bench_strategies": {
            "workload": workload.scenario.name,
            "sessions": sessions,
            "seed": seed,
            "workdays": workdays,
            "span_days": workload.scenario.until.total_seconds() / 86400,
            "load_average_1min_before_and_after": [load_before, _load()],
            "allowance_minutes": allowance,
            "mix": dict(sorted(Counter(workload.archetype.values()).items())),
            "strategies": results,
            **machine(),
        }
    }


def _one_line(result: dict[str, Any]) -> str:
    cost = result["cost_per_1000_sessions_usd"]["total"]
    return (
        f"billed ${result['billed_usd']:,.2f}, idle ${result['idle_usd']:,.2f},"
        f" false stops {result['false_stops']}, own cost ${cost:.3f}/1,000 sessions,"
        f" {result['wall_seconds']} s"
    )


def _load() -> float:
    """The machine's 1-minute load average: other work sharing the cores slows the run."""
    return round(os.getloadavg()[0], 2)


def machine() -> dict[str, str]:
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }


def _minutes(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds / 60:,.1f} min"


def markdown(report: dict[str, Any]) -> str:
    """The comparison as BENCHMARKS.md shows it: the outcome table, then the cost table."""
    body = report["bench_strategies"]
    rows = [
        "| strategy | billed | billed while idle | of which past the allowance | false stops"
        " (busy / early) | statements refused | stop latency median / p99 | own AWS cost"
        " per 1,000 sessions | wall time |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in body["strategies"]:
        rows.append(
            f"| {r['title']} | ${r['billed_usd']:,.2f} | ${r['idle_usd']:,.2f}"
            f" | ${r['idle_past_allowance_usd']:,.2f}"
            f" | {r['false_stops']} ({r['busy_stops']} / {r['early_stops']})"
            f" | {r['refused_statements']:,}"
            f" | {_minutes(r['latency_median_seconds'])} / {_minutes(r['latency_p99_seconds'])}"
            f" | ${r['cost_per_1000_sessions_usd']['total']:.3f}"
            f" | {r['wall_seconds']:,.1f} s |"
        )
    rows += [
        "",
        "| per 1,000 sessions | " + " | ".join(r["title"] for r in body["strategies"]) + " |",
        "|---|" + "---|" * len(body["strategies"]),
    ]
    scale = 1000 / body["sessions"]
    counted = (
        ("state transitions", "state_transitions"),
        ("Lambda requests", "lambda_requests"),
        ("Lambda GB-seconds (measured)", "lambda_gb_seconds"),
        ("custom events published", "custom_events"),
        ("scheduled invocations", "scheduled_invocations"),
        ("DynamoDB writes", "dynamodb_writes"),
        ("DynamoDB reads", "dynamodb_reads"),
        ("SNS publishes", "sns_publishes"),
    )
    for label, key in counted:
        shown = [f"{r['usage'][key] * scale:,.1f}".removesuffix(".0") for r in body["strategies"]]
        rows.append(f"| {label} | " + " | ".join(shown) + " |")
    for item in ("step_functions", "lambda_requests", "lambda_compute", "eventbridge", "dynamodb"):
        rows.append(_cost_row(item, body["strategies"]))
    rows.append(_cost_row("sns", body["strategies"]))
    rows.append(
        "| **total ($)** | "
        + " | ".join(
            f"**{r['cost_per_1000_sessions_usd']['total']:.4f}**" for r in body["strategies"]
        )
        + " |"
    )
    return "\n".join(rows) + "\n"


def _cost_row(item: str, results: list[dict[str, Any]]) -> str:
    label = item.replace("_", " ")
    return (
        f"| {label} ($) | "
        + " | ".join(f"{r['cost_per_1000_sessions_usd'][item]:.4f}" for r in results)
        + " |"
    )


def _minutes_list(option: str, text: str, allowed: Collection[int]) -> list[int]:
    """`--fixed-waits 60,120`, `--warning-minutes 0,10`: whole minutes, each one `allowed`."""
    minutes = []
    for item in text.split(","):
        item = item.strip()
        # as CloudFormation reads a value: "05", a non-ASCII digit or 5,000 digits are none
        written = item.isascii() and item.isdigit() and len(item) <= 5 and str(int(item)) == item
        if not written or int(item) not in allowed:
            raise LocalRuntimeError(
                f"--{option}: {item[:20]!r} is not a whole number of minutes from {_shown(allowed)}"
            )
        if int(item) in minutes:
            raise LocalRuntimeError(f"--{option}: {item} twice")
        minutes.append(int(item))
    return minutes


def _shown(allowed: Collection[int]) -> str:
    """A range as "1 to 2880", a few values as "0, 1, 2"."""
    if isinstance(allowed, range):
        return f"{allowed.start} to {allowed.stop - 1}"
    return ", ".join(str(m) for m in sorted(allowed))


def _warning_minutes_allowed() -> frozenset[int]:
    """The WarningMinutes the template allows (its AllowedValues, read, not copied) that its Rules
    allow with the allowance: less than GlueIdleMinutes. Refused before anything runs."""
    parameters = _parameters()
    allowance = int(parameters["GlueIdleMinutes"]["Default"])
    return frozenset(
        int(v) for v in parameters["WarningMinutes"]["AllowedValues"] if int(v) < allowance
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_runtime.comparison", description=__doc__)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--workdays",
        type=int,
        default=WORKDAYS,
        help=f"working days the sessions start on (1 to {WORKDAYS}; fewer: a shorter run)",
    )
    parser.add_argument(
        "--strategies",
        default=None,
        help="comma-separated keys: " + ", ".join(s.key for s in STRATEGIES) + " (default: all)",
    )
    parser.add_argument(
        "--fixed-waits",
        default=None,
        help="comma-separated minutes: also run the fixed wait with each of these waits instead"
        " of the allowance (its trade-off between idle money and false stops)",
    )
    parser.add_argument(
        "--warning-minutes",
        default=None,
        help="comma-separated minutes: also run the reaper with each of these as its"
        " WarningMinutes (0: no warning), what its own cost turns on",
    )
    parser.add_argument("--chart", type=Path, default=None, help="write a PNG chart here")
    args = parser.parse_args(argv)
    try:
        if not 1 <= args.sessions <= MAX_SESSIONS:
            raise LocalRuntimeError(f"--sessions: {args.sessions} is outside 1 to {MAX_SESSIONS}")
        keys = [k.strip() for k in args.strategies.split(",")] if args.strategies else None
        known = {s.key for s in STRATEGIES}
        unknown = [k for k in keys or () if k not in known]
        if unknown:
            raise LocalRuntimeError(f"--strategies: unknown {', '.join(unknown)[:80]}")
        if not 1 <= args.workdays <= WORKDAYS:
            raise LocalRuntimeError(f"--workdays: {args.workdays} is outside 1 to {WORKDAYS}")
        waits = (
            _minutes_list("fixed-waits", args.fixed_waits, range(1, MAX_FIXED_WAIT_MINUTES + 1))
            if args.fixed_waits is not None
            else []
        )
        warnings = (
            _minutes_list("warning-minutes", args.warning_minutes, _warning_minutes_allowed())
            if args.warning_minutes is not None
            else []
        )
        report = compare(
            args.sessions,
            args.seed,
            keys,
            workdays=args.workdays,
            fixed_waits=waits,
            warning_minutes=warnings,
        )
    except LocalRuntimeError as exc:
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    if args.chart is not None:
        from local_runtime.bench_chart import draw

        draw(report, args.chart)
        print(f"[bench] chart written to {args.chart}", file=sys.stderr)
    body = report["bench_strategies"]
    print(
        f"\n{body['workload']}, allowance {body['allowance_minutes']} min;"
        f" {body['machine']}; {body['date']}\n",
        file=sys.stderr,
    )
    print(markdown(report), file=sys.stderr)
    print(json.dumps(report, separators=(", ", ": ")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
