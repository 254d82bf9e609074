"""The emulated Studio, seen the way the inspect handler and the watcher see it: through boto3.

Apps are Pending, then InService, then Deleting and Deleted; DeleteApp answers as SageMaker
does for a missing, deleting or deleted app; the activity signal is in the tags as the
lifecycle script would last have published it; Studio's own idle shutdown deletes an idle app.
Only moto's SageMaker and the virtual clock run here (no stack), so it is quick.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError

from idle_reaper.kinds import kind_named
from idle_reaper.kinds.activity_signal import HEARTBEAT_TAG, LAST_ACTIVITY_TAG
from idle_reaper.kinds.base import Look
from idle_reaper.policy import Policy
from idle_reaper.resource import ResourceRef
from local_runtime.actors import schedule, spec_from_start_event
from local_runtime.clock import VirtualClock
from local_runtime.emulators import emulator_for
from local_runtime.emulators.sagemaker_app import (
    DELETING_SECONDS,
    PENDING_SECONDS,
    SageMakerAppEmulator,
    StudioAppSpec,
)
from local_runtime.errors import ScenarioError
from local_runtime.runtime import Account
from local_runtime.scenario import parse
from local_runtime.stack import ACCOUNT, REGION
from tests.conftest import load_event

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SPACE = "grace-lab-space"
APP = {"DomainId": "d-demo", "SpaceName": SPACE, "AppType": "JupyterLab", "AppName": "default"}
APP_ID = "d-demo/space/grace-lab-space/JupyterLab/default"
APP_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:app/d-demo/grace-lab-space/jupyterlab/default"
KIND = kind_named("sagemaker-app")

EPOCH_DEPLOY = datetime(2000, 1, 1, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Studio:
    emulator: SageMakerAppEmulator
    client: Any
    clock: VirtualClock

    def domain(self) -> None:
        self.client.create_domain(
            DomainName="demo",
            AuthMode="IAM",
            DefaultUserSettings={"ExecutionRole": f"arn:aws:iam::{ACCOUNT}:role/Studio"},
            SubnetIds=["subnet-1"],
            VpcId="vpc-1",
        )

    def space(self, idle_shutdown: int | None = None) -> None:
        settings: dict[str, Any] = {"AppType": "JupyterLab"}
        if idle_shutdown:
            settings["JupyterLabAppSettings"] = {
                "AppLifecycleManagement": {"IdleSettings": {"IdleTimeoutInMinutes": idle_shutdown}}
            }
        self.client.create_space(DomainId="d-demo", SpaceName=SPACE, SpaceSettings=settings)

    def create(self, *, idle_shutdown: int | None = None, **extra: Any) -> None:
        """The domain, the space and a JupyterLab app on ml.t3.medium, created at T0."""
        self.domain()
        self.space(idle_shutdown)
        self.client.create_app(**APP, ResourceSpec={"InstanceType": "ml.t3.medium"}, **extra)

    def run(self, minutes: float) -> None:
        self.clock.run_until(at(minutes))

    def status(self) -> str:
        return str(self.client.describe_app(**APP)["Status"])

    def tags(self) -> dict[str, str]:
        tags = self.client.list_tags(ResourceArn=APP_ARN)["Tags"]
        return {t["Key"]: t["Value"] for t in tags}

    def error(self, call: Callable[..., Any], **params: Any) -> tuple[str, str]:
        with pytest.raises(ClientError) as caught:
            call(**params)
        error = caught.value.response["Error"]
        return str(error["Code"]), str(error["Message"])


@pytest.fixture
def studio() -> Iterator[Studio]:
    from moto import mock_aws

    clock = VirtualClock(T0)
    with mock_aws():
        clock.start()
        try:
            emulator = SageMakerAppEmulator(clock)
            with emulator.installed(ACCOUNT, REGION):
                yield Studio(emulator, boto3.client("sagemaker", region_name=REGION), clock)
        finally:
            clock.stop()


def test_the_emulator_is_registered_for_the_kind() -> None:
    assert emulator_for("sagemaker-app") is SageMakerAppEmulator
    assert SageMakerAppEmulator.keys == {
        "instance_type",
        "app_type",
        "activity_signal",
        "idle_shutdown",
    }


# -- the app's states ---------------------------------------------------------------------------
def test_an_app_is_pending_then_in_service(studio: Studio) -> None:
    studio.create()
    described = studio.client.describe_app(**APP)
    assert described["Status"] == "Pending"
    assert described["AppArn"] == APP_ARN
    assert described["CreationTime"] == T0
    assert described["ResourceSpec"]["InstanceType"] == "ml.t3.medium"
    assert described["SpaceName"] == SPACE and "UserProfileName" not in described
    studio.run(PENDING_SECONDS / 60 - 0.1)
    assert studio.status() == "Pending"
    studio.run(PENDING_SECONDS / 60)
    assert studio.status() == "InService"


def test_delete_app_goes_deleting_then_deleted_and_the_app_still_answers(studio: Studio) -> None:
    studio.create()
    studio.run(30)
    studio.client.delete_app(**APP)
    assert studio.status() == "Deleting"
    life = studio.emulator.life(APP_ID)
    assert life is not None and (life.ended_at, life.ended_by) == (at(30), "reaper")
    code, _ = studio.error(studio.client.delete_app, **APP)
    assert code == "ResourceInUse"  # still deleting
    studio.run(30 + DELETING_SECONDS / 60)
    assert studio.status() == "Deleted"
    code, message = studio.error(studio.client.delete_app, **APP)
    assert (code, "has already been deleted" in message) == ("ValidationException", True)
    assert life.ended_at == at(30)  # billing ended when the delete landed


def test_a_missing_app_is_resource_not_found(studio: Studio) -> None:
    studio.create()
    other = {**APP, "AppName": "other"}
    assert studio.error(studio.client.describe_app, **other)[0] == "ResourceNotFound"
    assert studio.error(studio.client.delete_app, **other)[0] == "ResourceNotFound"
    user_app = {**APP, "AppType": "KernelGateway"}
    assert studio.error(studio.client.describe_app, **user_app)[0] == "ResourceNotFound"


def test_create_app_needs_its_domain_and_space_and_no_running_twin(studio: Studio) -> None:
    create = studio.client.create_app
    assert studio.error(create, **APP)[0] == "ResourceNotFound"  # no domain
    studio.domain()
    assert studio.error(create, **APP)[0] == "ResourceNotFound"  # no space
    studio.space()
    create(**APP)
    assert studio.error(create, **APP)[0] == "ResourceInUse"


def test_an_app_made_again_after_its_deletion_is_a_new_app(studio: Studio) -> None:
    studio.create()
    studio.run(10)
    studio.client.delete_app(**APP)
    studio.run(20)
    studio.client.create_app(**APP)
    described = studio.client.describe_app(**APP)
    assert (described["Status"], described["CreationTime"]) == ("Pending", at(20))
    life = studio.emulator.life(APP_ID)
    assert life is not None and life.created_at == at(20) and life.ended_at is None


def test_list_apps_names_every_app_deleted_or_not(studio: Studio) -> None:
    studio.create()
    studio.client.create_app(
        DomainId="d-demo", UserProfileName="grace", AppType="JupyterServer", AppName="default"
    )
    studio.run(10)
    studio.client.delete_app(**APP)
    studio.run(20)
    apps = studio.client.list_apps(DomainIdEquals="d-demo")["Apps"]
    assert {(a["AppType"], a["Status"]) for a in apps} == {
        ("JupyterLab", "Deleted"),
        ("JupyterServer", "InService"),
    }
    in_space = studio.client.list_apps(DomainIdEquals="d-demo", SpaceNameEquals=SPACE)["Apps"]
    assert [a["AppType"] for a in in_space] == ["JupyterLab"]
    free = studio.client.describe_app(
        DomainId="d-demo", UserProfileName="grace", AppType="JupyterServer", AppName="default"
    )
    assert free["ResourceSpec"]["InstanceType"] == "system"
    free_life = studio.emulator.life("d-demo/user/grace/JupyterServer/default")
    assert free_life is not None and free_life.cost_per_hour == 0.0


# -- tags and the activity signal ---------------------------------------------------------------
def test_tags_on_the_app_arn_and_no_signal_before_in_service(studio: Studio) -> None:
    studio.create(Tags=[{"Key": "owner", "Value": "grace@example.com"}])
    assert studio.tags() == {"owner": "grace@example.com"}  # Pending: the script has not run
    studio.client.add_tags(ResourceArn=APP_ARN, Tags=[{"Key": "team", "Value": "ml"}])
    studio.client.delete_tags(ResourceArn=APP_ARN, TagKeys=["owner"])
    assert studio.tags() == {"team": "ml"}
    code, _ = studio.error(studio.client.list_tags, ResourceArn=APP_ARN.replace("default", "x"))
    assert code == "ValidationException"


def test_the_signal_is_a_heartbeat_every_minute_and_the_last_busy_moment(studio: Studio) -> None:
    studio.create()
    life = studio.emulator.life(APP_ID)
    assert life is not None
    in_service = at(PENDING_SECONDS / 60)  # 09:02
    studio.emulator._kernel(APP_ID, at(10), timedelta(minutes=5))  # busy 09:10-09:15
    studio.emulator._kernel(APP_ID, at(40), timedelta(seconds=20))  # 09:40:00-09:40:20
    studio.run(2.5)  # the script started with the app (its lifecycle configuration): 09:00
    assert studio.tags() == {HEARTBEAT_TAG: iso(in_service), LAST_ACTIVITY_TAG: iso(T0)}
    studio.run(12.5)  # busy at the 09:12 heartbeat: the check itself
    assert studio.tags() == {HEARTBEAT_TAG: iso(at(12)), LAST_ACTIVITY_TAG: iso(at(12))}
    studio.run(39.9)
    assert studio.tags() == {HEARTBEAT_TAG: iso(at(39)), LAST_ACTIVITY_TAG: iso(at(15))}
    studio.run(41.5)  # a short run between two heartbeats: Jupyter's last_activity keeps it
    assert studio.tags()[LAST_ACTIVITY_TAG] == "2026-03-02T09:40:20Z"
    assert life.last_activity_at == at(40) + timedelta(seconds=20)
    assert not life.busy


def test_heartbeats_fall_on_whole_minutes_from_in_service(studio: Studio) -> None:
    """The publisher sleeps to the next whole minute; it publishes once the server answers."""
    studio.domain()
    studio.space()
    studio.run(0.5)
    studio.client.create_app(**APP)  # 09:00:30, InService 09:02:30
    studio.run(2.9)
    assert studio.tags() == {}
    studio.run(3.2)
    assert studio.tags() == {HEARTBEAT_TAG: iso(at(3)), LAST_ACTIVITY_TAG: "2026-03-02T09:00:30Z"}


def test_what_the_kind_reads_through_the_emulated_api(studio: Studio) -> None:
    """The product's own reading of an emulated app: activity from the signal, not from
    LastUserActivityTimestamp (which the emulated health checks keep moving)."""
    studio.create(idle_shutdown=240)
    studio.emulator._kernel(APP_ID, at(5), timedelta(minutes=10))
    ref = ResourceRef(kind="sagemaker-app", id=APP_ID, region=REGION, account=ACCOUNT)

    def look() -> Any:
        return KIND.observe(
            ref, Look(client=lambda _s: studio.client, policy=Policy.from_env({}), now=at(90))
        )

    studio.run(1)
    assert look().phase == "starting"
    studio.run(90)
    seen = look()
    assert seen.phase == "billing"
    assert studio.client.describe_app(**APP)["LastUserActivityTimestamp"] == at(90)
    assert seen.last_activity_at == at(15)
    assert (seen.cost_per_hour, seen.own_idle_timeout_minutes) == (0.05, 240)
    assert seen.arn == APP_ARN


def test_without_the_lifecycle_configuration_there_is_no_signal(studio: Studio) -> None:
    studio.create()
    life = studio.emulator.life(APP_ID)
    assert life is not None
    life.activity_signal = False
    studio.run(30)
    assert studio.tags() == {}


def test_code_editor_apps_publish_no_signal(studio: Studio) -> None:
    """As the lifecycle script does: Code Editor has no Jupyter server to ask."""
    studio.domain()
    studio.client.create_space(DomainId="d-demo", SpaceName=SPACE)
    studio.client.create_app(**{**APP, "AppType": "CodeEditor"})
    studio.run(30)
    arn = APP_ARN.replace("jupyterlab", "codeeditor")
    assert studio.client.list_tags(ResourceArn=arn)["Tags"] == []


def test_the_signal_is_computed_when_read_not_written_every_minute(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A week of apps must not crawl: a week-long app puts a handful of moments on the clock,
    not one per minute, and its tags are still exact at the end."""
    scheduled: list[datetime] = []
    original = studio.clock.at

    def counting(when: datetime, action: Callable[[], object]) -> None:
        scheduled.append(when)
        original(when, action)

    monkeypatch.setattr(studio.clock, "at", counting)
    studio.create()
    studio.emulator._kernel(APP_ID, at(60), timedelta(hours=2))
    studio.run(7 * 24 * 60 + 0.5)
    assert len(scheduled) <= 4  # InService, busy, idle: no per-minute moments
    assert studio.tags() == {
        HEARTBEAT_TAG: iso(at(7 * 24 * 60)),
        LAST_ACTIVITY_TAG: iso(at(180)),
    }


def test_tagging_calls_on_other_resources_still_reach_moto(studio: Studio) -> None:
    arn = studio.client.create_notebook_instance(
        NotebookInstanceName="frank-nb",
        InstanceType="ml.t3.medium",
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/SageMaker",
        Tags=[{"Key": "owner", "Value": "frank@example.com"}],
    )["NotebookInstanceArn"]
    assert studio.client.list_tags(ResourceArn=arn)["Tags"] == [
        {"Key": "owner", "Value": "frank@example.com"}
    ]


# -- Studio's own idle shutdown -----------------------------------------------------------------
def test_studio_deletes_an_app_idle_for_its_spaces_idle_timeout(studio: Studio) -> None:
    studio.create(idle_shutdown=60)
    space = studio.client.describe_space(DomainId="d-demo", SpaceName=SPACE)
    idle = space["SpaceSettings"]["JupyterLabAppSettings"]["AppLifecycleManagement"]
    assert idle["IdleSettings"]["IdleTimeoutInMinutes"] == 60
    studio.emulator._kernel(APP_ID, at(30), timedelta(minutes=45))  # busy 09:30-10:15
    studio.run(2 + 60 + 1)  # 60 idle minutes after InService, but a kernel is busy
    assert studio.status() == "InService"
    studio.run(75 + 59)
    assert studio.status() == "InService"
    studio.run(75 + 60)
    assert studio.status() == "Deleting"
    life = studio.emulator.life(APP_ID)
    assert life is not None
    assert (life.ended_at, life.ended_by, life.own_idle_timeout_minutes) == (
        at(135),
        "service",
        60,
    )


def test_a_describe_space_of_no_space_is_resource_not_found(studio: Studio) -> None:
    code, _ = studio.error(studio.client.describe_space, DomainId="d-demo", SpaceName="nope")
    assert code == "ResourceNotFound"


# -- scenarios, actors and replays --------------------------------------------------------------
def actors_account(studio: Studio, put: Callable[[dict[str, Any]], None]) -> Account:
    return cast(
        Account,
        SimpleNamespace(
            clock=studio.clock,
            emulators={"sagemaker-app": studio.emulator},
            clients={"sagemaker": studio.client},
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
            "until": "8h",
            "resources": [{"kind": "sagemaker-app", "id": "grace-lab", **resource}],
        }
    )


def test_a_scenario_app_starts_as_studio_starts_it_with_its_create_app_record(
    studio: Studio,
) -> None:
    delivered: list[dict[str, Any]] = []
    run = scenario(
        at="10m",
        by="arn:aws:sts::123456789012:assumed-role/DataScientist/grace@example.com",
        tags={"owner": "grace@example.com"},
        instance_type="ml.m5.xlarge",
        idle_shutdown=120,
        activity=[{"at": "11m", "runs": "20m"}],
    )
    schedule(actors_account(studio, delivered.append), run, run.resources[0])
    studio.run(11)
    ((event,),) = (delivered,)
    found = KIND.identify(event)
    assert found is not None and found.id == APP_ID
    assert found.principal is not None and found.principal.endswith("grace@example.com")
    request = event["detail"]["requestParameters"]
    assert request["resourceSpec"] == {"instanceType": "ml.m5.xlarge"}
    assert request["tags"] == [{"key": "owner", "value": "grace@example.com"}]
    assert event["detail"]["responseElements"] == {"appArn": APP_ARN}
    assert event["detail"]["eventTime"] == "2026-03-02T09:10:00Z"
    assert studio.emulator.app_id("grace-lab") == APP_ID
    assert studio.emulator.resource_id(run.resources[0]) == APP_ID
    life = studio.emulator.life("grace-lab")
    assert life is not None and life.cost_per_hour == 0.23
    studio.run(20)
    assert life.busy  # asked at 09:11 while Pending: runs from InService (09:12) to 09:32
    studio.run(33)
    assert not life.busy and life.last_activity_at == at(32)
    assert studio.tags()[LAST_ACTIVITY_TAG] == iso(at(32))
    assert studio.emulator.user_stop("grace-lab")
    assert (life.ended_by, life.ended_at) == ("user", at(33))
    assert not studio.emulator.user_stop("grace-lab")


def test_kernel_gateway_and_jupyter_server_apps_belong_to_the_user_profile(
    studio: Studio,
) -> None:
    delivered: list[dict[str, Any]] = []
    for app_type in ("KernelGateway", "JupyterServer"):
        # each app starts when the clock stands (a start can never be in the clock's past)
        run = replace(scenario(app_type=app_type), start=studio.emulator.clock.now())
        studio.emulator._aliases.clear()
        schedule(actors_account(studio, delivered.append), run, run.resources[0])
        studio.run(1)
        studio.emulator.user_stop("grace-lab")
    kernel, server = delivered
    found = KIND.identify(kernel)
    assert found is not None and found.id == "d-demo/user/grace-lab/KernelGateway/default"
    assert KIND.identify(server) is None  # free: never watched
    assert server["detail"]["requestParameters"]["resourceSpec"] == {"instanceType": "system"}


@pytest.mark.parametrize(
    ("resource", "spec"),
    [
        ({}, StudioAppSpec(space_name="grace-lab-space")),
        (
            {"app_type": "CodeEditor", "instance_type": "ml.g4dn.xlarge", "idle_shutdown": 60},
            StudioAppSpec(
                app_type="CodeEditor",
                instance_type="ml.g4dn.xlarge",
                idle_shutdown=60,
                space_name="grace-lab-space",
            ),
        ),
        (
            {"app_type": "JupyterServer", "activity_signal": False},
            StudioAppSpec(
                app_type="JupyterServer",
                instance_type="system",
                activity_signal=False,
                user_profile_name="grace-lab",
            ),
        ),
    ],
)
def test_scenario_keys(resource: dict[str, Any], spec: StudioAppSpec) -> None:
    assert scenario(**resource).resources[0].kind_spec == spec


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        ({"app_type": "Canvas"}, "app_type"),
        ({"app_type": ["JupyterLab"]}, "app_type"),
        ({"instance_type": "ml.t3.huge"}, "instance_type"),
        ({"instance_type": "system"}, "JupyterServer apps only"),
        ({"app_type": "JupyterServer", "instance_type": "ml.t3.medium"}, "runs on `system`"),
        ({"activity_signal": "yes"}, "activity_signal"),
        ({"idle_shutdown": 30}, "idle_shutdown"),
        ({"idle_shutdown": 525601}, "idle_shutdown"),
        ({"idle_shutdown": "60"}, "idle_shutdown"),
        ({"app_type": "KernelGateway", "idle_shutdown": 60}, "JupyterLab and CodeEditor"),
        ({"id": "grace_lab"}, "id"),
        ({"id": "g" * 58}, "id"),
        ({"statements": []}, "unknown key"),
    ],
)
def test_bad_scenario_keys_are_one_line_errors(resource: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        scenario(**resource)


def test_a_recorded_create_app_replays_as_the_app_it_created(studio: Studio) -> None:
    event = load_event("sagemaker-create-app-jupyterlab.json")
    spec = spec_from_start_event(event)
    assert spec is not None and spec.id == APP_ID
    assert studio.emulator.resource_id(spec) == APP_ID
    assert spec.kind_spec == StudioAppSpec(space_name=SPACE)
    assert spec.start_event == event
    delivered: list[dict[str, Any]] = []
    studio.emulator.start(actors_account(studio, delivered.append), spec, delivered.append)
    assert studio.client.describe_app(**APP)["AppArn"] == APP_ARN
    assert studio.emulator.life(APP_ID) is not None


def test_a_replayed_event_with_a_strange_instance_type_is_refused() -> None:
    event = load_event("sagemaker-create-app-jupyterlab.json")
    event["detail"]["requestParameters"]["resourceSpec"]["instanceType"] = "ml.x1.galactic"
    with pytest.raises(ScenarioError, match="instance type"):
        spec_from_start_event(event)
