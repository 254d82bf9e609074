"""Emulated EC2 instances with a life on the virtual clock, and the CloudWatch metrics they
publish.

moto's EC2 starts an instance `running` at once, stops it `stopped` at once, keeps its first
LaunchTime through a stop and start, describes no CpuOptions and no PlatformDetails (and gives a
Linux instance the Platform `Linux/UNIX`, where EC2 gives Platform only to Windows), and
publishes no metrics. Here each instance is described as EC2 describes it (CpuOptions: its
type's default cores and threads per core, from moto's copy of DescribeInstanceTypes;
PlatformDetails `Windows` for a Windows AMI, else `Linux/UNIX`: scenarios launch IMAGE_ID, plain
Amazon Linux, and moto's AMIs do not say which licence a Linux AMI carries), RunInstances leaves the
instance `pending` for PENDING_SECONDS, then `running` (EC2's state-change event for `running`
is emitted then, as EC2 sends it); StopInstances goes `stopping`, then `stopped`
STOPPING_SECONDS later; StartInstances sets LaunchTime again (EC2: "the time that the instance
was last launched"). The emulator keeps the billing record the summary reads: when it was
launched, when it stopped billing and who stopped it (reaper: a StopInstances over the API,
from the watcher; user: the scenario's own stop).

CloudWatch basic monitoring, computed when asked: real AWS refuses PutMetricData into an AWS/
namespace, and writing every period of every instance into moto's backend would make a week of
1,000 instances crawl (moto's GetMetricData scans every datapoint it holds, for every query).
So GetMetricData queries for AWS/EC2 metrics of an emulated instance are answered here, from
the instance's running time and its scenario `activity`: one sample a minute while it runs,
each readable PUBLISH_LAG after its minute ends, gathered into one datapoint per 5-minute
clock period (as Nitro instances publish: a period's datapoint appears with its first sample
and grows). CPUUtilization is the average over all the instance's vCPUs, as CloudWatch reports
it: idle, its agents keep AGENTS_VCPU_PERCENT of one vCPU busy (`cpu_when_idle`); working,
`work_vcpus` vCPUs run at 100% besides (`cpu_when_working`: one busy core of a 96-vCPU
instance is about 1%). Network is BUSY_BYTES_PER_MINUTE each way while it works (unless
`work_network` is false) and IDLE_BYTES_PER_MINUTE otherwise.

Queries are answered as CloudWatch answers them, where moto does not: StartTime rounded down to
the minute and periods counted from it, EndTime exclusive, only periods with data,
Average/Sum/Minimum/Maximum/SampleCount, ScanBy, and MaxDatapoints with NextToken (pages of at
most `page_size` datapoints, so the kind's pagination always runs; moto returns everything at
once and matches a dimension without its namespace). Any other query goes to moto.
Simplification: basic monitoring's periods follow each instance's own start; here they follow
the clock.

Also here: the kind's scenario keys (`instance_type`; `work_vcpus`, how many vCPUs its work
keeps busy, 1 by default: a single-threaded job; `work_network`, whether its work moves data,
true by default), what its user does (RunInstances with the scenario's tags; work;
StopInstances), and the instance a recorded state-change event replays.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from unittest import mock

from idle_reaper.kinds.ec2 import DETAIL_TYPE, METRIC_LAG, is_instance_id
from idle_reaper.kinds.ec2_prices import price_per_hour
from idle_reaper.times import to_iso
from local_runtime.emulators.base import Emit, Emulator, Life
from local_runtime.emulators.registry import register
from local_runtime.errors import ScenarioError
from local_runtime.scenario import KindSpec, ResourceSpec

if TYPE_CHECKING:
    from idle_reaper.resource import ResourceRef
    from local_runtime.clock import VirtualClock
    from local_runtime.runtime import Account

DEFAULT_INSTANCE_TYPE = "m5.large"
IMAGE_ID = "ami-04681a1dbd79675a5"
"""An Amazon Linux 2 AMI moto ships (x86_64, HVM); EC2 needs one to launch anything."""
LINUX_PLATFORM_DETAILS = "Linux/UNIX"
WINDOWS_PLATFORM_DETAILS = "Windows"
"""PlatformDetails EC2 gives an instance of a plain Linux or Windows AMI (EC2 User Guide, AMI
billing information fields)."""
PENDING_SECONDS = 15
STOPPING_SECONDS = 30
PUBLISH_LAG = METRIC_LAG - timedelta(minutes=1)
"""A minute's sample is readable this long after the minute: a period is complete a minute
before the kind takes it as due (no race on the boundary)."""
SAMPLE = timedelta(minutes=1)
FIVE_MINUTES = timedelta(minutes=5)
"""Basic monitoring's period: one datapoint per metric every 5 minutes."""
AGENTS_VCPU_PERCENT = 2.0
"""How much of one vCPU an idle instance's agents (SSM, CloudWatch), NTP and DHCP use: 1%
CPUUtilization on a 2-vCPU instance, 0.02% on a 96-vCPU one."""
IDLE_BYTES_PER_MINUTE = 4_000.0
"""Each way: an idle server's agents, NTP and DHCP (20 KB per 5 minutes)."""
BUSY_BYTES_PER_MINUTE = 5_000_000.0
"""Each way: a build, a download, served traffic."""
STATES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64}
STATES["stopped"] = 80
STATISTICS = frozenset({"Average", "Sum", "Minimum", "Maximum", "SampleCount"})
MAX_DATAPOINTS = 100_800
"""GetMetricData's default and largest MaxDatapoints."""
_TIMELINE_WORDS = {
    "launched": "{text}",
    "running": "instance running",
    "work-started": "{text}",
    "work-finished": "{text}",
    "ended": "billing ended ({text})",
    "refused": "{text}",
}


@dataclass(frozen=True)
class Ec2Spec(KindSpec):
    """An instance as a scenario asks for it: its RunInstances, and what its work does."""

    instance_type: str = DEFAULT_INSTANCE_TYPE
    work_vcpus: int = 1
    """vCPUs each `activity` period keeps at 100% (1: a single-threaded job)."""
    work_network: bool = True
    """Whether the work also moves data (a build, a download); false: CPU only."""


@dataclass
class Span:
    """A stretch of time; `end` None while it lasts."""

    start: datetime
    end: datetime | None = None

    def overlap(self, start: datetime, end: datetime, now: datetime) -> float:
        """Seconds of [start, end) inside this span, as far as it has happened by `now`."""
        until = min(self.end or now, now, end)
        return max(0.0, (until - max(self.start, start)).total_seconds())


@dataclass(kw_only=True)
class InstanceLife(Life):
    """What happened to one instance (`id` is its instance id); `ended_by` is reaper
    (StopInstances over the API) or user."""

    scenario_id: str
    instance_type: str
    vcpus: int = 2
    """Its type's default vCPUs (what its CpuOptions say)."""
    work_vcpus: int = 1
    work_network: bool = True
    running: list[Span] = field(default_factory=list)
    """When it ran (a start after a stop adds one)."""
    work: list[Span] = field(default_factory=list)
    """When its user kept it busy."""

    @property
    def busy(self) -> bool:
        """Work is running in a running instance."""
        return self.ended_at is None and any(w.end is None for w in self.work)

    @property
    def last_activity_at(self) -> datetime:
        """When its last work ended; its launch until it has done any."""
        return max([self.created_at, *(w.end for w in self.work if w.end is not None)])


@register
class Ec2Emulator(Emulator):
    """EC2 instances with the life and the metrics moto does not give them (the module says
    how)."""

    kind = "ec2-instance"
    services = ("ec2", "cloudwatch")
    keys = frozenset({"instance_type", "work_vcpus", "work_network"})
    page_size = 50
    """Datapoints per GetMetricData page: small, so the kind's pagination always runs."""

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__(clock)
        self.lives: dict[str, InstanceLife] = {}
        """By scenario id (an instance's own id when it was launched outside a scenario)."""
        self.instances: dict[str, InstanceLife] = {}
        """The same lives, by instance id."""
        self.faults: dict[str, list[str]] = {}
        self._emits: dict[str, Emit] = {}
        self._clients: dict[str, Any] = {}
        self._actor = threading.local()
        self._launching: tuple[str, str | None] | None = None
        """(scenario id, the instance id to give) while `start` runs RunInstances."""
        self._specs: dict[str, Ec2Spec] = {}
        """By scenario id: what its work does."""
        self._backend: Any = None

    def fail_next(self, operation: str, *error_codes: str) -> None:
        """Make the next calls of an EC2 operation (`StopInstances`, `DescribeInstances`) fail
        with these error codes (throttling: RequestLimitExceeded)."""
        self.faults.setdefault(operation, []).extend(error_codes)

    def _fault(self, operation: str) -> None:
        from moto.ec2.exceptions import EC2ClientError

        pending = self.faults.get(operation)
        if pending:
            code = pending.pop(0)
            raise EC2ClientError(code, f"{operation} failed: {code} (scripted fault)")

    # -- scenarios and replays ----------------------------------------------------------------
    @classmethod
    def parse(cls, item: Mapping[str, Any], where: str, at: timedelta) -> Ec2Spec:
        instance_type = _instance_type(
            item.get("instance_type", DEFAULT_INSTANCE_TYPE), f"{where}.instance_type"
        )
        vcpus = default_vcpus(instance_type)
        work_vcpus = item.get("work_vcpus", 1)
        if not isinstance(work_vcpus, int) or isinstance(work_vcpus, bool):
            raise ScenarioError(f"{where}.work_vcpus: {work_vcpus!r:.40} is not a whole number")
        if not 1 <= work_vcpus <= vcpus:
            raise ScenarioError(
                f"{where}.work_vcpus: {work_vcpus} is not between 1 and the {vcpus} vCPUs of"
                f" {instance_type}"
            )
        work_network = item.get("work_network", True)
        if not isinstance(work_network, bool):
            raise ScenarioError(f"{where}.work_network: {work_network!r:.40} is not true or false")
        return Ec2Spec(
            instance_type=instance_type, work_vcpus=work_vcpus, work_network=work_network
        )

    @classmethod
    def spec_from_start_event(cls, event: Mapping[str, Any], ref: ResourceRef) -> ResourceSpec:
        """The instance a recorded `running` event names, under its own id. The event says
        neither its type nor its tags: the default type, no tags (so not opted in)."""
        return ResourceSpec(kind=cls.kind, id=ref.id, kind_spec=Ec2Spec(), start_event=dict(event))

    # -- what a user (the scenario) does ------------------------------------------------------
    def life(self, resource_id: str) -> InstanceLife | None:
        return self.lives.get(resource_id)

    def resource_id(self, spec: ResourceSpec) -> str:
        """The instance id EC2 gives the scenario's instance (`instance_id_for`), which the
        watcher and every reaper event name it by."""
        return instance_id_for(spec.id)

    def start(self, account: Account, spec: ResourceSpec, emit: Emit) -> None:
        """RunInstances as its user calls it, with the scenario's tags; EC2's `running` event
        follows once the instance runs."""
        ec2 = account.clients["ec2"]
        request: dict[str, Any] = {
            "ImageId": IMAGE_ID,
            "MinCount": 1,
            "MaxCount": 1,
            "InstanceType": _ec2_spec(spec).instance_type,
        }
        if spec.tags:
            request["TagSpecifications"] = [
                {
                    "ResourceType": "instance",
                    "Tags": [{"Key": k, "Value": v} for k, v in spec.tags.items()],
                }
            ]
        self._specs[spec.id] = _ec2_spec(spec)
        self._launching = (spec.id, instance_id_for(spec.id))
        try:
            (instance,) = ec2.run_instances(**request)["Instances"]
        finally:
            self._launching = None
        self._emits[instance["InstanceId"]] = emit
        self._clients[spec.id] = ec2

    def schedule(self, origin: datetime, spec: ResourceSpec) -> None:
        """Its `activity`: CPU and network busy from `at` for `runs`."""
        for busy in spec.activity:
            begin = origin + busy.at
            self.clock.at(begin, partial(self._work, spec.id, begin + busy.runs))

    def user_stop(self, resource_id: str) -> bool:
        """StopInstances as the user calls it; False when the instance no longer ran."""
        life = self.lives.get(resource_id)
        ec2 = self._clients.get(resource_id)
        if life is None or ec2 is None or life.ended_at is not None:
            return False
        self._actor.name = "user"
        try:
            ec2.stop_instances(InstanceIds=[life.id])
        finally:
            self._actor.name = None
        return True

    def narrate(self, what: str, text: str) -> str:
        return _TIMELINE_WORDS.get(what, "{text}").format(text=text)

    def _work(self, resource_id: str, until: datetime) -> None:
        life = self.lives.get(resource_id)
        if life is None or life.ended_at is not None:
            self._on_change(resource_id, "refused", "work not started: the instance is not up")
            return
        span = Span(self.clock.now())
        life.work.append(span)
        minutes = (until - span.start).total_seconds() / 60
        what = f"{life.work_vcpus} of {life.vcpus} vCPUs" + (
            " and network" if life.work_network else ""
        )
        told = f"work starts: {what} busy for {minutes:g} min"
        self._on_change(resource_id, "work-started", told)

        def finish() -> None:
            if span.end is None:
                span.end = self.clock.now()
                self._on_change(resource_id, "work-finished", "work finished: idle from now")

        self.clock.at(until, finish)

    # -- the service's own behaviour ---------------------------------------------------------
    def _launched(self, instance: Any) -> None:
        """A new instance: pending, then running; its billing record from now."""
        now = self.clock.now()
        scenario_id = self._launching[0] if self._launching else instance.id
        spec = self._specs.get(scenario_id, Ec2Spec())
        instance._state.name, instance._state.code = "pending", STATES["pending"]
        instance.launch_time = _moto_time(now)  # RunInstances' own moment (moto's is the same)
        _describe_as_ec2(instance)
        life = InstanceLife(
            id=instance.id,
            scenario_id=scenario_id,
            created_at=now,
            cost_per_hour=price_per_hour(instance.region_name, instance.instance_type),
            instance_type=instance.instance_type,
            vcpus=default_vcpus(instance.instance_type),
            work_vcpus=spec.work_vcpus,
            work_network=spec.work_network,
        )
        self.lives[scenario_id] = self.instances[instance.id] = life
        price = "price unknown" if life.cost_per_hour is None else f"${life.cost_per_hour:g}/h"
        self._on_change(
            scenario_id,
            "launched",
            f"launched {instance.id} ({instance.instance_type}, {price}), pending",
        )
        self.clock.at(now + timedelta(seconds=PENDING_SECONDS), partial(self._running, instance))

    def _running(self, instance: Any) -> None:
        if instance._state.name != "pending":
            return
        instance._state.name, instance._state.code = "running", STATES["running"]
        life = self.instances[instance.id]
        life.running.append(Span(self.clock.now()))
        self._on_change(life.scenario_id, "running", "running")
        emit = self._emits.get(instance.id)
        if emit is not None:
            emit(self.state_change(instance, "running"))

    def state_change(self, instance: Any, state: str) -> dict[str, Any]:
        """EC2's "EC2 Instance State-change Notification", as EventBridge delivers it."""
        backend = self._backend
        arn = f"arn:aws:ec2:{backend.region_name}:{backend.account_id}:instance/{instance.id}"
        return {
            "version": "0",
            "id": _event_id(instance.id, state, self.clock.now()),
            "detail-type": DETAIL_TYPE,
            "source": "aws.ec2",
            "account": backend.account_id,
            "time": to_iso(self.clock.now()),
            "region": backend.region_name,
            "resources": [arn],
            "detail": {"instance-id": instance.id, "state": state},
        }

    def _stopping(self, instance: Any, previous: str) -> None:
        """StopInstances landed: `stopping` now, `stopped` a little later; billing ends."""
        if previous in ("stopping", "stopped", "shutting-down", "terminated"):
            instance._state.name, instance._state.code = previous, STATES[previous]
            return
        instance._state.name, instance._state.code = "stopping", STATES["stopping"]
        life = self.instances.get(instance.id)
        if life is not None:
            now = self.clock.now()
            for span in (*life.running, *life.work):
                span.end = span.end or now
            life.ended_at, life.ended_by = now, getattr(self._actor, "name", None) or "reaper"
            self._on_change(life.scenario_id, "ended", life.ended_by)

        def stopped() -> None:
            if instance._state.name == "stopping":
                instance._state.name, instance._state.code = "stopped", STATES["stopped"]

        self.clock.at(self.clock.now() + timedelta(seconds=STOPPING_SECONDS), stopped)

    def _started(self, instance: Any) -> None:
        """StartInstances: EC2 sets LaunchTime again; pending, then running."""
        instance._state.name, instance._state.code = "pending", STATES["pending"]
        instance.launch_time = _moto_time(self.clock.now())
        self.clock.at(
            self.clock.now() + timedelta(seconds=PENDING_SECONDS), partial(self._running, instance)
        )

    # -- CloudWatch basic monitoring ----------------------------------------------------------
    def samples(
        self, life: InstanceLife, metric: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, float]]:
        """(minute, value) for each readable one-minute sample in [start, end)."""
        now = self.clock.now()
        out: list[tuple[datetime, float]] = []
        minute = start
        while minute < end:
            after = minute + SAMPLE
            if after + PUBLISH_LAG > now:
                break
            ran = sum(s.overlap(minute, after, now) for s in life.running)
            if ran > 0:
                worked = min(ran, sum(w.overlap(minute, after, now) for w in life.work))
                idle = ran - worked
                if metric == "CPUUtilization":
                    busy = cpu_when_working(life.vcpus, life.work_vcpus)
                    value = (cpu_when_idle(life.vcpus) * idle + busy * worked) / ran
                else:
                    moved = BUSY_BYTES_PER_MINUTE if life.work_network else IDLE_BYTES_PER_MINUTE
                    value = (IDLE_BYTES_PER_MINUTE * idle + moved * worked) / 60
                out.append((minute, value))
            minute = after
        return out

    def datapoints(
        self,
        life: InstanceLife,
        metric: str,
        stat: str,
        start: datetime,
        end: datetime,
        period: int,
    ) -> list[tuple[datetime, float]]:
        """A query's datapoints: the 5-minute datapoints whose timestamps fall in each of its
        periods (counted from `start`), aggregated as CloudWatch aggregates statistic sets."""
        if metric not in ("CPUUtilization", "NetworkIn", "NetworkOut") or stat not in STATISTICS:
            return []
        first, last = _floor5(start), _floor5(end - timedelta(microseconds=1)) + FIVE_MINUTES
        raw: dict[datetime, list[float]] = {}  # a datapoint stamped before `end` counts whole
        for minute, value in self.samples(life, metric, first, last):
            stamp = _floor5(minute)
            if stamp >= start:
                raw.setdefault(stamp, []).append(value)
        out: list[tuple[datetime, float]] = []
        step = timedelta(seconds=period)
        bucket = start
        while bucket < end:
            values = [v for stamp, vs in raw.items() if bucket <= stamp < bucket + step for v in vs]
            if values:
                out.append((bucket, _statistic(stat, values)))
            bucket += step
        return out

    def _answers(self, query: Mapping[str, Any]) -> InstanceLife | None:
        """The emulated instance an AWS/EC2 MetricStat query is about, if any."""
        metric = (query.get("MetricStat") or {}).get("Metric") or {}
        dimensions = metric.get("Dimensions") or []
        if metric.get("Namespace") != "AWS/EC2" or len(dimensions) != 1:
            return None
        (dimension,) = dimensions
        if dimension.get("Name") != "InstanceId":
            return None
        return self.instances.get(str(dimension.get("Value")))

    def get_metric_data(self, params: Mapping[str, Any], others: Any) -> dict[str, Any]:
        """GetMetricData as CloudWatch answers it (the module says where moto does not);
        `others(queries)` answers the queries that are not about an emulated instance."""
        from moto.cloudwatch.exceptions import ValidationError

        start, end = _utc(params["StartTime"]), _utc(params["EndTime"])
        start = start.replace(second=0, microsecond=0)  # within 15 days: to the minute
        if start >= end:
            raise ValidationError("The parameter StartTime must be less than EndTime.")
        scan = params.get("ScanBy") or "TimestampDescending"
        queries = list(params.get("MetricDataQueries") or [])
        points: list[tuple[str, datetime, float]] = []
        mine = {id(q): self._answers(q) for q in queries}
        for query in queries:
            life = mine[id(query)]
            if life is None:
                continue
            stat = query["MetricStat"]
            for stamp, value in self.datapoints(
                life,
                stat["Metric"]["MetricName"],
                stat["Stat"],
                start,
                end,
                int(stat["Period"]),
            ):
                points.append((query["Id"], stamp, value))
        points.sort(key=lambda p: p[1], reverse=scan == "TimestampDescending")
        limit = min(int(params.get("MaxDatapoints") or MAX_DATAPOINTS), self.page_size)
        token = params.get("NextToken")
        offset = int(token) if isinstance(token, str) and token.isdigit() else 0
        if token is not None and not (isinstance(token, str) and token.isdigit()):
            raise ValidationError(f"The NextToken {str(token)[:40]!r} is not valid.")
        page, more = points[offset : offset + limit], offset + limit < len(points)
        results: list[dict[str, Any]] = []
        for query in queries:
            if mine[id(query)] is None or not query.get("ReturnData", True):
                continue
            mine_points = [(s, v) for key, s, v in page if key == query["Id"]]
            results.append(
                {
                    "Id": query["Id"],
                    "Label": query.get("Label") or query["MetricStat"]["Metric"]["MetricName"],
                    "Timestamps": [s for s, _ in mine_points],
                    "Values": [v for _, v in mine_points],
                    "StatusCode": "PartialData" if more else "Complete",
                }
            )
        rest = [q for q in queries if mine[id(q)] is None]
        if rest and offset == 0:
            results.extend(others(rest))
        out: dict[str, Any] = {"MetricDataResults": results, "Messages": []}
        if more:
            out["NextToken"] = str(offset + limit)
        return out

    # -- installed into moto ------------------------------------------------------------------
    def installed(self, account_id: str, region: str) -> AbstractContextManager[None]:
        from moto.backends import get_backend

        return self.on(get_backend("ec2")[account_id][region])

    @contextmanager
    def on(self, backend: Any) -> Iterator[None]:
        """Install the emulator into moto's EC2 (this account and region) and CloudWatch."""
        from moto.cloudwatch import responses as cloudwatch
        from moto.core.responses import ActionResult
        from moto.ec2.models import instances
        from moto.ec2.responses.instances import InstanceResponse
        from moto.ec2.utils import random_instance_id

        self._backend = backend
        emulator = self
        cls = instances.InstanceBackend
        original_run, original_stop = cls.run_instances, cls.stop_instances
        original_start, original_by_ids = cls.start_instances, cls.get_multi_instances_by_id
        original_describe = InstanceResponse.describe_instances
        original_metrics = cloudwatch.CloudWatchResponse.get_metric_data

        def ours(ec2: Any) -> bool:
            return bool(ec2 is backend)

        def instance_id() -> str:
            wanted = emulator._launching[1] if emulator._launching else None
            return wanted or random_instance_id()

        def run_instances(ec2: Any, *args: Any, **kwargs: Any) -> Any:
            reservation = original_run(ec2, *args, **kwargs)
            if ours(ec2):
                for instance in reservation.instances:
                    emulator._launched(instance)
            return reservation

        def stop_instances(ec2: Any, instance_ids: list[str]) -> Any:
            if ours(ec2):
                emulator._fault("StopInstances")
            before = {i.id: i._state.name for i in original_by_ids(ec2, instance_ids)}
            stopped = original_stop(ec2, instance_ids)
            if ours(ec2):
                for instance, previous in stopped:
                    emulator._stopping(instance, before.get(instance.id, previous.name))
            return stopped

        def start_instances(ec2: Any, instance_ids: list[str]) -> Any:
            started = original_start(ec2, instance_ids)
            if ours(ec2):
                for instance, previous in started:
                    if previous.name == "stopped":
                        emulator._started(instance)
                    else:  # EC2 leaves a pending or running instance as it is
                        instance._state.name = previous.name
                        instance._state.code = STATES.get(previous.name, previous.code)
            return started

        def describe_instances(response: Any) -> Any:
            if ours(response.ec2_backend):
                emulator._fault("DescribeInstances")
            return original_describe(response)

        def get_metric_data(response: Any) -> Any:
            params = response._get_params()
            if not any(emulator._answers(q) for q in params.get("MetricDataQueries") or []):
                return original_metrics(response)

            def others(queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
                return list(
                    response.cloudwatch_backend.get_metric_data(
                        queries=queries,
                        start_time=params["StartTime"],
                        end_time=params["EndTime"],
                        scan_by=params.get("ScanBy") or "TimestampDescending",
                    )
                )

            return ActionResult(emulator.get_metric_data(params, others))

        with ExitStack() as stack:
            stack.enter_context(mock.patch(f"{instances.__name__}.random_instance_id", instance_id))
            stack.enter_context(mock.patch.object(cls, "run_instances", run_instances))
            stack.enter_context(mock.patch.object(cls, "stop_instances", stop_instances))
            stack.enter_context(mock.patch.object(cls, "start_instances", start_instances))
            stack.enter_context(
                mock.patch.object(InstanceResponse, "describe_instances", describe_instances)
            )
            stack.enter_context(
                mock.patch.object(cloudwatch.CloudWatchResponse, "get_metric_data", get_metric_data)
            )
            yield


def instance_id_for(scenario_id: str) -> str:
    """The instance id a scenario's resource gets: its own when it is one (a replayed event's
    instance keeps its id), else one derived from it, so a run is the same every time."""
    if is_instance_id(scenario_id):
        return scenario_id
    return "i-0" + hashlib.sha256(scenario_id.encode()).hexdigest()[:16]


def cpu_when_idle(vcpus: int) -> float:
    """CPUUtilization of an idle instance: its agents' share of one vCPU, over all of them."""
    return AGENTS_VCPU_PERCENT / vcpus


def cpu_when_working(vcpus: int, work_vcpus: int) -> float:
    """CPUUtilization while `work_vcpus` vCPUs run at 100% and the agents run beside them."""
    return min(100.0, (100.0 * work_vcpus + AGENTS_VCPU_PERCENT) / vcpus)


def default_vcpus(instance_type: str) -> int:
    """A type's vCPUs by default (DescribeInstanceTypes' VCpuInfo, as moto ships it); 2 for a
    type moto does not list (an instance launched outside a scenario)."""
    cores, threads = _default_cpu(instance_type)
    return cores * threads


def _default_cpu(instance_type: str) -> tuple[int, int]:
    from moto.ec2.models.instance_types import INSTANCE_TYPES

    info = (INSTANCE_TYPES.get(instance_type) or {}).get("VCpuInfo") or {}
    cores, threads = info.get("DefaultCores"), info.get("DefaultThreadsPerCore")
    if isinstance(cores, int) and isinstance(threads, int) and cores > 0 and threads > 0:
        return cores, threads
    return 1, 2


def _describe_as_ec2(instance: Any) -> None:
    """What DescribeInstances says of an instance that moto leaves out or says otherwise:
    CpuOptions (its type's defaults: RunInstances here asks for none), PlatformDetails and
    UsageOperation from its AMI, and Platform only for Windows."""
    cores, threads = _default_cpu(instance.instance_type)
    instance.cpu_options = {"CoreCount": cores, "ThreadsPerCore": threads}
    windows = str(getattr(instance, "platform", "") or "").lower() == "windows"
    instance.platform = "windows" if windows else None
    instance.platform_details = WINDOWS_PLATFORM_DETAILS if windows else LINUX_PLATFORM_DETAILS
    instance.usage_operation = "RunInstances:0002" if windows else "RunInstances"


def _instance_type(value: Any, where: str) -> str:
    """A type EC2 has (moto's list of them): a price is not needed (unknown = no cost)."""
    from moto.ec2.models.instance_types import INSTANCE_TYPES

    if not isinstance(value, str) or value not in INSTANCE_TYPES:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise ScenarioError(f"{where}: {shown} is not an EC2 instance type (such as m5.large)")
    return value


def _ec2_spec(spec: ResourceSpec) -> Ec2Spec:
    if spec.kind_spec is None:
        return Ec2Spec()
    if not isinstance(spec.kind_spec, Ec2Spec):
        raise TypeError(f"{spec.id}: an ec2-instance needs an Ec2Spec, not {spec.kind_spec!r}")
    return spec.kind_spec


def _statistic(stat: str, values: list[float]) -> float:
    if stat == "Average":
        return sum(values) / len(values)
    if stat == "Sum":
        return sum(values)
    if stat == "Minimum":
        return min(values)
    if stat == "Maximum":
        return max(values)
    return float(len(values))


def _floor5(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _moto_time(moment: datetime) -> datetime:
    """LaunchTime as moto keeps it: a naive UTC datetime."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _event_id(instance_id: str, state: str, at: datetime) -> str:
    digest = hashlib.sha256(f"{instance_id}|{state}|{at.isoformat()}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
