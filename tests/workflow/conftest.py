"""Run the real watcher ASL in the local runtime, one Glue session at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local_runtime.actors import start
from local_runtime.emulators.glue import GlueEmulator
from local_runtime.runtime import Account, running
from local_runtime.scenario import ResourceSpec

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@dataclass
class Watch:
    account: Account

    def start(self, **spec: Any) -> None:
        start(self.account, ResourceSpec(kind="glue-session", id="s1", **spec))

    @property
    def glue(self) -> GlueEmulator:
        emulator = self.account.emulators["glue-session"]
        assert isinstance(emulator, GlueEmulator)
        return emulator

    def run(self, minutes: float) -> None:
        self.account.clock.run_until(at(minutes))

    @property
    def execution(self) -> str:
        return self.account.bus.started[0].execution_arn

    def states(self) -> list[str]:
        return self.states_of(self.execution)

    def states_of(self, execution_arn: str) -> list[str]:
        return [
            e["stateEnteredEventDetails"]["name"]
            for e in self.account.history(execution_arn)
            if e["type"].endswith("StateEntered")
        ]

    def status(self) -> str:
        return self.account.execution_status(self.execution)

    def published(self) -> list[tuple[str, datetime]]:
        return [(p.detail_type, p.at) for p in self.account.bus.published]

    def detail(self, detail_type: str) -> dict[str, Any]:
        return next(p.detail for p in self.account.bus.published if p.detail_type == detail_type)


@pytest.fixture
def watch(request: pytest.FixtureRequest) -> Iterator[Watch]:
    marker = request.node.get_closest_marker("parameters")
    # the watcher alone: a sweep would also read (and take scripted faults from) the session
    parameters = {"SweepMinutes": "0", **(marker.args[0] if marker else {})}
    with running(T0, parameters) as account:
        yield Watch(account)
