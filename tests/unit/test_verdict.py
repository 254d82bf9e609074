"""The verdict's edge cases: where the deadline falls, what busy means, what never stops."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from idle_reaper.policy import KEEP_UNTIL_TAG, Policy
from idle_reaper.resource import Observation
from idle_reaper.times import to_iso
from idle_reaper.verdict import decide

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = Policy(idle_minutes={"glue-session": 30}, warning_minutes=5)
READY = Observation(
    phase="billing", status="READY", started_at=T0, last_activity_at=T0, cost_per_hour=2.2
)


WARNED = to_iso(T0)
"""A warning was delivered for the idle period that began at T0."""


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_idle_session_waits_until_the_warning_moment() -> None:
    verdict = decide("glue-session", READY, POLICY, at(1))
    assert verdict.action == "wait"
    assert verdict.deadline == at(30)
    assert verdict.next_check_at == at(25)


def test_inside_the_warning_window_warns_and_waits_for_the_deadline() -> None:
    verdict = decide("glue-session", READY, POLICY, at(25))
    assert verdict.action == "warn"
    assert verdict.next_check_at == verdict.deadline == at(30)


def test_exactly_at_the_deadline_stops_once_warned() -> None:
    verdict = decide("glue-session", READY, POLICY, at(30), WARNED)
    assert verdict.action == "stop"
    assert verdict.outcome == "stopped"


def test_one_second_before_the_deadline_does_not_stop() -> None:
    verdict = decide("glue-session", READY, POLICY, at(30) - timedelta(seconds=1))
    assert verdict.action == "warn"


def test_a_statement_running_across_the_deadline_is_never_stopped() -> None:
    busy = replace(READY, busy=True, last_activity_at=T0)
    verdict = decide("glue-session", busy, POLICY, at(45))
    assert verdict.action == "wait"
    # the earliest it could become stoppable: if the statement ended right now
    assert verdict.next_check_at == at(45 + 30 - 5)


def test_last_activity_moves_the_deadline() -> None:
    seen = replace(READY, last_activity_at=at(20))
    verdict = decide("glue-session", seen, POLICY, at(30))
    assert verdict.action == "wait"
    assert verdict.deadline == at(50)
    assert verdict.next_check_at == at(45)


def test_provisioning_waits_for_the_earliest_possible_deadline() -> None:
    seen = Observation(phase="starting", status="PROVISIONING", started_at=T0)
    verdict = decide("glue-session", seen, POLICY, T0)
    assert verdict.action == "wait"
    assert verdict.next_check_at == at(25)
    # still provisioning later: look again one allowance from now, never in a tight loop
    later = decide("glue-session", seen, POLICY, at(40))
    assert later.next_check_at == at(40 + 25)


@pytest.mark.parametrize("status", ["STOPPING", "STOPPED", "TIMEOUT", "FAILED"])
def test_ended_sessions_are_done(status: str) -> None:
    verdict = decide("glue-session", Observation(phase="ended", status=status), POLICY, at(60))
    assert (verdict.action, verdict.outcome) == ("done", "gone")


def test_missing_session_is_gone() -> None:
    verdict = decide(
        "glue-session", Observation(phase="missing", status="NOT_FOUND"), POLICY, at(60)
    )
    assert (verdict.action, verdict.outcome) == ("done", "gone")


def test_exempt_is_done_even_when_long_idle() -> None:
    seen = replace(READY, tags={"idle-reaper:exempt": "TRUE"})
    verdict = decide("glue-session", seen, POLICY, at(600))
    assert (verdict.action, verdict.outcome) == ("done", "exempt")


def test_dry_run_never_asks_for_a_stop() -> None:
    verdict = decide("glue-session", READY, replace(POLICY, dry_run=True), at(31), WARNED)
    assert (verdict.action, verdict.outcome) == ("done", "would-stop")
    assert verdict.deadline == at(30)


def test_tag_override_changes_the_deadline() -> None:
    seen = replace(READY, tags={"idle-reaper:idle-minutes": "10"})
    verdict = decide("glue-session", seen, POLICY, at(10), WARNED)
    assert verdict.action == "stop"
    assert verdict.idle_minutes == 10


def test_no_warning_when_warning_minutes_is_zero() -> None:
    policy = replace(POLICY, warning_minutes=0)
    verdict = decide("glue-session", READY, policy, at(29))
    assert verdict.action == "wait"
    assert verdict.next_check_at == at(30)


def test_warning_never_takes_the_whole_allowance() -> None:
    seen = replace(READY, tags={"idle-reaper:idle-minutes": "3"})
    verdict = decide("glue-session", seen, POLICY, T0)
    assert verdict.action == "wait"  # not a warning the moment it goes idle
    assert verdict.next_check_at == at(1)


def test_next_check_is_always_in_the_future_and_whole_seconds() -> None:
    seen = replace(READY, last_activity_at=T0 + timedelta(milliseconds=1500))
    verdict = decide("glue-session", seen, POLICY, at(1))
    assert verdict.next_check_at is not None
    assert verdict.next_check_at.microsecond == 0
    assert verdict.next_check_at > at(1)


def test_cost_so_far_has_a_one_minute_minimum() -> None:
    assert decide("glue-session", READY, POLICY, T0 + timedelta(seconds=5)).cost_usd == round(
        2.2 / 60, 2
    )
    assert decide("glue-session", READY, POLICY, at(30)).cost_usd == 1.1


def test_a_stop_carries_what_it_saves_against_the_sessions_own_timeout() -> None:
    seen = replace(READY, own_idle_timeout_minutes=120)
    verdict = decide("glue-session", seen, POLICY, at(30), WARNED)
    assert verdict.action == "stop"
    assert verdict.idle_minutes_reclaimed == 90.0
    assert verdict.savings_usd == round(2.2 * 1.5, 2)
    unset = decide("glue-session", READY, POLICY, at(30), WARNED)  # Glue's default: 2880 minutes
    assert unset.idle_minutes_reclaimed == 2850.0


def test_a_dry_run_carries_what_a_stop_would_save_and_a_wait_carries_nothing() -> None:
    dry = decide("glue-session", READY, replace(POLICY, dry_run=True), at(30), WARNED)
    assert (dry.outcome, dry.savings_usd) == ("would-stop", 104.5)
    waiting = decide("glue-session", READY, POLICY, at(1))
    assert (waiting.savings_usd, waiting.idle_minutes_reclaimed) == (None, None)


def test_first_seen_past_the_deadline_is_warned_and_stopped_warning_minutes_later() -> None:
    # a late start event: the first look is long past the deadline, nobody was warned
    verdict = decide("glue-session", READY, POLICY, at(95))
    assert verdict.action == "warn"
    assert verdict.next_check_at == verdict.deadline == at(100)
    # at that moment, warned for this idle period: stop
    assert decide("glue-session", READY, POLICY, at(100), WARNED).action == "stop"


def test_without_a_delivered_warning_the_deadline_only_warns() -> None:
    # the warning before was never delivered (its event failed): warn now, never stop unwarned
    verdict = decide("glue-session", READY, POLICY, at(30))
    assert verdict.action == "warn"
    assert verdict.deadline == at(35)


def test_a_late_look_inside_the_warning_window_still_stops_at_the_deadline() -> None:
    verdict = decide("glue-session", READY, POLICY, at(28))
    assert (verdict.action, verdict.deadline) == ("warn", at(30))


def test_a_warning_for_an_earlier_idle_period_does_not_count() -> None:
    came_back = replace(READY, last_activity_at=at(40))
    verdict = decide("glue-session", came_back, POLICY, at(70), WARNED)
    assert verdict.action == "warn"  # a new idle period needs its own warning


def test_warned_and_looked_at_early_waits_for_the_deadline_without_a_second_warning() -> None:
    verdict = decide("glue-session", READY, POLICY, at(29), WARNED)
    assert (verdict.action, verdict.next_check_at) == ("wait", at(30))


def test_with_warnings_off_the_deadline_stops_at_once() -> None:
    policy = replace(POLICY, warning_minutes=0)
    assert decide("glue-session", READY, policy, at(30)).action == "stop"


def test_busy_rechecks_never_come_sooner_than_the_floor() -> None:
    busy = replace(READY, busy=True, tags={"idle-reaper:idle-minutes": "1"})
    verdict = decide("glue-session", busy, POLICY, at(10))
    assert verdict.next_check_at == at(11)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("Idle-Reaper:Exempt", "true"),
        ("idle-reaper:exempt ", "true"),
        ("idle-reaper:exempt", "yes"),
        ("\uff49dle-reaper:exempt", "true"),
        ("idle-reaper:exempt", "tr ue"),
    ],
)
def test_exempt_tag_near_misses_never_exempt_and_say_why(key: str, value: str) -> None:
    verdict = decide("glue-session", replace(READY, tags={key: value}), POLICY, at(25))
    assert verdict.action == "warn"
    assert verdict.notes and "does not exempt" in verdict.notes[0]
    assert "use idle-reaper:exempt=true" in verdict.notes[0]
    assert "use idle-reaper:exempt=true" in verdict.reason


@pytest.mark.parametrize("value", ["true ", " true", "\tTRUE\n", "\u3000True"])
def test_an_exempt_value_with_whitespace_around_it_exempts(value: str) -> None:
    """Review s19: `" true"` (a console paste) did not exempt, and the session was stopped
    although its owner had tagged it: whitespace around the value is no near miss."""
    verdict = decide(
        "glue-session", replace(READY, tags={"idle-reaper:exempt": value}), POLICY, at(45), WARNED
    )
    assert (verdict.action, verdict.outcome) == ("done", "exempt"), verdict.reason
    assert verdict.notes == ()


# -- kinds whose activity cannot always be read (SageMaker's signal, EC2's metrics) -------------
def test_an_unwatchable_resource_ends_exempt_with_its_reason_and_is_never_stopped() -> None:
    seen = replace(READY, unwatchable="no activity signal: attach the configuration")
    for minutes in (1, 30, 600):
        verdict = decide("glue-session", seen, POLICY, at(minutes), WARNED)
        assert (verdict.action, verdict.outcome) == ("done", "exempt")
        assert verdict.reason == "no activity signal: attach the configuration"


def test_a_running_cap_warns_then_stops_that_long_after_the_start_whatever_the_activity() -> None:
    seen = replace(
        READY,
        unwatchable="no activity signal: stopped after SageMakerMaxHours=2 h of running",
        running_cap_minutes=120,
        busy=True,
        last_activity_at=at(100),
    )
    waiting = decide("glue-session", seen, POLICY, at(1))
    assert (waiting.action, waiting.deadline, waiting.next_check_at) == ("wait", at(120), at(115))
    assert decide("glue-session", seen, POLICY, at(115)).action == "warn"
    stop = decide("glue-session", seen, POLICY, at(120), WARNED)
    assert (stop.action, stop.idle_minutes) == ("stop", 120)
    assert "SageMakerMaxHours" in stop.reason


def test_the_running_cap_ignores_an_idle_minutes_tag() -> None:
    seen = replace(
        READY,
        unwatchable="no activity signal",
        running_cap_minutes=120,
        tags={"idle-reaper:idle-minutes": "600"},
    )
    assert decide("glue-session", seen, POLICY, at(1)).deadline == at(120)


def test_an_unreadable_signal_is_never_idle_and_is_looked_at_again_soon() -> None:
    seen = replace(READY, unreadable="the activity signal is late", recheck_minutes=2)
    verdict = decide("glue-session", seen, POLICY, at(300), WARNED)  # long past any deadline
    assert verdict.action == "wait"
    assert verdict.next_check_at == at(302)
    assert "the activity signal is late" in verdict.reason


def test_an_unknown_price_gives_no_cost_and_no_savings_never_a_guess() -> None:
    seen = replace(READY, cost_per_hour=None)
    stop = decide("glue-session", seen, POLICY, at(30), WARNED)
    assert stop.action == "stop"
    assert stop.cost_usd is None and stop.savings_usd is None
    assert stop.idle_minutes_reclaimed is None
    assert decide("glue-session", seen, POLICY, at(1)).cost_usd is None
    priced = decide("glue-session", READY, POLICY, at(30), WARNED)
    assert priced.cost_usd is not None and priced.savings_usd is not None


# -- idle-reaper:keep-until ---------------------------------------------------------------------
def kept(value: str) -> Observation:
    return replace(READY, tags={"idle-reaper:keep-until": value})


def test_keep_until_postpones_the_stop_and_warns_before_it() -> None:
    seen = kept("2026-03-02T11:00:00Z")  # two hours after the idle period began, at T0
    first = decide("glue-session", seen, POLICY, at(1))
    assert (first.action, first.deadline, first.next_check_at) == ("wait", at(120), at(115))
    assert first.kept_until == at(120)
    assert any("kept until 2026-03-02T11:00:00Z" in note for note in first.notes)
    assert decide("glue-session", seen, POLICY, at(30), WARNED).action == "wait"  # not at 30
    warn = decide("glue-session", seen, POLICY, at(115))
    assert (warn.action, warn.deadline) == ("warn", at(120))
    key = "2026-03-02T09:00:00Z/2026-03-02T11:00:00Z"
    assert decide("glue-session", seen, POLICY, at(120), key).action == "stop"


def test_a_keep_set_after_the_warning_is_warned_again_before_its_new_deadline() -> None:
    """The owner was warned for the 09:30 deadline, then kept it until 10:30: the warning they
    had does not count for the new deadline (a Slack 'keep' click works the same way)."""
    seen = kept("2026-03-02T10:30:00Z")
    assert decide("glue-session", seen, POLICY, at(30), WARNED).action == "wait"
    assert decide("glue-session", seen, POLICY, at(85), WARNED).action == "warn"
    assert decide("glue-session", seen, POLICY, at(90), WARNED).action == "warn"  # never unwarned


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("tomorrow", "not an ISO-8601 time"),
        ("2026-03-02T11:00:00", "not an ISO-8601 time"),  # no offset: whose 11:00?
        ("2026-02-30T11:00:00Z", "not a real time"),
        ("\uff12\uff10\uff12\uff16-03-02T11:00:00Z", "not an ISO-8601 time"),  # full-width
        ("2026-03-02T08:00:00Z", "it has passed"),
    ],
)
def test_an_invalid_or_past_keep_until_is_ignored_with_a_note(value: str, why: str) -> None:
    verdict = decide("glue-session", kept(value), POLICY, at(25))
    assert (verdict.action, verdict.deadline, verdict.kept_until) == ("warn", at(30), None)
    assert any(why in note for note in verdict.notes)


@pytest.mark.parametrize(
    ("value", "until"),
    [
        ("2026-03-02t11:00:00z", at(120)),  # RFC 3339 5.6 NOTE: `t`, `z` may be lower case
        ("2026-03-02T11:00:00z", at(120)),
        ("2026-03-02 11:00:00Z", at(120)),  # its other NOTE: a space for readability
        ("2026-03-02T11:00:00.000000999Z", at(120)),  # any number of fraction digits: cut
        ("2026-03-02t12:00:00.5+01:00", at(120) + timedelta(seconds=1)),  # whole seconds, up
    ],
)
def test_a_keep_until_in_rfc3339s_other_spellings_keeps(value: str, until: datetime) -> None:
    """Review s19: a valid RFC 3339 keep-until with a lower-case `t`/`z` was ignored, and the
    session stopped at its idle deadline although its owner asked to keep it till 11:00."""
    verdict = decide("glue-session", kept(value), POLICY, at(30), WARNED)
    assert verdict.action != "stop", verdict.reason
    assert verdict.kept_until == until


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-02T11:00:00+0100",  # no colon in the offset: not RFC 3339
        "2026-03-02T24:00:00Z",  # no hour 24 in RFC 3339
        "2026-03-02T11:00:00.1234567890Z",  # more fraction digits than anyone writes
        "2026-03-02_11:00:00Z",
        "2026-03-02T11:00:00Zz",
    ],
)
def test_what_rfc3339_does_not_allow_is_still_ignored(value: str) -> None:
    verdict = decide("glue-session", kept(value), POLICY, at(25))
    assert (verdict.action, verdict.deadline, verdict.kept_until) == ("warn", at(30), None)
    assert any(f"ignored {KEEP_UNTIL_TAG}" in note for note in verdict.notes)


def test_a_keep_until_is_capped_at_the_longest_allowance_a_tag_may_give() -> None:
    policy = replace(POLICY, max_idle_minutes=240)
    verdict = decide("glue-session", kept("2026-03-09T09:00:00Z"), policy, at(1))
    assert verdict.deadline == at(240)
    assert any("capped at MaxIdleMinutes=240" in note for note in verdict.notes)


def test_a_keep_until_before_the_idle_deadline_changes_nothing() -> None:
    verdict = decide("glue-session", kept("2026-03-02T09:10:00+00:00"), POLICY, at(1))
    assert (verdict.deadline, verdict.kept_until) == (at(30), None)


def test_a_keep_until_in_another_offset_is_the_same_moment() -> None:
    verdict = decide("glue-session", kept("2026-03-02T12:00+01:00"), POLICY, at(1))
    assert verdict.deadline == at(120)


def test_a_kept_resource_that_becomes_busy_again_goes_back_to_the_idle_rule() -> None:
    """Kept from Slack until 10:27 (issue 12), then used again from 09:40 to 10:20: never
    stopped while busy, and once idle again its deadline is the idle rule's (10:50), not the
    keep's. A keep only ever postpones; it never shortens the allowance new work earns."""
    seen = kept("2026-03-02T10:27:00Z")
    assert decide("glue-session", seen, POLICY, at(28)).deadline == at(87)
    busy = replace(seen, busy=True, last_activity_at=at(40))
    assert decide("glue-session", busy, POLICY, at(87), WARNED).action == "wait"
    idle_again = replace(seen, last_activity_at=at(80))
    verdict = decide("glue-session", idle_again, POLICY, at(85), WARNED)
    assert (verdict.action, verdict.deadline, verdict.kept_until) == ("wait", at(110), None)
    assert decide("glue-session", idle_again, POLICY, at(105)).action == "warn"
    assert decide("glue-session", idle_again, POLICY, at(110), to_iso(at(80))).action == "stop"


# -- a signal that reports late (SageMaker's heartbeat) --------------------------------------------
LAGGING = Observation(
    phase="billing",
    status="InService",
    started_at=T0,
    last_activity_at=T0,
    cost_per_hour=0.05,
    signal_lag=timedelta(minutes=2),
    recheck_minutes=2,
)


def test_no_stop_until_the_signal_has_reported_up_to_the_deadline() -> None:
    """Review s19: a heartbeat up to 5 minutes old was a full reading, so work begun after it
    and before the deadline was killed. The stop waits for a heartbeat at or after it."""
    policy = Policy(idle_minutes={"sagemaker-notebook": 60}, warning_minutes=5)
    deadline = T0 + timedelta(minutes=60)
    behind = replace(LAGGING, reported_until=deadline - timedelta(seconds=1))
    verdict = decide(
        "sagemaker-notebook", behind, policy, deadline + timedelta(minutes=2), to_iso(T0)
    )
    assert verdict.action == "wait" and verdict.outcome is None, verdict
    assert "never stopped on a guess" in verdict.reason
    assert verdict.next_check_at == deadline + timedelta(minutes=4)
    dry = replace(policy, dry_run=True)
    assert (
        decide(
            "sagemaker-notebook", behind, dry, deadline + timedelta(minutes=2), to_iso(T0)
        ).outcome
        is None
    )
    caught_up = replace(LAGGING, reported_until=deadline)
    verdict = decide(
        "sagemaker-notebook", caught_up, policy, deadline + timedelta(minutes=2), to_iso(T0)
    )
    assert verdict.action == "stop", verdict


def test_a_stop_announced_late_waits_for_the_signal_up_to_the_announced_time() -> None:
    """First seen long past its deadline (the sweeper, a late event): the warning announces
    now + WarningMinutes, and the stop needs a heartbeat at or after that moment, not after
    the old deadline, which any heartbeat passes."""
    policy = Policy(idle_minutes={"sagemaker-notebook": 60}, warning_minutes=5)
    first = T0 + timedelta(hours=3)
    warned = decide("sagemaker-notebook", replace(LAGGING, reported_until=first), policy, first)
    assert warned.action == "warn" and warned.deadline == first + timedelta(minutes=5)
    announced, look = warned.deadline, warned.next_check_at
    assert look == announced + timedelta(minutes=2)
    stale = replace(LAGGING, reported_until=announced - timedelta(minutes=3))
    verdict = decide("sagemaker-notebook", stale, policy, look, to_iso(T0), announced=announced)
    assert verdict.action == "wait" and "never stopped on a guess" in verdict.reason, verdict
    fresh = replace(LAGGING, reported_until=announced)
    stop = decide("sagemaker-notebook", fresh, policy, look, to_iso(T0), announced=announced)
    assert stop.action == "stop"
    # a stop time no warning could have named (later than now + the warning) is ignored
    forged = announced + timedelta(days=30)
    assert (
        decide("sagemaker-notebook", fresh, policy, look, to_iso(T0), announced=forged).action
        == "stop"
    )
    # a clock behind by more than the lag makes every heartbeat look old: never blocks a stop
    later = look + timedelta(hours=5)
    behind = decide("sagemaker-notebook", fresh, policy, later, to_iso(T0), announced=announced)
    assert behind.action == "stop"


def test_the_warning_still_names_the_deadline_and_the_stop_look_follows_the_lag() -> None:
    policy = Policy(idle_minutes={"sagemaker-notebook": 60}, warning_minutes=5)
    deadline = T0 + timedelta(minutes=60)
    seen = replace(LAGGING, reported_until=deadline - timedelta(minutes=5))
    warned = decide("sagemaker-notebook", seen, policy, deadline - timedelta(minutes=5))
    assert warned.action == "warn" and warned.deadline == deadline
    assert warned.next_check_at == deadline + timedelta(minutes=2)


def test_a_running_cap_stops_whatever_the_signal_has_reported() -> None:
    """A rule's maximum running time stops busy or not: the signal's reach does not matter."""
    policy = (
        Policy(idle_minutes={"sagemaker-notebook": 60}, warning_minutes=5)
        .with_document("version: 1\nrules: [{name: capped, max_running_minutes: 120}]")
        .for_resource("sagemaker-notebook", {}, None)
    )
    seen = replace(LAGGING, busy=True, reported_until=T0 + timedelta(minutes=100))
    at_cap = T0 + timedelta(minutes=122)
    verdict = decide("sagemaker-notebook", seen, policy, at_cap, to_iso(T0))
    assert verdict.action == "stop", verdict
