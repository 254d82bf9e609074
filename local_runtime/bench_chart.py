"""The comparison benchmark's chart (docs/bench.png): for each strategy, the money billed while
idle (within the allowance, and past it), the false stops, and its own AWS cost."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OFF_SCALE = 1.8
"""The idle-money axis ends at this multiple of the second largest bar."""


def draw(report: dict[str, Any], path: Path) -> None:
    """Three panels side by side, one bar per strategy, written as a PNG to `path`."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.pyplot as plt

    body = report["bench_strategies"]
    results = body["strategies"]
    titles = [r["title"] for r in results]
    rows = range(len(results))
    figure, (idle, false, own) = plt.subplots(1, 3, figsize=(15, 4.2), sharey=True)
    # Glue's 48-hour timeout dwarfs the rest: the axis stops short of it, and says so.
    limit = OFF_SCALE * sorted(r["idle_usd"] for r in results)[-2] if len(results) > 1 else None
    past = [r["idle_past_allowance_usd"] for r in results]
    within = [r["idle_usd"] - p for r, p in zip(results, past, strict=True)]
    idle.barh(rows, within, color="#8fb3d9", label="within the allowance")
    idle.barh(rows, past, left=within, color="#d9534f", label="past the allowance")
    idle.set_yticks(list(rows), titles)
    idle.invert_yaxis()
    idle.set_xlabel("USD billed while idle (after the last statement)")
    idle.legend(loc="lower right", fontsize=8)
    if limit:
        idle.set_xlim(0, limit)
    for y, r in zip(rows, results, strict=True):
        off = limit is not None and r["idle_usd"] > limit
        x = limit * 0.55 if off and limit else r["idle_usd"]
        label = f" ${r['idle_usd']:,.0f} (off the scale)" if off else f" ${r['idle_usd']:,.0f}"
        idle.text(x, y, label, va="center", fontsize=8, color="white" if off else "black")
    false.barh(rows, [r["false_stops"] for r in results], color="#f0ad4e")
    false.set_xlabel("false stops (stopped under work or inside the allowance)")
    for y, r in zip(rows, results, strict=True):
        false.text(r["false_stops"], y, f" {r['false_stops']}", va="center", fontsize=8)
    costs = [r["cost_per_1000_sessions_usd"]["total"] for r in results]
    own.barh(rows, costs, color="#5cb85c")
    own.set_xlim(0, max(costs, default=0) * 1.3 or 1)
    false.set_xlim(0, max((r["false_stops"] for r in results), default=0) * 1.2 or 1)
    own.set_xlabel("the strategy's own AWS cost per 1,000 sessions (USD)")
    for y, c in zip(rows, costs, strict=True):
        own.text(c, y, f" ${c:.3f}", va="center", fontsize=8)
    figure.suptitle(
        f"{body['sessions']:,} Glue sessions over a working week (seed {body['seed']}),"
        f" allowance {body['allowance_minutes']} min — {body['machine']}, {body['date']}",
        fontsize=10,
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    """Redraw the chart from a saved report: python -m local_runtime.bench_chart in.json out.png"""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m local_runtime.bench_chart REPORT.json CHART.png", file=sys.stderr)
        return 2
    draw(json.loads(Path(args[0]).read_text()), Path(args[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
