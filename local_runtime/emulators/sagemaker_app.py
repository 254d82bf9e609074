"""Emulated SageMaker Studio apps (and the spaces they run in) with a life on the virtual clock.

moto's SageMaker has domains but no spaces and no apps. Here CreateSpace, DescribeSpace,
CreateApp, DescribeApp, ListApps and DeleteApp answer over the API as SageMaker does: an app
is Pending, then InService a couple of minutes later; DeleteApp makes it Deleting, then
Deleted, and DescribeApp and ListApps keep answering for a deleted app (Studio keeps them);
DeleteApp on an app that does not exist is ResourceNotFound, on a Deleted one the
ValidationException SageMaker gives ("has already been deleted"), on one still Deleting
ResourceInUse (an assumption: no document says which). ListTags, AddTags and DeleteTags work
on an app's ARN (moto's tagging parses no app ARN; everything else goes to moto as before).

An app's kernels are busy during its `activity` periods (a period asked for while the app is
still Pending starts when it is InService: the notebook waits for its kernel). With
`activity_signal`, the ListTags answer of a JupyterLab or KernelGateway app carries the two
tags idle-reaper's lifecycle configuration would last have published (activity_signal.py; it
publishes nothing on Code Editor, which has no Jupyter server): a heartbeat on every whole
minute from InService, and the latest moment up to it at which a kernel was busy, as Jupyter's
kernel `last_activity` says it, or else when the script started (the app's creation: a
lifecycle configuration runs while the app is Pending). They are computed when read, never
written every virtual minute, so a week of a thousand apps costs nothing between looks. With
`idle_shutdown`, the space has Studio's own idle shutdown (SpaceSettings ... IdleSettings.
IdleTimeoutInMinutes), and Studio deletes the app once it has been that long without a busy
kernel.

The kind's scenario keys: `app_type` (JupyterLab, CodeEditor, KernelGateway, JupyterServer),
`instance_type`, `activity_signal` (default true) and `idle_shutdown` (minutes, 60 to 525600).
A JupyterLab or Code Editor app runs in the space `<id>-space`, a KernelGateway or JupyterServer
app (Studio Classic) under the user profile `<id>`, all in the domain `d-demo`, named
`default`; a replayed CreateApp creates exactly the app it names.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any
from unittest import mock

from idle_reaper.kinds.activity_signal import HEARTBEAT_TAG, LAST_ACTIVITY_TAG, PUBLISH_MINUTES
from idle_reaper.kinds.sagemaker_app import (
    FREE_INSTANCE_TYPE,
    IDLE_SETTINGS_KEYS,
    MAX_IDLE_TIMEOUT_MINUTES,
    MAX_NAME_LENGTH,
    MIN_IDLE_TIMEOUT_MINUTES,
    SIGNAL_APP_TYPES,
    AppId,
    is_domain_id,
    is_name,
)
from idle_reaper.kinds.sagemaker_prices import price_per_hour
from idle_reaper.partition import partition_for
from idle_reaper.times import to_iso
from local_runtime import scenario as scenarios
from local_runtime.cloudtrail import api_call
from local_runtime.emulators.base import Emit, Emulator, Life
from local_runtime.emulators.registry import register
from local_runtime.errors import ScenarioError
from local_runtime.scenario import Busy, KindSpec, ResourceSpec

if TYPE_CHECKING:
    from idle_reaper.resource import ResourceRef
    from local_runtime.clock import VirtualClock
    from local_runtime.runtime import Account

APP_TYPES = ("JupyterLab", "CodeEditor", "KernelGateway", "JupyterServer")
"""The app types a scenario may start: the three idle-reaper watches, and the free one."""
SPACE_APP_TYPES = frozenset({"JupyterLab", "CodeEditor"})
"""Apps of the current Studio, which run in a space; the others belong to a user profile."""
DEFAULT_INSTANCE_TYPE = "ml.t3.medium"
DOMAIN_NAME = "demo"
DOMAIN_ID = f"d-{DOMAIN_NAME}"
"""The scenarios' one Studio domain (moto names a domain `d-<name>`)."""
APP_NAME = "default"
"""Studio names a space's app `default`."""
SPACE_SUFFIX = "-space"
MAX_ID_LENGTH = MAX_NAME_LENGTH - len(SPACE_SUFFIX)
SAGEMAKER_ROLE = "arn:aws:iam::{account}:role/SageMakerStudioExecutionRole"

PENDING_SECONDS = 120
"""How long an app is Pending before it is InService (Studio takes a minute or two)."""
DELETING_SECONDS = 60
TAGS_PAGE_SIZE = 50
"""ListTags' smallest MaxResults, and more than the tags an app may hold."""
ACTIVE = frozenset({"Pending", "InService"})
_PUBLISH = timedelta(minutes=PUBLISH_MINUTES)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""The publisher sleeps to the next whole minute of the clock: its heartbeats fall on them."""
_TIMELINE_WORDS = {
    "in-service": "app InService",
    "busy": "{text}",
    "idle": "{text}",
    "ended": "billing ended ({text})",
}


@dataclass(frozen=True)
class StudioAppSpec(KindSpec):
    """An app as a scenario (or a recorded CreateApp) asks for it."""

    app_type: str = "JupyterLab"
    instance_type: str = DEFAULT_INSTANCE_TYPE
    activity_signal: bool = True
    idle_shutdown: int | None = None
    """Studio's own idle shutdown on the app's space, in minutes; None: none."""
    domain_id: str = DOMAIN_ID
    space_name: str | None = None
    user_profile_name: str | None = None
    """Exactly one of the two: where the app runs."""
    app_name: str = APP_NAME

    def app_id(self) -> str:
        """The id idle-reaper gives the app (the kind's AppId), whatever its type."""
        owner, name = (
            ("space", self.space_name) if self.space_name else ("user", self.user_profile_name)
        )
        return f"{self.domain_id}/{owner}/{name}/{self.app_type}/{self.app_name}"


@dataclass(kw_only=True)
class AppLife(Life):
    """One app: its billing record, its kernels' busy periods, its signal and its shutdown.
    `ended_by` is reaper (DeleteApp over the API), user, or service (Studio's idle shutdown)."""

    clock: VirtualClock
    app_type: str
    instance_type: str
    in_service_at: datetime
    activity_signal: bool = True
    idle_shutdown_minutes: int | None = None
    periods: list[tuple[datetime, datetime]] = field(default_factory=list)
    """When a kernel was busy: [start, end), already moved past Pending."""

    def add_busy(self, at: datetime, runs: timedelta) -> tuple[datetime, datetime]:
        start = max(at, self.in_service_at)
        period = (start, start + runs)
        self.periods.append(period)
        return period

    def _worked(self, until: datetime) -> list[tuple[datetime, datetime]]:
        """The busy periods begun by `until` (and before the app ended), cut there."""
        cut = min(until, self.ended_at) if self.ended_at else until
        return [(s, min(e, cut)) for s, e in self.periods if s <= cut and s < e]

    @property
    def busy(self) -> bool:
        now = self.clock.now()
        return self.ended_at is None and any(s <= now < e for s, e in self.periods)

    @property
    def last_activity_at(self) -> datetime:
        """The end of the latest busy period so far (now while one runs), else the creation."""
        return max([self.created_at, *(e for _, e in self._worked(self.clock.now()))])

    @property
    def own_idle_timeout_minutes(self) -> int:
        return self.idle_shutdown_minutes or super().own_idle_timeout_minutes

    def signal_tags(self) -> dict[str, str]:
        """The tags the lifecycle script last published. The script starts while the app is
        Pending (a lifecycle configuration runs before the app is InService), counting from
        then; it publishes on each whole minute once the Jupyter server answers (InService).
        Nothing without the script, or on an app it publishes nothing on (Code Editor: no
        Jupyter server); after the app ended, what it published last."""
        if not self.activity_signal or self.app_type not in SIGNAL_APP_TYPES:
            return {}
        now = self.clock.now()
        end = min(now, self.ended_at) if self.ended_at else now
        heartbeat = _EPOCH + ((end - _EPOCH) // _PUBLISH) * _PUBLISH
        if heartbeat < self.in_service_at:
            return {}
        last = max([self.created_at, *(e for _, e in self._worked(heartbeat))])
        return {HEARTBEAT_TAG: to_iso(heartbeat), LAST_ACTIVITY_TAG: to_iso(last)}


@dataclass
class App:
    """What SageMaker holds for one app."""

    domain_id: str
    space_name: str | None
    user_profile_name: str | None
    app_type: str
    app_name: str
    arn: str
    instance_type: str
    created_at: datetime
    status: str = "Pending"
    tags: dict[str, str] = field(default_factory=dict)
    life: AppLife | None = None

    def describe(self, now: datetime) -> dict[str, Any]:
        out: dict[str, Any] = {
            "AppArn": self.arn,
            "AppType": self.app_type,
            "AppName": self.app_name,
            "DomainId": self.domain_id,
            "Status": self.status,
            "CreationTime": self.created_at,
            "ResourceSpec": {"InstanceType": self.instance_type},
        }
        if self.space_name:
            out["SpaceName"] = self.space_name
        else:
            out["UserProfileName"] = self.user_profile_name
        if self.status == "InService":
            # Studio's health checks move both, used or not: idle-reaper must never read them.
            out["LastHealthCheckTimestamp"] = now
            out["LastUserActivityTimestamp"] = now
        return out


@dataclass
class Space:
    domain_id: str
    name: str
    arn: str
    created_at: datetime
    settings: dict[str, Any] = field(default_factory=dict)
    ownership: dict[str, Any] = field(default_factory=dict)
    sharing: dict[str, Any] = field(default_factory=lambda: {"SharingType": "Private"})
    tags: dict[str, str] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "DomainId": self.domain_id,
            "SpaceArn": self.arn,
            "SpaceName": self.name,
            "Status": "InService",
            "CreationTime": self.created_at,
            "LastModifiedTime": self.created_at,
            "SpaceSettings": self.settings,
            "OwnershipSettings": self.ownership,
            "SpaceSharingSettings": self.sharing,
        }

    def idle_shutdown(self, app_type: str) -> int | None:
        key = IDLE_SETTINGS_KEYS.get(app_type)
        settings = self.settings.get(key) if key else None
        lifecycle = (settings or {}).get("AppLifecycleManagement") or {}
        minutes = (lifecycle.get("IdleSettings") or {}).get("IdleTimeoutInMinutes")
        return minutes if isinstance(minutes, int) else None


@register
class SageMakerAppEmulator(Emulator):
    """Studio apps with the life moto does not give them (the module says how)."""

    kind = "sagemaker-app"
    services = ("sagemaker",)
    keys = frozenset({"instance_type", "app_type", "activity_signal", "idle_shutdown"})

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__(clock)
        self.apps: dict[str, App] = {}
        """By the app's id (the kind's AppId string)."""
        self.spaces: dict[tuple[str, str], Space] = {}
        self.lives: dict[str, AppLife] = {}
        """By the app's id, and by its scenario id too."""
        self._planned: dict[str, tuple[Busy, ...]] = {}
        self._origin: dict[str, datetime] = {}
        self._aliases: dict[str, str] = {}
        """Scenario id -> app id."""
        self._scenario_ids: dict[str, str] = {}
        """App id -> scenario id (the timeline names an app as its scenario does)."""
        self._actor = threading.local()
        self._domains: set[str] = set()
        """Domains known to exist (created once, as an admin would)."""
        self._region = ""
        self._account = ""

    # -- scenarios and replays ----------------------------------------------------------------
    @classmethod
    def parse(cls, item: Mapping[str, Any], where: str, at: timedelta) -> StudioAppSpec:
        resource_id = item.get("id")
        if not is_name(resource_id) or len(str(resource_id)) > MAX_ID_LENGTH:
            raise ScenarioError(
                f"{where}.id: a sagemaker-app id names its space and user profile: letters, "
                f"digits and single hyphens, at most {MAX_ID_LENGTH} characters"
            )
        app_type = item.get("app_type", "JupyterLab")
        if app_type not in APP_TYPES:
            raise ScenarioError(
                f"{where}.app_type: {str(app_type)[:40]!r} is not one of {', '.join(APP_TYPES)}"
            )
        instance_type = _instance_type(
            item.get("instance_type"), f"{where}.instance_type", str(app_type)
        )
        signal = item.get("activity_signal", True)
        if not isinstance(signal, bool):
            raise ScenarioError(f"{where}.activity_signal: must be true or false")
        idle_shutdown = None
        if item.get("idle_shutdown") is not None:
            if app_type not in IDLE_SETTINGS_KEYS:
                raise ScenarioError(
                    f"{where}.idle_shutdown: Studio's idle shutdown is for JupyterLab and "
                    "CodeEditor apps only"
                )
            idle_shutdown = scenarios.whole(
                item["idle_shutdown"],
                f"{where}.idle_shutdown",
                MIN_IDLE_TIMEOUT_MINUTES,
                MAX_IDLE_TIMEOUT_MINUTES,
            )
        in_space = app_type in SPACE_APP_TYPES
        return StudioAppSpec(
            app_type=app_type,
            instance_type=instance_type,
            activity_signal=signal,
            idle_shutdown=idle_shutdown,
            space_name=f"{resource_id}{SPACE_SUFFIX}" if in_space else None,
            user_profile_name=None if in_space else str(resource_id),
        )

    @classmethod
    def spec_from_start_event(cls, event: Mapping[str, Any], ref: ResourceRef) -> ResourceSpec:
        """The app a recorded CreateApp created, in the domain and space it names (the kind has
        checked every name); the instance type the call asked for, else the default."""
        app_id = AppId.parse(ref.id)
        if app_id is None:
            raise ScenarioError(f"{ref.id[:80]!r} is not a Studio app idle-reaper watches")
        request = event["detail"].get("requestParameters") or {}
        where = "detail.requestParameters"
        spec = request.get("resourceSpec") or {}
        instance_type = _instance_type(
            spec.get("instanceType") if isinstance(spec, Mapping) else spec,
            f"{where}.resourceSpec.instanceType",
            app_id.app_type,
        )
        raw_tags = request.get("tags") or []
        if not isinstance(raw_tags, list) or not all(
            isinstance(t, Mapping) and isinstance(t.get("key"), str) for t in raw_tags
        ):
            raise ScenarioError(f"{where}.tags: must be a list of {{key, value}}")
        tags = {str(t["key"]): str(t.get("value") or "") for t in raw_tags}
        space = app_id.owner == "space"
        return ResourceSpec(
            kind=cls.kind,
            id=ref.id,
            by=ref.principal,
            tags=tags,
            kind_spec=StudioAppSpec(
                app_type=app_id.app_type,
                instance_type=instance_type,
                domain_id=app_id.domain_id,
                space_name=app_id.owner_name if space else None,
                user_profile_name=None if space else app_id.owner_name,
                app_name=app_id.app_name,
            ),
            start_event=dict(event),
        )

    # -- what a user (the scenario) does ------------------------------------------------------
    def life(self, resource_id: str) -> AppLife | None:
        return self.lives.get(self._aliases.get(resource_id, resource_id))

    def app_id(self, resource_id: str) -> str:
        """The id idle-reaper watches a scenario's app under, once it started."""
        return self._aliases.get(resource_id, resource_id)

    def resource_id(self, spec: ResourceSpec) -> str:
        """The id idle-reaper watches the app under (its watcher's resource.id, the id every
        reaper event names): `d-demo/space/<id>-space/JupyterLab/default`, not the scenario's
        `id`; a replay's own id, which is that already."""
        return _studio_spec(spec).app_id()

    def start(self, account: Account, spec: ResourceSpec, emit: Emit) -> None:
        """What Studio does when its user opens the app: the domain exists (the admin made
        it), the space is created on first use, then CreateApp, whose CloudTrail record is the
        start event."""
        studio = _studio_spec(spec)
        app_id = studio.app_id()
        self._aliases[spec.id] = app_id
        sagemaker = account.clients["sagemaker"]
        if studio.domain_id not in self._domains:
            _ensure_domain(sagemaker, studio.domain_id, account.account_id)
            self._domains.add(studio.domain_id)
        where: dict[str, str]
        if studio.space_name:
            where = {"SpaceName": studio.space_name}
            if (studio.domain_id, studio.space_name) not in self.spaces:
                sagemaker.create_space(
                    DomainId=studio.domain_id,
                    SpaceName=studio.space_name,
                    OwnershipSettings={"OwnerUserProfileName": _owner(studio.space_name)},
                    SpaceSharingSettings={"SharingType": "Private"},
                    SpaceSettings=_space_settings(studio),
                )
        else:
            where = {"UserProfileName": str(studio.user_profile_name)}
        tags = [{"Key": k, "Value": v} for k, v in spec.tags.items()]
        self._scenario_ids[app_id] = spec.id
        answer = sagemaker.create_app(
            DomainId=studio.domain_id,
            AppType=studio.app_type,
            AppName=studio.app_name,
            ResourceSpec={"InstanceType": studio.instance_type},
            Tags=tags,
            **where,
        )
        self.lives[app_id].activity_signal = studio.activity_signal
        for busy in self._planned.pop(spec.id, ()):
            self._kernel(app_id, self._origin[spec.id] + busy.at, busy.runs)
        request: dict[str, Any] = {
            "domainId": studio.domain_id,
            **{key[0].lower() + key[1:]: value for key, value in where.items()},
            "appType": studio.app_type,
            "appName": studio.app_name,
            "resourceSpec": {"instanceType": studio.instance_type},
        }
        if tags:
            request["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in tags]
        emit(
            api_call(
                source="aws.sagemaker",
                event_source="sagemaker.amazonaws.com",
                event_name="CreateApp",
                region=account.region,
                account=account.account_id,
                at=self.clock.now(),
                principal=spec.by,
                request=request,
                response={"appArn": answer["AppArn"]},
            )
        )

    def schedule(self, origin: datetime, spec: ResourceSpec) -> None:
        """Its `activity`: busy kernels, put on the app once it exists."""
        self._planned[spec.id] = spec.activity
        self._origin[spec.id] = origin

    def user_stop(self, resource_id: str) -> bool:
        """The user stops their own app (Studio's "Stop space" is DeleteApp)."""
        app = self.apps.get(self.app_id(resource_id))
        if app is None or app.status not in ACTIVE:
            return False
        self._delete(app, "user")
        return True

    def narrate(self, what: str, text: str) -> str:
        return _TIMELINE_WORDS.get(what, "{text}").format(text=text)

    # -- the service's own behaviour ---------------------------------------------------------
    def _kernel(self, app_id: str, at: datetime, runs: timedelta) -> None:
        """A kernel busy from `at` for `runs` (from InService, if the app is still Pending)."""
        life = self.lives[app_id]
        if life.ended_at is not None and at >= life.ended_at:
            return
        start, end = life.add_busy(at, runs)
        name = self._name(app_id)

        def began() -> None:
            if life.ended_at is None:
                self._on_change(name, "busy", f"kernel busy for {scenarios.human(runs)}")

        def ended() -> None:
            if life.ended_at is None and not life.busy:
                self._on_change(name, "idle", "kernels idle")
                self._arm_idle_shutdown(app_id)

        self.clock.at(start, began)
        self.clock.at(end, ended)

    def _created(self, app: App) -> None:
        app_id = _app_key(app)
        space = self.spaces.get((app.domain_id, app.space_name or ""))
        price = (
            0.0
            if app.instance_type == FREE_INSTANCE_TYPE
            else price_per_hour(self._region, app.instance_type, "studio")
        )
        life = AppLife(
            id=app_id,
            created_at=app.created_at,
            cost_per_hour=price,
            clock=self.clock,
            app_type=app.app_type,
            instance_type=app.instance_type,
            in_service_at=app.created_at + timedelta(seconds=PENDING_SECONDS),
            idle_shutdown_minutes=space.idle_shutdown(app.app_type) if space else None,
        )
        app.life = life
        self.lives[app_id] = life
        shown = "price unknown" if price is None else f"${price:.2f}/h"
        self._on_change(
            self._name(app_id),
            "created",
            f"created ({app.app_type} on {app.instance_type}, {shown})",
        )

        def in_service() -> None:
            if app.status == "Pending":
                app.status = "InService"
                self._on_change(self._name(app_id), "in-service", "InService")
                self._arm_idle_shutdown(app_id)

        self.clock.at(life.in_service_at, in_service)

    def _arm_idle_shutdown(self, app_id: str) -> None:
        """Studio deletes an app once it has been idle for its space's IdleTimeoutInMinutes."""
        life = self.lives[app_id]
        if life.idle_shutdown_minutes is None:
            return
        expected = life.last_activity_at
        app = self.apps[app_id]

        def check() -> None:
            if app.status == "InService" and not life.busy and life.last_activity_at == expected:
                self._delete(app, "service")

        self.clock.at(expected + timedelta(minutes=life.idle_shutdown_minutes), check)

    def _delete(self, app: App, by: str) -> None:
        app.status = "Deleting"
        life = app.life
        if life is not None and life.ended_at is None:
            life.ended_at, life.ended_by = self.clock.now(), by
            self._on_change(self._name(_app_key(app)), "ended", by)

        def deleted() -> None:
            if app.status == "Deleting":
                app.status = "Deleted"

        self.clock.at(self.clock.now() + timedelta(seconds=DELETING_SECONDS), deleted)

    def _name(self, app_id: str) -> str:
        """How the timeline names an app: its scenario id when it has one."""
        return self._scenario_ids.get(app_id, app_id)

    # -- the API surface moto lacks ------------------------------------------------------------
    def installed(self, account_id: str, region: str) -> AbstractContextManager[None]:
        return self.on(account_id, region)

    @contextmanager
    def on(self, account_id: str, region: str) -> Iterator[None]:
        """Install the emulator into moto's SageMaker for the duration of the block."""
        from moto.core.responses import ActionResult, EmptyResult
        from moto.sagemaker import responses
        from moto.sagemaker.exceptions import (
            ResourceInUseException,
            ResourceNotFound,
            ValidationError,
        )

        self._account, self._region = account_id, region
        emulator = self
        cls = responses.SageMakerResponse
        partition = partition_for(region)

        def arn(resource: str) -> str:
            return f"arn:{partition}:sagemaker:{region}:{account_id}:{resource.lower()}"

        def ours(response: Any) -> bool:
            return bool(response.current_account == account_id and response.region == region)

        def domain_exists(response: Any, domain_id: str) -> bool:
            return domain_id in response.sagemaker_backend.domains

        def wanted_app(response: Any) -> App:
            key = _request_key(response._get_param)
            app = emulator.apps.get(key) if key else None
            if app is None:
                raise ResourceNotFound(f"App {key or '?'} does not exist.")
            return app

        def create_space(self: Any) -> Any:
            if not ours(self):
                raise ValidationError("the emulated Studio lives in one account and region")
            domain_id, name = self._get_param("DomainId"), self._get_param("SpaceName")
            if not domain_exists(self, domain_id):
                raise ResourceNotFound(f"Domain {domain_id} does not exist.")
            if (domain_id, name) in emulator.spaces:
                raise ResourceInUseException(f"Space {name} already exists.")
            space = Space(
                domain_id=domain_id,
                name=name,
                arn=arn(f"space/{domain_id}/{name}"),
                created_at=emulator.clock.now(),
                settings=dict(self._get_param("SpaceSettings") or {}),
                ownership=dict(self._get_param("OwnershipSettings") or {}),
                sharing=dict(self._get_param("SpaceSharingSettings") or {"SharingType": "Private"}),
                tags={t["Key"]: t["Value"] for t in self._get_param("Tags") or []},
            )
            emulator.spaces[(domain_id, name)] = space
            return ActionResult({"SpaceArn": space.arn})

        def describe_space(self: Any) -> Any:
            key = (self._get_param("DomainId"), self._get_param("SpaceName"))
            space = emulator.spaces.get(key)
            if space is None or not ours(self):
                raise ResourceNotFound(f"Space {key[1]} does not exist.")
            return ActionResult(space.describe())

        def create_app(self: Any) -> Any:
            if not ours(self):
                raise ValidationError("the emulated Studio lives in one account and region")
            param = self._get_param
            key = _request_key(param)
            if key is None:
                raise ValidationError(
                    "CreateApp needs a DomainId, one of SpaceName and "
                    "UserProfileName, an AppType and an AppName"
                )
            domain_id, space_name = param("DomainId"), param("SpaceName")
            if not domain_exists(self, domain_id):
                raise ResourceNotFound(f"Domain {domain_id} does not exist.")
            if space_name and (domain_id, space_name) not in emulator.spaces:
                raise ResourceNotFound(f"Space {space_name} does not exist.")
            existing = emulator.apps.get(key)
            if existing is not None and existing.status not in ("Deleted", "Failed"):
                raise ResourceInUseException(f"App {existing.arn} already exists.")
            app_type = param("AppType")
            spec = param("ResourceSpec") or {}
            instance_type = spec.get("InstanceType") or (
                FREE_INSTANCE_TYPE if app_type == "JupyterServer" else DEFAULT_INSTANCE_TYPE
            )
            owner = space_name or param("UserProfileName")
            app = App(
                domain_id=domain_id,
                space_name=space_name,
                user_profile_name=None if space_name else param("UserProfileName"),
                app_type=app_type,
                app_name=param("AppName"),
                arn=arn(f"app/{domain_id}/{owner}/{app_type}/{param('AppName')}"),
                instance_type=instance_type,
                created_at=emulator.clock.now(),
                tags={t["Key"]: t["Value"] for t in param("Tags") or []},
            )
            emulator.apps[key] = app
            emulator._created(app)
            return ActionResult({"AppArn": app.arn})

        def describe_app(self: Any) -> Any:
            return ActionResult(wanted_app(self).describe(emulator.clock.now()))

        def delete_app(self: Any) -> Any:
            app = wanted_app(self)
            if app.status == "Deleted":
                raise ValidationError(f"App {app.arn} has already been deleted.")
            if app.status == "Deleting":
                raise ResourceInUseException(f"App {app.arn} is being deleted.")
            emulator._delete(app, getattr(emulator._actor, "name", None) or "reaper")
            return EmptyResult()

        def list_apps(self: Any) -> Any:
            wanted = {
                "DomainId": self._get_param("DomainIdEquals"),
                "SpaceName": self._get_param("SpaceNameEquals"),
                "UserProfileName": self._get_param("UserProfileNameEquals"),
            }
            now = emulator.clock.now()
            apps = [
                a.describe(now)
                for a in emulator.apps.values()
                if all(v is None or a.describe(now).get(k) == v for k, v in wanted.items())
            ]
            apps.sort(key=lambda a: a["CreationTime"], reverse=True)
            start = int(self._get_param("NextToken") or 0)
            size = int(self._get_param("MaxResults") or 10)
            out: dict[str, Any] = {"Apps": [_summary(a) for a in apps[start : start + size]]}
            if start + size < len(apps):
                out["NextToken"] = str(start + size)
            return ActionResult(out)

        originals = {name: getattr(cls, name) for name in ("list_tags", "add_tags", "delete_tags")}

        def tagged(response: Any) -> App | None:
            """The app a tagging call's ResourceArn names; None: not an app (moto's turn)."""
            resource_arn = response._get_param("ResourceArn")
            if not isinstance(resource_arn, str) or ":app/" not in resource_arn:
                return None
            for app in emulator.apps.values():
                if app.arn == resource_arn:
                    return app
            raise ValidationError(f"Could not find app with arn {resource_arn}")

        def list_tags(self: Any) -> Any:
            app = tagged(self)
            if app is None:
                return originals["list_tags"](self)
            signal = app.life.signal_tags() if app.life else {}
            pairs = [{"Key": k, "Value": v} for k, v in {**app.tags, **signal}.items()]
            start = int(self._get_param("NextToken") or 0)
            out: dict[str, Any] = {"Tags": pairs[start : start + TAGS_PAGE_SIZE]}
            if start + TAGS_PAGE_SIZE < len(pairs):
                out["NextToken"] = str(start + TAGS_PAGE_SIZE)
            return ActionResult(out)

        def add_tags(self: Any) -> Any:
            app = tagged(self)
            if app is None:
                return originals["add_tags"](self)
            app.tags.update({t["Key"]: t["Value"] for t in self._get_param("Tags") or []})
            return ActionResult({"Tags": [{"Key": k, "Value": v} for k, v in app.tags.items()]})

        def delete_tags(self: Any) -> Any:
            app = tagged(self)
            if app is None:
                return originals["delete_tags"](self)
            for key in self._get_param("TagKeys") or []:
                app.tags.pop(key, None)
            return EmptyResult()

        handlers = {
            "create_space": create_space,
            "describe_space": describe_space,
            "create_app": create_app,
            "describe_app": describe_app,
            "delete_app": delete_app,
            "list_apps": list_apps,
            "list_tags": list_tags,
            "add_tags": add_tags,
            "delete_tags": delete_tags,
        }
        with ExitStack() as stack:
            for name, fn in handlers.items():
                stack.enter_context(mock.patch.object(cls, name, fn, create=True))
            yield


def _request_key(param: Any) -> str | None:
    """The app a DescribeApp / DeleteApp / CreateApp request names, as the kind writes its id."""
    space, user = param("SpaceName"), param("UserProfileName")
    if (space is None) == (user is None):
        return None
    owner = "space" if space else "user"
    app_type = param("AppType")
    domain_id, name = param("DomainId"), param("AppName")
    if not (is_domain_id(domain_id) and is_name(space or user) and is_name(name)):
        return None
    if not isinstance(app_type, str) or app_type not in APP_TYPES:
        return None
    return f"{domain_id}/{owner}/{space or user}/{app_type}/{name}"


def _app_key(app: App) -> str:
    owner = "space" if app.space_name else "user"
    return (
        f"{app.domain_id}/{owner}/{app.space_name or app.user_profile_name}/"
        f"{app.app_type}/{app.app_name}"
    )


def _summary(app: Mapping[str, Any]) -> dict[str, Any]:
    """ListApps' AppDetails for one DescribeApp answer."""
    keys = ("DomainId", "UserProfileName", "SpaceName", "AppType", "AppName", "Status")
    out = {k: app[k] for k in keys if k in app}
    out["CreationTime"] = app["CreationTime"]
    out["ResourceSpec"] = app["ResourceSpec"]
    return out


def _ensure_domain(sagemaker: Any, domain_id: str, account_id: str) -> None:
    """The Studio domain the scenario's apps live in, created once as an admin would (moto
    names a domain `d-<DomainName>`)."""
    from botocore.exceptions import ClientError

    try:
        sagemaker.describe_domain(DomainId=domain_id)
    except ClientError:
        sagemaker.create_domain(
            DomainName=domain_id.removeprefix("d-"),
            AuthMode="IAM",
            DefaultUserSettings={"ExecutionRole": SAGEMAKER_ROLE.format(account=account_id)},
            SubnetIds=["subnet-0studio"],
            VpcId="vpc-0studio",
        )


def _space_settings(studio: StudioAppSpec) -> dict[str, Any]:
    """The space's settings: its app type, and Studio's idle shutdown when the scenario asks."""
    settings: dict[str, Any] = {"AppType": studio.app_type}
    key = IDLE_SETTINGS_KEYS.get(studio.app_type)
    if key:
        app_settings: dict[str, Any] = {
            "DefaultResourceSpec": {"InstanceType": studio.instance_type}
        }
        if studio.idle_shutdown is not None:
            app_settings["AppLifecycleManagement"] = {
                "IdleSettings": {"IdleTimeoutInMinutes": studio.idle_shutdown}
            }
        settings[key] = app_settings
    return settings


def _instance_type(value: Any, where: str, app_type: str) -> str:
    """An instance type SageMaker knows for Studio apps (`system` for JupyterServer only)."""
    if value is None:
        value = FREE_INSTANCE_TYPE if app_type == "JupyterServer" else DEFAULT_INSTANCE_TYPE
    if not isinstance(value, str) or value not in _app_instance_types():
        raise ScenarioError(f"{where}: {str(value)[:40]!r} is not a Studio app instance type")
    if (value == FREE_INSTANCE_TYPE) != (app_type == "JupyterServer"):
        raise ScenarioError(
            f"{where}: {value!r} goes with JupyterServer apps only, and they run on nothing else"
            if value == FREE_INSTANCE_TYPE
            else f"{where}: a JupyterServer app runs on `system`, not {value!r}"
        )
    return value


@cache
def _app_instance_types() -> frozenset[str]:
    """SageMaker's AppInstanceType values, from botocore's model of the API."""
    from botocore.session import get_session

    shape = get_session().get_service_model("sagemaker").shape_for("AppInstanceType")
    return frozenset(getattr(shape, "enum", None) or ())


def _studio_spec(spec: ResourceSpec) -> StudioAppSpec:
    """The resource's Studio keys: a JupyterLab app in the space `<id>-space` when it has none."""
    if spec.kind_spec is None:
        return StudioAppSpec(space_name=f"{spec.id}{SPACE_SUFFIX}")
    if not isinstance(spec.kind_spec, StudioAppSpec):
        raise TypeError(f"{spec.id}: a sagemaker-app needs a StudioAppSpec, not {spec.kind_spec!r}")
    return spec.kind_spec


def _owner(space_name: str) -> str:
    """The user profile a scenario's private space belongs to: the space's name without its
    suffix (a replayed space's own name when it has none)."""
    return space_name.removesuffix(SPACE_SUFFIX) or space_name
