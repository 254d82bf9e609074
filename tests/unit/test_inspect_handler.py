"""The inspect handler as Lambda runs it (the template's environment), against the emulated
Glue of the local runtime (moto plus statements), with the sample events."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

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
    account.glue.run_statement("alice-etl", timedelta(minutes=7))
    busy = invoke(account, "inspect-from-watcher.json")["verdict"]
    assert busy["action"] == "wait" and busy["deadline"] is None
    account.clock.run_until(T0 + timedelta(minutes=20))
    idle = invoke(account, "inspect-from-watcher.json")["verdict"]
    assert idle["idle_since"] == "2026-03-02T09:17:00Z"
    assert idle["deadline"] == "2026-03-02T09:47:00Z"


def test_the_bare_handler_runs_with_a_lambda_context(account: Account) -> None:
    result = load_handler().handler(load_event("inspect-from-watcher.json"), Context())
    assert result["verdict"]["action"] == "wait"


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
