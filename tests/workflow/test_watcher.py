"""The real watcher ASL, executed: every state and every Catch reached, in order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.workflow.conftest import Watch, at

ABANDONED = [
    "Claim",
    "Inspect",
    "Decide",
    "WaitForNextCheck",  # provisioning: wait for the warning moment
    "Inspect",
    "Decide",
    "EmitWarning",
    "WaitForNextCheck",  # warn, wait for the deadline
    "Inspect",
    "Decide",
    "StopGlueSession",
    "EmitOutcome",  # stop, publish
]


def test_abandoned_session_is_warned_then_stopped_at_the_deadline(watch: Watch) -> None:
    watch.start()
    watch.run(120)
    assert watch.states() == ABANDONED
    assert watch.status() == "SUCCEEDED"
    assert watch.published() == [("warning", at(25)), ("stopped", at(30))]
    assert watch.account.glue.lives["s1"].ended_by == "reaper"
    assert watch.account.glue.lives["s1"].ended_at == at(30)
    assert watch.account.state_transitions(watch.execution) == 12


def test_published_events_carry_what_a_notifier_and_an_auditor_need(watch: Watch) -> None:
    watch.start(tags={"owner": "alice@example.com"})
    watch.run(120)
    detail = watch.detail("stopped")
    assert detail["outcome"] == "stopped"
    assert detail["execution_arn"] == watch.execution
    assert detail["resource"]["id"] == "s1"
    assert detail["resource"]["owner"] == "alice@example.com"
    assert detail["resource"]["region"] == "us-east-1"
    assert detail["resource"]["account"] == "123456789012"
    assert detail["verdict"]["idle_since"] == "2026-03-02T09:00:00Z"
    assert detail["verdict"]["deadline"] == "2026-03-02T09:30:00Z"
    assert detail["verdict"]["cost_usd"] == 1.1
    assert detail["at"].startswith("2026-03-02T09:30:00")


def test_illegal_session_state_on_stop_inspects_again(watch: Watch) -> None:
    watch.start()
    watch.account.glue.fail_next("StopSession", "IllegalSessionStateException")
    watch.run(120)
    assert watch.states()[-5:] == [
        "StopGlueSession",
        "Inspect",
        "Decide",
        "StopGlueSession",
        "EmitOutcome",
    ]
    assert watch.published()[-1] == ("stopped", at(30))


def test_session_gone_before_the_stop_is_done_gone(watch: Watch) -> None:
    watch.start()
    watch.account.glue.fail_next("StopSession", "EntityNotFoundException")
    watch.run(120)
    assert watch.states()[-3:] == ["StopGlueSession", "Gone", "EmitOutcome"]
    assert watch.published()[-1] == ("gone", at(30))
    assert watch.status() == "SUCCEEDED"


def test_throttled_stop_is_retried_with_backoff(watch: Watch) -> None:
    watch.start()
    watch.account.glue.fail_next("StopSession", "ThrottlingException", "ThrottlingException")
    watch.run(120)
    assert watch.states()[-2:] == ["StopGlueSession", "EmitOutcome"]
    failures = [e for e in watch.account.history(watch.execution) if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failures] == [
        "Glue.ThrottlingException"
    ] * 2
    life = watch.account.glue.lives["s1"]
    assert life.ended_by == "reaper"
    assert at(30) < life.ended_at < at(31)  # backoff (full jitter) on the virtual clock


def test_any_other_stop_error_is_published_as_failed(watch: Watch) -> None:
    watch.start()
    watch.account.glue.fail_next("StopSession", "AccessDeniedException")
    watch.run(120)
    assert watch.states()[-3:] == ["StopGlueSession", "EmitFailed", "Failed"]
    assert watch.status() == "FAILED"
    failed = watch.detail("failed")
    assert failed["error"]["Error"] == "Glue.AccessDeniedException"
    assert failed["resource"]["id"] == "s1"
    assert watch.account.glue.lives["s1"].ended_at is None  # nothing stopped


def test_inspect_failing_is_retried_then_published_as_failed(watch: Watch) -> None:
    # (AccessDenied: boto3 itself retries throttling, which would hide the Task's retries)
    watch.account.glue.fail_next("GetSession", *["AccessDeniedException"] * 20)
    watch.start()
    watch.run(60)
    assert watch.states() == ["Claim", "Inspect", "EmitFailed", "Failed"]
    failures = [e for e in watch.account.history(watch.execution) if e["type"] == "TaskFailed"]
    assert len(failures) == 6  # the first try and five retries
    failed = watch.detail("failed")
    assert failed["error"]["Error"] == "ResourceReadError"
    assert failed["resource"] is None  # failed before the first verdict; the event is kept
    assert watch.account.glue.lives["s1"].ended_at is None


def test_a_verdict_the_watcher_cannot_act_on_never_stops(watch: Watch) -> None:
    def inspect(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {
            "resource": {"kind": "glue-session", "id": "s1"},
            "verdict": {"action": "explode", "outcome": None},
        }

    watch.account.functions.replace("InspectFunction", inspect)
    watch.start()
    watch.run(60)
    assert watch.states() == [
        "Claim",
        "Inspect",
        "Decide",
        "UnknownVerdict",
        "EmitFailed",
        "Failed",
    ]
    assert watch.detail("failed")["error"]["Error"] == "UnknownVerdict"
    assert watch.account.glue.lives["s1"].ended_at is None


def test_a_stop_for_a_kind_without_a_stop_branch_never_stops(watch: Watch) -> None:
    def inspect(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"resource": {"kind": "mystery", "id": "s1"}, "verdict": {"action": "stop"}}

    watch.account.functions.replace("InspectFunction", inspect)
    watch.start()
    watch.run(60)
    assert "StopGlueSession" not in watch.states()
    assert watch.status() == "FAILED"


def test_failing_to_publish_a_warning_is_caught(watch: Watch) -> None:
    watch.start()
    watch.run(20)
    watch.account.bus.failing_puts = 100
    watch.run(120)
    assert watch.states()[-2:] == ["EmitWarning", "EmitFailed"]
    assert watch.status() == "FAILED"  # EmitFailed could not publish either: the alarm's job
    assert watch.account.glue.lives["s1"].ended_at is None


def test_exempt_session_ends_the_watch_at_once(watch: Watch) -> None:
    watch.start(tags={"idle-reaper:exempt": "true"})
    watch.run(24 * 60)
    assert watch.states() == ["Claim", "Inspect", "Decide", "EmitOutcome"]
    assert watch.published() == [("exempt", at(0))]
    assert watch.account.glue.lives["s1"].ended_at is None


@pytest.mark.parameters({"DryRun": "true"})
def test_dry_run_warns_and_reports_but_never_stops(watch: Watch) -> None:
    watch.start()
    watch.run(24 * 60)
    assert watch.published() == [("warning", at(25)), ("would-stop", at(30))]
    assert "StopGlueSession" not in watch.states()
    assert watch.account.glue.status("s1") == "READY"


def test_activity_moves_the_stop_and_costs_three_transitions(watch: Watch) -> None:
    watch.start()
    watch.account.clock.at(
        at(10), lambda: watch.account.glue.run_statement("s1", timedelta(minutes=5))
    )
    watch.run(180)
    assert watch.published() == [("warning", at(40)), ("stopped", at(45))]
    assert watch.account.state_transitions(watch.execution) == 12 + 3


def test_session_stopped_by_its_user_ends_the_watch_as_gone(watch: Watch) -> None:
    watch.start()
    watch.account.clock.at(at(10), lambda: watch.account.glue.user_stop("s1"))
    watch.run(180)
    assert watch.published() == [("gone", at(25))]
    assert watch.account.glue.lives["s1"].ended_by == "user"


def test_a_duplicate_start_event_gets_no_second_watch(watch: Watch) -> None:
    watch.start(event="duplicate")
    watch.run(120)
    first, second = watch.account.bus.started
    assert watch.account.state_transitions(first.execution_arn) == 12
    assert watch.account.state_transitions(second.execution_arn) == 2  # Claim, Duplicate
    assert watch.account.execution_status(second.execution_arn) == "SUCCEEDED"
    assert [t for t, _ in watch.published()] == ["warning", "stopped"]


def test_a_failed_claim_is_published_as_failed(watch: Watch) -> None:
    table = watch.account.stack.physical_name("WatcherClaimsTable")
    watch.account.clients["dynamodb"].delete_table(TableName=table)
    watch.start()
    watch.run(60)
    assert watch.states() == ["Claim", "ClaimFailed", "EmitFailed", "Failed"]
    assert watch.detail("failed")["error"]["Error"] == "DynamoDB.ResourceNotFoundException"
    assert watch.account.glue.lives["s1"].ended_at is None
