"""The one interface every emulated kind implements, so the runtime, the scenario parser, the
actors, the timeline and the summary never learn a kind's name.

An emulator gives one kind of resource a life on the virtual clock where moto has none: it is
installed into moto for the run, keeps each resource's billing record (a `Life`), parses its
kind's own scenario keys, starts a resource the way its user would (and emits the start event
AWS would send), runs the user's activity in it, lets the user stop it, and rebuilds a
resource from a recorded start event for `make replay`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from idle_reaper.savings import DEFAULT_OWN_IDLE_TIMEOUT_MINUTES

if TYPE_CHECKING:
    from idle_reaper.resource import ResourceRef
    from local_runtime.clock import VirtualClock
    from local_runtime.runtime import Account
    from local_runtime.scenario import KindSpec, ResourceSpec

Listener = Callable[[str, str, str], None]
"""Told (resource id, what happened, text) as it happens: the timeline is one."""
Emit = Callable[[dict[str, Any]], None]
"""Hands the start event a resource caused to EventBridge, as the scenario's `event` says."""


@dataclass(kw_only=True)
class Life:
    """What happened to one resource: the billing record behind the summary."""

    id: str
    created_at: datetime
    cost_per_hour: float | None
    """None when the price is not known: the summary then gives no cost for it."""
    ended_at: datetime | None = None
    """When it stopped billing."""
    ended_by: str | None = None
    """reaper (the watcher's stop call), user, or the service's own end (a timeout)."""

    @property
    def busy(self) -> bool:
        """Working right now (a running statement, a busy kernel): its idle time has not begun."""
        return False

    @property
    def last_activity_at(self) -> datetime:
        """When it last did work; its creation until it has done any."""
        return self.created_at

    @property
    def own_idle_timeout_minutes(self) -> int:
        """When the service itself would have ended it, idle: the savings model's "left alone"
        end (Glue's IdleTimeout). A kind with no such timeout keeps the product's fallback."""
        return DEFAULT_OWN_IDLE_TIMEOUT_MINUTES


class Emulator(ABC):
    """One emulated kind. Subclasses register themselves (`registry.register`)."""

    kind: ClassVar[str]
    """The product's kind name (`glue-session`), as scenarios and summaries spell it."""
    services: ClassVar[tuple[str, ...]]
    """The boto3 services its actors call: the runtime builds a client for each."""
    keys: ClassVar[frozenset[str]]
    """Its scenario keys beyond the common ones (`scenario.COMMON_KEYS`)."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.listeners: list[Listener] = []

    # -- scenarios and replays ------------------------------------------------------------------
    @classmethod
    @abstractmethod
    def parse(cls, item: Mapping[str, Any], where: str, at: timedelta) -> KindSpec:
        """Its own keys of one scenario resource (already checked for unknown keys), strictly:
        a bad value is a one-line ScenarioError. `at` is when the resource starts."""

    @classmethod
    @abstractmethod
    def spec_from_start_event(cls, event: Mapping[str, Any], ref: ResourceRef) -> ResourceSpec:
        """The resource a recorded start event created, to create again (`make replay`); its
        numbers held to the scenario's bounds (a recording may be hand-edited or hostile)."""

    # -- the run --------------------------------------------------------------------------------
    @abstractmethod
    def installed(self, account_id: str, region: str) -> AbstractContextManager[None]:
        """Patch moto's backends for this account and region for the duration of the block."""

    @abstractmethod
    def life(self, resource_id: str) -> Life | None:
        """The resource's billing record; None when it was never created."""

    @abstractmethod
    def start(self, account: Account, spec: ResourceSpec, emit: Emit) -> None:
        """Create the resource as its user would, through the API, and `emit` the start event
        AWS sends for it, when AWS sends it."""

    def schedule(self, origin: datetime, spec: ResourceSpec) -> None:  # noqa: B027
        """Put the user's activity in the resource on the clock (`origin`: the scenario's
        start); a kind whose scenarios name none has nothing to do."""

    def resource_id(self, spec: ResourceSpec) -> str:
        """The id the watcher and every reaper event name the scenario's resource by: the
        scenario's own `id` where AWS takes the name given (a Glue session, a notebook), else
        the one AWS gives it (an EC2 instance id, a Studio app's path). The summary matches by
        it; `life` takes the scenario's id."""
        return spec.id

    @abstractmethod
    def user_stop(self, resource_id: str) -> bool:
        """The user stops their own resource; False when it was no longer running."""

    # -- the timeline ---------------------------------------------------------------------------
    def narrate(self, what: str, text: str) -> str:
        """How the timeline words one of its changes."""
        return text

    def _on_change(self, resource_id: str, what: str, text: str) -> None:
        for listener in self.listeners:
            listener(resource_id, what, text)
