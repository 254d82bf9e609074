"""What every handler promises whatever its work: its response (owners' addresses, tags,
delivery results) never goes into an X-Ray trace, and every AWS client it builds has
short timeouts and standard retries (idle_reaper.aws.CLIENT_CONFIG)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from idle_reaper import aws
from tests.conftest import ROOT, load_event

ARN = "arn:aws:lambda:us-east-1:123456789012:function:idle-reaper-fn"


class Context:
    function_name = "idle-reaper-fn"
    memory_limit_in_mb = 256
    invoked_function_arn = ARN
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class Subsegment:
    def __init__(self) -> None:
        self.metadata: dict[str, Any] = {}

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.metadata[key] = value

    def put_annotation(self, key: str, value: Any) -> None:
        return None


class Provider:
    """Stands in for X-Ray: keeps what the Tracer would have sent."""

    def __init__(self) -> None:
        self.subsegments: list[Subsegment] = []

    @contextmanager
    def in_subsegment(self, name: str | None = None, **_: Any) -> Iterator[Subsegment]:
        subsegment = Subsegment()
        self.subsegments.append(subsegment)
        yield subsegment


def load(function: str) -> ModuleType:
    path = ROOT / f"functions/{function}/app.py"
    spec = importlib.util.spec_from_file_location(f"{function}_app_under_test", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Table:
    exceptions = SimpleNamespace(ConditionalCheckFailedException=KeyError)

    def put_item(self, **_: Any) -> None:
        return None


def run(function: str, monkeypatch: pytest.MonkeyPatch) -> Provider:
    """Invoke a handler on an event it answers without reaching AWS; return the traces."""
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "idle-reaper")  # template.yaml Globals
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "IdleReaper")
    monkeypatch.setenv("AUDIT_TABLE", "audit")
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "deliveries")
    monkeypatch.setenv("HOME_REGION", "us-east-1")  # template.yaml: the stack's own
    monkeypatch.setenv("HOME_ACCOUNT", "123456789012")
    app = load(function)
    provider = Provider()
    monkeypatch.setattr(app.tracer, "provider", provider)
    if function == "notify":  # an `exempt` event is not notified unless asked: no delivery
        response = app.handler(load_event("reaper-exempt.json"), Context())
    elif function == "audit":
        monkeypatch.setattr(app, "_dynamodb", Table)
        response = app.handler(load_event("reaper-stopped.json"), Context())
    else:  # an Amplify app is no resource idle-reaper watches: ignored without a read
        response = app.handler({"event": load_event("amplify-create-app.json")}, Context())
    assert response  # there was a response to capture
    return provider


@pytest.mark.parametrize("function", ["inspect", "notify", "audit"])
def test_no_handler_puts_its_response_into_the_trace(
    function: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = run(function, monkeypatch)
    assert provider.subsegments  # the handler was traced...
    for subsegment in provider.subsegments:  # ...without its response
        assert not any(key.endswith("response") for key in subsegment.metadata)


def config_of(client: Any) -> Any:
    return client.meta.config


def test_the_shared_config_has_short_timeouts_and_standard_retries() -> None:
    config = aws.CLIENT_CONFIG
    assert config.connect_timeout <= 5 and config.read_timeout <= 5
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert config.connect_timeout + config.read_timeout == aws.ONE_ATTEMPT_SECONDS


@pytest.mark.parametrize(
    ("function", "clients"),
    [
        ("notify", lambda app: [app._sns(), app._deliveries().client, app._secrets().client]),
        ("audit", lambda app: [app._dynamodb()]),
        ("inspect", lambda app: [app._client("glue", "us-east-1")]),
    ],
)
def test_every_client_a_handler_builds_has_the_shared_config(
    function: str, clients: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "deliveries")
    for client in clients(load(function)):
        config = config_of(client)
        assert config.connect_timeout == aws.CONNECT_TIMEOUT_SECONDS
        assert config.read_timeout == aws.READ_TIMEOUT_SECONDS
        assert config.retries["mode"] == "standard"
