"""The report as a person reads it (a table), or as a program does (JSON, CSV)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from reporting.totals import Row

COLUMNS = (
    ("stopped", "stopped"),
    ("warnings", "warnings"),
    ("kept", "kept"),
    ("would_stop", "would stop"),
    ("failed", "failed"),
    ("idle_minutes_reclaimed", "idle min reclaimed"),
    ("savings_usd", "saved USD"),
    ("potential_savings_usd", "dry-run USD"),
)
FORMATS = ("table", "json", "csv")


def render(tables: dict[str, list[Row]], overall: Row, fmt: str, header: dict[str, Any]) -> str:
    if fmt == "json":
        return json.dumps(
            {
                **header,
                "by": {by: [r.to_dict() for r in rows] for by, rows in tables.items()},
                "total": overall.to_dict(),
            }
        )
    if fmt == "csv":
        return _csv(tables, overall)
    return _table(tables, overall, header)


def _csv(tables: dict[str, list[Row]], overall: Row) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["by", "key", *(name for name, _ in COLUMNS)])
    for by, rows in tables.items():
        for row in rows:
            values = row.to_dict()
            writer.writerow([by, row.key, *(values[name] for name, _ in COLUMNS)])
    values = overall.to_dict()
    writer.writerow(["total", "total", *(values[name] for name, _ in COLUMNS)])
    return out.getvalue().rstrip("\n")


def _table(tables: dict[str, list[Row]], overall: Row, header: dict[str, Any]) -> str:
    lines = [f"# idle-reaper report: {header['since']} to {header['until']} ({header['source']})"]
    for by, rows in tables.items():
        cells = [[by, *(title for _, title in COLUMNS)]]
        for row in [*rows, overall]:
            values = row.to_dict()
            cells.append([row.key, *(_cell(name, values[name]) for name, _ in COLUMNS)])
        widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))]
        lines.append("")
        for n, line in enumerate(cells):
            if n == len(cells) - 1:
                lines.append("  ".join("-" * w for w in widths))
            lines.append(
                "  ".join(
                    cell.ljust(w) if i == 0 else cell.rjust(w)
                    for i, (cell, w) in enumerate(zip(line, widths, strict=True))
                )
            )
    return "\n".join(lines)


def _cell(name: str, value: Any) -> str:
    if name.endswith("_usd"):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"
