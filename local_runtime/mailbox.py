"""Email deliveries through SNS, recorded: moto accepts email subscriptions but sends nothing.

A delivery is recorded for every email subscription whose filter policy matches the
message's attributes (moto's own matcher), with what the notify function was handling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from unittest import mock


@dataclass
class Email:
    at: datetime
    to: str
    subject: str | None
    body: str
    attributes: dict[str, Any]
    context: Any = None


class Mailbox:
    def __init__(self, now: Callable[[], datetime], context: Callable[[], Any]) -> None:
        self.now = now
        self.context = context
        self.sent: list[Email] = []

    @contextmanager
    def on(self) -> Iterator[None]:
        from moto.sns.models import Subscription

        mailbox = self
        original = Subscription.publish

        def publish(
            sub: Any,
            message: str,
            message_id: str,
            subject: str | None = None,
            message_attributes: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> None:
            if sub.protocol in ("email", "email-json"):
                matcher = sub._filter_policy_matcher
                if matcher is None or matcher.matches(message_attributes, message):
                    mailbox.sent.append(
                        Email(
                            mailbox.now(),
                            sub.endpoint,
                            subject,
                            message,
                            dict(message_attributes or {}),
                            mailbox.context(),
                        )
                    )
            original(
                sub,
                message,
                message_id,
                subject=subject,
                message_attributes=message_attributes,
                **kwargs,
            )

        with mock.patch.object(Subscription, "publish", publish):
            yield
