"""SageMaker Studio apps: JupyterLab, Code Editor and KernelGateway, each on its own instance.

Studio sends no state-change event for an app, so a watch starts from CloudTrail's CreateApp.
JupyterServer apps (Studio Classic's free UI) and apps on the `system` instance type cost
nothing and are never watched. No API shows a kernel's activity from outside (DescribeApp's
LastUserActivityTimestamp also moves with health checks), so an app is judged only on the
activity signal idle-reaper's Studio lifecycle configuration publishes as two tags
(activity_signal.py); without it the app is unwatchable (exempt, or stopped at the
SageMakerMaxHours cap when one is set).

The stop is DeleteApp ("used to stop and delete an app"): the app's instance and its billing
end. The user's files stay: they are on the space's own storage (its EBS volume, a setting of
the space, which only DeleteSpace removes) or, for a Studio Classic app of a user profile, on
the domain's EFS home directory. What an app's end loses is what lives in memory: running
kernels, their variables, unsaved edits. Reopening the space starts a new app.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from idle_reaper.exceptions import KeepError, ResourceReadError
from idle_reaper.kinds.activity_signal import (
    HEARTBEAT_LAG,
    HEARTBEAT_TAG,
    RECHECK_MINUTES,
    Signal,
    read_signal,
)
from idle_reaper.kinds.base import MAX_LIST_PAGES, Look, ResourceKind, Sighting, api_call_place
from idle_reaper.kinds.registry import register
from idle_reaper.kinds.sagemaker_notebook import (
    MAX_HOURS_PARAMETER,
    MAX_TAG_PAGES,
    SageMakerSettings,
    capped,
    sagemaker_settings,
    tag_list,
)
from idle_reaper.kinds.sagemaker_prices import price_per_hour
from idle_reaper.partition import console_host, is_region
from idle_reaper.resource import (
    Home,
    Observation,
    Phase,
    ResourceRef,
    is_account,
    json_object,
    principal_or_none,
)
from idle_reaper.times import moment_of

WATCHED_APP_TYPES = frozenset({"JupyterLab", "CodeEditor", "KernelGateway"})
"""App types that run on an instance of their own and bill for it. JupyterServer (Studio
Classic's UI, always `system`) and the rest (Canvas, RStudio, TensorBoard, ...) are not ours."""
FREE_INSTANCE_TYPE = "system"
"""The instance type Studio gives a free app: nothing bills, nothing is watched."""
SIGNAL_APP_TYPES = frozenset({"JupyterLab", "KernelGateway"})
"""The app types idle-reaper's lifecycle configuration publishes the activity signal on: those
with a Jupyter server to ask (lifecycle/studio-on-start.sh)."""
NO_JUPYTER_SERVER = (
    "no activity signal: Code Editor runs no Jupyter server, so idle-reaper's lifecycle "
    "configuration publishes none (Studio's own idle shutdown, IdleSettings, is the tool for it)"
)
IDLE_SETTINGS_KEYS = {"JupyterLab": "JupyterLabAppSettings", "CodeEditor": "CodeEditorAppSettings"}
"""Studio's own idle shutdown exists for JupyterLab and Code Editor apps only."""
MIN_IDLE_TIMEOUT_MINUTES, MAX_IDLE_TIMEOUT_MINUTES = 60, 525600
"""IdleSettings.IdleTimeoutInMinutes' valid range (SageMaker API reference)."""

PHASES: dict[str, Phase] = {
    "Pending": "starting",
    "InService": "billing",
    "Deleting": "ended",
    "Deleted": "ended",
    "Failed": "ended",
}
"""DescribeApp's Status (AppStatus); a status SageMaker adds later reads as starting."""

RUNNING_STATUSES = frozenset({"Pending", "InService"})
"""What the sweeper lists: an app that bills (InService) or is about to (Pending); its
CreationTime, the start of its run, stays put from one to the other."""

MAX_NAME_LENGTH = 63
_DOMAIN_ID = re.compile(r"d-(-*[a-z0-9]){1,61}")
_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
"""DomainId, and SpaceName / UserProfileName / AppName, as the SageMaker API patterns them."""

Owner = Literal["space", "user"]
_OWNERS: dict[str, Owner] = {"space": "space", "user": "user"}


def is_domain_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and len(value) <= MAX_NAME_LENGTH
        and _DOMAIN_ID.fullmatch(value) is not None
    )


def is_name(value: object) -> bool:
    """A space, user profile or app name as SageMaker allows it (length checked first, so a
    hostile string never reaches the pattern)."""
    return (
        isinstance(value, str)
        and len(value) <= MAX_NAME_LENGTH
        and _NAME.fullmatch(value) is not None
    )


@dataclass(frozen=True)
class AppId:
    """What names a Studio app: its domain, its space or user profile, its type and name.
    The watcher carries it as one string, `d-x/space/<space>/<type>/<app>` or
    `d-x/user/<profile>/<type>/<app>`, which parses back to exactly this."""

    domain_id: str
    owner: Owner
    owner_name: str
    app_type: str
    app_name: str

    @classmethod
    def of(
        cls, domain_id: object, owner: Owner, owner_name: object, app_type: object, name: object
    ) -> AppId | None:
        """The id of these parts, or None when any is not what SageMaker accepts."""
        if not (
            is_domain_id(domain_id)
            and is_name(owner_name)
            and isinstance(app_type, str)
            and app_type in WATCHED_APP_TYPES
            and is_name(name)
        ):
            return None
        return cls(str(domain_id), owner, str(owner_name), app_type, str(name))

    @classmethod
    def parse(cls, text: object) -> AppId | None:
        if not isinstance(text, str) or len(text) > 5 * (MAX_NAME_LENGTH + 1):
            return None
        parts = text.split("/")
        if len(parts) != 5 or parts[1] not in _OWNERS:
            return None
        domain_id, owner, owner_name, app_type, name = parts
        return cls.of(domain_id, _OWNERS[owner], owner_name, app_type, name)

    def __str__(self) -> str:
        return f"{self.domain_id}/{self.owner}/{self.owner_name}/{self.app_type}/{self.app_name}"

    def request(self) -> dict[str, str]:
        """The parameters DescribeApp and DeleteApp take."""
        where = "SpaceName" if self.owner == "space" else "UserProfileName"
        return {
            "DomainId": self.domain_id,
            where: self.owner_name,
            "AppType": self.app_type,
            "AppName": self.app_name,
        }

    def arn(self, partition: str, region: str, account: str) -> str:
        """The app's ARN when DescribeApp gives none: SageMaker writes its ARNs in lower case,
        whatever the case of the names."""
        resource = f"app/{self.domain_id}/{self.owner_name}/{self.app_type}/{self.app_name}"
        return f"arn:{partition}:sagemaker:{region}:{account}:{resource.lower()}"


@register
class SageMakerApp(ResourceKind):
    name = "sagemaker-app"
    service = "sagemaker"
    idle_minutes_env = "SAGEMAKER_IDLE_MINUTES"
    enabled_env = "SAGEMAKER_ENABLED"
    default_idle_minutes = 60
    read_permissions = (
        "sagemaker:DescribeApp",
        "sagemaker:ListTags",
        "sagemaker:DescribeSpace",
        "sagemaker:DescribeDomain",
    )
    stop_permissions = ("sagemaker:DeleteApp",)
    list_permissions = ("sagemaker:ListApps",)
    stop_resource_arn = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:app/*"
    keep_permissions = ("sagemaker:AddTags",)
    signal_lag = HEARTBEAT_LAG
    stopping_statuses = frozenset({"Deleting", "Deleted"})
    # DeleteApp declares ResourceInUse and ResourceNotFound; deleting an app already deleted
    # is answered with a ValidationException, undeclared, so Step Functions names it
    # SageMaker.SageMakerException: a refusal, never taken as a stop that landed (only a
    # timeout is)

    def settings_from(self, env: Mapping[str, str]) -> SageMakerSettings:
        """SAGEMAKER_MAX_HOURS, read as the notebook kind reads it (one setting, both kinds)."""
        return sagemaker_settings(env)

    def identify(self, event: Mapping[str, Any]) -> ResourceRef | None:
        """CloudTrail's CreateApp from SageMaker (Amplify has a CreateApp too), successful calls
        of a billed app type only. Every field is checked for its type and shape: a hostile or
        broken event names no resource, it never raises."""
        detail = json_object(event.get("detail"))
        if (
            event.get("source") != "aws.sagemaker"
            or event.get("detail-type") != "AWS API Call via CloudTrail"
            or detail.get("eventSource") != "sagemaker.amazonaws.com"
            or detail.get("eventName") != "CreateApp"
            or "errorCode" in detail
        ):
            return None
        request = json_object(detail.get("requestParameters"))
        spec = request.get("resourceSpec")
        if spec is None:  # absent or null: the space's default instance type
            spec = {}
        if not isinstance(spec, Mapping):  # 0, "", [] are no spec: a malformed request
            return None
        instance_type = spec.get("instanceType")
        if instance_type == FREE_INSTANCE_TYPE or not isinstance(instance_type, str | None):
            return None  # free, or an instance type that is no string
        space, user = request.get("spaceName"), request.get("userProfileName")
        if (space is None) == (user is None):  # SageMaker takes exactly one of the two
            return None
        app_id = AppId.of(
            request.get("domainId"),
            "space" if space is not None else "user",
            space if space is not None else user,
            request.get("appType"),
            request.get("appName"),
        )
        region, account = api_call_place(event, detail)
        if app_id is None or not (is_region(region) and is_account(account)):
            return None
        return ResourceRef(
            kind=self.name,
            id=str(app_id),
            region=str(region),
            account=str(account),
            principal=principal_or_none(json_object(detail.get("userIdentity")).get("arn")),
        )

    def stop_target(self, ref: ResourceRef) -> dict[str, str] | None:
        """DeleteApp's parameters: the ASL's space branch reads SpaceName, its user-profile
        branch UserProfileName."""
        app_id = AppId.parse(ref.id)
        return app_id.request() if app_id else None

    def observe(self, ref: ResourceRef, look: Look) -> Observation:
        app_id = AppId.parse(ref.id)
        if app_id is None:  # no Studio app is called that: nothing to look at, nothing to stop
            return Observation(phase="missing", status="NOT_A_STUDIO_APP")
        client = look.client(self.service)
        try:
            app = client.describe_app(**app_id.request())
        except ClientError as exc:
            if _code(exc) == "ResourceNotFound":
                return Observation(phase="missing", status="NOT_FOUND")
            raise ResourceReadError(f"DescribeApp {app_id}: {exc}") from exc
        except BotoCoreError as exc:
            raise ResourceReadError(f"DescribeApp {app_id}: {exc}") from exc

        status = str(app.get("Status", "UNKNOWN"))
        phase = PHASES.get(status, "starting")
        created = moment_of(app.get("CreationTime"))
        arn = app.get("AppArn")
        if not isinstance(arn, str) or not arn.startswith("arn:"):
            arn = app_id.arn(ref.partition, ref.region, ref.account)
        instance_type = json_object(app.get("ResourceSpec")).get("InstanceType")
        seen = Observation(
            phase=phase,
            status=status,
            started_at=created,
            last_activity_at=created,
            tags=self._tags(client, arn, tolerate=phase == "ended"),
            cost_per_hour=(
                price_per_hour(ref.region, instance_type, "studio")
                if isinstance(instance_type, str)
                else None
            ),
            arn=arn,
        )
        if phase != "billing":
            return seen
        return self._judged(seen, app_id, instance_type, client, look)

    def running(self, client: Callable[[str], Any], home: Home) -> Iterator[Sighting]:
        """Pending and InService apps of a billed type (not on `system`), every page of
        ListApps across every domain. started_at is CreationTime, as observe() reads it."""
        pages = client(self.service).get_paginator("list_apps")
        try:
            for count, page in enumerate(pages.paginate(), start=1):
                if count > MAX_LIST_PAGES:
                    raise ResourceReadError(f"ListApps: more than {MAX_LIST_PAGES} pages")
                found = json_object(page).get("Apps")
                for app in found if isinstance(found, list) else []:
                    sighting = self._sighting(json_object(app), home)
                    if sighting is not None:
                        yield sighting
        except (ClientError, BotoCoreError) as exc:
            raise ResourceReadError(f"ListApps: {exc}") from exc

    def _sighting(self, app: Mapping[str, Any], home: Home) -> Sighting | None:
        """A listed app that bills, or None (another type, free, ended, malformed). A space's
        app is named by its space (DescribeApp and DeleteApp take SpaceName or
        UserProfileName, never both), whatever user profile the listing also gives."""
        status = app.get("Status")
        if not isinstance(status, str) or status not in RUNNING_STATUSES:
            return None
        spec = app.get("ResourceSpec")
        if spec is not None and not isinstance(spec, Mapping):
            return None
        instance_type = json_object(spec).get("InstanceType")
        if instance_type == FREE_INSTANCE_TYPE or not isinstance(instance_type, str | None):
            return None
        space, user = app.get("SpaceName"), app.get("UserProfileName")
        owner: Owner = "space" if is_name(space) else "user"
        app_id = AppId.of(
            app.get("DomainId"),
            owner,
            space if owner == "space" else user,
            app.get("AppType"),
            app.get("AppName"),
        )
        if app_id is None:
            return None
        ref = ResourceRef(kind=self.name, id=str(app_id), region=home.region, account=home.account)
        return Sighting(ref=ref, started_at=moment_of(app.get("CreationTime")))

    def write_tags(
        self, ref: ResourceRef, seen: Observation, tags: Mapping[str, str], client: Any
    ) -> None:
        """AddTags on the app's ARN as DescribeApp gave it (the activity signal's own tags go
        on the same ARN)."""
        app_id = AppId.parse(ref.id)
        arn = seen.arn or (app_id.arn(ref.partition, ref.region, ref.account) if app_id else None)
        if arn is None:
            raise KeepError(f"{ref.id[:80]!r} names no Studio app")
        client.add_tags(ResourceArn=arn, Tags=tag_list(tags))

    def console_url(self, ref: ResourceRef) -> str | None:
        """The domain's page in the SageMaker console (its spaces and apps)."""
        app_id = AppId.parse(ref.id)
        host = console_host(ref.region) if is_region(ref.region) else None
        if app_id is None or host is None:
            return None
        return f"https://{host}/sagemaker/home?region={ref.region}#/studio/{app_id.domain_id}"

    # -- reading ---------------------------------------------------------------------------------
    def _judged(
        self, seen: Observation, app_id: AppId, instance_type: object, client: Any, look: Look
    ) -> Observation:
        """A billing app: its idleness from the activity signal, Studio's own idle shutdown."""
        if instance_type == FREE_INSTANCE_TYPE:
            free = "it runs on the free `system` instance type: stopping it saves nothing"
            return replace(seen, cost_per_hour=0.0, unwatchable=free)
        note: str | None
        try:
            own = self._idle_shutdown(client, app_id)
        except ResourceReadError as exc:  # only the savings figure leans on it: judge anyway
            own = None
            note = f"Studio's own idle shutdown could not be read ({exc}): savings assume none"
        else:
            policy = look.policy.for_resource(self.name, seen.tags, None)  # for a note only
            allowance, _ = policy.idle_minutes_for(self.name, seen.tags)
            note = idle_shutdown_note(own, allowance)
        seen = replace(seen, own_idle_timeout_minutes=own, notes=(note,) if note else ())
        if seen.started_at is None:
            return replace(
                seen, unreadable="DescribeApp gave no CreationTime", recheck_minutes=RECHECK_MINUTES
            )
        silent = app_id.app_type not in SIGNAL_APP_TYPES and HEARTBEAT_TAG not in seen.tags
        signal = (
            Signal(unwatchable=NO_JUPYTER_SERVER)
            if silent
            else read_signal(seen.tags, seen.started_at, look.now)
        )
        if signal.unwatchable is not None:
            settings = look.settings(self)
            hours = settings.max_hours if isinstance(settings, SageMakerSettings) else 0
            if not hours:
                return replace(seen, unwatchable=signal.unwatchable)
            reason = (
                f"{NO_JUPYTER_SERVER}; stopped after {MAX_HOURS_PARAMETER}={hours} h of running"
                if silent
                else capped(signal.unwatchable, hours)
            )
            return replace(seen, unwatchable=reason, running_cap_minutes=hours * 60)
        return signal.applied_to(seen, self.signal_lag)

    @staticmethod
    def _tags(client: Any, arn: str, *, tolerate: bool = False) -> dict[str, str]:
        """The app's tags, across pages. An app that has ended may no longer answer (its tags
        then matter to no decision): `tolerate` reads that as none."""
        try:
            return dict(_tag_pairs(client, arn))
        except ResourceReadError:
            if tolerate:
                return {}
            raise
        except (ClientError, BotoCoreError) as exc:
            if tolerate:
                return {}
            raise ResourceReadError(f"ListTags {arn}: {exc}") from exc

    @staticmethod
    def _idle_shutdown(client: Any, app_id: AppId) -> int | None:
        """Studio's own idle shutdown for this app, in minutes; None when it has none.
        Raises ResourceReadError when DescribeSpace or DescribeDomain fails (denied by an
        SCP, throttled): the caller then judges the app without it.

        A space may set its own IdleTimeoutInMinutes (when the domain lets users choose);
        else the domain's IdleSettings apply when their LifecycleManagement is ENABLED:
        DefaultSpaceSettings for a shared space's JupyterLab, DefaultUserSettings otherwise.
        Settings on a user profile (which override the domain's) are not read: only the
        savings figure leans on this number, never a stop."""
        key = IDLE_SETTINGS_KEYS.get(app_id.app_type)
        if key is None:
            return None
        defaults: list[str] = ["DefaultUserSettings"]
        if app_id.owner == "space":
            space = _described(
                client.describe_space,
                f"DescribeSpace {app_id.domain_id}/{app_id.owner_name}",
                DomainId=app_id.domain_id,
                SpaceName=app_id.owner_name,
            )
            own = _dig(space, "SpaceSettings", key, "AppLifecycleManagement", "IdleSettings")
            minutes = _idle_minutes(own.get("IdleTimeoutInMinutes"))
            if minutes is not None:
                return minutes
            if _dig(space, "SpaceSharingSettings").get("SharingType") == "Shared":
                defaults.insert(0, "DefaultSpaceSettings")
        domain = _described(
            client.describe_domain, f"DescribeDomain {app_id.domain_id}", DomainId=app_id.domain_id
        )
        for where in defaults:
            idle = _dig(domain, where, key, "AppLifecycleManagement", "IdleSettings")
            if idle.get("LifecycleManagement") == "ENABLED":
                return _idle_minutes(idle.get("IdleTimeoutInMinutes"))
        return None


def idle_shutdown_note(own_minutes: int | None, allowance_minutes: int) -> str | None:
    """What the owner should know when Studio's own idle shutdown comes first: it may delete
    the app before idle-reaper would warn, so no warning may come."""
    if own_minutes is None or own_minutes >= allowance_minutes:
        return None
    return (
        f"Studio's own idle shutdown ({own_minutes} min) ends this app before idle-reaper's "
        f"{allowance_minutes}-minute allowance, without a warning"
    )


def _described(call: Any, what: str, **params: str) -> Mapping[str, Any]:
    """A Describe call's answer; a resource that is not there (a deleted space) has no
    settings. Any other failure is a read error naming the call and its error code only: the
    caller turns it into a note an owner reads (no role ARN or policy text in it)."""
    try:
        answer = call(**params)
    except ClientError as exc:
        if _code(exc) == "ResourceNotFound":
            return {}
        raise ResourceReadError(f"{what}: {_code(exc) or 'no error code'}") from exc
    except BotoCoreError as exc:
        raise ResourceReadError(f"{what}: {type(exc).__name__}") from exc
    return json_object(answer)


def _tag_pairs(client: Any, arn: str) -> Iterator[tuple[str, str]]:
    """The tags, page by page, at most MAX_TAG_PAGES pages: an answer that never stops
    paginating is a read error, not a Lambda timeout."""
    token: str | None = None
    for _ in range(MAX_TAG_PAGES):
        kwargs: dict[str, Any] = {"ResourceArn": arn}
        if token:
            kwargs["NextToken"] = token
        page = json_object(client.list_tags(**kwargs))
        for tag in page.get("Tags") or []:
            key, value = json_object(tag).get("Key"), json_object(tag).get("Value", "")
            if isinstance(key, str) and isinstance(value, str):
                yield key, value
        token = page.get("NextToken")
        if not token:
            return
    raise ResourceReadError(f"ListTags {arn}: more than {MAX_TAG_PAGES} pages")


def _idle_minutes(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if MIN_IDLE_TIMEOUT_MINUTES <= value <= MAX_IDLE_TIMEOUT_MINUTES else None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _dig(data: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    """A nested JSON object, or an empty one wherever the path breaks."""
    for key in keys:
        data = json_object(data.get(key))
    return data
