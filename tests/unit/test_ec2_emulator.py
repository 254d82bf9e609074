"""The emulated EC2 and its CloudWatch metrics, seen the way the inspect handler sees them:
through boto3, read by the kind's own code.

An instance is pending, then running (with EC2's state-change event), then stopping and
stopped; the summary's billing record says who stopped it; its metrics are published a while
after each minute and answered as CloudWatch answers GetMetricData. Only moto's EC2 and
CloudWatch and the virtual clock run here (no stack), so it is quick.
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

from idle_reaper.exceptions import ResourceReadError
from idle_reaper.kinds.base import Look
from idle_reaper.kinds.ec2 import METRIC_LAG, Ec2Instance, Ec2Settings, metric_data, read_activity
from idle_reaper.policy import Policy
from idle_reaper.resource import Observation, ResourceRef
from local_runtime.actors import schedule
from local_runtime.clock import VirtualClock
from local_runtime.emulators.ec2 import (
    BUSY_BYTES_PER_MINUTE,
    IDLE_BYTES_PER_MINUTE,
    PENDING_SECONDS,
    PUBLISH_LAG,
    STOPPING_SECONDS,
    Ec2Emulator,
    Ec2Spec,
    cpu_when_idle,
    cpu_when_working,
    instance_id_for,
)
from local_runtime.errors import ScenarioError
from local_runtime.runtime import Account
from local_runtime.scenario import Busy, ResourceSpec, parse
from local_runtime.stack import ACCOUNT, REGION
from tests.conftest import load_event

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPTED_IN = {"idle-reaper:opt-in": "true"}

EPOCH_DEPLOY = datetime(2000, 1, 1, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@dataclass
class Ec2:
    emulator: Ec2Emulator
    ec2: Any
    cloudwatch: Any
    clock: VirtualClock
    events: list[dict[str, Any]]

    def launch(
        self,
        scenario_id: str = "web-1",
        instance_type: str = "m5.large",
        activity: tuple[Busy, ...] = (),
        tags: dict[str, str] | None = None,
        work_vcpus: int = 1,
        work_network: bool = True,
    ) -> str:
        """Start a resource as the scenario's user does, at the clock's now; its instance id."""
        spec = ResourceSpec(
            kind="ec2-instance",
            id=scenario_id,
            tags=dict(OPTED_IN if tags is None else tags),
            kind_spec=Ec2Spec(instance_type, work_vcpus, work_network),
            activity=activity,
        )
        self.emulator.start(self.account(), spec, self.events.append)
        self.emulator.schedule(T0, spec)
        life = self.emulator.life(scenario_id)
        assert life is not None
        return life.id

    def account(self) -> Account:
        return cast(Account, SimpleNamespace(clients={"ec2": self.ec2}))

    def run(self, minutes: float) -> None:
        self.clock.run_until(at(minutes))

    def instance(self, instance_id: str) -> dict[str, Any]:
        (reservation,) = self.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
        (instance,) = reservation["Instances"]
        return dict(instance)

    def state(self, instance_id: str) -> str:
        return str(self.instance(instance_id)["State"]["Name"])

    def observe(self, instance_id: str) -> Observation:
        """What the kind reads of the instance now, through boto3."""
        ref = ResourceRef(kind="ec2-instance", id=instance_id, region=REGION, account=ACCOUNT)
        clients = {"ec2": self.ec2, "cloudwatch": self.cloudwatch}
        look = Look(client=clients.__getitem__, policy=Policy.from_env({}), now=self.clock.now())
        return Ec2Instance().observe(ref, look)

    def query(
        self,
        instance_id: str,
        stat: str | None = None,
        extra: tuple[dict[str, Any], ...] = (),
        **kwargs: Any,
    ) -> dict[str, Any]:
        """GetMetricData for the instance's CPU (Average) and NetworkIn (Sum), or `stat`."""
        metrics = [("cpu", "CPUUtilization", "Average"), ("net_in", "NetworkIn", "Sum")]
        queries = [
            {
                "Id": key,
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/EC2",
                        "MetricName": name,
                        "Dimensions": [{"Name": "InstanceId", "Value": instance_id}],
                    },
                    "Period": 300,
                    "Stat": stat or default,
                },
            }
            for key, name, default in metrics
        ]
        return dict(self.cloudwatch.get_metric_data(MetricDataQueries=[*queries, *extra], **kwargs))


@pytest.fixture
def ec2() -> Iterator[Ec2]:
    from moto import mock_aws
    from moto.backends import get_backend

    clock = VirtualClock(T0)
    with mock_aws():
        clock.start()
        try:
            emulator = Ec2Emulator(clock)
            with emulator.on(get_backend("ec2")[ACCOUNT][REGION]):
                yield Ec2(
                    emulator,
                    boto3.client("ec2", region_name=REGION),
                    boto3.client("cloudwatch", region_name=REGION),
                    clock,
                    [],
                )
        finally:
            clock.stop()


# -- scenario keys and replays -------------------------------------------------------------------
def resource(**keys: Any) -> dict[str, Any]:
    return {
        "start": "2026-03-02T09:00:00Z",
        "until": "1h",
        "resources": [{"kind": "ec2-instance", "id": "web-1", **keys}],
    }


def test_the_instance_type_defaults_to_m5_large_and_takes_any_ec2_type() -> None:
    assert parse(resource()).resources[0].kind_spec == Ec2Spec("m5.large")
    assert parse(resource(instance_type="g4dn.xlarge")).resources[0].kind_spec == Ec2Spec(
        "g4dn.xlarge"
    )


@pytest.mark.parametrize("value", [5, None, True, "", "m5.lar ge", "x9.huge", ["m5.large"]])
def test_a_bad_instance_type_is_a_scenario_error(value: Any) -> None:
    with pytest.raises(ScenarioError, match=r"resources\[0\]\.instance_type"):
        parse(resource(instance_type=value))


def test_work_keys_default_to_one_vcpu_with_network_and_take_the_types_vcpus() -> None:
    spec = parse(resource(instance_type="m5.24xlarge", work_vcpus=96, work_network=False))

    assert parse(resource()).resources[0].kind_spec == Ec2Spec("m5.large", 1, True)
    assert spec.resources[0].kind_spec == Ec2Spec("m5.24xlarge", 96, False)


@pytest.mark.parametrize(
    ("keys", "where"),
    [
        ({"work_vcpus": 0}, "work_vcpus"),
        ({"work_vcpus": 3}, "work_vcpus"),  # an m5.large has 2
        ({"work_vcpus": True}, "work_vcpus"),
        ({"work_vcpus": "1"}, "work_vcpus"),
        ({"work_vcpus": 1.5}, "work_vcpus"),
        ({"work_network": "yes"}, "work_network"),
        ({"work_network": 1}, "work_network"),
        ({"work_network": None}, "work_network"),
    ],
)
def test_bad_work_keys_are_scenario_errors(keys: dict[str, Any], where: str) -> None:
    with pytest.raises(ScenarioError, match=rf"resources\[0\]\.{where}"):
        parse(resource(**keys))


def test_another_kinds_key_is_refused() -> None:
    with pytest.raises(ScenarioError, match="unknown key"):
        parse(resource(workers=5))


def test_a_recorded_running_event_replays_its_instance_under_its_own_id() -> None:
    event = load_event("ec2-instance-running.json")
    ref = Ec2Instance().identify(event)
    assert ref is not None

    spec = Ec2Emulator.spec_from_start_event(event, ref)

    assert (spec.kind, spec.id, spec.tags, spec.kind_spec) == (
        "ec2-instance",
        "i-0a1b2c3d4e5f60718",
        {},
        Ec2Spec("m5.large"),
    )
    assert spec.start_event == event
    assert instance_id_for(spec.id) == spec.id


def test_a_named_resource_gets_the_same_valid_instance_id_every_run(ec2: Ec2) -> None:
    first, again, other = instance_id_for("web-1"), instance_id_for("web-1"), instance_id_for("db")
    assert first == again != other
    spec = ResourceSpec(kind="ec2-instance", id="web-1")
    assert ec2.emulator.resource_id(spec) == first == ec2.launch("web-1")  # the summary's key
    event = load_event("ec2-instance-running.json")
    event["detail"]["instance-id"] = first
    assert Ec2Instance().identify(event) is not None


# -- the instance's life -------------------------------------------------------------------------
def test_an_instance_is_pending_then_running_and_ec2_says_so_then(ec2: Ec2) -> None:
    instance_id = ec2.launch(tags={"idle-reaper:opt-in": "true", "owner": "dana@example.com"})

    launched = ec2.instance(instance_id)
    assert launched["State"] == {"Code": 0, "Name": "pending"}
    assert launched["LaunchTime"] == T0 and launched["InstanceType"] == "m5.large"
    assert {t["Key"]: t["Value"] for t in launched["Tags"]}["owner"] == "dana@example.com"
    assert ec2.events == []
    ec2.run(1)
    assert ec2.instance(instance_id)["State"] == {"Code": 16, "Name": "running"}
    (event,) = ec2.events
    assert event["time"] == "2026-03-02T09:00:15Z"
    assert {k: event[k] for k in ("detail-type", "source", "account", "region", "resources")} == {
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": ACCOUNT,
        "region": REGION,
        "resources": [f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}"],
    }
    assert event["detail"] == {"instance-id": instance_id, "state": "running"}
    assert Ec2Instance().identify(event) is not None


@pytest.mark.parametrize(
    ("instance_type", "cores", "threads"),
    [("m5.large", 1, 2), ("m5.24xlarge", 48, 2), ("t3.micro", 1, 2), ("m6g.16xlarge", 64, 1)],
)
def test_an_instance_is_described_as_ec2_describes_it(
    ec2: Ec2, instance_type: str, cores: int, threads: int
) -> None:
    """moto says no CpuOptions and no PlatformDetails, and gives Linux a Platform."""
    instance_id = ec2.launch(instance_type=instance_type)
    described = ec2.instance(instance_id)

    assert described["CpuOptions"] == {"CoreCount": cores, "ThreadsPerCore": threads}
    assert described["PlatformDetails"] == "Linux/UNIX"
    assert described["UsageOperation"] == "RunInstances"
    assert "Platform" not in described  # EC2 says Platform only for Windows
    assert described["Placement"]["Tenancy"] == "default"
    life = ec2.emulator.life("web-1")
    assert life is not None and life.vcpus == cores * threads
    # the kind prices it as the billing record does (None where the table has no price)
    assert ec2.observe(instance_id).cost_per_hour == life.cost_per_hour


def test_a_windows_instance_is_described_as_windows_and_has_no_price(ec2: Ec2) -> None:
    (launched,) = ec2.ec2.run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="m5.large"
    )["Instances"]
    ec2.run(1)

    described = ec2.instance(launched["InstanceId"])
    assert (described["Platform"], described["PlatformDetails"]) == ("windows", "Windows")
    assert ec2.observe(launched["InstanceId"]).cost_per_hour is None  # the table is Linux's


def test_a_spot_instance_is_described_as_spot_and_the_kind_never_stops_it(ec2: Ec2) -> None:
    (launched,) = ec2.ec2.run_instances(
        ImageId="ami-04681a1dbd79675a5",
        MinCount=1,
        MaxCount=1,
        InstanceType="m5.large",
        InstanceMarketOptions={"MarketType": "spot"},
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "idle-reaper:opt-in", "Value": "true"}]}
        ],
    )["Instances"]
    ec2.run(1)

    seen = ec2.observe(launched["InstanceId"])

    assert ec2.instance(launched["InstanceId"])["InstanceLifecycle"] == "spot"
    assert (seen.unwatchable or "").startswith("a Spot Instance:")
    assert seen.cost_per_hour is None


def test_a_stop_over_the_api_is_the_reapers_stopping_then_stopped(ec2: Ec2) -> None:
    instance_id = ec2.launch()
    ec2.run(30)

    answer = ec2.ec2.stop_instances(InstanceIds=[instance_id])["StoppingInstances"][0]

    assert answer["CurrentState"]["Name"] == "stopping"
    assert answer["PreviousState"]["Name"] == "running"
    life = ec2.emulator.life("web-1")
    assert life is not None and (life.ended_by, life.ended_at) == ("reaper", at(30))
    ec2.run(30 + STOPPING_SECONDS / 60 + 0.01)
    assert ec2.state(instance_id) == "stopped"
    ec2.ec2.stop_instances(InstanceIds=[instance_id])  # a retry after a lost answer
    assert ec2.state(instance_id) == "stopped"
    assert (life.ended_by, life.ended_at) == ("reaper", at(30))  # the first stop is the stop


def test_the_users_own_stop_is_recorded_as_theirs(ec2: Ec2) -> None:
    instance_id = ec2.launch()
    ec2.run(10)

    assert ec2.emulator.user_stop("web-1")

    life = ec2.emulator.life("web-1")
    assert life is not None and (life.ended_by, life.ended_at) == ("user", at(10))
    assert ec2.state(instance_id) == "stopping"
    assert not ec2.emulator.user_stop("web-1")  # no longer running
    assert not ec2.emulator.user_stop("never-launched")


def test_a_start_after_a_stop_is_launched_again(ec2: Ec2) -> None:
    instance_id = ec2.launch()
    ec2.run(10)
    ec2.ec2.stop_instances(InstanceIds=[instance_id])
    ec2.run(20)

    ec2.ec2.start_instances(InstanceIds=[instance_id])

    assert ec2.instance(instance_id)["LaunchTime"] == at(20)
    assert ec2.state(instance_id) == "pending"
    ec2.run(21)
    assert ec2.state(instance_id) == "running"


def test_the_billing_record_follows_the_work_and_the_price_table(ec2: Ec2) -> None:
    ec2.launch(activity=(Busy(timedelta(minutes=10), timedelta(minutes=20)),))
    ec2.launch("huge", instance_type="m5.24xlarge")
    life = ec2.emulator.life("web-1")
    assert life is not None and life.cost_per_hour == 0.096
    assert (ec2.emulator.life("huge") or life).cost_per_hour is None  # no price: no guess

    ec2.run(15)
    assert life.busy and life.last_activity_at == T0
    ec2.run(40)
    assert not life.busy and life.last_activity_at == at(30)


def test_a_scripted_throttle_reaches_the_kind_as_a_read_error(ec2: Ec2) -> None:
    instance_id = ec2.launch()
    ec2.emulator.fail_next("DescribeInstances", "RequestLimitExceeded")
    ref = ResourceRef(kind="ec2-instance", id=instance_id, region=REGION, account=ACCOUNT)
    clients = {"ec2": ec2.ec2, "cloudwatch": ec2.cloudwatch}
    look = Look(client=clients.__getitem__, policy=Policy.from_env({}), now=T0)

    with pytest.raises(ResourceReadError, match="RequestLimitExceeded"):
        Ec2Instance().observe(ref, look)
    assert Ec2Instance().observe(ref, look).phase == "starting"  # the next call answers


def test_a_scripted_stop_refusal_leaves_the_instance_running(ec2: Ec2) -> None:
    instance_id = ec2.launch()
    ec2.run(5)
    ec2.emulator.fail_next("StopInstances", "IncorrectInstanceState")

    with pytest.raises(ClientError, match="IncorrectInstanceState"):
        ec2.ec2.stop_instances(InstanceIds=[instance_id])
    assert ec2.state(instance_id) == "running"


def test_the_actors_launch_at_at_and_the_event_reaches_the_bus_once_running(ec2: Ec2) -> None:
    scenario = parse(
        {
            "start": "2026-03-02T09:00:00Z",
            "until": "1h",
            "resources": [
                {
                    "kind": "ec2-instance",
                    "id": "web-1",
                    "at": "5m",
                    "tags": OPTED_IN,
                    "activity": [{"at": "5m", "runs": "10m"}],
                    "stop_by_user": "40m",
                }
            ],
        }
    )
    delivered: list[tuple[datetime, dict[str, Any]]] = []
    account = actors_account(ec2, lambda event: delivered.append((ec2.clock.now(), event)))

    schedule(account, scenario, scenario.resources[0])
    ec2.run(60)

    (when, event), life = delivered[0], ec2.emulator.life("web-1")
    assert len(delivered) == 1 and when == at(5) + timedelta(seconds=PENDING_SECONDS)
    assert life is not None and event["detail"]["instance-id"] == life.id
    assert (life.created_at, life.last_activity_at, life.ended_by) == (at(5), at(15), "user")
    assert life.ended_at == at(40)


def actors_account(ec2: Ec2, put: Callable[[dict[str, Any]], None]) -> Account:
    return cast(
        Account,
        SimpleNamespace(
            clock=ec2.clock,
            emulators={"ec2-instance": ec2.emulator},
            clients={"ec2": ec2.ec2},
            bus=SimpleNamespace(put=put),
            deployed_at=EPOCH_DEPLOY,  # the stack exists: start events reach the bus
            region=REGION,
            account_id=ACCOUNT,
        ),
    )


# -- CloudWatch, as the kind reads it ------------------------------------------------------------
def test_the_kind_reads_busy_periods_and_idle_ones(ec2: Ec2) -> None:
    instance_id = ec2.launch(activity=(Busy(timedelta(minutes=10), timedelta(minutes=20)),))
    ec2.run(60)

    series, problem = metric_data(ec2.cloudwatch, instance_id, T0, at(60))

    assert problem is None
    cpu = {int((t - T0).total_seconds() // 60): round(v, 2) for t, v in series["cpu"].items()}
    assert cpu[5] == cpu_when_idle(2) == 1.0  # m5.large: 2 vCPUs, the agents' 2% of one
    assert cpu[10] == cpu[25] == cpu_when_working(2, 1) == 51.0  # one core of two, and agents
    assert cpu[30] == cpu_when_idle(2)
    assert series["net_in"][at(15)] == 5 * BUSY_BYTES_PER_MINUTE
    assert series["net_in"][at(40)] + series["net_out"][at(40)] < 100_000  # agents' chatter
    reading = read_activity(ec2.cloudwatch, instance_id, T0, at(60), 60, Ec2Settings())
    assert reading.missing is None and reading.last_activity_at == at(30)


def test_one_busy_core_of_96_is_about_one_percent_and_the_kind_sees_it(ec2: Ec2) -> None:
    """A single-threaded job, no traffic, on an m5.24xlarge (48 cores x 2 threads)."""
    instance_id = ec2.launch(
        instance_type="m5.24xlarge",
        activity=(Busy(timedelta(minutes=10), timedelta(minutes=20)),),
        work_network=False,
    )
    ec2.run(60)

    series, problem = metric_data(ec2.cloudwatch, instance_id, T0, at(60))

    assert problem is None
    assert series["cpu"][at(15)] == pytest.approx((100 + 2) / 96)  # ~1.06%: under 5%
    assert series["cpu"][at(40)] == pytest.approx(2 / 96)
    assert series["net_in"][at(15)] == 5 * IDLE_BYTES_PER_MINUTE  # no traffic
    reading = read_activity(ec2.cloudwatch, instance_id, T0, at(60), 60, Ec2Settings(), vcpus=96)
    assert reading.missing is None and reading.last_activity_at == at(30)
    # Without the vCPUs (the deployed 5% alone) the same job reads idle from the launch.
    blind = read_activity(ec2.cloudwatch, instance_id, T0, at(60), 60, Ec2Settings())
    assert blind.last_activity_at == T0


def test_the_kind_reads_the_vcpus_the_emulator_describes(ec2: Ec2) -> None:
    instance_id = ec2.launch(
        instance_type="m5.24xlarge",
        activity=(Busy(timedelta(minutes=10), timedelta(minutes=20)),),
        work_network=False,
    )
    ec2.run(60)

    seen = ec2.observe(instance_id)

    assert seen.unreadable is None and seen.last_activity_at == at(30)


def test_work_on_every_vcpu_is_full_cpu(ec2: Ec2) -> None:
    instance_id = ec2.launch(
        activity=(Busy(timedelta(minutes=0), timedelta(minutes=30)),), work_vcpus=2
    )
    ec2.run(30)

    series, _ = metric_data(ec2.cloudwatch, instance_id, T0, at(30))

    assert series["cpu"][at(10)] == 100.0
    assert cpu_when_working(96, 96) == 100.0 and cpu_when_working(2, 1) == 51.0


def test_a_period_is_complete_a_minute_before_the_kind_takes_it_as_due(ec2: Ec2) -> None:
    instance_id = ec2.launch()
    due = at(15) + METRIC_LAG  # when the kind requires the period from 09:10

    def samples(minutes: float) -> dict[datetime, float]:
        ec2.run(minutes)
        got = ec2.query(instance_id, stat="SampleCount", StartTime=T0, EndTime=at(20))
        cpu = got["MetricDataResults"][0]
        return dict(zip(cpu["Timestamps"], cpu["Values"], strict=True))

    assert samples(18)[at(10)] == 4.0  # a Nitro instance's period grows minute by minute
    complete = samples(19)
    assert complete[at(10)] == 5.0 and at(19) == due - timedelta(minutes=1)
    assert at(19) == at(15) + PUBLISH_LAG
    assert at(15) not in complete  # nothing of 09:15 yet


def test_the_first_minutes_of_an_instance_are_its_first_datapoint(ec2: Ec2) -> None:
    instance_id = ec2.launch()
    ec2.run(12)

    got = ec2.query(instance_id, StartTime=T0, EndTime=at(15), stat="SampleCount")

    cpu = got["MetricDataResults"][0]
    assert cpu["Timestamps"] == [at(5), T0]  # newest first: ScanBy's default
    assert cpu["Values"] == [3.0, 5.0]  # minute 0 (pending for 15 s) counts; 09:05 has 3 so far


def test_start_time_is_rounded_to_the_minute_and_periods_count_from_it(ec2: Ec2) -> None:
    instance_id = ec2.launch()
    ec2.run(40)

    got = ec2.query(
        instance_id,
        StartTime=at(2.5),
        EndTime=at(20),
        stat="SampleCount",
        ScanBy="TimestampAscending",
    )

    cpu = got["MetricDataResults"][0]
    # Buckets from 09:02 hold the 5-minute datapoints stamped 09:05, 09:10, 09:15.
    assert cpu["Timestamps"] == [at(2), at(7), at(12)]
    assert cpu["Values"] == [5.0, 5.0, 5.0]


def test_end_time_is_exclusive_and_a_stopped_instance_publishes_nothing_more(ec2: Ec2) -> None:
    instance_id = ec2.launch()
    ec2.run(31)
    ec2.ec2.stop_instances(InstanceIds=[instance_id])
    ec2.run(90)

    got = ec2.query(instance_id, StartTime=T0, EndTime=at(25), ScanBy="TimestampAscending")
    assert got["MetricDataResults"][0]["Timestamps"][-1] == at(20)
    later = ec2.query(instance_id, StartTime=T0, EndTime=at(90), ScanBy="TimestampAscending")
    assert later["MetricDataResults"][0]["Timestamps"][-1] == at(30)  # its last minute: 09:30


def test_pages_hold_at_most_page_size_datapoints_and_chain_by_token(ec2: Ec2) -> None:
    instance_id = ec2.launch()
    ec2.run(300)
    ec2.emulator.page_size = 50
    tokens, points, statuses = [], 0, []
    kwargs: dict[str, Any] = {"StartTime": T0, "EndTime": at(300)}
    while True:
        page = ec2.query(instance_id, **kwargs)
        points += sum(len(r["Values"]) for r in page["MetricDataResults"])
        statuses.append({r["StatusCode"] for r in page["MetricDataResults"]})
        if "NextToken" not in page:
            break
        tokens.append(page["NextToken"])
        kwargs["NextToken"] = page["NextToken"]

    assert points == 2 * 60  # 09:00 to 13:55 (the last one partial), two metrics
    assert tokens == ["50", "100"]
    assert statuses == [{"PartialData"}, {"PartialData"}, {"Complete"}]
    small = ec2.query(instance_id, StartTime=T0, EndTime=at(300), MaxDatapoints=7)
    assert sum(len(r["Values"]) for r in small["MetricDataResults"]) == 7


def test_other_metrics_are_still_moto_s(ec2: Ec2) -> None:
    instance_id = ec2.launch()
    ec2.run(30)
    ec2.cloudwatch.put_metric_data(
        Namespace="Custom/App",
        MetricData=[
            {
                "MetricName": "Jobs",
                "Dimensions": [{"Name": "InstanceId", "Value": instance_id}],
                "Timestamp": at(12),
                "Value": 3.0,
            }
        ],
    )
    custom = {
        "Id": "jobs",
        "MetricStat": {
            "Metric": {
                "Namespace": "Custom/App",
                "MetricName": "Jobs",
                "Dimensions": [{"Name": "InstanceId", "Value": instance_id}],
            },
            "Period": 300,
            "Stat": "Sum",
        },
    }

    alone = ec2.cloudwatch.get_metric_data(MetricDataQueries=[custom], StartTime=T0, EndTime=at(30))
    assert alone["MetricDataResults"][0]["Values"] == [3.0]
    mixed = ec2.query(instance_id, extra=(custom,), StartTime=T0, EndTime=at(30))
    results = {r["Id"]: r for r in mixed["MetricDataResults"]}
    assert list(results) == ["cpu", "net_in", "jobs"]
    assert results["jobs"]["Values"] == [3.0] and len(results["cpu"]["Values"]) == 6


def test_a_broken_token_is_refused(ec2: Ec2) -> None:
    instance_id = ec2.launch()
    ec2.run(30)

    with pytest.raises(ClientError):
        ec2.query(instance_id, StartTime=T0, EndTime=at(30), NextToken="x")
