"""SageMaker notebook instances.

No SageMaker API says whether a notebook's kernels are working, so a notebook is judged only
through the activity signal idle-reaper's lifecycle configuration publishes on it
(activity_signal.py): without that signal it is never judged idle, and is either left alone
(the watch ends exempt, saying why) or, with SageMakerMaxHours set, stopped that many hours
after it started. Only an InService notebook bills and may be stopped.

A run of a notebook begins at its LastModifiedTime as read while it is InService: SageMaker
moves that time on every change of status (the Stopping event of a real notebook carries a
LastModifiedTime seconds before the event, its CreationTime 14 minutes earlier), so each stop
and start gives a new one, and the watcher's claim and its "replaced" check see a new run.
CreationTime would not do: it stays the same across every stop and start of the notebook.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from idle_reaper.exceptions import PolicyError, ResourceReadError
from idle_reaper.kinds.activity_signal import ATTACH, HEARTBEAT_LAG, read_signal
from idle_reaper.kinds.base import MAX_LIST_PAGES, Look, ResourceKind, Sighting
from idle_reaper.kinds.registry import register
from idle_reaper.kinds.sagemaker_prices import price_per_hour
from idle_reaper.partition import console_host, is_region
from idle_reaper.resource import Home, Observation, Phase, ResourceRef, is_account, json_object
from idle_reaper.times import moment_of

DETAIL_TYPE = "SageMaker Notebook Instance State Change"
NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
"""SageMaker's NotebookInstanceName pattern, with its 63-character maximum."""
MAX_NAME_LENGTH = 63

PHASES: dict[str, Phase] = {
    "Pending": "starting",
    "Updating": "starting",
    "InService": "billing",
    "Stopping": "ended",
    "Stopped": "ended",
    "Failed": "ended",
    "Deleting": "ended",
}
"""Any other status (PendingMaintenance, InMaintenance, one SageMaker adds later) is read as
starting: looked at again, never stopped, since only InService is known to accept a stop."""

MAX_HOURS_ENV = "SAGEMAKER_MAX_HOURS"
MAX_HOURS_PARAMETER = "SageMakerMaxHours"
MAX_HOURS_LIMIT = 8760
"""A year: the longest running cap a deployment may set."""
_WHOLE = re.compile(r"[0-9]{1,4}")
MAX_TAG_PAGES = 20
"""ListTags pages read at most (a resource holds at most 50 tags: one page in practice)."""


@dataclass(frozen=True)
class SageMakerSettings:
    """The SageMaker kinds' own deployed settings."""

    max_hours: int = 0
    """SageMakerMaxHours: with no activity signal, stop this many hours after the start
    (0: never; the watch ends exempt)."""


def sagemaker_settings(env: Mapping[str, str]) -> SageMakerSettings:
    """SAGEMAKER_MAX_HOURS, whole hours from 0 to 8760 (empty or absent: 0)."""
    raw = env.get(MAX_HOURS_ENV, "")
    if raw.strip() == "":
        return SageMakerSettings()
    if _WHOLE.fullmatch(raw.strip()) is None or int(raw) > MAX_HOURS_LIMIT:
        raise PolicyError(
            f"{MAX_HOURS_ENV}={raw[:40]!r} must be a whole number of hours from 0 to "
            f"{MAX_HOURS_LIMIT}"
        )
    return SageMakerSettings(max_hours=int(raw))


def capped(unwatchable: str, max_hours: int) -> str:
    """The reason an owner reads when a notebook without a signal is stopped by the cap."""
    head = unwatchable.split(": ", 1)[0]
    return (
        f"{head}: stopped after {MAX_HOURS_PARAMETER}={max_hours} h of running; "
        f"{ATTACH} to have it stopped only when idle"
    )


def is_notebook_name(value: object) -> bool:
    """A name SageMaker could have given a notebook instance (hostile strings end here)."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_NAME_LENGTH
        and NAME.fullmatch(value) is not None
    )


def notebook_arn(ref: ResourceRef) -> str:
    """The notebook's ARN when SageMaker did not say it: SageMaker lower-cases the name in
    a notebook instance's ARN (the InService event of `MyNotebook` names
    `notebook-instance/mynotebook`)."""
    return f"arn:{ref.partition}:sagemaker:{ref.region}:{ref.account}:notebook-instance/" + (
        ref.id.lower()
    )


@register
class SageMakerNotebook(ResourceKind):
    name = "sagemaker-notebook"
    service = "sagemaker"
    idle_minutes_env = "SAGEMAKER_IDLE_MINUTES"
    enabled_env = "SAGEMAKER_ENABLED"
    default_idle_minutes = 60
    read_permissions = ("sagemaker:DescribeNotebookInstance", "sagemaker:ListTags")
    stop_permissions = ("sagemaker:StopNotebookInstance",)
    list_permissions = ("sagemaker:ListNotebookInstances",)
    keep_permissions = ("sagemaker:AddTags",)
    stop_resource_arn = (
        "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:notebook-instance/*"
    )
    signal_lag = HEARTBEAT_LAG
    stopping_statuses = frozenset({"Stopping", "Stopped"})
    # SageMaker.SageMakerException is any undeclared error (a refusal included): none is
    # taken as a stop that landed (only a timeout is)
    """StopNotebookInstance declares no errors in SageMaker's API model, so Step Functions
    names every refusal (ValidationException: not InService, or no such notebook)
    `SageMaker.SageMakerException`."""

    def settings_from(self, env: Mapping[str, str]) -> SageMakerSettings:
        return sagemaker_settings(env)

    def identify(self, event: Mapping[str, Any]) -> ResourceRef | None:
        """SageMaker's own state-change event, InService only (the moment it bills). Every
        field is checked for its type and shape: a hostile event names nothing, never raises."""
        if event.get("source") != "aws.sagemaker" or event.get("detail-type") != DETAIL_TYPE:
            return None
        detail = json_object(event.get("detail"))
        name, region, account = (
            detail.get("NotebookInstanceName"),
            event.get("region"),
            event.get("account"),
        )
        if (
            detail.get("NotebookInstanceStatus") != "InService"
            or not is_notebook_name(name)
            or not is_region(region)
            or not is_account(account)
        ):
            return None
        return ResourceRef(kind=self.name, id=str(name), region=str(region), account=str(account))

    def observe(self, ref: ResourceRef, look: Look) -> Observation:
        if not is_notebook_name(ref.id):  # no notebook can have this name
            return Observation(phase="missing", status="NOT_FOUND")
        client = look.client(self.service)
        try:
            notebook = client.describe_notebook_instance(NotebookInstanceName=ref.id)
        except ClientError as exc:
            if _not_found(exc):
                return Observation(phase="missing", status="NOT_FOUND")
            raise ResourceReadError(f"DescribeNotebookInstance {ref.id}: {exc}") from exc
        except BotoCoreError as exc:
            raise ResourceReadError(f"DescribeNotebookInstance {ref.id}: {exc}") from exc

        status = str(notebook.get("NotebookInstanceStatus") or "UNKNOWN")
        phase = PHASES.get(status, "starting")
        started = moment_of(notebook.get("LastModifiedTime")) or moment_of(
            notebook.get("CreationTime")
        )
        if started is None:
            raise ResourceReadError(f"DescribeNotebookInstance {ref.id}: no LastModifiedTime")
        given_arn = notebook.get("NotebookInstanceArn")
        arn = given_arn if isinstance(given_arn, str) and given_arn else notebook_arn(ref)
        tags = _tags(client, arn)
        seen = Observation(
            phase=phase,
            status=status,
            started_at=started,
            last_activity_at=started,
            tags=tags,
            cost_per_hour=price_per_hour(
                ref.region, str(notebook.get("InstanceType") or ""), "notebook"
            ),
            arn=arn,
        )
        if phase != "billing":
            return seen
        return self._with_activity(seen, started, look)

    def running(self, client: Callable[[str], Any], home: Home) -> Iterator[Sighting]:
        """InService notebooks, every page of ListNotebookInstances (filtered by SageMaker).

        Pending ones are left to a later sweep: a notebook's run begins at its LastModifiedTime
        as read while InService, and the move to InService changes it, so a watcher started
        for a Pending notebook would claim a run that ends (`gone`) the moment it bills."""
        pages = client(self.service).get_paginator("list_notebook_instances")
        try:
            for count, page in enumerate(pages.paginate(StatusEquals="InService"), start=1):
                if count > MAX_LIST_PAGES:
                    raise ResourceReadError(
                        f"ListNotebookInstances: more than {MAX_LIST_PAGES} pages"
                    )
                found = json_object(page).get("NotebookInstances")
                for notebook in found if isinstance(found, list) else []:
                    sighting = self._sighting(json_object(notebook), home)
                    if sighting is not None:
                        yield sighting
        except (ClientError, BotoCoreError) as exc:
            raise ResourceReadError(f"ListNotebookInstances: {exc}") from exc

    def _sighting(self, notebook: Mapping[str, Any], home: Home) -> Sighting | None:
        """A listed notebook that bills, started_at as observe() reads it; None otherwise."""
        name = notebook.get("NotebookInstanceName")
        started = moment_of(notebook.get("LastModifiedTime")) or moment_of(
            notebook.get("CreationTime")
        )
        if (
            notebook.get("NotebookInstanceStatus") != "InService"
            or not is_notebook_name(name)
            or started is None
        ):
            return None
        ref = ResourceRef(kind=self.name, id=str(name), region=home.region, account=home.account)
        return Sighting(ref=ref, started_at=started)

    def _with_activity(self, seen: Observation, started: datetime, look: Look) -> Observation:
        """What the activity signal says about a billing notebook."""
        signal = read_signal(seen.tags, started, look.now)
        if signal.unwatchable is not None:
            settings = look.settings(self)
            hours = settings.max_hours if isinstance(settings, SageMakerSettings) else 0
            if hours:
                return replace(
                    seen,
                    unwatchable=capped(signal.unwatchable, hours),
                    running_cap_minutes=hours * 60,
                )
            return replace(seen, unwatchable=signal.unwatchable)
        return signal.applied_to(seen, self.signal_lag)

    def write_tags(
        self, ref: ResourceRef, seen: Observation, tags: Mapping[str, str], client: Any
    ) -> None:
        """AddTags on the notebook's ARN as DescribeNotebookInstance gave it."""
        client.add_tags(ResourceArn=seen.arn or notebook_arn(ref), Tags=tag_list(tags))

    def console_url(self, ref: ResourceRef) -> str | None:
        host = console_host(ref.region)
        if host is None:
            return None
        name = quote(ref.id, safe="")
        return f"https://{host}/sagemaker/home?region={ref.region}#/notebook-instances/{name}"


def _not_found(exc: ClientError) -> bool:
    """SageMaker says a notebook instance does not exist with a ValidationException whose
    message is `RecordNotFound` (DescribeNotebookInstance; AWS's own ACK controller reads it
    the same way) or `Notebook Instance <arn> does not exist`: the message is the only thing
    that tells it from a malformed request, since the API declares no error for it."""
    error = exc.response.get("Error", {})
    code, message = str(error.get("Code", "")), str(error.get("Message", ""))
    if code == "ResourceNotFound":
        return True
    return code == "ValidationException" and (
        message.startswith("RecordNotFound") or message.endswith("does not exist")
    )


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """Tags as SageMaker's AddTags takes them: `[{"Key": ..., "Value": ...}]`."""
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _tags(client: Any, arn: str) -> dict[str, str]:
    """Every tag of the notebook, across pages; only string keys and values are kept."""
    tags: dict[str, str] = {}
    for tag in _tag_pages(client, arn):
        key, value = tag.get("Key"), tag.get("Value")
        if isinstance(key, str) and isinstance(value, str):
            tags[key] = value
    return tags


def _tag_pages(client: Any, arn: str) -> Iterator[Mapping[str, Any]]:
    token: str | None = None
    for _ in range(MAX_TAG_PAGES):
        kwargs: dict[str, Any] = {"ResourceArn": arn}
        if token:
            kwargs["NextToken"] = token
        try:
            page = client.list_tags(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise ResourceReadError(f"ListTags {arn}: {exc}") from exc
        for tag in page.get("Tags") or []:
            if isinstance(tag, Mapping):
                yield tag
        token = page.get("NextToken")
        if not token:
            return
    raise ResourceReadError(f"ListTags {arn}: more than {MAX_TAG_PAGES} pages")


def _run_started(notebook: Mapping[str, Any]) -> datetime | None:
    """When this run began: LastModifiedTime as read while InService (CreationTime without it),
    the same moment for observe() and the sweeper's listing."""
    return moment_of(notebook.get("LastModifiedTime")) or moment_of(notebook.get("CreationTime"))
