"""Turn one reaper event into messages on every configured channel, each delivered once.

Channels are independent: Slack being down never holds back the email. Each delivery is
idempotent per (event, channel) through Powertools Idempotency, so when a retry of the
invocation comes (because one channel failed), channels that already delivered are skipped.
The event is read by ReaperEvent.parse, the same reading the audit function makes: an event
it cannot read raises MalformedEventError (and is dead-lettered), and an event without an id
is keyed by its content, so two of them never share one idempotency key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from idle_reaper import mail
from idle_reaper.deadline import NO_DEADLINE, Deadline
from idle_reaper.exceptions import DeliveryError, NotificationsFailedError
from idle_reaper.messages import NOTIFIED_ALWAYS, NOTIFIED_ON_REQUEST, Message, render
from idle_reaper.policy import DEFAULT_EXEMPT_TAG
from idle_reaper.reaper_event import ReaperEvent, require_subject
from idle_reaper.route import route_of

Deliver = Callable[[str, Callable[[], dict[str, Any]]], dict[str, Any]]
"""(idempotency key, delivery) -> the delivery's result, run at most once per key."""


@dataclass(frozen=True)
class Channels:
    topic_arn: str | None = None
    slack_url: Callable[[], str | None] = lambda: None
    """Read the webhook URL only when a message is due (it is a secret: fetched, cached)."""
    team_slack_url: Callable[[str], str | None] = lambda secret: None
    """A team's webhook URL, by the secret name a policy rule routes its resources to; None
    when it cannot be read (then the stack's channel gets the message)."""
    notify_exempt_and_gone: bool = False
    exempt_tag_key: str = DEFAULT_EXEMPT_TAG
    """Named in the how-to-keep line, so people are told the tag this deployment honours."""
    slack_deadline: Deadline = NO_DEADLINE
    """When Slack must have answered, retries included (the function's own deadline, less
    what the invocation still has to do afterwards)."""
    keep_buttons: bool = False
    """Warnings carry the keep buttons: the stack's Slack app has interactivity (a signing
    secret is configured), so a click reaches the keep function."""


@dataclass
class Outcome:
    event: ReaperEvent
    message: Message | None = None
    results: dict[str, dict[str, Any]] = field(default_factory=dict)


def wanted(detail_type: str, channels: Channels) -> bool:
    if detail_type in NOTIFIED_ALWAYS:
        return True
    return channels.notify_exempt_and_gone and detail_type in NOTIFIED_ON_REQUEST


def notify(event: Mapping[str, Any], channels: Channels, sns: Any, once: Deliver) -> Outcome:
    """Deliver the event's message on every channel; raise NotificationsFailedError at the
    end if any channel should be retried, MalformedEventError at once if the event cannot
    be read."""
    parsed = require_subject(ReaperEvent.parse(event))
    if not wanted(parsed.detail_type, channels):
        return Outcome(event=parsed)
    message = render(parsed, channels.exempt_tag_key, channels.keep_buttons)
    outcome = Outcome(event=parsed, message=message)
    failures: list[str] = []

    def attempt(channel: str, delivery: Callable[[], dict[str, Any]]) -> None:
        try:
            outcome.results[channel] = once(f"{parsed.id}:{channel}", delivery)
        except DeliveryError as exc:
            failures.append(f"{channel}: {exc}")

    if channels.topic_arn:
        topic = channels.topic_arn
        attempt("email", lambda: {"message_id": mail.publish(sns, topic, message)})
    team_secret = route_of(parsed.verdict).get("slack_webhook_secret")
    # a team webhook that cannot be read (None) falls back to the stack's channel: never lost
    url = (channels.team_slack_url(team_secret) if team_secret else None) or channels.slack_url()
    if url:
        from idle_reaper import slack  # slack_sdk only where a webhook is configured

        deadline = channels.slack_deadline
        attempt("slack", lambda: slack.send(url, message, deadline).__dict__)
    if failures:
        raise NotificationsFailedError("; ".join(failures))
    return outcome
