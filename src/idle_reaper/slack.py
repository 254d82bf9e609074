"""Slack incoming webhooks through slack_sdk's WebhookClient and its retry handlers.

Slack answers 200 with the body `ok`; 429 with Retry-After (the rate-limit handler honours
it); 5xx when it is unwell (retried with backoff). Anything else in 4xx (`invalid_payload`,
`channel_not_found`, 404, 410) will never succeed: it is reported, not retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from idle_reaper.exceptions import DeliveryError
from idle_reaper.messages import Message

TIMEOUT_SECONDS = 5
RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 2
CONNECTION_RETRIES = 2


@dataclass(frozen=True)
class SlackResult:
    status: Literal["delivered", "rejected"]
    code: int
    body: str


def client(url: str) -> WebhookClient:
    return WebhookClient(
        url,
        timeout=TIMEOUT_SECONDS,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            ServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
            ConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
        ],
    )


def send(url: str, message: Message) -> SlackResult:
    """Deliver, or say it was rejected for good; raise DeliveryError when worth retrying."""
    try:
        response = client(url).send(text=message.text, blocks=message.blocks)
    except Exception as exc:  # urllib's URLError, timeouts, connection resets after retries
        raise DeliveryError(f"Slack unreachable: {type(exc).__name__}") from exc
    body = (response.body or "").strip()
    if response.status_code == 200 and body == "ok":
        return SlackResult("delivered", 200, body)
    if response.status_code == 200 or response.status_code == 429 or response.status_code >= 500:
        raise DeliveryError(f"Slack answered {response.status_code} {body[:200]!r}")
    return SlackResult("rejected", response.status_code, body[:500])
