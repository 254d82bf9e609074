"""Every bundled scenario through the whole system: rules from template.yaml, the real ASL,
the real handlers. Checks the promises (stop on time, never while busy, never exempt, never
in dry run) on every scenario, and each scenario's own story."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from idle_reaper.audit import AuditRecord
from idle_reaper.billing import usd
from idle_reaper.kinds import kind_named
from idle_reaper.policy import IDLE_MINUTES_TAG, Policy
from idle_reaper.policy_check import POLICY_INVALID
from idle_reaper.times import parse_iso, to_iso
from idle_reaper.watch import HISTORY_BUDGET
from local_runtime import scenario as scenarios
from local_runtime import stack as stack_module
from local_runtime.emulators.glue import GlueEmulator
from local_runtime.runtime import Account
from local_runtime.simulation import simulate
from local_runtime.summary import executions_by_resource, scenario_names
from reporting.totals import grouped, total
from tests.conftest import ROOT, SCENARIOS

ALL = sorted(SCENARIOS.glob("*.yaml"))
"""The bundled scenarios; the fault suite's (scenarios/faults/) get these same generic checks
in tests/e2e/test_faults.py, so that each runs once, in that file's worker (`-n --dist
loadfile` gives each file its own)."""
DEAD_LETTERS: dict[Path, list[dict[str, Any]]] = {}
AUDIT: dict[str, list[AuditRecord]] = {}
"""Each scenario's audit table (by scenario name), read before its account is torn down."""
TASK_FAILURES: dict[Path, dict[str, list[str]]] = {}
"""A fault scenario's failed Task errors, by resource, in order (tests/e2e/test_faults.py)."""


@cache
def run(path: Path) -> tuple[dict[str, Any], Account, scenarios.Scenario]:
    """Each scenario runs once per test session; tests read its results."""
    scenario = scenarios.load(path)
    seen: list[Account] = []

    def keep(account: Account) -> None:  # read the queue while the account still exists
        seen.append(account)
        DEAD_LETTERS[path] = notify_dead_letters(account)
        AUDIT[scenario.name] = audit_records(account)
        if scenario.faults:
            TASK_FAILURES[path] = task_failures(account)

    summary = simulate(scenario, out=io.StringIO(), progress=None, inspect=keep)
    return summary["summary"], seen[0], scenario


def glue(account: Account) -> GlueEmulator:
    emulator = account.emulators["glue-session"]
    assert isinstance(emulator, GlueEmulator)
    return emulator


def notify_dead_letters(account: Account) -> list[dict[str, Any]]:
    sqs = account.clients["sqs"]
    url = sqs.get_queue_url(QueueName=account.stack.physical_name("NotifyDeadLetterQueue"))
    got = sqs.receive_message(QueueUrl=url["QueueUrl"], MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def task_failures(account: Account) -> dict[str, list[str]]:
    """Each watched resource's failed Task errors (`Glue.ThrottlingException`, ...), in the
    order its executions met them."""
    out: dict[str, list[str]] = {}
    for resource, arns in executions_by_resource(account).items():
        for arn in arns:
            out.setdefault(resource, []).extend(
                e["taskFailedEventDetails"]["error"]
                for e in account.history(arn)
                if e["type"] == "TaskFailed"
            )
    return out


def audit_records(account: Account) -> list[AuditRecord]:
    dynamodb = account.clients["dynamodb"]
    table = account.stack.physical_name("AuditTable")
    pages = dynamodb.get_paginator("scan").paginate(TableName=table)
    return [AuditRecord.from_item(item) for page in pages for item in page["Items"]]


@pytest.fixture(scope="module", params=ALL, ids=[p.stem for p in ALL])
def result(request: pytest.FixtureRequest) -> tuple[dict[str, Any], Account, scenarios.Scenario]:
    return run(request.param)


@cache
def inspect_environment(parameters: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The inspect function's environment as the template sets it for these parameters."""
    stack = stack_module.load(ROOT / "template.yaml", dict(parameters))
    return dict(stack.resources["InspectFunction"]["Properties"]["Environment"]["Variables"])


def allowance(scenario: scenarios.Scenario, spec: scenarios.ResourceSpec) -> int:
    """The resource's idle allowance: its kind's parameter, as the template passes it, or its
    idle-minutes tag."""
    parameters = tuple(sorted((k, str(v)) for k, v in scenario.parameters.items()))
    env = inspect_environment(parameters)
    default = int(env[kind_named(spec.kind).idle_minutes_env])
    tag = spec.tags.get(IDLE_MINUTES_TAG, "")
    return int(tag) if tag.isdigit() and int(tag) >= 1 else default


def test_stops_land_within_a_minute_of_the_deadline(result: Any) -> None:
    """At the deadline; or, for a resource first seen past it (a late start event), a full
    warning after it was first seen: never at once, never unwarned."""
    summary, _, scenario = result
    if scenario.policy is not None:
        pytest.skip("a policy document sets its own allowances: tests/e2e/test_policy.py")
    if scenario.keeps:
        pytest.skip("a keep from Slack moves the deadline: tests/e2e/test_keep_scenarios.py")
    if scenario.faults:
        pytest.skip("a fault may delay the stop: tests/e2e/test_faults.py says when each landed")
    warning = int(scenario.parameters.get("WarningMinutes", 5))
    for spec, res in zip(scenario.resources, summary["resources"], strict=True):
        if res["outcome"] in ("stopped", "would-stop"):
            minutes = allowance(scenario, spec)
            # the look that stops comes when the kind's signal has reported up to the deadline
            lag = kind_named(spec.kind).signal_lag
            deadline = parse_iso(res["last_activity_at"]) + timedelta(minutes=minutes) + lag
            lead = timedelta(minutes=min(warning, minutes - 1))
            if spec.event == "late":
                seen = scenario.start + spec.at + spec.event_delay
                deadline = max(deadline, seen + lead)
            if spec.at < timedelta(0):  # older than the stack: the first sweep finds it
                sweep = timedelta(minutes=int(scenario.parameters.get("SweepMinutes", 15)))
                deadline = max(deadline, scenario.start + sweep + lead)
            late = parse_iso(res["stopped_at"]) - deadline
            assert timedelta(0) <= late <= timedelta(seconds=60), (spec.id, late)


def test_nothing_is_ever_stopped_while_a_statement_runs(result: Any) -> None:
    """(A policy rule's max_running_minutes stops busy or not: tests/e2e/test_policy.py.)"""
    _, account, scenario = result
    capped = _running_capped(scenario)
    ids = {glue(account).resource_id(s) for s in scenario.resources if s.id in capped}
    for life in glue(account).lives.values():
        if life.id in ids:
            continue
        if life.ended_by == "reaper":
            assert all(s.state == "AVAILABLE" for s in life.statements), life.id


def test_no_resource_of_any_kind_is_stopped_inside_one_of_its_busy_periods(result: Any) -> None:
    """Every kind's `activity:`: a busy kernel, a working instance, a running statement. (A
    running cap, SageMakerMaxHours or a policy rule's max_running_minutes, stops whatever
    runs: no bundled scenario sets SageMakerMaxHours; a rule's cap is tested in test_policy.)"""
    _, account, scenario = result
    assert int(scenario.parameters.get("SageMakerMaxHours", 0)) == 0
    capped = _running_capped(scenario)
    for spec in scenario.resources:
        if spec.id in capped:
            continue
        life = account.emulators[spec.kind].life(spec.id)
        if life is None or life.ended_by != "reaper" or life.ended_at is None:
            continue
        for busy in spec.activity:
            began = scenario.start + busy.at  # `at` counts from the scenario start
            assert not began <= life.ended_at < began + busy.runs, (spec.id, busy)


def test_exempt_sessions_are_never_stopped(result: Any) -> None:
    _, account, scenario = result
    for spec in scenario.resources:
        if spec.tags.get("idle-reaper:exempt") == "true":
            assert glue(account).lives[spec.id].ended_by != "reaper"


def test_dry_run_stops_nothing(result: Any) -> None:
    summary, account, scenario = result
    if str(scenario.parameters.get("DryRun", "false")) == "true":
        assert all(life.ended_by != "reaper" for life in glue(account).lives.values())
        assert summary["totals"]["stopped"] == 0


def _running_capped(scenario: scenarios.Scenario) -> set[str]:
    """Resources a policy rule with max_running_minutes applies to (stopped busy or not)."""
    if scenario.policy is None:
        return set()
    policy = Policy(idle_minutes={}).with_document(scenario.policy)
    return {
        spec.id
        for spec in scenario.resources
        if policy.for_resource(spec.kind, spec.tags, None).max_running_minutes is not None
    }


def _notice(published: Any) -> bool:
    """A notice (a warning, a guardrail notice, a keep from Slack): the watch goes on after it."""
    verdict = published.detail.get("verdict") or {}
    return published.detail_type in ("warning", "kept") or verdict.get("action") == "warn"


def _policy_failure(published: Any) -> bool:
    return (published.detail.get("error") or {}).get("Error") == POLICY_INVALID


def test_every_watcher_ended_in_one_outcome_or_still_waits(result: Any) -> None:
    """One outcome per watcher, and per resource one outcome besides `failed` ones (a watch
    that gave up, after an outage, is taken up again by the sweeper, which ends it once).
    Only a start event that names no resource ends `ignored`, and names none."""
    _, account, _ = result
    outcomes = [p for p in account.bus.published if not _notice(p) and not _policy_failure(p)]
    executions = [p.detail.get("execution_arn") for p in outcomes]
    assert len(executions) == len(set(executions)), "a watcher published two outcomes"
    ignored = [p for p in outcomes if p.detail_type == "ignored"]
    assert all(p.resource_id is None for p in ignored), "an ignored watch named a resource"
    named = [p for p in outcomes if p.detail_type != "ignored"]
    assert None not in [p.resource_id for p in named], "an outcome names no resource"
    final = [p.resource_id for p in named if p.detail_type != "failed"]
    assert len(final) == len(set(final)), "a resource got two outcomes"


def test_no_execution_nears_the_history_limit(result: Any) -> None:
    summary, _, _ = result
    for res in summary["resources"]:
        assert res["history_events"] < HISTORY_BUDGET + 1000, res["id"]


def test_summary_has_every_documented_key(result: Any) -> None:
    summary, _, _ = result
    assert set(summary) >= {"scenario", "resources", "notifications", "totals"}
    for res in summary["resources"]:
        assert set(res) >= {
            "kind",
            "id",
            "outcome",
            "started_at",
            "last_activity_at",
            "stopped_at",
            "idle_minutes_billed",
            "cost_usd",
            "wasted_usd",
            "warnings",
            "executions",
            "state_transitions",
        }
    assert set(summary["totals"]) >= {"stopped", "cost_usd", "wasted_usd", "state_transitions"}
    assert summary["totals"]["stopped"] == sum(
        r["outcome"] in ("stopped", "guardrail") for r in summary["resources"]
    )


def test_the_audit_table_holds_exactly_one_record_per_watcher_event(result: Any) -> None:
    _, account, scenario = result
    records = AUDIT[scenario.name]
    published = sorted((p.detail_type, p.resource_id, to_iso(p.at)) for p in account.bus.published)
    recorded = sorted((r.type, r.resource_id, r.at) for r in records)
    assert recorded == [(t, i or "unknown", at) for t, i, at in published]
    assert len({r.event_id for r in records}) == len(records)


def test_report_totals_equal_the_summary_to_the_cent(result: Any) -> None:
    summary, _, scenario = result
    records = AUDIT[scenario.name]
    totals = total(records).to_dict()
    assert totals["stopped"] == summary["totals"]["stopped"]
    assert totals["would_stop"] == summary["totals"]["would_stop"]
    assert totals["warnings"] == summary["totals"]["warnings"]
    # The record's savings are the deciding look's; a stop the service refused and the ASL
    # retried (jittered seconds) lands a little later: only a scripted StopSession fault allows
    # that gap, one cent and a tenth of a minute per stop at most.
    retried = sum(getattr(fault, "operation", None) == "StopSession" for fault in scenario.faults)
    cents = 0.01 * summary["totals"]["stopped"] if retried else 0.0
    minutes = 0.1 * summary["totals"]["stopped"] if retried else 0.0
    assert abs(totals["savings_usd"] - summary["totals"]["saved_usd"]) <= cents + 1e-9
    gap = totals["idle_minutes_reclaimed"] - summary["totals"]["idle_minutes_reclaimed"]
    assert abs(gap) <= minutes + 1e-9
    for row in grouped(records, "kind"):
        resources = [r for r in summary["resources"] if r["kind"] == row.key]
        priced = [r["saved_usd"] for r in resources if r["saved_usd"] is not None]
        # unknown prices save nothing
        assert abs(row.to_dict()["savings_usd"] - usd(sum(priced))) <= cents + 1e-9


def test_three_deliveries_of_everything_change_nothing_a_person_sees() -> None:
    once, _, _ = run(SCENARIOS / "demo.yaml")
    thrice, account, scenario = run(SCENARIOS / "redelivered.yaml")
    assert thrice["notifications"] == once["notifications"]
    assert thrice["totals"] | {"executions": 0, "state_transitions": 0} == once["totals"] | {
        "executions": 0,
        "state_transitions": 0,
    }
    # each start event's two extra deliveries start two watchers that end at the claim (a sweep
    # that meets a resource before its watcher claims it adds one more, in both runs alike)
    started = len(scenario.resources)
    assert thrice["totals"]["executions"] == once["totals"]["executions"] + 2 * started
    assert len(AUDIT[scenario.name]) == len(account.bus.published) == 14


# -- each scenario's own story -------------------------------------------------------------------
def by_id(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in summary["resources"]}


def test_a_session_busy_for_47_hours_is_stopped_on_time_with_no_history_near_the_limit() -> None:
    summary, _, _ = run(SCENARIOS / "busy-47h.yaml")
    res = by_id(summary)["marathon"]
    assert res["outcome"] == "stopped"
    assert (res["last_activity_at"], res["stopped_at"]) == (
        "2026-03-04T08:01:00Z",
        "2026-03-04T08:06:00Z",  # the 5-minute allowance after 47 hours of work
    )
    assert res["warnings"] == 1
    assert res["executions"] >= 3  # continued as new executions...
    assert 0 < res["history_events"] <= HISTORY_BUDGET  # ...long before 25,000 events
    assert told(summary, "marathon") == [
        ("warning", "email"),
        ("warning", "slack"),
        ("stopped", "email"),
        ("stopped", "slack"),
    ]


def test_late_start_events_warn_first_then_stop_a_full_warning_later() -> None:
    summary, _, _ = run(SCENARIOS / "late-start-event.yaml")
    res = by_id(summary)
    assert (res["retried-tab"]["outcome"], res["retried-tab"]["stopped_at"]) == (
        "stopped",
        "2026-03-02T09:50:00Z",  # delivered 09:45, 15 minutes past its deadline
    )
    assert res["redriven-tab"]["stopped_at"] == "2026-03-03T11:15:00Z"  # delivered 26 h late
    for tab in ("retried-tab", "redriven-tab"):
        assert res[tab]["warnings"] == 1 and res[tab]["executions"] == 1
        assert told(summary, tab) == [
            ("warning", "email"),
            ("warning", "slack"),
            ("stopped", "email"),
            ("stopped", "slack"),
        ]


def test_abandoned_session_costs_at_most_14_transitions() -> None:
    summary, _, _ = run(SCENARIOS / "abandoned.yaml")
    tab = by_id(summary)["forgotten-tab"]
    assert tab["outcome"] == "stopped"
    assert tab["stopped_at"] == "2026-03-02T09:30:00Z"
    assert tab["warnings"] == 1
    assert tab["state_transitions"] <= 14
    assert tab["cost_usd"] == 1.10  # 30 minutes of 5 DPU at $0.44


def test_active_then_idle_is_stopped_after_the_last_statement() -> None:
    summary, _, _ = run(SCENARIOS / "active-then-idle.yaml")
    res = by_id(summary)["busy-morning"]
    assert (res["outcome"], res["last_activity_at"], res["stopped_at"]) == (
        "stopped",
        "2026-03-02T10:12:00Z",
        "2026-03-02T10:42:00Z",
    )
    assert res["wasted_usd"] == 1.10


def test_a_three_hour_statement_is_never_cut() -> None:
    summary, account, _ = run(SCENARIOS / "long-statement.yaml")
    res = by_id(summary)["big-join"]
    assert [s.state for s in glue(account).lives["big-join"].statements] == ["AVAILABLE"]
    assert res["last_activity_at"] == "2026-03-02T12:10:00Z"
    assert res["stopped_at"] == "2026-03-02T12:40:00Z"


def test_tag_overrides_and_a_typo() -> None:
    summary, _, _ = run(SCENARIOS / "tag-override.yaml")
    got = {k: v["stopped_at"] for k, v in by_id(summary).items()}
    assert got == {
        "quick": "2026-03-02T09:10:00Z",
        "patient": "2026-03-02T10:30:00Z",
        "typo": "2026-03-02T09:30:00Z",
    }


@pytest.mark.parametrize(
    ("name", "resource", "outcome", "ended_by"),
    [
        ("user-stops-first.yaml", "tidy-user", "gone", "user"),
        ("glue-timeout-first.yaml", "short-timeout", "gone", "timeout"),
        ("exempt.yaml", "shared-dev", "exempt", None),
        ("dry-run.yaml", "watched-only", "would-stop", None),
    ],
)
def test_outcomes(name: str, resource: str, outcome: str, ended_by: str | None) -> None:
    summary, account, _ = run(SCENARIOS / name)
    assert by_id(summary)[resource]["outcome"] == outcome
    assert glue(account).lives[resource].ended_by == ended_by


def test_missed_and_duplicate_start_events() -> None:
    summary, _, _ = run(SCENARIOS / "missed-and-duplicate.yaml")
    res = by_id(summary)
    assert res["twice"]["outcome"] == "stopped"
    assert res["twice"]["executions"] == 2
    assert res["twice"]["warnings"] == 1  # the duplicate watcher ends at its claim
    # no start event: the sweeper (every 15 minutes) found it at 09:15 and watched it from then
    assert (res["unseen"]["outcome"], res["unseen"]["stopped_at"]) == (
        "stopped",
        "2026-03-02T09:30:00Z",
    )
    assert (res["unseen"]["executions"], res["unseen"]["warnings"]) == (1, 1)


def test_the_sweeper_catches_every_missed_resource_and_never_doubles_a_watch() -> None:
    summary, account, scenario = run(SCENARIOS / "sweeper.yaml")
    res = by_id(summary)
    sweep = timedelta(minutes=int(scenario.parameters["SweepMinutes"]))
    deployed = scenario.start
    for spec in scenario.resources:
        if spec.id == "not-opted-in":
            continue
        r = res[spec.id]
        assert (r["outcome"], r["warnings"]) == ("stopped", 1), spec.id
        # one outcome per resource, whatever the deliveries and the sweeps
        watched = account.emulators[spec.kind].resource_id(spec)
        outcomes = [p for p in account.bus.published if p.resource_id == watched]
        assert [p.detail_type for p in outcomes] == ["warning", "stopped"], spec.id
        # stopped at its deadline, or, for a resource older than the stack, within one sweep
        # interval (plus the warning) of the deploy
        deadline = parse_iso(r["last_activity_at"]) + timedelta(minutes=allowance(scenario, spec))
        deadline += kind_named(spec.kind).signal_lag
        found_by = max(deadline, deployed + sweep + timedelta(minutes=5))
        assert parse_iso(r["stopped_at"]) <= found_by, spec.id
    assert res["twice"]["executions"] == 2  # the duplicate ends at the claim; sweeps start none
    assert all(res[r]["executions"] == 1 for r in ("unseen", "nb-unseen", "box-unseen"))
    # never listed: the sweeper only lists opted-in instances
    assert (res["not-opted-in"]["outcome"], res["not-opted-in"]["executions"]) == ("running", 0)


def test_demo_tells_its_story() -> None:
    summary, _, _ = run(SCENARIOS / "demo.yaml")
    res = by_id(summary)
    assert res["alice-etl"]["outcome"] == "stopped" and res["alice-etl"]["warnings"] == 2
    assert res["bob-explore"]["outcome"] == "exempt"
    assert res["carol-report"]["outcome"] == "gone"
    assert res["dave-adhoc"]["stopped_at"] == "2026-03-02T10:20:00Z"
    # every kind reaped at its deadline: an hour after the last kernel, the app's creation, the
    # build's work, once its signal has reported up to the deadline (SageMaker: the heartbeat
    # after it, 2 minutes later; EC2: CloudWatch's period, 5 minutes later)
    assert res["erin-notebook"]["stopped_at"] == "2026-03-02T11:32:00Z"
    assert res["frank-lab"]["stopped_at"] == "2026-03-02T12:02:00Z"
    assert res["gina-build"]["stopped_at"] == "2026-03-02T13:50:00Z"
    assert all(res[r]["warnings"] == 1 for r in ("erin-notebook", "frank-lab", "gina-build"))
    # and the instance nobody opted in is left alone
    assert (res["db-primary"]["outcome"], res["db-primary"]["ended_by"]) == ("exempt", None)


# -- notifications ---------------------------------------------------------------------------
def told(summary: dict[str, Any], resource: str) -> list[tuple[str, str]]:
    return [
        (n["type"], n["channel"]) for n in summary["notifications"] if n["resource"] == resource
    ]


def test_demo_tells_each_stopped_owner_on_both_channels_after_a_warning() -> None:
    summary, _, scenario = run(SCENARIOS / "demo.yaml")
    assert int(scenario.parameters["WarningMinutes"]) > 0
    for res in summary["resources"]:
        if res["outcome"] != "stopped":
            continue
        messages = told(summary, res["id"])
        assert messages.count(("stopped", "slack")) == 1
        assert messages.count(("stopped", "email")) == 1
        first_stop = messages.index(("stopped", "email"))
        assert {("warning", "slack"), ("warning", "email")} <= set(messages[:first_stop])


def test_notifications_go_out_when_the_event_happens(result: Any) -> None:
    summary, account, scenario = result
    names = scenario_names(account, scenario)
    published = {  # at the summary's precision: whole seconds, a fraction rounded up (to_iso)
        (p.detail_type, names.get(p.resource_id or "", p.resource_id), to_iso(p.at))
        for p in account.bus.published
    }
    for note in summary["notifications"]:
        assert (note["type"], note["resource"], note["at"]) in published


def test_warning_then_activity_tells_the_owner_nothing_further() -> None:
    summary, _, _ = run(SCENARIOS / "warning-then-activity.yaml")
    assert by_id(summary)["comeback"]["outcome"] == "running"
    assert sorted(told(summary, "comeback")) == [("warning", "email"), ("warning", "slack")]


def test_warning_then_stop_tells_the_owner_twice_on_each_channel() -> None:
    summary, _, _ = run(SCENARIOS / "warning-then-stop.yaml")
    assert told(summary, "gone-home") == [
        ("warning", "email"),
        ("warning", "slack"),
        ("stopped", "email"),
        ("stopped", "slack"),
    ]


def test_slack_answering_429_429_ok_delivers_exactly_one_message() -> None:
    summary, account, _ = run(SCENARIOS / "slack-rate-limited.yaml")
    assert told(summary, "patient-tab").count(("stopped", "slack")) == 1
    assert [r.status for r in account.slack.requests] == [429, 429, 200]


def test_slack_down_dead_letters_the_events_and_the_stop_still_happens() -> None:
    summary, _, _ = run(SCENARIOS / "slack-down.yaml")
    assert by_id(summary)["lonely-tab"]["stopped_at"] == "2026-03-02T09:30:00Z"
    assert [t for t, c in told(summary, "lonely-tab") if c == "slack"] == []
    assert told(summary, "lonely-tab") == [("warning", "email"), ("stopped", "email")]
    dead = sorted(
        m["requestPayload"]["detail-type"] for m in DEAD_LETTERS[SCENARIOS / "slack-down.yaml"]
    )
    assert dead == ["stopped", "warning"]
    assert summary["dead_letters"] == 2
