"""The commands a person runs: `make simulate` / `make demo` / `make replay` output and errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

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
        # absurd numbers: each was an OverflowError traceback, or ran regardless
        ("start: 2026-03-02T09:00:00Z\nuntil: 99999999999d\nresources: []\n", "longer than 366d"),
        (
            "start: 9999-12-31T09:00:00Z\nuntil: 1d\nresources: [{kind: glue-session, id: a}]\n",
            "outside 2000-2099",
        ),
        (
            "start: 2026-03-02T09:00:00Z\nuntil: 8h\n"
            "resources: [{kind: glue-session, id: a, workers: 1000000000000}]\n",
            "from 2 to 299",
        ),
        (
            "start: 2026-03-02T09:00:00Z\nuntil: 8h\n"
            "resources: [{kind: glue-session, id: a, idle_timeout: 99999999999999}]\n",
            "from 1 to 10080",
        ),
        (
            "start: 2026-03-02T09:00:00Z\nuntil: 8h\nresources: [{kind: glue-session, id: a,"
            " statements: [{at: 1m, runs: 99999999d}]}]\n",
            "longer than 366d",
        ),
        (
            "start: 2026-03-02T09:00:00Z\nuntil: 8h\n"
            "resources: [{kind: glue-session, id: a, at: -400d}]\n",
            "longer than 366d",
        ),
        (
            "start: 2026-03-02T09:00:00Z\nuntil: 8h\n"
            "resources: [{kind: glue-session, id: a, event: late}]\n",
            "`late` needs `event_delay`",
        ),
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


def stop_notifications(summary: dict[str, Any]) -> set[tuple[str, str]]:
    return {(n["channel"], n["at"]) for n in summary["notifications"] if n["type"] == "stopped"}


def test_replay_runs_until_the_watcher_and_what_it_set_off_are_done() -> None:
    result = cli("replay", str(EVENTS / "glue-create-session.json"))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])["summary"]
    assert summary["resources"][0]["id"] == "alice-etl"
    assert summary["resources"][0]["outcome"] == "stopped"
    assert summary["resources"][0]["stopped_at"] == "2026-03-02T09:30:00Z"
    # the stop's notifications run after the watcher ends; the session is STOPPED 15 s on
    assert stop_notifications(summary) == {
        ("slack", "2026-03-02T09:30:00Z"),
        ("email", "2026-03-02T09:30:00Z"),
    }
    assert summary["end"] == "2026-03-02T09:30:15Z"


def test_replay_deploys_into_the_events_own_region() -> None:
    """A session recorded in eu-west-1 is created, watched and stopped there (it used to be
    created in us-east-1, so the watcher found nothing and the replay ended `gone`)."""
    result = cli("replay", str(EVENTS / "glue-create-session-eu-west-1.json"))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])["summary"]
    (resource,) = summary["resources"]
    assert (resource["id"], resource["outcome"]) == ("alice-etl", "stopped")
    assert resource["stopped_at"] == "2026-03-02T09:30:00Z"
    assert ":eu-west-1:123456789012:" in summary["parameters"]["SlackWebhookSecretArn"]
    assert stop_notifications(summary) == {
        ("slack", "2026-03-02T09:30:00Z"),
        ("email", "2026-03-02T09:30:00Z"),
    }


def edited_event(tmp_path: Path, edit: dict[str, Any]) -> Path:
    """The eu-west-1 sample with dotted paths set (`detail.requestParameters.idleTimeout`)."""
    event = json.loads((EVENTS / "glue-create-session-eu-west-1.json").read_text())
    for dotted, value in edit.items():
        *parents, leaf = dotted.split(".")
        node = event
        for key in parents:
            node = node[key]
        node[leaf] = value
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(event))
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"detail.requestParameters.idleTimeout": 1e30}, "idleTimeout: must be a whole number"),
        ({"detail.requestParameters.numberOfWorkers": "abc"}, "numberOfWorkers: must be a whole"),
        ({"detail.requestParameters.numberOfWorkers": 10**12}, "from 2 to 299"),
        ({"detail.requestParameters.workerType": ["G.1X"]}, "workerType"),
        ({"detail.requestParameters.tags": ["owner"]}, "tags: must map strings"),
        ({"time": "9999-12-31T09:00:00Z"}, "outside 2000-2099"),
        ({"account": "12345"}, "not a 12-digit account id"),
        ({"region": "xx-fake-9", "detail.awsRegion": "xx-fake-9"}, "not an AWS region"),
        ({"detail.awsRegion": "us-east-1"}, "detail.awsRegion 'us-east-1' is not the event's"),
    ],
)
def test_replay_refuses_absurd_numbers_and_places_in_one_line(
    tmp_path: Path, edit: dict[str, Any], message: str
) -> None:
    result = cli("replay", str(edited_event(tmp_path, edit)))
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("bench", "--days", "1e30"), "--days"),
        (("bench", "--days", "nan"), "--days"),
        (("bench", "--sessions", "0"), "--sessions"),
        (("bench-notify", "--invocations", "0"), "--invocations"),
    ],
)
def test_bench_refuses_absurd_sizes_in_one_line(args: tuple[str, ...], message: str) -> None:
    result = cli(*args)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


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
    kinds = {row["key"]: row for row in got["by"]["kind"]}
    assert got["total"]["stopped"] == summary["totals"]["stopped"] == 5
    assert got["total"]["savings_usd"] == summary["totals"]["saved_usd"]
    for kind, row in kinds.items():
        ours = [r for r in summary["resources"] if r["kind"] == kind]
        assert row["stopped"] == sum(r["outcome"] == "stopped" for r in ours), kind
        assert row["savings_usd"] == round(sum(r["saved_usd"] for r in ours), 2), kind
    assert set(kinds) == {"glue-session", "sagemaker-notebook", "sagemaker-app", "ec2-instance"}
    assert owners["alice@example.com"]["savings_usd"] == saved["alice-etl"]
    assert owners["dave@example.com"]["savings_usd"] == saved["dave-adhoc"]
    assert owners["erin@example.com"]["savings_usd"] == saved["erin-notebook"]
    assert owners["gina@example.com"]["savings_usd"] == saved["gina-build"]
    assert owners["bob@example.com"]["stopped"] == owners["carol@example.com"]["stopped"] == 0
    assert "[report]" in result.stderr  # progress while it pages

    table_text = report("--local", str(table), "--quiet").stdout
    assert "owner" in table_text and "kind" in table_text
    assert f"{summary['totals']['saved_usd']:,.2f}" in table_text


@pytest.mark.parametrize(
    ("event", "kind", "outcome", "stopped_at"),
    [
        ("sagemaker-notebook-inservice.json", "sagemaker-notebook", "stopped", "10:06:07Z"),
        ("sagemaker-create-app-jupyterlab.json", "sagemaker-app", "stopped", "10:02:00Z"),
        # the native event carries no tags: the replayed instance is not opted in
        ("ec2-instance-running.json", "ec2-instance", "exempt", None),
    ],
)
def test_replay_works_for_every_kinds_start_event(
    event: str, kind: str, outcome: str, stopped_at: str | None
) -> None:
    result = cli("replay", str(EVENTS / event))
    assert result.returncode == 0, result.stderr
    (resource,) = json.loads(result.stdout.strip().splitlines()[-1])["summary"]["resources"]
    assert (resource["kind"], resource["outcome"]) == (kind, outcome)
    assert resource["stopped_at"] == (stopped_at and f"2026-03-02T{stopped_at}")
    assert resource["warnings"] == (1 if stopped_at else 0)


def test_replay_of_a_free_studio_app_starts_no_watcher() -> None:
    result = cli("replay", str(EVENTS / "sagemaker-create-app-jupyterserver.json"))
    assert result.returncode == 0, result.stderr
    assert "matched no rule" in result.stdout
    assert json.loads(result.stdout.strip().splitlines()[-1])["summary"]["resources"] == []
