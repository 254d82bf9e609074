"""What the watcher knows about one resource: its reference and what inspecting it found."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Phase = Literal["starting", "billing", "ended", "missing"]
"""Where a resource is in its life, in terms that decide what the reaper may do:
starting (not yet billable, cannot be stopped), billing (may be stopped when idle),
ended (stopping, stopped, timed out, failed) and missing (no longer exists)."""


@dataclass(frozen=True)
class ResourceRef:
    """Enough to find a resource again: carried by the watcher from one inspection to the next."""

    kind: str
    id: str
    region: str
    account: str
    principal: str | None = None

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
    cost_per_hour: float = 0.0
    arn: str | None = None
    own_idle_timeout_minutes: int | None = None
    """The service's own idle timeout, when it has one (Glue's IdleTimeout)."""
