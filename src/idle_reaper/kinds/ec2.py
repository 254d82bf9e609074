"""Amazon EC2 instances, watched only when their owner opted in by tag.

Stopping an unlabelled server is never a default: an instance is judged only when it carries
`idle-reaper:opt-in=true`, key and value exactly as written (the state machine's StopInstances
permission is conditioned on the same tag with StringEquals, which compares the value
case-sensitively; IAM matches the key name in any case, so a differently cased key is a near
miss here, on the safe side); any other instance is `unwatchable` and its watch ends exempt at
once, with a hint when a tag nearly matches.

Some opted-in instances are still never stopped here, each `unwatchable` with a reason that
tells the owner what to do instead: a member of an Auto Scaling group (Auto Scaling tags each
one `aws:autoscaling:groupName`; its default health check counts an instance that is not
running as unhealthy, then terminates and replaces it, and the replacement may carry the
opt-in tag: a stop/replace loop), a Spot Instance (InstanceLifecycle `spot`: EC2 stops one only
when a persistent Spot request launched it, and the capacity may not be there to start it
again), and an instance a service manages (DescribeInstances' Operator.Managed: EKS Auto Mode's
nodes, for one). EKS managed node groups, ECS capacity providers and AWS Batch compute
environments launch their instances through Auto Scaling groups or Spot, so the same rules
cover them; no other tag is taken as a sign of management.

The idle signal is the instance's own CloudWatch basic monitoring (namespace AWS/EC2, dimension
InstanceId, 5-minute periods): CPUUtilization (Average, percent) and NetworkIn + NetworkOut
(Sum, bytes), read in one GetMetricData call over the idle window. A period is busy when its
traffic reaches `network_idle_bytes` or its CPU reaches the lower of `cpu_idle_percent` and half
of one vCPU's worth (50 / vCPUs percent, the vCPUs from DescribeInstances' CpuOptions:
CoreCount x ThreadsPerCore; without them, `cpu_idle_percent` alone): CPUUtilization is the
average over every vCPU, so one pegged core of a 96-vCPU instance reads about 1%. The instance
is idle since the end of its latest busy period (its LaunchTime when none was busy: EC2 sets
LaunchTime at every start, so a stop and start is a new watch). Each period's datapoint is
complete a while after the period ends (METRIC_LAG, the kind's `signal_lag`): the look that
stops comes that long after the deadline, so it finds every period up to the deadline
published. A period that should have been published but has no datapoint is never taken as
idle: the activity is `unreadable` and the watcher looks again RECHECK_MINUTES later.

What this signal cannot see:
- work begun after the deadline the warning announced: the look that stops comes METRIC_LAG
  later and reads the metrics up to the deadline, so work begun in those last minutes is not
  yet in them (the warning says the deadline; work begun before it keeps the instance);
- work that uses less than half of one vCPU on average over a period (a single-threaded job
  that mostly waits, a process throttled to a fraction of a core), unless its traffic shows;
- work that is neither CPU nor network: a GPU kernel (CPUUtilization does not count the GPU),
  disk-only I/O (EBS reports to AWS/EBS), a process blocked on memory or a lock;
- a person in an interactive shell: keystrokes are a few KB and no CPU;
- a burst shorter than a period whose average stays under the threshold (a 10-second spike to
  100% is 3% over 5 minutes);
- on a Nitro instance the datapoint of a period is published after its first sample and updated
  with each later one: a period METRIC_LAG past its end is taken as complete.

Stopping erases an instance store (NVMe or HDD volumes on the host): for an instance type of a
family that has one (INSTANCE_STORE_FAMILIES) the observation carries a note, which the warning
repeats. The price is the On-Demand Linux one only when DescribeInstances says the instance is
exactly that (ec2_prices.listed_price); otherwise it is unknown, never a guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from idle_reaper.exceptions import PolicyError, ResourceReadError
from idle_reaper.kinds.base import MAX_LIST_PAGES, Look, ResourceKind, Sighting
from idle_reaper.kinds.ec2_prices import listed_price
from idle_reaper.kinds.registry import register
from idle_reaper.partition import console_host, is_region
from idle_reaper.policy import int_setting
from idle_reaper.resource import Home, Observation, Phase, ResourceRef, is_account, json_object
from idle_reaper.times import moment_of, to_iso

DETAIL_TYPE = "EC2 Instance State-change Notification"
INSTANCE_ID = re.compile(r"i-[0-9a-f]{8}(?:[0-9a-f]{9})?")
"""EC2 instance ids: `i-` and 8 (older) or 17 hexadecimal digits."""
OPT_IN_TAG_KEY = "idle-reaper:opt-in"
"""EC2 tag keys are at most 128 characters."""

PHASES: dict[str, Phase] = {
    "pending": "starting",
    "running": "billing",
    "stopping": "ended",
    "stopped": "ended",
    "shutting-down": "ended",
    "terminated": "ended",
}
"""EC2's instance states (EC2 User Guide, instance lifecycle); a state not listed here is
taken as `starting`: it cannot be stopped yet."""
RUNNING_STATES = ("pending", "running")
"""What the sweeper lists: an instance that bills (running) or is about to (pending); its
LaunchTime, the start of its run, is set once for both."""
LIST_PAGE_SIZE = 1000
"""DescribeInstances' MaxResults allows 5 to 1000."""
NOT_FOUND = frozenset({"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"})

PERIOD = timedelta(minutes=5)
"""Basic monitoring's period: one datapoint per metric every 5 minutes."""
METRIC_LAG = timedelta(minutes=5)
"""How long after a period ends its datapoint is taken as complete and due. AWS documents no
bound: a Xen instance reports the period at its end, a Nitro instance updates it with each
sample until then, and CloudWatch makes it readable minutes later. A later datapoint only makes
the activity `unreadable` for a while (never idle). It is the kind's `signal_lag`: the look
that stops comes this long after the deadline, when every period up to the deadline is in, so
work begun before the deadline (after the warning too) is seen."""
RECHECK_MINUTES = 5
"""While a period is missing: look again one period later."""
LOOKBACK_GRID = timedelta(hours=1)
"""The query starts on a whole hour at least the idle window, the lag and one period back, so
the latest busy period stays in view between the warning and the stop; an instance idle for
the whole query is idle since its start, which stays put from one look to the next (a second
warning can only come when a look crosses the hour)."""
MAX_PAGES = 50
"""GetMetricData pages read per look; more than this is a broken answer, not data."""
METRICS = (
    ("cpu", "CPUUtilization", "Average"),
    ("net_in", "NetworkIn", "Sum"),
    ("net_out", "NetworkOut", "Sum"),
)
"""(query id, metric name, statistic): what one period says about the instance."""
MAX_EPOCH = 10**11
"""Epoch seconds up to the year 5138: a larger or stranger number is no time at all."""
MAX_CPU_PERCENT = 100
MAX_NETWORK_IDLE_BYTES = 10**12
HALF_A_VCPU_PERCENT = 50.0
"""Half of one vCPU's worth of CPUUtilization on a one-vCPU instance: divided by the vCPUs, the
least average CPU a period needs to count as busy, whatever `cpu_idle_percent` says."""
MAX_VCPUS = 4096
"""More vCPUs than any instance type has (the largest have a few hundred): a larger count is a
broken answer, read as no count at all."""

AUTOSCALING_TAG_PREFIX = "aws:autoscaling:"
"""The prefix of the tags Auto Scaling puts on every instance it launches (`groupName`); AWS
reserves `aws:` tag keys, so no one else can set them."""
AUTOSCALING_GROUP_TAG = "aws:autoscaling:groupName"
SHOWN_NAME = 64
"""Characters of a group's or a service's name quoted in a reason (tag values run to 256)."""

INSTANCE_STORE_FAMILIES = frozenset(
    {
        *("c1", "c3", "c5ad", "c5d", "c6gd", "c6id", "c7gd", "c8gd", "c8id", "c9gd"),
        *("d2", "d3", "d3en", "f2", "h1", "hpc6id", "x1", "x1e", "x2gd", "x2idn", "x2iedn"),
        *("g4dn", "g5", "g6", "g6e", "g6f", "g7", "g7e", "gr6", "gr6f"),
        *("i2", "i3", "i3en", "i4g", "i4i", "i7i", "i7ie", "i8g", "i8ge", "im4gn", "is4gen"),
        *("m1", "m2", "m3", "m5ad", "m5d", "m5dn", "m6gd", "m6id", "m6idn", "m7gd", "m8gd"),
        *("m8id", "m8idb", "m8idn", "m9gd", "mac-m4", "mac-m4pro", "x8aedz", "z1d"),
        *("p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "p6-b300"),
        *("r3", "r5ad", "r5d", "r5dn", "r6gd", "r6id", "r6idn", "r7gd", "r8gd", "r8id"),
        *("r8idb", "r8idn", "r9gd", "trn1", "trn1n", "trn2", "trn2u"),
    }
)
"""Instance families whose types come with instance store volumes: every type EC2's
DescribeInstanceTypes lists with InstanceStorageSupported (as moto 5.2.5 ships that answer;
within a family all types agree). EC2 User Guide, instance store data persistence: the data
does not persist when the instance is stopped, hibernated or terminated; every block is
cryptographically erased."""
INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]{0,24}\.[a-z0-9-]{1,24}")
"""An instance type as EC2 names it (`m5d.large`, `p6-b200.48xlarge`, `mac-m4.metal`)."""


@dataclass(frozen=True)
class Ec2Settings:
    """The EC2 kind's own deployed settings (template parameters, Ec2* in template.yaml)."""

    cpu_idle_percent: int = 5
    """Average CPUUtilization over a period below which the instance counts as idle."""
    network_idle_bytes: int = 1_000_000
    """NetworkIn + NetworkOut bytes in a period below which it counts as idle. An idle server
    is never silent: the SSM and CloudWatch agents, NTP, DHCP and update checks exchange tens
    of KB per 5 minutes; a download, a git clone or served traffic is MBs."""
    opt_in_tag_key: str = OPT_IN_TAG_KEY
    """The tag that opts an instance in: fixed, because template.yaml conditions the stop
    permission on this literal key (CloudFormation cannot put a parameter in a condition key),
    and a key that differed would watch instances the state machine may not stop."""


def settings_from_env(env: Mapping[str, str]) -> Ec2Settings:
    """Ec2Settings from EC2_CPU_IDLE_PERCENT and EC2_NETWORK_IDLE_BYTES; PolicyError naming the
    variable for a bad value."""
    cpu = int_setting(env, "EC2_CPU_IDLE_PERCENT", 5, 1)
    if cpu > MAX_CPU_PERCENT:
        raise PolicyError(f"EC2_CPU_IDLE_PERCENT={cpu} is above {MAX_CPU_PERCENT}")
    network = int_setting(env, "EC2_NETWORK_IDLE_BYTES", 1_000_000, 1)
    if network > MAX_NETWORK_IDLE_BYTES:
        raise PolicyError(f"EC2_NETWORK_IDLE_BYTES={network} is above {MAX_NETWORK_IDLE_BYTES}")
    return Ec2Settings(cpu_idle_percent=cpu, network_idle_bytes=network)


@register
class Ec2Instance(ResourceKind):
    name = "ec2-instance"
    service = "ec2"
    idle_minutes_env = "EC2_IDLE_MINUTES"
    enabled_env = "EC2_ENABLED"
    default_idle_minutes = 60
    read_permissions = ("ec2:DescribeInstances", "cloudwatch:GetMetricData")
    stop_permissions = ("ec2:StopInstances",)
    list_permissions = ("ec2:DescribeInstances",)
    stop_resource_arn = "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*"
    keep_permissions = ("ec2:CreateTags",)
    signal_lag = METRIC_LAG
    stopping_statuses = frozenset({"stopping", "stopped"})
    # EC2's one error name (Ec2.Ec2Exception) is a throttle, a refusal or a server error
    # alike: none is taken as a stop that landed (only a timeout is)
    """EC2's API model declares no error shapes, so Step Functions names every EC2 error (not
    found, IncorrectInstanceState, throttling, an IAM refusal) Ec2.Ec2Exception: the watcher
    looks again a minute later and Inspect decides (gone, already stopping, or stop again)."""

    def settings_from(self, env: Mapping[str, str]) -> Ec2Settings:
        return settings_from_env(env)

    def identify(self, event: Mapping[str, Any]) -> ResourceRef | None:
        """EC2's native state-change event, for the `running` state only. Every field is
        checked for its type and shape: a hostile or broken event names no resource."""
        if event.get("source") != "aws.ec2" or event.get("detail-type") != DETAIL_TYPE:
            return None
        detail = json_object(event.get("detail"))
        instance_id, region, account = (
            detail.get("instance-id"),
            event.get("region"),
            event.get("account"),
        )
        if (
            detail.get("state") != "running"
            or not is_instance_id(instance_id)
            or not is_region(region)
            or not is_account(account)
        ):
            return None
        # The native event names nobody: the owner comes from the instance's `owner` tag.
        return ResourceRef(
            kind=self.name, id=str(instance_id), region=str(region), account=str(account)
        )

    def observe(self, ref: ResourceRef, look: Look) -> Observation:
        if not is_instance_id(ref.id):  # a hand-made reference: no instance can have this id
            return Observation(phase="missing", status="invalid-id")
        instance = _describe(look.client("ec2"), ref.id)
        if instance is None:
            return Observation(phase="missing", status="not-found")
        raw_state = json_object(instance.get("State")).get("Name")
        status = raw_state if isinstance(raw_state, str) else "unknown"
        phase = PHASES.get(status, "starting")
        tags = _tags(instance)
        started = moment_of(instance.get("LaunchTime"))
        instance_type = instance.get("InstanceType")
        store = instance_store_note(instance_type)
        seen = Observation(
            phase=phase,
            status=status,
            started_at=started,
            tags=tags,
            cost_per_hour=listed_price(
                ref.region,
                instance_type,
                platform_details=instance.get("PlatformDetails"),
                tenancy=json_object(instance.get("Placement")).get("Tenancy"),
                lifecycle=instance.get("InstanceLifecycle"),
            ),
            arn=instance_arn(ref),
            own_idle_timeout_minutes=None,  # EC2 never stops an idle instance by itself
            notes=(store,) if store else (),
        )
        if phase != "billing" and phase != "starting":
            return seen
        settings = _settings(look, self)
        refusal = stop_problem(instance, tags) or opt_in_problem(tags, settings.opt_in_tag_key)
        if refusal is not None:
            return replace(seen, unwatchable=refusal)
        if phase != "billing":
            return seen
        if started is None:
            return replace(seen, unreadable="DescribeInstances gave no LaunchTime")
        # the resource's own allowance (a policy rule may set it): the metrics read back that far
        own = look.policy.for_resource(self.name, tags, ref.account)
        idle_minutes, _ = own.idle_minutes_for(self.name, tags)
        reading = read_activity(
            look.client("cloudwatch"),
            ref.id,
            started,
            look.now,
            idle_minutes,
            settings,
            vcpus=vcpu_count(instance),
        )
        return replace(
            seen,
            last_activity_at=reading.last_activity_at,
            unreadable=reading.missing,
            signal_lag=self.signal_lag,
        )

    def running(self, client: Callable[[str], Any], home: Home) -> Iterator[Sighting]:
        """Pending and running instances tagged with the opt-in tag, filtered by EC2 itself
        (tag:<key> and instance-state-name), every page. The tag is checked again exactly as
        observe() reads it; started_at is LaunchTime, as observe() reads it."""
        pages = client(self.service).get_paginator("describe_instances")
        filters = [
            {"Name": f"tag:{OPT_IN_TAG_KEY}", "Values": ["true"]},
            {"Name": "instance-state-name", "Values": list(RUNNING_STATES)},
        ]
        config = {"PageSize": LIST_PAGE_SIZE}
        try:
            for count, page in enumerate(
                pages.paginate(Filters=filters, PaginationConfig=config), start=1
            ):
                if count > MAX_LIST_PAGES:
                    raise ResourceReadError(f"DescribeInstances: more than {MAX_LIST_PAGES} pages")
                reservations = json_object(page).get("Reservations")
                for reservation in reservations if isinstance(reservations, list) else []:
                    instances = json_object(reservation).get("Instances")
                    for instance in instances if isinstance(instances, list) else []:
                        sighting = self._sighting(json_object(instance), home)
                        if sighting is not None:
                            yield sighting
        except (ClientError, BotoCoreError) as exc:
            raise ResourceReadError(f"DescribeInstances: {exc}") from exc

    def _sighting(self, instance: Mapping[str, Any], home: Home) -> Sighting | None:
        """A listed instance that is opted in and running, or None (malformed items too)."""
        instance_id = instance.get("InstanceId")
        state = json_object(instance.get("State")).get("Name")
        if (
            state not in RUNNING_STATES
            or not is_instance_id(instance_id)
            or _tags(instance).get(OPT_IN_TAG_KEY) != "true"
        ):
            return None
        ref = ResourceRef(
            kind=self.name, id=str(instance_id), region=home.region, account=home.account
        )
        return Sighting(ref=ref, started_at=moment_of(instance.get("LaunchTime")))

    def write_tags(
        self, ref: ResourceRef, seen: Observation, tags: Mapping[str, str], client: Any
    ) -> None:
        """CreateTags on this one instance (the permission also requires its opt-in tag)."""
        client.create_tags(
            Resources=[ref.id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
        )

    def console_url(self, ref: ResourceRef) -> str | None:
        host = console_host(ref.region)
        if host is None or not is_instance_id(ref.id):
            return None
        return f"https://{host}/ec2/home?region={ref.region}#InstanceDetails:instanceId={ref.id}"


def is_instance_id(value: object) -> bool:
    return isinstance(value, str) and INSTANCE_ID.fullmatch(value) is not None


def instance_arn(ref: ResourceRef) -> str:
    """The instance's ARN in its own partition (what the stop permission is scoped to)."""
    return f"arn:{ref.partition}:ec2:{ref.region}:{ref.account}:instance/{ref.id}"


def opt_in_problem(tags: Mapping[str, str], key: str) -> str | None:
    """Why an instance is not opted in (None when `key` is exactly `true`); a tag that nearly
    matches (`True`, ` true`, `Idle-Reaper:Opt-In`) gets a hint, as IAM would refuse it too."""
    wanted = f"{key}=true"
    if tags.get(key) == "true":
        return None
    for tag, value in sorted(tags.items()):
        if _folded(tag) == _folded(key):
            return (
                f"not opted in: the tag {tag[:64]!r}={value[:64]!r} is not {wanted!r}: the key and"
                " the value are read exactly as written (the stop permission compares the value"
                f" case-sensitively); tag the instance {wanted} to have it stopped when idle"
            )
    return (
        f"not opted in: only EC2 instances tagged {wanted} are watched; tag the instance"
        f" {wanted} to have it stopped when idle"
    )


def stop_problem(instance: Mapping[str, Any], tags: Mapping[str, str]) -> str | None:
    """Why stopping this instance would not do what its owner wants, opted in or not (the
    module says which instances); None when a stop is only a stop."""
    operator = json_object(instance.get("Operator"))
    if operator.get("Managed") is True:
        principal = operator.get("Principal")
        service = (
            repr(principal[:SHOWN_NAME])
            if isinstance(principal, str) and principal
            else "an AWS service"
        )
        return (
            f"managed by {service}: that service launches, replaces and ends its instances, so"
            f" the reaper never stops it; scale it down through {service} instead"
        )
    if any(key.startswith(AUTOSCALING_TAG_PREFIX) for key in tags):
        group = tags.get(AUTOSCALING_GROUP_TAG)
        named = f" {group[:SHOWN_NAME]!r}" if group else ""
        return (
            f"a member of the Auto Scaling group{named}: Auto Scaling counts a stopped member as"
            " unhealthy, terminates it and launches a replacement, so the reaper never stops it;"
            " stop it by scaling the group (lower its desired capacity, to 0 for all of it)"
        )
    if instance.get("InstanceLifecycle") == "spot":
        return (
            "a Spot Instance: EC2 stops one only when a persistent Spot request launched it, and"
            " the capacity may not be there to start it again, so the reaper never stops it;"
            " terminate it (or cancel its Spot request) when it is no longer needed"
        )
    return None


def vcpu_count(instance: Mapping[str, Any]) -> int | None:
    """The instance's vCPUs from its CpuOptions (CoreCount x ThreadsPerCore); None when they
    are absent or not two sane counts."""
    options = json_object(instance.get("CpuOptions"))
    cores, threads = _count(options.get("CoreCount")), _count(options.get("ThreadsPerCore"))
    if cores is None or threads is None or cores * threads > MAX_VCPUS:
        return None
    return cores * threads


def busy_cpu_percent(settings: Ec2Settings, vcpus: int | None) -> float:
    """The average CPUUtilization from which a period is busy: `cpu_idle_percent`, or half of
    one vCPU's worth when that is lower (the module says why)."""
    if vcpus is None:
        return float(settings.cpu_idle_percent)
    return min(float(settings.cpu_idle_percent), HALF_A_VCPU_PERCENT / vcpus)


def instance_store_note(instance_type: object) -> str | None:
    """What a stop costs beyond the instance, for a type with instance store volumes."""
    if not isinstance(instance_type, str) or INSTANCE_TYPE.fullmatch(instance_type) is None:
        return None
    if instance_type.split(".", 1)[0] not in INSTANCE_STORE_FAMILIES:
        return None
    return (
        f"its type {instance_type} has instance store volumes: a stop erases them (EC2 wipes"
        " every block), so keep what must outlive a stop on EBS or S3"
    )


@dataclass(frozen=True)
class Reading:
    """What the metrics say: since when the instance is idle, or which period is missing."""

    last_activity_at: datetime | None = None
    missing: str | None = None


def read_activity(
    cloudwatch: Any,
    instance_id: str,
    started: datetime,
    now: datetime,
    idle_minutes: int,
    settings: Ec2Settings,
    vcpus: int | None = None,
) -> Reading:
    """Read the periods since the query start and find the latest busy one (see the module);
    `vcpus` lowers the CPU threshold of a large instance (`busy_cpu_percent`)."""
    start = query_start(started, now, idle_minutes)
    end = _floor(now) + PERIOD  # the period in progress too: partial data can show work
    series, problem = metric_data(cloudwatch, instance_id, start, end)
    if problem is not None:
        return Reading(missing=problem)
    cpu_threshold = busy_cpu_percent(settings, vcpus)
    busy_until: datetime | None = None
    for period in _periods(start, end):
        if _busy(series, period, cpu_threshold, settings.network_idle_bytes):
            busy_until = period + PERIOD
    anchor = busy_until or (started if started >= start else start)
    for period in _periods(start, end):
        due = period + PERIOD + METRIC_LAG
        if period + PERIOD <= anchor or due > now:
            continue
        absent = [name for key, name, _ in METRICS if period not in series[key]]
        if absent:
            return Reading(
                missing=f"no {' or '.join(absent)} datapoint for the 5 minutes from "
                f"{to_iso(period)} (due by {to_iso(due)})"
            )
    return Reading(last_activity_at=anchor)


def query_start(started: datetime, now: datetime, idle_minutes: int) -> datetime:
    """The first period to read: the one the instance started in, or a whole hour far enough
    back to hold the idle window, the lag and one period (LOOKBACK_GRID says why)."""
    back = now - timedelta(minutes=idle_minutes) - METRIC_LAG - PERIOD
    hour = back.replace(minute=0, second=0, microsecond=0)
    return min(max(_floor(started), hour), _floor(now))


Series = dict[str, dict[datetime, float]]
"""Query id -> period start -> value."""


def metric_data(
    cloudwatch: Any, instance_id: str, start: datetime, end: datetime
) -> tuple[Series, str | None]:
    """Every page of one GetMetricData call for the instance's three metrics, and why the
    answer cannot be used (an InternalError or Forbidden result, endless pages) if so."""
    series: Series = {key: {} for key, _, _ in METRICS}
    token: str | None = None
    for _ in range(MAX_PAGES):
        kwargs: dict[str, Any] = {
            "MetricDataQueries": _queries(instance_id),
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        if token:
            kwargs["NextToken"] = token
        try:
            page = cloudwatch.get_metric_data(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise ResourceReadError(f"GetMetricData {instance_id}: {exc}") from exc
        for result in page.get("MetricDataResults") or []:
            problem = _add(series, result)
            if problem is not None:
                return series, problem
        token = page.get("NextToken")
        if not token:
            return series, None
    return series, f"GetMetricData gave more than {MAX_PAGES} pages"


def _queries(instance_id: str) -> list[dict[str, Any]]:
    return [
        {
            "Id": key,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/EC2",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "InstanceId", "Value": instance_id}],
                },
                "Period": int(PERIOD.total_seconds()),
                "Stat": stat,
            },
            "ReturnData": True,
        }
        for key, metric, stat in METRICS
    ]


def _add(series: Series, result: Mapping[str, Any]) -> str | None:
    """Put one MetricDataResult's datapoints in `series`; why not, for a failed result."""
    key = result.get("Id")
    if key not in series:
        return None
    status = result.get("StatusCode")
    if status in ("InternalError", "Forbidden"):
        return f"GetMetricData answered {status} for {key}"
    stamps, values = result.get("Timestamps") or [], result.get("Values") or []
    if not isinstance(stamps, list) or not isinstance(values, list) or len(stamps) != len(values):
        return f"GetMetricData answered timestamps and values that do not pair up for {key}"
    for stamp, value in zip(stamps, values, strict=True):
        moment = moment_of(stamp)
        if moment is not None and isinstance(value, int | float) and not isinstance(value, bool):
            series[str(key)][_floor(moment)] = float(value)
    return None


def _busy(series: Series, period: datetime, cpu_percent: float, network_bytes: int) -> bool:
    """Work shows in the period: either metric over its threshold (one is enough, so a partial
    or half-missing period can be busy, never idle)."""
    cpu = series["cpu"].get(period)
    traffic = [series[key][period] for key in ("net_in", "net_out") if period in series[key]]
    return (cpu is not None and cpu >= cpu_percent) or (
        bool(traffic) and sum(traffic) >= network_bytes
    )


def _periods(start: datetime, end: datetime) -> Iterator[datetime]:
    period = start
    while period < end:
        yield period
        period += PERIOD


def _floor(moment: datetime) -> datetime:
    """The start of the 5-minute clock period a moment falls in."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)


def _describe(ec2: Any, instance_id: str) -> Mapping[str, Any] | None:
    """The instance, or None when EC2 says it does not exist (or no longer lists it)."""
    try:
        page = ec2.describe_instances(InstanceIds=[instance_id])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in NOT_FOUND:
            return None
        raise ResourceReadError(f"DescribeInstances {instance_id}: {exc}") from exc
    except BotoCoreError as exc:
        raise ResourceReadError(f"DescribeInstances {instance_id}: {exc}") from exc
    for reservation in page.get("Reservations") or []:
        for instance in json_object(reservation).get("Instances") or []:
            if json_object(instance).get("InstanceId") == instance_id:
                return json_object(instance)
    return None


def _tags(instance: Mapping[str, Any]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for tag in instance.get("Tags") or []:
        key, value = json_object(tag).get("Key"), json_object(tag).get("Value")
        if isinstance(key, str) and isinstance(value, str):
            tags[key] = value
    return tags


def _count(value: object) -> int | None:
    """A positive whole number that is not a bool (JSON's true is no core count)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_VCPUS:
        return value
    return None


def _settings(look: Look, kind: ResourceKind) -> Ec2Settings:
    found = look.settings(kind)
    return found if isinstance(found, Ec2Settings) else Ec2Settings()


def _folded(text: str) -> str:
    """How a person reads a tag key: full-width letters, case and stray spaces aside."""
    return unicodedata.normalize("NFKC", text).strip().casefold()
