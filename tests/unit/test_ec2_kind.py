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
    METRIC_LAG,
    PERIOD,
    RECHECK_MINUTES,
    Ec2Instance,
    Ec2Settings,
    opt_in_problem,
    query_start,
    settings_from_env,
)
from idle_reaper.kinds.ec2_prices import ON_DEMAND_LINUX_USD_PER_HOUR, price_per_hour
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
    """DescribeInstances for one instance, or the error EC2 would answer."""

    def __init__(
        self,
        state: str = "running",
        tags: dict[str, str] | None = None,
        launched: datetime = T0,
        instance_type: str = "m5.large",
        error: str | None = None,
    ) -> None:
        self.state, self.launched, self.instance_type = state, launched, instance_type
        self.tags = dict(OPTED_IN if tags is None else tags)
        self.error = error
        self.calls = 0

    def describe_instances(self, InstanceIds: list[str]) -> dict[str, Any]:
        self.calls += 1
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "x"}}, "DescribeInstances")
        instance = {
            "InstanceId": InstanceIds[0],
            "InstanceType": self.instance_type,
            "LaunchTime": self.launched,
            "State": {"Code": 16, "Name": self.state},
            "Tags": [{"Key": k, "Value": v} for k, v in self.tags.items()],
        }
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
    now = T0 + timedelta(minutes=30)
    data = periods(T0, 5)
    data[T0 + 2 * PERIOD] = {"cpu": 30.0, "net_in": 1e6, "net_out": 1e6}
    cloudwatch = FakeCloudWatch(data, now)

    seen = KIND.observe(
        REF,
        look(
            FakeEc2(), cloudwatch, now, EC2_CPU_IDLE_PERCENT="50", EC2_NETWORK_IDLE_BYTES="5000000"
        ),
    )

    assert seen.last_activity_at == T0


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
