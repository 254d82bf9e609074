"""The notify handler as Lambda runs it in the local runtime: the real topic, secret, table
and a Slack sink on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools.utilities import parameters

from idle_reaper import aws
from idle_reaper.exceptions import MalformedEventError, NotificationsFailedError, SlackSecretError
from local_runtime import lambdas
from local_runtime.channels import LocalChannels
from local_runtime.runtime import Account, running
from tests.conftest import ROOT, load_event

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def account(request: pytest.FixtureRequest) -> Iterator[Account]:
    marker = request.node.get_closest_marker("channels")
    channels = marker.args[0] if marker else LocalChannels()
    with running(T0, channels=channels) as account:
        yield account


def subscribe(account: Account, address: str, policy: dict[str, Any]) -> None:
    account.clients["sns"].subscribe(
        TopicArn=account.stack.ref("NotificationTopic"),
        Protocol="email",
        Endpoint=address,
        Attributes={"FilterPolicy": json.dumps(policy)},
    )


def test_filter_policies_route_each_team_only_its_own_messages(account: Account) -> None:
    subscribe(account, "alice@example.com", {"owner": ["alice@example.com"]})
    subscribe(account, "glue-team@example.com", {"kind": ["glue-session"]})
    subscribe(account, "finops@example.com", {"outcome": ["stopped"]})
    account.functions.invoke("NotifyFunction", load_event("reaper-stopped.json"))  # frank's
    account.functions.invoke("NotifyFunction", load_event("reaper-warning.json"))
    got = sorted((m.to, m.attributes["outcome"]["Value"]) for m in account.mailbox.sent)
    assert got == [
        ("finops@example.com", "stopped"),
        ("glue-team@example.com", "stopped"),
        ("glue-team@example.com", "warning"),
        ("team@example.com", "stopped"),  # the NotificationEmail parameter: no filter
        ("team@example.com", "warning"),
    ]


def test_redelivered_event_is_delivered_once_per_channel(account: Account) -> None:
    event = load_event("reaper-stopped.json")
    for _ in range(3):
        account.functions.invoke("NotifyFunction", event)
    assert len(account.mailbox.sent) == 1
    assert len(account.slack.requests) == 1


@pytest.mark.channels(LocalChannels(slack_script=(404,)))
def test_permanent_slack_rejection_is_logged_with_its_body_and_counted(account: Account) -> None:
    result = account.functions.invoke("NotifyFunction", load_event("reaper-stopped.json"))
    assert result["results"]["slack"]["status"] == "rejected"
    logs = "\n".join(account.functions.logs.lines)
    assert "channel_not_found" in logs
    metrics = [json.loads(line) for line in account.functions.logs.lines if '"_aws"' in line]
    assert any("SlackRejected" in m for m in metrics)
    assert len(account.mailbox.sent) == 1  # the email still went out


@pytest.mark.channels(LocalChannels(slack_then=503))
def test_slack_down_fails_the_invocation_after_trying_every_channel(account: Account) -> None:
    from idle_reaper.exceptions import NotificationsFailedError

    with pytest.raises(NotificationsFailedError):
        account.functions.invoke("NotifyFunction", load_event("reaper-stopped.json"))
    assert len(account.mailbox.sent) == 1


def test_the_webhook_url_never_reaches_a_log(account: Account) -> None:
    account.functions.invoke("NotifyFunction", load_event("reaper-warning.json"))
    assert account.slack.url
    assert not any(account.slack.url in line for line in account.functions.logs.lines)
    assert not any("127.0.0.1" in line for line in account.functions.logs.lines)


def test_a_failure_before_the_first_verdict_tells_who_started_the_session(
    account: Account,
) -> None:
    subscribe(account, "alice@example.com", {"owner": ["alice@example.com"]})
    account.functions.invoke("NotifyFunction", load_event("reaper-failed-before-verdict.json"))
    to_alice = [m for m in account.mailbox.sent if m.to == "alice@example.com"]
    assert len(to_alice) == 1
    assert len(account.slack.requests) == 1
    assert "alice-etl" in account.slack.requests[0].payload["text"]


@pytest.mark.parametrize(
    "detail", ["a string", ["a list"], None], ids=["string", "list", "missing"]
)
def test_an_unreadable_event_fails_the_invocation_with_its_reason_and_sends_nothing(
    account: Account, detail: Any
) -> None:
    event = load_event("reaper-stopped.json")
    event["detail"] = detail
    with pytest.raises(MalformedEventError, match="detail"):
        account.functions.invoke("NotifyFunction", event)
    assert account.mailbox.sent == [] and account.slack.requests == []
    assert any("dead-lettered" in line for line in account.functions.logs.lines)


def test_near_its_timeout_the_function_leaves_slack_to_lambdas_retry(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the invocation has 5 s left: less than Slack's margin
    monkeypatch.setattr(lambdas.FakeContext, "get_remaining_time_in_millis", lambda _: 5000)
    # WHEN it notifies
    with pytest.raises(NotificationsFailedError, match="no time left"):
        account.functions.invoke("NotifyFunction", load_event("reaper-stopped.json"))
    # THEN the email went, Slack was not even tried: the retry will deliver it
    assert len(account.mailbox.sent) == 1
    assert account.slack.requests == []


def load_app() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notify_app", ROOT / "functions/notify/app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Context:
    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def test_slacks_deadline_is_the_functions_less_what_follows_slack() -> None:
    app = load_app()
    deadline = app.slack_deadline(Context(), clock=lambda: 100.0)
    assert deadline.at == 100.0 + 30 - app.SLACK_MARGIN_SECONDS
    # what follows Slack (the idempotency write) gets one whole attempt of its own
    assert app.SLACK_MARGIN_SECONDS > aws.ONE_ATTEMPT_SECONDS


def test_a_slack_secret_that_holds_no_url_fails_clearly_and_never_repeats_the_secret(
    account: Account,
) -> None:
    secret = account.stack.parameters["SlackWebhookSecretArn"]
    account.clients["secretsmanager"].put_secret_value(
        SecretId=secret, SecretString="xoxb-not-a-url-but-a-secret"
    )
    parameters.clear_caches()
    with pytest.raises(SlackSecretError, match="no http"):
        account.functions.invoke("NotifyFunction", load_event("reaper-warning.json"))
    assert account.slack.requests == []
    assert not any("xoxb-not-a-url" in line for line in account.functions.logs.lines)


def test_tracing_never_patches_the_http_client_that_carries_the_webhook() -> None:
    """X-Ray's httplib patch puts each request's URL in the trace: the Slack webhook URL is a
    secret, so only botocore (AWS calls) is patched."""
    from functions.notify import app

    assert app.tracer._config["patch_modules"] == ["botocore"]


def test_the_keep_functions_tracing_never_patches_the_http_client() -> None:
    """The click's response_url is a bearer address: X-Ray's httplib patch would record it."""
    from functions.keep import app

    assert app.tracer._config["patch_modules"] == ["botocore"]
