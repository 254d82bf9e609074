"""Where a run's time goes: the benchmark week under cProfile on every thread, by area.

    python -m local_runtime.profiling --sessions 200 --days 2 [--out /tmp/run.pstats] [--base REV]

cProfile sees only the thread it was started on, and most of a run happens on others (each
execution of the watcher, each Task of it), so every thread gets its own profiler and the
profiles are merged. Each function's own time (not counting what it calls) goes to the area
its file belongs to (moto's serializer, moto's dispatch, moto's service backends, the ASL
interpreter, botocore, the runtime's IAM, freezegun, JSON, the handlers, ...); a built-in's
own time goes to the areas of its callers, in proportion. Areas add up to the run's busy
time. Time a thread spends parked (a lock, a poll: an execution asleep in a Wait state) is
counted apart. Beside the areas, every AWS operation with its calls and the time spent in
them (calls_by_operation). Profiling slows a run down several times, unevenly: read the
shares, not the seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import inspect
import json
import pstats
import sys
import sysconfig
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from local_runtime.errors import LocalRuntimeError

AREAS: tuple[tuple[str, str], ...] = (
    ("/moto/core/serialize.py", "moto: response serialization"),
    ("/moto/stepfunctions/parser/", "ASL interpreter (moto's Step Functions)"),
    ("/jsonpath_ng/", "ASL interpreter (moto's Step Functions)"),
    ("/antlr4/", "ASL interpreter (moto's Step Functions)"),
    ("/moto/core/", "moto: request dispatch"),
    ("/moto/moto_api/", "moto: request dispatch"),
    ("/moto/utilities/", "moto: request dispatch"),
    ("/werkzeug/", "moto: request dispatch"),
    ("/moto/", "moto: service backends"),
    ("/botocore/", "botocore: request, validation, signing, parsing"),
    ("/boto3/", "botocore: request, validation, signing, parsing"),
    ("/awscrt/", "botocore: request, validation, signing, parsing"),
    ("/dateutil/", "botocore: request, validation, signing, parsing"),
    ("/local_runtime/iam/", "IAM evaluation (the runtime's)"),
    ("/local_runtime/fast_paths.py", "runtime: its shortcuts through moto and botocore"),
    ("/local_runtime/", "runtime: clock, bus, emulators, summary"),
    ("/freezegun/", "freezegun"),
    ("/json/", "JSON (encoding, decoding)"),
    ("/src/idle_reaper/", "handlers (idle_reaper, Powertools)"),
    ("/functions/", "handlers (idle_reaper, Powertools)"),
    ("/aws_lambda_powertools/", "handlers (idle_reaper, Powertools)"),
    ("/aws_xray_sdk/", "handlers (idle_reaper, Powertools)"),
    ("/threading.py", "threads (start, hand-over)"),
    ("<frozen importlib", "imports (start-up)"),
    ("/samtranslator/", "deploying the template (start-up)"),
    ("/yaml/", "deploying the template (start-up)"),
)
"""(path fragment, area): the first fragment a function's file contains names its area. The
standard library's other modules (copy, re, urllib, email, random, ...) and built-ins have no
area of their own: their time goes to the areas of their callers, in proportion."""
OTHER = "other packages"
PARKED = frozenset(
    {
        "<method 'acquire' of '_thread.lock' objects>",
        "<method 'acquire' of '_thread.RLock' objects>",
        "<method 'poll' of 'select.poll' objects>",
        "<built-in method time.sleep>",
    }
)
"""Built-ins where a thread waits rather than works."""
_STDLIB = (sysconfig.get_paths()["stdlib"].replace("\\", "/") + "/", "<frozen ", "<string>")


def _entry_points() -> list[tuple[Any, str]]:
    """(function, what it is): inclusive times worth reading beside the areas."""
    from botocore.client import BaseClient
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.core.responses import BaseResponse

    from local_runtime.iam import enforcement
    from local_runtime.lambdas import Functions
    from local_runtime.summary import summarize

    return [
        (getattr(BaseClient, "_make_api_call"), "every AWS call, end to end"),  # noqa: B009
        (BotocoreStubber.__call__, "moto answering a call (dispatch, IAM, service, serializer)"),
        (BaseResponse.serialized, "moto serializing a response"),
        (enforcement.authorize, "the runtime's IAM check of a call"),
        (Functions.invoke, "a handler invocation, its AWS calls included"),
        (summarize, "the end-of-run summary"),
    ]


MAX_SESSIONS = 20_000
MAX_DAYS = 31


@contextmanager
def every_thread_profiled() -> Iterator[list[cProfile.Profile]]:
    """A profiler on this thread and on every thread started in the block."""
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()
    original_run = threading.Thread.run

    def run(thread: threading.Thread) -> None:
        profile = cProfile.Profile()
        with lock:
            profiles.append(profile)
        profile.enable()
        try:
            original_run(thread)
        finally:
            profile.disable()

    main = cProfile.Profile()
    profiles.append(main)
    with mock.patch.object(threading.Thread, "run", run):
        main.enable()
        try:
            yield profiles
        finally:
            main.disable()


def merged(profiles: list[cProfile.Profile]) -> pstats.Stats:
    stats = pstats.Stats(profiles[0])
    for profile in profiles[1:]:
        try:
            stats.add(profile)
        except TypeError:  # a thread that never ran has nothing to add
            continue
    return stats


def area_of(filename: str) -> str | None:
    """The area of a function's file; None for the standard library and built-ins (their
    time belongs to whoever called them)."""
    path = filename.replace("\\", "/")
    for fragment, area in AREAS:
        if fragment in path:
            return area
    if filename == "~" or path.startswith(_STDLIB):
        return None
    return OTHER


def by_area(stats: pstats.Stats) -> tuple[Counter[str], float]:
    """Own time per area, and the time threads spent parked."""
    raw: dict[Any, Any] = getattr(stats, "stats")  # noqa: B009 (pstats keeps it untyped)
    shares: dict[Any, dict[str, float]] = {}

    def areas_of(key: Any, seen: frozenset[Any]) -> dict[str, float]:
        """Which areas a function's time belongs to: its own, or its callers' (in proportion
        to the time each caller spent in it), through any depth of standard library; {} when
        only a recursion leads to it (then its other callers decide)."""
        own = area_of(key[0])
        if own is not None:
            return {own: 1.0}
        if key in shares:
            return shares[key]
        callers = raw[key][4] if key in raw else {}
        found: dict[str, float] = {}
        used = 0.0
        for caller, timing in callers.items():
            if caller in seen:
                continue
            weight = timing[3] or timing[2] or 1e-9
            for area, part in areas_of(caller, seen | {key}).items():
                found[area] = found.get(area, 0.0) + part * weight
            used += weight
        result = {area: t / used for area, t in found.items()} if used else {}
        if not any(caller in seen for caller in callers):  # complete: keep it
            shares[key] = result
        return result

    areas: Counter[str] = Counter()
    parked = 0.0
    for key, (_cc, _nc, own, _cum, _callers) in raw.items():
        if key[0] == "~" and key[2] in PARKED:
            parked += own
            continue
        for area, part in (areas_of(key, frozenset()) or {OTHER: 1.0}).items():
            areas[area] += own * part
    return areas, parked


def entry_points(stats: pstats.Stats) -> list[tuple[str, float, int]]:
    """Inclusive time and calls of each of `_entry_points()`."""
    raw: dict[Any, Any] = getattr(stats, "stats")  # noqa: B009
    out = []
    for function, label in _entry_points():
        code = inspect.unwrap(function).__code__
        timing = raw.get((code.co_filename, code.co_firstlineno, code.co_name))
        calls, inclusive = (timing[1], timing[3]) if timing else (0, 0.0)
        out.append((label, inclusive, calls))
    return out


def _monotonic() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


@contextmanager
def calls_by_operation(
    clock: Callable[[], float] = _monotonic,
) -> Iterator[dict[str, list[float]]]:
    """`service:Operation` -> [calls, seconds] of every AWS call, on every thread: the time
    spent in each call but not in the AWS calls made while answering it (an Invoke's handler
    makes its own, counted under their names), on the monotonic clock the virtual clock
    leaves alone."""
    from botocore.client import BaseClient

    tally: dict[str, list[float]] = {}
    lock, local = threading.Lock(), threading.local()
    original = getattr(BaseClient, "_make_api_call")  # noqa: B009 (private: mypy cannot see it)

    def timed(client: Any, operation: str, params: Any) -> Any:
        nested: list[float] = local.__dict__.setdefault("nested", [])
        nested.append(0.0)  # the time of the calls this one makes
        began = clock()
        try:
            return original(client, operation, params)
        finally:
            spent = clock() - began
            inner = nested.pop()
            if nested:
                nested[-1] += spent
            name = f"{client.meta.service_model.endpoint_prefix}:{operation}"
            with lock:
                row = tally.setdefault(name, [0, 0.0])
                row[0] += 1
                row[1] += spent - inner

    with mock.patch.object(BaseClient, "_make_api_call", timed):
        yield tally


OPERATIONS_SHOWN = 12


def profile_week(sessions: int, days: float, seed: int, out: Path | None) -> dict[str, Any]:
    from local_runtime.measured_run import measure

    with every_thread_profiled() as profiles, calls_by_operation() as operations:
        result = measure(sessions, days, seed)
    stats = merged(profiles)
    if out is not None:
        stats.dump_stats(str(out))
    areas, parked = by_area(stats)
    busy = sum(areas.values())
    return {
        "profile": {
            "sessions": sessions,
            "days": days,
            "seed": seed,
            "wall_seconds_profiled": result["wall_seconds"],
            "busy_seconds_profiled": round(busy, 1),
            "parked_seconds": round(parked, 1),
            "areas": [
                {"area": area, "seconds": round(t, 1), "share": round(t / busy, 3)}
                for area, t in areas.most_common()
            ],
            "inclusive": [
                {"what": label, "seconds": round(t, 1), "share": round(t / busy, 3), "calls": n}
                for label, t, n in entry_points(stats)
            ],
            "operations": [
                {"operation": name, "calls": int(calls), "seconds": round(spent, 2)}
                for name, (calls, spent) in sorted(operations.items(), key=lambda kv: -kv[1][1])
            ],
            "state_transitions": result["state_transitions"],
        }
    }


def _profile_commit(base: str, sessions: int, days: float, seed: int, out: Path | None) -> int:
    """This module, run against another commit's runtime (side_by_side.run_in)."""
    from local_runtime.side_by_side import resolve, run_in, worktree

    argv: list[Any] = ["--sessions", sessions, "--days", days, "--seed", seed]
    if out is not None:
        argv += ["--out", out.resolve()]
    with worktree(resolve(base)) as tree:
        print(run_in(tree, "local_runtime.profiling", argv), end="")
    return 0


def _table(report: dict[str, Any]) -> str:
    profile = report["profile"]
    lines = [
        "",
        f"busy {profile['busy_seconds_profiled']} s under the profiler"
        f" (threads parked {profile['parked_seconds']} s, not counted)",
        f"{'area (own time)':52s} {'s':>8s} {'share':>6s}",
    ]
    for row in profile["areas"]:
        lines.append(f"{row['area']:52s} {row['seconds']:8.1f} {row['share']:6.1%}")
    lines.append(f"{'inclusive':52s} {'s':>8s} {'share':>6s}  calls")
    for row in profile["inclusive"]:
        lines.append(f"{row['what']:52s} {row['seconds']:8.1f} {row['share']:6.1%}  {row['calls']}")
    lines.append(f"{'AWS calls by operation (own time)':52s} {'s':>8s} {'calls':>7s}")
    for row in profile["operations"][:OPERATIONS_SHOWN]:
        lines.append(f"{row['operation']:52s} {row['seconds']:8.2f} {row['calls']:7d}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_runtime.profiling", description=__doc__)
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--days", type=float, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="also keep the merged pstats")
    parser.add_argument(
        "--base", default=None, help="profile this commit's runtime instead (a git worktree)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.sessions <= MAX_SESSIONS or not 1 / 1440 <= args.days <= MAX_DAYS:
        print(f"error: --sessions 1 to {MAX_SESSIONS}, --days up to {MAX_DAYS}", file=sys.stderr)
        return 2
    try:
        if args.base is not None:
            return _profile_commit(args.base, args.sessions, args.days, args.seed, args.out)
        report = profile_week(args.sessions, args.days, args.seed, args.out)
    except LocalRuntimeError as exc:
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    print(_table(report), file=sys.stderr)
    print(json.dumps(report, separators=(", ", ": ")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
