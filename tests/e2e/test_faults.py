"""The fault suite: every scenario under scenarios/faults/ through the whole system, each case
asserting the one outcome it records, that nothing was stopped that should not have been, and
when the stop landed. Every generic check of test_scenarios.py (one outcome per watcher, never
stopped while busy, one audit record per watcher event, ...) runs on these scenarios too, here:
each such test is taken into this module, where its `result` fixture is this module's.

Also here: the `faults:` key's strict parsing, and what each injected error looks like to a
caller (its HTTP status, its name in Step Functions)."""

from __future__ import annotations

import inspect
import io
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from idle_reaper.times import parse_iso
from local_runtime import faults
from local_runtime import scenario as scenarios
from local_runtime.errors import ScenarioError
from local_runtime.fidelity import PAYLOAD_LIMIT_BYTES, payload_bytes
from local_runtime.runtime import Account
from local_runtime.simulation import simulate
from tests.conftest import ROOT, SCENARIOS
from tests.e2e import test_scenarios as generic
from tests.e2e.test_scenarios import DEAD_LETTERS, TASK_FAILURES, by_id, glue, run, told

FAULTS = SCENARIOS / "faults"
SUITE = sorted(FAULTS.glob("*.yaml"))

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEADLINE = T0 + timedelta(minutes=30)
"""An untouched session's deadline: GlueIdleMinutes (30) after its creation."""
RETRIES = timedelta(seconds=60)
"""The most a run of ASL retries adds (2, 4, 8... seconds, full jitter) in these cases."""


@pytest.fixture(scope="module", params=SUITE, ids=[p.stem for p in SUITE])
def result(request: pytest.FixtureRequest) -> tuple[dict[str, Any], Account, scenarios.Scenario]:
    return run(request.param)


# Every generic check (a test of test_scenarios.py taking `result`), on the fault suite.
for _name, _check in vars(generic).items():
    if _name.startswith("test_") and "result" in inspect.signature(_check).parameters:
        globals()[_name] = _check


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def injected(summary: dict[str, Any], **match: Any) -> list[dict[str, Any]]:
    """The summary's `faults` entries with every `match` item."""
    return [f for f in summary["faults"] if all(f.get(k) == v for k, v in match.items())]


def published(account: Account, resource: str | None) -> list[tuple[str, datetime]]:
    return [(p.detail_type, p.at) for p in account.bus.published if p.resource_id == resource]


def inspect_errors(account: Account) -> list[str]:
    return [
        i.error.split(":")[0]
        for i in account.functions.invocations
        if i.function == "InspectFunction" and i.error
    ]


def stopped_within(res: dict[str, Any], earliest: datetime, slack: timedelta) -> None:
    assert res["outcome"] == "stopped", res
    landed = parse_iso(res["stopped_at"])
    assert earliest <= landed <= earliest + slack, (res["id"], landed)


# -- throttling and 5xx: retried, then success -------------------------------------------------
def test_glue_throttling_and_5xx_are_retried_and_the_stop_lands_at_the_deadline() -> None:
    path = FAULTS / "glue-throttled.yaml"
    summary, account, _ = run(path)
    res = by_id(summary)["throttled-tab"]
    stopped_within(res, DEADLINE, RETRIES)
    assert (res["warnings"], res["executions"]) == (1, 1)
    assert [t for t, _ in published(account, "throttled-tab")] == ["warning", "stopped"]
    # every scripted answer was given, with the status Glue gives it
    assert [(f["operation"], f["error"], f["status"]) for f in summary["faults"]] == [
        ("GetSession", "ThrottlingException", 400),
        ("GetSession", "ThrottlingException", 400),
        ("GetSession", "ThrottlingException", 400),
        ("GetSession", "InternalServiceException", 500),
        ("ListStatements", "InternalServiceException", 500),
        ("ListStatements", "ThrottlingException", 400),
        ("StopSession", "ThrottlingException", 400),
        ("StopSession", "InternalServiceException", 500),
    ]
    # three throttles use up boto3's three attempts: that look fails (ResourceReadError) and
    # the ASL retries it; the next look's 500 and throttles are absorbed by boto3 itself
    assert inspect_errors(account) == ["ResourceReadError"]
    assert TASK_FAILURES[path]["throttled-tab"] == [
        "ResourceReadError",
        "Glue.ThrottlingException",
        "Glue.InternalServiceException",
    ]
    assert glue(account).lives["throttled-tab"].ended_by == "reaper"


def test_a_throttled_stop_is_looked_at_again_and_work_begun_since_keeps_the_session() -> None:
    path = FAULTS / "stop-throttled-over-new-work.yaml"
    summary, account, _ = run(path)
    res = by_id(summary)["resumed-tab"]
    # idle from the statement's end (09:50:05): stopped a full allowance later, not over it
    stopped_within(res, T0 + timedelta(minutes=80, seconds=5), timedelta(0))
    assert [t for t, _ in published(account, "resumed-tab")] == ["warning", "warning", "stopped"]
    assert TASK_FAILURES[path]["resumed-tab"] == ["Glue.ThrottlingException"]
    assert glue(account).lives["resumed-tab"].ended_by == "reaper"


# -- a long outage -----------------------------------------------------------------------------
def test_a_3_hour_glue_outage_is_weathered_and_the_session_stopped_when_glue_answers() -> None:
    path = FAULTS / "glue-outage.yaml"
    summary, account, _ = run(path)
    outage_over = at(20 + 180)
    events = published(account, "weathers-3h")
    assert [t for t, _ in events] == ["warning", "stopped"]  # no `failed`: it never gave up
    warned = events[0][1]
    # the first look after the outage (failed rounds are 30 minutes apart) warns: past its
    # deadline when first seen, it gets a full warning before the stop
    assert outage_over < warned <= outage_over + timedelta(minutes=30) + RETRIES
    stopped_within(by_id(summary)["weathers-3h"], warned + timedelta(minutes=5), RETRIES)
    assert by_id(summary)["weathers-3h"]["executions"] == 1
    assert set(TASK_FAILURES[path]["weathers-3h"]) == {"ResourceReadError"}


def test_an_outage_past_the_budget_fails_the_watch_and_the_sweeper_takes_it_up_again() -> None:
    """8 failed rounds 30 minutes apart are the budget (CountFailure, OutageBudget): the 9th
    ends the watch with a `failed` event the owner is told of. The session is not stopped
    while Glue cannot be read; once GetSession answers again, the sweeper finds it unwatched,
    and its new watcher stops it after a full warning."""
    path = FAULTS / "glue-outage.yaml"
    summary, account, _ = run(path)
    outage_over = at(20 + 480)
    events = published(account, "outlasted")
    assert [t for t, _ in events] == ["failed", "warning", "stopped"]
    [failed] = [p for p in account.bus.published if p.detail_type == "failed"]
    assert failed.detail["error"]["Error"] == "ResourceReadError"
    first_look = at(25)
    gave_up = events[0][1]
    assert first_look + 8 * timedelta(minutes=30) < gave_up
    assert gave_up <= first_look + 8 * timedelta(minutes=30) + 9 * RETRIES
    assert ("failed", "email") in told(summary, "outlasted")
    assert ("failed", "slack") in told(summary, "outlasted")
    life = glue(account).lives["outlasted"]
    assert life.ended_by == "reaper" and life.ended_at is not None
    assert life.ended_at >= outage_over  # never stopped blind
    sweep, warning = timedelta(minutes=15), timedelta(minutes=5)
    assert life.ended_at <= outage_over + sweep + warning + RETRIES
    assert by_id(summary)["outlasted"]["executions"] == 2
    # meanwhile every sweep met the outage too: each failed and was dead-lettered (alarmed)
    assert summary["dead_letters"] > 0
    assert {arn.split(":")[-1] for arn, _, _ in account.bus.dead_letters} == {
        "idle-reaper-SweepFunction"
    }


# -- the session deleted mid-wait; IllegalSessionState on stop ----------------------------------
def test_a_session_deleted_mid_wait_ends_gone_at_the_next_look_and_is_never_stopped() -> None:
    summary, account, _ = run(FAULTS / "glue-deleted-and-refused.yaml")
    res = by_id(summary)["deleted-tab"]
    assert (res["outcome"], res["stopped_at"], res["warnings"]) == ("gone", None, 0)
    life = glue(account).lives["deleted-tab"]
    assert (life.ended_by, life.ended_at) == ("user", at(15))
    assert published(account, "deleted-tab") == [("gone", at(25))]  # the look before warning
    assert injected(summary, deleted="deleted-tab") == [
        {"at": "2026-03-02T09:15:00Z", "deleted": "deleted-tab", "existed": True}
    ]


def test_a_refused_stop_is_tried_again_a_minute_later_and_lands() -> None:
    path = FAULTS / "glue-deleted-and-refused.yaml"
    summary, account, _ = run(path)
    res = by_id(summary)["refusing-tab"]
    # WaitAfterRefusal: 60 s, then Inspect finds it READY and idle, and stops it
    stopped_within(res, DEADLINE + timedelta(seconds=60), timedelta(seconds=5))
    assert [t for t, _ in published(account, "refusing-tab")] == ["warning", "stopped"]
    assert TASK_FAILURES[path]["refusing-tab"] == ["Glue.IllegalSessionStateException"]
    assert injected(summary, operation="StopSession") == [
        {
            "at": "2026-03-02T09:30:00Z",
            "service": "glue",
            "operation": "StopSession",
            "error": "IllegalSessionStateException",
            "status": 400,
        }
    ]


# -- Inspect raising and timing out -------------------------------------------------------------
def test_inspect_crashing_or_timing_out_is_tried_again_at_once_and_stops_on_time() -> None:
    """Inspect only reads, so a crash (States.TaskFailed) is retried within 5 and 10 s (full
    jitter) and a timeout (Sandbox.Timedout) within 2 s: the warning and the stop land on time."""
    path = FAULTS / "inspect-crashes.yaml"
    summary, account, _ = run(path)
    assert inspect_errors(account) == ["RuntimeError", "RuntimeError", "Sandbox.Timedout"]
    assert [(f["function"], f["fault"]) for f in summary["faults"]] == [
        ("InspectFunction", "raise"),
        ("InspectFunction", "raise"),
        ("InspectFunction", "timeout"),
    ]
    assert TASK_FAILURES[path]["patient-tab"] == [
        "RuntimeError",
        "RuntimeError",
        "Sandbox.Timedout",
    ]
    events = published(account, "patient-tab")
    assert [t for t, _ in events] == ["warning", "stopped"]
    # the 09:25 look crashes twice and warns on its third try; the 09:30 look times out once
    assert at(25) <= events[0][1] <= at(25) + timedelta(seconds=30)
    stopped_within(by_id(summary)["patient-tab"], at(30), timedelta(seconds=30))


# -- Slack rejecting ------------------------------------------------------------------------------
def test_slack_rejecting_is_logged_not_retried_and_the_email_and_the_stop_still_happen() -> None:
    path = FAULTS / "slack-rejecting.yaml"
    summary, account, _ = run(path)
    stopped_within(by_id(summary)["unheard-tab"], DEADLINE, timedelta(0))
    assert [r.status for r in account.slack.requests] == [400, 404]  # one try each
    assert told(summary, "unheard-tab") == [("warning", "email"), ("stopped", "email")]
    assert (summary["dead_letters"], DEAD_LETTERS[path]) == (0, [])
    rejected = [
        json.loads(line) for line in account.functions.logs.lines if "rejected the message" in line
    ]
    assert [(r["code"], r["body"]) for r in rejected] == [
        (400, "invalid_payload"),
        (404, "channel_not_found"),
    ]


# -- the audit table (and the claims table) throttled --------------------------------------------
def test_throttled_tables_delay_nothing_and_every_event_is_recorded_once() -> None:
    path = FAULTS / "audit-throttled.yaml"
    summary, account, _ = run(path)
    stopped_within(by_id(summary)["recorded-tab"], DEADLINE, timedelta(0))
    assert [(f["error"], f["status"]) for f in summary["faults"]] == [
        ("ProvisionedThroughputExceededException", 400),  # the claim, retried by the ASL
        ("ThrottlingException", 400),
        ("ProvisionedThroughputExceededException", 400),  # the warning's record: boto3's
        ("ProvisionedThroughputExceededException", 400),  # three attempts, then Lambda's
        ("ProvisionedThroughputExceededException", 400),  # retry a minute later
    ]
    assert TASK_FAILURES[path]["recorded-tab"] == [
        "DynamoDB.ProvisionedThroughputExceededException",
        "DynamoDB.ThrottlingException",
    ]
    audit = [i for i in account.functions.invocations if i.function == "AuditFunction"]
    assert [i.error.split(":")[0] for i in audit if i.error] == [
        "ProvisionedThroughputExceededException"
    ]
    assert summary["dead_letters"] == 0
    # one record per watcher event: test_scenarios' generic check, which runs on this one too


# -- malformed, truncated, foreign and huge events ---------------------------------------------
def test_damaged_start_events_start_nothing_that_stops_and_a_huge_one_is_watched() -> None:
    summary, account, _ = run(FAULTS / "hostile-events.yaml")
    res = by_id(summary)
    # the malformed and truncated start events each start a watcher that names no resource
    assert [p.detail_type for p in account.bus.published if p.resource_id is None] == [
        "ignored",
        "ignored",
    ]
    # the session they were about is found by the sweeper (09:15) and stopped on time
    stopped_within(res["broken-start"], DEADLINE, timedelta(0))
    assert (res["broken-start"]["warnings"], res["broken-start"]["executions"]) == (1, 1)
    # the foreign one matches no rule: 3 start events reached the watcher (2 damaged + huge)
    assert len(account.bus.started) == 3
    # the largest start event that can be watched: its first look's task input is exactly
    # Step Functions' 262,144 bytes (the start event once, in the state), and it is watched
    # to its one outcome as any other
    [huge] = [s for s in account.bus.started if s.resource_id == "huge-start"]
    assert payload_bytes(huge.event) > PAYLOAD_LIMIT_BYTES - 1_000
    stopped_within(res["huge-start"], DEADLINE, timedelta(0))
    assert res["huge-start"]["executions"] == 1
    assert [p.detail_type for p in account.bus.published if p.resource_id == "huge-start"] == [
        "warning",
        "stopped",
    ]
    looks = [i.event for i in account.functions.invocations if i.function == "InspectFunction"]
    [first_look] = [look for look in looks if payload_bytes(look) > 100_000]  # only the first
    function = account.stack.arn("InspectFunction")
    assert payload_bytes({"FunctionName": function, "Payload": first_look}) == PAYLOAD_LIMIT_BYTES
    assert "event" not in first_look  # the Payload holds the start event once, in `state`
    # on the reaper bus, everyone but the watcher is refused by the bus policy
    assert {str(f["reaper_bus"]) for f in summary["faults"]} == {
        "{'ErrorCode': 'AccessDeniedException'}"
    }
    assert len(summary["faults"]) == 4
    # nobody was told about anything but the two sessions
    assert {n["resource"] for n in summary["notifications"]} == {"broken-start", "huge-start"}


def test_damaged_reaper_events_from_the_watchers_own_role_never_reach_a_person_twice() -> None:
    """As a watcher gone wrong would put them (the only principal the bus lets in): the
    truncated one is refused by PutEvents (not JSON), the foreign source matches no rule, and
    the malformed one, which names no resource and carries no start event, is refused by the
    audit and the notify function alike and dead-lettered by both after Lambda's two retries:
    no person is told "(unknown) was stopped"."""
    scenario = scenarios.parse(
        {
            "name": "watcher gone wrong",
            "start": "2026-03-02T09:00:00Z",
            "until": "10m",
            "resources": [],
            "faults": [
                {"at": "1m", "event": d, "as": "watcher"}
                for d in ("malformed", "truncated", "foreign")
            ],
        }
    )
    seen: dict[str, Any] = {}

    def keep(account: Account) -> None:
        seen["invocations"] = list(account.functions.invocations)
        seen["dead"] = list(account.bus.dead_letters)

    summary = simulate(scenario, out=io.StringIO(), progress=None, inspect=keep)["summary"]
    answers = {f["event"]: f["reaper_bus"] for f in summary["faults"]}
    assert answers["truncated"] == {
        "ErrorCode": "MalformedDetail",
        "ErrorMessage": "Detail is malformed.",
    }
    assert "EventId" in answers["malformed"] and "EventId" in answers["foreign"]
    for function in ("AuditFunction", "NotifyFunction"):
        errors = [i.error for i in seen["invocations"] if i.function == function and i.error]
        assert len(errors) == 3 and all("names no resource" in e for e in errors), function
    assert sorted(arn.split(":")[-1] for arn, _, _ in seen["dead"]) == [
        "idle-reaper-AuditFunction",
        "idle-reaper-NotifyFunction",
    ]
    # the foreign one reached no function; the malformed one reached both, 3 tries each
    handlers = [i for i in seen["invocations"] if i.function in ("AuditFunction", "NotifyFunction")]
    assert {i.event["source"] for i in handlers} == {"idle-reaper"}
    damaged = [i.function for i in handlers if i.event["detail"].get("outcome") == 7]
    assert sorted(damaged) == ["AuditFunction"] * 3 + ["NotifyFunction"] * 3
    assert summary["notifications"] == []


# -- the `faults:` key, strictly ----------------------------------------------------------------
BASE: dict[str, Any] = {
    "start": "2026-03-02T09:00:00Z",
    "until": "1h",
    "resources": [
        {"kind": "glue-session", "id": "tab"},
        {"kind": "glue-session", "id": "late-tab", "at": "10m"},
    ],
}


def with_faults(*entries: Any) -> dict[str, Any]:
    return {**BASE, "faults": list(entries)}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"at": "5m", "service": "glue", "operation": "GetSession"}, "needs `errors`"),
        (
            {"at": "5m", "service": "s3", "operation": "GetObject", "errors": ["SlowDown"]},
            "cannot be faulted",
        ),
        (
            {
                "at": "5m",
                "service": "glue",
                "operation": "GetSesion",
                "errors": ["ThrottlingException"],
            },
            "not a glue operation",
        ),
        (
            {"at": "5m", "service": "glue", "operation": "GetSession", "errors": ["Throttled"]},
            "neither an error",
        ),
        (
            {
                "at": "5m",
                "service": "glue",
                "operation": "GetSession",
                "errors": ["IllegalSessionStateException"],
            },
            "neither an error",
        ),
        (
            {"at": "5m", "service": "glue", "operation": "GetSession", "errors": []},
            "a list of 1 to",
        ),
        (
            {
                "at": "5m",
                "service": "glue",
                "operation": "GetSession",
                "outage": "1h",
                "errors": ["ThrottlingException"],
            },
            "one of them",
        ),
        (
            {"at": "5m", "service": "glue", "operation": "GetSession", "outage": "0s"},
            "longer than 0s",
        ),
        (
            {
                "at": "5m",
                "service": "glue",
                "operation": "GetSession",
                "outage": "1h",
                "error": "Nope",
            },
            "neither an error",
        ),
        (
            {
                "at": "5m",
                "service": "dynamodb",
                "operation": "PutItem",
                "table": "Audit",
                "errors": ["ThrottlingException"],
            },
            "not a DynamoDB table of template.yaml",
        ),
        (
            {
                "at": "5m",
                "service": "glue",
                "operation": "GetSession",
                "resource": "nobody",
                "errors": ["ThrottlingException"],
            },
            "not a glue-session",
        ),
        (
            {
                "at": "5m",
                "service": "glue",
                "operation": "GetSession",
                "errors": ["ThrottlingException"],
                "retry": 3,
            },
            "unknown key(s) retry",
        ),
        (
            {"service": "glue", "operation": "GetSession", "errors": ["ThrottlingException"]},
            "needs `at`",
        ),
        ({"at": "5m", "function": "Inspect", "raise": 1}, "not a function of template.yaml"),
        ({"at": "5m", "function": "InspectFunction", "raise": 0}, "whole number from 1"),
        ({"at": "5m", "function": "InspectFunction", "raise": 1, "timeout": 1}, "one of them"),
        ({"at": "5m", "resource": "nobody", "delete": True}, "not a glue-session"),
        ({"at": "5m", "resource": "tab", "delete": "yes"}, "must be `true`"),
        ({"at": "5m", "event": "enormous"}, "is not one of malformed"),
        ({"at": "5m", "event": "huge", "as": "admin"}, "is not outsider or watcher"),
        ({"at": "-5m", "event": "huge"}, "is negative"),
        ({"at": "1h", "event": "huge"}, "1h never comes: the run ends at 1h"),
        (
            {"at": "5m", "event": "huge", "resource": "late-tab"},
            "5m is before late-tab is created (10m)",
        ),
        ({"at": "5m", "resource": "late-tab", "delete": True}, "before late-tab is created"),
        ({"at": "5m"}, "needs one of `service`, `function`, `delete` or `event`"),
        ("GetSession fails", "must be a mapping"),
    ],
)
def test_a_bad_fault_is_one_line_naming_what_is_wrong(entry: Any, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenarios.parse(with_faults(entry), "s.yaml")
    text = str(caught.value)
    assert message in text and "\n" not in text and text.startswith("s.yaml.faults[0]")


def test_faults_must_be_a_list() -> None:
    with pytest.raises(ScenarioError, match=r"^s\.yaml\.faults: must be a list$"):
        scenarios.parse({**BASE, "faults": {"at": "5m"}}, "s.yaml")


def test_every_bundled_fault_scenario_parses_into_the_faults_it_writes() -> None:
    loaded = {p.stem: scenarios.load(p) for p in sorted(FAULTS.glob("*.yaml"))}
    # Slack's refusals are scripted with the `slack:` key, every other case with `faults:`
    assert {name for name, s in loaded.items() if not s.faults} == {"slack-rejecting"}
    [outage, _] = loaded["glue-outage"].faults
    assert outage == faults.ApiFault(
        at=timedelta(minutes=20),
        service="glue",
        operation="GetSession",
        errors=("InternalServiceException",),
        outage=timedelta(hours=3),
        resource="weathers-3h",
    )


@pytest.mark.parametrize(
    ("service", "operation", "code", "status"),
    [
        ("glue", "GetSession", "ThrottlingException", 400),  # common error (Glue's throttle)
        ("glue", "GetSession", "InternalServiceException", 500),  # Smithy: a server error
        ("glue", "GetSession", "EntityNotFoundException", 400),
        ("glue", "StopSession", "IllegalSessionStateException", 400),
        ("glue", "GetSession", "ServiceUnavailable", 503),
        ("dynamodb", "PutItem", "ProvisionedThroughputExceededException", 400),
        ("dynamodb", "PutItem", "InternalServerError", 500),
        ("events", "PutEvents", "InternalException", 500),
        ("glue", "GetSession", "IllegalSessionStateException", None),  # not GetSession's
    ],
)
def test_each_error_is_answered_with_the_status_the_service_gives_it(
    service: str, operation: str, code: str, status: int | None
) -> None:
    assert faults.status_of(service, operation, code) == status


def test_the_readme_fault_table_names_scenarios_and_tests_that_exist() -> None:
    section = (ROOT / "README.md").read_text().split("### Fault suite")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) >= 20
    named_tests = 0
    for row in rows:
        scenario_cell, asserted_by = row.split(" | ")[1], row.split(" | ")[3]
        for name in re.findall(r"`([a-z0-9/-]+)`", re.sub(r"\(.*?\)", "", scenario_cell)):
            assert (SCENARIOS / f"{name}.yaml").is_file(), name
        test_file = None
        for file, test in re.findall(r"`(test_\w+\.py)?::(test_\w+)`", asserted_by):
            test_file = file or test_file
            assert test_file is not None, row
            assert f"def {test}(" in (ROOT / "tests" / "e2e" / test_file).read_text(), test
            named_tests += 1
    assert named_tests >= 15


def test_the_fault_suite_gets_every_generic_check() -> None:
    checks = [
        n
        for n, f in vars(generic).items()
        if n.startswith("test_") and "result" in inspect.signature(f).parameters
    ]
    assert len(checks) >= 10 and all(globals()[n] is getattr(generic, n) for n in checks)
    assert len(SUITE) == 8
