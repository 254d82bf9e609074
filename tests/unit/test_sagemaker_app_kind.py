"""The Studio app kind against a fake SageMaker client: which CreateApp events it watches, the
id it carries and the DeleteApp call it gives, and how an app's state is read."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from idle_reaper.exceptions import PolicyError, ResourceReadError
from idle_reaper.kinds import identify, kind_named
from idle_reaper.kinds.activity_signal import HEARTBEAT_TAG, LAST_ACTIVITY_TAG, RECHECK_MINUTES
from idle_reaper.kinds.base import Look
from idle_reaper.kinds.sagemaker_app import AppId, SageMakerApp
from idle_reaper.policy import Policy
from idle_reaper.resource import Home, ResourceRef
from idle_reaper.verdict import decide
from tests.conftest import load_event

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SPACE_ID = "d-demo/space/grace-lab-space/JupyterLab/default"
USER_ID = "d-demo/user/grace/KernelGateway/datascience-1-0-ml-t3-medium"
KIND = kind_named("sagemaker-app")


def ref(app_id: str = SPACE_ID, region: str = "us-east-1") -> ResourceRef:
    return ResourceRef(kind="sagemaker-app", id=app_id, region=region, account="123456789012")


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def signal(heartbeat: datetime, last: datetime) -> dict[str, str]:
    return {HEARTBEAT_TAG: iso(heartbeat), LAST_ACTIVITY_TAG: iso(last)}


def looking(client: Any, now: datetime, env: dict[str, str] | None = None) -> Look:
    return Look(client=lambda _service: client, policy=Policy.from_env(env or {}), now=now)


class FakeSageMaker:
    """The calls the kind makes, answering like SageMaker; `errors` fails an operation."""

    def __init__(
        self,
        status: str = "InService",
        instance_type: str | None = "ml.t3.medium",
        tags: dict[str, str] | None = None,
        space: dict[str, Any] | None = None,
        domain: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        page_size: int = 2,
        arn_given: bool = True,
    ) -> None:
        self.status, self.instance_type = status, instance_type
        self.tags = dict(tags or {})
        self.space = space if space is not None else {"SpaceName": "grace-lab-space"}
        self.domain = domain if domain is not None else {"DomainId": "d-demo"}
        self.errors = errors or {}
        self.page_size = page_size
        self.arn_given = arn_given
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _call(self, op: str, params: dict[str, Any]) -> None:
        self.calls.append((op, params))
        if op in self.errors:
            raise ClientError({"Error": {"Code": self.errors[op], "Message": "x"}}, op)

    def describe_app(self, **params: Any) -> dict[str, Any]:
        self._call("DescribeApp", params)
        owner = params.get("SpaceName") or params.get("UserProfileName")
        app_type, name = params["AppType"], params["AppName"]
        arn = (
            f"arn:aws:sagemaker:us-east-1:123456789012:app/{params['DomainId']}/{owner}/"
            f"{app_type.lower()}/{name}"
        )
        out: dict[str, Any] = {
            "AppType": app_type,
            "AppName": name,
            "DomainId": params["DomainId"],
            "Status": self.status,
            "CreationTime": T0,
            # Health checks move it: the kind must never read it as use.
            "LastUserActivityTimestamp": T0 + timedelta(days=9),
        }
        if self.arn_given:
            out["AppArn"] = arn
        if self.instance_type is not None:
            out["ResourceSpec"] = {"InstanceType": self.instance_type}
        return out

    def list_tags(self, ResourceArn: str, NextToken: str | None = None) -> dict[str, Any]:
        self._call("ListTags", {"ResourceArn": ResourceArn, "NextToken": NextToken})
        pairs = [{"Key": k, "Value": v} for k, v in self.tags.items()]
        start = int(NextToken or 0)
        page: dict[str, Any] = {"Tags": pairs[start : start + self.page_size]}
        if start + self.page_size < len(pairs):
            page["NextToken"] = str(start + self.page_size)
        return page

    def describe_space(self, **params: Any) -> dict[str, Any]:
        self._call("DescribeSpace", params)
        return self.space

    def describe_domain(self, **params: Any) -> dict[str, Any]:
        self._call("DescribeDomain", params)
        return self.domain

    def ops(self) -> list[str]:
        return [op for op, _ in self.calls]


def idle_settings(minutes: int | None, state: str | None = "ENABLED") -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if state is not None:
        settings["LifecycleManagement"] = state
    if minutes is not None:
        settings["IdleTimeoutInMinutes"] = minutes
    return {"AppLifecycleManagement": {"IdleSettings": settings}}


# -- identify -----------------------------------------------------------------------------------
def test_identifies_a_jupyterlab_app_in_a_space() -> None:
    found = KIND.identify(load_event("sagemaker-create-app-jupyterlab.json"))
    assert found is not None
    assert (found.id, found.region, found.account) == (SPACE_ID, "us-east-1", "123456789012")
    assert found.principal == (
        "arn:aws:sts::123456789012:assumed-role/DataScientist/grace@example.com"
    )
    assert identify(load_event("sagemaker-create-app-jupyterlab.json")) == (KIND, found)


def with_request(**changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event("sagemaker-create-app-jupyterlab.json"))
    request = event["detail"]["requestParameters"]
    for key, value in changes.items():
        if value is ...:
            request.pop(key, None)
        else:
            request[key] = value
    return event


@pytest.mark.parametrize("app_type", ["JupyterLab", "CodeEditor", "KernelGateway"])
def test_every_billed_app_type_is_watched(app_type: str) -> None:
    found = KIND.identify(with_request(appType=app_type))
    assert found is not None
    assert found.id == f"d-demo/space/grace-lab-space/{app_type}/default"


def test_an_app_of_a_user_profile_is_watched_under_its_profile() -> None:
    event = with_request(
        spaceName=..., userProfileName="grace", appType="KernelGateway", appName="dsk-1"
    )
    found = KIND.identify(event)
    assert found is not None
    assert found.id == "d-demo/user/grace/KernelGateway/dsk-1"


def test_an_app_with_no_resource_spec_is_watched() -> None:
    """The space's default instance type: DescribeApp says which, and what it costs."""
    assert KIND.identify(with_request(resourceSpec=...)) is not None
    assert KIND.identify(with_request(resourceSpec=None)) is not None
    assert KIND.identify(with_request(resourceSpec={})) is not None


@pytest.mark.parametrize("spec", [0, "", [], False, 0.0, ()])
def test_a_resource_spec_that_is_there_but_no_object_is_malformed(spec: Any) -> None:
    """A falsy value is not "no spec": CloudTrail writes an object or nothing."""
    assert KIND.identify(with_request(resourceSpec=spec)) is None


@pytest.mark.parametrize(
    "name",
    [
        "sagemaker-create-app-jupyterserver.json",  # free: Studio Classic's UI on `system`
        "sagemaker-create-app-failed.json",  # errorCode: no app was created
        "amplify-create-app.json",  # Amplify's CreateApp: another service
        "glue-create-session.json",
    ],
)
def test_free_failed_and_foreign_events_name_no_app(name: str) -> None:
    assert KIND.identify(load_event(name)) is None


def test_the_jupyterserver_sample_would_be_watched_but_for_its_type() -> None:
    """The free sample is refused for being free, not for some other flaw of the file."""
    event = load_event("sagemaker-create-app-jupyterserver.json")
    event["detail"]["requestParameters"]["appType"] = "KernelGateway"
    event["detail"]["requestParameters"]["resourceSpec"]["instanceType"] = "ml.t3.medium"
    assert KIND.identify(event) is not None


@pytest.mark.parametrize(
    "changes",
    [
        {"resourceSpec": {"instanceType": "system"}},
        {"appType": "JupyterServer"},
        {"appType": "Canvas"},
        {"appType": "jupyterlab"},
        {"appType": ["JupyterLab"]},  # unhashable: must not raise
        {"appType": ...},
        {"domainId": "D-demo"},
        {"domainId": "demo"},
        {"domainId": "d-" + "a" * 62},  # 64 characters
        {"domainId": 7},
        {"spaceName": "grace_lab"},
        {"spaceName": "-grace"},
        {"spaceName": "g" * 64},
        {"spaceName": "x/../y"},
        {"spaceName": {"$ref": 1}},
        {"spaceName": ...},  # neither a space nor a user profile
        {"userProfileName": "grace"},  # both a space and a user profile
        {"appName": "default\n"},
        {"appName": "a/b"},
        {"appName": ""},
        {"resourceSpec": "ml.t3.medium"},
        {"resourceSpec": {"instanceType": ["ml.t3.medium"]}},
    ],
)
def test_hostile_or_broken_requests_name_no_app(changes: dict[str, Any]) -> None:
    assert KIND.identify(with_request(**changes)) is None


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.__setitem__("source", "aws.amplify"),
        lambda e: e.__setitem__("detail-type", "SageMaker App State Change"),
        lambda e: e["detail"].__setitem__("eventSource", "amplify.amazonaws.com"),
        lambda e: e["detail"].__setitem__("eventName", "DeleteApp"),
        lambda e: e["detail"].__setitem__("errorCode", None),
        lambda e: e["detail"].__setitem__("requestParameters", None),
        lambda e: e["detail"].__setitem__("requestParameters", ["domainId"]),
        lambda e: e["detail"].__setitem__("awsRegion", "moon-1"),
        lambda e: e.__setitem__("account", "12345"),
        lambda e: e.__setitem__("detail", "CreateApp"),
    ],
)
def test_events_that_are_not_a_successful_sagemaker_create_app_name_no_app(mutate: Any) -> None:
    event = copy.deepcopy(load_event("sagemaker-create-app-jupyterlab.json"))
    mutate(event)
    assert KIND.identify(event) is None


def test_a_hostile_principal_is_dropped_but_the_app_is_watched() -> None:
    event = copy.deepcopy(load_event("sagemaker-create-app-jupyterlab.json"))
    event["detail"]["userIdentity"]["arn"] = "arn:aws:sts::1:assumed-role/x/evil\nname"
    found = KIND.identify(event)
    assert found is not None and found.principal is None


# -- the id and the stop ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("app_id", "target"),
    [
        (
            SPACE_ID,
            {
                "DomainId": "d-demo",
                "SpaceName": "grace-lab-space",
                "AppType": "JupyterLab",
                "AppName": "default",
            },
        ),
        (
            USER_ID,
            {
                "DomainId": "d-demo",
                "UserProfileName": "grace",
                "AppType": "KernelGateway",
                "AppName": "datascience-1-0-ml-t3-medium",
            },
        ),
    ],
)
def test_the_id_parses_back_to_the_delete_app_call(app_id: str, target: dict[str, str]) -> None:
    parsed = AppId.parse(app_id)
    assert parsed is not None and str(parsed) == app_id
    assert KIND.stop_target(ref(app_id)) == target


@pytest.mark.parametrize(
    "app_id",
    [
        "d-demo/space/grace-lab-space/JupyterLab",
        "d-demo/space/grace-lab-space/JupyterLab/default/x",
        "d-demo/team/grace-lab-space/JupyterLab/default",
        "d-demo/space/grace-lab-space/JupyterServer/default",
        "d-demo/space/grace lab/JupyterLab/default",
        "alice-etl",
    ],
)
def test_an_id_that_is_no_studio_app_gives_no_stop_and_is_never_looked_up(app_id: str) -> None:
    assert AppId.parse(app_id) is None
    assert KIND.stop_target(ref(app_id)) is None
    client = FakeSageMaker()
    seen = KIND.observe(ref(app_id), looking(client, T0))
    assert seen.phase == "missing"
    assert client.calls == []


def test_the_declared_stop() -> None:
    assert isinstance(KIND, SageMakerApp)
    assert KIND.stop_permissions == ("sagemaker:DeleteApp",)
    assert KIND.read_permissions == (
        "sagemaker:DescribeApp",
        "sagemaker:ListTags",
        "sagemaker:DescribeSpace",
        "sagemaker:DescribeDomain",
    )
    assert KIND.stopping_statuses == {"Deleting", "Deleted"}
    assert KIND.stop_unanswered_errors == set()  # its errors cannot tell a refusal apart


# -- observe: phases ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "phase"),
    [
        ("Pending", "starting"),
        ("InService", "billing"),
        ("Deleting", "ended"),
        ("Deleted", "ended"),
        ("Failed", "ended"),
        ("Hibernating", "starting"),  # a status SageMaker adds later is never billing
    ],
)
def test_status_to_phase(status: str, phase: str) -> None:
    now = T0 + timedelta(minutes=30)
    client = FakeSageMaker(status=status, tags=signal(now, now))
    seen = KIND.observe(ref(), looking(client, now))
    assert (seen.phase, seen.status) == (phase, status)
    assert seen.started_at == T0
    assert seen.arn == (
        "arn:aws:sagemaker:us-east-1:123456789012:app/d-demo/grace-lab-space/jupyterlab/default"
    )
    assert client.calls[0] == ("DescribeApp", KIND.stop_target(ref()))


def test_a_missing_app_is_missing() -> None:
    client = FakeSageMaker(errors={"DescribeApp": "ResourceNotFound"})
    seen = KIND.observe(ref(), looking(client, T0))
    assert seen.phase == "missing"
    assert client.ops() == ["DescribeApp"]


@pytest.mark.parametrize(
    "fail", [{"DescribeApp": "ThrottlingException"}, {"DescribeApp": "AccessDeniedException"}]
)
def test_a_failed_describe_is_a_read_error(fail: dict[str, str]) -> None:
    with pytest.raises(ResourceReadError, match="DescribeApp"):
        KIND.observe(ref(), looking(FakeSageMaker(errors=fail), T0))


def test_a_failed_list_tags_is_a_read_error_while_it_bills() -> None:
    client = FakeSageMaker(errors={"ListTags": "ThrottlingException"})
    with pytest.raises(ResourceReadError, match="ListTags"):
        KIND.observe(ref(), looking(client, T0 + timedelta(minutes=3)))


def test_an_ended_app_that_no_longer_answers_for_its_tags_is_still_ended() -> None:
    client = FakeSageMaker(status="Deleted", errors={"ListTags": "ValidationException"})
    seen = KIND.observe(ref(), looking(client, T0))
    assert (seen.phase, seen.tags) == ("ended", {})


class EndlessTags(FakeSageMaker):
    """A ListTags that always has one more page (a broken or hostile answer)."""

    def list_tags(self, ResourceArn: str, NextToken: str | None = None) -> dict[str, Any]:
        self._call("ListTags", {"ResourceArn": ResourceArn, "NextToken": NextToken})
        if len(self.calls) > 200:
            pytest.fail("ListTags was paged without end")
        return {"Tags": [], "NextToken": str(len(self.calls))}


def test_list_tags_pages_are_bounded() -> None:
    from idle_reaper.kinds.sagemaker_notebook import MAX_TAG_PAGES

    client = EndlessTags()

    with pytest.raises(ResourceReadError, match=f"more than {MAX_TAG_PAGES} pages"):
        KIND.observe(ref(), looking(client, NOW))
    assert client.ops().count("ListTags") == MAX_TAG_PAGES


def test_an_ended_app_with_endless_tag_pages_is_still_ended() -> None:
    seen = KIND.observe(ref(), looking(EndlessTags(status="Deleted"), NOW))
    assert seen.phase == "ended" and seen.tags == {}


def test_tags_are_read_across_pages_with_the_apps_arn() -> None:
    now = T0 + timedelta(minutes=30)
    tags = {"owner": "grace@example.com", "team": "ml", **signal(now, now)}
    client = FakeSageMaker(tags=tags, page_size=1)
    seen = KIND.observe(ref(), looking(client, now))
    assert seen.tags == tags
    listed = [p for op, p in client.calls if op == "ListTags"]
    assert len(listed) == 4
    assert {p["ResourceArn"] for p in listed} == {seen.arn}
    assert KIND.owner(ref(), seen) == "grace@example.com"


def test_without_an_arn_from_describe_app_the_tags_are_read_on_the_lower_case_arn() -> None:
    client = FakeSageMaker(arn_given=False, tags={"owner": "grace@example.com"})
    seen = KIND.observe(ref("d-demo/space/Grace-Lab/CodeEditor/Default"), looking(client, T0))
    assert seen.arn == (
        "arn:aws:sagemaker:us-east-1:123456789012:app/d-demo/grace-lab/codeeditor/default"
    )
    assert [p["ResourceArn"] for op, p in client.calls if op == "ListTags"] == [seen.arn]


def test_without_an_owner_tag_the_owner_is_whoever_created_it() -> None:
    created = KIND.identify(load_event("sagemaker-create-app-jupyterlab.json"))
    assert created is not None
    seen = KIND.observe(created, looking(FakeSageMaker(), T0 + timedelta(minutes=1)))
    assert KIND.owner(created, seen) == "grace@example.com"


# -- observe: price -----------------------------------------------------------------------------
def test_a_known_instance_type_has_its_studio_price() -> None:
    now = T0 + timedelta(minutes=30)
    seen = KIND.observe(ref(), looking(FakeSageMaker(tags=signal(now, now)), now))
    assert seen.cost_per_hour == 0.05


@pytest.mark.parametrize(
    ("instance_type", "region"),
    [("ml.x9.huge", "us-east-1"), (None, "us-east-1"), ("ml.t3.medium", "eu-west-1")],
)
def test_an_unknown_price_is_none_never_a_guess(instance_type: str | None, region: str) -> None:
    now = T0 + timedelta(minutes=30)
    client = FakeSageMaker(instance_type=instance_type, tags=signal(now, now))
    seen = KIND.observe(ref(region=region), looking(client, now))
    assert seen.cost_per_hour is None
    assert seen.phase == "billing" and seen.last_activity_at == now


def test_an_app_that_turns_out_to_run_on_system_is_free_and_never_stopped() -> None:
    now = T0 + timedelta(hours=30)
    client = FakeSageMaker(instance_type="system")
    seen = KIND.observe(ref(), looking(client, now, {"SAGEMAKER_MAX_HOURS": "1"}))
    assert seen.cost_per_hour == 0.0
    assert seen.unwatchable is not None and "system" in seen.unwatchable
    assert seen.running_cap_minutes is None
    verdict = decide(KIND.name, seen, Policy.from_env({"SAGEMAKER_MAX_HOURS": "1"}), now)
    assert (verdict.action, verdict.outcome) == ("done", "exempt")


# -- observe: the activity signal ---------------------------------------------------------------
def test_last_activity_comes_from_the_signal_not_from_last_user_activity() -> None:
    now = T0 + timedelta(hours=3)
    last = T0 + timedelta(minutes=40)
    seen = KIND.observe(ref(), looking(FakeSageMaker(tags=signal(now, last)), now))
    assert (seen.last_activity_at, seen.busy) == (last, False)
    assert seen.unwatchable is None and seen.unreadable is None
    verdict = decide(KIND.name, seen, Policy.from_env({}), now, warned_since=iso(last))
    assert verdict.action == "stop"  # 140 minutes idle against the 60-minute default
    assert verdict.idle_since == last


def test_an_app_is_not_deleted_on_a_heartbeat_older_than_its_deadline() -> None:
    """Review s19: the stop waits for a heartbeat at or after the deadline."""
    last = T0 + timedelta(minutes=40)
    deadline = last + timedelta(minutes=60)
    stop_look = deadline + KIND.signal_lag
    policy = Policy.from_env({})
    behind = signal(deadline - timedelta(minutes=3), last)
    seen = KIND.observe(ref(), looking(FakeSageMaker(tags=behind), stop_look))
    verdict = decide(KIND.name, seen, policy, stop_look, warned_since=iso(last))
    assert verdict.action == "wait" and "never stopped on a guess" in verdict.reason
    assert verdict.next_check_at == stop_look + timedelta(minutes=RECHECK_MINUTES)
    fresh = KIND.observe(ref(), looking(FakeSageMaker(tags=signal(deadline, last)), stop_look))
    assert decide(KIND.name, fresh, policy, stop_look, warned_since=iso(last)).action == "stop"


def test_a_late_heartbeat_is_unreadable_and_looked_at_again_soon() -> None:
    now = T0 + timedelta(hours=3)
    stale = now - timedelta(minutes=20)
    seen = KIND.observe(ref(), looking(FakeSageMaker(tags=signal(stale, T0)), now))
    assert seen.unreadable is not None and "late" in seen.unreadable
    assert seen.recheck_minutes == RECHECK_MINUTES
    assert decide(KIND.name, seen, Policy.from_env({}), now).action == "wait"


def test_no_signal_yet_right_after_the_start_is_unreadable() -> None:
    seen = KIND.observe(ref(), looking(FakeSageMaker(), T0 + timedelta(minutes=3)))
    assert seen.unreadable is not None and seen.unwatchable is None


def test_no_signal_at_all_is_unwatchable_and_exempt_without_a_cap() -> None:
    now = T0 + timedelta(hours=5)
    seen = KIND.observe(ref(), looking(FakeSageMaker(), now))
    assert seen.unwatchable is not None and "lifecycle configuration" in seen.unwatchable
    assert seen.running_cap_minutes is None
    verdict = decide(KIND.name, seen, Policy.from_env({}), now)
    assert (verdict.action, verdict.outcome) == ("done", "exempt")


def test_no_signal_with_sagemaker_max_hours_is_stopped_at_the_cap() -> None:
    env = {"SAGEMAKER_MAX_HOURS": "4"}
    now = T0 + timedelta(hours=5)
    seen = KIND.observe(ref(), looking(FakeSageMaker(), now, env))
    assert seen.running_cap_minutes == 240
    assert seen.unwatchable is not None and "SageMakerMaxHours=4" in seen.unwatchable
    verdict = decide(KIND.name, seen, Policy.from_env(env), now, warned_since=iso(T0))
    assert verdict.action == "stop"
    assert verdict.deadline == T0 + timedelta(hours=4)


CODE_EDITOR = "d-demo/space/grace-lab-space/CodeEditor/default"


def test_code_editor_has_no_signal_to_wait_for_and_says_why() -> None:
    """The lifecycle configuration publishes nothing on Code Editor (no Jupyter server): no
    grace period of looks for a heartbeat that never comes, and no advice to attach it."""
    now = T0 + timedelta(minutes=3)
    seen = KIND.observe(ref(CODE_EDITOR), looking(FakeSageMaker(), now))
    assert seen.unwatchable is not None and "Code Editor runs no Jupyter server" in seen.unwatchable
    assert seen.unreadable is None
    verdict = decide(KIND.name, seen, Policy.from_env({}), now)
    assert (verdict.action, verdict.outcome) == ("done", "exempt")


def test_code_editor_with_a_cap_is_stopped_at_the_cap_with_the_same_reason() -> None:
    env = {"SAGEMAKER_MAX_HOURS": "8"}
    seen = KIND.observe(ref(CODE_EDITOR), looking(FakeSageMaker(), T0, env))
    assert seen.running_cap_minutes == 480
    assert seen.unwatchable is not None
    assert "Code Editor" in seen.unwatchable and "SageMakerMaxHours=8" in seen.unwatchable


def test_code_editor_tags_that_someone_publishes_are_read_as_any_signal() -> None:
    now = T0 + timedelta(hours=3)
    last = T0 + timedelta(minutes=50)
    seen = KIND.observe(ref(CODE_EDITOR), looking(FakeSageMaker(tags=signal(now, last)), now))
    assert (seen.unwatchable, seen.last_activity_at) == (None, last)


def test_the_signal_is_not_read_before_the_app_is_in_service() -> None:
    seen = KIND.observe(ref(), looking(FakeSageMaker(status="Pending"), T0 + timedelta(hours=5)))
    assert seen.phase == "starting"
    assert seen.unwatchable is None and seen.unreadable is None


# -- observe: Studio's own idle shutdown --------------------------------------------------------
def describe(client: FakeSageMaker, now: datetime, app_id: str = SPACE_ID) -> int | None:
    seen = KIND.observe(ref(app_id), looking(client, now))
    return seen.own_idle_timeout_minutes


NOW = T0 + timedelta(minutes=30)
SIGNAL = signal(NOW, NOW)


def test_the_spaces_own_idle_timeout_comes_first() -> None:
    client = FakeSageMaker(
        tags=SIGNAL,
        space={"SpaceSettings": {"JupyterLabAppSettings": idle_settings(90, state=None)}},
        domain={"DefaultUserSettings": {"JupyterLabAppSettings": idle_settings(240)}},
    )
    assert describe(client, NOW) == 90
    assert "DescribeDomain" not in client.ops()


def test_else_the_domains_default_when_enabled() -> None:
    client = FakeSageMaker(
        tags=SIGNAL, domain={"DefaultUserSettings": {"JupyterLabAppSettings": idle_settings(240)}}
    )
    assert describe(client, NOW) == 240
    assert [p for op, p in client.calls if op == "DescribeSpace"] == [
        {"DomainId": "d-demo", "SpaceName": "grace-lab-space"}
    ]
    assert [p for op, p in client.calls if op == "DescribeDomain"] == [{"DomainId": "d-demo"}]


def test_a_shared_space_takes_the_domains_space_defaults() -> None:
    client = FakeSageMaker(
        tags=SIGNAL,
        space={"SpaceSharingSettings": {"SharingType": "Shared"}},
        domain={
            "DefaultSpaceSettings": {"JupyterLabAppSettings": idle_settings(120)},
            "DefaultUserSettings": {"JupyterLabAppSettings": idle_settings(240)},
        },
    )
    assert describe(client, NOW) == 120


def test_code_editor_reads_its_own_settings() -> None:
    client = FakeSageMaker(
        tags=SIGNAL,
        domain={
            "DefaultUserSettings": {
                "JupyterLabAppSettings": idle_settings(240),
                "CodeEditorAppSettings": idle_settings(180),
            }
        },
    )
    assert describe(client, NOW, "d-demo/space/grace-lab-space/CodeEditor/default") == 180


@pytest.mark.parametrize(
    "settings",
    [
        idle_settings(240, state="DISABLED"),
        idle_settings(240, state=None),
        idle_settings(None),
        idle_settings(30),  # below SageMaker's 60-minute minimum: not a value SageMaker set
        idle_settings(True),  # type: ignore[arg-type]
        {"AppLifecycleManagement": "ENABLED"},
    ],
)
def test_no_enabled_idle_shutdown_is_none(settings: dict[str, Any]) -> None:
    client = FakeSageMaker(
        tags=SIGNAL, domain={"DefaultUserSettings": {"JupyterLabAppSettings": settings}}
    )
    assert describe(client, NOW) is None


def test_kernel_gateway_apps_have_no_studio_idle_shutdown_and_no_extra_reads() -> None:
    client = FakeSageMaker(tags=SIGNAL)
    assert describe(client, NOW, USER_ID) is None
    assert client.ops() == ["DescribeApp", "ListTags"]


def test_a_user_profile_app_reads_the_domain_only() -> None:
    client = FakeSageMaker(
        tags=SIGNAL, domain={"DefaultUserSettings": {"JupyterLabAppSettings": idle_settings(300)}}
    )
    assert describe(client, NOW, "d-demo/user/grace/JupyterLab/default") == 300
    assert "DescribeSpace" not in client.ops()


def test_a_deleted_space_has_no_settings_of_its_own() -> None:
    client = FakeSageMaker(
        tags=SIGNAL,
        domain={"DefaultUserSettings": {"JupyterLabAppSettings": idle_settings(240)}},
        errors={"DescribeSpace": "ResourceNotFound"},
    )
    assert describe(client, NOW) == 240


@pytest.mark.parametrize("op", ["DescribeSpace", "DescribeDomain"])
@pytest.mark.parametrize("code", ["AccessDeniedException", "ThrottlingException"])
def test_a_failed_settings_read_only_costs_the_savings_figure(op: str, code: str) -> None:
    """An SCP that denies DescribeSpace, or throttling, must not keep an idle app running:
    the app is judged on its signal, with no idle shutdown of its own and a note saying so."""
    now = T0 + timedelta(hours=2)
    client = FakeSageMaker(
        tags=signal(now, T0 + timedelta(minutes=20)),
        domain={"DefaultUserSettings": {"JupyterLabAppSettings": idle_settings(90)}},
        errors={op: code},
    )

    seen = KIND.observe(ref(), looking(client, now))

    assert seen.unreadable is None and seen.unwatchable is None
    assert seen.last_activity_at == T0 + timedelta(minutes=20)
    assert seen.own_idle_timeout_minutes is None
    (note,) = seen.notes
    assert op in note and code in note and "savings" in note
    assert "arn:" not in note  # the error's own text (roles, policies) stays out of it


def test_a_failed_settings_read_still_lets_an_idle_app_be_stopped() -> None:
    now = T0 + timedelta(hours=2)
    last = T0 + timedelta(minutes=20)
    client = FakeSageMaker(tags=signal(now, last), errors={"DescribeSpace": "ThrottlingException"})

    seen = KIND.observe(ref(), looking(client, now))
    verdict = decide(KIND.name, seen, Policy.from_env({}), now, warned_since=iso(last))

    assert verdict.action == "stop"


def test_a_settings_read_that_fails_without_an_answer_is_a_note_too() -> None:
    from botocore.exceptions import EndpointConnectionError

    class Unreachable(FakeSageMaker):
        def describe_space(self, **params: Any) -> dict[str, Any]:
            raise EndpointConnectionError(endpoint_url="https://api.sagemaker")

    seen = KIND.observe(ref(), looking(Unreachable(tags=SIGNAL), NOW))

    assert seen.unreadable is None and seen.own_idle_timeout_minutes is None
    assert seen.notes == (
        "Studio's own idle shutdown could not be read (DescribeSpace d-demo/grace-lab-space: "
        "EndpointConnectionError): savings assume none",
    )


def test_studios_idle_shutdown_is_the_savings_models_left_alone_end() -> None:
    now = T0 + timedelta(hours=2)
    last = T0 + timedelta(minutes=20)
    client = FakeSageMaker(
        tags=signal(now, last),
        domain={"DefaultUserSettings": {"JupyterLabAppSettings": idle_settings(120)}},
    )
    seen = KIND.observe(ref(), looking(client, now))
    verdict = decide(KIND.name, seen, Policy.from_env({}), now, warned_since=iso(last))
    assert verdict.action == "stop"
    # Left alone it would have ended at 11:20; stopped at 11:00: 20 minutes at $0.05/h.
    assert verdict.idle_minutes_reclaimed == 20.0
    assert verdict.savings_usd == 0.02


# -- settings and console -----------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "hours"), [(None, 0), ("0", 0), ("12", 12), ("8760", 8760)])
def test_sagemaker_max_hours(raw: str | None, hours: int) -> None:
    env = {} if raw is None else {"SAGEMAKER_MAX_HOURS": raw}
    assert Policy.from_env(env).kind_settings["sagemaker-app"].max_hours == hours


@pytest.mark.parametrize("raw", ["8761", "-1", "two", "1.5", "\uff11\uff12"])
def test_a_bad_sagemaker_max_hours_is_refused(raw: str) -> None:
    with pytest.raises(PolicyError, match="SAGEMAKER_MAX_HOURS"):
        KIND.settings_from({"SAGEMAKER_MAX_HOURS": raw})


def test_the_idle_allowance_is_sagemaker_idle_minutes() -> None:
    assert Policy.from_env({}).idle_minutes["sagemaker-app"] == 60
    assert Policy.from_env({"SAGEMAKER_IDLE_MINUTES": "45"}).idle_minutes["sagemaker-app"] == 45


@pytest.mark.parametrize(
    ("region", "url"),
    [
        (
            "us-east-1",
            "https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1"
            "#/studio/d-demo",
        ),
        (
            "cn-north-1",
            "https://cn-north-1.console.amazonaws.cn/sagemaker/home?region=cn-north-1"
            "#/studio/d-demo",
        ),
    ],
)
def test_the_console_link_is_the_domains_page(region: str, url: str) -> None:
    assert KIND.console_url(ref(region=region)) == url


def test_no_console_link_for_an_id_that_is_no_app() -> None:
    assert KIND.console_url(ref("alice-etl")) is None


def test_a_studio_idle_shutdown_shorter_than_the_allowance_is_a_note_and_a_longer_one_is_not() -> (
    None
):
    from idle_reaper.kinds.sagemaker_app import idle_shutdown_note

    note = idle_shutdown_note(30, 60)
    assert note is not None and "30 min" in note and "60-minute" in note
    assert idle_shutdown_note(60, 60) is None
    assert idle_shutdown_note(None, 60) is None


# -- running(): what the sweeper lists ------------------------------------------------------------
HOME = Home(partition="aws", region="us-east-1", account="123456789012")


class Paginator:
    def __init__(self, pages: Any, error: str | None, calls: list[dict[str, Any]]) -> None:
        self.pages, self.error, self.calls = pages, error, calls

    def paginate(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "x"}}, "ListApps")
        yield from self.pages


class ListingSageMaker(FakeSageMaker):
    """ListApps in pages; DescribeApp answers CreationTime from the same items, so running()
    and observe() read the very same data."""

    def __init__(self, pages: Any, error: str | None = None) -> None:
        super().__init__()
        self.pages, self.error = pages, error
        self.operations: list[str] = []
        self.list_calls: list[dict[str, Any]] = []

    def get_paginator(self, operation: str) -> Paginator:
        self.operations.append(operation)
        return Paginator(self.pages, self.error, self.list_calls)

    def describe_app(self, **params: Any) -> dict[str, Any]:
        out = super().describe_app(**params)
        for page in self.pages:
            for item in page["Apps"]:
                if item["AppName"] == params["AppName"]:
                    out["CreationTime"] = item.get("CreationTime")
        return out


def app(
    name: str = "default",
    status: str = "InService",
    app_type: str = "JupyterLab",
    space: str | None = "grace-lab-space",
    user: str | None = None,
    instance_type: str | None = "ml.t3.medium",
    **changes: Any,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "DomainId": "d-demo",
        "AppType": app_type,
        "AppName": name,
        "Status": status,
        "CreationTime": T0,
    }
    if space is not None:
        item["SpaceName"] = space
    if user is not None:
        item["UserProfileName"] = user
    if instance_type is not None:
        item["ResourceSpec"] = {"InstanceType": instance_type}
    item.update(changes)
    return item


def apps(client: Any) -> list[Any]:
    return list(KIND.running(lambda _service: client, HOME))


def test_running_lists_billed_apps_across_pages_and_domains() -> None:
    client = ListingSageMaker(
        [
            {"Apps": [app("a"), app("b", "Deleted"), app("c", "Pending", "CodeEditor")]},
            {
                "Apps": [
                    app("d", app_type="KernelGateway", space=None, user="grace"),
                    app("e", app_type="JupyterServer", instance_type="system"),
                    app("f", instance_type="system"),
                    app("g", app_type="Canvas"),
                    app("h", "Failed"),
                    app("i", "Deleting"),
                ]
            },
        ]
    )
    found = apps(client)
    assert [s.ref.id for s in found] == [
        "d-demo/space/grace-lab-space/JupyterLab/a",
        "d-demo/space/grace-lab-space/CodeEditor/c",
        "d-demo/user/grace/KernelGateway/d",
    ]
    assert client.operations == ["list_apps"] and client.list_calls == [{}]
    assert {(s.ref.kind, s.ref.account, s.ref.region) for s in found} == {
        ("sagemaker-app", "123456789012", "us-east-1")
    }


def test_a_space_app_is_named_by_its_space_even_when_the_listing_gives_a_profile_too() -> None:
    [found] = apps(ListingSageMaker([{"Apps": [app("a", user="grace")]}]))
    assert found.ref.id == "d-demo/space/grace-lab-space/JupyterLab/a"
    assert KIND.stop_target(found.ref) == {
        "DomainId": "d-demo",
        "SpaceName": "grace-lab-space",
        "AppType": "JupyterLab",
        "AppName": "a",
    }


def test_an_app_without_a_resource_spec_is_listed_and_judged_by_describe_app() -> None:
    assert len(apps(ListingSageMaker([{"Apps": [app("a", instance_type=None)]}]))) == 1


@pytest.mark.parametrize("created", [T0, None, "today", 1700000000])
def test_a_sightings_start_is_exactly_what_observe_reads(created: Any) -> None:
    client = ListingSageMaker([{"Apps": [app("a", CreationTime=created)]}])
    [sighting] = apps(client)
    seen = KIND.observe(sighting.ref, looking(client, T0 + timedelta(minutes=5)))
    assert sighting.started_at == seen.started_at
    # a datetime as boto3 parses it, or epoch seconds (as every kind reads a time); else none
    expected = {T0: T0, 1700000000: datetime.fromtimestamp(1700000000, UTC)}
    assert sighting.started_at == expected.get(created)


@pytest.mark.parametrize(
    "item",
    [
        "app",
        None,
        app("bad name"),
        app("a", DomainId="D-UPPER"),
        app("a", DomainId=None),
        app("a", space="", user=None),
        app("a", space=None, user=None),
        app("a", Status=["InService"]),
        app("a", Status=None),
        app("a", AppType=["JupyterLab"]),
        app("a", ResourceSpec="ml.t3.medium"),
        app("a", ResourceSpec={"InstanceType": 5}),
        app("x" * 64),
    ],
)
def test_a_malformed_item_is_skipped_and_the_listing_goes_on(item: Any) -> None:
    client = ListingSageMaker([{"Apps": [item, app("ok")]}, {"Apps": [app("ok2")]}])
    assert [s.ref.id.rsplit("/", 1)[1] for s in apps(client)] == ["ok", "ok2"]


@pytest.mark.parametrize("code", ["AccessDeniedException", "ThrottlingException"])
def test_a_failed_listing_is_a_read_error(code: str) -> None:
    with pytest.raises(ResourceReadError, match="ListApps"):
        apps(ListingSageMaker([], error=code))


def test_endless_pages_are_a_read_error() -> None:
    def forever() -> Any:
        while True:
            yield {"Apps": []}

    with pytest.raises(ResourceReadError, match="pages"):
        apps(ListingSageMaker(forever()))


def test_the_listing_permission() -> None:
    assert KIND.list_permissions == ("sagemaker:ListApps",)
