"""The SageMaker notebook kind against a fake client: its start event, what DescribeNotebookInstance
and ListTags return, the activity signal, the running cap and the price table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from idle_reaper.exceptions import PolicyError, ResourceReadError
from idle_reaper.kinds import identify, kind_named
from idle_reaper.kinds.activity_signal import (
    HEARTBEAT_TAG,
    LAST_ACTIVITY_TAG,
    PUBLISH_MINUTES,
    RECHECK_MINUTES,
)
from idle_reaper.kinds.base import Look
from idle_reaper.kinds.sagemaker_notebook import (
    SageMakerNotebook,
    SageMakerSettings,
    is_notebook_name,
    notebook_arn,
    sagemaker_settings,
)
from idle_reaper.kinds.sagemaker_prices import known_instance_types, price_per_hour
from idle_reaper.policy import Policy
from idle_reaper.resource import Home, ResourceRef
from idle_reaper.verdict import decide
from tests.conftest import load_event

T0 = datetime(2026, 3, 2, 9, 0, 1, tzinfo=UTC)
"""When the notebook became InService (its LastModifiedTime)."""
KIND = SageMakerNotebook()
REF = ResourceRef(
    kind="sagemaker-notebook", id="Frank-Analysis", region="us-east-1", account="123456789012"
)
ARN = "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/frank-analysis"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def signal(heartbeat: datetime, last: datetime) -> dict[str, str]:
    return {HEARTBEAT_TAG: iso(heartbeat), LAST_ACTIVITY_TAG: iso(last)}


class FakeSageMaker:
    """Just the calls the kind makes: DescribeNotebookInstance and pages of ListTags."""

    def __init__(
        self,
        status: str = "InService",
        tags: dict[str, str] | None = None,
        *,
        pages: list[list[Any]] | None = None,
        instance_type: str = "ml.t3.medium",
        arn: str | None = ARN,
        errors: dict[str, tuple[str, str]] | None = None,
    ) -> None:
        self.status, self.instance_type, self.arn = status, instance_type, arn
        given = [{"Key": k, "Value": v} for k, v in (tags or {}).items()]
        self.pages = pages if pages is not None else [given]
        self.errors = errors or {}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _call(self, op: str, **kwargs: Any) -> None:
        self.calls.append((op, kwargs))
        if op in self.errors:
            code, message = self.errors[op]
            raise ClientError({"Error": {"Code": code, "Message": message}}, op)

    def describe_notebook_instance(self, NotebookInstanceName: str) -> dict[str, Any]:
        self._call("DescribeNotebookInstance", NotebookInstanceName=NotebookInstanceName)
        out: dict[str, Any] = {
            "NotebookInstanceName": NotebookInstanceName,
            "NotebookInstanceStatus": self.status,
            "InstanceType": self.instance_type,
            "CreationTime": T0 - timedelta(days=30),
            "LastModifiedTime": T0,
        }
        if self.arn:
            out["NotebookInstanceArn"] = self.arn
        return out

    def list_tags(self, ResourceArn: str, NextToken: str | None = None) -> dict[str, Any]:
        self._call("ListTags", ResourceArn=ResourceArn, NextToken=NextToken)
        index = int(NextToken or 0)
        page: dict[str, Any] = {"Tags": self.pages[index]}
        if index + 1 < len(self.pages):
            page["NextToken"] = str(index + 1)
        return page


def looking(client: Any, now: datetime, env: dict[str, str] | None = None) -> Look:
    return Look(client=lambda _service: client, policy=Policy.from_env(env or {}), now=now)


# -- the start event ------------------------------------------------------------------------
def test_the_inservice_event_names_the_notebook_and_no_principal() -> None:
    ref = KIND.identify(load_event("sagemaker-notebook-inservice.json"))

    assert ref == REF
    assert ref is not None and ref.principal is None


def test_the_registry_finds_the_notebook_kind_for_its_event() -> None:
    found = identify(load_event("sagemaker-notebook-inservice.json"))

    assert found is not None
    assert found[0].name == "sagemaker-notebook"


@pytest.mark.parametrize(
    "name", ["sagemaker-notebook-pending.json", "sagemaker-notebook-stopped.json"]
)
def test_events_of_other_statuses_name_nothing(name: str) -> None:
    assert KIND.identify(load_event(name)) is None


@pytest.mark.parametrize(
    "status", ["Stopping", "Updating", "Failed", "inservice", "InService ", None, 1, ["InService"]]
)
def test_only_inservice_exactly_starts_a_watch(status: Any) -> None:
    event = load_event("sagemaker-notebook-inservice.json")
    event["detail"]["NotebookInstanceStatus"] = status

    assert KIND.identify(event) is None


@pytest.mark.parametrize(
    "name",
    [
        "",
        "-starts-with-dash",
        "ends-with-dash-",
        "under_score",
        "dot.name",
        "a" * 64,
        "new\nline",
        "spa ce",
        "\uff46ullwidth",
        None,
        42,
        {"x": 1},
    ],
)
def test_a_hostile_name_names_nothing(name: Any) -> None:
    event = load_event("sagemaker-notebook-inservice.json")
    event["detail"]["NotebookInstanceName"] = name

    assert KIND.identify(event) is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("source", "aws.glue"),
        ("source", "my.sagemaker"),
        ("detail-type", "SageMaker Endpoint State Change"),
        ("region", "Us-East-1"),
        ("region", "us-east-1; drop"),
        ("region", None),
        ("account", "12345678901"),
        ("account", 123456789012),
        ("detail", "InService"),
        ("detail", None),
    ],
)
def test_a_broken_envelope_names_nothing(key: str, value: Any) -> None:
    event = load_event("sagemaker-notebook-inservice.json")
    event[key] = value

    assert KIND.identify(event) is None


def test_the_longest_legal_name_and_dashes_are_accepted() -> None:
    assert is_notebook_name("a" * 63)
    assert is_notebook_name("a--b-c")
    assert not is_notebook_name("a" * 63 + "b")


# -- phases ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "phase"),
    [
        ("Pending", "starting"),
        ("Updating", "starting"),
        ("InService", "billing"),
        ("Stopping", "ended"),
        ("Stopped", "ended"),
        ("Failed", "ended"),
        ("Deleting", "ended"),
        ("PendingMaintenance", "starting"),
        ("SomethingNew", "starting"),
    ],
)
def test_each_status_has_its_phase(status: str, phase: str) -> None:
    now = T0 + timedelta(minutes=30)
    seen = KIND.observe(REF, looking(FakeSageMaker(status, signal(now, now)), now))

    assert seen.phase == phase
    assert seen.status == status
    assert seen.started_at == T0


def test_a_run_starts_at_its_last_modified_time_not_its_creation() -> None:
    seen = KIND.observe(REF, looking(FakeSageMaker("Pending"), T0))

    assert seen.started_at == T0
    assert seen.last_activity_at == T0


# -- missing and unreadable -----------------------------------------------------------------
@pytest.mark.parametrize(
    "error",
    [
        ("ValidationException", "RecordNotFound"),
        ("ValidationException", f"Notebook Instance {ARN} does not exist"),
        ("ResourceNotFound", "nope"),
    ],
)
def test_a_notebook_that_does_not_exist_is_missing(error: tuple[str, str]) -> None:
    client = FakeSageMaker(errors={"DescribeNotebookInstance": error})

    seen = KIND.observe(REF, looking(client, T0))

    assert seen.phase == "missing"
    assert decide(KIND.name, seen, Policy.from_env({}), T0).outcome == "gone"


@pytest.mark.parametrize(
    "error",
    [
        ("ValidationException", "1 validation error detected: Value at 'notebookInstanceName'"),
        ("ThrottlingException", "Rate exceeded"),
        ("AccessDeniedException", "not authorized"),
    ],
)
def test_any_other_refusal_is_a_read_error(error: tuple[str, str]) -> None:
    client = FakeSageMaker(errors={"DescribeNotebookInstance": error})

    with pytest.raises(ResourceReadError, match="DescribeNotebookInstance Frank-Analysis"):
        KIND.observe(REF, looking(client, T0))


def test_a_failed_list_tags_is_a_read_error() -> None:
    client = FakeSageMaker(errors={"ListTags": ("ThrottlingException", "slow down")})

    with pytest.raises(ResourceReadError, match="ListTags"):
        KIND.observe(REF, looking(client, T0))


def test_a_carried_id_no_notebook_can_have_is_missing_without_a_call() -> None:
    client = FakeSageMaker()
    ref = ResourceRef(kind=KIND.name, id="bad name!", region="us-east-1", account="123456789012")

    seen = KIND.observe(ref, looking(client, T0))

    assert seen.phase == "missing"
    assert client.calls == []


# -- tags and the ARN -----------------------------------------------------------------------
def test_tags_are_read_across_pages_from_the_arn_sagemaker_gives() -> None:
    client = FakeSageMaker(
        pages=[
            [{"Key": "owner", "Value": "frank@example.com"}],
            [{"Key": "team", "Value": "analytics"}, {"Key": 7, "Value": "x"}, "junk"],
        ]
    )

    seen = KIND.observe(REF, looking(client, T0))

    assert seen.tags == {"owner": "frank@example.com", "team": "analytics"}
    assert [kw["ResourceArn"] for op, kw in client.calls if op == "ListTags"] == [ARN, ARN]
    assert seen.arn == ARN
    assert KIND.owner(REF, seen) == "frank@example.com"


def test_without_an_arn_in_the_answer_the_name_is_lower_cased_as_sagemaker_does() -> None:
    client = FakeSageMaker(arn=None)

    seen = KIND.observe(REF, looking(client, T0))

    assert seen.arn == ARN == notebook_arn(REF)


def test_the_arn_is_in_the_resources_partition() -> None:
    ref = ResourceRef(kind=KIND.name, id="Nb1", region="cn-north-1", account="123456789012")

    assert notebook_arn(ref) == "arn:aws-cn:sagemaker:cn-north-1:123456789012:notebook-instance/nb1"


def test_no_owner_tag_means_no_owner() -> None:
    seen = KIND.observe(REF, looking(FakeSageMaker(), T0))

    assert KIND.owner(REF, seen) is None


# -- the activity signal --------------------------------------------------------------------
def test_without_a_signal_after_the_grace_the_watch_ends_exempt_saying_why() -> None:
    now = T0 + timedelta(minutes=15)
    seen = KIND.observe(REF, looking(FakeSageMaker(), now))

    verdict = decide(KIND.name, seen, Policy.from_env({}), now)

    assert seen.unwatchable is not None and seen.unwatchable.startswith("no activity signal")
    assert seen.running_cap_minutes is None
    assert verdict.action == "done"
    assert verdict.outcome == "exempt"
    assert "lifecycle configuration" in verdict.reason


def test_within_the_grace_a_missing_signal_is_looked_at_again_soon() -> None:
    now = T0 + timedelta(minutes=3)
    seen = KIND.observe(REF, looking(FakeSageMaker(), now))

    verdict = decide(KIND.name, seen, Policy.from_env({}), now)

    assert seen.unreadable is not None
    assert seen.recheck_minutes == RECHECK_MINUTES
    assert verdict.action == "wait"
    assert verdict.next_check_at == now + timedelta(minutes=RECHECK_MINUTES)


def test_an_idle_signal_gives_its_last_activity_and_the_deadline_after_it() -> None:
    now = T0 + timedelta(hours=2)
    last = now - timedelta(minutes=30)
    seen = KIND.observe(REF, looking(FakeSageMaker(tags=signal(now, last)), now))

    verdict = decide(KIND.name, seen, Policy.from_env({}), now)

    assert seen.last_activity_at == last
    assert not seen.busy
    assert verdict.action == "wait"
    assert verdict.deadline == last + timedelta(minutes=60)


def test_a_busy_kernel_publishes_now_so_the_notebook_is_not_idle() -> None:
    now = T0 + timedelta(hours=5)
    heartbeat = now - timedelta(seconds=40)
    seen = KIND.observe(REF, looking(FakeSageMaker(tags=signal(heartbeat, heartbeat)), now))

    verdict = decide(KIND.name, seen, Policy.from_env({}), now)

    assert seen.last_activity_at == heartbeat
    assert verdict.action == "wait"
    assert verdict.deadline is not None and verdict.deadline > now + timedelta(minutes=55)


def test_an_idle_notebook_past_its_allowance_is_warned_then_stopped() -> None:
    now = T0 + timedelta(hours=3)
    last = now - timedelta(minutes=61)
    seen = KIND.observe(REF, looking(FakeSageMaker(tags=signal(now, last)), now))
    policy = Policy.from_env({})

    warned = decide(KIND.name, seen, policy, now)
    stopped = decide(KIND.name, seen, policy, now + timedelta(minutes=5), warned_since=iso(last))

    assert warned.action == "warn"
    assert stopped.action == "stop"
    assert stopped.savings_usd is not None


def test_no_stop_on_a_heartbeat_older_than_the_deadline() -> None:
    """Review s19: a heartbeat under LATE_AFTER old was read as a full reading at the look that
    stops, so a kernel started after it (the script late, its AddTags throttled) was killed.
    The stop waits for the signal to report up to the deadline; until then the activity is
    unreadable for now and looked at again RECHECK_MINUTES later."""
    deadline = T0 + timedelta(minutes=60)
    stop_look = deadline + KIND.signal_lag
    policy = Policy.from_env({})
    heartbeat = deadline - timedelta(seconds=1)
    seen = KIND.observe(REF, looking(FakeSageMaker(tags=signal(heartbeat, T0)), stop_look))
    verdict = decide(KIND.name, seen, policy, stop_look, warned_since=iso(T0))
    assert (seen.reported_until, seen.signal_lag) == (heartbeat, KIND.signal_lag)
    assert verdict.action == "wait", verdict.reason
    assert verdict.next_check_at == stop_look + timedelta(minutes=RECHECK_MINUTES)
    fresh = KIND.observe(REF, looking(FakeSageMaker(tags=signal(deadline, T0)), stop_look))
    assert decide(KIND.name, fresh, policy, stop_look, warned_since=iso(T0)).action == "stop"


def test_the_stop_look_comes_after_the_next_heartbeat_is_due() -> None:
    """The script publishes on the minute; the look that stops comes PUBLISH_MINUTES and a
    minute's margin after the deadline, and the warning still names the deadline itself."""
    assert KIND.signal_lag == timedelta(minutes=PUBLISH_MINUTES + 1)
    deadline = T0 + timedelta(minutes=60)
    now = deadline - timedelta(minutes=5)
    seen = KIND.observe(REF, looking(FakeSageMaker(tags=signal(now, T0)), now))
    warned = decide(KIND.name, seen, Policy.from_env({}), now)
    assert (warned.action, warned.deadline) == ("warn", deadline)
    assert warned.next_check_at == deadline + KIND.signal_lag


def test_a_late_heartbeat_is_never_idleness() -> None:
    now = T0 + timedelta(hours=3)
    seen = KIND.observe(
        REF,
        looking(FakeSageMaker(tags=signal(now - timedelta(minutes=10), T0)), now),
    )

    verdict = decide(KIND.name, seen, Policy.from_env({}), now)

    assert seen.unreadable is not None and "late" in seen.unreadable
    assert verdict.action == "wait"
    assert "never stopped on a guess" in verdict.reason


def test_a_heartbeat_from_before_this_run_is_no_signal() -> None:
    now = T0 + timedelta(minutes=20)
    old = T0 - timedelta(minutes=1)
    seen = KIND.observe(REF, looking(FakeSageMaker(tags=signal(old, old)), now))

    assert seen.unwatchable is not None and seen.unwatchable.startswith("no activity signal")


def test_a_lost_signal_ends_exempt_with_when_it_stopped() -> None:
    now = T0 + timedelta(hours=4)
    heartbeat = T0 + timedelta(hours=2)
    seen = KIND.observe(REF, looking(FakeSageMaker(tags=signal(heartbeat, heartbeat)), now))

    assert seen.unwatchable is not None
    assert iso(heartbeat) in seen.unwatchable


def test_a_signal_is_not_read_while_the_notebook_does_not_bill() -> None:
    seen = KIND.observe(REF, looking(FakeSageMaker("Stopping"), T0 + timedelta(hours=9)))

    assert seen.unwatchable is None and seen.unreadable is None


# -- the running cap ------------------------------------------------------------------------
def test_with_max_hours_a_notebook_without_a_signal_is_stopped_that_long_after_its_start() -> None:
    env = {"SAGEMAKER_MAX_HOURS": "4"}
    policy = Policy.from_env(env)
    early = T0 + timedelta(minutes=30)
    seen = KIND.observe(REF, looking(FakeSageMaker(), early, env))

    waiting = decide(KIND.name, seen, policy, early)
    warned = decide(KIND.name, seen, policy, T0 + timedelta(hours=4) - timedelta(minutes=5))
    stopped = decide(KIND.name, seen, policy, T0 + timedelta(hours=4), warned_since=iso(T0))

    assert seen.running_cap_minutes == 240
    assert seen.unwatchable is not None
    assert seen.unwatchable.startswith(
        "no activity signal: stopped after SageMakerMaxHours=4 h of running"
    )
    assert waiting.action == "wait"
    assert warned.action == "warn"
    assert stopped.action == "stop"
    assert "SageMakerMaxHours=4 h" in stopped.reason


def test_the_cap_never_applies_while_the_signal_is_fresh() -> None:
    env = {"SAGEMAKER_MAX_HOURS": "1"}
    now = T0 + timedelta(hours=6)
    seen = KIND.observe(REF, looking(FakeSageMaker(tags=signal(now, now)), now, env))

    assert seen.running_cap_minutes is None
    assert decide(KIND.name, seen, Policy.from_env(env), now).action == "wait"


def test_a_lost_signal_with_the_cap_says_when_the_signal_stopped() -> None:
    env = {"SAGEMAKER_MAX_HOURS": "2"}
    heartbeat = T0 + timedelta(minutes=20)
    now = T0 + timedelta(hours=3)
    seen = KIND.observe(REF, looking(FakeSageMaker(tags=signal(heartbeat, T0)), now, env))

    assert seen.running_cap_minutes == 120
    assert seen.unwatchable == (
        f"the activity signal stopped at {iso(heartbeat)}: stopped after SageMakerMaxHours=2 h "
        "of running; attach idle-reaper's lifecycle configuration (README: SageMaker activity "
        "signal) to have it stopped only when idle"
    )


@pytest.mark.parametrize(
    ("raw", "hours"), [("", 0), ("0", 0), ("4", 4), ("8760", 8760), (" 12 ", 12)]
)
def test_max_hours_takes_whole_hours(raw: str, hours: int) -> None:
    assert sagemaker_settings({"SAGEMAKER_MAX_HOURS": raw}) == SageMakerSettings(max_hours=hours)
    assert sagemaker_settings({}) == SageMakerSettings(max_hours=0)


@pytest.mark.parametrize("raw", ["8761", "-1", "1.5", "four", "+4", "1_0", "٣", "99999"])
def test_a_bad_max_hours_is_a_policy_error_naming_it(raw: str) -> None:
    with pytest.raises(PolicyError, match="SAGEMAKER_MAX_HOURS"):
        Policy.from_env({"SAGEMAKER_MAX_HOURS": raw})


def test_the_policy_carries_the_kinds_settings_and_idle_minutes() -> None:
    policy = Policy.from_env({"SAGEMAKER_MAX_HOURS": "3", "SAGEMAKER_IDLE_MINUTES": "45"})

    assert policy.kind_settings["sagemaker-notebook"] == SageMakerSettings(max_hours=3)
    assert policy.idle_minutes["sagemaker-notebook"] == 45
    assert Policy.from_env({}).idle_minutes["sagemaker-notebook"] == 60


# -- prices ---------------------------------------------------------------------------------
def test_a_known_type_has_its_notebook_price() -> None:
    seen = KIND.observe(REF, looking(FakeSageMaker(instance_type="ml.t3.medium"), T0))

    assert seen.cost_per_hour == 0.05


@pytest.mark.parametrize("instance_type", ["ml.m5.large", "ml.t2.medium", "", "ml.t3.medium "])
def test_an_unknown_type_has_no_price_and_no_savings(instance_type: str) -> None:
    now = T0 + timedelta(hours=3)
    last = now - timedelta(minutes=70)
    client = FakeSageMaker(instance_type=instance_type, tags=signal(now, last))
    seen = KIND.observe(REF, looking(client, now))

    verdict = decide(KIND.name, seen, Policy.from_env({"WARNING_MINUTES": "0"}), now)

    assert seen.cost_per_hour is None
    assert verdict.action == "stop"
    assert verdict.cost_usd is None
    assert verdict.savings_usd is None


def test_prices_are_per_region_and_product() -> None:
    assert price_per_hour("us-east-1", "ml.g4dn.xlarge", "notebook") == 0.736
    assert price_per_hour("us-east-1", "ml.g4dn.xlarge", "studio") == 0.7364
    assert price_per_hour("eu-west-1", "ml.t3.medium", "notebook") is None
    assert price_per_hour("us-east-1", None, "notebook") is None  # type: ignore[arg-type]
    assert "ml.t3.medium" in known_instance_types("us-east-1", "notebook")
    assert known_instance_types("eu-west-1", "studio") == ()


# -- what the template and the watcher read -------------------------------------------------
def test_the_kind_declares_its_permissions_and_stop() -> None:
    kind = kind_named("sagemaker-notebook")

    assert kind.read_permissions == ("sagemaker:DescribeNotebookInstance", "sagemaker:ListTags")
    assert kind.stop_permissions == ("sagemaker:StopNotebookInstance",)
    assert kind.stop_resource_arn.endswith(":notebook-instance/*")
    assert kind.stopping_statuses == {"Stopping", "Stopped"}
    assert kind.stop_unanswered_errors == set()  # its errors cannot tell a refusal apart
    assert kind.stop_target(REF) is None


def test_the_console_link_opens_the_notebooks_page() -> None:
    assert KIND.console_url(REF) == (
        "https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1"
        "#/notebook-instances/Frank-Analysis"
    )
    gov = ResourceRef(kind=KIND.name, id="nb", region="us-gov-west-1", account="123456789012")
    assert KIND.console_url(gov) == (
        "https://console.amazonaws-us-gov.com/sagemaker/home?region=us-gov-west-1"
        "#/notebook-instances/nb"
    )


# -- running(): what the sweeper lists ------------------------------------------------------------
HOME = Home(partition="aws", region="us-east-1", account="123456789012")


class Paginator:
    """A boto3 paginator over fixed pages; `error` fails the call as SageMaker would."""

    def __init__(self, pages: list[Any], error: str | None, calls: list[dict[str, Any]]) -> None:
        self.pages, self.error, self.calls = pages, error, calls

    def paginate(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "x"}}, "List")
        yield from self.pages


class ListingSageMaker:
    """ListNotebookInstances in pages, and DescribeNotebookInstance / ListTags answering from
    the same summaries, so running() and observe() read the very same data."""

    def __init__(self, pages: list[Any], error: str | None = None) -> None:
        self.pages, self.error = pages, error
        self.operations: list[str] = []
        self.calls: list[dict[str, Any]] = []

    def get_paginator(self, operation: str) -> Paginator:
        self.operations.append(operation)
        return Paginator(self.pages, self.error, self.calls)

    def describe_notebook_instance(self, NotebookInstanceName: str) -> dict[str, Any]:
        for page in self.pages:
            for item in page["NotebookInstances"]:
                if item["NotebookInstanceName"] == NotebookInstanceName:
                    return dict(item)
        raise AssertionError(NotebookInstanceName)

    def list_tags(self, ResourceArn: str, NextToken: str | None = None) -> dict[str, Any]:
        return {"Tags": []}


def summary(name: str, status: str = "InService", **changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "NotebookInstanceName": name,
        "NotebookInstanceStatus": status,
        "InstanceType": "ml.t3.medium",
        "CreationTime": T0 - timedelta(days=30),
        "LastModifiedTime": T0,
    }
    for key, value in changes.items():
        if value is None:
            item.pop(key)
        else:
            item[key] = value
    return item


def notebooks(client: Any) -> list[Any]:
    return list(KIND.running(lambda _service: client, HOME))


def test_running_lists_in_service_notebooks_across_pages_filtered_by_sagemaker() -> None:
    client = ListingSageMaker(
        [
            {"NotebookInstances": [summary("a"), summary("b", "Stopped")]},
            {"NotebookInstances": [summary("c"), summary("d", "Pending")]},
        ]
    )
    found = notebooks(client)
    assert [s.ref.id for s in found] == ["a", "c"]
    assert client.operations == ["list_notebook_instances"]
    assert client.calls == [{"StatusEquals": "InService"}]
    assert {(s.ref.kind, s.ref.account, s.ref.region) for s in found} == {
        ("sagemaker-notebook", "123456789012", "us-east-1")
    }


def test_a_pending_notebook_is_left_to_a_later_sweep() -> None:
    """Its LastModifiedTime moves when it goes InService: a watcher claimed now would claim
    a run that is over (gone) the moment the notebook bills."""
    client = ListingSageMaker([{"NotebookInstances": [summary("p", "Pending")]}])
    assert notebooks(client) == []


@pytest.mark.parametrize(
    "changes",
    [{}, {"LastModifiedTime": None}, {"LastModifiedTime": "soon"}],
)
def test_a_sightings_start_is_exactly_what_observe_reads(changes: dict[str, Any]) -> None:
    client = ListingSageMaker([{"NotebookInstances": [summary("Frank-Analysis", **changes)]}])
    [sighting] = notebooks(client)
    seen = KIND.observe(sighting.ref, Look(lambda _s: client, Policy.from_env({}), T0))
    assert sighting.started_at == seen.started_at
    assert sighting.started_at is not None


@pytest.mark.parametrize(
    "item",
    [
        "nb",
        None,
        {"NotebookInstanceName": "nb"},
        summary("has space"),
        summary("x" * 64),
        summary(""),
        summary("nb", NotebookInstanceName=5),
        summary("nb", LastModifiedTime=None, CreationTime=None),
        summary("nb", LastModifiedTime=True, CreationTime="then"),
        summary("nb", NotebookInstanceStatus=["InService"]),
    ],
)
def test_a_malformed_item_is_skipped_and_the_listing_goes_on(item: Any) -> None:
    client = ListingSageMaker(
        [{"NotebookInstances": [item, summary("ok")]}, {"NotebookInstances": [summary("ok2")]}]
    )
    assert [s.ref.id for s in notebooks(client)] == ["ok", "ok2"]


def test_a_page_that_is_no_listing_is_no_notebooks() -> None:
    client = ListingSageMaker([{"NotebookInstances": {"a": 1}}, "junk", {}])
    assert notebooks(client) == []


@pytest.mark.parametrize("code", ["AccessDeniedException", "ThrottlingException"])
def test_a_failed_listing_is_a_read_error(code: str) -> None:
    with pytest.raises(ResourceReadError, match="ListNotebookInstances"):
        notebooks(ListingSageMaker([], error=code))


def test_endless_pages_are_a_read_error() -> None:
    client = ListingSageMaker([])
    client.pages = iter_forever()  # type: ignore[assignment]
    with pytest.raises(ResourceReadError, match="pages"):
        notebooks(client)


def iter_forever() -> Any:
    while True:
        yield {"NotebookInstances": []}


def test_the_listing_permission() -> None:
    assert KIND.list_permissions == ("sagemaker:ListNotebookInstances",)
