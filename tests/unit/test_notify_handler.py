"""The notify handler as Lambda runs it in the local runtime: the real topic, secret, table
and a Slack sink on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from local_runtime.channels import LocalChannels
from local_runtime.runtime import Account, running
from tests.conftest import load_event

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
