"""The emulated SageMaker notebook instances, seen the way the inspect handler sees them:
through boto3.

A notebook is Pending, then InService (SageMaker's state-change event then), Stopping, then
Stopped; a stop is refused unless it is InService; LastModifiedTime moves with each status;
the ARN has the name in lower case; the activity signal reads back through ListTags as the
lifecycle script would last have written it. Only moto's SageMaker and the virtual clock run
here (no stack), so it is quick.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError

from idle_reaper.kinds.activity_signal import HEARTBEAT_TAG, LAST_ACTIVITY_TAG
from idle_reaper.kinds.base import Look
from idle_reaper.kinds.sagemaker_notebook import SageMakerNotebook
from idle_reaper.policy import Policy
from idle_reaper.resource import ResourceRef
from local_runtime.actors import schedule
from local_runtime.clock import VirtualClock
from local_runtime.emulators.sagemaker_notebook import (
    LIFECYCLE_CONFIG,
    PENDING_SECONDS,
    STOPPING_SECONDS,
    NotebookSpec,
    SageMakerNotebookEmulator,
)
from local_runtime.errors import ScenarioError
from local_runtime.runtime import Account
from local_runtime.scenario import parse
from local_runtime.stack import ACCOUNT, REGION
from tests.conftest import load_event

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/AmazonSageMaker-ExecutionRole"
ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:notebook-instance/frank-nb"
IN_SERVICE = T0 + timedelta(seconds=PENDING_SECONDS)
KIND = SageMakerNotebook()

EPOCH_DEPLOY = datetime(2000, 1, 1, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class SageMaker:
    emulator: SageMakerNotebookEmulator
    client: Any
    clock: VirtualClock

    def create(self, name: str = "Frank-NB", *, signal: bool = True, **request: Any) -> None:
        request.setdefault("InstanceType", "ml.t3.medium")
        if signal:
            request.setdefault("LifecycleConfigName", LIFECYCLE_CONFIG)
        self.client.create_notebook_instance(NotebookInstanceName=name, RoleArn=ROLE, **request)

    def run(self, minutes: float) -> None:
        self.clock.run_until(at(minutes))

    def describe(self, name: str = "Frank-NB") -> dict[str, Any]:
        return dict(self.client.describe_notebook_instance(NotebookInstanceName=name))

    def tags(self, arn: str = ARN) -> dict[str, str]:
        out: dict[str, str] = {}
        token = None
        while True:
            page = self.client.list_tags(ResourceArn=arn, **({"NextToken": token} if token else {}))
            out.update({t["Key"]: t["Value"] for t in page["Tags"]})
            token = page.get("NextToken")
            if not token:
                return out

    def look(self, name: str = "Frank-NB") -> Any:
        ref = ResourceRef(kind=KIND.name, id=name, region=REGION, account=ACCOUNT)
        policy = Policy.from_env({})
        return KIND.observe(ref, Look(lambda _s: self.client, policy, self.clock.now()))


@pytest.fixture
def sm() -> Iterator[SageMaker]:
    from moto import mock_aws
    from moto.backends import get_backend

    clock = VirtualClock(T0)
    with mock_aws():
        clock.start()
        try:
            emulator = SageMakerNotebookEmulator(clock)
            with emulator.on(get_backend("sagemaker")[ACCOUNT][REGION]):
                client = boto3.client("sagemaker", region_name=REGION)
                yield SageMaker(emulator, client, clock)
        finally:
            clock.stop()


def refusal(call: Callable[[], Any]) -> dict[str, str]:
    with pytest.raises(ClientError) as refused:
        call()
    return dict(refused.value.response["Error"])


# -- statuses -------------------------------------------------------------------------------
def test_a_notebook_is_pending_for_minutes_then_in_service(sm: SageMaker) -> None:
    sm.create()

    pending = sm.describe()
    sm.clock.run_until(IN_SERVICE - timedelta(seconds=1))
    still = sm.describe()
    sm.run(PENDING_SECONDS / 60)
    ready = sm.describe()

    assert (pending["NotebookInstanceStatus"], still["NotebookInstanceStatus"]) == (
        "Pending",
        "Pending",
    )
    assert ready["NotebookInstanceStatus"] == "InService"
    assert pending["LastModifiedTime"] == T0 and ready["LastModifiedTime"] == IN_SERVICE
    assert ready["CreationTime"] == T0


def test_the_arn_has_the_name_in_lower_case_as_sagemaker_writes_it(sm: SageMaker) -> None:
    sm.create()

    assert sm.describe()["NotebookInstanceArn"] == ARN
    assert sm.describe()["NotebookInstanceName"] == "Frank-NB"


def test_a_stop_is_refused_unless_the_notebook_is_in_service(sm: SageMaker) -> None:
    sm.create()

    error = refusal(lambda: sm.client.stop_notebook_instance(NotebookInstanceName="Frank-NB"))

    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        f"Status (Pending) not in ([InService]). Unable to transition to (Stopping) for "
        f"Notebook Instance ({ARN})."
    )
    assert sm.emulator.lives["Frank-NB"].ended_at is None


def test_a_stop_goes_stopping_then_stopped_and_ends_billing(sm: SageMaker) -> None:
    sm.create()
    sm.run(10)

    sm.client.stop_notebook_instance(NotebookInstanceName="Frank-NB")
    stopping = sm.describe()
    again = refusal(lambda: sm.client.stop_notebook_instance(NotebookInstanceName="Frank-NB"))
    sm.clock.run_until(at(10) + timedelta(seconds=STOPPING_SECONDS))
    stopped = sm.describe()

    assert stopping["NotebookInstanceStatus"] == "Stopping"
    assert stopping["LastModifiedTime"] == at(10)
    assert again["Code"] == "ValidationException" and "Status (Stopping)" in again["Message"]
    assert stopped["NotebookInstanceStatus"] == "Stopped"
    life = sm.emulator.lives["Frank-NB"]
    assert (life.ended_at, life.ended_by) == (at(10), "reaper")


def test_the_user_stops_their_own_notebook_when_it_is_in_service(sm: SageMaker) -> None:
    sm.create()

    early = sm.emulator.user_stop("Frank-NB")
    sm.run(5)
    stopped = sm.emulator.user_stop("Frank-NB")

    assert not early and stopped
    assert sm.emulator.lives["Frank-NB"].ended_by == "user"
    assert not sm.emulator.user_stop("Frank-NB")
    assert not sm.emulator.user_stop("nobody")


def test_a_notebook_that_does_not_exist_is_record_not_found(sm: SageMaker) -> None:
    error = refusal(lambda: sm.describe("Nobody"))

    assert (error["Code"], error["Message"]) == ("ValidationException", "RecordNotFound")
    assert sm.look("Nobody").phase == "missing"


def test_a_restart_is_refused_saying_the_runtime_does_not_emulate_it(sm: SageMaker) -> None:
    sm.create()
    sm.run(5)
    sm.client.stop_notebook_instance(NotebookInstanceName="Frank-NB")
    sm.run(7)

    error = refusal(lambda: sm.client.start_notebook_instance(NotebookInstanceName="Frank-NB"))

    assert "not emulated" in error["Message"]


@pytest.mark.parametrize("instance_type", ["ml.g4dn.xlarge", "ml.c5.xlarge", "ml.t3.medium"])
def test_any_instance_type_sagemaker_lists_is_accepted(sm: SageMaker, instance_type: str) -> None:
    sm.create(InstanceType=instance_type)

    assert sm.describe()["InstanceType"] == instance_type


@pytest.mark.parametrize("instance_type", ["ml.nope.large", "ml.m5.large", "t3.medium"])
def test_a_type_notebook_instances_do_not_offer_is_refused(
    sm: SageMaker, instance_type: str
) -> None:
    error = refusal(lambda: sm.create(InstanceType=instance_type))

    assert error["Code"] == "ValidationException" and "instanceType" in error["Message"]


# -- tags -----------------------------------------------------------------------------------
def test_tags_overwrite_by_key_and_come_back_in_pages(sm: SageMaker) -> None:
    sm.create(signal=False, Tags=[{"Key": "owner", "Value": "frank@example.com"}])

    sm.client.add_tags(ResourceArn=ARN, Tags=[{"Key": f"k{i}", "Value": str(i)} for i in range(6)])
    sm.client.add_tags(ResourceArn=ARN, Tags=[{"Key": "owner", "Value": "grace@example.com"}])
    sm.client.delete_tags(ResourceArn=ARN, TagKeys=["k0"])
    first = sm.client.list_tags(ResourceArn=ARN)

    assert sm.tags() == {"owner": "grace@example.com", **{f"k{i}": str(i) for i in range(1, 6)}}
    assert len(first["Tags"]) < 6 and first["NextToken"]
    assert sm.look().tags == sm.tags()


def test_tags_of_other_sagemaker_resources_are_moto_s_own(sm: SageMaker) -> None:
    model = sm.client.create_model(
        ModelName="m1",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"},
        Tags=[{"Key": "team", "Value": "ml"}],
    )

    assert sm.tags(model["ModelArn"]) == {"team": "ml"}


# -- the activity signal --------------------------------------------------------------------
def test_no_signal_until_the_first_whole_minute_in_service(sm: SageMaker) -> None:
    sm.create()
    sm.run(3.5)

    assert sm.tags() == {}


def test_the_signal_reads_as_the_script_last_wrote_it(sm: SageMaker) -> None:
    sm.create()
    sm.emulator.lives["Frank-NB"].origin = T0
    sm.emulator.lives["Frank-NB"].work = [(timedelta(minutes=10), timedelta(minutes=20))]

    sm.clock.run_until(at(4) + timedelta(seconds=30))
    fresh = sm.tags()
    sm.clock.run_until(at(17) + timedelta(seconds=42))
    busy = sm.tags()
    sm.clock.run_until(at(55) + timedelta(seconds=5))
    idle = sm.tags()

    assert fresh == {LAST_ACTIVITY_TAG: iso(at(4)), HEARTBEAT_TAG: iso(at(4))}
    assert busy == {LAST_ACTIVITY_TAG: iso(at(17)), HEARTBEAT_TAG: iso(at(17))}
    assert idle == {LAST_ACTIVITY_TAG: iso(at(30)), HEARTBEAT_TAG: iso(at(55))}
    seen = sm.look()
    assert seen.last_activity_at == at(30) and seen.unreadable is None


def test_work_asked_for_while_pending_waits_for_in_service(sm: SageMaker) -> None:
    sm.create()
    life = sm.emulator.lives["Frank-NB"]
    life.origin, life.work = T0, [(timedelta(minutes=1), timedelta(minutes=5))]

    sm.run(6)
    during = (life.busy, sm.tags()[LAST_ACTIVITY_TAG])
    sm.run(12)

    assert during == (True, iso(at(6)))
    assert not life.busy
    assert life.last_activity_at == at(9)  # InService at 4m, then 5 minutes of work
    assert sm.tags()[LAST_ACTIVITY_TAG] == iso(at(9))


def test_without_the_lifecycle_configuration_there_is_no_signal(sm: SageMaker) -> None:
    sm.create(signal=False)
    sm.run(30)

    seen = sm.look()

    assert sm.tags() == {}
    assert seen.unwatchable is not None and seen.unwatchable.startswith("no activity signal")


def test_a_stopped_notebook_keeps_the_last_tags_written(sm: SageMaker) -> None:
    sm.create()
    sm.clock.run_until(at(20) + timedelta(seconds=30))
    sm.client.stop_notebook_instance(NotebookInstanceName="Frank-NB")
    sm.run(90)

    assert sm.tags() == {LAST_ACTIVITY_TAG: iso(at(4)), HEARTBEAT_TAG: iso(at(20))}


def test_a_hostile_heartbeat_written_without_the_script_is_not_a_signal(sm: SageMaker) -> None:
    sm.create(signal=False)
    sm.run(30)
    sm.client.add_tags(
        ResourceArn=ARN,
        Tags=[
            {"Key": HEARTBEAT_TAG, "Value": "2099-01-01T00:00:00Z"},
            {"Key": LAST_ACTIVITY_TAG, "Value": "2000-01-01T00:00:00Z"},
        ],
    )

    assert sm.look().unwatchable is not None


# -- the billing record ---------------------------------------------------------------------
def test_the_life_bills_at_the_notebook_price_from_its_creation(sm: SageMaker) -> None:
    sm.create(InstanceType="ml.g4dn.xlarge")
    sm.create("Other", InstanceType="ml.t3.large")

    known, unknown = sm.emulator.lives["Frank-NB"], sm.emulator.lives["Other"]

    assert (known.created_at, known.cost_per_hour) == (T0, 0.736)
    assert unknown.cost_per_hour is None
    assert known.signal and not known.busy and known.last_activity_at == T0
    sm.run(5)
    assert known.last_activity_at == IN_SERVICE  # idle from InService, not while Pending


# -- scenarios, the start event, replays ----------------------------------------------------
def actors_account(sm: SageMaker, put: Callable[[dict[str, Any]], None]) -> Account:
    return cast(
        Account,
        SimpleNamespace(
            clock=sm.clock,
            emulators={"sagemaker-notebook": sm.emulator},
            clients={"sagemaker": sm.client},
            bus=SimpleNamespace(put=put),
            deployed_at=EPOCH_DEPLOY,  # the stack exists: start events reach the bus
            region=REGION,
            account_id=ACCOUNT,
        ),
    )


def scenario(**resource: Any) -> Any:
    return parse(
        {
            "start": T0.isoformat(),
            "until": "4h",
            "resources": [{"kind": "sagemaker-notebook", "id": "Frank-NB", **resource}],
        }
    )


def test_the_in_service_event_is_sagemakers_own_and_names_the_notebook(sm: SageMaker) -> None:
    delivered: list[tuple[datetime, dict[str, Any]]] = []
    account = actors_account(sm, lambda event: delivered.append((sm.clock.now(), event)))
    run = scenario(tags={"owner": "frank@example.com"}, instance_type="ml.t3.medium")
    schedule(account, run, run.resources[0])

    sm.run(30)

    ((when, event),) = delivered
    sample = load_event("sagemaker-notebook-inservice.json")
    assert when == IN_SERVICE
    assert set(event) == set(sample)
    assert set(event["detail"]) <= set(sample["detail"])
    assert event["detail"]["NotebookInstanceStatus"] == "InService"
    assert event["detail"]["LastModifiedTime"] == int(IN_SERVICE.timestamp() * 1000)
    assert event["detail"]["Tags"] == {"owner": "frank@example.com"}
    assert event["resources"] == [ARN]
    ref = KIND.identify(event)
    assert ref is not None and (ref.id, ref.account, ref.region) == ("Frank-NB", ACCOUNT, REGION)


def test_a_late_event_is_delivered_late_and_activity_drives_the_signal(sm: SageMaker) -> None:
    delivered: list[datetime] = []
    account = actors_account(sm, lambda event: delivered.append(sm.clock.now()))
    run = scenario(event="late", event_delay="30m", activity=[{"at": "10m", "runs": "15m"}])
    schedule(account, run, run.resources[0])

    sm.run(20)
    busy = sm.emulator.lives["Frank-NB"].busy
    sm.run(60)

    assert busy
    assert delivered == [IN_SERVICE + timedelta(minutes=30)]
    assert sm.tags()[LAST_ACTIVITY_TAG] == iso(at(25))


def test_a_scenario_without_the_signal_creates_no_lifecycle_configuration(sm: SageMaker) -> None:
    account = actors_account(sm, lambda event: None)
    run = scenario(activity_signal=False)
    schedule(account, run, run.resources[0])

    sm.run(10)

    assert "NotebookInstanceLifecycleConfigName" not in sm.describe()
    assert not sm.emulator.lives["Frank-NB"].signal


def test_the_keys_default_and_parse_strictly() -> None:
    assert scenario().resources[0].kind_spec == NotebookSpec("ml.t3.medium", True)
    assert scenario(instance_type="ml.g4dn.xlarge", activity_signal=False).resources[
        0
    ].kind_spec == NotebookSpec("ml.g4dn.xlarge", False)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("instance_type", "m5.large", "instance_type"),
        ("instance_type", 5, "instance_type"),
        ("activity_signal", "false", "activity_signal"),
        ("activity_signal", 0, "activity_signal"),
        ("id", "frank_nb", "not a notebook instance name"),
        ("id", "x" * 64, "not a notebook instance name"),
        ("workers", 5, "workers"),
    ],
)
def test_a_bad_key_is_a_one_line_scenario_error(key: str, value: Any, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        scenario(**{key: value})


def test_a_recorded_in_service_event_replays_the_notebook_it_describes() -> None:
    event = load_event("sagemaker-notebook-inservice.json")
    ref = KIND.identify(event)
    assert ref is not None

    spec = SageMakerNotebookEmulator.spec_from_start_event(event, ref)

    assert (spec.kind, spec.id) == ("sagemaker-notebook", "Frank-Analysis")
    assert spec.kind_spec == NotebookSpec("ml.t3.medium", True)
    assert spec.tags == {"owner": "frank@example.com", "team": "analytics"}
    assert spec.start_event == event
    del event["detail"]["NotebookInstanceLifecycleConfigName"]
    plain = SageMakerNotebookEmulator.spec_from_start_event(event, ref)
    assert plain.kind_spec == NotebookSpec("ml.t3.medium", False)


@pytest.mark.parametrize(
    ("key", "value"),
    [("InstanceType", "ml.bogus"), ("InstanceType", 3), ("Tags", {"a": 1}), ("Tags", ["x"])],
)
def test_a_hostile_recording_is_a_scenario_error(key: str, value: Any) -> None:
    event = load_event("sagemaker-notebook-inservice.json")
    ref = KIND.identify(event)
    assert ref is not None
    event["detail"][key] = value

    with pytest.raises(ScenarioError, match=key):
        SageMakerNotebookEmulator.spec_from_start_event(event, ref)
