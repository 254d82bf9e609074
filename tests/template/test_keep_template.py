"""The keep function's place in the template (issue 12): nothing of it without a signing secret;
with one, exactly the reads Inspect has, tagging only the two keep tags on the enabled kinds
(EC2 only opted in), one route, and the bus, the alarm and the notify function told."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from idle_reaper.keep import EVENT_SOURCE, KEPT
from idle_reaper.kept_by import KEPT_BY_TAG
from idle_reaper.kinds import all_kinds
from idle_reaper.policy import KEEP_UNTIL_TAG
from local_runtime import stack as stack_module
from local_runtime.iam import resource_tags
from local_runtime.iam.context import Caller, request_context
from local_runtime.iam.policies import decide
from local_runtime.iam.put_events import decide_entries, without_conditions_on
from local_runtime.iam.requests import Call, put_events_entries
from tests.conftest import ROOT
from tests.template.test_template import actions, statements

SIGNING = "arn:aws:secretsmanager:us-east-1:123456789012:secret:idle-reaper/slack-signing-AbCdEf"
TOKEN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:idle-reaper/slack-bot-AbCdEf"
ON = {"SlackSigningSecretArn": SIGNING, "SlackBotTokenSecretArn": TOKEN}
KEEP_RESOURCES = (
    "KeepFunction",
    "KeepFunctionLogGroup",
    "KeepHttpApi",
    "KeepClaimsTable",
    "KeepResponseUrlRefusedAlarm",
)
TAG_KEYS = [KEEP_UNTIL_TAG, KEPT_BY_TAG]
SESSION = "arn:aws:glue:us-east-1:123456789012:session/alice-etl"
NOTEBOOK = "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/frank-nb"
INSTANCE = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"


def load(**overrides: str) -> stack_module.Stack:
    return stack_module.load(ROOT / "template.yaml", overrides)


@pytest.fixture(scope="module")
def on() -> stack_module.Stack:
    return load(**ON)


@pytest.fixture(scope="module")
def off() -> stack_module.Stack:
    return load()


def keep_permissions() -> set[str]:
    return {p for kind in all_kinds() for p in kind.keep_permissions}


def test_without_a_signing_secret_there_is_no_endpoint_and_no_button(
    off: stack_module.Stack,
) -> None:
    for logical in KEEP_RESOURCES:
        assert logical not in off.resources, logical
    assert not off.of_type("AWS::ApiGatewayV2::Api")
    env = off.resources["NotifyFunction"]["Properties"]["Environment"]["Variables"]
    assert env["KEEP_BUTTONS"] == "false"
    for role in off.of_type("AWS::IAM::Role"):
        assert not actions(off, role) & keep_permissions(), role


def test_a_signed_click_answering_elsewhere_than_slack_raises_an_alarm() -> None:
    """The alarm sums the metric the keep function writes (functions/keep/app.py), in its
    Powertools namespace with the one dimension Powertools adds (`service`: the stack's name, so
    a second stack in the account counts apart); above 0, the topic."""
    on = stack_module.load(ROOT / "template.yaml", ON, name="reaper-dev")
    alarm = on.resources["KeepResponseUrlRefusedAlarm"]["Properties"]
    [query] = alarm["Metrics"]
    env = on.resources["KeepFunction"]["Properties"]["Environment"]["Variables"]
    namespace = env["POWERTOOLS_METRICS_NAMESPACE"]
    assert query["Expression"] == (
        f"SELECT SUM(KeepResponseUrlRefused) FROM SCHEMA({namespace}, service)"
        f" WHERE service = '{env['POWERTOOLS_SERVICE_NAME']}'"
    )
    assert env["POWERTOOLS_SERVICE_NAME"] == "reaper-dev"  # this stack's clicks only
    source = (ROOT / "functions/keep/app.py").read_text()
    assert 'name="KeepResponseUrlRefused"' in source and "add_dimension" not in source
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarm["AlarmActions"] == [on.ref("NotificationTopic")]


def test_with_one_the_warnings_carry_the_buttons(on: stack_module.Stack) -> None:
    env = on.resources["NotifyFunction"]["Properties"]["Environment"]["Variables"]
    assert env["KEEP_BUTTONS"] == "true"
    for logical in KEEP_RESOURCES:
        assert logical in on.resources, logical


def test_the_keep_role_reads_what_inspect_reads_and_writes_only_the_keep(
    on: stack_module.Stack,
) -> None:
    reads = {p for kind in all_kinds() for p in kind.read_permissions}
    assert actions(on, "KeepFunctionRole") == reads | keep_permissions() | {
        "secretsmanager:GetSecretValue",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "events:PutEvents",
    }
    with_policy = load(**ON, PolicyParameterName="/idle-reaper/policy")
    assert "ssm:GetParameter" in actions(with_policy, "KeepFunctionRole")
    for role in on.of_type("AWS::IAM::Role"):
        if role != "KeepFunctionRole":
            assert not actions(on, role) & keep_permissions(), f"{role} may tag resources"


def _granting(stack: stack_module.Stack, action: str) -> list[dict[str, Any]]:
    return [s for s in statements(stack, "KeepFunctionRole") if action in s["Action"]]


def test_its_other_grants_name_exactly_their_resource(on: stack_module.Stack) -> None:
    (secrets,) = _granting(on, "secretsmanager:GetSecretValue")
    assert secrets["Resource"] == [SIGNING, TOKEN]
    (query,) = _granting(on, "dynamodb:Query")
    assert (query["Action"], query["Resource"]) == (["dynamodb:Query"], on.arn("AuditTable"))
    (claim,) = _granting(on, "dynamodb:UpdateItem")
    assert claim["Resource"] == on.arn("KeepClaimsTable")
    (put,) = _granting(on, "events:PutEvents")
    assert put["Resource"] == on.arn("ReaperEventBus")
    assert put["Condition"] == {
        "StringEquals": {"events:detail-type": KEPT},
        "ForAllValues:StringEquals": {"events:source": [EVENT_SOURCE]},
        "Null": {"events:source": "false"},
    }
    without_token = load(SlackSigningSecretArn=SIGNING)
    (secrets,) = _granting(without_token, "secretsmanager:GetSecretValue")
    assert secrets["Resource"] == SIGNING


@pytest.mark.parametrize("action", sorted({p for k in all_kinds() for p in k.keep_permissions}))
def test_tagging_is_conditioned_on_the_two_keep_tags(on: stack_module.Stack, action: str) -> None:
    (statement,) = _granting(on, action)
    assert statement["Action"] == [action]
    condition = statement["Condition"]
    assert condition["ForAllValues:StringEquals"] == {"aws:TagKeys": TAG_KEYS}
    assert condition["Null"] == {"aws:TagKeys": "false"}
    assert condition["StringLike"] == {f"aws:RequestTag/{KEEP_UNTIL_TAG}": "????-??-??T??:??:??Z"}
    expected = {
        "glue:TagResource": "arn:aws:glue:us-east-1:123456789012:session/*",
        "sagemaker:AddTags": [
            "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/*",
            "arn:aws:sagemaker:us-east-1:123456789012:app/*",
        ],
        "ec2:CreateTags": "arn:aws:ec2:us-east-1:123456789012:instance/*",
    }
    assert statement["Resource"] == expected[action]
    opted_in = {"aws:ResourceTag/idle-reaper:opt-in": "true"}
    assert condition.get("StringEquals") == (opted_in if action == "ec2:CreateTags" else None)


def test_a_kind_switched_off_cannot_be_tagged_or_read() -> None:
    glue_only = load(**ON, EnableSageMaker="false", EnableEc2="false")
    granted = actions(glue_only, "KeepFunctionRole")
    assert granted & keep_permissions() == {"glue:TagResource"}
    assert not any(a.startswith(("sagemaker:", "ec2:", "cloudwatch:")) for a in granted)


CALLER = Caller(
    arn="arn:aws:sts::123456789012:assumed-role/idle-reaper-KeepFunctionRole/keep",
    principal_arn="arn:aws:iam::123456789012:role/idle-reaper-KeepFunctionRole",
    account="123456789012",
    kind="AssumedRole",
    name="idle-reaper-KeepFunctionRole",
    userid="AROAKEEP:keep",
)
NOW = datetime(2026, 3, 2, 9, 27, tzinfo=UTC)


def _documents(stack: stack_module.Stack) -> list[str]:
    return [
        json.dumps(p["PolicyDocument"])
        for p in stack.resources["KeepFunctionRole"]["Properties"]["Policies"]
    ]


def _decision(
    stack: stack_module.Stack, action: str, resource: str, tags: dict[str, str]
) -> tuple[bool, str]:
    context = request_context(CALLER, "us-east-1", NOW, {}, tags)
    decision = decide(_documents(stack), {}, [(action, resource)], CALLER, context)
    return decision.allowed, decision.reason


def test_iam_lets_it_publish_its_kept_events_and_no_other(on: stack_module.Stack) -> None:
    """Each entry is decided with its own source and detail-type (local_runtime/iam/put_events.py,
    as AWS authorizes PutEvents): a role that may publish `kept` may not publish a `stopped`."""
    bus = on.arn("ReaperEventBus")

    def decide_one(arn: str, keys: Any, leave_out: frozenset[str]) -> Any:
        documents = [without_conditions_on(d, leave_out) or "" for d in _documents(on)]
        context = request_context(CALLER, "us-east-1", NOW, {}, None, keys)
        return decide(documents, {}, [("events:PutEvents", arn)], CALLER, context)

    def refused(*entries: dict[str, str]) -> tuple[bool, dict[int, str]]:
        call = Call("events", "PutEvents", "us-east-1", "123456789012", {"Entries": list(entries)})
        found = put_events_entries(call)
        assert found is not None
        decision, failed = decide_entries(found, decide_one)
        return decision.allowed, failed

    def event(source: str, detail_type: str) -> dict[str, str]:
        return {"Source": source, "DetailType": detail_type, "EventBusName": bus}

    assert refused(event(EVENT_SOURCE, KEPT)) == (True, {})
    for other in ("stopped", "warning", "Kept", "kept "):
        assert refused(event(EVENT_SOURCE, other)) == (
            True,
            {0: "NotAuthorizedForDetailTypeException"},
        ), other
    assert refused(event("idle-reaper.test", KEPT)) == (
        True,
        {0: "NotAuthorizedForSourceException"},
    )
    default_bus = {**event(EVENT_SOURCE, KEPT), "EventBusName": "default"}
    assert refused(default_bus)[0] is False


KEEP = {KEEP_UNTIL_TAG: "2026-03-02T10:27:00Z", KEPT_BY_TAG: "a@b.c until 2026-03-02T10:27:00Z"}


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("glue:TagResource", SESSION),
        ("sagemaker:AddTags", NOTEBOOK),
    ],
)
def test_iam_allows_the_keep_tags_and_nothing_else(
    on: stack_module.Stack, action: str, resource: str
) -> None:
    assert _decision(on, action, resource, KEEP)[0]
    assert _decision(on, action, resource, {KEEP_UNTIL_TAG: KEEP[KEEP_UNTIL_TAG]})[0]
    refused = [
        {**KEEP, "owner": "mallory@example.com"},  # a third key
        {**KEEP, "idle-reaper:exempt": "true"},
        {KEPT_BY_TAG: KEEP[KEPT_BY_TAG]},  # no keep-until
        {KEEP_UNTIL_TAG: "forever", KEPT_BY_TAG: "x"},  # not a UTC time
        {},  # no tags at all
    ]
    for tags in refused:
        assert not _decision(on, action, resource, tags)[0], tags
    other = resource.replace("123456789012", "210987654321")
    assert not _decision(on, action, other, KEEP)[0]


def test_iam_lets_the_keep_tag_only_opted_in_instances(
    on: stack_module.Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    held: dict[str, dict[str, str]] = {"i-0123456789abcdef0": {"idle-reaper:opt-in": "true"}}
    reader = lambda account, region, name: held.get(name)  # noqa: E731
    monkeypatch.setitem(resource_tags._READERS, ("ec2", "instance"), reader)
    assert _decision(on, "ec2:CreateTags", INSTANCE, KEEP)[0]
    held["i-0123456789abcdef0"] = {"idle-reaper:opt-in": "True"}
    assert not _decision(on, "ec2:CreateTags", INSTANCE, KEEP)[0]
    held["i-0123456789abcdef0"] = {}
    assert not _decision(on, "ec2:CreateTags", INSTANCE, KEEP)[0]


@pytest.mark.parametrize("policy", ["", "/idle-reaper/policy"])
def test_the_bus_takes_its_kept_events(policy: str) -> None:
    stack = load(**ON, PolicyParameterName=policy)
    statement = stack.resources["ReaperEventBusPolicy"]["Properties"]["Statement"]
    allowed = statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert stack.arn("KeepFunctionRole") in allowed
    assert allowed[0] == stack.arn("WatcherStateMachineRole")
    assert len(allowed) == (3 if policy else 2)
    if policy:
        assert stack.arn("PolicyCheckFunctionRole") in allowed


@pytest.mark.parametrize("policy", ["", "/idle-reaper/policy"])
def test_its_errors_raise_the_function_alarm(policy: str) -> None:
    stack = load(**ON, PolicyParameterName=policy)
    alarm = stack.resources["FunctionErrorsAlarm"]["Properties"]
    ids = {m["Id"] for m in alarm["Metrics"]}
    (expression,) = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
    named = set(re.findall(r"[a-z]+", expression))
    assert named == ids - {"errors"} and "keep" in named
    (keep,) = [m for m in alarm["Metrics"] if m["Id"] == "keep"]
    dimension = keep["MetricStat"]["Metric"]["Dimensions"][0]["Value"]
    assert dimension == stack.ref("KeepFunction")


def test_one_route_posts_to_the_keep_function_throttled_and_logged(on: stack_module.Stack) -> None:
    from local_runtime.http_api import routes_of

    (route,) = routes_of(on).values()
    assert (route.method, route.path) == ("POST", "/slack/interactions")
    assert route.function_arn == on.arn("KeepFunction")
    (stage,) = on.of_type("AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["DefaultRouteSettings"]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (10, 20)
    logs = stage["Properties"]["AccessLogSettings"]
    assert logs["DestinationArn"] == on.arn("KeepHttpApiLogGroup")
    assert "$context.requestId" in logs["Format"]
    group = on.resources["KeepHttpApiLogGroup"]["Properties"]
    assert group["RetentionInDays"] == on.parameters["LogRetentionDays"]


def test_the_keep_function_is_like_every_other(on: stack_module.Stack) -> None:
    props = on.resources["KeepFunction"]["Properties"]
    assert (props["Runtime"], props["Architectures"]) == ("python3.13", ["arm64"])
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["LoggingConfig"]["LogGroup"] == "/aws/lambda/idle-reaper-keep"
    assert on.resources["KeepFunctionLogGroup"]["Properties"]["RetentionInDays"]
    assert props["Timeout"] < 30  # an HTTP API waits 30 s for its integration at most
    env = props["Environment"]["Variables"]
    inspect = on.resources["InspectFunction"]["Properties"]["Environment"]["Variables"]
    assert {k: v for k, v in env.items() if k in inspect} == inspect  # the same policy
    assert env["AUDIT_TABLE"] == on.ref("AuditTable")
    assert env["KEEP_CLAIMS_TABLE"] == on.ref("KeepClaimsTable")
    assert env["SLACK_SIGNING_SECRET_ARN"] == SIGNING
    claims = on.resources["KeepClaimsTable"]["Properties"]
    assert claims["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert claims["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]


def test_admin_ids_are_slack_user_ids() -> None:
    assert load(**ON, KeepAdminSlackUserIds="U0ADMIN01,W0ADMIN02").parameters
    for bad in ("u0admin", "U0ADMIN01, U0ADMIN02", "<!channel>", "U0ADMIN01,"):
        with pytest.raises(Exception, match="KeepAdminSlackUserIds"):
            load(**ON, KeepAdminSlackUserIds=bad)


def test_make_invoke_keep_tries_the_sample_click() -> None:
    makefile = (ROOT / "Makefile").read_text()
    found = re.search(r"^invoke-keep:.*\n\t\$\(call invoke,KeepFunction,(\S+)\)$", makefile, re.M)
    assert found and (ROOT / found.group(1)).is_file()


def test_the_slack_app_manifest_points_its_interactivity_at_the_route() -> None:
    import yaml

    from local_runtime.http_api import routes_of

    manifest = yaml.safe_load((ROOT / "slack/manifest.yaml").read_text())
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    ((_method, path),) = routes_of(load(**ON))
    assert interactivity["request_url"].endswith(".amazonaws.com" + path)
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "incoming-webhook",
        "users:read",
        "users:read.email",
    }
    output = (ROOT / "template.yaml").read_text().split("\nOutputs:\n", 1)[1]
    assert "SlackInteractivityUrl:" in output and f"{path}\n" in output
