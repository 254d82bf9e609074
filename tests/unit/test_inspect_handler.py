"""The inspect handler as Lambda runs it (the template's environment), against the emulated
Glue of the local runtime (moto plus statements), with the sample events."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import pytest

from idle_reaper.exceptions import PolicyError
from local_runtime.runtime import Account, running
from tests.conftest import ROOT, load_event


class Context:
    function_name = "inspect"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:inspect"
    aws_request_id = "req-1"


def load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("inspect_app", ROOT / "functions/inspect/app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def account() -> Iterator[Account]:
    with running(T0) as account:
        account.clients["glue"].create_session(
            Id="alice-etl",
            Role="arn:aws:iam::123456789012:role/Glue",
            Command={"Name": "glueetl", "PythonVersion": "3"},
            NumberOfWorkers=5,
            WorkerType="G.1X",
            Tags={"owner": "alice@example.com"},
        )
        account.clock.run_until(T0 + timedelta(minutes=10))
        yield account


@contextmanager
def alone(**parameters: str) -> Iterator[Account]:
    """alice-etl with no sweeper beside the test: only the looks the test makes."""
    with running(T0, {"SweepMinutes": "0", **parameters}) as account:
        account.clients["glue"].create_session(
            Id="alice-etl",
            Role="arn:aws:iam::123456789012:role/Glue",
            Command={"Name": "glueetl", "PythonVersion": "3"},
        )
        yield account


def invoke(account: Account, name: str) -> Any:
    return account.functions.invoke("InspectFunction", load_event(name))


def test_start_event_gives_a_verdict_and_the_normalized_resource(account: Account) -> None:
    result = invoke(account, "inspect-from-watcher.json")
    resource, verdict = result["resource"], result["verdict"]
    assert resource["kind"] == "glue-session" and resource["id"] == "alice-etl"
    assert resource["owner"] == "alice@example.com"
    assert resource["account"] == "123456789012" and resource["region"] == "us-east-1"
    assert verdict["action"] == "wait"
    assert verdict["next_check_at"] == "2026-03-02T09:25:00Z"


def test_a_resource_reference_works_like_the_start_event(account: Account) -> None:
    result = invoke(account, "inspect-resource-ref.json")
    assert result["verdict"]["next_check_at"] == "2026-03-02T09:25:00Z"
    assert result["resource"]["owner"] == "alice@example.com"


def test_statements_move_the_deadline(account: Account) -> None:
    account.emulators["glue-session"].run_statement("alice-etl", timedelta(minutes=7))
    busy = invoke(account, "inspect-from-watcher.json")["verdict"]
    assert busy["action"] == "wait" and busy["deadline"] is None
    account.clock.run_until(T0 + timedelta(minutes=20))
    idle = invoke(account, "inspect-from-watcher.json")["verdict"]
    assert idle["idle_since"] == "2026-03-02T09:17:00Z"
    assert idle["deadline"] == "2026-03-02T09:47:00Z"


def test_the_bare_handler_runs_with_a_lambda_context(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the environment template.yaml gives the function, as `sam local invoke` sets it too
    spec = account.functions.spec("InspectFunction")
    assert spec is not None
    for name, value in spec.environment.items():
        monkeypatch.setenv(name, value)
    assert (spec.environment["HOME_REGION"], spec.environment["HOME_ACCOUNT"]) == (
        "us-east-1",
        "123456789012",
    )
    result = load_handler().handler(load_event("inspect-from-watcher.json"), Context())
    assert result["verdict"]["action"] == "wait"


def test_without_its_home_the_handler_refuses_to_judge_anything(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOME_REGION", raising=False)
    monkeypatch.setenv("HOME_ACCOUNT", "12345")
    with pytest.raises(PolicyError, match="HOME_REGION"):
        load_handler().handler(load_event("inspect-from-watcher.json"), Context())


@pytest.mark.parametrize(
    "name", ["inspect-invalid.json", "glue-create-session-failed.json", "amplify-create-app.json"]
)
def test_input_naming_no_session_is_done_never_an_exception(account: Account, name: str) -> None:
    result = invoke(account, name)
    assert result["resource"] is None
    assert result["verdict"]["action"] == "done"
    assert result["verdict"]["outcome"] == "ignored"
    assert result["verdict"]["reason"]


def test_sam_local_invoke_events_exist_for_the_handler() -> None:
    for name in ("inspect-from-watcher.json", "inspect-resource-ref.json", "inspect-invalid.json"):
        assert (Path(ROOT) / "events" / name).is_file()


def test_log_lines_carry_the_watchers_execution_arn(account: Account) -> None:
    event = load_event("inspect-from-watcher.json")
    account.functions.invoke("InspectFunction", event)
    lines = [json.loads(line) for line in account.functions.logs.lines if '"verdict"' in line]
    assert lines and {line["correlation_id"] for line in lines} == {event["execution_arn"]}


def first_look(account: Account) -> dict[str, Any]:
    return invoke(account, "inspect-from-watcher.json")


def next_look(account: Account, state: dict[str, Any]) -> dict[str, Any]:
    payload = {**load_event("inspect-from-watcher.json"), "state": state}
    result: dict[str, Any] = account.functions.invoke("InspectFunction", payload)
    return result


def test_the_first_look_asks_for_the_claim_and_later_looks_carry_it(account: Account) -> None:
    first = first_look(account)
    assert first["claim"]["key"].startswith("glue-session#123456789012#us-east-1#")
    assert first["claim"]["key"].endswith("#alice-etl")
    assert first["watch"]["looks"] == 1 and first["watch"]["generation"] == 1
    later = next_look(account, {**first, "claim": {"held": True}})
    assert later["claim"] == {"held": True}
    assert later["watch"]["looks"] == 2


def test_a_session_replaced_under_the_same_id_ends_the_old_watch_as_gone(
    account: Account,
) -> None:
    first = first_look(account)
    glue = account.clients["glue"]
    glue.delete_session(Id="alice-etl")
    account.clock.run_until(T0 + timedelta(minutes=20))
    glue.create_session(
        Id="alice-etl",
        Role="arn:aws:iam::123456789012:role/Glue",
        Command={"Name": "glueetl", "PythonVersion": "3"},
    )
    later = next_look(account, {**first, "claim": {"held": True}})
    assert (later["verdict"]["action"], later["verdict"]["outcome"]) == ("done", "gone")
    assert "another" in later["verdict"]["reason"]


def test_a_continuation_starts_a_fresh_history_only_in_the_execution_named_for_it(
    account: Account,
) -> None:
    first = first_look(account)
    spent = {**first["watch"], "continue": True, "next_name": "origin-g2", "history": 10_000}
    state = {**first, "claim": {"held": True}, "watch": spent}
    payload = {**load_event("inspect-from-watcher.json"), "state": state}
    # the continuation itself: a fresh count, the next generation
    continued = account.functions.invoke(
        "InspectFunction", {**payload, "execution_name": "origin-g2"}
    )
    assert (continued["watch"]["generation"], continued["watch"]["looks"]) == (2, 1)
    assert continued["watch"]["history"] < 100
    # the old execution after its ContinueAsNew failed: still spent, so it tries again
    failed = {**state, "error": {"Error": "StepFunctions.AWSStepFunctionsException"}}
    again = account.functions.invoke("InspectFunction", {**payload, "state": failed})
    assert again["watch"]["generation"] == 1
    assert again["watch"]["history"] > 10_000 and again["watch"]["continue"] is True


@pytest.mark.parametrize(
    ("account_id", "region"), [("210987654321", "us-east-1"), ("123456789012", "eu-west-1")]
)
def test_a_resource_in_another_account_or_region_is_ignored(
    account: Account, account_id: str, region: str
) -> None:
    event = load_event("inspect-from-watcher.json")
    start = event["state"]["event"]
    start["account"] = start["detail"]["recipientAccountId"] = account_id
    start["region"] = start["detail"]["awsRegion"] = region
    result = account.functions.invoke("InspectFunction", event)
    assert result["resource"] is None and result["claim"] is None
    assert result["verdict"]["outcome"] == "ignored"
    assert f"account {account_id}, region {region}" in result["verdict"]["reason"]


HOSTILE_STATES: list[Any] = [
    "a string",
    {"watch": "x", "tries": [1], "claim": 7, "resource": "s", "verdict": None},
    {"watch": {"looks": -5, "generation": True, "history": 1e308}, "tries": {"failures": "9"}},
    {"resource": {"kind": "glue-session", "id": "a\nb", "region": "us-east-1"}},
    {"resource": {"kind": "nope", "id": "alice-etl"}},
]


@pytest.mark.parametrize("state", HOSTILE_STATES)
def test_a_malformed_state_never_raises(account: Account, state: Any) -> None:
    result = next_look(account, state)
    assert set(result) == {"resource", "verdict", "claim", "watch", "tries"}
    assert result["verdict"]["action"] in ("wait", "done")
    assert result["watch"]["looks"] >= 1


HOSTILE_DETAILS: dict[str, dict[str, Any]] = {
    "requestParameters a string": {"requestParameters": "id=alice-etl", "responseElements": None},
    "requestParameters a list": {"requestParameters": ["alice-etl"], "responseElements": None},
    "session a string": {"responseElements": {"session": "alice-etl"}, "requestParameters": {}},
    "awsRegion a number": {"awsRegion": 5},
    "awsRegion with a newline": {"awsRegion": "us-east-1\n"},
    "id too long": {"responseElements": {"session": {"id": "x" * 300}}, "requestParameters": {}},
    "id over two lines": {"responseElements": {"session": {"id": "a\nb"}}, "requestParameters": {}},
}


@pytest.mark.parametrize("patch", HOSTILE_DETAILS.values(), ids=HOSTILE_DETAILS.keys())
def test_a_malformed_start_event_is_ignored_never_raises(
    account: Account, patch: dict[str, Any]
) -> None:
    event = load_event("inspect-from-watcher.json")
    event["state"]["event"]["detail"].update(patch)
    result = account.functions.invoke("InspectFunction", event)
    assert result["resource"] is None
    assert result["verdict"]["outcome"] == "ignored"


def stop_state(account: Account, error: str) -> dict[str, Any]:
    """The state after the watcher's stop failed with `error` (its Catch put it in $.error)."""
    first = first_look(account)
    verdict = {**first["verdict"], "action": "stop", "outcome": "stopped", "savings_usd": 9.99}
    return {**first, "claim": {"held": True}, "verdict": verdict, "error": {"Error": error}}


@pytest.mark.parametrize("error", ["States.Timeout", "Glue.InternalServiceException"])
def test_a_stop_whose_answer_was_lost_ends_stopped_not_gone(account: Account, error: str) -> None:
    # the StopSession landed, its answer was lost (a timeout, a server error): STOPPING now
    state = stop_state(account, error)
    account.emulators["glue-session"].user_stop("alice-etl")  # stands in for the stop that landed
    later = next_look(account, state)
    verdict = later["verdict"]
    assert (verdict["action"], verdict["outcome"]) == ("done", "stopped")
    assert verdict["savings_usd"] == 9.99  # what the stop verdict computed
    assert "answer was lost" in verdict["reason"]


@pytest.mark.parametrize("error", ["Glue.IllegalSessionStateException", "Glue.ThrottlingException"])
def test_a_stop_refused_or_throttled_is_not_claimed_when_the_session_is_stopping(
    account: Account, error: str
) -> None:
    # refused because it was already STOPPING (its user's stop), or never sent: not the reaper's
    state = stop_state(account, error)
    account.emulators["glue-session"].user_stop("alice-etl")
    verdict = next_look(account, state)["verdict"]
    assert (verdict["action"], verdict["outcome"]) == ("done", "gone")
    assert verdict["savings_usd"] is None


def test_the_watch_carries_the_stop_time_a_delivered_warning_named() -> None:
    # first seen past its deadline (09:40, allowance 30): warned for 09:45, not the deadline
    with alone() as account:
        account.clock.run_until(T0 + timedelta(minutes=40))
        first = first_look(account)
        assert first["verdict"]["action"] == "warn"
        named = first["verdict"]["deadline"]
        assert named == "2026-03-02T09:45:00Z"
        warned = {**first, "claim": {"held": True}, "warned": {"delivered": True}}
        later = next_look(account, warned)
        assert later["watch"]["announced"] == named
        assert next_look(account, later)["watch"]["announced"] == named  # carried on


@pytest.mark.parametrize(
    ("carried", "handed"),
    [
        ("2026-03-02T09:45:00Z", datetime(2026, 3, 2, 9, 45, tzinfo=UTC)),
        ("9999-12-31T23:59:59-23:59", None),  # not the form to_iso writes: ignored
        ("2026-02-30T25:00:00Z", None),
        (7, None),
    ],
)
def test_inspect_hands_the_carried_stop_time_to_the_verdict(carried: Any, handed: Any) -> None:
    from idle_reaper import verdict

    with alone() as account:
        account.clock.run_until(T0 + timedelta(minutes=46))
        first = first_look(account)
        state = {**first, "claim": {"held": True}}
        state["watch"] = {**first["watch"], "announced": carried}
        with mock.patch("idle_reaper.inspection.decide", wraps=verdict.decide) as spy:
            next_look(account, state)
        assert spy.call_args.args[6] == handed


def test_a_stop_is_decided_only_by_a_look_after_the_claim() -> None:
    # no warning to give (WarningMinutes 0), idle past the deadline at the first look (a
    # session the sweeper found late): the claim first, the stop on the look after it
    with alone(WarningMinutes="0") as account:
        account.clock.run_until(T0 + timedelta(minutes=45))
        first = first_look(account)
        assert first["claim"]["key"].endswith("#alice-etl")
        verdict = first["verdict"]
        assert (verdict["action"], verdict["outcome"]) == ("wait", None)
        assert verdict["next_check_at"] == "2026-03-02T09:45:01Z"
        assert "once this watcher holds the claim" in verdict["reason"]
        claimed = next_look(account, {**first, "claim": {"held": True}})["verdict"]
        assert (claimed["action"], claimed["outcome"]) == ("stop", "stopped")


def test_after_any_other_stop_failure_a_stopped_session_is_gone_not_claimed(
    account: Account,
) -> None:
    # 30 minutes after an AccessDenied, a stopped session may well be its owner's doing
    state = stop_state(account, "Glue.AccessDeniedException")
    account.emulators["glue-session"].user_stop("alice-etl")
    verdict = next_look(account, state)["verdict"]
    assert (verdict["action"], verdict["outcome"]) == ("done", "gone")


def test_a_refused_stop_on_a_ready_session_is_decided_again_not_claimed(
    account: Account,
) -> None:
    state = stop_state(account, "Glue.IllegalSessionStateException")
    verdict = next_look(account, state)["verdict"]
    assert verdict["action"] != "done"  # READY: the verdict is made afresh, nothing claimed
