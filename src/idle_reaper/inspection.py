"""Inspect: from a start event (or a resource reference) to a normalized resource and a verdict."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from idle_reaper.exceptions import UnknownKindError
from idle_reaper.kinds import identify, kind_named
from idle_reaper.kinds.base import ResourceKind
from idle_reaper.policy import Policy
from idle_reaper.resource import Observation, ResourceRef
from idle_reaper.times import now_utc, to_iso
from idle_reaper.verdict import decide, done

ClientFactory = Callable[[str, str], Any]
"""(boto3 service name, region) -> client; injected so tests pass moto or fakes."""


def inspect(
    payload: Mapping[str, Any],
    client_for: ClientFactory,
    policy: Policy,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Read the resource the payload names and decide what the watcher does next.

    The payload is `{"event": <EventBridge event>}`, `{"resource": <reference>}`, or a bare
    event. Anything that names no resource gets a `done` verdict, never a stop.
    """
    now = now or now_utc()
    found = _locate(payload)
    if isinstance(found, str):
        return {"resource": None, "verdict": done("ignored", found, now).to_dict()}
    kind, ref = found
    seen = kind.observe(ref, client_for(kind.service, ref.region))
    verdict = decide(kind.name, seen, policy, now)
    return {"resource": describe(kind, ref, seen), "verdict": verdict.to_dict()}


def describe(kind: ResourceKind, ref: ResourceRef, seen: Observation) -> dict[str, Any]:
    """The normalized resource every event and notification carries."""
    return {
        **ref.to_dict(),
        "arn": seen.arn,
        "status": seen.status,
        "owner": kind.owner(ref, seen),
        "tags": seen.tags,
        "cost_per_hour": round(seen.cost_per_hour, 4),
        "started_at": to_iso(seen.started_at) if seen.started_at else None,
        "own_idle_timeout_minutes": seen.own_idle_timeout_minutes,
        "console_url": kind.console_url(ref),
    }


def _locate(payload: Mapping[str, Any]) -> tuple[ResourceKind, ResourceRef] | str:
    """The kind and resource named, or a reason why none is."""
    if not isinstance(payload, Mapping):
        return "input is not a JSON object"
    reference = payload.get("resource")
    if isinstance(reference, Mapping):
        return _from_reference(reference)
    event = payload.get("event", payload)
    if not isinstance(event, Mapping):
        return "`event` is not a JSON object"
    found = identify(event)
    if found is None:
        source = event.get("source", "?")
        raw_detail = event.get("detail")
        detail: Mapping[str, Any] = raw_detail if isinstance(raw_detail, Mapping) else {}
        name = detail.get("eventName", event.get("detail-type", "?"))
        if detail.get("errorCode"):
            return f"the {name} call failed ({detail['errorCode']}): no resource was created"
        return f"the event ({source} {name}) names no resource idle-reaper watches"
    return found


def _from_reference(reference: Mapping[str, Any]) -> tuple[ResourceKind, ResourceRef] | str:
    try:
        kind = kind_named(str(reference.get("kind")))
    except UnknownKindError as exc:
        return str(exc)
    missing = [key for key in ("id", "region", "account") if not reference.get(key)]
    if missing:
        return f"the resource reference lacks {', '.join(missing)}"
    principal = reference.get("principal")
    ref = ResourceRef(
        kind=kind.name,
        id=str(reference["id"]),
        region=str(reference["region"]),
        account=str(reference["account"]),
        principal=str(principal) if principal else None,
    )
    return kind, ref
