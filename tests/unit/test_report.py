"""`make report`: reading the audit table by account-week, adding up, printing, drawing."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from idle_reaper.audit import AuditRecord, record_for
from local_runtime import audit_snapshot
from local_runtime.runtime import running
from reporting.__main__ import main
from reporting.chart import daily_savings_png
from reporting.output import render
from reporting.reading import read
from reporting.totals import daily_savings, grouped, total
from tests.conftest import load_event

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def event(kind: str, at: datetime, owner: str, saved: float | None = None) -> dict[str, Any]:
    """A sample reaper event moved to another time, owner and saving."""
    out = load_event(f"reaper-{kind}.json")
    out["id"] = str(uuid.uuid4())
    out["detail"]["at"] = at.isoformat()
    out["detail"]["resource"]["owner"] = owner
    if saved is not None:
        out["detail"]["verdict"]["savings_usd"] = saved
    return out


# Two weeks and a bit of history: a stop a day for alice ($1.10), one every other day for bob
# ($0.35), a warning before each, and an old stop outside any 14-day window.
HISTORY = [
    e
    for day in range(15)
    for e in (
        event("warning", T0 + timedelta(days=day), "alice@example.com"),
        event("stopped", T0 + timedelta(days=day, minutes=5), "alice@example.com", 1.10),
        *(
            [event("stopped", T0 + timedelta(days=day, hours=2), "bob@example.com", 0.35)]
            if day % 2 == 0
            else []
        ),
    )
] + [event("stopped", T0 - timedelta(days=40), "alice@example.com", 99.0)]
END = T0 + timedelta(days=14, hours=12)


@pytest.fixture(scope="module")
def saved_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The history, put through the real audit function, kept as `make simulate` keeps it."""
    path = tmp_path_factory.mktemp("report") / "audit-table.json"
    with running(T0) as account:
        for e in HISTORY:
            account.functions.invoke("AuditFunction", e)
        audit_snapshot.save(account, path, END)
    return path


def test_reading_pages_through_each_week_the_window_touches(saved_table: Path) -> None:
    progress = io.StringIO()
    with audit_snapshot.opened(saved_table) as local:
        got = read(
            local.client, local.table, local.account, END - timedelta(days=14), END,
            progress, page_size=5,
        )  # fmt: skip
    # not the old stop, nor day 0's three events (the window opens at 21:00 that day)
    assert len(got) == len(HISTORY) - 1 - 3
    assert [r.sk for r in got] == sorted(r.sk for r in got)
    shown = progress.getvalue()
    for week in ("2026-W10", "2026-W11", "2026-W12"):  # one query per week the window touches
        assert f"{week}: page" in shown
    assert shown.endswith("page 8, 35 records\n")  # 15, 17 and 3 records in pages of 5


def test_totals_by_owner_and_kind_to_the_cent() -> None:
    records = [record_for(e, 400) for e in HISTORY[:-1]]
    by_owner = {row.key: row.to_dict() for row in grouped(records, "owner")}
    assert by_owner["alice@example.com"]["stopped"] == 15
    assert by_owner["alice@example.com"]["warnings"] == 15
    assert by_owner["alice@example.com"]["savings_usd"] == 16.50
    assert by_owner["bob@example.com"]["savings_usd"] == 2.80
    assert total(records).to_dict()["savings_usd"] == 19.30
    (kind,) = grouped(records, "kind")
    assert kind.to_dict()["savings_usd"] == 19.30
    assert daily_savings(records)["2026-03-02"] == 1.45


def test_formats_carry_the_same_numbers() -> None:
    records = [record_for(e, 400) for e in HISTORY[:5]]
    tables = {"owner": grouped(records, "owner"), "day": grouped(records, "day")}
    header = {"source": "test", "since": "a", "until": "b"}
    as_json = json.loads(render(tables, total(records), "json", header))
    rows = list(csv.DictReader(io.StringIO(render(tables, total(records), "csv", header))))
    text = render(tables, total(records), "table", header)
    assert as_json["total"]["savings_usd"] == 2.55
    assert rows[-1]["by"] == "total" and rows[-1]["savings_usd"] == "2.55"
    assert {r["by"] for r in rows} == {"owner", "day", "total"}
    assert "alice@example.com" in text and text.splitlines()[-1].split()[-2] == "2.55"


def test_the_chart_is_a_non_empty_png(tmp_path: Path) -> None:
    records = [record_for(e, 400) for e in HISTORY[:-1]]
    path = tmp_path / "savings.png"
    daily_savings_png(daily_savings(records), T0.date(), END.date(), path)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 5000  # axes, fifteen bars and their labels, not a blank canvas


def run_report(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_reads_the_saved_local_table(
    saved_table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = tmp_path / "c.png"
    code, out, err = run_report(
        "--local", str(saved_table), "--since", "7d", "--by", "owner", "--format", "json",
        "--chart", str(chart), capsys=capsys,
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["until"] == "2026-03-16T21:00:00Z"  # the run's virtual end, not today
    owners = {r["key"]: r for r in report["by"]["owner"]}
    assert owners["alice@example.com"]["stopped"] == 7
    assert chart.stat().st_size > 0
    assert "[report]" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "last tuesday"], "--since 'last tuesday'"),
        (["--by", "colour"], "--by 'colour'"),
        (["--local", "/nonexistent/audit.json"], "run `make demo` or `make simulate` first"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(
    args: list[str], message: str, saved_table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if "--local" not in args:
        args = ["--local", str(saved_table), *args]
    code, out, err = run_report(*args, capsys=capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and message in err


def test_a_table_that_does_not_exist_is_a_clear_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from moto import mock_aws

    with mock_aws():
        code, _, err = run_report("--table", "no-such-table", capsys=capsys)
    assert code == 2
    assert "no-such-table" in err and err.startswith("error: ")


def test_records_survive_the_snapshot_unchanged(saved_table: Path) -> None:
    snapshot = json.loads(saved_table.read_text())
    stored = {AuditRecord.from_item(i).event_id for i in snapshot["items"]}
    assert stored == {e["id"] for e in HISTORY}


def test_the_command_reads_a_deployed_table_with_the_callers_credentials(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--table: account from STS, queries by account-week, `now` from the real clock (here the
    emulated account's)."""
    with running(T0 + timedelta(days=1)) as account:
        for name in ("warning", "stopped", "exempt"):
            account.functions.invoke("AuditFunction", load_event(f"reaper-{name}.json"))
        table = account.stack.physical_name("AuditTable")
        code, out, err = run_report("--table", table, "--format", "json", capsys=capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["source"] == f"{table} in us-east-1, account 123456789012"
    assert (report["total"]["stopped"], report["total"]["savings_usd"]) == (1, 104.5)
    owners = {r["key"]: (r["stopped"], r["warnings"]) for r in report["by"]["owner"]}
    assert owners == {"frank@example.com": (1, 0), "analyst@example.com": (0, 1)}


def test_keeps_from_slack_are_counted_per_owner_in_every_format() -> None:
    records = [
        record_for(e, 400)
        for e in (
            event("warning", T0, "alice@example.com"),
            event("kept", T0 + timedelta(minutes=2), "alice@example.com"),
            event("kept", T0 + timedelta(minutes=30), "alice@example.com"),
            event("kept", T0 + timedelta(minutes=3), "bob@example.com"),
            event("stopped", T0 + timedelta(hours=2), "alice@example.com", 1.10),
        )
    ]
    owners = {row.key: row for row in grouped(records, "owner")}
    assert (owners["alice@example.com"].kept, owners["bob@example.com"].kept) == (2, 1)
    assert total(records).kept == 3 and total(records).stopped == 1
    header = {"source": "test", "since": "a", "until": "b"}
    tables = {"owner": grouped(records, "owner")}
    rows = list(csv.DictReader(io.StringIO(render(tables, total(records), "csv", header))))
    assert [r["kept"] for r in rows] == ["2", "1", "3"]
    text = render(tables, total(records), "table", header)
    assert text.splitlines()[2].split()[:4] == ["owner", "stopped", "warnings", "kept"]
