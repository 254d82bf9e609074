"""The commands a person runs: `make simulate` / `make demo` / `make replay` output and errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EVENTS, ROOT, SCENARIOS


def command(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m <module> args` as make runs it, in a clean environment."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={"PYTHONPATH": f"{ROOT / 'src'}:{ROOT}", "PATH": "/usr/bin:/bin"},
    )


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return command("local_runtime", *args)


def report(*args: str) -> subprocess.CompletedProcess[str]:
    return command("reporting", *args)


def test_simulate_prints_a_timeline_then_the_summary_as_the_last_line() -> None:
    result = cli("simulate", str(SCENARIOS / "abandoned.yaml"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1])["summary"]
    assert summary["resources"][0]["outcome"] == "stopped"
    assert any("STOPPED" in line for line in lines[:-1])
    assert "[simulate] 100%" in result.stderr  # progress goes to stderr, never into the summary


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("name: x\nstart: 2026-03-02T09:00:00Z\nuntil: 8 hours\nresources: []\n", "bad duration"),
        (
            "name: x\nstart: 2026-03-02T09:00:00Z\nuntil: 8h\nresources: []\ncolour: red\n",
            "unknown key",
        ),
        (
            "start: 2026-03-02T09:00:00Z\nuntil: 8h\nresources: [{kind: redshift, id: a}]\n",
            "unknown kind",
        ),
        (
            "start: 2026-03-02T09:00:00Z\nuntil: 8h\n"
            "resources: [{kind: glue-session, id: a, workerz: 5}]\n",
            "unknown key",
        ),
        (
            "start: 2026-03-02T09:00:00Z\nuntil: 8h\nparameters: {GlueIdle: 5}\nresources: []\n",
            "unknown template parameter",
        ),
        (
            "start: 2026-03-02T09:00:00Z\nuntil: 8h\nparameters: {DryRun: maybe}\nresources: []\n",
            "allowed values",
        ),
        ("start: 2026-03-02 09:00\nuntil: 8h\nresources: []\n", "time zone"),
        ("start: [\n", "not valid YAML"),
    ],
)
def test_invalid_scenarios_fail_with_one_clear_line_and_run_nothing(
    tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    result = cli("simulate", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


def test_replay_runs_until_the_watcher_ends() -> None:
    result = cli("replay", str(EVENTS / "glue-create-session.json"))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])["summary"]
    assert summary["resources"][0]["id"] == "alice-etl"
    assert summary["resources"][0]["outcome"] == "stopped"
    assert summary["end"] == "2026-03-02T09:30:00Z"


def test_replay_of_a_failed_call_starts_no_watcher() -> None:
    result = cli("replay", str(EVENTS / "glue-create-session-failed.json"))
    assert result.returncode == 0, result.stderr
    assert "matched no rule" in result.stdout
    assert json.loads(result.stdout.strip().splitlines()[-1])["summary"]["resources"] == []


@pytest.mark.parametrize(
    ("body", "message"), [("{", "not valid JSON"), ('{"a": 1}', "not an EventBridge event")]
)
def test_replay_refuses_a_file_that_is_not_an_event(
    tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(body)
    result = cli("replay", str(path))
    assert result.returncode == 2 and message in result.stderr


def test_report_after_the_demo_equals_the_demo_summary_per_owner_and_kind(tmp_path: Path) -> None:
    table = tmp_path / "audit-table.json"
    demo = cli("simulate", str(SCENARIOS / "demo.yaml"), "--audit-out", str(table))
    assert demo.returncode == 0, demo.stderr
    summary = json.loads(demo.stdout.strip().splitlines()[-1])["summary"]
    saved = {r["id"]: r["saved_usd"] for r in summary["resources"]}

    result = report("--local", str(table), "--format", "json")
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    owners = {row["key"]: row for row in got["by"]["owner"]}
    (kind,) = got["by"]["kind"]
    assert got["total"]["stopped"] == kind["stopped"] == summary["totals"]["stopped"] == 2
    assert got["total"]["savings_usd"] == kind["savings_usd"] == summary["totals"]["saved_usd"]
    assert owners["alice@example.com"]["savings_usd"] == saved["alice-etl"]
    assert owners["dave@example.com"]["savings_usd"] == saved["dave-adhoc"]
    assert owners["bob@example.com"]["stopped"] == owners["carol@example.com"]["stopped"] == 0
    assert "[report]" in result.stderr  # progress while it pages

    table_text = report("--local", str(table), "--quiet").stdout
    assert "owner" in table_text and "kind" in table_text
    assert f"{summary['totals']['saved_usd']:,.2f}" in table_text
