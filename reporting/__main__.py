"""Command line: python -m reporting [--table NAME | --local [FILE]] [--since 7d] [--by owner,kind]
[--format table|json|csv] [--chart out.png]"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from idle_reaper.exceptions import ReportError
from idle_reaper.times import parse_iso, to_iso
from reporting.output import FORMATS, render
from reporting.reading import read
from reporting.totals import GROUPINGS, daily_savings, grouped, total

_SINCE = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reporting", description=__doc__)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--table", help="a deployed stack's audit table (output AuditTableName)")
    where.add_argument(
        "--local",
        nargs="?",
        const="",
        metavar="FILE",
        help="the local runtime's table from the last make demo / make simulate (default)",
    )
    parser.add_argument("--region", help="the table's region (default: your AWS config's)")
    parser.add_argument("--since", default="7d", help="30m, 24h, 7d, 2w, or a date (2026-03-01)")
    parser.add_argument("--by", default="owner,kind", help="owner, kind, day, comma-separated")
    parser.add_argument("--format", default="table", choices=FORMATS)
    parser.add_argument("--chart", type=Path, help="also draw daily savings to this PNG")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    try:
        groupings = _groupings(args.by)
        with _source(args) as source:
            now = source.now
            since = _since(args.since, now)
            progress = None if args.quiet else sys.stderr
            records = read(source.client, source.table, source.account, since, now, progress)
    except (ReportError, BotoCoreError, ClientError) as exc:
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    header = {"source": source.label, "since": to_iso(since), "until": to_iso(now)}
    tables = {by: grouped(records, by) for by in groupings}
    print(render(tables, total(records), args.format, header))
    if args.chart:
        from reporting.chart import daily_savings_png

        daily_savings_png(daily_savings(records), since.date(), now.date(), args.chart)
        print(f"[report] chart written to {args.chart}", file=sys.stderr)
    return 0


def _groupings(value: str) -> list[str]:
    groupings = [g.strip() for g in value.split(",") if g.strip()]
    unknown = [g for g in groupings if g not in GROUPINGS]
    if unknown or not groupings:
        raise ReportError(f"--by {value!r}: use owner, kind or day (comma-separated)")
    return groupings


def _since(value: str, now: datetime) -> datetime:
    match = _SINCE.match(value.strip())
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        return parse_iso(value)
    except ValueError:
        raise ReportError(f"--since {value!r}: use 30m, 24h, 7d, 2w or a date") from None


@dataclass(frozen=True)
class Source:
    """The audit table a report reads, and the moment `--since` counts back from."""

    client: Any
    table: str
    account: str
    now: datetime
    label: str


@contextmanager
def _source(args: Any) -> Iterator[Source]:
    if args.table:
        yield _aws(args.table, args.region)
        return
    from local_runtime.audit_snapshot import DEFAULT_PATH, opened
    from local_runtime.errors import LocalRuntimeError

    path = Path(args.local) if args.local else DEFAULT_PATH
    try:
        with opened(path) as local:
            yield Source(
                local.client, local.table, local.account, local.now, f"local runtime, {path}"
            )
    except LocalRuntimeError as exc:
        raise ReportError(str(exc)) from None


def _aws(table: str, region: str | None) -> Source:
    import boto3

    try:
        session = boto3.Session(region_name=region)
        account = session.client("sts").get_caller_identity()["Account"]
        client = session.client("dynamodb")
        client.describe_table(TableName=table)
    except ClientError as exc:
        raise ReportError(f"table {table}: {exc.response['Error']['Message']}") from None
    except BotoCoreError as exc:
        raise ReportError(f"AWS: {exc}") from None
    label = f"{table} in {session.region_name}, account {account}"
    return Source(client, table, account, datetime.now(UTC), label)


if __name__ == "__main__":
    sys.exit(main())
