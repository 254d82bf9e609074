"""template.yaml as it will deploy: valid, least privilege, safe defaults, rules that match
exactly the events they should."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from idle_reaper.kinds import all_kinds
from idle_reaper.watch import start_input
from local_runtime import stack as stack_module
from tests.conftest import EVENTS, ROOT, load_event

START = "WatcherStateMachineGlueSessionCreated"
KIND_STARTS = ("NotebookInstanceInService", "StudioAppCreated", "Ec2InstanceRunning")
SWEEP = "SweepFunctionSweep"
"""The start rules of the kinds a parameter can switch off (EnableSageMaker, EnableEc2)."""
NOTIFY = "NotifyFunctionReaperEvents"
AUDIT = "AuditFunctionEveryReaperEvent"


@pytest.fixture(scope="module")
def stack() -> stack_module.Stack:
    return stack_module.load(ROOT / "template.yaml")


def statements(stack: stack_module.Stack, role: str) -> list[dict[str, Any]]:
    props = stack.resources[role]["Properties"]
    out: list[dict[str, Any]] = []
    for policy in props.get("Policies", []):
        out.extend(policy["PolicyDocument"]["Statement"])
    return out


def actions(stack: stack_module.Stack, role: str) -> set[str]:
    found: set[str] = set()
    for statement in statements(stack, role):
        action = statement["Action"]
        found.update([action] if isinstance(action, str) else action)
    return found


def test_sam_validate_lint_is_clean() -> None:
    sam = Path(sys.executable).parent / "sam"
    assert sam.exists() or shutil.which("sam"), "aws-sam-cli is a pinned dev dependency"
    result = subprocess.run(
        [str(sam), "validate", "--lint", "--template", str(ROOT / "template.yaml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={"SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_sam_transform_succeeds_with_the_resources_we_rely_on(
    stack: stack_module.Stack,
) -> None:
    types = {res["Type"] for res in stack.resources.values()}
    assert {
        "AWS::StepFunctions::StateMachine",
        "AWS::Lambda::Function",
        "AWS::Events::Rule",
        "AWS::SQS::Queue",
        "AWS::CloudWatch::Alarm",
        "AWS::Lambda::LayerVersion",
    } <= types


DOCUMENTED_WILDCARDS = {"kms:GenerateDataKey*"}
"""The one action AWS's own docs spell with a wildcard, for SNS topics encrypted with a
customer managed key (SNS developer guide, "Key management": publishers and CloudWatch
alarms need kms:Decrypt and kms:GenerateDataKey* on the key). No `*` and no `service:*`."""


def test_no_wildcard_actions_anywhere(stack: stack_module.Stack) -> None:
    for logical in stack.of_type("AWS::IAM::Role"):
        for action in actions(stack, logical):
            assert "*" not in action or action in DOCUMENTED_WILDCARDS, f"{logical}: {action}"


def test_inspect_role_grants_exactly_what_the_kinds_read() -> None:
    stack = stack_module.load(ROOT / "template.yaml")
    wanted = {p for kind in all_kinds() for p in kind.read_permissions}
    assert actions(stack, "InspectFunctionRole") == wanted


def test_only_the_state_machine_may_stop_and_only_what_kinds_declare(
    stack: stack_module.Stack,
) -> None:
    stops = {p for kind in all_kinds() for p in kind.stop_permissions}
    for logical in stack.of_type("AWS::IAM::Role"):
        granted = actions(stack, logical) & stops
        if logical == "WatcherStateMachineRole":
            assert granted == stops
        else:
            assert not granted, f"{logical} may stop resources"


def test_the_stop_is_scoped_to_this_accounts_sessions(stack: stack_module.Stack) -> None:
    (stop,) = [
        s for s in statements(stack, "WatcherStateMachineRole") if "glue:StopSession" in s["Action"]
    ]
    assert stop["Resource"] == "arn:aws:glue:us-east-1:123456789012:session/*"


def test_functions_run_python313_on_arm64_traced_with_their_own_log_group(
    stack: stack_module.Stack,
) -> None:
    for logical, res in stack.of_type("AWS::Lambda::Function").items():
        props = res["Properties"]
        assert props["Runtime"] == "python3.13", logical
        assert props["Architectures"] == ["arm64"], logical
        assert props["TracingConfig"] == {"Mode": "Active"}, logical
        assert props["LoggingConfig"]["LogGroup"].startswith("/aws/lambda/"), logical


def test_every_function_can_be_tried_by_hand_with_a_sample_event(
    stack: stack_module.Stack,
) -> None:
    """`make invoke-<name>` exists for each function and its default event is in events/."""
    makefile = (ROOT / "Makefile").read_text()
    for logical in stack.of_type("AWS::Lambda::Function"):
        name = logical.removesuffix("Function").lower()
        target = re.search(
            rf"^invoke-{name}:.*\n\t\$\(call invoke,{logical},(\S+)\)$", makefile, re.M
        )
        assert target, f"no make invoke-{name} for {logical}"
        assert (ROOT / target.group(1)).is_file(), target.group(1)


def test_state_machine_is_standard_logged_and_traced(stack: stack_module.Stack) -> None:
    props = stack.resources["WatcherStateMachine"]["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] in ("ERROR", "ALL")
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False


def assert_encrypted_and_alarmed(stack: stack_module.Stack, queue_arn: str) -> None:
    queues = {stack.arn(k): v for k, v in stack.of_type("AWS::SQS::Queue").items()}
    queue = queues[queue_arn]["Properties"]
    assert queue.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in queue
    alarms = stack.of_type("AWS::CloudWatch::Alarm").values()
    name = queue_arn.split(":")[-1]
    watching = [a for a in alarms if name in _dimension_values(a["Properties"])]
    assert watching, f"no alarm on {queue_arn}"
    for alarm in watching:
        assert alarm["Properties"]["AlarmActions"] == [stack.ref("NotificationTopic")]


def _dimension_values(alarm: dict[str, Any]) -> list[str]:
    """Every dimension value an alarm watches, plain or in metric math."""
    dimensions = list(alarm.get("Dimensions", []))
    for metric in alarm.get("Metrics", []):
        dimensions += metric.get("MetricStat", {}).get("Metric", {}).get("Dimensions", [])
    return [d["Value"] for d in dimensions]


def test_every_rule_retries_and_dead_letters_to_an_encrypted_alarmed_queue(
    stack: stack_module.Stack,
) -> None:
    rules = stack.of_type("AWS::Events::Rule")
    assert set(rules) == {START, *KIND_STARTS, SWEEP, NOTIFY, AUDIT}
    for rule in rules.values():
        (target,) = rule["Properties"]["Targets"]
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
        assert_encrypted_and_alarmed(stack, target["DeadLetterConfig"]["Arn"])


@pytest.mark.parametrize("function", ["NotifyFunction", "AuditFunction"])
def test_failed_async_invocations_go_to_the_rules_alarmed_queue(
    stack: stack_module.Stack, function: str
) -> None:
    config = stack.resources[f"{function}EventInvokeConfig"]["Properties"]
    assert config["MaximumRetryAttempts"] == 2
    queue = stack.arn(function.replace("Function", "DeadLetterQueue"))
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == queue
    assert_encrypted_and_alarmed(stack, queue)


def test_the_topic_is_encrypted_with_its_own_key_that_alarms_may_use(
    stack: stack_module.Stack,
) -> None:
    topic = stack.resources["NotificationTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == stack.ref("NotificationKey")
    key = stack.resources["NotificationKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    by_service = {s["Principal"].get("Service"): s for s in key["KeyPolicy"]["Statement"]}
    alarms = by_service["cloudwatch.amazonaws.com"]
    assert set(alarms["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    # only alarms of this account may use the key (no confused deputy)
    assert alarms["Condition"] == {"StringEquals": {"aws:SourceAccount": stack.account}}
    for statement in key["KeyPolicy"]["Statement"]:
        assert all("*" not in a or a in DOCUMENTED_WILDCARDS for a in statement["Action"])


SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:slack-AbCdEf"


def test_the_slack_secret_is_readable_by_notify_alone_and_only_that_secret() -> None:
    stack = stack_module.load(ROOT / "template.yaml", {"SlackWebhookSecretArn": SECRET})
    readers = {}
    for role in stack.of_type("AWS::IAM::Role"):
        for statement in statements(stack, role):
            if "secretsmanager:GetSecretValue" in statement["Action"]:
                readers[role] = statement["Resource"]
    assert readers == {"NotifyFunctionRole": SECRET}
    env = stack.resources["NotifyFunction"]["Properties"]["Environment"]["Variables"]
    assert env["SLACK_WEBHOOK_SECRET_ARN"] == SECRET  # the ARN, never the URL


def test_no_secret_permission_when_slack_is_off(stack: stack_module.Stack) -> None:
    for role in stack.of_type("AWS::IAM::Role"):
        assert not any(a.startswith("secretsmanager:") for a in actions(stack, role))


def test_the_email_subscription_exists_only_with_an_address(stack: stack_module.Stack) -> None:
    assert not stack.of_type("AWS::SNS::Subscription")
    with_email = stack_module.load(
        ROOT / "template.yaml", {"NotificationEmail": "team@example.com"}
    )
    (sub,) = with_email.of_type("AWS::SNS::Subscription").values()
    assert sub["Properties"]["Protocol"] == "email"
    assert sub["Properties"]["Endpoint"] == "team@example.com"


def test_parameters_and_defaults() -> None:
    from cfnlint.decode import decode

    template, _ = decode(str(ROOT / "template.yaml"))
    params = template["Parameters"]
    assert params["GlueIdleMinutes"]["Default"] == "30"
    assert params["WarningMinutes"]["Default"] == "5"
    assert params["DryRun"]["Default"] == "false"
    assert params["ExemptTagKey"]["Default"] == "idle-reaper:exempt"


@pytest.mark.parametrize(
    "value", ["05", "4.5", "5.0", "1e3", "-5", "0", " 30", "30 ", "\u0661\u0665"]
)
@pytest.mark.parametrize(
    "name",
    [
        "GlueIdleMinutes",
        "SageMakerIdleMinutes",
        "Ec2IdleMinutes",
        "MaxIdleMinutes",
        "AuditRetentionDays",
        "Ec2CpuIdlePercent",
        "Ec2NetworkIdleBytes",
    ],
)
def test_whole_minute_parameters_refuse_what_the_functions_could_not_read(
    name: str, value: str
) -> None:
    """A Number parameter would accept 4.5 or 05: the functions read integers and the Rules
    compare strings, so these are Strings with a pattern, and the stack is refused."""
    with pytest.raises(stack_module.ScenarioError, match=name):
        stack_module.load(ROOT / "template.yaml", {name: value, "WarningMinutes": "0"})


def test_the_running_cap_the_template_takes_is_the_one_inspect_reads() -> None:
    """SageMakerMaxHours: 0 (off) to 8760 hours; a value Inspect would refuse never deploys."""
    from idle_reaper.policy import Policy

    for hours, deploys in (("0", True), ("8760", True), ("8761", False), ("05", False)):
        overrides = {"SageMakerMaxHours": hours}
        if not deploys:
            with pytest.raises(stack_module.ScenarioError, match="SageMakerMaxHours"):
                stack_module.load(ROOT / "template.yaml", overrides)
            continue
        env = stack_module.load(ROOT / "template.yaml", overrides).resources["InspectFunction"]
        Policy.from_env(env["Properties"]["Environment"]["Variables"])  # reads it, no error


RULE_EXPECTATIONS: dict[str, set[str]] = {
    "glue-create-session.json": {START},
    "glue-create-session-other-account.json": set(),
    "glue-create-session-eu-west-1.json": set(),  # `make replay` deploys into its region
    "glue-create-session-failed.json": set(),
    "amplify-create-app.json": set(),  # Amplify's CreateApp is not Studio's
    "sagemaker-create-app-jupyterlab.json": {"StudioAppCreated"},
    "sagemaker-create-app-jupyterserver.json": set(),  # the free app type
    "sagemaker-create-app-failed.json": set(),
    "sagemaker-notebook-inservice.json": {"NotebookInstanceInService"},
    "sagemaker-notebook-pending.json": set(),
    "sagemaker-notebook-stopped.json": set(),
    "ec2-instance-running.json": {"Ec2InstanceRunning"},
    "ec2-instance-running-other-account.json": set(),
    "ec2-instance-stopped.json": set(),
    "ec2-instance-pending.json": set(),
    "reaper-warning.json": {NOTIFY, AUDIT},
    "reaper-stopped.json": {NOTIFY, AUDIT},
    "reaper-would-stop.json": {NOTIFY, AUDIT},
    "reaper-failed.json": {NOTIFY, AUDIT},
    "reaper-failed-before-verdict.json": {NOTIFY, AUDIT},
    "reaper-exempt.json": {AUDIT},
    "reaper-gone.json": {AUDIT},
    "reaper-kept.json": {AUDIT},  # a keep from Slack: recorded; its answer went to Slack already
    "sweep-scheduled.json": set(),  # the sweeper's schedule is not a pattern: it fires by time
    "policy-parameter-changed.json": set(),  # no PolicyParameterName: tests/template/test_policy
}


def matching_rules(stack: stack_module.Stack, event: dict[str, Any]) -> set[str]:
    from moto.events.models import EventPattern

    return {
        logical
        for logical, rule in stack.of_type("AWS::Events::Rule").items()
        if "EventPattern" in rule["Properties"]  # a schedule matches no event
        and EventPattern(None, rule["Properties"]["EventPattern"]).matches_event(event)
    }


@pytest.mark.parametrize(("name", "rules"), RULE_EXPECTATIONS.items())
def test_rules_match_exactly_the_events_they_should(
    stack: stack_module.Stack, name: str, rules: set[str]
) -> None:
    assert matching_rules(stack, load_event(name)) == rules


@pytest.mark.parametrize("name", ["reaper-exempt.json", "reaper-gone.json"])
def test_exempt_and_gone_reach_notify_when_asked(name: str) -> None:
    stack = stack_module.load(ROOT / "template.yaml", {"NotifyOnExemptAndGone": "true"})
    assert matching_rules(stack, load_event(name)) == {NOTIFY, AUDIT}


def test_every_eventbridge_sample_has_a_rule_expectation() -> None:
    envelopes = {
        p.name for p in EVENTS.glob("*.json") if "detail-type" in json.loads(p.read_text())
    }
    assert envelopes == set(RULE_EXPECTATIONS)


# -- the ASL ------------------------------------------------------------------------------------
ASL = json.loads((ROOT / "statemachine/watcher.asl.json").read_text())


def test_asl_parses_in_the_step_functions_interpreter() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    definition = json.dumps(ASL).replace(
        "${InspectFunctionArn}", "arn:aws:lambda:us-east-1:1:function:f"
    )
    AmazonStateLanguageParser.parse(definition)


def test_asl_transitions_all_lead_somewhere_and_every_state_is_reachable() -> None:
    states = ASL["States"]
    targets = {ASL["StartAt"]}
    for state in states.values():
        targets.update(filter(None, [state.get("Next"), state.get("Default")]))
        targets.update(c["Next"] for c in state.get("Choices", []))
        targets.update(c["Next"] for c in state.get("Catch", []))
    assert targets <= set(states)
    assert set(states) == targets


STOPS = ("StopGlueSession", "StopNotebookInstance", "DeleteSpaceApp", "DeleteUserApp")
STOPS += ("StopEc2Instance",)


def test_every_task_retries_with_backoff_and_jitter_but_the_stops() -> None:
    for name, state in ASL["States"].items():
        if state["Type"] == "Task" and name not in STOPS:
            assert state["Retry"], name
            for retry in state["Retry"]:
                assert retry["BackoffRate"] > 1 and retry["JitterStrategy"] == "FULL", name


@pytest.mark.parametrize("stop", STOPS)
def test_a_stop_is_never_retried_blind_an_unanswered_one_is_looked_at_again(stop: str) -> None:
    """A retry would act on a look that has aged: a statement begun since would be killed."""
    state = ASL["States"][stop]
    assert "Retry" not in state
    catches = {error: c["Next"] for c in state["Catch"] for error in c["ErrorEquals"]}
    assert catches["States.Timeout"] == "CountStopError"
    assert catches["States.ALL"] == "CountFailure"
    states = ASL["States"]
    assert states["CountStopError"]["Next"] == "StopErrorBudget"
    (again,) = states["StopErrorBudget"]["Choices"]
    # the pause is drawn on the only way in (States.Runtime, uncatchable, if it were missing)
    into = {
        name: {
            source
            for source, s in states.items()
            if s.get("Next") == name
            or s.get("Default") == name
            or name in [c["Next"] for c in s.get("Choices", []) + s.get("Catch", [])]
        }
        for name in ("WaitBeforeStopping", "StopErrorBudget")
    }
    assert into == {
        "WaitBeforeStopping": {"StopErrorBudget"},
        "StopErrorBudget": {"CountStopError"},
    }
    # a pause drawn per watcher, so stops throttled together do not come back together
    assert states["CountStopError"]["Parameters"]["pause.$"] == "States.MathRandom(10, 30)"
    assert states[again["Next"]] == {
        "Type": "Wait",
        "SecondsPath": "$.tries.pause",
        "Next": "Inspect",
    }


def test_no_counter_reads_what_the_documented_input_may_lack() -> None:
    """A path missing in a Pass or Choice fails the execution (States.Runtime, which no Catch
    takes): every counter reads only what the start input's `tries` holds, but the publish
    loop's own, which it sets at its first round after checking it is there."""

    given = set(start_input({})["tries"])
    loop = {"UnpublishedBefore", "CountUnpublished", "PublishBudget"}
    loop |= {"WaitBeforeStopping"}  # the pause CountStopError, its only way in, has just drawn
    read = {
        key
        for name, state in ASL["States"].items()
        if name not in loop
        for key in re.findall(r"\$\.tries\.(\w+)", json.dumps(state))
    }
    assert read == given == {"failures", "refusals"}
    first = ASL["States"]["UnpublishedBefore"]
    assert first["Choices"] == [
        {"Variable": "$.tries.unpublished", "IsPresent": True, "Next": "CountUnpublished"}
    ]
    assert ASL["States"][first["Default"]]["Parameters"]["unpublished"] == 1


def _guarded(states: dict[str, Any], guard: str, wait: str) -> bool:
    """The Choice `guard` reaches `wait` only while a $.tries counter is within its bound:
    its rule for `wait` bounds one, or an earlier rule leaves once one is past its bound."""
    for rule in states[guard]["Choices"]:
        counted = rule.get("Variable", "").startswith("$.tries.")
        if rule["Next"] == wait:
            return counted and "NumericLessThanEquals" in rule
        if counted and "NumericGreaterThan" in rule:
            return states[guard]["Default"] == wait or any(
                r["Next"] == wait for r in states[guard]["Choices"]
            )
    return False


def test_no_polling_loop_waits_for_verdict_timestamps_or_bounded_retries() -> None:
    """A Wait either sleeps until Inspect's timestamp, or is a fixed pause reached only
    through a Choice that bounds how often it can happen (an outage, a refused stop, an
    unanswered stop, an outcome the bus would not take)."""
    states = ASL["States"]
    fixed = {
        name
        for name, s in states.items()
        if s["Type"] == "Wait" and ("Seconds" in s or "SecondsPath" in s)
    }
    timed = {name for name, s in states.items() if s["Type"] == "Wait" and "TimestampPath" in s}
    assert timed == {"WaitForNextCheck"}
    assert states["WaitForNextCheck"]["TimestampPath"] == "$.verdict.next_check_at"
    assert fixed == {
        "WaitOutOutage",
        "WaitAfterRefusal",
        "WaitBeforeStopping",  # 10 to 29 s, drawn by CountStopError
        "WaitToPublishOutcome",
        "WaitToPublishFailure",
    }
    for name in fixed:
        guards = [
            g
            for g, s in states.items()
            if s.get("Next") == name
            or (s.get("Type") == "Choice" and name in [c["Next"] for c in s["Choices"]])
            or s.get("Default") == name
        ]
        assert guards, name
        for guard in guards:
            assert states[guard]["Type"] == "Choice", (name, guard)
            assert _guarded(states, guard, name), (name, guard)
    assert (
        states["WaitOutOutage"]["Seconds"]
        * states["OutageBudget"]["Choices"][0]["NumericLessThanEquals"]
        >= 3 * 3600
    )  # an outage is waited out for hours, not seconds


def test_no_arn_in_the_asl_names_a_partition() -> None:
    text = json.dumps(ASL)
    assert "arn:aws:" not in text and "arn:aws-" not in text
    resources = [s["Resource"] for s in ASL["States"].values() if "Resource" in s]
    assert resources and all(r.startswith("arn:${Partition}:states:::") for r in resources)


def test_the_partition_is_the_stacks_own(stack: stack_module.Stack) -> None:
    props = stack.resources["WatcherStateMachine"]["Properties"]
    assert props["DefinitionSubstitutions"]["Partition"] == "aws"
    china = stack_module.load(ROOT / "template.yaml", region="cn-north-1")
    china_props = china.resources["WatcherStateMachine"]["Properties"]
    assert china_props["DefinitionSubstitutions"]["Partition"] == "aws-cn"


def test_every_choice_rule_reads_a_path_inspect_always_returns() -> None:
    """A Choice on a missing path fails the execution with States.Runtime, which no Catch
    handles; `$.resource.kind` is read only after `$.resource` was found not null."""
    rules = ASL["States"]["Decide"]["Choices"]
    null_guard = rules.index({"Variable": "$.resource", "IsNull": True, "Next": "UnknownVerdict"})
    for index, rule in enumerate(rules):
        for leaf in rule.get("And", [rule]):
            if leaf["Variable"].startswith("$.resource."):
                assert index > null_guard
            elif "IsPresent" not in leaf:
                top = leaf["Variable"].split(".")[1]
                assert top in {"verdict", "watch", "resource"}, leaf


def test_inspect_retries_lambda_timeouts_and_the_stop_looks_again_on_unmodelled_errors() -> None:
    inspect = set(ASL["States"]["Inspect"]["Retry"][0]["ErrorEquals"])
    assert {"Lambda.ClientExecutionTimeoutException", "Sandbox.Timedout"} <= inspect
    stop = ASL["States"]["StopGlueSession"]["Catch"]
    again = {error for c in stop if c["Next"] == "CountStopError" for error in c["ErrorEquals"]}
    assert {"Glue.GlueException", "Glue.ThrottlingException", "States.Timeout"} <= again


@pytest.mark.parametrize("idle", ["GlueIdleMinutes", "SageMakerIdleMinutes", "Ec2IdleMinutes"])
def test_warning_must_be_shorter_than_the_idle_allowance_for_every_pair(idle: str) -> None:
    """Every pair against the Rules (what CloudFormation checks before creating anything);
    the shortest allowance each warning takes also deploys in full."""
    sam = stack_module.read(ROOT / "template.yaml")
    others = {"GlueIdleMinutes": "90", "SageMakerIdleMinutes": "90", "Ec2IdleMinutes": "90"}
    for warning in sam["Parameters"]["WarningMinutes"]["AllowedValues"]:
        for minutes in range(1, 75):
            overrides = {**others, "WarningMinutes": warning, idle: str(minutes)}
            if int(warning) < minutes:
                assert stack_module.parameters_of(sam, overrides)[idle] == str(minutes)
            else:
                with pytest.raises(stack_module.ScenarioError, match=f"less than {idle}"):
                    stack_module.parameters_of(sam, overrides)
        shortest = {**others, "WarningMinutes": warning, idle: str(int(warning) + 1)}
        deployed = stack_module.load(ROOT / "template.yaml", shortest)
        assert deployed.parameters[idle] == str(int(warning) + 1)
        if warning != "0":  # an allowance of 0 minutes is refused on its own
            with pytest.raises(stack_module.ScenarioError, match=f"less than {idle}"):
                stack_module.load(ROOT / "template.yaml", {**shortest, idle: warning})


def test_the_start_rule_hands_the_watcher_its_input_contract(stack: stack_module.Stack) -> None:
    from local_runtime.bus import _target_input

    (target,) = stack.resources[START]["Properties"]["Targets"]
    event = load_event("glue-create-session.json")
    assert _target_input(target, event) == start_input(event)


def test_reaper_events_travel_on_a_bus_only_the_watcher_may_put_to(
    stack: stack_module.Stack,
) -> None:
    bus = stack.ref("ReaperEventBus")
    for rule in (NOTIFY, AUDIT):
        assert stack.resources[rule]["Properties"]["EventBusName"] == bus
    assert "EventBusName" not in stack.resources[START]["Properties"]  # the default bus
    policy = stack.resources["ReaperEventBusPolicy"]["Properties"]
    assert policy["EventBusName"] == bus
    statement = policy["Statement"]
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == (
        "Deny",
        "*",
        "events:PutEvents",
    )
    assert statement["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": stack.arn("WatcherStateMachineRole")}
    }
    substitutions = stack.resources["WatcherStateMachine"]["Properties"]["DefinitionSubstitutions"]
    assert substitutions["EventBusName"] == stack.arn("ReaperEventBus")


def test_only_this_accounts_and_regions_starts_begin_a_watch(stack: stack_module.Stack) -> None:
    pattern = stack.resources[START]["Properties"]["EventPattern"]
    assert pattern["account"] == [stack.account]
    assert pattern["region"] == [stack.region]


def test_the_claims_expire(stack: stack_module.Stack) -> None:
    table = stack.resources["WatcherClaimsTable"]["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_no_function_sends_its_responses_to_x_ray(stack: stack_module.Stack) -> None:
    for logical, function in stack.of_type("AWS::Lambda::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false", logical


def test_every_kind_has_a_stop_branch_and_a_stop_task() -> None:
    choices = ASL["States"]["Decide"]["Choices"]
    for kind in all_kinds():
        branch = [
            c
            for c in choices
            if {"Variable": "$.resource.kind", "StringEquals": kind.name} in c.get("And", [])
        ]
        assert branch, kind.name
        task = ASL["States"][branch[0]["Next"]]
        service, action = task["Resource"].split(":::aws-sdk:")[1].split(":")
        assert {f"{service}:{action[0].upper()}{action[1:]}"} == set(kind.stop_permissions)


@pytest.mark.parametrize(
    ("task", "gone", "refused"),
    [
        ("StopNotebookInstance", None, {"SageMaker.SageMakerException"}),
        (
            "DeleteSpaceApp",
            "SageMaker.ResourceNotFoundException",
            {"SageMaker.ResourceInUseException", "SageMaker.SageMakerException"},
        ),
        (
            "DeleteUserApp",
            "SageMaker.ResourceNotFoundException",
            {"SageMaker.ResourceInUseException", "SageMaker.SageMakerException"},
        ),
        ("StopEc2Instance", None, {"Ec2.Ec2Exception"}),
    ],
)
def test_each_new_stop_hands_refusals_to_inspect_and_counts_the_rest(
    task: str, gone: str | None, refused: set[str]
) -> None:
    """SageMaker's and EC2's undeclared errors arrive as one generic name: the watcher cannot
    tell "not found" from "wrong state" by name, so it looks again and Inspect decides."""
    state = ASL["States"][task]
    catches = {error: c["Next"] for c in state["Catch"] for error in c["ErrorEquals"]}
    assert {e for e, nxt in catches.items() if nxt == "CountRefusal"} == refused
    assert {e for e, nxt in catches.items() if nxt == "Gone"} == ({gone} if gone else set())
    assert state["Catch"][-1] == {
        "ErrorEquals": ["States.ALL"],
        "ResultPath": "$.error",
        "Next": "CountFailure",
    }
    assert state["Next"] == "EmitOutcome" and state["ResultPath"] is None


def test_studio_apps_are_deleted_with_the_target_inspect_hands_over() -> None:
    space = ASL["States"]["DeleteSpaceApp"]["Parameters"]
    user = ASL["States"]["DeleteUserApp"]["Parameters"]
    assert space["SpaceName.$"] == "$.resource.target.SpaceName" and "UserProfileName.$" in user
    deletes = {"DeleteSpaceApp", "DeleteUserApp"}
    branches = [c for c in ASL["States"]["Decide"]["Choices"] if c["Next"] in deletes]
    # the space branch comes first and tests presence, which never fails on a missing path
    assert [b["Next"] for b in branches] == ["DeleteSpaceApp", "DeleteUserApp"]
    assert {"Variable": "$.resource.target.SpaceName", "IsPresent": True} in branches[0]["And"]


def test_the_ec2_stop_is_granted_only_on_instances_with_the_opt_in_tag(
    stack: stack_module.Stack,
) -> None:
    from idle_reaper.kinds import kind_named

    (stop,) = [
        s
        for s in statements(stack, "WatcherStateMachineRole")
        if "ec2:StopInstances" in s["Action"]
    ]
    assert stop["Resource"] == "arn:aws:ec2:us-east-1:123456789012:instance/*"
    assert stop["Condition"] == {"StringEquals": {"aws:ResourceTag/idle-reaper:opt-in": "true"}}
    assert kind_named("ec2-instance").settings_from({}).opt_in_tag_key == "idle-reaper:opt-in"


@pytest.mark.parametrize(
    ("switch", "rules", "actions_gone"),
    [
        (
            "EnableSageMaker",
            {"NotebookInstanceInService", "StudioAppCreated"},
            {"sagemaker:StopNotebookInstance", "sagemaker:DeleteApp", "sagemaker:DescribeApp"},
        ),
        ("EnableEc2", {"Ec2InstanceRunning"}, {"ec2:StopInstances", "ec2:DescribeInstances"}),
    ],
)
def test_a_kind_family_switched_off_has_no_rule_and_no_permission(
    switch: str, rules: set[str], actions_gone: set[str]
) -> None:
    off = stack_module.load(ROOT / "template.yaml", {switch: "false"})
    assert not rules & set(off.of_type("AWS::Events::Rule"))
    granted = actions(off, "WatcherStateMachineRole") | actions(off, "InspectFunctionRole")
    assert not actions_gone & granted
    on = stack_module.load(ROOT / "template.yaml")
    assert rules <= set(on.of_type("AWS::Events::Rule"))


@pytest.mark.parametrize("rule", KIND_STARTS)
def test_every_kind_start_rule_is_scoped_and_hands_the_watcher_its_input_contract(
    stack: stack_module.Stack, rule: str
) -> None:
    from local_runtime.bus import _target_input

    props = stack.resources[rule]["Properties"]
    assert props["EventPattern"]["account"] == ["123456789012"]
    assert props["EventPattern"]["region"] == ["us-east-1"]
    (target,) = props["Targets"]
    assert target["Arn"] == stack.arn("WatcherStateMachine")
    event = load_event("glue-create-session.json")
    assert _target_input(target, event) == start_input(event)
    assert target["RoleArn"] == stack.arn("WatcherStartRole")
    (grant,) = statements(stack, "WatcherStartRole")
    assert grant["Action"] == "states:StartExecution"
    assert grant["Resource"] == stack.ref("WatcherStateMachine")


def test_the_stop_catches_what_the_issue_says() -> None:
    catches = {
        tuple(c["ErrorEquals"]): c["Next"] for c in ASL["States"]["StopGlueSession"]["Catch"]
    }
    assert catches[("Glue.IllegalSessionStateException",)] == "CountRefusal"
    assert catches[("Glue.EntityNotFoundException",)] == "Gone"
    assert catches[("States.ALL",)] == "CountFailure"


# -- the audit trail, the dashboard, the alarms ------------------------------------------------
def test_the_audit_table_is_on_demand_recoverable_encrypted_expiring_and_kept(
    stack: stack_module.Stack,
) -> None:
    table = stack.resources["AuditTable"]
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["DeletionPolicy"] == "Retain"  # deleting the stack keeps the record


def test_the_audit_keys_are_the_ones_the_code_writes_and_queries(
    stack: stack_module.Stack,
) -> None:
    from idle_reaper.audit import WEEK_INDEX, record_for

    props = stack.resources["AuditTable"]["Properties"]
    item = record_for(load_event("reaper-stopped.json"), 400).to_item()
    keys = [k["AttributeName"] for k in props["KeySchema"]]
    (index,) = props["GlobalSecondaryIndexes"]
    assert keys == ["pk", "sk"]
    assert index["IndexName"] == WEEK_INDEX
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["week", "sk"]
    assert all(k in item for k in ("pk", "sk", "week", "expires_at"))


def test_the_audit_retention_is_a_parameter_the_function_reads() -> None:
    stack = stack_module.load(ROOT / "template.yaml", {"AuditRetentionDays": "90"})
    env = stack.resources["AuditFunction"]["Properties"]["Environment"]["Variables"]
    assert env["AUDIT_RETENTION_DAYS"] == "90"
    assert stack_module.load(ROOT / "template.yaml").parameters["AuditRetentionDays"] == "400"


def test_the_audit_function_may_only_put_records(stack: stack_module.Stack) -> None:
    granted = {
        (str(s["Action"]), str(s["Resource"])) for s in statements(stack, "AuditFunctionRole")
    }
    assert granted == {
        ("['dynamodb:PutItem']", stack.arn("AuditTable")),
        ("sqs:SendMessage", stack.arn("AuditDeadLetterQueue")),  # SAM's, for OnFailure
    }


def test_every_queue_is_a_dead_letter_queue_with_an_alarm(stack: stack_module.Stack) -> None:
    queues = stack.of_type("AWS::SQS::Queue")
    assert len(queues) == 3
    for logical in queues:
        assert_encrypted_and_alarmed(stack, stack.arn(logical))


@pytest.mark.parametrize("alarm", ["WatcherFailedAlarm", "FunctionErrorsAlarm"])
def test_an_alarm_sum_counts_a_metric_without_data_as_zero(
    stack: stack_module.Stack, alarm: str
) -> None:
    """These counts are sparse (a datapoint only when something happened): one without a
    datapoint in the period must not leave the sum without one (FILL, metric math)."""
    props = stack.resources[alarm]["Properties"]
    ids = {m["Id"] for m in props["Metrics"] if "MetricStat" in m}
    (expression,) = [m["Expression"] for m in props["Metrics"] if "Expression" in m]
    terms = [term.strip() for term in expression.split("+")]
    assert sorted(terms) == sorted(f"FILL({i}, 0)" for i in ids)


def test_watchers_that_fail_time_out_or_are_aborted_raise_the_alarm(
    stack: stack_module.Stack,
) -> None:
    """Every way a watcher ends without its outcome: failed, timed out, or aborted (someone ran
    StopExecution), each AWS/States' count for this state machine, summed by the alarm."""
    alarm = stack.resources["WatcherFailedAlarm"]["Properties"]
    watched = {
        m["Id"]: m["MetricStat"]["Metric"]["MetricName"]
        for m in alarm["Metrics"]
        if "MetricStat" in m
    }
    assert sorted(watched.values()) == [
        "ExecutionsAborted",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
    ]
    assert _dimension_values(alarm) == [stack.ref("WatcherStateMachine")] * 3
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    assert set(re.findall(r"[a-z_]+", expression["Expression"])) == set(watched)
    assert expression.get("ReturnData", True) is True
    assert all(m["ReturnData"] is False for m in alarm["Metrics"] if "MetricStat" in m)
    assert alarm["AlarmActions"] == [stack.ref("NotificationTopic")]


def test_every_function_error_raises_the_alarm(stack: stack_module.Stack) -> None:
    alarm = stack.resources["FunctionErrorsAlarm"]["Properties"]
    functions = {stack.ref(f) for f in stack.of_type("AWS::Lambda::Function")}
    assert set(_dimension_values(alarm)) == functions
    assert alarm["AlarmActions"] == [stack.ref("NotificationTopic")]


@pytest.fixture(scope="module")
def dev() -> stack_module.Stack:
    """The template deployed under another stack name than the default (a second stack in the
    account): what names its own metrics must follow the name, not a literal."""
    return stack_module.load(ROOT / "template.yaml", name="reaper-dev")


@pytest.mark.parametrize("name", ["1dev", "dev_reaper", "dev reaper", "dev'", "d" * 129, ""])
def test_a_stack_name_cloudformation_would_refuse_is_refused(name: str) -> None:
    """A letter, then letters, digits and hyphens, at most 128 (CreateStack's StackName): the
    name reaches a Metrics Insights query and the dashboard's JSON, quoted."""
    with pytest.raises(stack_module.ScenarioError, match="stack name"):
        stack_module.load(ROOT / "template.yaml", name=name)


def test_slack_refusing_for_good_raises_the_alarm(dev: stack_module.Stack) -> None:
    """The alarm sums the metric the notify function writes: its Powertools namespace, the
    SlackRejected name, and the dimensions it writes it with (`service`, by Powertools, and
    `kind`, by the handler: functions/notify/app.py), over every kind; above 0, the topic."""
    stack = dev
    alarm = stack.resources["SlackRejectedAlarm"]["Properties"]
    [query] = alarm["Metrics"]
    found = re.fullmatch(
        r"SELECT SUM\((\w+)\) FROM SCHEMA\((\w+), ([\w, ]+)\) WHERE service = '([\w-]+)'",
        query["Expression"],
    )
    assert found is not None, query["Expression"]
    metric, namespace, dimensions, service = found.groups()
    env = stack.resources["NotifyFunction"]["Properties"]["Environment"]["Variables"]
    assert metric == "SlackRejected"
    assert namespace == env["POWERTOOLS_METRICS_NAMESPACE"]
    assert set(dimensions.split(", ")) == {"service", "kind"}
    assert service == env["POWERTOOLS_SERVICE_NAME"] == "reaper-dev"  # this stack's only
    source = (Path(__file__).resolve().parents[2] / "functions/notify/app.py").read_text()
    assert 'add_dimension(name="kind"' in source and 'name="SlackRejected"' in source
    assert query["ReturnData"] is True
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [stack.ref("NotificationTopic")]


def test_every_alarm_tells_the_notification_topic(stack: stack_module.Stack) -> None:
    for logical, alarm in stack.of_type("AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmActions"] == [stack.ref("NotificationTopic")], logical


def test_the_dashboard_shows_what_the_audit_function_measures(dev: stack_module.Stack) -> None:
    from idle_reaper.audit import AuditRecord, metrics_for

    stack = dev
    body = json.loads(stack.resources["Dashboard"]["Properties"]["DashboardBody"])
    text = json.dumps(body)
    measured = {
        name
        for kind in ("stopped", "warning", "failed")
        for name, _, _ in metrics_for(AuditRecord(**{**_BLANK_RECORD, "type": kind}))
    }
    for metric in ("ResourcesStopped", "Warnings", "EstimatedSavingsUSD", "StopFailures"):
        assert metric in measured
        assert f'MetricName=\\"{metric}\\"' in text, metric
    assert "{IdleReaper,kind,service}" in text  # per kind: Powertools adds `service`
    searches = re.findall(r"SEARCH\('([^']*)'", text)
    assert len(searches) == 4 and all(q.endswith('service=\\"reaper-dev\\"') for q in searches), (
        searches
    )  # this stack's metrics, not every stack's in the account
    for queue in stack.of_type("AWS::SQS::Queue"):
        assert stack.physical_name(queue) in text
    for function in stack.of_type("AWS::Lambda::Function"):
        assert stack.ref(function) in text


_BLANK_RECORD: dict[str, Any] = dict.fromkeys(
    ("pk", "sk", "week", "event_id", "at", "kind", "resource_id", "account", "region", "owner"),
    "x",
)


def test_the_watcher_logs_errors_only_and_no_execution_data_by_default(
    stack: stack_module.Stack,
) -> None:
    logging = stack.resources["WatcherStateMachine"]["Properties"]["LoggingConfiguration"]
    assert (logging["Level"], logging["IncludeExecutionData"]) == ("ERROR", False)
    verbose = stack_module.load(
        ROOT / "template.yaml", {"WatcherLogLevel": "ALL", "WatcherLogExecutionData": "true"}
    )
    logging = verbose.resources["WatcherStateMachine"]["Properties"]["LoggingConfiguration"]
    assert (logging["Level"], logging["IncludeExecutionData"]) == ("ALL", True)


def test_the_layer_ships_the_versions_the_tests_ran_on() -> None:
    def pins(path: Path) -> dict[str, str]:
        lines = [ln.split("#")[0].strip() for ln in path.read_text().splitlines()]
        pairs = [ln.split("==") for ln in lines if "==" in ln]
        return {name.lower().replace("_", "-"): version for name, version in pairs}

    shipped, tested = pins(ROOT / "src/requirements.txt"), pins(ROOT / "requirements-dev.txt")
    assert {"aws-lambda-powertools", "aws-xray-sdk", "slack-sdk", "boto3"} <= set(shipped)
    for name, version in shipped.items():
        assert tested.get(name) == version, name


def test_inspect_knows_its_home_from_the_stack_not_from_the_invocation(
    stack: stack_module.Stack,
) -> None:
    variables = stack.resources["InspectFunction"]["Properties"]["Environment"]["Variables"]
    assert (variables["HOME_REGION"], variables["HOME_ACCOUNT"]) == (stack.region, stack.account)
    elsewhere = stack_module.load(
        ROOT / "template.yaml", region="eu-west-1", account="210987654321"
    )
    moved = elsewhere.resources["InspectFunction"]["Properties"]["Environment"]["Variables"]
    assert (moved["HOME_REGION"], moved["HOME_ACCOUNT"]) == ("eu-west-1", "210987654321")


def test_the_notebook_lifecycle_configuration_is_the_shipped_script(
    stack: stack_module.Stack,
) -> None:
    """CloudFormation cannot read a file, so the template inlines lifecycle/notebook-on-start.sh:
    one text, checked here, within the 16,384 characters SageMaker takes (base64). Its name is
    CloudFormation's: one made from the stack's name would exceed SageMaker's 63 characters
    for a stack name over 47."""
    import base64

    from cfnlint.decode import decode

    props = stack.resources["ActivitySignalLifecycleConfig"]["Properties"]
    (hook,) = props["OnStart"]
    script = (ROOT / "lifecycle/notebook-on-start.sh").read_text()
    assert base64.b64decode(hook["Content"]).decode() == script
    assert len(hook["Content"]) <= 16_384
    assert "NotebookInstanceLifecycleConfigName" not in props
    raw, _ = decode(str(ROOT / "template.yaml"))  # as written: what CloudFormation receives
    output = json.loads(json.dumps(raw["Outputs"]["NotebookLifecycleConfigName"]))
    assert output["Condition"] == "SageMakerOn"
    assert output["Value"] == {
        "Fn::GetAtt": ["ActivitySignalLifecycleConfig", "NotebookInstanceLifecycleConfigName"]
    }
    off = stack_module.load(ROOT / "template.yaml", {"EnableSageMaker": "false"})
    assert "ActivitySignalLifecycleConfig" not in off.resources


def test_the_studio_lifecycle_configuration_is_the_shipped_script(
    stack: stack_module.Stack,
) -> None:
    """lifecycle/studio-on-start.sh, inlined the same way, for JupyterLab apps. The name is
    required and createOnly: it carries the script's hash (a new script is a new name, which
    CloudFormation can replace the old one with) and the stack id's UUID (unique, and 57
    characters whatever the stack's name)."""
    import base64
    import hashlib
    import uuid

    from cfnlint.decode import decode

    props = stack.resources["StudioActivitySignalLifecycleConfig"]["Properties"]
    script = (ROOT / "lifecycle/studio-on-start.sh").read_bytes()
    assert base64.b64decode(props["StudioLifecycleConfigContent"]) == script
    assert len(props["StudioLifecycleConfigContent"]) <= 16_384
    assert props["StudioLifecycleConfigAppType"] == "JupyterLab"
    digest = hashlib.sha256(script).hexdigest()[:8]
    raw = json.loads(json.dumps(decode(str(ROOT / "template.yaml"))[0]))  # as written
    stack_uuid = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}
    assert raw["Resources"]["StudioActivitySignalLifecycleConfig"]["Properties"][
        "StudioLifecycleConfigName"
    ] == {"Fn::Sub": ["idle-reaper-${Script}-${Stack}", {"Script": digest, "Stack": stack_uuid}]}
    assert props["StudioLifecycleConfigName"] == f"idle-reaper-{digest}-local"  # a local stack id
    deployed = f"idle-reaper-{digest}-{uuid.uuid4()}"  # a real stack id ends in its UUID
    assert len(deployed) <= 63
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", deployed)
    output = raw["Outputs"]["StudioLifecycleConfigArn"]
    assert output["Condition"] == "SageMakerOn"
    assert output["Value"] == {
        "Fn::GetAtt": ["StudioActivitySignalLifecycleConfig", "StudioLifecycleConfigArn"]
    }
    off = stack_module.load(ROOT / "template.yaml", {"EnableSageMaker": "false"})
    assert "StudioActivitySignalLifecycleConfig" not in off.resources


# -- the sweeper and the kill switch ------------------------------------------------------------
def test_the_kill_switch_disables_every_start_rule_and_the_sweeper_and_nothing_else() -> None:
    on = stack_module.load(ROOT / "template.yaml", {"KillSwitch": "on"})
    off = stack_module.load(ROOT / "template.yaml")
    starts = {START, *KIND_STARTS, SWEEP}
    for logical, rule in on.of_type("AWS::Events::Rule").items():
        state = rule["Properties"].get("State", "ENABLED")
        assert state == ("DISABLED" if logical in starts else "ENABLED"), logical
    assert all(off.resources[r]["Properties"]["State"] == "ENABLED" for r in starts)


def test_sweep_minutes_zero_turns_the_sweeper_off() -> None:
    stack = stack_module.load(ROOT / "template.yaml", {"SweepMinutes": "0"})
    assert stack.resources[SWEEP]["Properties"]["State"] == "DISABLED"
    assert stack.resources[START]["Properties"]["State"] == "ENABLED"


@pytest.mark.parametrize("minutes", ["5", "15", "60"])
def test_the_sweep_runs_every_sweep_minutes(minutes: str) -> None:
    stack = stack_module.load(ROOT / "template.yaml", {"SweepMinutes": minutes})
    rule = stack.resources[SWEEP]["Properties"]
    assert rule["ScheduleExpression"] == f"rate({minutes} minutes)"
    (target,) = rule["Targets"]
    assert target["Arn"] == stack.arn("SweepFunction")
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0


def test_the_sweeper_judges_as_inspect_does(stack: stack_module.Stack) -> None:
    """It looks at a resource as Inspect would before starting a watcher: the same policy and
    the same reads, plus its own table, state machine and the kinds' listings."""
    env = stack.resources["SweepFunction"]["Properties"]["Environment"]["Variables"]
    inspect_env = stack.resources["InspectFunction"]["Properties"]["Environment"]["Variables"]
    assert env == {
        **inspect_env,
        "CLAIMS_TABLE_NAME": stack.ref("WatcherClaimsTable"),
        "WATCHER_STATE_MACHINE_ARN": stack.ref("WatcherStateMachine"),
    }
    reads = {p for kind in all_kinds() for p in kind.read_permissions}
    listings = {p for kind in all_kinds() for p in kind.list_permissions}
    assert actions(stack, "SweepFunctionRole") == reads | listings | {
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:DeleteItem",
        "states:StartExecution",
        "states:DescribeExecution",
    }
    granted = {s["Sid"]: s for s in statements(stack, "SweepFunctionRole") if "Sid" in s}
    assert granted["StartWatchers"]["Resource"] == stack.ref("WatcherStateMachine")
    assert granted["FindClaimHolders"]["Resource"] == stack.arn("WatcherClaimsTable")
    assert granted["SeeWhetherWatchersRun"]["Resource"] == (
        "arn:aws:states:us-east-1:123456789012:execution:idle-reaper-watcher:*"
    )
