"""The bundled Studio app scenarios through the whole system: the CreateApp rule from
template.yaml, the real ASL and its DeleteApp branches, the real handlers, the emulated Studio.

What a person would check: an abandoned app is warned, then deleted at its deadline for a
dozen state transitions; a free JupyterServer app is never watched; an app is never deleted
while a kernel works, and is deleted its allowance after the last work, through the space's or
the user profile's DeleteApp as the app belongs. Each app is found by the id idle-reaper
watches it under (its domain, space or user profile, type and name), not its scenario id.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from idle_reaper.kinds.sagemaker_app import SageMakerApp
from local_runtime import scenario as scenarios
from local_runtime.bus import Published
from local_runtime.emulators.sagemaker_app import AppLife, SageMakerAppEmulator
from local_runtime.runtime import Account
from local_runtime.simulation import simulate
from local_runtime.summary import executions_by_resource
from tests.conftest import SCENARIOS

T0 = datetime.fromisoformat("2026-03-02T09:00:00+00:00")


@dataclass
class Watched:
    """One scenario app as the reaper saw it, read while the emulated account still exists."""

    app_id: str
    life: AppLife
    events: list[Published]
    executions: list[str]
    histories: list[list[dict[str, Any]]]

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
def run(name: str) -> tuple[dict[str, Any], dict[str, Watched]]:
    """Each scenario runs once per test session: its summary, and each app as watched."""
    scenario = scenarios.load(SCENARIOS / name)
    apps: dict[str, Watched] = {}

    def keep(account: Account) -> None:
        emulator = account.emulators["sagemaker-app"]
        assert isinstance(emulator, SageMakerAppEmulator)
        executions = executions_by_resource(account)
        for spec in scenario.resources:
            app_id = emulator.resource_id(spec)
            life = emulator.life(spec.id)
            assert life is not None, spec.id
            arns = executions.get(app_id, [])
            apps[spec.id] = Watched(
                app_id=app_id,
                life=life,
                events=[p for p in account.bus.published if p.resource_id == app_id],
                executions=arns,
                histories=[account.history(arn) for arn in arns],
            )

    summary = simulate(scenario, out=io.StringIO(), progress=None, inspect=keep)
    return summary["summary"], apps


def watched(name: str, resource: str) -> Watched:
    return run(name)[1][resource]


def at(hours: int, minutes: int) -> datetime:
    return T0.replace(hour=hours, minute=minutes)


def deleted_by_the_reaper(app: Watched) -> datetime:
    """When the reaper's DeleteApp landed: the app's billing ended then, and only then."""
    (stopped,) = app.of_type("stopped")
    assert app.life.ended_by == "reaper"
    assert app.life.ended_at is not None
    assert abs(app.life.ended_at - stopped.at) <= timedelta(seconds=1)
    return app.life.ended_at


# -- sagemaker-app-idle.yaml --------------------------------------------------------------------
IDLE = "sagemaker-app-idle.yaml"
LAG = SageMakerApp.signal_lag
"""The delete waits for the heartbeat after the deadline: it lands this long after it (2 min)."""


def test_an_abandoned_jupyterlab_app_is_warned_then_deleted_at_its_deadline() -> None:
    app = watched(IDLE, "grace-lab")
    assert app.app_id == "d-demo/space/grace-lab-space/JupyterLab/default"
    assert app.life.last_activity_at == at(9, 0)  # opened, never used
    (warning,) = app.of_type("warning")
    assert warning.at == at(9, 55)  # WarningMinutes before the deadline
    assert warning.detail["verdict"]["deadline"] == "2026-03-02T10:00:00Z"
    assert deleted_by_the_reaper(app) == at(10, 0) + LAG  # 09:00 + SageMakerIdleMinutes (60)
    (stopped,) = app.of_type("stopped")
    resource = stopped.detail["resource"]
    assert resource["target"] == {
        "DomainId": "d-demo",
        "SpaceName": "grace-lab-space",
        "AppType": "JupyterLab",
        "AppName": "default",
    }
    assert resource["owner"] == "grace@example.com"
    assert resource["cost_per_hour"] == 0.05
    assert "DeleteSpaceApp" in app.states and "DeleteUserApp" not in app.states


def test_the_abandoned_app_costs_at_most_14_transitions_in_one_execution() -> None:
    app = watched(IDLE, "grace-lab")
    assert len(app.executions) == 1
    assert app.transitions <= 14
    assert [e.detail_type for e in app.events] == ["warning", "stopped"]


def summarized(name: str, resource: str) -> dict[str, Any]:
    summary, _ = run(name)
    found: dict[str, Any] = next(r for r in summary["resources"] if r["id"] == resource)
    return found


def test_the_summary_tells_the_abandoned_apps_story_by_its_scenario_id() -> None:
    grace = summarized(IDLE, "grace-lab")
    assert (grace["outcome"], grace["stopped_at"]) == ("stopped", "2026-03-02T10:02:00Z")
    assert (grace["warnings"], grace["executions"]) == (1, 1)
    assert grace["state_transitions"] <= 14
    summary, _ = run(IDLE)
    told = sorted((n["type"], n["channel"], n["at"]) for n in summary["notifications"])
    assert told == [
        ("stopped", "email", "2026-03-02T10:02:00Z"),
        ("stopped", "slack", "2026-03-02T10:02:00Z"),
        ("warning", "email", "2026-03-02T09:55:00Z"),
        ("warning", "slack", "2026-03-02T09:55:00Z"),
    ]
    classic = summarized(IDLE, "grace-classic")
    assert (classic["outcome"], classic["executions"], classic["cost_usd"]) == ("running", 0, 0.0)


def test_the_deleted_app_bills_until_the_delete_and_no_longer() -> None:
    grace = summarized(IDLE, "grace-lab")
    assert grace["started_at"] == "2026-03-02T09:00:00Z"
    assert grace["last_activity_at"] == "2026-03-02T09:00:00Z"
    assert grace["ended_by"] == "reaper"
    assert grace["idle_minutes_billed"] == 62.0  # the allowance and the heartbeat lag
    assert grace["cost_usd"] == 0.05  # 62 minutes at $0.05 an hour ($0.052)


def test_a_free_jupyterserver_app_is_never_watched() -> None:
    app = watched(IDLE, "grace-classic")
    assert app.app_id == "d-demo/user/grace-classic/JupyterServer/default"
    assert app.events == [] and app.executions == []
    assert app.life.ended_at is None  # still running when the scenario ends, as it may
    assert app.life.cost_per_hour == 0.0


# -- sagemaker-app-busy.yaml --------------------------------------------------------------------
BUSY = "sagemaker-app-busy.yaml"


def test_no_app_is_ever_deleted_while_a_kernel_works() -> None:
    for resource in ("ada-lab", "ben-kernels"):
        app = watched(BUSY, resource)
        ended = deleted_by_the_reaper(app)
        assert all(not (start <= ended < end) for start, end in app.life.periods), resource
        assert all(end <= ended for _, end in app.life.periods), resource


def test_each_app_is_deleted_its_allowance_after_its_last_work() -> None:
    ada, ben = watched(BUSY, "ada-lab"), watched(BUSY, "ben-kernels")
    assert (ada.life.last_activity_at, deleted_by_the_reaper(ada)) == (at(13, 30), at(14, 32))
    assert (ben.life.last_activity_at, deleted_by_the_reaper(ben)) == (at(12, 40), at(13, 42))
    for app in (ada, ben):
        (warning,) = app.of_type("warning")  # once, for the last idle period only
        assert deleted_by_the_reaper(app) - warning.at == timedelta(minutes=5) + LAG


def test_the_summary_reports_both_deletions() -> None:
    ada, ben = summarized(BUSY, "ada-lab"), summarized(BUSY, "ben-kernels")
    assert (ada["outcome"], ada["stopped_at"], ada["warnings"]) == (
        "stopped",
        "2026-03-02T14:32:00Z",
        1,
    )
    assert (ben["outcome"], ben["stopped_at"], ben["warnings"]) == (
        "stopped",
        "2026-03-02T13:42:00Z",
        1,
    )
    assert (ada["last_activity_at"], ben["last_activity_at"]) == (
        "2026-03-02T13:30:00Z",
        "2026-03-02T12:40:00Z",
    )
    # 5h32 at $0.23 (ml.m5.xlarge) and 4h42 at $0.05 (ml.t3.medium), each 62 idle minutes
    # (the hour and the heartbeat lag)
    assert (ada["cost_usd"], ada["wasted_usd"]) == (1.27, 0.24)
    assert (ben["cost_usd"], ben["wasted_usd"]) == (0.24, 0.05)


def test_pauses_shorter_than_the_allowance_only_make_the_watcher_look_again() -> None:
    """35 and 30 idle minutes (ada), 28 (ben) against 60: no warning in any of them."""
    for resource in ("ada-lab", "ben-kernels"):
        app = watched(BUSY, resource)
        assert [e.detail_type for e in app.events] == ["warning", "stopped"], resource


def test_a_space_app_and_a_user_profile_app_take_their_own_delete_app_branch() -> None:
    ada, ben = watched(BUSY, "ada-lab"), watched(BUSY, "ben-kernels")
    assert "DeleteSpaceApp" in ada.states and "DeleteUserApp" not in ada.states
    assert "DeleteUserApp" in ben.states and "DeleteSpaceApp" not in ben.states
    (stopped,) = ben.of_type("stopped")
    assert stopped.detail["resource"]["target"] == {
        "DomainId": "d-demo",
        "UserProfileName": "ben-kernels",
        "AppType": "KernelGateway",
        "AppName": "default",
    }
