"""The runtime finds kinds' emulators through a registry, as the product finds kinds: every
product kind has one, and a new one is parsed, started and summarized with no edit to any
other runtime module."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from idle_reaper.kinds import all_kinds
from idle_reaper.resource import ResourceRef
from local_runtime.emulators import Emulator, Life, all_emulators, emulator_for, register, registry
from local_runtime.emulators.glue import GlueEmulator
from local_runtime.errors import ScenarioError
from local_runtime.runtime import Account
from local_runtime.scenario import COMMON_KEYS, KindSpec, ResourceSpec, parse
from local_runtime.simulation import simulate


def test_every_product_kind_has_an_emulator() -> None:
    assert {k.name for k in all_kinds()} <= {e.kind for e in all_emulators()}
    assert emulator_for("glue-session") is GlueEmulator


@pytest.mark.parametrize("emulator", all_emulators(), ids=lambda e: e.kind)
def test_an_emulators_keys_are_its_own(emulator: type[Emulator]) -> None:
    """A kind's keys never shadow the common ones, which are parsed in one place."""
    assert not emulator.keys & COMMON_KEYS
    assert emulator.services


@dataclass(frozen=True)
class ToySpec(KindSpec):
    size: int = 1


class ToyEmulator(Emulator):
    kind = "toy-box"
    services = ()
    keys = frozenset({"size"})

    @classmethod
    def parse(cls, item: Mapping[str, Any], where: str, at: timedelta) -> ToySpec:
        size = item.get("size", 1)
        if not isinstance(size, int) or size < 1:
            raise ScenarioError(f"{where}.size: must be a positive whole number")
        return ToySpec(size=size)

    @classmethod
    def spec_from_start_event(cls, event: Mapping[str, Any], ref: ResourceRef) -> ResourceSpec:
        return ResourceSpec(kind=cls.kind, id=ref.id)

    def __init__(self, clock: Any) -> None:
        super().__init__(clock)
        self.lives: dict[str, Life] = {}

    def installed(self, account_id: str, region: str) -> AbstractContextManager[None]:
        return nullcontext()

    def life(self, resource_id: str) -> Life | None:
        return self.lives.get(resource_id)

    def start(self, account: Account, spec: ResourceSpec, emit: Any) -> None:
        assert isinstance(spec.kind_spec, ToySpec)
        now = self.clock.now()
        self.lives[spec.id] = Life(id=spec.id, created_at=now, cost_per_hour=spec.kind_spec.size)
        self._on_change(spec.id, "created", "opened")

    def user_stop(self, resource_id: str) -> bool:
        life = self.lives[resource_id]
        life.ended_at, life.ended_by = self.clock.now(), "user"
        self._on_change(resource_id, "ended", "closed")
        return True

    def narrate(self, what: str, text: str) -> str:
        return f"toy {text}"


@pytest.fixture
def toy() -> Iterator[type[ToyEmulator]]:
    registry.all_emulators()  # the package's own first, so the toy is the only extra
    register(ToyEmulator)
    try:
        yield ToyEmulator
    finally:
        del registry._EMULATORS[ToyEmulator.kind]


def scenario(resource: dict[str, Any]) -> dict[str, Any]:
    return {"start": "2026-03-02T09:00:00Z", "until": "1h", "resources": [resource]}


def test_a_registered_emulator_brings_its_kind_and_keys_to_scenarios(
    toy: type[ToyEmulator],
) -> None:
    (spec,) = parse(scenario({"kind": "toy-box", "id": "t1", "size": 3, "at": "5m"})).resources
    assert (spec.kind, spec.at, spec.kind_spec) == ("toy-box", timedelta(minutes=5), ToySpec(3))
    with pytest.raises(ScenarioError, match=r"resources\[0\]\.size: must be"):
        parse(scenario({"kind": "toy-box", "id": "t1", "size": 0}))
    with pytest.raises(ScenarioError, match=r"unknown key\(s\) workers"):
        parse(scenario({"kind": "toy-box", "id": "t1", "workers": 5}))
    with pytest.raises(ScenarioError, match=r"unknown kind 'crate' \(known: .*toy-box\)"):
        parse(scenario({"kind": "crate", "id": "t1"}))


def test_a_registered_emulator_runs_through_the_runtime_and_the_summary(
    toy: type[ToyEmulator],
) -> None:
    """Nothing but the registry tells the runtime, the actors, the timeline and the summary
    about the kind."""
    run = parse(
        scenario({"kind": "toy-box", "id": "t1", "size": 2, "at": "5m", "stop_by_user": "35m"})
    )
    out = io.StringIO()
    (res,) = simulate(run, out=out, progress=None)["summary"]["resources"]
    assert (res["kind"], res["outcome"], res["ended_by"]) == ("toy-box", "gone", "user")
    assert (res["started_at"], res["cost_usd"]) == ("2026-03-02T09:05:00Z", 1.0)
    assert "09:05:00  t1                   toy opened" in out.getvalue()
    assert "09:35:00  t1                   toy closed" in out.getvalue()


def test_a_kind_without_an_emulator_is_refused_in_one_line() -> None:
    with pytest.raises(ScenarioError) as refused:
        parse(scenario({"kind": "toy-box", "id": "t1"}))
    known = ", ".join(e.kind for e in all_emulators())
    assert f"unknown kind 'toy-box' (known: {known})" in str(refused.value)
    assert "glue-session" in known and "ec2-instance" in known
    assert "\n" not in str(refused.value)


def test_two_emulators_for_one_kind_are_refused() -> None:
    clash = type("Clash", (ToyEmulator,), {"kind": "glue-session"})
    with pytest.raises(ValueError, match="two emulators for kind 'glue-session'"):
        register(clash)
