"""Which messages go out, on which channels, and that one channel never holds back another."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from idle_reaper.exceptions import DeliveryError, NotificationsFailedError
from idle_reaper.notification import Channels, notify
from tests.conftest import load_event


class FakeSns:
    def __init__(self, fail: bool = False) -> None:
        self.published: list[dict[str, Any]] = []
        self.fail = fail

    def publish(self, **kwargs: Any) -> dict[str, str]:
        if self.fail:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "Throttled", "Message": "slow down"}}, "Publish")
        self.published.append(kwargs)
        return {"MessageId": f"m{len(self.published)}"}


class Once:
    """Idempotency as Powertools does it: a key that succeeded is not run again."""

    def __init__(self) -> None:
        self.done: dict[str, dict[str, Any]] = {}
        self.runs: list[str] = []

    def __call__(self, key: str, delivery: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if key in self.done:
            return self.done[key]
        self.runs.append(key)
        self.done[key] = delivery()
        return self.done[key]


CHANNELS = Channels(topic_arn="arn:aws:sns:us-east-1:123456789012:t")


def test_email_carries_subject_body_and_filterable_attributes() -> None:
    sns = FakeSns()
    notify(load_event("reaper-stopped.json"), CHANNELS, sns, Once())
    (sent,) = sns.published
    assert sent["Subject"].startswith("idle-reaper: gone-home was stopped")
    assert sent["MessageAttributes"] == {
        "kind": {"DataType": "String", "StringValue": "glue-session"},
        "outcome": {"DataType": "String", "StringValue": "stopped"},
        "owner": {"DataType": "String", "StringValue": "frank@example.com"},
    }


@pytest.mark.parametrize(
    ("kind", "asked", "sent"),
    [
        ("warning", False, True),
        ("stopped", False, True),
        ("would-stop", False, True),
        ("failed", False, True),
        ("exempt", False, False),
        ("gone", False, False),
        ("exempt", True, True),
        ("gone", True, True),
    ],
)
def test_exempt_and_gone_only_when_asked(kind: str, asked: bool, sent: bool) -> None:
    sns = FakeSns()
    channels = Channels(topic_arn=CHANNELS.topic_arn, notify_exempt_and_gone=asked)
    outcome = notify(load_event(f"reaper-{kind}.json"), channels, sns, Once())
    assert bool(sns.published) is sent
    assert (outcome.message is not None) is sent


def test_slack_failing_does_not_hold_back_email_and_a_retry_sends_only_slack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from idle_reaper import slack

    calls: list[str] = []

    def flaky(url: str, message: Any) -> Any:
        calls.append(url)
        if len(calls) == 1:
            raise DeliveryError("Slack answered 503")
        return slack.SlackResult("delivered", 200, "ok")

    monkeypatch.setattr(slack, "send", flaky)
    sns, once = FakeSns(), Once()
    channels = Channels(topic_arn=CHANNELS.topic_arn, slack_url=lambda: "http://127.0.0.1:9/x")
    event = load_event("reaper-warning.json")
    with pytest.raises(NotificationsFailedError, match="slack"):
        notify(event, channels, sns, once)
    assert len(sns.published) == 1  # the email went out anyway
    notify(event, channels, sns, once)  # EventBridge/Lambda retry
    assert len(sns.published) == 1  # ... and is not sent twice
    assert len(calls) == 2
    assert once.runs == [f"{event['id']}:email", f"{event['id']}:slack", f"{event['id']}:slack"]


def test_email_failing_is_retried_too() -> None:
    with pytest.raises(NotificationsFailedError, match="email"):
        notify(load_event("reaper-stopped.json"), CHANNELS, FakeSns(fail=True), Once())


def test_no_slack_secret_means_no_slack() -> None:
    read: list[bool] = []

    def url() -> str | None:
        read.append(True)
        return None

    outcome = notify(load_event("reaper-stopped.json"), Channels(slack_url=url), FakeSns(), Once())
    assert outcome.results == {} and read == [True]
