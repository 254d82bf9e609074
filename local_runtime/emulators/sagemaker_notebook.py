"""Emulated SageMaker notebook instances with a life on the virtual clock.

moto's notebook instances are InService the moment they are created and Stopped the moment a
stop is asked, whatever their status; their LastModifiedTime never moves; their ARN keeps the
name's case; AddTags appends a second tag under a key it already holds; and only the instance
types of 2019 are accepted. Here, as SageMaker does: a notebook is Pending for a few minutes,
then InService (when SageMaker sends its "SageMaker Notebook Instance State Change" event);
StopNotebookInstance is refused with a ValidationException unless it is InService, and a stop
goes Stopping, then Stopped; every change of status moves LastModifiedTime; the ARN has the
name in lower case; AddTags overwrites a key; any instance type SageMaker's API model lists is
accepted.

The activity signal (idle_reaper.kinds.activity_signal) is what idle-reaper's lifecycle script
would publish, read back through ListTags: not written every virtual minute (a week of a
thousand notebooks would crawl), but worked out at read time as the script would last have
written it. The script publishes at every whole minute from InService on: the heartbeat is the
last of those minutes, and the last activity that minute while a kernel was busy, else the end
of the latest busy period, else InService. With `activity_signal: false` (the configuration is
not attached) there are no such tags. After a stop the last ones written stay.

Not emulated: StartNotebookInstance after a stop (one run per notebook; refused, saying so).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from typing import TYPE_CHECKING, Any
from unittest import mock

from idle_reaper.kinds.activity_signal import HEARTBEAT_TAG, LAST_ACTIVITY_TAG
from idle_reaper.kinds.sagemaker_notebook import DETAIL_TYPE, is_notebook_name
from idle_reaper.kinds.sagemaker_prices import price_per_hour
from local_runtime.emulators.base import Emit, Emulator, Life
from local_runtime.emulators.registry import register
from local_runtime.errors import ScenarioError
from local_runtime.scenario import KindSpec, ResourceSpec

if TYPE_CHECKING:
    from idle_reaper.resource import ResourceRef
    from local_runtime.clock import VirtualClock
    from local_runtime.runtime import Account

DEFAULT_INSTANCE_TYPE = "ml.t3.medium"
LIFECYCLE_CONFIG = "idle-reaper-activity-signal"
"""The lifecycle configuration a notebook with the activity signal names. Any name will do:
nothing here reads it back (a deployed stack's is one CloudFormation generates, given by the
NotebookLifecycleConfigName output); only whether a notebook names one matters."""
NOTEBOOK_ROLE = "arn:aws:iam::{account}:role/service-role/AmazonSageMaker-ExecutionRole"
PENDING_SECONDS = 240
"""Pending before InService: SageMaker takes a few minutes (3 to 5) to start a notebook."""
STOPPING_SECONDS = 60
TAGS_PAGE_SIZE = 4
"""Tags per ListTags page: small, so the kind's pagination is always exercised."""
PUBLISH = timedelta(minutes=1)
_TIMELINE_WORDS = {
    "created": "{text}",
    "in-service": "notebook InService",
    "kernel-busy": "{text}",
    "kernel-idle": "{text}",
    "ended": "billing ended ({text})",
}


@dataclass(frozen=True)
class NotebookSpec(KindSpec):
    """A notebook instance as a scenario asks for it."""

    instance_type: str = DEFAULT_INSTANCE_TYPE
    activity_signal: bool = True
    """False: idle-reaper's lifecycle configuration is not attached (no signal)."""


@dataclass(kw_only=True)
class NotebookLife(Life):
    """One notebook's billing record and what its kernels did; `ended_by` is reaper
    (StopNotebookInstance over the API) or user."""

    instance_type: str
    signal: bool
    now: Callable[[], datetime]
    in_service_at: datetime | None = None
    work: list[tuple[timedelta, timedelta]] = field(default_factory=list)
    """Busy kernel periods (offset from the scenario's start, duration), as scheduled."""
    origin: datetime | None = None

    def periods(self) -> list[tuple[datetime, datetime]]:
        """When kernels were busy: from InService at the earliest (a kernel cannot run on a
        notebook still Pending: the work waits, as its user would), never past the stop."""
        if self.in_service_at is None or self.origin is None:
            return []
        out = []
        for offset, runs in self.work:
            start = max(self.origin + offset, self.in_service_at)
            end = start + runs
            if self.ended_at is not None:
                if start >= self.ended_at:
                    continue
                end = min(end, self.ended_at)
            out.append((start, end))
        return out

    @property
    def busy(self) -> bool:
        now = self.now()
        return self.ended_at is None and any(s <= now < e for s, e in self.periods())

    @property
    def last_activity_at(self) -> datetime:
        """The latest start or end of a busy period so far, else when it became InService
        (its creation while Pending): minutes spent Pending are no one's idleness."""
        now = self.now()
        moments = [self.in_service_at or self.created_at]
        for start, end in self.periods():
            moments += [m for m in (start, end) if m <= now]
        return max(moments)

    def signal_tags(self) -> dict[str, str]:
        """The two tags as the lifecycle script last wrote them (none without the script, or
        before its first whole minute)."""
        if not self.signal or self.in_service_at is None:
            return {}
        until = min(self.now(), self.ended_at) if self.ended_at else self.now()
        heartbeat = _whole_minute(until)
        if heartbeat < self.in_service_at:
            return {}
        last = self.in_service_at
        for start, end in self.periods():
            if start <= heartbeat < end:
                last = heartbeat
                break
            if end <= heartbeat:
                last = max(last, end)
        return {LAST_ACTIVITY_TAG: _stamp(last), HEARTBEAT_TAG: _stamp(heartbeat)}


@register
class SageMakerNotebookEmulator(Emulator):
    """SageMaker notebook instances with the life moto does not give them (the module says
    how)."""

    kind = "sagemaker-notebook"
    services = ("sagemaker",)
    keys = frozenset({"instance_type", "activity_signal"})

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__(clock)
        self.lives: dict[str, NotebookLife] = {}
        self._emits: dict[str, Emit] = {}
        self._specs: dict[str, ResourceSpec] = {}
        self._work: dict[str, tuple[datetime, list[tuple[timedelta, timedelta]]]] = {}
        """Each notebook's scheduled busy periods, kept for its life (made at its creation)."""
        self._actor = threading.local()
        self._account = ""
        self._backend: Any = None

    # -- scenarios and replays ----------------------------------------------------------------
    @classmethod
    def parse(cls, item: Mapping[str, Any], where: str, at: timedelta) -> NotebookSpec:
        if not is_notebook_name(item.get("id")):
            raise ScenarioError(
                f"{where}.id: {str(item.get('id'))[:70]!r} is not a notebook instance name "
                "(letters, digits and dashes, at most 63, starting and ending with a letter or "
                "digit)"
            )
        instance_type = item.get("instance_type", DEFAULT_INSTANCE_TYPE)
        if not is_instance_type(instance_type):
            raise ScenarioError(
                f"{where}.instance_type: {str(instance_type)[:40]!r} is not a notebook "
                "instance type (e.g. ml.t3.medium)"
            )
        signal = item.get("activity_signal", True)
        if not isinstance(signal, bool):
            raise ScenarioError(f"{where}.activity_signal: must be true or false")
        return NotebookSpec(instance_type=instance_type, activity_signal=signal)

    @classmethod
    def spec_from_start_event(cls, event: Mapping[str, Any], ref: ResourceRef) -> ResourceSpec:
        """The notebook a recorded InService event describes. It had the activity signal when
        it named a lifecycle configuration (which one cannot be known from the event)."""
        detail = event["detail"]
        where = "detail"
        instance_type = detail.get("InstanceType", DEFAULT_INSTANCE_TYPE)
        if not is_instance_type(instance_type):
            raise ScenarioError(
                f"{where}.InstanceType: {str(instance_type)[:40]!r} is not a notebook instance type"
            )
        tags = detail.get("Tags") or {}
        if not isinstance(tags, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
        ):
            raise ScenarioError(f"{where}.Tags: must map strings to strings")
        config = detail.get("NotebookInstanceLifecycleConfigName")
        return ResourceSpec(
            kind=cls.kind,
            id=ref.id,
            tags=dict(tags),
            kind_spec=NotebookSpec(
                instance_type=instance_type,
                activity_signal=isinstance(config, str) and bool(config),
            ),
            start_event=dict(event),
        )

    # -- what a user (the scenario) does ------------------------------------------------------
    def life(self, resource_id: str) -> NotebookLife | None:
        return self.lives.get(resource_id)

    def start(self, account: Account, spec: ResourceSpec, emit: Emit) -> None:
        """CreateNotebookInstance as its user calls it (with the lifecycle configuration when
        the signal is attached); SageMaker's InService event is emitted when it gets there."""
        notebook = _notebook_spec(spec)
        self._emits[spec.id], self._specs[spec.id] = emit, spec
        request: dict[str, Any] = {
            "NotebookInstanceName": spec.id,
            "InstanceType": notebook.instance_type,
            "RoleArn": NOTEBOOK_ROLE.format(account=account.account_id),
            "Tags": [{"Key": k, "Value": v} for k, v in spec.tags.items()],
        }
        if notebook.activity_signal:
            request["LifecycleConfigName"] = LIFECYCLE_CONFIG
        account.clients["sagemaker"].create_notebook_instance(**request)

    def schedule(self, origin: datetime, spec: ResourceSpec) -> None:
        """Its `activity` as busy kernel periods (narrated on the timeline as they happen)."""
        self._specs.setdefault(spec.id, spec)
        work = [(busy.at, busy.runs) for busy in spec.activity]
        self._work[spec.id] = (origin, work)
        for busy in spec.activity:
            self.clock.at(origin + busy.at, partial(self._kernel, spec.id, busy.runs))

    def _kernel(self, name: str, runs: timedelta) -> None:
        """Narrate a busy period when it really begins (after InService) and ends."""
        life = self.lives.get(name)
        if life is None or life.ended_at is not None:
            return
        if life.in_service_at is None:  # still Pending: the user waits for the notebook
            ready = life.created_at + timedelta(seconds=PENDING_SECONDS)
            self.clock.at(ready, partial(self._kernel, name, runs))
            return
        self._on_change(name, "kernel-busy", f"kernel busy for {runs}")

        def idle() -> None:
            if life.ended_at is None:
                self._on_change(name, "kernel-idle", "kernel idle")

        self.clock.at(self.clock.now() + runs, idle)

    def user_stop(self, resource_id: str) -> bool:
        """The user stops their own notebook; False when it was not InService (SageMaker
        refuses the stop then)."""
        notebook = self._notebook(resource_id)
        if notebook is None or notebook.status != "InService":
            return False
        self._actor.name = "user"
        try:
            self._stop(notebook)
        finally:
            self._actor.name = None
        return True

    def status(self, name: str) -> str | None:
        notebook = self._notebook(name)
        return str(notebook.status) if notebook is not None else None

    def narrate(self, what: str, text: str) -> str:
        return _TIMELINE_WORDS.get(what, "{text}").format(text=text)

    # -- the service's own behaviour ---------------------------------------------------------
    def _created(self, notebook: Any) -> None:
        now = self.clock.now()
        notebook.status = "Pending"
        notebook.creation_time = notebook.last_modified_time = now
        notebook.arn = (
            notebook.arn.rsplit("/", 1)[0] + "/" + notebook.notebook_instance_name.lower()
        )
        name = notebook.notebook_instance_name
        price = price_per_hour(notebook.region_name, notebook.instance_type, "notebook")
        origin, work = self._work.get(name, (None, []))
        life = NotebookLife(
            id=name,
            created_at=now,
            cost_per_hour=price,
            instance_type=notebook.instance_type,
            signal=bool(notebook.lifecycle_config_name),
            now=self.clock.now,
            work=list(work),
            origin=origin,
        )
        self.lives[name] = life
        shown = "price unknown" if price is None else f"${price:.2f}/h"
        signal = "" if life.signal else ", no activity signal"
        self._on_change(name, "created", f"created ({notebook.instance_type}, {shown}{signal})")
        self.clock.at(now + timedelta(seconds=PENDING_SECONDS), partial(self._in_service, notebook))

    def _in_service(self, notebook: Any) -> None:
        if notebook.status != "Pending":
            return
        now = self.clock.now()
        notebook.status, notebook.last_modified_time = "InService", now
        name = notebook.notebook_instance_name
        life = self.lives[name]
        life.in_service_at = now
        self._on_change(name, "in-service", "InService")
        emit = self._emits.get(name)
        if emit is not None:
            emit(state_change(notebook, self._account))

    def _stop(self, notebook: Any) -> None:
        """InService only, as SageMaker allows: Stopping now, Stopped a minute later."""
        from moto.sagemaker.exceptions import ValidationError

        if notebook.status != "InService":
            raise ValidationError(
                message=f"Status ({notebook.status}) not in ([InService]). Unable to transition "
                f"to (Stopping) for Notebook Instance ({notebook.arn})."
            )
        now = self.clock.now()
        notebook.status, notebook.last_modified_time = "Stopping", now
        life = self.lives[notebook.notebook_instance_name]
        life.ended_at, life.ended_by = now, getattr(self._actor, "name", None) or "reaper"
        self._on_change(life.id, "ended", life.ended_by)

        def stopped() -> None:
            if notebook.status == "Stopping":
                notebook.status, notebook.last_modified_time = "Stopped", self.clock.now()

        self.clock.at(now + timedelta(seconds=STOPPING_SECONDS), stopped)

    def _notebook(self, name: str) -> Any:
        backend = self._backend
        return backend.notebook_instances.get(name) if backend is not None else None

    # -- the API surface moto gets wrong ---------------------------------------------------------
    def installed(self, account_id: str, region: str) -> AbstractContextManager[None]:
        from moto.backends import get_backend

        self._account = account_id
        return self.on(get_backend("sagemaker")[account_id][region])

    @contextmanager
    def on(self, backend: Any) -> Iterator[None]:
        """Install the emulator into moto's SageMaker for the duration of the block."""
        from moto.core.responses import ActionResult, EmptyResult
        from moto.sagemaker import models, responses
        from moto.sagemaker.exceptions import ValidationError

        self._backend = backend
        self._account = self._account or backend.account_id
        emulator = self
        model = models.FakeSagemakerNotebookInstance
        original_init = model.__init__
        cls = responses.SageMakerResponse
        originals = {name: getattr(cls, name) for name in ("list_tags", "add_tags", "delete_tags")}

        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            emulator._actor.creating = True
            try:
                original_init(self, *args, **kwargs)
            finally:
                emulator._actor.creating = False
            emulator._created(self)

        def validate_instance_type(self: Any, instance_type: str) -> None:
            if not is_instance_type(instance_type):
                raise ValidationError(
                    message=f"Value '{instance_type}' at 'instanceType' failed to satisfy "
                    "constraint: Member must satisfy enum value set"
                )

        def stop(self: Any) -> None:
            emulator._stop(self)

        def start(self: Any) -> None:
            if getattr(emulator._actor, "creating", False):  # moto's __init__: Pending first
                return
            raise ValidationError(
                message="StartNotebookInstance is not emulated: the local runtime gives each "
                "notebook instance one run"
            )

        def tagged(response: Any) -> Any:
            """The notebook a tagging call's ResourceArn names; None: not one (moto's turn)."""
            arn = response._get_param("ResourceArn")
            if not isinstance(arn, str) or ":notebook-instance/" not in arn:
                return None
            for notebook in response.sagemaker_backend.notebook_instances.values():
                if notebook.arn == arn:
                    return notebook
            return None

        def list_tags(self: Any) -> Any:
            notebook = tagged(self)
            if notebook is None:
                return originals["list_tags"](self)
            life = emulator.lives.get(notebook.notebook_instance_name)
            stored = {t["Key"]: t["Value"] for t in notebook.tags}
            merged = {**stored, **(life.signal_tags() if life else {})}
            pairs = [{"Key": k, "Value": v} for k, v in merged.items()]
            begin = int(self._get_param("NextToken") or 0)
            out: dict[str, Any] = {"Tags": pairs[begin : begin + TAGS_PAGE_SIZE]}
            if begin + TAGS_PAGE_SIZE < len(pairs):
                out["NextToken"] = str(begin + TAGS_PAGE_SIZE)
            return ActionResult(out)

        def add_tags(self: Any) -> Any:
            notebook = tagged(self)
            if notebook is None:
                return originals["add_tags"](self)
            merged = {t["Key"]: t["Value"] for t in notebook.tags}
            merged.update({t["Key"]: t.get("Value", "") for t in self._get_param("Tags") or []})
            notebook.tags = [{"Key": k, "Value": v} for k, v in merged.items()]
            return ActionResult({"Tags": notebook.tags})

        def delete_tags(self: Any) -> Any:
            notebook = tagged(self)
            if notebook is None:
                return originals["delete_tags"](self)
            gone = set(self._get_param("TagKeys") or [])
            notebook.tags = [t for t in notebook.tags if t["Key"] not in gone]
            return EmptyResult()

        with ExitStack() as stack:
            stack.enter_context(mock.patch.object(model, "__init__", init))
            stack.enter_context(mock.patch.object(model, "start", start))
            stack.enter_context(mock.patch.object(model, "stop", stop))
            stack.enter_context(
                mock.patch.object(model, "validate_instance_type", validate_instance_type)
            )
            for name, fn in {
                "list_tags": list_tags,
                "add_tags": add_tags,
                "delete_tags": delete_tags,
            }.items():
                stack.enter_context(mock.patch.object(cls, name, fn))
            yield


def state_change(notebook: Any, account: str) -> dict[str, Any]:
    """SageMaker's native event for the notebook's status now, in the shape SageMaker sends
    (times in epoch milliseconds, tags as a map)."""
    now = notebook.last_modified_time
    detail: dict[str, Any] = {
        "NotebookInstanceArn": notebook.arn,
        "NotebookInstanceName": notebook.notebook_instance_name,
        "NotebookInstanceStatus": notebook.status,
        "InstanceType": notebook.instance_type,
        "RoleArn": notebook.role_arn,
        "DirectInternetAccess": notebook.direct_internet_access,
        "VolumeSizeInGB": notebook.volume_size_in_gb,
        "LastModifiedTime": _ms(notebook.last_modified_time),
        "CreationTime": _ms(notebook.creation_time),
        "Tags": {t["Key"]: t["Value"] for t in notebook.tags},
    }
    if notebook.lifecycle_config_name:
        detail["NotebookInstanceLifecycleConfigName"] = notebook.lifecycle_config_name
    return {
        "version": "0",
        "id": f"sagemaker-{notebook.notebook_instance_name}-{_ms(now)}",
        "detail-type": DETAIL_TYPE,
        "source": "aws.sagemaker",
        "account": account,
        "time": _stamp(now),
        "region": notebook.region_name,
        "resources": [notebook.arn],
        "detail": detail,
    }


@cache
def _instance_types() -> frozenset[str]:
    """The instance types SageMaker's API model lists for a notebook instance."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return frozenset(getattr(model.shape_for("InstanceType"), "enum", ()))


def is_instance_type(value: object) -> bool:
    return isinstance(value, str) and value in _instance_types()


def _notebook_spec(spec: ResourceSpec) -> NotebookSpec:
    if spec.kind_spec is None:
        return NotebookSpec()
    if not isinstance(spec.kind_spec, NotebookSpec):
        raise TypeError(f"{spec.id}: a sagemaker-notebook needs a NotebookSpec")
    return spec.kind_spec


def _whole_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ms(moment: datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)
