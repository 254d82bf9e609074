"""What the policy document changes in a verdict: an invalid or paused document stops
nothing, guardrails notice once or stop at once, and a rule's maximum running time stops even
a busy resource, after its warning."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from idle_reaper.policy import Policy
from idle_reaper.resource import Observation
from idle_reaper.times import to_iso
from idle_reaper.verdict import decide

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TEMPLATE = Policy(idle_minutes={"glue-session": 30}, warning_minutes=5)
READY = Observation(
    phase="billing",
    status="READY",
    started_at=T0,
    last_activity_at=T0,
    cost_per_hour=2.2,
    workers=5,
    own_idle_timeout_minutes=2880,
    tags={"owner": "ana@example.com"},
)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def with_doc(text: str, tags: dict[str, str] | None = None, base: Policy = TEMPLATE) -> Policy:
    return base.with_document(text).for_resource("glue-session", tags or {}, None)


def test_an_invalid_document_never_stops_and_looks_again_in_ten_minutes() -> None:
    policy = with_doc("version: 1\nrules: [{name: x, idle_minutes: 0}]")
    verdict = decide("glue-session", READY, policy, at(500), to_iso(T0))
    assert verdict.action == "wait"
    assert "rules[0].idle_minutes" in verdict.reason
    assert verdict.next_check_at == at(510)


def test_paused_stops_nothing_and_resuming_stops_at_once_after_a_warning() -> None:
    paused = with_doc("version: 1\npaused: true")
    assert decide("glue-session", READY, paused, at(500), to_iso(T0)).action == "wait"
    resumed = with_doc("version: 1\npaused: false")
    first = decide("glue-session", READY, resumed, at(500))  # never warned while paused
    assert first.action == "warn" and first.deadline == at(505)
    assert decide("glue-session", READY, resumed, at(505), to_iso(T0)).action == "stop"


def test_gone_is_still_gone_while_paused() -> None:
    paused = with_doc("version: 1\npaused: true")
    gone = replace(READY, phase="ended", status="STOPPED")
    assert decide("glue-session", gone, paused, at(10)).outcome == "gone"


def test_a_guardrail_notifies_once_then_the_resource_is_watched_as_usual() -> None:
    policy = with_doc("version: 1\nguardrails: {max_workers: 4}")
    notice = decide("glue-session", READY, policy, at(1))
    assert notice.action == "warn" and notice.notice == "guardrail-notice"
    assert "5 workers, more than the 4 allowed" in notice.reason
    assert notice.next_check_at == at(1) + timedelta(seconds=1)
    after = decide("glue-session", READY, policy, at(1), guardrail_noticed=True)
    assert after.action == "wait" and after.next_check_at == at(25)


def test_a_guardrail_that_stops_stops_at_once_with_its_own_outcome() -> None:
    policy = with_doc("version: 1\nguardrails: {max_idle_timeout_minutes: 120, action: stop}")
    verdict = decide("glue-session", READY, policy, at(1), guardrail_noticed=True)
    assert verdict.action == "stop" and verdict.outcome == "guardrail"
    assert "own idle timeout is 2880 minutes, more than the 120 allowed" in verdict.reason


def test_a_guardrail_stop_waits_a_minute_while_the_resource_is_starting() -> None:
    policy = with_doc("version: 1\nguardrails: {required_tags: [owner, cost-centre], action: stop}")
    starting = replace(READY, phase="starting", status="PROVISIONING")
    verdict = decide("glue-session", starting, policy, at(0))
    assert verdict.action == "wait" and verdict.next_check_at == at(1)
    assert "missing the required tag 'cost-centre'" in verdict.reason


def test_a_guardrail_in_dry_run_only_says_it_would_stop() -> None:
    policy = with_doc(
        "version: 1\nguardrails: {max_workers: 1, action: stop}",
        base=replace(TEMPLATE, dry_run=True),
    )
    verdict = decide("glue-session", READY, policy, at(1))
    assert verdict.action == "done" and verdict.outcome == "would-stop"


def test_a_blank_required_tag_is_missing_and_a_resource_within_the_limits_passes() -> None:
    policy = with_doc("version: 1\nguardrails: {required_tags: [owner], max_workers: 5}")
    blank = replace(READY, tags={"owner": "  "})
    assert decide("glue-session", blank, policy, at(1)).notice == "guardrail-notice"
    assert decide("glue-session", READY, policy, at(1)).action == "wait"


def test_guardrails_come_before_an_exempt_tag() -> None:
    policy = with_doc("version: 1\nguardrails: {max_workers: 2, action: stop}")
    exempt = replace(READY, tags={"idle-reaper:exempt": "true"})
    assert decide("glue-session", exempt, policy, at(1)).outcome == "guardrail"


MAX_RUNNING = "version: 1\nrules: [{name: capped, max_running_minutes: 120}]"


def test_a_busy_resource_is_looked_at_by_its_running_cap_less_the_warning() -> None:
    policy = with_doc(MAX_RUNNING)
    busy = replace(READY, busy=True, last_activity_at=at(60))
    verdict = decide("glue-session", busy, policy, at(100))
    assert verdict.action == "wait" and verdict.next_check_at == at(115)


def test_a_busy_resource_is_warned_then_stopped_at_its_running_cap() -> None:
    policy = with_doc(MAX_RUNNING)
    busy = replace(READY, busy=True, last_activity_at=at(110))
    warned = decide("glue-session", busy, policy, at(115))
    assert warned.action == "warn" and warned.deadline == at(120)
    assert "maximum running time is 120 minutes" in warned.reason
    stop = decide("glue-session", busy, policy, at(120), to_iso(T0))
    assert stop.action == "stop" and stop.outcome == "stopped"


def test_an_idle_resource_is_stopped_by_its_idle_deadline_before_the_cap() -> None:
    policy = with_doc(MAX_RUNNING)
    assert decide("glue-session", READY, policy, at(30), to_iso(T0)).action == "stop"


def test_a_running_cap_never_stops_what_is_not_watchable() -> None:
    """An EC2 instance not opted in stays exempt: a cap never overrides opt-in."""
    policy = with_doc(MAX_RUNNING)
    unwatched = replace(READY, unwatchable="not opted in")
    assert decide("glue-session", unwatched, policy, at(500)).outcome == "exempt"


def test_keep_until_cannot_pass_the_running_cap() -> None:
    policy = with_doc(MAX_RUNNING)
    kept = replace(READY, tags={"idle-reaper:keep-until": "2026-03-02T20:00:00Z"})
    verdict = decide("glue-session", kept, policy, at(20))
    assert verdict.deadline is not None and verdict.deadline <= at(120)
    assert decide("glue-session", kept, policy, at(120), to_iso(T0)).action == "stop"


GUARD_STOP = "version: 1\nguardrails: {max_workers: 2, action: stop}"


def test_a_stop_guardrail_never_stops_a_young_resource_that_has_worked() -> None:
    """Review s19: a stop-guardrail added 30 minutes into a session killed its running
    statement unwarned. Guardrails are for creation: one that has worked gets the notice."""
    policy = with_doc(GUARD_STOP)
    busy = replace(READY, busy=True, last_activity_at=at(30))
    worked = replace(READY, last_activity_at=at(20))  # its statement finished at 09:20
    for seen in (busy, worked):
        notice = decide("glue-session", seen, policy, at(30))
        assert (notice.action, notice.notice) == ("warn", "guardrail-notice"), notice
        assert "not stopped: it has worked since its start" in notice.reason
        after = decide("glue-session", seen, policy, at(30), guardrail_noticed=True)
        assert after.action == "wait" and after.outcome is None, after


def test_a_stop_guardrail_spares_a_worked_resource_even_when_it_is_exempt_tagged() -> None:
    """The notice comes (guardrails before the exempt tag), then the tag exempts it as usual."""
    policy = with_doc(GUARD_STOP)
    seen = replace(READY, busy=True, tags={"idle-reaper:exempt": "true", "owner": "ana"})
    assert decide("glue-session", seen, policy, at(30)).notice == "guardrail-notice"
    after = decide("glue-session", seen, policy, at(30), guardrail_noticed=True)
    assert (after.action, after.outcome) == ("done", "exempt")


def test_a_stop_guardrail_stops_a_young_resource_with_no_work_since_its_start() -> None:
    policy = with_doc(GUARD_STOP)
    verdict = decide("glue-session", READY, policy, at(30))
    assert (verdict.action, verdict.outcome) == ("stop", "guardrail")


def test_a_stop_guardrail_waits_while_the_activity_cannot_be_read() -> None:
    """Whether it has worked is not known: look again, never stop on a guess (and no notice
    yet: it may still turn out to have nothing to lose)."""
    policy = with_doc(GUARD_STOP)
    unread = replace(READY, unreadable="no activity signal yet", recheck_minutes=2)
    verdict = decide("glue-session", unread, policy, at(3))
    assert verdict.action == "wait" and verdict.next_check_at == at(5), verdict
    behind = replace(
        READY, reported_until=at(1), signal_lag=timedelta(minutes=2), recheck_minutes=2
    )
    assert decide("glue-session", behind, policy, at(4)).action == "wait"
    assert decide("glue-session", behind, policy, at(3)).outcome == "guardrail"


def test_a_stop_guardrail_never_stops_what_has_no_start_or_no_signal() -> None:
    policy = with_doc(GUARD_STOP)
    no_start = replace(READY, started_at=None, last_activity_at=None)
    capped = replace(READY, unwatchable="no activity signal", running_cap_minutes=600)
    for seen in (no_start, capped):
        verdict = decide("glue-session", seen, policy, at(5))
        assert verdict.notice == "guardrail-notice", verdict
