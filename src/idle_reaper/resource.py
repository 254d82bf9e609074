"""What the watcher knows about one resource: its reference and what inspecting it found."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from idle_reaper.exceptions import PolicyError
from idle_reaper.partition import is_region, partition_for

Phase = Literal["starting", "billing", "ended", "missing"]
"""Where a resource is in its life, in terms that decide what the reaper may do:
starting (not yet billable, cannot be stopped), billing (may be stopped when idle),
ended (stopping, stopped, timed out, failed) and missing (no longer exists)."""


_ACCOUNT = re.compile(r"\d{12}")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
MAX_ID_LENGTH = 255
"""Glue session ids (and SageMaker, EC2 ids) are at most 255 characters."""
MAX_PRINCIPAL_LENGTH = 2048


def json_object(value: Any) -> Mapping[str, Any]:
    """A JSON object from an event or an API answer, or an empty one when the field is
    anything else: a wrong type reads as absent, never raises."""
    return value if isinstance(value, Mapping) else {}


def is_account(value: object) -> bool:
    """A 12-digit AWS account id."""
    return isinstance(value, str) and _ACCOUNT.fullmatch(value) is not None


def is_resource_id(value: object) -> bool:
    """A single-line id of 1 to 255 characters, as the services' Id patterns allow."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_ID_LENGTH
        and _CONTROL.search(value) is None
    )


def principal_or_none(value: object) -> str | None:
    """An event's principal ARN when it is a sane string; hostile values are dropped."""
    if isinstance(value, str) and 0 < len(value) <= MAX_PRINCIPAL_LENGTH:
        return None if _CONTROL.search(value) else value
    return None


@dataclass(frozen=True)
class Home:
    """Where the stack runs: a watcher acts on resources of this account and region only."""

    partition: str
    region: str
    account: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Home:
        """From HOME_REGION and HOME_ACCOUNT, which the template sets to the stack's own
        (`sam local invoke` resolves them too, where the context's function ARN carries a
        made-up account). Without them no resource can be known to be ours: refuse."""
        region, account = env.get("HOME_REGION", ""), env.get("HOME_ACCOUNT", "")
        if not is_region(region) or not is_account(account):
            raise PolicyError(
                f"HOME_REGION={region[:40]!r} and HOME_ACCOUNT={account[:40]!r} must name the "
                "stack's region and 12-digit account"
            )
        return cls(partition=partition_for(region), region=region, account=account)

    def owns(self, ref: ResourceRef) -> bool:
        return ref.account == self.account and ref.region == self.region


@dataclass(frozen=True)
class ResourceRef:
    """Enough to find a resource again: carried by the watcher from one inspection to the next."""

    kind: str
    id: str
    region: str
    account: str
    principal: str | None = None

    @classmethod
    def parse(cls, kind: str, data: Mapping[str, Any]) -> ResourceRef | str:
        """A reference from untrusted JSON (a watcher's carried state, a sweeper's input),
        or the reason it is not one."""
        bad = [
            key
            for key, valid in (
                ("id", is_resource_id),
                ("region", is_region),
                ("account", is_account),
            )
            if not valid(data.get(key))
        ]
        if bad:
            return f"the resource reference has no valid {', '.join(bad)}"
        return cls(
            kind=kind,
            id=data["id"],
            region=data["region"],
            account=data["account"],
            principal=principal_or_none(data.get("principal")),
        )

    @property
    def partition(self) -> str:
        return partition_for(self.region)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "region": self.region,
            "account": self.account,
            "principal": self.principal,
        }


@dataclass(frozen=True)
class Observation:
    """One reading of a resource, normalized across kinds."""

    phase: Phase
    status: str
    started_at: datetime | None = None
    last_activity_at: datetime | None = None
    busy: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    cost_per_hour: float | None = 0.0
    """None when the price is not known (an instance type outside the kind's table): then no
    cost and no savings figure is given, never a guess."""
    arn: str | None = None
    workers: int | None = None
    """How many workers it runs on, where the kind has them (Glue's NumberOfWorkers): the
    max_workers guardrail reads it."""
    own_idle_timeout_minutes: int | None = None
    """The service's own idle timeout, when it has one (Glue's IdleTimeout, a Studio domain's
    IdleSettings): the savings model's "left alone" end."""
    unwatchable: str | None = None
    """Why this resource's idleness can never be read (no activity signal attached, not opted
    in): the watch ends `exempt` with this reason, unless `running_cap_minutes` is set."""
    running_cap_minutes: int | None = None
    """For an unwatchable resource, the longest it may run (SageMakerMaxHours): then it is
    warned and stopped that long after it started, whatever it is doing."""
    unreadable: str | None = None
    """Why its activity cannot be read right now (too few datapoints, a stale signal): never
    idle; the watcher looks again `recheck_minutes` later."""
    recheck_minutes: int = 5
    signal_lag: timedelta = timedelta(0)
    """How late the activity signal reports (EC2's CloudWatch metrics, SageMaker's heartbeat):
    the look that stops comes this long after the deadline, so work begun up to the deadline
    is seen."""
    reported_until: datetime | None = None
    """How far the activity signal has reported (SageMaker's last heartbeat); None: the reading
    is live (Glue's statements) or the kind checks its own gaps (EC2's missing periods). No
    stop is decided on a signal that has not reported up to the deadline."""
    notes: tuple[str, ...] = ()
    """What the owner should know about the resource's own settings (Studio's idle shutdown
    coming before the allowance): the verdict carries them with its own notes."""
