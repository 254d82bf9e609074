"""The bundled notebook instance scenarios through the whole system: the InService rule from
template.yaml, the real ASL and its StopNotebookInstance branch, the real handlers, the
emulated SageMaker and the activity signal its lifecycle script would publish.

What a person would check: an abandoned notebook is warned, then stopped at its deadline for a
dozen state transitions; a notebook is never stopped while a kernel works; one without the
activity signal is never judged idle (exempt, saying why), unless SageMakerMaxHours is set,
and then it is warned and stopped that many hours after it became InService.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from idle_reaper.kinds.sagemaker_notebook import SageMakerNotebook
from local_runtime import scenario as scenarios
from local_runtime.bus import Published
from local_runtime.emulators.sagemaker_notebook import (
    PENDING_SECONDS,
    NotebookLife,
    SageMakerNotebookEmulator,
)
from local_runtime.runtime import Account
from local_runtime.simulation import simulate
from local_runtime.summary import executions_by_resource
from tests.conftest import SCENARIOS

T0 = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
IN_SERVICE = T0 + timedelta(seconds=PENDING_SECONDS)
IDLE = "sagemaker-notebook-idle.yaml"
NO_SIGNAL = "sagemaker-notebook-no-signal.yaml"
LAG = SageMakerNotebook.signal_lag
"""The stop waits for the heartbeat after the deadline: it lands this long after it."""


@dataclass
class Watched:
    """One scenario notebook as the reaper saw it, and as SageMaker ended it."""

    life: NotebookLife
    status: str
    events: list[Published]
    histories: list[list[dict[str, Any]]]
    summary: dict[str, Any]

    def of_type(self, detail_type: str) -> list[Published]:
        return [e for e in self.events if e.detail_type == detail_type]

    @property
    def transitions(self) -> int:
        return sum(1 for h in self.histories for e in h if str(e["type"]).endswith("Entered"))

    @property
    def states(self) -> list[str]:
        return [
            e["stateEnteredEventDetails"]["name"]
            for h in self.histories
            for e in h
            if "stateEnteredEventDetails" in e
        ]


@cache
def run(name: str, max_hours: str | None = None) -> dict[str, Watched]:
    """Each scenario (and parameter override) runs once per test session."""
    scenario = scenarios.load(SCENARIOS / name)
    if max_hours is not None:
        scenario = replace(
            scenario, parameters={**scenario.parameters, "SageMakerMaxHours": max_hours}
        )
    seen: dict[str, Watched] = {}

    def keep(account: Account) -> None:
        emulator = account.emulators["sagemaker-notebook"]
        assert isinstance(emulator, SageMakerNotebookEmulator)
        executions = executions_by_resource(account)
        sagemaker = account.clients["sagemaker"]
        for spec in scenario.resources:
            life = emulator.life(spec.id)
            assert life is not None, spec.id
            described = sagemaker.describe_notebook_instance(NotebookInstanceName=spec.id)
            seen[spec.id] = Watched(
                life=life,
                status=described["NotebookInstanceStatus"],
                events=[p for p in account.bus.published if p.resource_id == spec.id],
                histories=[account.history(arn) for arn in executions.get(spec.id, [])],
                summary={},
            )

    summary = simulate(scenario, out=io.StringIO(), progress=None, inspect=keep)
    for res in summary["summary"]["resources"]:
        seen[res["id"]].summary = res
    return seen


def at(hours: int, minutes: int) -> datetime:
    return T0.replace(hour=hours, minute=minutes)


def stopped_by_the_reaper(notebook: Watched) -> datetime:
    """When the reaper's StopNotebookInstance landed: billing ended then, and only then."""
    (stopped,) = notebook.of_type("stopped")
    assert notebook.life.ended_by == "reaper"
    assert notebook.life.ended_at is not None
    assert abs(notebook.life.ended_at - stopped.at) <= timedelta(seconds=1)
    assert notebook.status == "Stopped"
    assert "StopNotebookInstance" in notebook.states
    return notebook.life.ended_at


# -- sagemaker-notebook-idle.yaml -----------------------------------------------------------
def test_an_abandoned_notebook_is_warned_then_stopped_at_its_deadline() -> None:
    notebook = run(IDLE)["frank-abandoned"]

    (warning,) = notebook.of_type("warning")
    (stopped,) = notebook.of_type("stopped")

    assert warning.at == at(9, 59)  # WarningMinutes before the deadline
    assert warning.detail["verdict"]["deadline"] == "2026-03-02T10:04:00Z"
    assert stopped_by_the_reaper(notebook) == IN_SERVICE + timedelta(minutes=60) + LAG
    resource = stopped.detail["resource"]
    assert resource["kind"] == "sagemaker-notebook"
    assert resource["arn"].endswith(":notebook-instance/frank-abandoned")
    assert resource["owner"] == "frank@example.com"
    assert resource["cost_per_hour"] == 0.05
    assert resource["started_at"] == "2026-03-02T09:04:00Z"  # the run began InService
    assert "#/notebook-instances/frank-abandoned" in resource["console_url"]


def test_the_abandoned_notebook_costs_at_most_14_transitions_in_one_execution() -> None:
    notebook = run(IDLE)["frank-abandoned"]

    assert len(notebook.histories) == 1
    assert notebook.transitions <= 14
    assert [e.detail_type for e in notebook.events] == ["warning", "stopped"]


def test_the_stopped_notebook_bills_until_the_stop_and_no_longer() -> None:
    res = run(IDLE)["frank-abandoned"].summary

    assert (res["outcome"], res["started_at"], res["stopped_at"]) == (
        "stopped",
        "2026-03-02T09:00:00Z",
        "2026-03-02T10:06:00Z",  # the deadline 10:04, and the heartbeat lag
    )
    assert res["last_activity_at"] == "2026-03-02T09:04:00Z"  # never used after InService
    assert res["idle_minutes_billed"] == 62.0
    assert res["cost_usd"] == 0.06  # 66 minutes at $0.05 an hour ($0.055)
    assert res["warnings"] == 1


def test_a_notebook_is_never_stopped_while_its_kernel_works() -> None:
    notebook = run(IDLE)["grace-training"]
    work_ended = at(11, 10)  # two hours of kernel work from 09:10

    stop = stopped_by_the_reaper(notebook)
    (warning,) = notebook.of_type("warning")

    assert notebook.life.last_activity_at == work_ended
    assert stop == work_ended + timedelta(minutes=60) + LAG
    assert warning.at == work_ended + timedelta(minutes=55)
    assert notebook.summary["cost_usd"] is not None and notebook.summary["cost_usd"] > 0


# -- sagemaker-notebook-no-signal.yaml ------------------------------------------------------
def test_without_the_signal_a_notebook_is_exempt_saying_why_and_never_stopped() -> None:
    notebook = run(NO_SIGNAL)["henry-scratch"]

    (exempt,) = notebook.of_type("exempt")

    assert exempt.at == IN_SERVICE + timedelta(minutes=10)  # the first heartbeat's grace
    reason = exempt.detail["verdict"]["reason"]
    assert reason.startswith("no activity signal: attach idle-reaper's lifecycle configuration")
    assert notebook.of_type("warning") == [] and notebook.of_type("stopped") == []
    assert notebook.life.ended_at is None and notebook.status == "InService"
    assert notebook.summary["outcome"] == "exempt"


def test_with_max_hours_a_notebook_without_the_signal_is_warned_then_stopped() -> None:
    notebook = run(NO_SIGNAL, max_hours="2")["henry-scratch"]

    (warning,) = notebook.of_type("warning")
    (stopped,) = notebook.of_type("stopped")

    assert stopped_by_the_reaper(notebook) == IN_SERVICE + timedelta(hours=2)
    assert warning.at == IN_SERVICE + timedelta(hours=2) - timedelta(minutes=5)
    reason = stopped.detail["verdict"]["reason"]
    assert "no activity signal: stopped after SageMakerMaxHours=2 h of running" in reason
    assert notebook.of_type("exempt") == []
    assert notebook.summary["outcome"] == "stopped"
