"""Before and after in one run: the benchmark week on a git worktree of a base commit, then on
this tree, on the same machine one after the other, each in its own process; then whether
they did the same thing.

    python -m local_runtime.side_by_side --base 709968c --sessions 1000 --days 7

"The same" is checked, not assumed: the executions, state transitions and outcomes, and
fingerprints of the whole summary (every resource's outcome, stop time, cost and transitions,
every notification) and of the timeline must match, or the command says which resources
differ and exits 1. A later tree may report more than the base (a template parameter or a
summary counter added since): where the fingerprints differ, the summaries are compared with
the later one cut to the fields the base reports, and the timelines but for their first line
(the parameters again) and for the order of lines of one virtual instant (threads report them
in whichever order they run); what the head adds is listed, never hidden. Wall and CPU
seconds are printed for each run (CPU counts the process's every thread: on a machine shared
with other work it varies less than wall time).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from local_runtime.errors import LocalRuntimeError

ROOT = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).resolve().parent / "measured_run.py"
DEFAULT_BASE = "709968c"
"""The runtime before the speed-up (2026-11-25): 315.7 s for the 1,000-session week."""
MAX_SESSIONS = 100_000
MAX_DAYS = 366
MAX_ROUNDS = 10
_COMPARED = ("executions", "state_transitions", "outcomes", "summary_sha256", "timeline_sha256")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_runtime.side_by_side", description=__doc__
    )
    parser.add_argument("--base", default=DEFAULT_BASE, help="commit to compare with")
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--days", type=float, default=7)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--rounds", type=int, default=1, help="base then head, this many times (alternating)"
    )
    parser.add_argument(
        "--keep", type=Path, default=None, help="keep each run's timeline and summary here"
    )
    args = parser.parse_args(argv)
    try:
        _bounded("--sessions", args.sessions, 1, MAX_SESSIONS)
        _bounded("--days", args.days, 1 / 1440, MAX_DAYS)
        _bounded("--rounds", args.rounds, 1, MAX_ROUNDS)
        report = compare(args.base, args.sessions, args.days, args.seed, args.rounds, args.keep)
    except LocalRuntimeError as exc:
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    print(_table(report), file=sys.stderr)
    print(json.dumps(report, separators=(", ", ": ")))
    return 0 if report["same_behaviour"] else 1


def compare(
    base: str, sessions: int, days: float, seed: int, rounds: int, keep: Path | None = None
) -> dict[str, Any]:
    """Run the week `rounds` times on each tree (base first each round); with `keep`, each
    run's timeline and summary are kept in `keep/<tree>-<round>/`."""
    base_commit = resolve(base)
    head_commit = _git("rev-parse", "HEAD").strip()
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no").strip())
    runs: dict[str, list[dict[str, Any]]] = {"base": [], "head": []}
    kept: dict[str, list[Path]] = {"base": [], "head": []}
    with worktree(base_commit) as base_tree, tempfile.TemporaryDirectory() as scratch:
        for n in range(rounds):
            for label, tree in (("base", base_tree), ("head", ROOT)):
                _say(f"round {n + 1}/{rounds}: {label} ({tree})")
                folder = ((keep or Path(scratch)) / f"{label}-{n + 1}").resolve()
                out = run_in(tree, "local_runtime.measured_run", [sessions, days, seed, folder])
                runs[label].append(_measurement(out, tree))
                kept[label].append(folder)
        first = runs["base"][0]
        added: set[str] = set()
        mismatches = []
        for label, results in runs.items():
            for n, result in enumerate(results):
                for key in _COMPARED:
                    if result[key] == first[key]:
                        continue
                    if key in _READ_AGAIN and _same_but_added(
                        key, kept["base"][0], kept[label][n], added
                    ):
                        continue
                    mismatches.append(f"{label} round {n + 1}: {key}")
    differing = sorted(
        {
            f"s{i:05d}"
            for results in runs.values()
            for result in results
            for i, (a, b) in enumerate(zip(first["resources"], result["resources"], strict=False))
            if a != b
        }
        if mismatches  # a resource's fingerprint also holds the fields a later tree added
        else ()
    )
    for results in runs.values():
        for result in results:
            del result["resources"]
    return {
        "side_by_side": {
            "base": {"commit": base_commit, "runs": runs["base"]},
            "head": {"commit": head_commit, "uncommitted_changes": dirty, "runs": runs["head"]},
            "speedup_wall": _ratio(runs, "wall_seconds"),
            "speedup_cpu": _ratio(runs, "cpu_seconds"),
        },
        "same_behaviour": not mismatches,
        "mismatches": mismatches,
        "head_reports_more": sorted(added),
        "differing_resources": differing[:20],
    }


def resolve(base: str) -> str:
    """The full id of the commit `base` names (refused: anything git could read as an
    option, anything that is not a commit)."""
    if not base or base.startswith("-"):
        raise LocalRuntimeError(f"--base {base[:40]!r} is not a commit")
    return _git("rev-parse", "--verify", "--quiet", f"{base}^{{commit}}").strip()


@contextmanager
def worktree(commit: str) -> Iterator[Path]:
    """A detached git worktree of `commit` in a temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="side-by-side-") as scratch:
        tree = Path(scratch) / "base"
        _git("worktree", "add", "--detach", "--quiet", str(tree), commit)
        try:
            yield tree
        finally:
            _git("worktree", "remove", "--force", str(tree))


_BOOT = """
import importlib.util, sys
import local_runtime
for path in sys.argv[1].split("\\n"):
    name = "local_runtime." + path.rsplit("/", 1)[-1].removesuffix(".py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
sys.exit(sys.modules[sys.argv[2]].main(sys.argv[3:]))
"""
"""Runs one of THIS tree's measuring modules against another tree's runtime: the other tree's
`local_runtime` package is imported (PYTHONPATH), then this tree's measured_run.py and
profiling.py are loaded into it under their own names, and the module's main() runs."""
_MEASURING = (CHILD, CHILD.with_name("profiling.py"))


def run_in(tree: Path, module: str, argv: list[Any]) -> str:
    """`module`'s main(argv) run against the runtime of `tree`, in its own process (this
    interpreter): progress on stderr as it goes; its stdout returned."""
    env = {**os.environ, "PYTHONPATH": f"{tree / 'src'}{os.pathsep}{tree}"}
    paths = "\n".join(str(p) for p in _MEASURING)
    done = subprocess.run(
        [sys.executable, "-c", _BOOT, paths, module, *(str(a) for a in argv)],
        cwd=tree,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise LocalRuntimeError(f"the run in {tree} failed (exit {done.returncode})")
    return done.stdout


def _measurement(out: str, tree: Path) -> dict[str, Any]:
    """The last line of a measured run's output."""
    lines = out.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError) as exc:
        raise LocalRuntimeError(f"the run in {tree} printed no measurement") from exc
    return result


_READ_AGAIN = {"summary_sha256": "summary.json", "timeline_sha256": "timeline.txt"}


def _same_but_added(key: str, base: Path, other: Path, added: set[str]) -> bool:
    """Whether the run kept in `other` reported what the base run did, once the fields a later
    tree added are set aside (their dotted paths go into `added`)."""
    from local_runtime.measured_run import unrandomized

    name = _READ_AGAIN[key]
    before, after = (unrandomized((folder / name).read_text()) for folder in (base, other))
    if key == "timeline_sha256":
        return _by_instant(before.splitlines()[1:]) == _by_instant(after.splitlines()[1:])
    old, new = json.loads(before), json.loads(after)
    same: bool = _cut(new, old, "", added) == old
    return same


def _by_instant(lines: list[str]) -> list[list[str]]:
    """The timeline's lines grouped by their virtual time (`MM-DD HH:MM:SS`), each group sorted:
    what happens at one instant is reported by several threads (the bus starting a watcher,
    the watcher's first look), in whichever order they ran."""
    groups: list[list[str]] = []
    stamp = None
    for line in lines:
        if line[:_STAMP] != stamp or not groups:
            groups.append([])
            stamp = line[:_STAMP]
        groups[-1].append(line)
    return [sorted(group) for group in groups]


_STAMP = len("03-06 19:40:02")


def _cut(new: Any, old: Any, path: str, added: set[str]) -> Any:
    """`new` with only the fields `old` has (a list item by item, when they are as long)."""
    if isinstance(new, dict) and isinstance(old, dict):
        added.update(f"{path}{k}" for k in new if k not in old)
        return {k: _cut(new[k], old[k], f"{path}{k}.", added) for k in old if k in new}
    if isinstance(new, list) and isinstance(old, list) and len(new) == len(old):
        return [_cut(n, o, f"{path}[].", added) for n, o in zip(new, old, strict=True)]
    return new


def _ratio(runs: dict[str, list[dict[str, Any]]], key: str) -> float:
    """Base time over head time, each the median of its runs."""
    base, head = (sorted(r[key] for r in runs[label]) for label in ("base", "head"))
    median_base, median_head = base[len(base) // 2], head[len(head) // 2]
    return round(median_base / median_head, 2) if median_head else 0.0


def _table(report: dict[str, Any]) -> str:
    side = report["side_by_side"]
    lines = ["", "tree  commit    wall s   cpu s  executions  transitions  outcomes"]
    for label in ("base", "head"):
        commit = side[label]["commit"][:8] + ("+" if side[label].get("uncommitted_changes") else "")
        for run in side[label]["runs"]:
            lines.append(
                f"{label:5s} {commit:9s} {run['wall_seconds']:7.1f} {run['cpu_seconds']:7.1f}"
                f"  {run['executions']:10d}  {run['state_transitions']:11d}  {run['outcomes']}"
            )
    lines.append(
        f"speed-up: {side['speedup_wall']}x wall, {side['speedup_cpu']}x CPU;"
        f" same behaviour: {'yes' if report['same_behaviour'] else 'NO'}"
    )
    for mismatch in report["mismatches"]:
        lines.append(f"  differs: {mismatch}")
    if report["head_reports_more"]:
        shown = ", ".join(report["head_reports_more"][:12])
        lines.append(f"  the head reports more (set aside in the comparison): {shown}")
    return "\n".join(lines)


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise LocalRuntimeError(f"git {' '.join(args[:2])}: {done.stderr.strip()[:200]}")
    return done.stdout


def _bounded(option: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:  # also refuses nan
        raise LocalRuntimeError(f"{option}: {value:g} is outside {low:g} to {high:g}")


def _say(text: str) -> None:
    print(f"[side-by-side] {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
