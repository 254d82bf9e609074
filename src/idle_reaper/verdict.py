"""The decision Inspect hands the watcher: what to do now and when to look again.

The watcher never computes time; every moment it waits for comes from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from idle_reaper.billing import billed_cost, usd
from idle_reaper.guardrail import breaches
from idle_reaper.policy import KEEP_UNTIL_TAG, Policy
from idle_reaper.resource import Observation
from idle_reaper.savings import DEFAULT_OWN_IDLE_TIMEOUT_MINUTES, Savings, savings
from idle_reaper.times import ceil_seconds, to_iso

Action = Literal["wait", "warn", "stop", "done"]
Outcome = Literal["stopped", "would-stop", "exempt", "gone", "ignored", "guardrail"]
Notice = Literal["warning", "guardrail-notice"]


@dataclass(frozen=True)
class Verdict:
    action: Action
    reason: str
    outcome: Outcome | None = None
    """For `done`, how the watch ended; for `stop`, what it will be once the stop lands."""
    idle_since: datetime | None = None
    deadline: datetime | None = None
    next_check_at: datetime | None = None
    idle_minutes: int | None = None
    cost_usd: float | None = None
    """Billed so far; None when it cannot be known (the resource is gone)."""
    checked_at: datetime | None = None
    savings_usd: float | None = None
    """For `stop` (and a dry run's would-stop): what stopping now saves (savings.py)."""
    idle_minutes_reclaimed: float | None = None
    notes: tuple[str, ...] = ()
    """What the owner should know about their tags (an ignored value, a near-miss exempt tag)."""
    kept_until: datetime | None = None
    """The `idle-reaper:keep-until` moment that moved the deadline, when one did."""
    counting: Literal["idle", "running"] | None = None
    """What the minutes to the deadline count: idleness, or running time under a cap (the
    stop then comes busy or not, and the warning must say so)."""
    notice: Notice | None = None
    """For `warn`, what the owner is told: the stop is coming, or a guardrail is breached
    (the watcher's EmitWarning puts it on the bus as the event's detail-type)."""
    rule: str | None = None
    """The policy document's rule that set this resource's policy, if one did."""
    route: Mapping[str, str] | None = None
    """Where the rule sends notifications (team, slack_webhook_secret), if it says."""

    def to_dict(self) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return to_iso(moment) if moment else None

        return {
            "action": self.action,
            "outcome": self.outcome,
            "reason": self.reason,
            "idle_since": iso(self.idle_since),
            "deadline": iso(self.deadline),
            "next_check_at": iso(self.next_check_at),
            "idle_minutes": self.idle_minutes,
            "cost_usd": self.cost_usd,
            "checked_at": iso(self.checked_at),
            "savings_usd": self.savings_usd,
            "idle_minutes_reclaimed": self.idle_minutes_reclaimed,
            "notes": list(self.notes),
            "kept_until": iso(self.kept_until),
            "counting": self.counting,
            "notice": self.notice,
            "rule": self.rule,
            "route": dict(self.route) if self.route else None,
        }


BUSY_RECHECK_FLOOR = timedelta(minutes=1)
"""While work runs the watcher looks again no sooner than this: with the warning lead never
the whole allowance, it is the finest look that still keeps every warning exact."""


POLICY_RECHECK = timedelta(minutes=10)
"""While the policy document is invalid or paused, the watcher looks again this often: a fix or
a resume is honoured within it, and nothing stops in between."""


GUARDRAIL_RECHECK = timedelta(minutes=1)
"""A resource a guardrail stops is looked at again this soon while it is still starting."""
GUARDRAIL_STOP_WINDOW = timedelta(hours=1)
"""Guardrails are for creation: a guardrail that stops does so only within this long of the
resource's start, and only while the resource has done no work since it started (nothing to
lose). Any other (a guardrail added later, a resource the sweeper found running for days, a
session whose statement runs or ran) gets the notice instead: nothing is stopped unwarned that
had work in it."""


def done(outcome: Outcome, reason: str, now: datetime, cost: float | None = None) -> Verdict:
    return Verdict(action="done", outcome=outcome, reason=reason, cost_usd=cost, checked_at=now)


def warning_key(idle_since: str, kept_until: str | None = None) -> str:
    """What a delivered warning was for: the idle period, and the keep-until that set its
    deadline. A keep-until set after a warning moves the deadline, so it is warned again."""
    return f"{idle_since}/{kept_until}" if kept_until else idle_since


def warning_lead(policy: Policy, idle_minutes: int) -> int:
    """Minutes of warning before the deadline; never the whole allowance, so a short
    per-resource allowance does not warn the moment a session goes idle."""
    return max(0, min(policy.warning_minutes, idle_minutes - 1))


def decide(
    kind: str,
    seen: Observation,
    policy: Policy,
    now: datetime,
    warned_since: str | None = None,
    guardrail_noticed: bool = False,
    announced: datetime | None = None,
) -> Verdict:
    """Turn one observation into a verdict. Pure: same inputs, same answer.

    `warned_since` is the `idle_since` of the idle period a warning was already delivered
    for: with warnings on, nothing is stopped before its owner was warned for this very idle
    period, so a resource first seen past its deadline (a late start event, a missed look)
    is warned and stopped `WarningMinutes` later, and a look inside the warning window warns
    and still stops at the deadline: a warning never adds billed minutes otherwise.
    `announced` is the stop time that warning named: a lagging signal must reach it.

    `policy` is the resource's own (Policy.for_resource). An invalid or paused policy document
    stops nothing; a guardrail is noticed once (or stops at once what has nothing to lose); a
    rule's maximum running time stops even a busy resource, after its warning.
    """
    if seen.phase == "missing":
        return done("gone", "the resource no longer exists", now)
    if seen.phase == "ended":
        return done("gone", f"the resource is {seen.status}: nothing bills any more", now)
    price = seen.cost_per_hour
    cost = None if price is None else usd(billed_cost(price, seen.started_at or now, now))
    held = _held(policy)
    if held is not None:
        return Verdict(
            action="wait",
            reason=held,
            next_check_at=ceil_seconds(now + POLICY_RECHECK),
            cost_usd=cost,
            checked_at=now,
        )
    if seen.unwatchable is not None and seen.running_cap_minutes is None:
        return done("exempt", seen.unwatchable, now, cost)  # never judged, guardrails or not
    if policy.rule is not None and policy.rule.exempt:
        return done("exempt", policy.exempt_reason(seen.tags), now, cost)
    broken = "; ".join(breaches(policy.guardrails, seen))
    young = seen.started_at is None or now - seen.started_at <= GUARDRAIL_STOP_WINDOW
    guarded = policy.guardrails is not None and policy.guardrails.action == "stop" and young
    if broken and guarded and seen.phase == "starting":  # a stop would be refused yet
        return Verdict(
            action="wait",
            reason=f"guardrail: {broken}; stopped as soon as it can be",
            next_check_at=ceil_seconds(now) + GUARDRAIL_RECHECK,
            cost_usd=cost,
            checked_at=now,
        )
    if broken and guarded and _unread(seen, now):  # whether it has worked is not known yet
        return Verdict(
            action="wait",
            reason=f"guardrail: {broken}; its activity cannot be read yet: never stopped on a "
            "guess",
            next_check_at=ceil_seconds(now) + timedelta(minutes=max(1, seen.recheck_minutes)),
            cost_usd=cost,
            checked_at=now,
        )
    untouched = guarded and _untouched(seen)
    if broken and (untouched or not guardrail_noticed):
        return _guardrail(policy, broken, untouched, guarded, now, cost, seen)
    if policy.is_exempt(seen.tags):
        return done("exempt", policy.exempt_reason(seen.tags), now, cost)
    idle_minutes, idle_note = policy.idle_minutes_for(kind, seen.tags)
    state: Literal["idle", "running"] = (
        "idle"  # what the minutes count: idleness, or running time under a cap
    )
    kept_until: datetime | None = None
    worked_until: datetime | None = None
    cap_look: datetime | None = None  # when a rule's maximum running time must be looked at
    most = policy.max_running_minutes
    if most is not None and seen.started_at is not None and seen.phase == "billing":
        cap_look = seen.started_at + timedelta(minutes=most - warning_lead(policy, most))
        if now >= cap_look and most <= (seen.running_cap_minutes or most):
            # Past the rule's maximum running time (less the warning): running time counts
            # from the start, as for SageMakerMaxHours, busy or not.
            idle_minutes, state, cap_look = most, "running", None
            idle_note = f"the policy's maximum running time is {most} minutes, busy or not"
            # what the stop saves counts from the real last activity (now, while busy)
            worked_until = now if seen.busy else seen.last_activity_at
            seen = _from_start(seen)
    if seen.unwatchable is not None and seen.running_cap_minutes is not None:
        # No signal, but a running cap: "idle" from the start, with the cap as its allowance.
        idle_minutes, idle_note, state = seen.running_cap_minutes, seen.unwatchable, "running"
        seen = _from_start(seen)
    notes = tuple(n for n in (idle_note, policy.exempt_note(seen.tags), *seen.notes) if n)
    allowance = timedelta(minutes=idle_minutes)
    lead = timedelta(minutes=warning_lead(policy, idle_minutes))
    suffix = "".join(f"; {note}" for note in notes)

    def verdict(
        action: Action,
        reason: str,
        outcome: Outcome | None = None,
        idle_since: datetime | None = None,
        deadline: datetime | None = None,
        next_check_at: datetime | None = None,
        saved: Savings | None = None,
    ) -> Verdict:
        if next_check_at is not None and cap_look is not None:
            next_check_at = min(next_check_at, cap_look)
        if next_check_at is not None:  # whole seconds, and never now: no tight loop
            earliest = now.replace(microsecond=0) + timedelta(seconds=1)
            next_check_at = max(ceil_seconds(next_check_at), earliest)
        return Verdict(
            action=action,
            outcome=outcome,
            reason=reason + suffix,
            idle_since=idle_since,
            deadline=deadline,
            next_check_at=next_check_at,
            idle_minutes=idle_minutes,
            cost_usd=cost,
            checked_at=now,
            savings_usd=saved.usd if saved else None,
            idle_minutes_reclaimed=saved.idle_minutes_reclaimed if saved else None,
            notes=notes,
            kept_until=kept_until if idle_since is not None else None,
            notice="warning" if action == "warn" else None,
            counting=state if idle_since is not None else None,
        )

    if seen.phase == "starting":
        started = seen.started_at or now
        earliest = started + allowance - lead
        if earliest <= now:
            earliest = now + allowance - lead
        return verdict(
            "wait",
            f"the resource is {seen.status}: it cannot be stopped yet",
            idle_since=started,
            next_check_at=earliest,
        )
    if seen.unreadable is not None:  # never idle on a signal that cannot be read
        return verdict(
            "wait",
            f"activity cannot be read: {seen.unreadable}; never stopped on a guess",
            next_check_at=now + timedelta(minutes=max(1, seen.recheck_minutes)),
        )
    if seen.busy:
        return verdict(
            "wait",
            "work is running: never stopped while busy",
            next_check_at=now + max(allowance - lead, BUSY_RECHECK_FLOOR),
        )

    idle_since = seen.last_activity_at or seen.started_at or now
    deadline = ceil_seconds(idle_since + allowance)
    keep, keep_note = policy.keep_until(seen.tags, idle_since, seen.started_at)
    keep_notes = [keep_note] if keep_note else []
    if keep is not None and keep > deadline:  # the owner keeps it: the stop waits till then
        deadline = kept_until = ceil_seconds(keep)
        keep_notes.append(f"kept until {to_iso(kept_until)} by its {KEEP_UNTIL_TAG} tag")
    elif keep is not None and keep <= now:
        keep_notes.append(f"ignored {KEEP_UNTIL_TAG}={to_iso(keep)}: it has passed")
    if keep_notes:
        notes = (*notes, *keep_notes)
        suffix = "".join(f"; {note}" for note in notes)
    stop_look = deadline + seen.signal_lag  # when the signal has reported up to the deadline
    idle_for = max(0, int((now - idle_since).total_seconds() // 60))
    key = warning_key(to_iso(idle_since), to_iso(kept_until) if kept_until else None)
    unless = "busy or not" if state == "running" else "unless used"  # a cap is not postponed
    warned = not lead or warned_since == key
    if not warned and now >= deadline - lead:
        late = now >= deadline
        stop_at = ceil_seconds(now + lead) if late else deadline
        return verdict(
            "warn",
            f"{state} for {idle_for} minutes, past the {idle_minutes}-minute allowance when first "
            f"seen: stops after the full warning {unless}"
            if late
            else f"{state} for {idle_for} minutes: stops at the deadline {unless}",
            idle_since=idle_since,
            deadline=stop_at,
            next_check_at=stop_at + seen.signal_lag,
        )
    reported = seen.reported_until
    # the signal must reach the deadline, or the later stop time the warning named (a resource
    # first seen past its deadline is stopped WarningMinutes after it was warned)
    # (a stop time later than now + the warning was never one a warning named: ignored)
    named = announced if warned and announced and announced <= now + lead else None
    needed = max(deadline, named) if named else deadline
    if now >= stop_look and reported is not None and reported < needed:
        return verdict(  # unreadable for now, as a late signal: work since is unseen
            "wait",
            f"activity cannot be read up to {to_iso(ceil_seconds(needed))}: the signal has "
            f"reported only up to {to_iso(reported)}; never stopped on a guess",
            next_check_at=now + timedelta(minutes=max(1, seen.recheck_minutes)),
        )
    if now >= stop_look:
        reason = f"{state} for {idle_for} minutes, past the {idle_minutes}-minute allowance"
        saved = None
        if price is not None:  # an unknown price gives no savings figure, never a guess
            saved = savings(
                price,
                seen.started_at or idle_since,
                now,
                max(idle_since, worked_until or idle_since),
                seen.own_idle_timeout_minutes or DEFAULT_OWN_IDLE_TIMEOUT_MINUTES,
            )
        if policy.dry_run:
            return verdict(
                "done", f"dry run: {reason}", "would-stop", idle_since, deadline, saved=saved
            )
        return verdict("stop", reason, "stopped", idle_since, deadline, saved=saved)
    if warned and lead:  # warned for this idle period: the next look is the deadline
        return verdict(
            "wait",
            f"{state} for {idle_for} minutes, warned: stops at the deadline {unless}",
            idle_since=idle_since,
            deadline=deadline,
            next_check_at=stop_look,
        )
    if now >= deadline:  # no warning to give, and the signal has not reached the deadline
        return verdict(
            "wait",
            f"{state} for {idle_for} minutes: waiting for the activity reported up to the deadline",
            idle_since=idle_since,
            deadline=deadline,
            next_check_at=stop_look,
        )
    return verdict(
        "wait",
        f"{state} for {idle_for} of {idle_minutes} minutes",
        idle_since=idle_since,
        deadline=deadline,
        next_check_at=deadline - lead if lead else stop_look,
    )


def _held(policy: Policy) -> str | None:
    """Why nothing may be stopped at all right now, if so: the policy document."""
    if policy.document_error is not None:
        return (
            f"the policy document is invalid ({policy.document_error}): nothing is stopped "
            "until it is fixed"
        )
    if policy.paused:
        return "paused by the policy document: nothing is stopped until it is resumed"
    return None


def _from_start(seen: Observation) -> Observation:
    """Running time counted as idleness from the start (a running cap): what the activity
    signal says, or cannot say, no longer matters."""
    return replace(
        seen,
        busy=False,
        last_activity_at=seen.started_at,
        unreadable=None,
        unwatchable=None,
        reported_until=None,
    )


def _unread(seen: Observation, now: datetime) -> bool:
    """Its activity cannot be read now, or the signal lags more than its usual lag behind now."""
    if seen.unreadable is not None:
        return True
    return seen.reported_until is not None and seen.reported_until + seen.signal_lag < now


def _untouched(seen: Observation) -> bool:
    """A resource a guardrail may stop unwarned: nothing to lose. Billing, read, not busy, and
    no activity after its start; one with no start or no signal to read (a running cap) is
    never taken as untouched."""
    return (
        seen.phase == "billing"
        and not seen.busy
        and seen.unreadable is None
        and seen.unwatchable is None
        and seen.started_at is not None
        and (seen.last_activity_at is None or seen.last_activity_at <= seen.started_at)
    )


def _guardrail(
    policy: Policy,
    broken: str,
    stop: bool,
    spared: bool,
    now: datetime,
    cost: float | None,
    seen: Observation,
) -> Verdict:
    """A guardrail breached: stop at once (outcome `guardrail`; a dry run only says so), or
    tell the owner once and then watch as usual. `spared`: a stop-guardrail that may not stop
    it, since it has worked since its start."""
    reason = f"guardrail: {broken}"
    if stop and policy.dry_run:
        return Verdict(
            action="done",
            outcome="would-stop",
            reason=f"dry run: {reason}",
            cost_usd=cost,
            checked_at=now,
        )
    if stop:
        idle_since = seen.last_activity_at or seen.started_at or now
        saved = None
        if seen.cost_per_hour is not None:  # as any stop: against the service's own timeout
            saved = savings(
                seen.cost_per_hour,
                seen.started_at or idle_since,
                now,
                idle_since,
                seen.own_idle_timeout_minutes or DEFAULT_OWN_IDLE_TIMEOUT_MINUTES,
            )
        return Verdict(
            action="stop",
            outcome="guardrail",
            reason=reason,
            cost_usd=cost,
            checked_at=now,
            savings_usd=saved.usd if saved else None,
            idle_minutes_reclaimed=saved.idle_minutes_reclaimed if saved else None,
        )
    if spared:
        reason += "; not stopped: it has worked since its start (a guardrail stops unwarned only "
        reason += "what has nothing to lose)"
    return Verdict(
        action="warn",
        notice="guardrail-notice",
        reason=f"{reason}; it is watched as usual",
        next_check_at=ceil_seconds(now) + timedelta(seconds=1),
        cost_usd=cost,
        checked_at=now,
    )
