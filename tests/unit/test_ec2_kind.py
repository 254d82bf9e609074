"""The EC2 kind against fake EC2 and CloudWatch clients: the start event, the opt-in tag, and
how the CloudWatch periods become a last activity (or an unreadable signal)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from idle_reaper.exceptions import PolicyError, ResourceReadError
from idle_reaper.kinds import kind_named
from idle_reaper.kinds.base import Look
from idle_reaper.kinds.ec2 import (
    INSTANCE_STORE_FAMILIES,
    INSTANCE_TYPE,
    METRIC_LAG,
    PERIOD,
    RECHECK_MINUTES,
    Ec2Instance,
    Ec2Settings,
    busy_cpu_percent,
    opt_in_problem,
    query_start,
    settings_from_env,
)
from idle_reaper.kinds.ec2_prices import (
    ON_DEMAND_LINUX_USD_PER_HOUR,
    listed_price,
    price_per_hour,
)
from idle_reaper.policy import Policy
from idle_reaper.resource import Home, ResourceRef
from idle_reaper.verdict import decide
from tests.conftest import load_event

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
IID = "i-0a1b2c3d4e5f60718"
REF = ResourceRef(kind="ec2-instance", id=IID, region="us-east-1", account="123456789012")
KIND = Ec2Instance()
OPTED_IN = {"idle-reaper:opt-in": "true", "owner": "dana@example.com"}
BUSY = {"cpu": 60.0, "net_in": 5e6, "net_out": 5e6}
IDLE = {"cpu": 1.0, "net_in": 20e3, "net_out": 20e3}


class FakeEc2:
    """DescribeInstances for one instance, or the error EC2 would answer. By default an
    On-Demand Linux m5.large on shared hardware (1 core x 2 threads), as EC2 describes one;
    `extra` adds or replaces fields (None removes one)."""

    def __init__(
        self,
        state: str = "running",
        tags: dict[str, str] | None = None,
        launched: datetime = T0,
        instance_type: str = "m5.large",
        error: str | None = None,
        cpu: tuple[Any, Any] | None = (1, 2),
        **extra: Any,
    ) -> None:
        self.state, self.launched, self.instance_type = state, launched, instance_type
        self.tags = dict(OPTED_IN if tags is None else tags)
        self.error = error
        self.cpu = cpu
        self.extra = extra
        self.calls = 0

    def describe_instances(self, InstanceIds: list[str]) -> dict[str, Any]:
        self.calls += 1
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "x"}}, "DescribeInstances")
        instance: dict[str, Any] = {
            "InstanceId": InstanceIds[0],
            "InstanceType": self.instance_type,
            "LaunchTime": self.launched,
            "State": {"Code": 16, "Name": self.state},
            "Tags": [{"Key": k, "Value": v} for k, v in self.tags.items()],
            "PlatformDetails": "Linux/UNIX",
            "UsageOperation": "RunInstances",
            "Placement": {"AvailabilityZone": "us-east-1a", "Tenancy": "default"},
        }
        if self.cpu is not None:
            instance["CpuOptions"] = {"CoreCount": self.cpu[0], "ThreadsPerCore": self.cpu[1]}
        for key, value in self.extra.items():
            if value is None:
                instance.pop(key, None)
            else:
                instance[key] = value
        return {"Reservations": [{"Instances": [instance]}]}


class FakeCloudWatch:
    """GetMetricData as CloudWatch answers the kind's query: datapoints per period start,
    only those published by `now` (a period is published METRIC_LAG after it ends unless
    `published` says otherwise), ascending, `page_size` datapoints a page."""

    def __init__(
        self,
        periods: dict[datetime, dict[str, float]],
        now: datetime,
        page_size: int = 100_800,
        status: str = "Complete",
    ) -> None:
        self.periods, self.now, self.page_size, self.status = periods, now, page_size, status
        self.calls: list[dict[str, Any]] = []

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        start, end = kwargs["StartTime"], kwargs["EndTime"]
        assert start < end
        points: list[tuple[str, datetime, float]] = []
        for query in kwargs["MetricDataQueries"]:
            stat = query["MetricStat"]
            assert stat["Metric"]["Namespace"] == "AWS/EC2"
            assert stat["Metric"]["Dimensions"] == [{"Name": "InstanceId", "Value": IID}]
            assert stat["Period"] == 300
            wanted = {"CPUUtilization": "Average", "NetworkIn": "Sum", "NetworkOut": "Sum"}
            assert stat["Stat"] == wanted[stat["Metric"]["MetricName"]]
            for period, values in sorted(self.periods.items()):
                published = period + PERIOD + METRIC_LAG <= self.now
                if start <= period < end and published and query["Id"] in values:
                    points.append((query["Id"], period, values[query["Id"]]))
        offset = int(kwargs.get("NextToken") or 0)
        page = points[offset : offset + self.page_size]
        results = {
            q["Id"]: {"Id": q["Id"], "Timestamps": [], "Values": []}
            for q in kwargs["MetricDataQueries"]
        }
        for key, period, value in page:
            results[key]["Timestamps"].append(period)
            results[key]["Values"].append(value)
        more = offset + self.page_size < len(points)
        for result in results.values():
            result["StatusCode"] = "PartialData" if more else self.status
        out: dict[str, Any] = {"MetricDataResults": list(results.values())}
        if more:
            out["NextToken"] = str(offset + self.page_size)
        return out


def periods(
    start: datetime, count: int, busy_at: frozenset[int] = frozenset()
) -> dict[datetime, dict[str, float]]:
    """`count` periods from `start`, busy at the given indexes, idle otherwise."""
    return {start + i * PERIOD: dict(BUSY if i in busy_at else IDLE) for i in range(count)}


def look(
    ec2: FakeEc2, cloudwatch: FakeCloudWatch | None = None, now: datetime = T0, **env: str
) -> Look:
    clients = {"ec2": ec2, "cloudwatch": cloudwatch or FakeCloudWatch({}, now)}
    return Look(client=lambda service: clients[service], policy=Policy.from_env(env), now=now)


# -- the start event -----------------------------------------------------------------------------
def test_the_running_state_change_names_the_instance_and_nobody() -> None:
    ref = KIND.identify(load_event("ec2-instance-running.json"))

    assert ref == ResourceRef(
        kind="ec2-instance", id=IID, region="us-east-1", account="123456789012", principal=None
    )
    assert kind_named("ec2-instance") is not None


@pytest.mark.parametrize("name", ["ec2-instance-pending.json", "ec2-instance-stopped.json"])
def test_other_states_name_no_instance(name: str) -> None:
    assert KIND.identify(load_event(name)) is None


def test_an_event_from_another_account_names_an_instance_this_stack_does_not_own() -> None:
    ref = KIND.identify(load_event("ec2-instance-running-other-account.json"))

    assert ref is not None and ref.account == "210987654321"
    assert not Home(partition="aws", region="us-east-1", account="123456789012").owns(ref)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("detail", "instance-id"), "i-0A1B2C3D4E5F60718"),  # upper case is not EC2's
        (("detail", "instance-id"), "i-0a1b2c3d4"),  # neither 8 nor 17 digits
        (("detail", "instance-id"), "i-0a1b2c3d4e5f60718/../x"),
        (("detail", "instance-id"), "i-0a1b2c3d4e5f60718\n"),
        (("detail", "instance-id"), ["i-0a1b2c3d4e5f60718"]),
        (("detail", "instance-id"), None),
        (("detail", "state"), "Running"),
        (("detail", "state"), ["running"]),
        (("detail",), "running"),
        (("detail",), None),
        (("region",), "us-east-1\n"),
        (("region",), "mars-north-1"),
        (("region",), {"name": "us-east-1"}),
        (("account",), "12345678901"),
        (("account",), 123456789012),
        (("source",), "aws.ec2 "),
        (("source",), ["aws.ec2"]),
        (("detail-type",), "EC2 Instance State-change notification"),
    ],
)
def test_a_hostile_or_broken_event_names_nothing_and_never_raises(
    path: tuple[str, ...], value: Any
) -> None:
    event = copy.deepcopy(load_event("ec2-instance-running.json"))
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value

    assert KIND.identify(event) is None


def test_an_eight_digit_instance_id_is_an_instance() -> None:
    event = copy.deepcopy(load_event("ec2-instance-running.json"))
    event["detail"]["instance-id"] = "i-0123abcd"

    ref = KIND.identify(event)

    assert ref is not None and ref.id == "i-0123abcd"


# -- reading the instance ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("state", "phase"),
    [
        ("pending", "starting"),
        ("running", "billing"),
        ("stopping", "ended"),
        ("stopped", "ended"),
        ("shutting-down", "ended"),
        ("terminated", "ended"),
        ("rebooting-someday", "starting"),
    ],
)
def test_instance_states_are_phases(state: str, phase: str) -> None:
    cloudwatch = FakeCloudWatch({}, T0)

    seen = KIND.observe(REF, look(FakeEc2(state=state), cloudwatch))

    assert (seen.phase, seen.status) == (phase, state)
    assert seen.started_at == T0 and seen.own_idle_timeout_minutes is None
    assert seen.arn == f"arn:aws:ec2:us-east-1:123456789012:instance/{IID}"
    assert seen.tags == OPTED_IN
    assert bool(cloudwatch.calls) == (phase == "billing")  # metrics only for a running one


@pytest.mark.parametrize("code", ["InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"])
def test_an_instance_ec2_does_not_know_is_missing(code: str) -> None:
    assert KIND.observe(REF, look(FakeEc2(error=code))).phase == "missing"


def test_a_reference_that_is_no_instance_id_is_missing_without_asking() -> None:
    ec2 = FakeEc2()
    bad = ResourceRef(kind="ec2-instance", id="web-1", region="us-east-1", account="123456789012")

    assert KIND.observe(bad, look(ec2)).phase == "missing"
    assert ec2.calls == 0


@pytest.mark.parametrize("code", ["RequestLimitExceeded", "UnauthorizedOperation"])
def test_a_throttled_or_refused_describe_is_a_read_error(code: str) -> None:
    with pytest.raises(ResourceReadError, match="DescribeInstances"):
        KIND.observe(REF, look(FakeEc2(error=code)))


def test_a_refused_metric_read_is_a_read_error() -> None:
    class Refusing(FakeCloudWatch):
        def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "x"}}, "GetMetricData")

    with pytest.raises(ResourceReadError, match="GetMetricData"):
        KIND.observe(REF, look(FakeEc2(), Refusing({}, T0)))


# -- the opt-in tag ------------------------------------------------------------------------------
def test_an_instance_without_the_tag_is_unwatchable_and_its_metrics_are_not_read() -> None:
    cloudwatch = FakeCloudWatch(periods(T0, 12), T0 + timedelta(hours=1))

    seen = KIND.observe(
        REF, look(FakeEc2(tags={"owner": "x"}), cloudwatch, T0 + timedelta(hours=1))
    )

    assert seen.unwatchable is not None and "idle-reaper:opt-in=true" in seen.unwatchable
    assert cloudwatch.calls == []
    verdict = decide(KIND.name, seen, Policy.from_env({}), T0 + timedelta(hours=1))
    assert (verdict.action, verdict.outcome) == ("done", "exempt")


@pytest.mark.parametrize(
    "tags",
    [
        {"idle-reaper:opt-in": "True"},
        {"idle-reaper:opt-in": " true"},
        {"idle-reaper:opt-in": "yes"},
        {"Idle-Reaper:Opt-In": "true"},
        {"idle-reaper:opt-in ": "true"},
        {"\uff49dle-reaper:opt-in": "true"},  # a full-width i
    ],
)
def test_a_near_miss_is_not_opted_in_and_says_what_to_write(tags: dict[str, str]) -> None:
    seen = KIND.observe(REF, look(FakeEc2(tags=tags)))

    assert seen.unwatchable is not None
    assert "is not 'idle-reaper:opt-in=true'" in seen.unwatchable
    assert "case-sensitively" in seen.unwatchable


def test_a_pending_instance_without_the_tag_is_exempt_at_once() -> None:
    seen = KIND.observe(REF, look(FakeEc2(state="pending", tags={})))

    assert seen.phase == "starting" and seen.unwatchable is not None


def test_a_hostile_near_miss_is_bounded_in_the_reason() -> None:
    reason = opt_in_problem({"IDLE-REAPER:OPT-IN": "x" * 5000}, "idle-reaper:opt-in")

    assert reason is not None and len(reason) < 400


def test_the_opt_in_key_is_the_one_the_stop_permission_names_whatever_the_environment() -> None:
    """The IAM condition key is a literal in the template: a key set elsewhere must not make
    the kind watch instances the state machine may not stop."""
    ec2 = FakeEc2(tags={"team:reaper-ok": "true"})

    seen = KIND.observe(REF, look(ec2, EC2_OPT_IN_TAG_KEY="team:reaper-ok"))

    assert seen.unwatchable is not None and "idle-reaper:opt-in=true" in seen.unwatchable


# -- instances a stop would not stop -------------------------------------------------------------
ASG = {**OPTED_IN, "aws:autoscaling:groupName": "build-fleet"}


def exempt_reason(ec2: FakeEc2) -> str:
    """Why the kind will not watch the instance; also checks it read no metrics for it and
    that the watch ends exempt at once."""
    now = T0 + timedelta(hours=2)
    cloudwatch = FakeCloudWatch(periods(T0, 24), now)
    seen = KIND.observe(REF, look(ec2, cloudwatch, now))
    assert seen.unwatchable is not None
    assert cloudwatch.calls == []
    verdict = decide(KIND.name, seen, Policy.from_env({}), now)
    assert (verdict.action, verdict.outcome) == ("done", "exempt")
    assert verdict.reason == seen.unwatchable
    return seen.unwatchable


def test_an_opted_in_auto_scaling_member_is_never_stopped_and_told_to_scale_the_group() -> None:
    reason = exempt_reason(FakeEc2(tags=ASG))

    assert reason.startswith("a member of the Auto Scaling group 'build-fleet':")
    assert "replacement" in reason and "desired capacity" in reason


@pytest.mark.parametrize(
    "tags",
    [
        {**OPTED_IN, "aws:autoscaling:groupName": ""},
        {**OPTED_IN, "aws:autoscaling:someDayAnotherKey": "x"},
        {"aws:autoscaling:groupName": "build-fleet"},  # not opted in either: the group says more
    ],
)
def test_any_auto_scaling_tag_makes_a_member(tags: dict[str, str]) -> None:
    assert exempt_reason(FakeEc2(tags=tags)).startswith("a member of the Auto Scaling group")


def test_a_look_alike_of_the_auto_scaling_tag_is_not_a_group() -> None:
    """Only AWS can set `aws:` keys, all lowercase; a user's look-alike is an ordinary tag."""
    for key in ("autoscaling:groupName", "AWS:AutoScaling:groupName", "x-aws:autoscaling:g"):
        seen = KIND.observe(REF, look(FakeEc2(tags={**OPTED_IN, key: "g"})))
        assert seen.unwatchable is None, key


def test_a_hostile_group_name_is_bounded_and_quoted_in_the_reason() -> None:
    reason = exempt_reason(FakeEc2(tags={**OPTED_IN, "aws:autoscaling:groupName": "x\n" * 200}))

    assert "\n" not in reason and len(reason) < 400
    assert "'x\\nx\\n" in reason  # repr: the newline is shown, not written


def test_a_pending_auto_scaling_member_is_exempt_at_once() -> None:
    seen = KIND.observe(REF, look(FakeEc2(state="pending", tags=ASG)))

    assert seen.phase == "starting"
    assert (seen.unwatchable or "").startswith("a member of the Auto Scaling group")


def test_an_opted_in_spot_instance_is_never_stopped_and_says_why() -> None:
    reason = exempt_reason(FakeEc2(InstanceLifecycle="spot"))

    assert reason.startswith("a Spot Instance:")
    assert "persistent Spot request" in reason and "terminate it" in reason


@pytest.mark.parametrize(
    ("operator", "named"),
    [
        ({"Managed": True, "Principal": "eks.amazonaws.com"}, "'eks.amazonaws.com'"),
        ({"Managed": True}, "an AWS service"),
        ({"Managed": True, "Principal": ["eks"]}, "an AWS service"),
    ],
)
def test_an_instance_a_service_manages_is_never_stopped(
    operator: dict[str, Any], named: str
) -> None:
    reason = exempt_reason(FakeEc2(Operator=operator))

    assert reason.startswith(f"managed by {named}:")
    assert f"scale it down through {named}" in reason


@pytest.mark.parametrize(
    "extra",
    [
        {"Operator": {"Managed": False}},
        {"Operator": {"Managed": "true"}},  # not EC2's boolean: not a sign of anything
        {"Operator": "managed"},
        {"InstanceLifecycle": "Spot"},
        {"InstanceLifecycle": "capacity-block"},
    ],
)
def test_other_lifecycles_and_operators_are_watched(extra: dict[str, Any]) -> None:
    assert KIND.observe(REF, look(FakeEc2(**extra))).unwatchable is None


# -- the idle signal -----------------------------------------------------------------------------
def test_idle_since_launch_is_idle_from_the_launch_and_reported_a_lag_late() -> None:
    now = T0 + timedelta(minutes=40)
    cloudwatch = FakeCloudWatch(periods(T0, 8), now)

    seen = KIND.observe(REF, look(FakeEc2(), cloudwatch, now))

    assert seen.unreadable is None and not seen.busy
    assert seen.last_activity_at == T0
    (call,) = cloudwatch.calls
    assert call["StartTime"] == T0 and call["EndTime"] == T0 + timedelta(minutes=45)
    assert call["ScanBy"] == "TimestampAscending"


def test_an_unaligned_launch_queries_from_its_period_and_counts_from_the_launch() -> None:
    launched = T0 + timedelta(minutes=2, seconds=7)
    now = T0 + timedelta(minutes=30)
    cloudwatch = FakeCloudWatch(periods(T0, 6), now)

    seen = KIND.observe(REF, look(FakeEc2(launched=launched), cloudwatch, now))

    assert cloudwatch.calls[0]["StartTime"] == T0
    assert seen.last_activity_at == launched


def test_a_burst_inside_the_window_moves_the_last_activity_to_its_period_end() -> None:
    now = T0 + timedelta(minutes=70)
    cloudwatch = FakeCloudWatch(periods(T0, 14, busy_at=frozenset({3})), now)

    seen = KIND.observe(REF, look(FakeEc2(), cloudwatch, now))

    assert seen.last_activity_at == T0 + timedelta(minutes=20)


@pytest.mark.parametrize(
    ("values", "busy"),
    [
        ({"cpu": 5.0, "net_in": 0.0, "net_out": 0.0}, True),  # the threshold itself is busy
        ({"cpu": 4.99, "net_in": 499_999.0, "net_out": 500_000.0}, False),
        ({"cpu": 1.0, "net_in": 500_000.0, "net_out": 500_000.0}, True),
        ({"cpu": 1.0, "net_in": 2_000_000.0}, True),  # one direction is enough to be busy
    ],
)
def test_a_period_is_busy_at_either_threshold(values: dict[str, float], busy: bool) -> None:
    now = T0 + timedelta(minutes=30)
    data = periods(T0, 5)
    data[T0 + 2 * PERIOD] = values
    cloudwatch = FakeCloudWatch(data, now)

    seen = KIND.observe(REF, look(FakeEc2(), cloudwatch, now))

    expected = T0 + 3 * PERIOD if busy else T0
    assert seen.last_activity_at == expected
    assert seen.unreadable is None


def test_the_thresholds_are_the_deployed_ones() -> None:
    """20% of a 2-vCPU instance and 2 MB are busy by default; under a deployed 50% (capped at
    half a vCPU: 25%) and 5 MB they are idle."""
    now = T0 + timedelta(minutes=30)
    data = periods(T0, 5)
    data[T0 + 2 * PERIOD] = {"cpu": 20.0, "net_in": 1e6, "net_out": 1e6}

    deployed = KIND.observe(
        REF,
        look(
            FakeEc2(),
            FakeCloudWatch(data, now),
            now,
            EC2_CPU_IDLE_PERCENT="50",
            EC2_NETWORK_IDLE_BYTES="5000000",
        ),
    )
    default = KIND.observe(REF, look(FakeEc2(), FakeCloudWatch(data, now), now))

    assert deployed.last_activity_at == T0
    assert default.last_activity_at == T0 + 3 * PERIOD


# -- one busy core of many -----------------------------------------------------------------------
def one_period_at(cpu: float) -> dict[datetime, dict[str, float]]:
    """Five quiet periods (the agents' 2% of one vCPU, on 96 of them), the third with this CPU
    and no traffic to speak of."""
    data = {T0 + i * PERIOD: {**IDLE, "cpu": 2 / 96} for i in range(5)}
    data[T0 + 2 * PERIOD] = {"cpu": cpu, "net_in": 20e3, "net_out": 20e3}
    return data


def last_activity(cpu: float, ec2: FakeEc2, **env: str) -> datetime | None:
    now = T0 + timedelta(minutes=30)
    seen = KIND.observe(REF, look(ec2, FakeCloudWatch(one_period_at(cpu), now), now, **env))
    assert seen.unreadable is None
    return seen.last_activity_at


def test_one_busy_core_of_a_96_vcpu_instance_is_busy() -> None:
    """CloudWatch averages over all 96 vCPUs: one pegged core and the agents read ~1.06%,
    under the 5% default; half a vCPU's worth (0.52%) is the threshold here."""
    big = FakeEc2(instance_type="m5.24xlarge", cpu=(48, 2))

    assert last_activity(100 / 96 + 0.02, big) == T0 + 3 * PERIOD
    assert last_activity(0.25, big) == T0  # a quarter of a core: idle
    assert last_activity(50 / 96, big) == T0 + 3 * PERIOD  # the threshold itself is busy


@pytest.mark.parametrize(
    ("cpu", "vcpus", "expected"),
    [
        ((1, 2), 2, 5.0),  # 25% for half a vCPU: the 5% default is lower
        ((4, 2), 8, 5.0),  # 6.25%
        ((8, 2), 16, 3.125),
        ((48, 2), 96, 50 / 96),
        ((96, 1), 96, 50 / 96),  # threads per core turned down to 1
    ],
)
def test_the_cpu_threshold_is_half_a_vcpu_when_that_is_lower(
    cpu: tuple[int, int], vcpus: int, expected: float
) -> None:
    assert busy_cpu_percent(Ec2Settings(), vcpus) == pytest.approx(expected)
    threshold = expected
    ec2 = FakeEc2(cpu=cpu)
    assert last_activity(threshold, ec2) == T0 + 3 * PERIOD
    assert last_activity(threshold * 0.99, ec2) == T0


def test_a_deployed_threshold_below_half_a_vcpu_stays() -> None:
    assert busy_cpu_percent(Ec2Settings(cpu_idle_percent=1), 16) == 1.0
    assert last_activity(2.0, FakeEc2(cpu=(8, 2)), EC2_CPU_IDLE_PERCENT="1") == T0 + 3 * PERIOD
    assert last_activity(0.99, FakeEc2(cpu=(8, 2)), EC2_CPU_IDLE_PERCENT="1") == T0


@pytest.mark.parametrize(
    "cpu",
    [
        None,  # no CpuOptions at all
        (True, 2),
        (48, True),
        ("48", 2),
        (48.0, 2),
        (0, 2),
        (-48, 2),
        (48, None),
        (10**6, 2),
        (4096, 2),  # 8192 vCPUs: no instance has that many
    ],
)
def test_without_a_sane_core_count_the_threshold_is_the_deployed_one(cpu: Any) -> None:
    """One busy core of 96 reads idle then, as before: the safe side is not to guess."""
    big = FakeEc2(instance_type="m5.24xlarge", cpu=cpu)

    assert busy_cpu_percent(Ec2Settings(), None) == 5.0
    assert last_activity(4.99, big) == T0
    assert last_activity(5.0, big) == T0 + 3 * PERIOD


def test_a_gap_after_the_last_activity_is_unreadable_and_names_the_period() -> None:
    now = T0 + timedelta(minutes=60)
    data = periods(T0, 11)
    del data[T0 + 6 * PERIOD]["net_out"]
    cloudwatch = FakeCloudWatch(data, now)

    seen = KIND.observe(REF, look(FakeEc2(), cloudwatch, now))

    assert seen.unreadable == (
        "no NetworkOut datapoint for the 5 minutes from 2026-03-02T09:30:00Z"
        " (due by 2026-03-02T09:40:00Z)"
    )
    assert seen.recheck_minutes == RECHECK_MINUTES
    verdict = decide(KIND.name, seen, Policy.from_env({}), now)
    assert verdict.action == "wait" and verdict.next_check_at == now + timedelta(minutes=5)


def test_no_datapoints_at_all_is_never_idle() -> None:
    now = T0 + timedelta(hours=2)

    seen = KIND.observe(REF, look(FakeEc2(), FakeCloudWatch({}, now), now))

    assert seen.unreadable is not None and "CPUUtilization or NetworkIn or NetworkOut" in (
        seen.unreadable
    )
    assert decide(KIND.name, seen, Policy.from_env({}), now).action == "wait"


def test_a_gap_before_the_latest_busy_period_does_not_matter() -> None:
    now = T0 + timedelta(minutes=60)
    data = periods(T0, 11, busy_at=frozenset({8}))
    del data[T0 + 2 * PERIOD]
    cloudwatch = FakeCloudWatch(data, now)

    seen = KIND.observe(REF, look(FakeEc2(), cloudwatch, now))

    assert seen.unreadable is None
    assert seen.last_activity_at == T0 + 9 * PERIOD


def test_periods_not_yet_due_are_not_required_but_their_work_counts() -> None:
    now = T0 + timedelta(minutes=33)

    class Early(FakeCloudWatch):
        """A Nitro instance: the period in progress already has a (partial) datapoint."""

        def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
            out = super().get_metric_data(**kwargs)
            for result in out["MetricDataResults"]:
                result["Timestamps"].append(T0 + 6 * PERIOD)
                result["Values"].append(BUSY[result["Id"]])
            return out

    seen = KIND.observe(REF, look(FakeEc2(), Early(periods(T0, 5), now), now))

    assert seen.unreadable is None
    assert seen.last_activity_at == T0 + 7 * PERIOD  # the end of the busy period in progress


@pytest.mark.parametrize("status", ["InternalError", "Forbidden"])
def test_a_failed_metric_result_is_unreadable(status: str) -> None:
    now = T0 + timedelta(minutes=30)

    seen = KIND.observe(
        REF, look(FakeEc2(), FakeCloudWatch(periods(T0, 5), now, status=status), now)
    )

    assert seen.unreadable == f"GetMetricData answered {status} for cpu"


def test_timestamps_and_values_that_do_not_pair_up_are_unreadable() -> None:
    now = T0 + timedelta(minutes=30)

    class Broken(FakeCloudWatch):
        def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
            out = super().get_metric_data(**kwargs)
            out["MetricDataResults"][1]["Values"].pop()
            return out

    seen = KIND.observe(REF, look(FakeEc2(), Broken(periods(T0, 5), now), now))

    assert seen.unreadable is not None and "net_in" in seen.unreadable


def test_every_page_of_metric_data_is_read() -> None:
    now = T0 + timedelta(minutes=65)
    cloudwatch = FakeCloudWatch(periods(T0, 12, busy_at=frozenset({10})), now, page_size=7)

    seen = KIND.observe(REF, look(FakeEc2(), cloudwatch, now))

    assert len(cloudwatch.calls) == 6  # 12 periods x 3 metrics, 7 datapoints a page
    assert [c.get("NextToken") for c in cloudwatch.calls] == [None, "7", "14", "21", "28", "35"]
    assert seen.unreadable is None
    assert seen.last_activity_at == T0 + 11 * PERIOD


def test_endless_pages_are_unreadable_not_a_hang() -> None:
    class Endless(FakeCloudWatch):
        def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
            self.calls.append(kwargs)
            return {"MetricDataResults": [], "NextToken": "again"}

    cloudwatch = Endless({}, T0)

    seen = KIND.observe(REF, look(FakeEc2(), cloudwatch, T0 + timedelta(hours=1)))

    assert seen.unreadable is not None and "pages" in seen.unreadable
    assert len(cloudwatch.calls) == 50


def test_the_lookback_covers_the_window_lag_and_a_period_from_a_whole_hour() -> None:
    launched = T0 - timedelta(days=3)
    now = T0 + timedelta(hours=5, minutes=17)

    start = query_start(launched, now, 60)

    assert start == T0 + timedelta(hours=4)  # 14:17 - 70 min = 13:07 -> 13:00
    assert query_start(T0 + timedelta(hours=5), now, 60) == T0 + timedelta(hours=5)


def test_an_instance_idle_beyond_the_lookback_is_idle_since_its_start_at_every_look() -> None:
    launched = T0 - timedelta(days=3)
    first, second = T0 + timedelta(hours=5, minutes=17), T0 + timedelta(hours=5, minutes=22)
    data = periods(T0, 80)
    sightings = []
    for now in (first, second):
        cloudwatch = FakeCloudWatch(data, now)
        sightings.append(KIND.observe(REF, look(FakeEc2(launched=launched), cloudwatch, now)))

    assert [s.last_activity_at for s in sightings] == [T0 + timedelta(hours=4)] * 2
    policy = Policy.from_env({})
    warned = decide(KIND.name, sightings[0], policy, first)
    assert warned.action == "warn"
    stopped = decide(KIND.name, sightings[1], policy, second, warned_since="2026-03-02T13:00:00Z")
    assert stopped.action == "stop"


def test_an_abandoned_instance_is_warned_then_stopped_one_lag_after_its_deadline() -> None:
    """The watcher's path: the look at launch, the warning, the stop, no look in between."""
    policy = Policy.from_env({})
    data = periods(T0, 20)
    moments, actions = [T0], []
    warned_since = None
    for _ in range(3):
        now = moments[-1]
        seen = KIND.observe(REF, look(FakeEc2(), FakeCloudWatch(data, now), now))
        verdict = decide(KIND.name, seen, policy, now, warned_since)
        actions.append(verdict.action)
        if verdict.action == "warn":
            warned_since = verdict.to_dict()["idle_since"]
        if verdict.next_check_at is not None:
            moments.append(verdict.next_check_at)

    assert actions == ["wait", "warn", "stop"]
    # warned 5 minutes before the deadline (10:00); the stop looks one lag later, when the
    # metrics up to the deadline are in
    assert moments == [T0, T0 + timedelta(minutes=55), T0 + timedelta(minutes=65)]


# -- price, console, settings --------------------------------------------------------------------
def test_known_types_have_their_price_and_unknown_ones_none() -> None:
    assert price_per_hour("us-east-1", "m5.large") == 0.096
    assert price_per_hour("us-east-1", "p3.2xlarge") == 3.06
    assert price_per_hour("us-east-1", "m5.24xlarge") is None
    assert price_per_hour("eu-west-1", "m5.large") is None
    assert price_per_hour("us-east-1", None) is None
    assert KIND.observe(REF, look(FakeEc2(instance_type="x9.huge"))).cost_per_hour is None
    assert KIND.observe(REF, look(FakeEc2(instance_type="t3.micro"))).cost_per_hour == 0.0104


def test_every_price_is_a_plausible_hourly_rate() -> None:
    for prices in ON_DEMAND_LINUX_USD_PER_HOUR.values():
        assert prices and all(0.001 < p < 100 for p in prices.values())


def test_an_unknown_price_gives_no_savings_figure() -> None:
    now = T0 + timedelta(hours=2)
    seen = KIND.observe(
        REF, look(FakeEc2(instance_type="x9.huge"), FakeCloudWatch(periods(T0, 24), now), now)
    )

    verdict = decide(KIND.name, seen, Policy.from_env({"WARNING_MINUTES": "0"}), now)

    assert verdict.action == "stop" and verdict.savings_usd is None and verdict.cost_usd is None


@pytest.mark.parametrize(
    ("extra", "price"),
    [
        ({}, 0.096),
        ({"PlatformDetails": "Windows"}, None),
        ({"PlatformDetails": "Red Hat Enterprise Linux"}, None),
        ({"PlatformDetails": "SUSE Linux"}, None),
        ({"PlatformDetails": "Ubuntu Pro"}, None),
        ({"PlatformDetails": "Linux/UNIX "}, None),
        ({"PlatformDetails": ["Linux/UNIX"]}, None),
        ({"PlatformDetails": None}, None),  # not said: unknown, never a guess
        ({"Placement": {"Tenancy": "dedicated"}}, None),
        ({"Placement": {"Tenancy": "host"}}, None),
        ({"Placement": None}, None),
        ({"InstanceLifecycle": "capacity-block"}, None),
        ({"InstanceLifecycle": "scheduled"}, None),
    ],
)
def test_the_price_is_the_tables_only_for_on_demand_shared_linux(
    extra: dict[str, Any], price: float | None
) -> None:
    assert KIND.observe(REF, look(FakeEc2(**extra))).cost_per_hour == price


def test_listed_price_reads_the_table_only_for_what_it_lists() -> None:
    listed = {"platform_details": "Linux/UNIX", "tenancy": "default", "lifecycle": None}
    assert listed_price("us-east-1", "m5.large", **listed) == 0.096
    assert listed_price("us-east-1", "m5.24xlarge", **listed) is None
    assert listed_price("us-east-1", "m5.large", **{**listed, "lifecycle": "spot"}) is None


def test_an_instance_store_type_carries_a_note_the_warning_repeats() -> None:
    now = T0 + timedelta(minutes=55)  # 5 minutes before the deadline: the warning
    ec2 = FakeEc2(instance_type="m5d.large")

    seen = KIND.observe(REF, look(ec2, FakeCloudWatch(periods(T0, 12), now), now))
    verdict = decide(KIND.name, seen, Policy.from_env({}), now)

    (note,) = seen.notes
    assert note.startswith("its type m5d.large has instance store volumes")
    assert "a stop erases them" in note and len(note) <= 300  # the messages quote 300 characters
    assert verdict.action == "warn"
    assert verdict.notes == (note,) and note in verdict.reason


@pytest.mark.parametrize(
    "instance_type",
    ["c5d.xlarge", "i3.large", "i4i.metal", "d3.xlarge", "g4dn.xlarge", "p4d.24xlarge"],
)
def test_the_families_with_instance_store_carry_the_note(instance_type: str) -> None:
    seen = KIND.observe(REF, look(FakeEc2(instance_type=instance_type, state="stopped")))

    assert len(seen.notes) == 1 and instance_type in seen.notes[0]


@pytest.mark.parametrize(
    "instance_type",
    ["m5.large", "c5.large", "g4ad.xlarge", "p3.2xlarge", "m5d", "M5D.LARGE", "m5d.large\n"],
)
def test_other_types_and_hostile_ones_carry_no_note(instance_type: str) -> None:
    assert KIND.observe(REF, look(FakeEc2(instance_type=instance_type))).notes == ()


def test_the_instance_store_families_are_exactly_ec2s() -> None:
    """Against EC2's own DescribeInstanceTypes answer as moto ships it: every type of a listed
    family has instance storage, every type with instance storage is of a listed family."""
    from moto.ec2.models.instance_types import INSTANCE_TYPES

    with_store = {
        name.split(".")[0] for name, t in INSTANCE_TYPES.items() if t["InstanceStorageSupported"]
    }
    without = {
        name.split(".")[0]
        for name, t in INSTANCE_TYPES.items()
        if not t["InstanceStorageSupported"]
    }
    assert with_store == INSTANCE_STORE_FAMILIES
    assert not with_store & without  # a family never mixes
    assert all(INSTANCE_TYPE.fullmatch(name) for name in INSTANCE_TYPES)


def test_the_console_link_is_the_instance_page_on_its_partition() -> None:
    assert KIND.console_url(REF) == (
        "https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1"
        f"#InstanceDetails:instanceId={IID}"
    )
    china = ResourceRef(kind="ec2-instance", id=IID, region="cn-north-1", account="123456789012")
    assert (KIND.console_url(china) or "").startswith("https://cn-north-1.console.amazonaws.cn/")
    bad = ResourceRef(kind="ec2-instance", id="i-1#x", region="us-east-1", account="123456789012")
    assert KIND.console_url(bad) is None


def test_settings_default_and_reach_the_look() -> None:
    assert settings_from_env({}) == Ec2Settings(5, 1_000_000, "idle-reaper:opt-in")
    policy = Policy.from_env({"EC2_CPU_IDLE_PERCENT": "12", "EC2_IDLE_MINUTES": "90"})
    assert policy.kind_settings["ec2-instance"].cpu_idle_percent == 12
    assert policy.idle_minutes["ec2-instance"] == 90


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("EC2_CPU_IDLE_PERCENT", "0"),
        ("EC2_CPU_IDLE_PERCENT", "101"),
        ("EC2_CPU_IDLE_PERCENT", "5.5"),
        ("EC2_CPU_IDLE_PERCENT", "five"),
        ("EC2_NETWORK_IDLE_BYTES", "0"),
        ("EC2_NETWORK_IDLE_BYTES", "1e6"),
        ("EC2_NETWORK_IDLE_BYTES", "1000000000001"),
        ("EC2_IDLE_MINUTES", "0"),
    ],
)
def test_a_bad_setting_is_a_policy_error_naming_it(name: str, value: str) -> None:
    with pytest.raises(PolicyError, match=name):
        Policy.from_env({name: value})


# -- running(): what the sweeper lists ------------------------------------------------------------
HOME = Home(partition="aws", region="us-east-1", account="123456789012")
IID2 = "i-0fedcba9876543210"
IID3 = "i-12345678"


class Paginator:
    def __init__(self, pages: Any, error: str | None, calls: list[dict[str, Any]]) -> None:
        self.pages, self.error, self.calls = pages, error, calls

    def paginate(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "x"}}, "Describe")
        yield from self.pages


class ListingEc2:
    """DescribeInstances in pages (the paginator) and by id (observe), from the same items."""

    def __init__(self, pages: Any, error: str | None = None) -> None:
        self.pages, self.error = pages, error
        self.operations: list[str] = []
        self.calls: list[dict[str, Any]] = []

    def get_paginator(self, operation: str) -> Paginator:
        self.operations.append(operation)
        return Paginator(self.pages, self.error, self.calls)

    def describe_instances(self, InstanceIds: list[str]) -> dict[str, Any]:
        for page in self.pages:
            for reservation in page["Reservations"]:
                for instance in reservation["Instances"]:
                    if instance["InstanceId"] == InstanceIds[0]:
                        return {"Reservations": [{"Instances": [instance]}]}
        raise AssertionError(InstanceIds)

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        return {"MetricDataResults": []}


def instance(iid: str, state: str = "running", tags: Any = None, **changes: Any) -> Any:
    item: dict[str, Any] = {
        "InstanceId": iid,
        "InstanceType": "m5.large",
        "LaunchTime": T0,
        "State": {"Code": 16, "Name": state},
        "Tags": [{"Key": k, "Value": v} for k, v in (OPTED_IN if tags is None else tags).items()],
    }
    item.update(changes)
    return item


def reservations(*groups: list[Any]) -> dict[str, Any]:
    return {"Reservations": [{"Instances": group} for group in groups]}


def instances(client: Any) -> list[Any]:
    return list(KIND.running(lambda _service: client, HOME))


def test_running_lists_opted_in_instances_across_pages_filtered_by_ec2() -> None:
    client = ListingEc2(
        [
            reservations([instance(IID)], [instance(IID2, "pending")]),
            reservations([instance(IID3, "stopped"), instance("i-0123456789abcdef0")]),
        ]
    )
    found = instances(client)
    assert [s.ref.id for s in found] == [IID, IID2, "i-0123456789abcdef0"]
    assert client.operations == ["describe_instances"]
    [call] = client.calls
    assert call["Filters"] == [
        {"Name": "tag:idle-reaper:opt-in", "Values": ["true"]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]},
    ]
    assert 5 <= call["PaginationConfig"]["PageSize"] <= 1000
    assert {(s.ref.kind, s.ref.account, s.ref.region) for s in found} == {
        ("ec2-instance", "123456789012", "us-east-1")
    }


@pytest.mark.parametrize(
    "tags",
    [{}, {"idle-reaper:opt-in": "True"}, {"Idle-Reaper:Opt-In": "true"}, {"owner": "dana"}],
)
def test_an_instance_the_filter_let_through_without_the_exact_tag_is_not_listed(
    tags: dict[str, str],
) -> None:
    """EC2's filter is the first sieve; the tag is read again exactly as observe() reads it."""
    assert instances(ListingEc2([reservations([instance(IID, tags=tags)])])) == []


@pytest.mark.parametrize("launched", [T0, None, "yesterday", 1772442000])
def test_a_sightings_start_is_exactly_what_observe_reads(launched: Any) -> None:
    client = ListingEc2([reservations([instance(IID, LaunchTime=launched)])])
    [sighting] = instances(client)
    seen = KIND.observe(
        sighting.ref,
        Look(lambda _s: client, Policy.from_env({}), T0 + timedelta(minutes=1)),
    )
    assert sighting.started_at == seen.started_at


@pytest.mark.parametrize(
    "item",
    [
        "i-0a1b2c3d4e5f60718",
        None,
        instance("i-XYZ"),
        instance("i-0a1b2c3d4e5f6071"),
        instance(IID2, State="running"),
        instance(IID2, State={"Name": ["running"]}),
        instance(IID2, Tags="idle-reaper:opt-in=true"),
        instance(IID2, Tags=[{"Key": "idle-reaper:opt-in", "Value": True}]),
        instance(IID2, InstanceId=None),
    ],
)
def test_a_malformed_item_is_skipped_and_the_listing_goes_on(item: Any) -> None:
    client = ListingEc2(
        [
            {"Reservations": [{"Instances": [item, instance(IID)]}, "junk", {"Instances": 3}]},
            reservations([instance(IID3)]),
        ]
    )
    assert [s.ref.id for s in instances(client)] == [IID, IID3]


@pytest.mark.parametrize("code", ["UnauthorizedOperation", "RequestLimitExceeded"])
def test_a_failed_listing_is_a_read_error(code: str) -> None:
    with pytest.raises(ResourceReadError, match="DescribeInstances"):
        instances(ListingEc2([], error=code))


def test_endless_pages_are_a_read_error() -> None:
    def forever() -> Any:
        while True:
            yield {"Reservations": []}

    with pytest.raises(ResourceReadError, match="pages"):
        instances(ListingEc2(forever()))


def test_the_listing_permission() -> None:
    assert KIND.list_permissions == ("ec2:DescribeInstances",)
