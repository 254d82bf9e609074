"""Which messages go out, on which channels, and that one channel never holds back another."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from idle_reaper import slack
from idle_reaper.exceptions import DeliveryError, MalformedEventError, NotificationsFailedError
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
    calls: list[str] = []

    def flaky(url: str, message: Any, deadline: slack.Deadline) -> Any:
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


def test_email_is_plain_text_never_slacks_escaped_text() -> None:
    event = load_event("reaper-stopped.json")
    event["detail"]["resource"]["owner"] = "R&D <rnd@example.com>"
    sns = FakeSns()
    notify(event, CHANNELS, sns, Once())
    (sent,) = sns.published
    assert "Owner: R&D <rnd@example.com>" in sent["Message"]
    assert "&amp;" not in sent["Message"] and "&lt;" not in sent["Message"]


def test_the_slack_deadline_reaches_the_slack_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    given: list[slack.Deadline] = []

    def record(url: str, message: Any, deadline: slack.Deadline) -> slack.SlackResult:
        given.append(deadline)
        return slack.SlackResult("delivered", 200, "ok")

    monkeypatch.setattr(slack, "send", record)
    deadline = slack.Deadline(at=42.0)
    channels = Channels(slack_url=lambda: "http://127.0.0.1:9/x", slack_deadline=deadline)
    notify(load_event("reaper-stopped.json"), channels, FakeSns(), Once())
    assert given == [deadline]


def without_id(kind: str) -> dict[str, Any]:
    event = load_event(f"reaper-{kind}.json")
    del event["id"]
    return event


def test_events_without_an_id_never_share_a_delivery_and_a_redelivery_dedupes() -> None:
    sns, once = FakeSns(), Once()
    first, second = without_id("stopped"), without_id("warning")
    notify(first, CHANNELS, sns, once)
    notify(second, CHANNELS, sns, once)  # another event: must not be taken for the first
    notify(without_id("stopped"), CHANNELS, sns, once)  # the first one, delivered again
    assert [m["Subject"].split(": ", 1)[1] for m in sns.published] == [
        "gone-home was stopped after 30 minutes idle",
        "watched-only will be stopped at 09:40 UTC on 2026-03-02 (in 5 minutes)",
    ]
    assert len(set(once.runs)) == 2
    assert all(key.startswith("sha256:") and key.endswith(":email") for key in once.runs)


@pytest.mark.parametrize(
    "detail", ["a string", ["a", "list"], 42, None], ids=["string", "list", "number", "null"]
)
def test_an_event_whose_detail_is_not_an_object_is_refused_with_a_reason(detail: Any) -> None:
    event = load_event("reaper-stopped.json")
    event["detail"] = detail
    sns = FakeSns()
    with pytest.raises(MalformedEventError, match="detail"):
        notify(event, CHANNELS, sns, Once())
    assert sns.published == []


def test_an_event_without_a_detail_type_is_refused_with_a_reason() -> None:
    event = load_event("reaper-stopped.json")
    del event["detail-type"]
    with pytest.raises(MalformedEventError, match="detail-type"):
        notify(event, CHANNELS, FakeSns(), Once())


@pytest.mark.parametrize("part", ["resource", "verdict", "error"])
@pytest.mark.parametrize("value", ["a string", ["a", "list"], 7])
def test_a_part_that_is_not_an_object_is_read_as_absent_and_still_delivered(
    part: str, value: Any
) -> None:
    # without its resource, a failed event is readable only from the start event it carries
    sample = "reaper-failed-before-verdict.json" if part == "resource" else "reaper-failed.json"
    event = load_event(sample)
    event["detail"][part] = value
    sns = FakeSns()
    outcome = notify(event, CHANNELS, sns, Once())
    assert len(sns.published) == 1
    assert any(f"detail.{part}" in note for note in outcome.event.notes)


@pytest.mark.parametrize(
    ("sample", "resource"),
    [
        ("reaper-stopped.json", {}),
        ("reaper-warning.json", None),
        ("reaper-failed.json", {"kind": "glue-session"}),  # a kind, but no id
    ],
)
def test_an_event_naming_no_resource_and_carrying_no_start_event_is_refused(
    sample: str, resource: Any
) -> None:
    """Only a watcher gone wrong could publish it; told to a channel it would read "(unknown)
    was stopped". Refused as unreadable: Lambda retries it, then dead-letters it."""
    event = load_event(sample)
    event["detail"]["resource"] = resource
    event["detail"].pop("event", None)
    sns = FakeSns()
    with pytest.raises(MalformedEventError, match="names no resource"):
        notify(event, CHANNELS, sns, Once())
    assert sns.published == []


def test_a_failed_event_naming_no_resource_is_told_from_its_start_event() -> None:
    event = load_event("reaper-failed-before-verdict.json")
    assert not event["detail"]["resource"] and event["detail"]["event"]
    sns = FakeSns()
    notify(event, CHANNELS, sns, Once())
    [published] = sns.published
    assert "alice-etl" in published["Subject"]


def test_an_ignored_event_names_no_resource_and_is_not_refused() -> None:
    event = load_event("reaper-stopped.json")
    event["detail-type"] = event["detail"]["outcome"] = "ignored"
    event["detail"]["resource"] = None
    sns = FakeSns()
    outcome = notify(event, CHANNELS, sns, Once())
    assert outcome.message is None and sns.published == []
