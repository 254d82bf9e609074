"""Inspect: from the watcher's state (or a bare start event, or a resource reference) to a
normalized resource, a verdict, and the watcher's next state (watch.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from idle_reaper.exceptions import UnknownKindError
from idle_reaper.kinds import identify, kind_named
from idle_reaper.kinds.base import Look, ResourceKind
from idle_reaper.policy import Policy
from idle_reaper.resource import Home, Observation, ResourceRef
from idle_reaper.times import ceil_seconds, from_iso_second, now_utc, to_iso
from idle_reaper.verdict import Verdict, decide, done, warning_key
from idle_reaper.watch import HELD, Tries, Watch, claim_for, holds_claim, next_watch

ClientFactory = Callable[[str, str], Any]
"""(boto3 service name, region) -> client; injected so tests pass moto or fakes."""
UNANSWERED = "States.Timeout"
"""A Task that timed out: its call may have landed, whatever the service."""
CLAIM_FIRST = timedelta(seconds=1)
"""A stop decided before the claim is looked at again this soon after it."""


def inspect(
    payload: Mapping[str, Any],
    client_for: ClientFactory,
    policy: Policy,
    home: Home | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Read the resource the payload names and decide what the watcher does next.

    The payload is the watcher's `{"state", "execution_arn", "execution_name"}` (its state holds
    the start event until a look succeeds), or for a person
    trying it by hand `{"event": <EventBridge event>}`, `{"resource": <reference>}` or a
    bare event. Anything that names no resource, or one outside `home` (another account
    or region), gets a `done`/`ignored` verdict, never a stop. Never raises on bad input.
    """
    now = now or now_utc()
    raw_state = payload.get("state") if isinstance(payload, Mapping) else None
    state: Mapping[str, Any] = raw_state if isinstance(raw_state, Mapping) else {}
    prior = Watch.parse(state.get("watch"))
    errored = "error" in state
    warned_since, announced = _warned_since(state, prior)
    noticed = _guardrail_noticed(state, prior)
    found = _locate(payload, state, home)
    if not isinstance(found, str) and found[0].name in policy.disabled_kinds:
        found = f"watching {found[0].name} is switched off in this stack"
    if isinstance(found, str):
        verdict = done("ignored", found, now).to_dict()
        resource, seen, claim = None, None, None
    else:
        kind, ref = found
        region = ref.region
        seen = kind.observe(ref, Look(lambda service: client_for(service, region), policy, now))
        replaced = _replaced(state, seen)
        landed = _stop_landed(kind, state, seen, now)
        own = policy.for_resource(kind.name, seen.tags, ref.account)
        if own.paused or own.document_error is not None:
            warned_since = announced = None  # held: after it, warned afresh before any stop
        decided = (
            done("gone", replaced, now)
            if replaced
            else decide(
                kind.name, seen, own, now, warned_since, noticed, from_iso_second(announced)
            )
        )
        route = own.route.model_dump(exclude_none=True) if own.route else None
        rule = own.rule.name if own.rule else None
        decided = replace(decided, rule=rule, route=route)
        if decided.action == "stop" and not holds_claim(state):
            decided = _claim_first(decided, now)
        verdict = landed or decided.to_dict()
        resource = describe(kind, ref, seen)
        claim = HELD if holds_claim(state) else claim_for(ref, seen.started_at, now)
    name = payload.get("execution_name") if isinstance(payload, Mapping) else None
    watch = next_watch(
        prior,
        execution_name=name if isinstance(name, str) else None,
        errored=errored,
        warned_since=warned_since,
        announced=announced,
        waiting=verdict["action"] == "wait",
        guardrail_noticed=noticed,
    )
    # Failures count while they are consecutive: a look after a failed step keeps the count,
    # a look after a step that worked starts it again.
    tries = Tries.parse(state.get("tries")) if errored else Tries()
    return {
        "resource": resource,
        "verdict": verdict,
        "claim": claim,
        "watch": watch.to_dict(),
        "tries": tries.to_dict(),
    }


def describe(kind: ResourceKind, ref: ResourceRef, seen: Observation) -> dict[str, Any]:
    """The normalized resource every event and notification carries."""
    target = kind.stop_target(ref)
    return {
        **ref.to_dict(),
        **({"target": target} if target is not None else {}),
        "arn": seen.arn,
        "status": seen.status,
        "owner": kind.owner(ref, seen),
        "tags": seen.tags,
        "cost_per_hour": None if seen.cost_per_hour is None else round(seen.cost_per_hour, 4),
        "started_at": to_iso(seen.started_at) if seen.started_at else None,
        "own_idle_timeout_minutes": seen.own_idle_timeout_minutes,
        "console_url": kind.console_url(ref),
    }


def _stop_landed(
    kind: ResourceKind, state: Mapping[str, Any], seen: Observation, now: datetime
) -> dict[str, Any] | None:
    """The stop was sent and its answer lost (a timeout, a server error): a resource stopping
    now is this watcher's stop, so the watch ends `stopped`, with the savings its stop verdict
    computed, not `gone`. A refusal is not: the resource was already stopping, someone else's
    stop, and the look decides afresh (`gone`, with no savings claimed)."""
    previous, error = state.get("verdict"), state.get("error")
    name = error.get("Error") if isinstance(error, Mapping) else None
    unanswered = name == UNANSWERED or name in kind.stop_unanswered_errors
    if (
        not unanswered
        or not isinstance(previous, Mapping)
        or previous.get("action") != "stop"
        or seen.status not in kind.stopping_statuses
    ):
        return None
    return {
        **previous,
        "action": "done",
        "outcome": "guardrail" if previous.get("outcome") == "guardrail" else "stopped",
        "reason": f"{previous.get('reason', 'idle')}; the stop's answer was lost, and the "
        f"resource is {seen.status}",
        "next_check_at": None,
        "checked_at": to_iso(now),
    }


def _claim_first(decided: Verdict, now: datetime) -> Verdict:
    """A stop only on a look made after the claim: the Claim state may be retried for a minute
    or more, and a stop must never act on an aged look. The next look decides it again."""
    return replace(
        decided,
        action="wait",
        outcome=None,
        reason=f"{decided.reason}; it stops at the next look, once this watcher holds the claim",
        next_check_at=ceil_seconds(now) + CLAIM_FIRST,
        savings_usd=None,
        idle_minutes_reclaimed=None,
    )


def _replaced(state: Mapping[str, Any], seen: Observation) -> str | None:
    """Why the resource this watcher has been looking at is gone although its id answers: a
    new one was created under the same id (its own start event brings its own watcher)."""
    carried = state.get("resource")
    born = carried.get("started_at") if isinstance(carried, Mapping) else None
    if not isinstance(born, str) or seen.started_at is None or seen.phase == "missing":
        return None
    now_born = to_iso(seen.started_at)
    if now_born == born:
        return None
    return f"the resource created at {born} is gone; the one created at {now_born} is another"


def _guardrail_noticed(state: Mapping[str, Any], prior: Watch) -> bool:
    """A guardrail notice was delivered: carried, or just put on the bus by EmitWarning."""
    verdict = state.get("verdict")
    just = isinstance(verdict, Mapping) and verdict.get("notice") == "guardrail-notice"
    return prior.guardrail_noticed or ("warned" in state and just)


def _warned_since(state: Mapping[str, Any], prior: Watch) -> tuple[str | None, str | None]:
    """The idle period a warning was delivered for, and the stop time it named: the ones the
    watcher carries, or the previous verdict's when EmitWarning just put it on the bus."""
    verdict = state.get("verdict")
    if (
        "warned" in state
        and isinstance(verdict, Mapping)
        and verdict.get("action") == "warn"
        and verdict.get("notice", "warning") == "warning"
    ):
        since, kept, named = (verdict.get(k) for k in ("idle_since", "kept_until", "deadline"))
        if not isinstance(since, str):
            return prior.warned_since, prior.announced
        key = warning_key(since, kept if isinstance(kept, str) else None)
        return key, named if isinstance(named, str) and len(named) <= 32 else None
    return prior.warned_since, prior.announced


def _locate(
    payload: Mapping[str, Any], state: Mapping[str, Any], home: Home | None
) -> tuple[ResourceKind, ResourceRef] | str:
    """The kind and resource named, or a reason why none is (or why it is not ours)."""
    found = _named(payload, state)
    if isinstance(found, str) or home is None or home.owns(found[1]):
        return found
    ref = found[1]
    return (
        f"the resource is in account {ref.account}, region {ref.region}: this stack watches "
        f"account {home.account}, region {home.region} only"
    )


def _named(
    payload: Mapping[str, Any], state: Mapping[str, Any]
) -> tuple[ResourceKind, ResourceRef] | str:
    if not isinstance(payload, Mapping):
        return "input is not a JSON object"
    carried = state.get("resource")
    if isinstance(carried, Mapping):  # every look after the first: the resource found then
        return _from_reference(carried)
    reference = payload.get("resource")
    if isinstance(reference, Mapping):
        return _from_reference(reference)
    # The watcher's state carries the start event until a look succeeds (the Payload holds it
    # once: Step Functions' 256 KiB counts the Task input); by hand it is `event` or the payload.
    event = state["event"] if state.get("event") is not None else payload.get("event", payload)
    if not isinstance(event, Mapping):
        return "`event` is not a JSON object"
    if isinstance(event.get("resource"), Mapping):  # a sweeper's start input
        return _from_reference(event["resource"])
    found = identify(event)
    if found is None:
        return _why_not(event)
    return found


def _why_not(event: Mapping[str, Any]) -> str:
    source = _short(event.get("source"))
    raw_detail = event.get("detail")
    detail: Mapping[str, Any] = raw_detail if isinstance(raw_detail, Mapping) else {}
    name = _short(detail.get("eventName", event.get("detail-type")))
    if detail.get("errorCode"):
        code = _short(detail["errorCode"])
        return f"the {name} call failed ({code}): no resource was created"
    return f"the event ({source} {name}) names no resource idle-reaper watches"


def _short(value: Any) -> str:
    """A value from an event, bounded for a reason string (escaping is the reader's job)."""
    text = value if isinstance(value, str) else "?"
    return text[:64] + ("…" if len(text) > 64 else "")


def _from_reference(reference: Mapping[str, Any]) -> tuple[ResourceKind, ResourceRef] | str:
    try:
        kind = kind_named(str(reference.get("kind"))[:64])
    except UnknownKindError as exc:
        return str(exc)
    ref = ResourceRef.parse(kind.name, reference)
    if isinstance(ref, str):
        return ref
    return kind, ref
