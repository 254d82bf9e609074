"""What the watcher carries from one look to the next, and across executions.

The state machine only moves this state around; Inspect reads the previous one and returns
the next, so every rule about it (when to claim, when a warning counts as given, when to
continue as a new execution, which failures are consecutive) lives here, in one place.

State between states of the watcher (statemachine/watcher.asl.json):
    {"resource", "verdict", "claim", "watch", "tries"} and, after a Catch, "error";
    after EmitWarning delivered, "warned".
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from idle_reaper.resource import ResourceRef
from idle_reaper.times import to_iso

HISTORY_LIMIT = 25_000
"""A Standard execution fails, uncatchably, when its history reaches 25,000 events."""
HISTORY_BUDGET = 10_000
"""Continue as a new execution once this many history events may have been written:
well before the limit, whatever mix of looks, warnings and failures it was."""
EVENTS_PER_LOOK = 12
"""An upper bound per look: Inspect (5 events), Decide (2), Wait (2), a warning (3 more)."""
EVENTS_PER_FAILED_ROUND = 45
"""An upper bound per failed round: the failing Task with all its retries (3 per attempt,
6 attempts, plus enter/exit), the counting Pass, the Choice and the Wait."""
CLAIM_DAYS = 400
"""A claim must outlive its watch, or a sweep would start a second watcher for a resource still
watched: an EC2 instance or a notebook can run for months. A claim whose watch has ended is
freed by the sweeper when its resource runs on (claims.py); DynamoDB's TTL removes the rest
(a few hundred bytes each)."""
MAX_NAME = 80
"""Step Functions execution names are 1 to 80 characters."""


@dataclass(frozen=True)
class Watch:
    looks: int = 0
    """Looks in this execution."""
    generation: int = 1
    """1 for the execution the start event began; +1 for each continuation."""
    origin: str | None = None
    """The first execution's name: continuations are named after it, so a retried
    StartExecution finds the continuation it already started (idempotent by name)."""
    history: int = 0
    """History events this execution may have written (an upper bound)."""
    warned_since: str | None = None
    """The `idle_since` of the idle period a warning was delivered for."""
    announced: str | None = None
    """The stop time that warning named: the deadline, or later for a resource first seen
    past it. A lagging signal must report up to it before the stop."""
    guardrail_noticed: bool = False
    """A `guardrail` notice was delivered for this resource: it is not sent again."""
    continue_: bool = False
    """Set on a `wait` verdict once the history budget is spent: the state machine then
    starts the next execution with this state and ends this one."""
    next_name: str | None = None

    @classmethod
    def parse(cls, data: object) -> Watch:
        """Tolerant: anything malformed starts a fresh watch (it only ever costs a look)."""
        if not isinstance(data, Mapping):
            return cls()
        warned = data.get("warned_since")
        announced = data.get("announced")
        origin = data.get("origin")
        return cls(
            looks=_count(data.get("looks")),
            generation=max(1, _count(data.get("generation"))),
            origin=origin if isinstance(origin, str) and 0 < len(origin) <= MAX_NAME else None,
            history=_count(data.get("history")),
            warned_since=warned if isinstance(warned, str) and len(warned) <= 64 else None,
            announced=announced if isinstance(announced, str) and len(announced) <= 32 else None,
            guardrail_noticed=data.get("guardrail_noticed") is True,
            continue_=data.get("continue") is True,
            next_name=_name(data.get("next_name")),
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["continue"] = out.pop("continue_")
        return out


@dataclass(frozen=True)
class Tries:
    """Consecutive failures the watcher has met, so looking again later stays bounded."""

    failures: int = 0
    """Rounds in which Inspect, the claim, a warning or the stop failed after its retries."""
    refusals: int = 0
    """Stops the service refused because of the resource's state (IllegalSessionState)."""

    @classmethod
    def parse(cls, data: object) -> Tries:
        if not isinstance(data, Mapping):
            return cls()
        return cls(failures=_count(data.get("failures")), refusals=_count(data.get("refusals")))

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def claim_key(ref: ResourceRef, created: datetime | None) -> str:
    """The resource's identity: any number of start events for it give one watcher. The id
    comes last, so a `#` inside it cannot make two identities collide."""
    born = to_iso(created) if created else "unknown"
    return f"{ref.kind}#{ref.account}#{ref.region}#{born}#{ref.id}"


def claim_for(ref: ResourceRef, created: datetime | None, now: datetime) -> dict[str, str]:
    """What the Claim state writes (a conditional put) and when DynamoDB may forget it."""
    expires = int((now + timedelta(days=CLAIM_DAYS)).timestamp())
    return {"key": claim_key(ref, created), "expires_at": str(expires)}


def start_input(event: Mapping[str, Any]) -> dict[str, Any]:
    """A watcher's input: the start event in the state before any look. The start rule's
    InputTransformer writes exactly this around the event (a template test holds them equal);
    anyone starting a watcher by hand gives the same."""
    return {
        "event": dict(event),
        "resource": None,
        "verdict": None,
        "claim": None,
        "watch": {},
        "tries": Tries().to_dict(),
    }


HELD = {"held": True}
"""The claim after the Claim state (or in a continuation): nothing left to claim."""


def holds_claim(state: Mapping[str, Any]) -> bool:
    claim = state.get("claim")
    return isinstance(claim, Mapping) and claim.get("held") is True


def next_watch(
    prior: Watch,
    *,
    execution_name: str | None,
    errored: bool,
    warned_since: str | None,
    waiting: bool,
    announced: str | None = None,
    guardrail_noticed: bool = False,
) -> Watch:
    """The watch after one more look in this execution (or the first of a continuation).

    Only the execution named for the continuation starts a fresh history: in the old one,
    after its ContinueAsNew failed, the budget stays spent and the next `wait` tries again.
    """
    if prior.continue_ and execution_name is not None and execution_name == prior.next_name:
        prior = replace(prior, looks=0, history=0, generation=prior.generation + 1)
    origin = prior.origin or _name(execution_name)
    history = prior.history + EVENTS_PER_LOOK + (EVENTS_PER_FAILED_ROUND if errored else 0)
    spent = history >= HISTORY_BUDGET
    generation = prior.generation
    return Watch(
        looks=prior.looks + 1,
        generation=generation,
        origin=origin,
        history=history,
        warned_since=warned_since,
        announced=announced,
        guardrail_noticed=guardrail_noticed,
        continue_=waiting and spent,
        next_name=continuation_name(origin, generation + 1) if waiting and spent else None,
    )


def continuation_name(origin: str | None, generation: int) -> str:
    """The name of a watch's `generation`-th continuation: `<first execution>-g<n>`."""
    suffix = f"-g{generation}"
    base = origin or "watch"
    if len(base) + len(suffix) > MAX_NAME:
        base = hashlib.sha256(base.encode()).hexdigest()[: MAX_NAME - len(suffix)]
    return base + suffix


def _name(execution_name: str | None) -> str | None:
    if isinstance(execution_name, str) and 0 < len(execution_name) <= MAX_NAME:
        return execution_name
    return None


def _count(value: object) -> int:
    """A non-negative whole number from untrusted state (booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return min(value, 10**9)
