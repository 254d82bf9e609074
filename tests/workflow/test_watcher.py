"""The real watcher ASL, executed: every state and every Catch reached, in order."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from functools import partial
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError

import idle_reaper.watch
from idle_reaper.watch import start_input
from local_runtime.cloudtrail import api_call
from local_runtime.runtime import Account
from local_runtime.scenario import ResourceSpec, Scenario
from local_runtime.summary import summarize
from tests.conftest import load_event
from tests.workflow.conftest import Watch, at

ABANDONED = [
    "Inspect",
    "Decide",
    "Claim",  # the first look claims the resource's identity
    "Decide",
    "WaitForNextCheck",  # provisioning: wait for the warning moment
    "Inspect",
    "Decide",
    "EmitWarning",
    "WaitForNextCheck",  # warn, wait for the deadline
    "Inspect",
    "Decide",
    "StopGlueSession",
    "EmitOutcome",  # stop, publish
]


def test_abandoned_session_is_warned_then_stopped_at_the_deadline(watch: Watch) -> None:
    watch.start()
    watch.run(120)
    assert watch.states() == ABANDONED
    assert watch.status() == "SUCCEEDED"
    assert watch.published() == [("warning", at(25)), ("stopped", at(30))]
    assert watch.glue.lives["s1"].ended_by == "reaper"
    assert watch.glue.lives["s1"].ended_at == at(30)
    assert watch.account.state_transitions(watch.execution) == 13


def test_published_events_carry_what_a_notifier_and_an_auditor_need(watch: Watch) -> None:
    watch.start(tags={"owner": "alice@example.com"})
    watch.run(120)
    detail = watch.detail("stopped")
    assert detail["outcome"] == "stopped"
    assert detail["execution_arn"] == watch.execution
    assert detail["resource"]["id"] == "s1"
    assert detail["resource"]["owner"] == "alice@example.com"
    assert detail["resource"]["region"] == "us-east-1"
    assert detail["resource"]["account"] == "123456789012"
    assert detail["verdict"]["idle_since"] == "2026-03-02T09:00:00Z"
    assert detail["verdict"]["deadline"] == "2026-03-02T09:30:00Z"
    assert detail["verdict"]["cost_usd"] == 1.1
    assert detail["at"].startswith("2026-03-02T09:30:00")


def test_illegal_session_state_on_stop_waits_then_inspects_again(watch: Watch) -> None:
    watch.start()
    watch.glue.fail_next("StopSession", "IllegalSessionStateException")
    watch.run(120)
    assert watch.states()[-8:] == [
        "StopGlueSession",
        "CountRefusal",
        "RefusalBudget",
        "WaitAfterRefusal",
        "Inspect",
        "Decide",
        "StopGlueSession",
        "EmitOutcome",
    ]
    assert watch.published()[-1] == ("stopped", at(31))  # one minute later, not at once


def test_a_session_that_keeps_refusing_the_stop_ends_failed_not_spinning(watch: Watch) -> None:
    watch.start()
    watch.glue.fail_next("StopSession", *["IllegalSessionStateException"] * 50)
    watch.run(240)
    assert watch.states().count("StopGlueSession") == 6  # the first try and five more
    assert watch.status() == "FAILED"
    failed = watch.detail("failed")
    assert failed["error"]["Error"] == "Glue.IllegalSessionStateException"
    assert watch.glue.lives["s1"].ended_at is None


def test_session_gone_before_the_stop_is_done_gone(watch: Watch) -> None:
    watch.start()
    watch.glue.fail_next("StopSession", "EntityNotFoundException")
    watch.run(120)
    assert watch.states()[-3:] == ["StopGlueSession", "Gone", "EmitOutcome"]
    assert watch.published()[-1] == ("gone", at(30))
    assert watch.status() == "SUCCEEDED"


def test_throttled_stop_is_retried_with_backoff(watch: Watch) -> None:
    watch.start()
    watch.glue.fail_next("StopSession", "ThrottlingException", "ThrottlingException")
    watch.run(120)
    assert watch.states()[-2:] == ["StopGlueSession", "EmitOutcome"]
    failures = [e for e in watch.account.history(watch.execution) if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failures] == [
        "Glue.ThrottlingException"
    ] * 2
    life = watch.glue.lives["s1"]
    assert life.ended_by == "reaper"
    assert at(30) < life.ended_at < at(31)  # backoff (full jitter) on the virtual clock


def test_glue_exception_on_stop_is_retried(watch: Watch) -> None:
    watch.start()
    watch.glue.fail_next("StopSession", "GlueException", "GlueException")
    watch.run(120)
    assert watch.states()[-2:] == ["StopGlueSession", "EmitOutcome"]
    assert watch.glue.lives["s1"].ended_by == "reaper"


def test_a_stop_that_keeps_failing_is_tried_again_for_hours_then_published_failed(
    watch: Watch,
) -> None:
    watch.start()
    watch.glue.fail_next("StopSession", *["AccessDeniedException"] * 200)
    watch.run(60)
    assert watch.status() == "RUNNING"  # not given up after the retries: looking again later
    watch.run(8 * 60)
    assert watch.states().count("WaitOutOutage") == 8
    assert watch.status() == "FAILED"
    failed = watch.detail("failed")
    assert failed["error"]["Error"] == "Glue.AccessDeniedException"
    assert failed["resource"]["id"] == "s1"
    assert watch.glue.lives["s1"].ended_at is None  # nothing stopped


def test_an_outage_longer_than_the_retries_is_survived(watch: Watch) -> None:
    # GetSession fails for two rounds of retries (12 calls), then Glue answers again.
    watch.start()
    watch.run(1)
    watch.glue.fail_next("GetSession", *["AccessDeniedException"] * 12)
    watch.run(180)
    assert watch.states().count("WaitOutOutage") == 2
    assert [t for t, _ in watch.published()] == ["warning", "stopped"]
    assert watch.glue.lives["s1"].ended_by == "reaper"


def test_a_first_look_lost_to_an_outage_still_finds_its_resource_from_the_start_event(
    watch: Watch,
) -> None:
    # The start event rides in the state (not in Inspect's Payload beside it) until a look
    # succeeds: a first look that fails keeps it, and the look after the outage finds s1.
    watch.glue.fail_next("GetSession", *["AccessDeniedException"] * 6)
    watch.start()
    watch.run(180)
    states = watch.states()
    assert states[:4] == ["Inspect", "CountFailure", "OutageBudget", "WaitOutOutage"]
    assert [t for t, _ in watch.published()] == ["warning", "stopped"]
    assert watch.glue.lives["s1"].ended_by == "reaper"


def test_inspect_failing_before_any_verdict_is_published_failed_naming_the_resource(
    watch: Watch,
) -> None:
    # (AccessDenied: boto3 itself retries throttling, which would hide the Task's retries)
    watch.glue.fail_next("GetSession", *["AccessDeniedException"] * 200)
    watch.start()
    watch.run(6 * 60)
    states = watch.states()
    assert states[:3] == ["Inspect", "CountFailure", "OutageBudget"]
    assert states[-2:] == ["EmitFailed", "Failed"]
    failures = [e for e in watch.account.history(watch.execution) if e["type"] == "TaskFailed"]
    assert len(failures) == 9 * 6  # nine rounds of the first try and five retries
    failed = watch.detail("failed")
    assert failed["error"]["Error"] == "ResourceReadError"
    assert failed["resource"] is None  # no look ever succeeded...
    assert failed["event"]["detail"]["responseElements"]["session"]["id"] == "s1"  # ...named
    assert watch.glue.lives["s1"].ended_at is None


def whole_state(resource: Any, verdict: dict[str, Any]) -> dict[str, Any]:
    """What Inspect always returns (the ASL reads every one of these paths)."""
    return {
        "resource": resource,
        "verdict": verdict,
        "claim": None,
        "watch": {"continue": False},
        "tries": {"failures": 0, "refusals": 0},
    }


def test_a_verdict_the_watcher_cannot_act_on_never_stops(watch: Watch) -> None:
    def inspect(event: dict[str, Any], context: Any) -> dict[str, Any]:
        resource = {"kind": "glue-session", "id": "s1"}
        return whole_state(resource, {"action": "explode", "outcome": None})

    watch.account.functions.replace("InspectFunction", inspect)
    watch.start()
    watch.run(60)
    assert watch.states() == ["Inspect", "Decide", "UnknownVerdict", "EmitFailed", "Failed"]
    assert watch.detail("failed")["error"]["Error"] == "UnknownVerdict"
    assert watch.glue.lives["s1"].ended_at is None


def test_a_stop_for_a_kind_without_a_stop_branch_never_stops(watch: Watch) -> None:
    def inspect(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return whole_state({"kind": "mystery", "id": "s1"}, {"action": "stop"})

    watch.account.functions.replace("InspectFunction", inspect)
    watch.start()
    watch.run(60)
    assert "StopGlueSession" not in watch.states()
    assert watch.status() == "FAILED"


def test_a_stop_without_a_resource_never_reads_a_missing_path(watch: Watch) -> None:
    def inspect(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return whole_state(None, {"action": "stop"})

    watch.account.functions.replace("InspectFunction", inspect)
    watch.start()
    watch.run(60)
    assert watch.states() == ["Inspect", "Decide", "UnknownVerdict", "EmitFailed", "Failed"]
    assert watch.detail("failed")["error"]["Error"] == "UnknownVerdict"


def test_a_warning_that_could_not_be_published_is_sent_again_never_skipped(watch: Watch) -> None:
    watch.start()
    watch.run(20)
    watch.account.bus.failing_puts = 6  # the warning's first try and its five retries
    watch.run(180)
    assert "CountFailure" in watch.states()
    published = watch.published()
    assert [t for t, _ in published] == ["warning", "stopped"]
    warned_at, stopped_at = published[0][1], published[1][1]
    # a full warning, late as it is (the retries left the clock on a fraction of a second)
    assert timedelta(minutes=5) <= stopped_at - warned_at < timedelta(minutes=5, seconds=1)
    assert watch.glue.lives["s1"].ended_at == stopped_at


def test_exempt_session_ends_the_watch_at_once(watch: Watch) -> None:
    watch.start(tags={"idle-reaper:exempt": "true"})
    watch.run(24 * 60)
    assert watch.states() == ["Inspect", "Decide", "Claim", "Decide", "EmitOutcome"]
    assert watch.published() == [("exempt", at(0))]
    assert watch.glue.lives["s1"].ended_at is None


@pytest.mark.parameters({"DryRun": "true"})
def test_dry_run_warns_and_reports_but_never_stops(watch: Watch) -> None:
    watch.start()
    watch.run(24 * 60)
    assert watch.published() == [("warning", at(25)), ("would-stop", at(30))]
    assert "StopGlueSession" not in watch.states()
    assert watch.glue.status("s1") == "READY"


def test_activity_moves_the_stop_and_costs_three_transitions(watch: Watch) -> None:
    watch.start()
    watch.account.clock.at(at(10), lambda: watch.glue.run_statement("s1", timedelta(minutes=5)))
    watch.run(180)
    assert watch.published() == [("warning", at(40)), ("stopped", at(45))]
    assert watch.account.state_transitions(watch.execution) == 13 + 3


def test_session_stopped_by_its_user_ends_the_watch_as_gone(watch: Watch) -> None:
    watch.start()
    watch.account.clock.at(at(10), lambda: watch.glue.user_stop("s1"))
    watch.run(180)
    assert watch.published() == [("gone", at(25))]
    assert watch.glue.lives["s1"].ended_by == "user"


def test_a_duplicate_start_event_gets_no_second_watch(watch: Watch) -> None:
    watch.start(event="duplicate")
    watch.run(120)
    first, second = watch.account.bus.started
    assert watch.account.state_transitions(first.execution_arn) == 13
    # Inspect, Decide, Claim (refused), Duplicate
    assert watch.account.state_transitions(second.execution_arn) == 4
    assert watch.account.execution_status(second.execution_arn) == "SUCCEEDED"
    assert [t for t, _ in watch.published()] == ["warning", "stopped"]


def test_one_session_under_three_event_ids_and_a_late_one_gets_one_watch(watch: Watch) -> None:
    watch.start(event="missed")
    start = start_event(watch.account, "s1")
    for minutes in (0, 0, 1):  # three deliveries, each its own event id
        watch.account.clock.at(at(minutes), partial(watch.account.bus.put, renamed(start)))
    watch.account.clock.at(at(40), partial(watch.account.bus.put, renamed(start)))  # late
    watch.run(120)
    assert len(watch.account.bus.started) == 4
    assert [t for t, _ in watch.published()] == ["warning", "stopped"]
    holders = [
        s.execution_arn
        for s in watch.account.bus.started
        if "StopGlueSession" in watch.states_of(s.execution_arn)
    ]
    assert len(holders) == 1


def test_claims_expire_through_dynamodbs_ttl(watch: Watch) -> None:
    watch.start()
    watch.run(1)
    table = watch.account.stack.physical_name("WatcherClaimsTable")
    dynamodb = watch.account.clients["dynamodb"]
    (claim,) = dynamodb.scan(TableName=table)["Items"]
    assert claim["claim"]["S"].startswith("glue-session#123456789012#us-east-1#")
    assert claim["claim"]["S"].endswith("#s1")
    assert int(claim["expires_at"]["N"]) == int((at(0) + timedelta(days=400)).timestamp())
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_a_failed_claim_is_tried_again_later_then_published_as_failed(watch: Watch) -> None:
    table = watch.account.stack.physical_name("WatcherClaimsTable")
    watch.account.clients["dynamodb"].delete_table(TableName=table)
    watch.start()
    watch.run(6 * 60)
    states = watch.states()
    assert states[:5] == ["Inspect", "Decide", "Claim", "CountFailure", "OutageBudget"]
    assert "WaitForNextCheck" not in states  # never watched unclaimed
    assert states[-2:] == ["EmitFailed", "Failed"]
    assert watch.detail("failed")["error"]["Error"] == "DynamoDB.ResourceNotFoundException"
    assert watch.glue.lives["s1"].ended_at is None


def test_input_that_names_nothing_ends_ignored_without_a_missing_path(watch: Watch) -> None:
    arn = watch.account.stack.ref("WatcherStateMachine")
    execution = watch.account.clients["stepfunctions"].start_execution(
        stateMachineArn=arn, name="by-hand", input=json.dumps(start_input({"hello": "world"}))
    )["executionArn"]
    watch.run(5)
    assert watch.account.execution_status(execution) == "SUCCEEDED"
    assert watch.states_of(execution) == ["Inspect", "Decide", "EmitOutcome"]
    assert [t for t, _ in watch.published()] == ["ignored"]


def test_a_session_in_another_account_or_region_is_never_touched(watch: Watch) -> None:
    # the same session id exists here, exempt from nothing: only the foreign event names it
    watch.start(event="missed")
    arn = watch.account.stack.ref("WatcherStateMachine")
    for account, region in (("210987654321", "us-east-1"), ("123456789012", "eu-west-1")):
        foreign = start_event(watch.account, "s1")
        foreign["account"] = foreign["detail"]["recipientAccountId"] = account
        foreign["region"] = foreign["detail"]["awsRegion"] = region
        watch.account.clients["stepfunctions"].start_execution(
            stateMachineArn=arn, name=str(uuid.uuid4()), input=json.dumps(start_input(foreign))
        )
    watch.run(120)
    assert [t for t, _ in watch.published()] == ["ignored", "ignored"]
    assert watch.glue.lives["s1"].ended_at is None


def start_event(account: Account, session_id: str) -> dict[str, Any]:
    """A CloudTrail CreateSession record for a session created now."""
    return api_call(
        source="aws.glue",
        event_source="glue.amazonaws.com",
        event_name="CreateSession",
        region=account.region,
        account=account.account_id,
        at=account.clock.now(),
        principal=None,
        request={"id": session_id},
        response={"session": {"id": session_id, "status": "PROVISIONING"}},
    )


def renamed(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "id": str(uuid.uuid4())}


def test_a_long_watch_continues_as_a_new_execution_keeping_its_claim_and_warning(
    watch: Watch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idle_reaper.watch, "HISTORY_BUDGET", 3 * idle_reaper.watch.EVENTS_PER_LOOK)
    watch.start()
    watch.account.clock.at(at(1), lambda: watch.glue.run_statement("s1", timedelta(hours=3)))
    watch.run(6 * 60)
    executions = executions_of(watch.account)
    assert len(executions) >= 3  # the first, then one more every three looks
    names = [e["name"] for e in executions]
    first = watch.execution.rsplit(":", 1)[1]
    assert names[1:] == [f"{first}-g{n}" for n in range(2, len(names) + 1)]
    for execution in executions[:-1]:
        assert watch.states_of(execution["executionArn"])[-2:] == ["ContinueAsNew", "Continued"]
    last = executions[-1]["executionArn"]
    assert "Claim" not in watch.states_of(last)  # the claim is carried, not taken again
    assert [t for t, _ in watch.published()] == ["warning", "stopped"]
    assert watch.glue.lives["s1"].ended_at == at(1 + 180 + 30)


def executions_of(account: Account) -> list[dict[str, Any]]:
    sfn = account.clients["stepfunctions"]
    arn = account.stack.ref("WatcherStateMachine")
    found = sfn.list_executions(stateMachineArn=arn)["executions"]
    return sorted(found, key=lambda e: e["startDate"])


def test_a_claim_written_but_not_answered_is_found_by_its_own_retry(watch: Watch) -> None:
    # DynamoDB writes the claim, then its answer is lost (a throttle, a timeout): the Task's
    # retry must find its own execution in the claim, not end as a duplicate.
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.put_item
    lost: list[str] = []

    def put_then_lose_the_answer(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        result = original(self, table_name, *args, **kwargs)
        if "Claims" in table_name and not lost:
            lost.append(table_name)
            raise JsonRESTError("ProvisionedThroughputExceededException", "answer lost")
        return result

    with mock.patch.object(DynamoDBBackend, "put_item", put_then_lose_the_answer):
        watch.start()
        watch.run(120)
    assert lost
    assert watch.states()[:5] == ["Inspect", "Decide", "Claim", "Decide", "WaitForNextCheck"]
    assert [t for t, _ in watch.published()] == ["warning", "stopped"]


def test_forged_reaper_events_reach_no_one(watch: Watch) -> None:
    """Anyone allowed events:PutEvents on the default bus can send `source: idle-reaper`: no
    rule listens there. The watcher's own bus refuses everyone but the watcher's role."""
    forged = load_event("reaper-warning.json")
    events = watch.account.clients["events"]
    entry = {
        "Source": forged["source"],
        "DetailType": forged["detail-type"],
        "Detail": json.dumps(forged["detail"]),
    }
    events.put_events(Entries=[entry])  # the default bus: accepted, heard by nobody
    with pytest.raises(ClientError) as refused:
        events.put_events(
            Entries=[{**entry, "EventBusName": watch.account.stack.ref("ReaperEventBus")}]
        )
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    watch.run(10)
    assert watch.account.functions.invocations == []
    assert watch.account.slack.requests == [] and watch.account.mailbox.sent == []


def test_a_watch_that_fails_before_any_verdict_is_summarized_failed_with_its_error(
    watch: Watch,
) -> None:
    watch.glue.fail_next("GetSession", *["AccessDeniedException"] * 200)
    spec = ResourceSpec(kind="glue-session", id="s1")
    scenario = Scenario(
        name="inspect down", start=at(0), until=timedelta(hours=6), resources=(spec,)
    )
    watch.start()
    watch.run(6 * 60)
    (res,) = summarize(scenario, watch.account, at(6 * 60))["summary"]["resources"]
    assert res["outcome"] == "failed"
    assert res["error"].startswith("ResourceReadError: GetSession s1")
    assert res["history_events"] > 0


def test_a_stop_that_landed_but_whose_answer_was_lost_is_recorded_stopped(watch: Watch) -> None:
    """StopSession is accepted, its answer lost (a timeout); the retry is refused because the
    session is already STOPPING. The outcome is this watcher's stop, not `gone`."""
    from moto.glue import models
    from moto.glue.exceptions import GlueClientError

    landed = models.FakeSession.stop_session  # the emulator's, installed for the run
    lost: list[bool] = []

    def stop_then_lose_the_answer(session: Any) -> None:
        landed(session)
        if not lost:
            lost.append(True)
            raise GlueClientError("OperationTimeoutException", "the answer was lost")

    with mock.patch.object(models.FakeSession, "stop_session", stop_then_lose_the_answer):
        watch.start()
        watch.run(120)
    assert lost
    assert watch.states()[-7:] == [
        "StopGlueSession",  # landed, its answer lost: looked at again, STOPPING
        "CountStopError",
        "StopErrorBudget",
        "WaitBeforeStopping",
        "Inspect",
        "Decide",
        "EmitOutcome",
    ]
    outcome = watch.published()[-1]
    assert outcome[0] == "stopped"
    assert watch.detail("stopped")["verdict"]["savings_usd"] > 0
    assert watch.glue.lives["s1"].ended_at == at(30)
    assert watch.states().count("StopGlueSession") == 1  # never sent twice


def test_an_unanswered_stop_is_looked_at_again_so_work_begun_since_is_never_killed(
    watch: Watch,
) -> None:
    """A throttled stop is not retried on the look that decided it: a statement its user
    starts in the seconds after is seen by the next look, 10 to 29 s later, and keeps it."""
    watch.start()
    watch.glue.fail_next("StopSession", "ThrottlingException")
    watch.run(30 + 5 / 60)  # the stop at the deadline (09:30:00) was throttled
    watch.glue.run_statement("s1", timedelta(minutes=20))  # 09:30:05 to 09:50:05
    watch.run(120)
    life = watch.glue.lives["s1"]
    assert life.ended_by == "reaper"
    assert life.ended_at == at(80 + 5 / 60)  # idle from 09:50:05, the full allowance after
    states = watch.states()
    first = states.index("StopGlueSession")
    assert states[first : first + 7] == [
        "StopGlueSession",
        "CountStopError",
        "StopErrorBudget",
        "WaitBeforeStopping",
        "Inspect",
        "Decide",
        "WaitForNextCheck",
    ]
    assert [t for t, _ in watch.published()] == ["warning", "warning", "stopped"]


def test_stops_unanswered_again_and_again_fall_back_to_the_outage_budget(watch: Watch) -> None:
    watch.start()
    watch.glue.fail_next("StopSession", *["ThrottlingException"] * 4)
    watch.run(120)
    states = watch.states()
    assert states.count("WaitBeforeStopping") == 3  # 10 to 29 s each
    assert states.count("WaitOutOutage") == 1  # the fourth: half an hour
    ended = watch.glue.lives["s1"].ended_at
    assert ended is not None and at(60.5) <= ended <= at(61.5)
    assert watch.published()[-1] == ("stopped", ended)


def test_an_outcome_the_bus_would_not_take_is_published_later_not_lost(watch: Watch) -> None:
    watch.start()
    watch.run(26)  # warned at 09:25
    watch.account.bus.failing_puts = 6  # EmitOutcome's first try and its five retries
    watch.run(24 * 60)
    assert watch.glue.lives["s1"].ended_at == at(30)
    assert watch.status() == "SUCCEEDED"
    assert watch.states()[-5:] == [
        "UnpublishedBefore",
        "FirstUnpublished",  # the rounds are counted from here: the input never carries them
        "PublishBudget",
        "WaitToPublishOutcome",
        "EmitOutcome",
    ]
    assert watch.states().count("Inspect") == 3  # first look, warning, stop: never again
    assert [t for t, _ in watch.published()] == ["warning", "stopped"]
    assert watch.detail("stopped")["verdict"]["savings_usd"] > 0
    table = watch.account.stack.physical_name("AuditTable")
    items = watch.account.clients["dynamodb"].scan(TableName=table)["Items"]
    assert sorted(item["type"]["S"] for item in items) == ["stopped", "warning"]


def test_a_failure_the_bus_would_not_take_is_published_later_too(watch: Watch) -> None:
    watch.start()
    watch.glue.fail_next("StopSession", *["IllegalSessionStateException"] * 6)
    watch.run(30 + 5 / 60)
    watch.account.bus.failing_puts = 1000
    watch.run(40)  # the sixth refusal at 09:35: EmitFailed, and the bus down
    watch.account.bus.failing_puts = 0
    watch.run(120)
    assert watch.status() == "FAILED"
    assert "WaitToPublishFailure" in watch.states()
    assert watch.published()[-1][0] == "failed"


def test_an_outcome_unpublished_for_hours_fails_the_watch_for_the_alarm(watch: Watch) -> None:
    watch.start()
    watch.run(26)
    watch.account.bus.failing_puts = 10_000
    watch.run(12 * 60)
    assert watch.glue.lives["s1"].ended_at == at(30)
    assert watch.status() == "FAILED"
    assert watch.states().count("WaitToPublishOutcome") == 8
    assert watch.states().count("CountUnpublished") == 8  # rounds 2 to 9
    assert watch.states()[-1] == "Unpublished"
