"""The sweeper against fake clients (every kind's listing in pages) and fake claims and starts;
then its handler against moto (DynamoDB claims, Step Functions, Glue, EC2, SageMaker)."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from idle_reaper.claims import READ_AT_ONCE
from idle_reaper.exceptions import ClaimReadError, SweepError
from idle_reaper.inspection import inspect
from idle_reaper.policy import Policy
from idle_reaper.resource import Home, ResourceRef
from idle_reaper.sweep import (
    MAX_ERRORS_KEPT,
    SweepReport,
    execution_name,
    found_event,
    sweep,
)
from idle_reaper.watch import claim_key, start_input
from tests.conftest import ROOT, load_event

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=20, seconds=7)
HOME = Home(partition="aws", region="us-east-1", account="123456789012")
ONLY_GLUE = {"SAGEMAKER_ENABLED": "false", "EC2_ENABLED": "false"}
NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")


def failure(code: str, op: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}}, op)


class Paginator:
    def __init__(self, pages: list[Any], error: str | None) -> None:
        self.pages, self.error = pages, error

    def paginate(self, **_: Any) -> Iterator[Any]:
        if self.error:
            raise failure(self.error, "List")
        yield from self.pages


class FakeGlue:
    """ListSessions in pages of two; every session idle since T0 with no statements."""

    def __init__(self, ids: list[str], tags: dict[str, dict[str, str]] | None = None) -> None:
        self.ids, self.tags = ids, tags or {}
        self.list_error: str | None = None
        self.get_errors: dict[str, str] = {}
        self.read: list[str] = []

    def list_sessions(self, MaxResults: int, NextToken: str | None = None) -> dict[str, Any]:
        if self.list_error:
            raise failure(self.list_error, "ListSessions")
        start = int(NextToken or 0)
        page: dict[str, Any] = {"Sessions": [self._session(i) for i in self.ids[start : start + 2]]}
        if start + 2 < len(self.ids):
            page["NextToken"] = str(start + 2)
        return page

    def _session(self, sid: str) -> dict[str, Any]:
        return {"Id": sid, "Status": "READY", "CreatedOn": T0, "NumberOfWorkers": 2}

    def get_session(self, Id: str) -> dict[str, Any]:
        self.read.append(Id)
        if Id in self.get_errors:
            raise failure(self.get_errors[Id], "GetSession")
        return {"Session": self._session(Id)}

    def list_statements(self, **_: Any) -> dict[str, Any]:
        return {"Statements": []}

    def get_tags(self, ResourceArn: str) -> dict[str, Any]:
        return {"Tags": self.tags.get(ResourceArn.rsplit("/", 1)[1], {})}


class FakeSageMaker:
    """Notebooks and Studio apps in pages, none with an activity signal (so: exempt)."""

    def __init__(self, notebooks: list[list[str]], apps: list[list[str]]) -> None:
        self.notebooks, self.apps = notebooks, apps

    def get_paginator(self, operation: str) -> Paginator:
        if operation == "list_notebook_instances":
            return Paginator(
                [
                    {"NotebookInstances": [self._notebook(n) for n in page]}
                    for page in self.notebooks
                ],
                None,
            )
        return Paginator([{"Apps": [self._app(a) for a in page]} for page in self.apps], None)

    @staticmethod
    def _notebook(name: str) -> dict[str, Any]:
        return {
            "NotebookInstanceName": name,
            "NotebookInstanceStatus": "InService",
            "InstanceType": "ml.t3.medium",
            "LastModifiedTime": T0,
        }

    @staticmethod
    def _app(name: str) -> dict[str, Any]:
        return {
            "DomainId": "d-demo",
            "SpaceName": "lab",
            "AppType": "JupyterLab",
            "AppName": name,
            "Status": "InService",
            "CreationTime": T0,
            "ResourceSpec": {"InstanceType": "ml.t3.medium"},
        }

    def describe_notebook_instance(self, NotebookInstanceName: str) -> dict[str, Any]:
        return self._notebook(NotebookInstanceName)

    def describe_app(self, **params: Any) -> dict[str, Any]:
        return self._app(params["AppName"])

    def list_tags(self, **_: Any) -> dict[str, Any]:
        return {"Tags": []}

    def describe_space(self, **_: Any) -> dict[str, Any]:
        return {}

    def describe_domain(self, **_: Any) -> dict[str, Any]:
        return {}


class FakeEc2:
    """Opted-in running instances in pages; CloudWatch has no datapoint yet (unreadable: the
    watcher waits), so each one needs a watcher."""

    def __init__(self, pages: list[list[str]], error: str | None = None) -> None:
        self.pages, self.error = pages, error

    @staticmethod
    def _instance(iid: str) -> dict[str, Any]:
        return {
            "InstanceId": iid,
            "InstanceType": "m5.large",
            "LaunchTime": T0,
            "State": {"Name": "running"},
            "Tags": [{"Key": "idle-reaper:opt-in", "Value": "true"}],
        }

    def get_paginator(self, _operation: str) -> Paginator:
        pages = [
            {"Reservations": [{"Instances": [self._instance(i) for i in page]}]}
            for page in self.pages
        ]
        return Paginator(pages, self.error)

    def describe_instances(self, InstanceIds: list[str]) -> dict[str, Any]:
        return {"Reservations": [{"Instances": [self._instance(InstanceIds[0])]}]}

    def get_metric_data(self, **_: Any) -> dict[str, Any]:
        return {"MetricDataResults": []}


class World:
    """The fakes, the claims a watcher holds and the executions started."""

    def __init__(self, glue: FakeGlue, sagemaker: Any = None, ec2: Any = None) -> None:
        self.clients: dict[str, Any] = {
            "glue": glue,
            "sagemaker": sagemaker,
            "ec2": ec2,
            "cloudwatch": ec2,
        }
        self.asked: list[str] = []
        self.held: set[str] = set()
        self.executions: dict[str, dict[str, Any]] = {}
        self.claims_asked: list[str] = []
        self.claim_reads: list[list[str]] = []
        self.claims_error: str | None = None
        self.unreadable: set[str] = set()
        """Claim keys whose read fails (and with it any read that asks for them)."""

    def client(self, service: str, region: str) -> Any:
        assert region == HOME.region
        self.asked.append(service)
        found = self.clients[service]
        assert found is not None, f"{service} was never to be asked"
        return found

    @property
    def claims(self) -> World:
        """The claims table as the sweeper reads it: `items` and `holds` (sweep.ClaimBook)."""
        return self

    def items(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        assert len(keys) <= READ_AT_ONCE, "one read asks for at most 100 claims"
        self.claim_reads.append(list(keys))
        if self.claims_error is not None:
            raise failure(self.claims_error, "BatchGetItem")
        if self.unreadable & set(keys):  # as Claims.items says a key DynamoDB refused
            raise ClaimReadError("BatchGetItem refused the keys")
        return {key: {"claim": {"S": key}} for key in keys if key in self.held}

    def holds(self, key: str, item: Mapping[str, Any] | None) -> bool:
        self.claims_asked.append(key)
        assert (item is not None) == (key in self.held), "the item read is the one passed"
        return item is not None

    def start(self, name: str, given: dict[str, Any]) -> bool:
        if name in self.executions:
            return False
        self.executions[name] = given
        return True

    def sweep(self, env: dict[str, str] | None = None, now: datetime = NOW) -> SweepReport:
        policy = Policy.from_env(ONLY_GLUE if env is None else env)
        return sweep(self.client, HOME, policy, self.claims, self.start, now)


def glue_key(sid: str) -> str:
    return claim_key(ResourceRef("glue-session", sid, "us-east-1", "123456789012"), T0)


def test_every_kind_is_listed_across_its_pages() -> None:
    world = World(
        FakeGlue(["g1", "g2", "g3"]),
        FakeSageMaker(notebooks=[["nb-1", "nb-2"], ["nb-3"]], apps=[["a1"], ["a2"]]),
        FakeEc2([["i-0123456789abcdef0"], ["i-0123456789abcdef1", "i-0123456789abcdef2"]]),
    )
    report = world.sweep(env={}).to_dict()["kinds"]
    assert {name: tally["listed"] for name, tally in report.items()} == {
        "ec2-instance": 3,
        "glue-session": 3,
        "sagemaker-app": 2,
        "sagemaker-notebook": 3,
    }
    # Glue sessions idle and EC2 instances still unreadable need watchers; SageMaker resources
    # without an activity signal would end exempt at once: no watcher for them.
    assert report["glue-session"]["started"] == 3 and report["ec2-instance"]["started"] == 3
    assert report["sagemaker-notebook"]["skipped"] == {"exempt": 3}
    assert report["sagemaker-app"]["skipped"] == {"exempt": 2}
    assert len(world.executions) == 6


def test_a_held_claim_is_skipped_without_a_look() -> None:
    glue = FakeGlue(["g1", "g2"])
    world = World(glue)
    world.held.add(glue_key("g1"))
    tally = world.sweep().kinds["glue-session"]
    assert (tally.listed, tally.watched, tally.started) == (2, 1, 1)
    assert glue.read == ["g2"]
    [started] = world.executions.values()
    assert started["event"]["resource"]["id"] == "g2"


def test_an_exempt_resource_is_skipped_and_counted_then_watched_once_its_tag_is_gone() -> None:
    glue = FakeGlue(["g1"], tags={"g1": {"idle-reaper:exempt": "true"}})
    world = World(glue)
    first = world.sweep().kinds["glue-session"]
    assert first.skipped == {"exempt": 1} and first.started == 0 and not world.executions
    glue.tags = {}
    second = world.sweep(now=NOW + timedelta(minutes=15)).kinds["glue-session"]
    assert second.skipped == {} and second.started == 1 and len(world.executions) == 1


def test_a_disabled_kind_is_never_listed() -> None:
    world = World(FakeGlue(["g1"]))  # no SageMaker or EC2 client: asking one fails the test
    report = world.sweep()
    assert set(report.kinds) == {"glue-session"}
    assert report.disabled == ["ec2-instance", "sagemaker-app", "sagemaker-notebook"]
    assert set(world.asked) == {"glue"}


def test_one_kind_failing_to_list_leaves_the_others_swept_then_raises() -> None:
    glue = FakeGlue(["g1"])
    glue.list_error = "AccessDeniedException"
    world = World(glue, ec2=FakeEc2([["i-0123456789abcdef0"]]))
    with pytest.raises(SweepError, match="glue-session") as raised:
        world.sweep(env={"SAGEMAKER_ENABLED": "false"})
    report = raised.value.report
    assert isinstance(report, SweepReport)
    assert report.kinds["ec2-instance"].started == 1 and len(world.executions) == 1
    [error] = report.kinds["glue-session"].errors
    assert error.startswith("listing:") and "AccessDenied" in error
    assert report.to_dict()["errors"] == 1


def test_one_resource_failing_to_be_read_leaves_the_others_started_then_raises() -> None:
    glue = FakeGlue(["g1", "g2", "g3"])
    glue.get_errors = {"g2": "ThrottlingException"}
    world = World(glue)
    with pytest.raises(SweepError) as raised:
        world.sweep()
    tally = raised.value.report.kinds["glue-session"]
    assert tally.started == 2 and tally.listed == 3
    assert len(tally.errors) == 1 and tally.errors[0].startswith("g2:")


def test_a_start_that_fails_is_an_error_not_a_stop_to_the_sweep() -> None:
    world = World(FakeGlue(["g1", "g2"]))

    def start(name: str, given: dict[str, Any]) -> bool:
        if given["event"]["resource"]["id"] == "g1":
            raise failure("ThrottlingException", "StartExecution")
        return World.start(world, name, given)

    with pytest.raises(SweepError) as raised:
        sweep(world.client, HOME, Policy.from_env(ONLY_GLUE), world.claims, start, NOW)
    tally = raised.value.report.kinds["glue-session"]
    assert tally.started == 1 and len(tally.errors) == 1


def test_execution_already_exists_is_counted_not_an_error() -> None:
    world = World(FakeGlue(["g1"]))
    world.sweep()
    again = world.sweep(now=NOW + timedelta(seconds=30))  # a retried sweep, same minute
    tally = again.kinds["glue-session"]
    assert (tally.started, tally.already_started, tally.errors) == (0, 1, [])
    assert len(world.executions) == 1


def test_the_start_input_is_the_watchers_and_inspect_names_the_same_resource_from_it() -> None:
    world = World(FakeGlue(["g1"]))
    world.sweep()
    [(name, given)] = world.executions.items()
    ref = ResourceRef("glue-session", "g1", "us-east-1", "123456789012")
    event = found_event(ref, name, NOW)
    assert given == start_input(event)
    assert event == {
        "version": "0",
        "id": name,
        "source": "idle-reaper.sweeper",
        "detail-type": "Resource found running",
        "account": "123456789012",
        "region": "us-east-1",
        "time": "2026-03-02T09:20:00Z",
        "resources": [],
        "detail": {},
        "resource": ref.to_dict(),
    }
    # The input survives the JSON StartExecution carries, and the watcher's first look names
    # the resource and claims exactly the key the sweeper looked up.
    looked = inspect(
        json.loads(json.dumps(given)), world.client, Policy.from_env(ONLY_GLUE), HOME, NOW
    )
    assert looked["resource"]["id"] == "g1" and looked["resource"]["kind"] == "glue-session"
    assert looked["verdict"]["action"] != "done"
    assert looked["claim"]["key"] == glue_key("g1") == world.claims_asked[0]


def test_the_execution_name_is_valid_and_stable_within_a_minute() -> None:
    key = glue_key("g1")
    minute = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    names = {execution_name(key, minute + timedelta(seconds=s)) for s in (0, 1, 30, 59.999)}
    assert len(names) == 1
    [name] = names
    assert NAME.fullmatch(name)
    assert execution_name(key, minute + timedelta(minutes=1)) != name
    assert execution_name(glue_key("g2"), minute) != name
    hostile = claim_key(ResourceRef("glue-session", "a b#{}[]/?*" * 25, "us-east-1", "1" * 12), T0)
    assert NAME.fullmatch(execution_name(hostile, minute))


def test_a_resource_listed_twice_is_considered_once() -> None:
    world = World(FakeGlue(["g1", "g2", "g1"]))
    tally = world.sweep().kinds["glue-session"]
    assert (tally.listed, tally.started) == (2, 2)
    assert world.claim_reads == [[glue_key("g1"), glue_key("g2")]]


def test_claims_are_read_a_hundred_at_a_time_in_the_listings_order() -> None:
    ids = [f"g{n:03d}" for n in range(250)]
    world = World(FakeGlue(ids))
    world.held = {glue_key(sid) for sid in ids[::2]}
    tally = world.sweep().kinds["glue-session"]
    assert [len(read) for read in world.claim_reads] == [100, 100, 50]
    assert [key for read in world.claim_reads for key in read] == [glue_key(s) for s in ids]
    assert (tally.listed, tally.watched, tally.started) == (250, 125, 125)


def test_claims_that_cannot_be_read_start_nothing_and_are_one_error_a_page() -> None:
    """Throttled or timed out: one error for the page, never a read per key on top."""
    world = World(FakeGlue([f"g{n:03d}" for n in range(150)]))
    world.claims_error = "ProvisionedThroughputExceededException"
    with pytest.raises(SweepError) as raised:
        world.sweep()
    tally = raised.value.report.kinds["glue-session"]
    assert (tally.listed, tally.started, tally.watched, tally.failed) == (150, 0, 0, 2)
    assert tally.unread == 150 and tally.to_dict()["unread"] == 150
    assert [e.split(":")[0] for e in tally.errors] == ["claims of 100", "claims of 50"]
    assert [len(read) for read in world.claim_reads] == [100, 50]
    assert not world.executions and world.clients["glue"].read == []


def test_every_failure_is_counted_and_the_first_fifty_are_kept_as_text() -> None:
    ids = [f"g{n:03d}" for n in range(150)]
    glue = FakeGlue(ids)
    glue.get_errors = dict.fromkeys(ids, "ThrottlingException")
    world = World(glue)
    with pytest.raises(SweepError, match="150 error") as raised:
        world.sweep()
    report = raised.value.report
    tally = report.kinds["glue-session"]
    assert (tally.failed, len(tally.errors), report.errors) == (150, MAX_ERRORS_KEPT, 150)
    assert tally.to_dict()["failed"] == 150 and tally.errors[-1].startswith("g049:")
    assert tally.unread == 0  # every claim was read: these failed one by one


@pytest.mark.parametrize("char", ["a", '"', "\\", "\u00e9", "\U0001f600"])
def test_an_error_text_takes_at_most_300_bytes_in_the_log_whatever_the_id_holds(char: str) -> None:
    """Ids are hostile (Glue's allow quotes, backslashes, emoji): the log escapes them."""
    sid = char * 255
    glue = FakeGlue([sid])
    glue.get_errors = {sid: "ThrottlingException"}
    world = World(glue)
    with pytest.raises(SweepError) as raised:
        world.sweep()
    [text] = raised.value.report.kinds["glue-session"].errors
    assert 250 < len(json.dumps(text)) <= 300
    assert text.startswith(char * 10)


def test_a_claim_that_cannot_be_read_costs_only_its_own_resource() -> None:
    """One key failing a read of a hundred: the others are read one by one and swept."""
    world = World(FakeGlue(["g1", "g2", "g3"]))
    world.held = {glue_key("g3")}
    world.unreadable = {glue_key("g2")}
    with pytest.raises(SweepError) as raised:
        world.sweep()
    tally = raised.value.report.kinds["glue-session"]
    assert (tally.listed, tally.started, tally.watched) == (3, 1, 1)
    assert [e.split(":")[0] for e in tally.errors] == ["g2"]
    assert world.claim_reads[1:] == [[glue_key("g1")], [glue_key("g2")], [glue_key("g3")]]
    [started] = world.executions.values()
    assert started["event"]["resource"]["id"] == "g1"


class RecreatedGlue(FakeGlue):
    """g1 was deleted and created again under its id between the listing and the look."""

    def get_session(self, Id: str) -> dict[str, Any]:
        found = super().get_session(Id)
        if Id == "g1":
            found["Session"]["CreatedOn"] = T0 + timedelta(minutes=1)
        return found


def test_a_resource_recreated_since_the_listing_is_judged_by_its_new_claim() -> None:
    reborn = claim_key(
        ResourceRef("glue-session", "g1", "us-east-1", "123456789012"), T0 + timedelta(minutes=1)
    )
    world = World(RecreatedGlue(["g1"]))
    world.held = {reborn}  # its own start event's watcher holds the new one's claim
    tally = world.sweep().kinds["glue-session"]
    assert (tally.watched, tally.started) == (1, 0) and not world.executions
    assert world.claim_reads == [[glue_key("g1")], [reborn]]

    world.held = set()  # nobody watches the new one: the sweep's watcher is named for it
    tally = world.sweep(now=NOW + timedelta(minutes=15)).kinds["glue-session"]
    assert (tally.watched, tally.started) == (0, 1)
    [name] = world.executions
    assert name == execution_name(reborn, NOW + timedelta(minutes=15))


# -- the handler, against moto --------------------------------------------------------------------
def load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sweep_app", ROOT / "functions/sweep/app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Context:
    function_name = "sweep"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:sweep"
    aws_request_id = "req-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName="claims",
            KeySchema=[{"AttributeName": "claim", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "claim", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machine = sfn.create_state_machine(
            name="watcher",
            definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
            roleArn="arn:aws:iam::123456789012:role/watcher",
        )["stateMachineArn"]
        ec2 = boto3.client("ec2", region_name="us-east-1")
        image = ec2.describe_images()["Images"][0]["ImageId"]
        tagged = [{"Key": "idle-reaper:opt-in", "Value": "true"}]
        ec2.run_instances(
            ImageId=image,
            MinCount=1,
            MaxCount=1,
            InstanceType="m5.large",
            TagSpecifications=[{"ResourceType": "instance", "Tags": tagged}],
        )
        ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="m5.large")
        for key, value in {
            "CLAIMS_TABLE_NAME": "claims",
            "WATCHER_STATE_MACHINE_ARN": machine,
            "HOME_REGION": "us-east-1",
            "HOME_ACCOUNT": "123456789012",
            "SAGEMAKER_ENABLED": "false",  # moto 5.2.5 has no ListApps (the emulator's job)
            "EC2_ENABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "IdleReaper",
            "POWERTOOLS_SERVICE_NAME": "idle-reaper",
        }.items():
            monkeypatch.setenv(key, value)
        yield {"ddb": ddb, "sfn": sfn, "machine": machine, "ec2": ec2}


def test_the_handler_starts_a_watcher_reads_claims_and_emits_its_metric(
    aws: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    app = load_handler()
    result = app.handler(load_event("sweep-scheduled.json"), Context())
    ec2 = result["kinds"]["ec2-instance"]
    assert (ec2["listed"], ec2["started"]) == (1, 1)  # the untagged instance is never listed
    assert result["errors"] == 0
    assert result["disabled"] == ["sagemaker-app", "sagemaker-notebook"]
    [execution] = aws["sfn"].list_executions(stateMachineArn=aws["machine"])["executions"]
    assert NAME.fullmatch(execution["name"])
    given = json.loads(
        aws["sfn"].describe_execution(executionArn=execution["executionArn"])["input"]
    )
    assert given["event"]["source"] == "idle-reaper.sweeper"
    assert given["event"]["resource"]["kind"] == "ec2-instance"
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    started = {m["kind"]: m["SweepStarted"] for m in metrics if "SweepStarted" in m}
    assert started == {"ec2-instance": [1.0], "glue-session": [0.0]}

    # A watcher now holds the claim (as its Claim state writes it): the next sweep leaves it.
    iid = given["event"]["resource"]["id"]
    [reservation] = aws["ec2"].describe_instances(InstanceIds=[iid])["Reservations"]
    launched = reservation["Instances"][0]["LaunchTime"]
    ref = ResourceRef("ec2-instance", iid, "us-east-1", "123456789012")
    aws["ddb"].put_item(
        TableName="claims",
        Item={"claim": {"S": claim_key(ref, launched)}, "execution_arn": {"S": "x"}},
    )
    again = app.handler(load_event("sweep-scheduled.json"), Context())
    assert (
        again["kinds"]["ec2-instance"]["watched"],
        again["kinds"]["ec2-instance"]["started"],
    ) == (
        1,
        0,
    )


def test_the_handler_fails_after_sweeping_when_a_kind_cannot_be_listed(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = load_handler()
    real = app._client

    def client(service: str, region: str) -> Any:
        if service == "glue":
            return _DeniedGlue()
        return real(service, region)

    monkeypatch.setattr(app, "_client", client)
    with pytest.raises(SweepError):
        app.handler(load_event("sweep-scheduled.json"), Context())
    assert len(aws["sfn"].list_executions(stateMachineArn=aws["machine"])["executions"]) == 1


class _DeniedGlue:
    def list_sessions(self, **_: Any) -> dict[str, Any]:
        raise failure("AccessDeniedException", "ListSessions")


def test_the_scheduled_event_sample_is_real_shaped() -> None:
    event = load_event("sweep-scheduled.json")
    assert event["source"] == "aws.events" and event["detail-type"] == "Scheduled Event"
    assert event["detail"] == {}
    [rule] = event["resources"]
    assert re.fullmatch(r"arn:aws:events:us-east-1:\d{12}:rule/[\w.-]+", rule)
