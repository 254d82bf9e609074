"""Scheduled EventBridge rules on the virtual clock (rate expressions as EventBridge documents
them, the Scheduled Event's shape, the same delivery path as pattern rules), and resources
started before the stack (a scenario's negative `at`): no rule exists yet for their start
event. A toy stack stands in for template.yaml so these tests do not depend on it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from local_runtime import actors
from local_runtime.bus import schedule_period
from local_runtime.channels import LocalChannels
from local_runtime.clock import VirtualClock
from local_runtime.errors import ScenarioError, TemplateError
from local_runtime.runtime import TEMPLATE, Account, running
from local_runtime.scenario import parse
from local_runtime.summary import executions_by_resource

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
QUIET = LocalChannels(slack=False, email=None)
FUNCTION = {
    "Type": "AWS::Serverless::Function",
    "Properties": {"CodeUri": "tick/", "Handler": "app.handler", "Runtime": "python3.12"},
}


def toy_template(tmp_path: Path) -> Path:
    """One function behind four rules: an enabled rate(15 minutes) schedule, a disabled
    rate(1 minute) schedule, a rate(1 hour) schedule with an input transformer, and a pattern
    rule for a test source and for Glue's CreateSession (a start event)."""
    code = tmp_path / "tick"
    code.mkdir()
    (code / "app.py").write_text("def handler(event, context):\n    return 'ok'\n")
    target = {"Arn": {"Fn::GetAtt": ["TickFunction", "Arn"]}, "Id": "tick"}
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "TickFunction": {
                **FUNCTION,
                "Properties": {
                    **FUNCTION["Properties"],
                    "Events": {
                        "Every15": {
                            "Type": "Schedule",
                            "Properties": {"Schedule": "rate(15 minutes)", "Enabled": True},
                        }
                    },
                },
            },
            "PausedRule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "ScheduleExpression": "rate(1 minute)",
                    "State": "DISABLED",
                    "Targets": [{**target, "Input": json.dumps({"paused": True})}],
                },
            },
            "HourlyRule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "ScheduleExpression": "rate(1 hour)",
                    "Targets": [
                        {
                            **target,
                            "InputTransformer": {
                                "InputPathsMap": {"t": "$.time", "rule": "$.resources[0]"},
                                "InputTemplate": '{"hourly": <t>, "rule": <rule>}',
                            },
                        }
                    ],
                },
            },
            "PatternRule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "EventPattern": {"source": ["test.app", "aws.glue"]},
                    "Targets": [target],
                },
            },
        },
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    return path


@pytest.fixture
def toy(tmp_path: Path) -> Iterator[Account]:
    with running(T0, template=toy_template(tmp_path), channels=QUIET) as account:
        yield account


def received(account: Account) -> list[dict[str, Any]]:
    return [i.event for i in account.functions.invocations if i.function == "TickFunction"]


def scheduled(account: Account) -> list[dict[str, Any]]:
    return [e for e in received(account) if e.get("detail-type") == "Scheduled Event"]


def rule_arn(account: Account, logical: str) -> str:
    name = account.stack.physical_name(logical)
    return str(account.clients["events"].describe_rule(Name=name)["Arn"])


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


# -- rate expressions ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expression", "period"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(15 minutes)", timedelta(minutes=15)),
        ("rate(1 hour)", timedelta(hours=1)),
        ("rate(6 hours)", timedelta(hours=6)),
        ("rate(1 day)", timedelta(days=1)),
        ("rate(2 days)", timedelta(days=2)),
    ],
)
def test_a_rate_expression_is_its_period(expression: str, period: timedelta) -> None:
    assert schedule_period(expression) == period


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("rate(1 minutes)", "singular for 1 and plural otherwise"),
        ("rate(5 hour)", "singular for 1 and plural otherwise"),
        ("rate(0 minutes)", "must be positive"),
        ("rate(-5 minutes)", "is not rate(value unit)"),
        ("rate(1.5 hours)", "is not rate(value unit)"),
        ("rate(2 weeks)", "is not rate(value unit)"),
        ("rate(5  minutes)", "is not rate(value unit)"),
        ("rate(5 minutes) ", "is not rate(value unit)"),
        ("every 5 minutes", "is not rate(value unit)"),
        ("cron(0 12 * * ? *)", "cron schedules are not emulated"),
        (15, "is not a rate(...) expression"),
        ("rate(" + "1" * 300 + " minutes)", "is not a rate(...) expression"),
    ],
)
def test_a_bad_or_unemulated_schedule_is_refused_in_one_line(expression: Any, message: str) -> None:
    with pytest.raises(TemplateError) as error:
        schedule_period(expression)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_rate_longer_than_any_run_is_valid_but_never_armed() -> None:
    assert schedule_period("rate(999999999 days)") is None


# -- the clock ----------------------------------------------------------------------------------
def test_a_recurring_timer_runs_but_is_not_pending_work() -> None:
    clock = VirtualClock(T0)
    clock.start()
    try:
        ran: list[str] = []
        clock.at(minutes(15), lambda: ran.append("tick"), recurring=True)
        assert clock.next_due() is None
        clock.at(minutes(20), lambda: ran.append("work"))
        assert clock.next_due() == minutes(20)
        clock.run_until(minutes(30))
        assert ran == ["tick", "work"]
        assert clock.next_due() is None
    finally:
        clock.stop()


# -- scheduled rules on the virtual clock -----------------------------------------------------
def test_a_rate_rule_first_fires_one_period_after_deployment_then_every_period(
    toy: Account,
) -> None:
    toy.clock.run_until(minutes(14))
    assert scheduled(toy) == []
    toy.clock.run_until(minutes(61))
    fifteen = rule_arn(toy, "TickFunctionEvery15")
    every15 = [e for e in scheduled(toy) if e["resources"] == [fifteen]]
    assert [e["time"] for e in every15] == [
        "2026-03-02T09:15:00Z",
        "2026-03-02T09:30:00Z",
        "2026-03-02T09:45:00Z",
        "2026-03-02T10:00:00Z",
    ]
    # one timer per rule: nothing else queued for it, and it is never pending work
    assert toy.clock.next_due() is None


def test_the_scheduled_event_has_eventbridges_shape(toy: Account) -> None:
    toy.clock.run_until(minutes(15))
    (event,) = scheduled(toy)
    assert set(event) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }
    assert event["version"] == "0"
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["account"] == toy.account_id
    assert event["region"] == toy.region
    assert event["time"] == "2026-03-02T09:15:00Z"
    assert event["resources"] == [rule_arn(toy, "TickFunctionEvery15")]
    assert event["detail"] == {}
    assert len(event["id"]) == 36


def test_a_scheduled_target_gets_its_input_transformer_output(toy: Account) -> None:
    toy.clock.run_until(minutes(60))
    hourly = [e for e in received(toy) if "hourly" in e]
    assert hourly == [{"hourly": "2026-03-02T10:00:00Z", "rule": rule_arn(toy, "HourlyRule")}]


def test_a_disabled_scheduled_rule_never_fires(toy: Account) -> None:
    name = toy.stack.physical_name("PausedRule")
    rule = toy.clients["events"].describe_rule(Name=name)
    assert rule["State"] == "DISABLED" and rule["ScheduleExpression"] == "rate(1 minute)"
    toy.clock.run_until(minutes(90))
    assert [e for e in received(toy) if e.get("paused")] == []


def test_a_rule_disabled_after_deployment_stops_firing(toy: Account) -> None:
    toy.clock.run_until(minutes(15))
    assert len(scheduled(toy)) == 1
    name = toy.stack.physical_name("TickFunctionEvery15")
    toy.clients["events"].disable_rule(Name=name)
    toy.clock.run_until(minutes(59))
    assert len(scheduled(toy)) == 1


def test_a_failing_scheduled_invocation_is_retried_as_an_asynchronous_invoke(
    toy: Account,
) -> None:
    def broken(event: Any, context: Any) -> Any:
        raise RuntimeError("down")

    toy.functions.replace("TickFunction", broken)
    toy.clock.run_until(minutes(15) + timedelta(minutes=4))
    attempts = [i for i in toy.functions.invocations if i.event.get("detail-type")]
    # Lambda's asynchronous invoke: the first attempt, then 1 and 2 minutes later
    assert len(attempts) == 3 and all(i.error for i in attempts)
    assert [arn.split(":")[-1] for arn, _, _ in toy.bus.dead_letters] == [
        toy.stack.physical_name("TickFunction")
    ]


def test_pattern_rules_still_match_and_scheduled_rules_never_match_put_events(
    toy: Account,
) -> None:
    event = {
        "version": "0",
        "id": "e1",
        "detail-type": "Test",
        "source": "test.app",
        "account": toy.account_id,
        "time": "2026-03-02T09:00:00Z",
        "region": toy.region,
        "resources": [],
        "detail": {"n": 1},
    }
    toy.bus.put(event)
    toy.bus.put({**event, "id": "e2", "source": "other.app"})  # matches no rule at all
    toy.clients["events"].put_events(
        Entries=[{"Source": "elsewhere.app", "DetailType": "Test", "Detail": "{}"}]
    )
    toy.clock.run_until(minutes(1))
    assert [(e["source"], e["id"]) for e in received(toy)] == [("test.app", "e1")]


# -- resources started before the stack -------------------------------------------------------
def early_scenario(**resource: Any) -> Any:
    return parse(
        {
            "start": "2026-03-02T09:00:00Z",
            "until": "4h",
            "resources": [
                {"kind": "glue-session", "id": "erin-etl", "at": "-2h", **resource},
                {"kind": "glue-session", "id": "frank-etl", "at": "10m"},
            ],
        }
    )


def test_a_resource_started_before_the_stack_gets_no_start_event(tmp_path: Path) -> None:
    scenario = early_scenario()
    assert scenario.origin == T0 - timedelta(hours=2)
    with running(
        scenario.start,
        template=toy_template(tmp_path),
        channels=QUIET,
        origin=scenario.origin,
    ) as account:
        assert account.clock.now() == T0 - timedelta(hours=2)
        assert account.deployed_at is None
        seen: list[str] = []
        account.bus.listeners.append(lambda what, data: seen.append(what))
        for spec in scenario.resources:
            actors.schedule(account, scenario, spec)
        account.clock.run_until(T0 - timedelta(minutes=1))
        glue = account.emulators["glue-session"]
        life = glue.life("erin-etl")
        assert life is not None and life.created_at == T0 - timedelta(hours=2)
        assert account.deployed_at is None
        account.clock.run_until(minutes(30))
        assert account.deployed_at == T0
        starts = [e for e in received(account) if e.get("source") == "aws.glue"]
        # only the session created after the deployment reached the (toy) start rule
        assert [e["detail"]["requestParameters"]["id"] for e in starts] == ["frank-etl"]
        assert "unmatched" not in seen
        # the schedule counts from the deployment, not from the clock's origin
        assert [e["time"] for e in scheduled(account)][:1] == ["2026-03-02T09:15:00Z"]


def test_a_late_start_event_that_arrives_after_the_deployment_is_delivered(
    tmp_path: Path,
) -> None:
    scenario = early_scenario(event="late", event_delay="3h")
    with running(
        scenario.start, template=toy_template(tmp_path), channels=QUIET, origin=scenario.origin
    ) as account:
        for spec in scenario.resources:
            actors.schedule(account, scenario, spec)
        account.clock.run_until(minutes(61))
        starts = [e for e in received(account) if e.get("source") == "aws.glue"]
        ids = sorted(e["detail"]["requestParameters"]["id"] for e in starts)
        assert ids == ["erin-etl", "frank-etl"]


def test_a_run_whose_clock_starts_at_the_scenario_start_refuses_an_earlier_resource(
    toy: Account,
) -> None:
    scenario = early_scenario()
    with pytest.raises(ScenarioError, match=r"erin-etl: starts at .* before the run's clock"):
        actors.schedule(toy, scenario, scenario.resources[0])


# -- with the product's sweeper -------------------------------------------------------------------
@pytest.mark.skipif(
    "SweepFunction" not in TEMPLATE.read_text(), reason="template.yaml has no sweeper yet"
)
def test_the_sweeper_finds_what_no_start_event_announced() -> None:
    """A session started before the stack and one whose start event was missed: the first
    sweep (one period after the deployment) starts a watcher for each; the session whose
    event arrived keeps the one watcher its event started."""
    scenario = parse(
        {
            "start": "2026-03-02T09:00:00Z",
            "until": "2h",
            "resources": [
                {"kind": "glue-session", "id": "erin-etl", "at": "-2h"},
                {"kind": "glue-session", "id": "frank-etl", "at": "1m", "event": "missed"},
                {"kind": "glue-session", "id": "grace-etl", "at": "2m"},
            ],
        }
    )
    with running(scenario.start, origin=scenario.origin) as account:
        for spec in scenario.resources:
            actors.schedule(account, scenario, spec)
        account.clock.run_until(minutes(14))
        assert [s.resource_id for s in account.bus.started] == ["grace-etl"]
        assert not scheduled_sweeps(account)
        account.clock.run_until(minutes(20))
        assert [e["time"] for e in scheduled_sweeps(account)] == ["2026-03-02T09:15:00Z"]
        watchers = executions_by_resource(account)
        assert {k: len(v) for k, v in watchers.items()} == {
            "erin-etl": 1,
            "frank-etl": 1,
            "grace-etl": 1,
        }
        assert [s.resource_id for s in account.bus.started] == ["grace-etl"]


def scheduled_sweeps(account: Account) -> list[dict[str, Any]]:
    return [
        i.event
        for i in account.functions.invocations
        if i.function == "SweepFunction" and i.event.get("detail-type") == "Scheduled Event"
    ]
