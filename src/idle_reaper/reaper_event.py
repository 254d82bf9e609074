"""One strict reading of a reaper event (the watcher's EventBridge event, source `idle-reaper`),
shared by the notify and audit functions so the two can never disagree about what it says.

What cannot be read at all (not an object, no `detail` object, no `detail-type`) raises
MalformedEventError: the invocation fails, Lambda retries it twice, then sends it to the
function's on-failure destination (its dead-letter queue), where the event itself is the
record. https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html

What is merely damaged is read as far as it goes, and the damage is noted (`notes`):
- a `resource`, `verdict` or `error` that is not an object is treated as absent;
- a missing `resource` (the watcher failed before its first verdict) is derived from the
  watcher's start event in `detail.event` (a CloudTrail event, or a sweeper's
  `{"resource": {...}}`) with the kind registry Inspect uses, so every message and record
  still names the resource;
- an event without an `id` is keyed by the sha256 of its canonical JSON: a redelivery of
  it gets the same key (and dedupes), two different events never share one.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from idle_reaper.exceptions import MalformedEventError, UnknownKindError
from idle_reaper.kinds import identify, kind_named
from idle_reaper.kinds.base import ResourceKind, principal_name
from idle_reaper.policy_check import POLICY_INVALID
from idle_reaper.resource import ResourceRef

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class ReaperEvent:
    id: str
    """The event's id, or `sha256:<hex>` of its canonical JSON when it has none; the
    delivery idempotency keys and the audit sort key are made from it."""
    detail_type: str
    resource: Mapping[str, Any]
    """The resource the event is about: the watcher's, else derived from its start event,
    else empty."""
    verdict: Mapping[str, Any]
    error: Mapping[str, Any]
    at: str | None = None
    """`detail.at`: when the watcher emitted it (Step Functions' EnteredTime)."""
    time: str | None = None
    """The envelope's `time` (EventBridge's)."""
    account: str | None = None
    """The envelope's account: the stack's, which may not be the resource's."""
    region: str | None = None
    execution_arn: str | None = None
    notes: tuple[str, ...] = ()
    """What was damaged and how it was read, for the logs and the audit record."""
    keep: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    """A `kept` event's keep (until, by, from where); empty for every other event."""

    @classmethod
    def parse(cls, event: object) -> ReaperEvent:
        """Read one event; raise MalformedEventError when it cannot be read at all."""
        if not isinstance(event, Mapping):
            raise MalformedEventError("not a reaper event: the event is not a JSON object")
        detail_type = event.get("detail-type")
        if not isinstance(detail_type, str) or not detail_type:
            raise MalformedEventError("not a reaper event: it has no detail-type")
        detail = event.get("detail")
        if not isinstance(detail, Mapping):
            raise MalformedEventError(
                f"not a reaper event: its detail is {_kind_of(detail)}, not an object"
            )
        notes: list[str] = []
        event_id = event.get("id")
        if isinstance(event_id, str) and event_id:
            key = event_id
        else:
            key = content_key(event)
            notes.append("no event id: keyed by the sha256 of its content")
        resource = _object(detail, "resource", notes)
        if not resource:
            resource = _derived_resource(detail.get("event"), notes)
        at = detail.get("at")
        if at is not None and not isinstance(at, str):
            notes.append(f"detail.at was {_kind_of(at)}: treated as absent")
        return cls(
            id=key,
            detail_type=detail_type,
            resource=resource,
            verdict=_object(detail, "verdict", notes),
            error=_object(detail, "error", notes),
            at=at if isinstance(at, str) else None,
            time=text_of(event.get("time")),
            account=text_of(event.get("account")),
            region=text_of(event.get("region")),
            execution_arn=text_of(detail.get("execution_arn")),
            keep=_object(detail, "keep", notes),
            notes=tuple(notes),
        )


NAMING_NOTHING = frozenset({"ignored"})
"""The one outcome whose event rightly names no resource: the watcher's start event named none
(or one that is not ours). The policy check's `failed` event names its policy parameter."""


def require_subject(parsed: ReaperEvent) -> ReaperEvent:
    """The event, if it says what it is about; else MalformedEventError: a `stopped`, `warning`
    or `failed` event with no resource and no start event to find one in (only a watcher gone
    wrong could publish it) would tell a person that "(unknown)" was stopped. Refused as an
    unreadable event is: retried by Lambda, then dead-lettered (alarmed), by notify and audit
    alike."""
    if text_of(parsed.resource.get("id")) or parsed.detail_type in NAMING_NOTHING:
        return parsed
    if parsed.detail_type == "failed" and text_of(parsed.error.get("Error")) == POLICY_INVALID:
        return parsed
    raise MalformedEventError(
        f"not a reaper event: a {parsed.detail_type[:64]!r} event that names no resource and "
        "carries no start event naming one"
    )


def content_key(event: Mapping[str, Any]) -> str:
    """`sha256:<hex>` of the event's canonical JSON (sorted keys, no spaces, ASCII)."""
    try:
        canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError) as exc:  # keys of mixed types, a cycle
        raise MalformedEventError(f"not a reaper event: it cannot be keyed ({exc})") from exc
    return "sha256:" + hashlib.sha256(canonical.encode("ascii")).hexdigest()


def failure_of(error: Mapping[str, Any]) -> tuple[str, str]:
    """A Step Functions error as (name, cause) a person can read. A Lambda function's error
    reaches the watcher with its whole error payload, stack trace included, as the Cause:
    keep its `errorMessage` and leave the trace to the execution history."""
    name = _as_text(error.get("Error")) or "unknown error"
    cause = _as_text(error.get("Cause"))
    if cause.startswith("{"):
        try:
            payload = json.loads(cause)
        except ValueError:
            payload = None
        if isinstance(payload, dict) and isinstance(payload.get("errorMessage"), str):
            cause = payload["errorMessage"]
    return name, cause


def _as_text(value: object) -> str:
    """An error field as text: a string as it is, nothing for null, anything else as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def text_of(value: object) -> str | None:
    """A string field's value: a non-empty string, or a number written out; else None."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def number_of(value: object) -> int | float | None:
    """A number field's value: a finite int or float (never a bool); else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def _object(detail: Mapping[str, Any], name: str, notes: list[str]) -> Mapping[str, Any]:
    """`detail[name]` when it is an object; absent (and noted, unless null) otherwise."""
    value = detail.get(name)
    if isinstance(value, Mapping):
        return value
    if value is not None:
        notes.append(f"detail.{name} was {_kind_of(value)}, not an object: treated as absent")
    return _EMPTY


def _derived_resource(start: object, notes: list[str]) -> Mapping[str, Any]:
    """The resource the watcher's start event names, as the watcher would have carried it."""
    if start is None:
        return _EMPTY
    if not isinstance(start, Mapping):
        notes.append(f"detail.event was {_kind_of(start)}, not an object: no resource named")
        return _EMPTY
    found = _named_by(start)
    if found is None:
        notes.append("detail.event names no resource idle-reaper watches")
        return _EMPTY
    kind, ref = found
    return MappingProxyType(
        {
            **ref.to_dict(),
            "owner": principal_name(ref.principal),
            "console_url": kind.console_url(ref),
        }
    )


def _named_by(start: Mapping[str, Any]) -> tuple[ResourceKind, ResourceRef] | None:
    """A sweeper's `{"resource": {...}}` reference, else whatever a kind identifies."""
    reference = start.get("resource")
    if not isinstance(reference, Mapping):
        return identify(start)
    try:
        kind = kind_named(str(reference.get("kind")))
    except UnknownKindError:
        return None
    ref = ResourceRef.parse(kind.name, reference)
    return None if isinstance(ref, str) else (kind, ref)


def _kind_of(value: object) -> str:
    """How a JSON value is described in a note: `a string`, `a list`, `missing`."""
    if value is None:
        return "missing"
    names = {str: "a string", list: "a list", bool: "a boolean", int: "a number"}
    return names.get(type(value), "a number" if isinstance(value, float) else type(value).__name__)


__all__ = ["ReaperEvent", "content_key", "number_of", "text_of"]
