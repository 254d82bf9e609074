"""The EC2 scenarios through the whole system: the start rule from template.yaml, the real ASL
and handlers, IAM enforced, the emulated EC2 and its CloudWatch metrics.

What is promised: an opted-in idle instance is warned once and stopped within one metric period
(5 minutes) after its true deadline (its last work, or its launch, plus Ec2IdleMinutes) in at
most 14 state transitions; a busy one is never stopped while it works; an instance without the
opt-in tag is exempt at once and never stopped, and the watcher's role could not stop it if it
tried. Each scenario runs once; the facts are read from the account before it is torn down.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from idle_reaper.kinds.ec2 import METRIC_LAG, Ec2Settings, busy_cpu_percent
from idle_reaper.times import parse_iso
from local_runtime import scenario as scenarios
from local_runtime.bus import Published
from local_runtime.emulators.ec2 import (
    Ec2Emulator,
    InstanceLife,
    cpu_when_idle,
    cpu_when_working,
)
from local_runtime.runtime import Account
from local_runtime.simulation import simulate
from local_runtime.summary import executions_by_resource
from tests.conftest import SCENARIOS

IDLE_MINUTES = timedelta(minutes=60)
ONE_PERIOD = timedelta(minutes=5)


@dataclass
class Facts:
    """One resource's run, as the emulated account recorded it."""

    life: InstanceLife
    published: list[Published]
    executions: int
    transitions: int
    role_stop_refusal: str | None = None
    """For an instance the watcher did not stop: what IAM answers its role's StopInstances."""

    def of(self, detail_type: str) -> list[Published]:
        return [p for p in self.published if p.detail_type == detail_type]


@cache
def run(name: str) -> tuple[dict[str, Any], dict[str, Facts]]:
    """A bundled scenario, once per test session."""
    return run_scenario(scenarios.load(SCENARIOS / name))


def run_scenario(scenario: scenarios.Scenario) -> tuple[dict[str, Any], dict[str, Facts]]:
    facts: dict[str, Facts] = {}

    def keep(account: Account) -> None:
        emulator = account.emulators["ec2-instance"]
        assert isinstance(emulator, Ec2Emulator)
        watchers = executions_by_resource(account)
        for spec in scenario.resources:
            life = emulator.life(spec.id)
            assert life is not None, spec.id
            arns = watchers.get(life.id, [])
            facts[spec.id] = Facts(
                life=life,
                published=[p for p in account.bus.published if p.resource_id == life.id],
                executions=len(arns),
                transitions=sum(account.state_transitions(arn) for arn in arns),
                role_stop_refusal=None if life.ended_by else stop_as_watcher(account, life.id),
            )

    summary = simulate(scenario, out=io.StringIO(), progress=None, inspect=keep)
    return summary["summary"], facts


def stop_as_watcher(account: Account, instance_id: str) -> str | None:
    """StopInstances signed as the state machine's role: the error code IAM answers, or None
    when the stop went through."""
    assert account.iam is not None
    role = account.stack.arn("WatcherStateMachineRole")
    credentials = account.iam.role_credentials(role, "e2e-check")
    ec2 = boto3.client("ec2", region_name=account.region, **credentials.client_kwargs())
    try:
        ec2.stop_instances(InstanceIds=[instance_id])
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return None


def stopped_at(facts: Facts) -> datetime:
    (stop,) = facts.of("stopped")
    return stop.at


# -- an idle instance ----------------------------------------------------------------------------
def test_an_idle_opted_in_instance_is_warned_once_then_stopped_within_a_period() -> None:
    _, facts = run("ec2-idle.yaml")
    idle = facts["web-build-1"]

    assert idle.life.ended_by == "reaper"
    assert len(idle.of("warning")) == 1 and not idle.of("exempt") and not idle.of("failed")
    deadline = idle.life.last_activity_at + IDLE_MINUTES  # never worked: its launch
    late = stopped_at(idle) - deadline
    assert timedelta(0) <= late <= ONE_PERIOD, late
    assert idle.life.ended_at == stopped_at(idle)
    (warning,) = idle.of("warning")
    assert warning.at == deadline - timedelta(minutes=5)  # WarningMinutes before the deadline
    assert stopped_at(idle) == deadline + METRIC_LAG  # when the metrics reach the deadline


def test_the_abandoned_instance_costs_at_most_14_state_transitions() -> None:
    _, facts = run("ec2-idle.yaml")

    assert facts["web-build-1"].executions == 1
    assert facts["web-build-1"].transitions <= 14


def test_the_idle_instance_is_billed_at_its_types_price_until_the_stop() -> None:
    summary, facts = run("ec2-idle.yaml")
    (res,) = summary["resources"]
    life = facts["web-build-1"].life

    assert life.cost_per_hour == 0.096  # m5.large, us-east-1, Linux On-Demand
    minutes = (stopped_at(facts["web-build-1"]) - life.created_at).total_seconds() / 60
    assert res["cost_usd"] == round(0.096 * minutes / 60, 2)
    assert res["ended_by"] == "reaper"


def test_the_stop_and_the_warning_reach_the_owner_on_every_channel() -> None:
    summary, facts = run("ec2-idle.yaml")
    instance = facts["web-build-1"].life.id

    notifications = summary["notifications"]  # naming each resource by its scenario id
    told = [(n["type"], n["channel"]) for n in notifications if n["resource"] == "web-build-1"]
    assert told == [
        ("warning", "email"),
        ("warning", "slack"),
        ("stopped", "email"),
        ("stopped", "slack"),
    ]
    (stop,) = facts["web-build-1"].of("stopped")
    assert stop.detail["resource"]["owner"] == "dana@example.com"
    assert stop.detail["resource"]["console_url"].endswith(
        f"#InstanceDetails:instanceId={instance}"
    )


# -- a busy instance -----------------------------------------------------------------------------
SINGLE_CORE = {
    "name": "a single-threaded job on a 96-vCPU instance",
    "start": "2026-03-02T09:00:00Z",
    "until": "6h",
    "parameters": {"Ec2IdleMinutes": 60},
    "resources": [
        {
            "kind": "ec2-instance",
            "id": "single-core-render",
            "instance_type": "m5.24xlarge",  # 48 cores x 2 threads; no price in the table
            "work_vcpus": 1,
            "work_network": False,
            "tags": {"idle-reaper:opt-in": "true", "owner": "omar@example.com"},
            "activity": [{"at": "0m", "runs": "3h"}],
        }
    ],
}
"""Its CPU averages about 1% over 96 vCPUs while it works, under the 5% Ec2CpuIdlePercent,
and it moves no data: only half a vCPU's worth (0.52% here) tells its work from idle. Not a
bundled scenario: its unknown price would give the shared report check a None to add."""


@cache
def single_core() -> tuple[dict[str, Any], dict[str, Facts]]:
    return run_scenario(scenarios.parse(SINGLE_CORE, "single-core"))


@pytest.mark.parametrize(
    ("scenario", "resource"), [("ec2-busy.yaml", "nightly-build"), (None, "single-core-render")]
)
def test_a_busy_instance_is_never_stopped_while_it_works_and_is_stopped_after(
    scenario: str | None, resource: str
) -> None:
    _, facts = run(scenario) if scenario else single_core()
    build = facts[resource]

    (work,) = build.life.work
    assert work.end is not None and work.end - work.start == timedelta(hours=3)
    assert build.life.ended_by == "reaper"
    assert stopped_at(build) >= work.end + IDLE_MINUTES  # the whole allowance after the work
    late = stopped_at(build) - (build.life.last_activity_at + IDLE_MINUTES)
    assert timedelta(0) <= late <= ONE_PERIOD, late
    assert len(build.of("warning")) == 1
    (warning,) = build.of("warning")
    assert warning.at >= work.end + IDLE_MINUTES - timedelta(minutes=5)  # not while it worked


def test_the_single_threaded_job_reads_under_the_deployed_cpu_threshold() -> None:
    """The render's case is the one the half-vCPU rule is for (SINGLE_CORE says why)."""
    summary, facts = single_core()
    render = facts["single-core-render"].life

    assert (render.vcpus, render.work_vcpus, render.work_network) == (96, 1, False)
    assert cpu_when_working(96, 1) < Ec2Settings().cpu_idle_percent
    assert cpu_when_working(96, 1) >= busy_cpu_percent(Ec2Settings(), 96) > cpu_when_idle(96)
    (res,) = summary["resources"]
    assert render.cost_per_hour is None and res["cost_usd"] is None  # no price: none guessed
    assert res["outcome"] == "stopped"


# -- instances that did not opt in ---------------------------------------------------------------
@pytest.mark.parametrize(("resource", "hint"), [("db-primary", False), ("almost-opted-in", True)])
def test_an_instance_without_the_opt_in_tag_is_exempt_at_once_and_never_stopped(
    resource: str, hint: bool
) -> None:
    _, facts = run("ec2-untagged.yaml")
    untagged = facts[resource]

    assert untagged.life.ended_by is None and untagged.life.ended_at is None
    assert [p.detail_type for p in untagged.published] == ["exempt"]
    (exempt,) = untagged.published
    (running,) = untagged.life.running
    assert exempt.at == running.start  # at the first look, when the running event arrives
    reason = exempt.detail["verdict"]["reason"]
    assert "idle-reaper:opt-in=true" in reason
    assert ("'True' is not" in reason) == hint
    assert untagged.executions == 1 and untagged.transitions <= 6


@pytest.mark.parametrize("resource", ["db-primary", "almost-opted-in"])
def test_the_watchers_role_could_not_stop_an_instance_without_the_tag(resource: str) -> None:
    """The template's safety net: StopInstances is granted on `aws:ResourceTag/idle-reaper:
    opt-in` = `true` only (StringEquals: `True` is refused too). EC2 answers an IAM refusal
    with UnauthorizedOperation."""
    _, facts = run("ec2-untagged.yaml")

    assert facts[resource].role_stop_refusal == "UnauthorizedOperation"


# -- the summary ---------------------------------------------------------------------------------
def test_the_summary_names_the_instance_by_its_scenario_id_with_the_reapers_outcome() -> None:
    summary, facts = run("ec2-idle.yaml")
    (res,) = summary["resources"]

    assert res["id"] == "web-build-1"
    assert res["outcome"] == "stopped"
    assert parse_iso(res["stopped_at"]) == stopped_at(facts["web-build-1"])
    assert res["warnings"] == 1 and res["executions"] == 1
    assert 0 < res["state_transitions"] <= 14


# -- known gap -----------------------------------------------------------------------------------
WARNED_THEN_USED = {
    "name": "an instance used two minutes after its warning, before its deadline",
    "start": "2026-03-02T09:00:00Z",
    "until": "2h",
    "resources": [
        {
            "kind": "ec2-instance",
            "id": "back-at-work",
            "tags": {"idle-reaper:opt-in": "true"},
            "activity": [{"at": "57m", "runs": "30m"}],  # warned 09:55 for the 10:00 deadline
        }
    ],
}


def test_work_begun_after_the_warning_cancels_the_stop() -> None:
    summary, facts = run_scenario(scenarios.parse(WARNED_THEN_USED, "warned-then-used"))
    back = facts["back-at-work"]

    # the stop look at 10:05 reads the period 09:55-10:00 busy: the instance is kept, and the
    # next deadline (an hour after the work) lies past the end of the run
    (resource,) = summary["resources"]
    assert resource["stopped_at"] is None  # no stop by the watcher (the test's own stop aside)
    assert len(back.of("warning")) == 1 and not back.of("stopped") and not back.of("failed")
