"""Slack incoming webhooks through slack_sdk's WebhookClient and its retry handlers.

Slack answers 200 with the body `ok`; 429 with Retry-After (the rate-limit handler honours
it); 5xx when it is unwell (retried with backoff). Anything else in 4xx (`invalid_payload`,
`channel_not_found`, 404, 410) will never succeed: it is reported, not retried.

Retries must end before the function does. A 5 s timeout per attempt, 3 rate-limit retries
that each sleep whatever Retry-After says, 2 server-error and 2 connection retries can add up
past the 30 s the function has (template.yaml Globals), and Lambda would kill it mid-sleep.
So send() takes a Deadline, and each of slack_sdk's handlers (slack_sdk/http_retry/handler.py,
builtin_handlers.py) is wrapped in WithinDeadline: it still decides whether an answer is
worth retrying, and the wrapper retries only when the wait plus one more attempt end before
the deadline. Past that the last answer stands, send() raises DeliveryError, and Lambda's
asynchronous retry takes over (idempotency keeps the email from going twice).

slack_sdk writes the webhook URL, a secret (whoever holds it can post to the channel), into
its INFO and DEBUG lines when it retries, so its loggers are pinned at WARNING.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Literal

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.webhook import WebhookClient

from idle_reaper.deadline import NO_DEADLINE, Deadline
from idle_reaper.exceptions import DeliveryError
from idle_reaper.messages import Message

TIMEOUT_SECONDS = 5
RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 2
CONNECTION_RETRIES = 2
MIN_ATTEMPT_SECONDS = 1
"""An attempt is not started with less time than this before the deadline."""
SDK_LOGGER = "slack_sdk"
_WAIT = "idle_reaper_wait_seconds"
"""Where WithinDeadline keeps, in slack_sdk's RetryState, the wait it agreed to."""


@dataclass(frozen=True)
class SlackResult:
    status: Literal["delivered", "rejected"]
    code: int
    body: str


class WithinDeadline(RetryHandler):
    """One of slack_sdk's retry handlers that gives up rather than end past the deadline.

    The wrapped handler still decides whether an answer is worth retrying and counts the
    retries; this one computes the wait the same way (Retry-After plus jitter for a 429, the
    wrapped handler's backoff otherwise), retries only when that wait and one more attempt
    of `attempt_seconds` fit before the deadline, and sleeps on the deadline's clock. The
    built-in handlers sleep with time.sleep themselves, whatever Retry-After says, so their
    own prepare_for_next_attempt is never called.
    """

    def __init__(self, inner: RetryHandler, deadline: Deadline, attempt_seconds: float) -> None:
        super().__init__(inner.max_retry_count, inner.interval_calculator)
        self.inner = inner
        self.deadline = deadline
        self.attempt_seconds = attempt_seconds

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not self.inner.can_retry(state=state, request=request, response=response, error=error):
            return False
        wait = self._wait(state, response)
        if wait + self.attempt_seconds > self.deadline.remaining():
            return False
        state.custom_values = {**(state.custom_values or {}), _WAIT: wait}
        return True

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        self.deadline.sleep(float((state.custom_values or {}).get(_WAIT, 0.0)))
        state.increment_current_attempt()

    def _wait(self, state: RetryState, response: HttpResponse | None) -> float:
        if response is not None and response.status_code == 429:
            return retry_after(response) + random.random()  # jitter, as slack_sdk adds
        return float(self.interval_calculator.calculate_sleep_duration(state.current_attempt))


def retry_after(response: HttpResponse) -> float:
    """Slack's Retry-After in seconds; 1 when it is missing or not a number of seconds."""
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return float(max(0, int(values[0])))
            except ValueError:
                break
    return 1.0


def client(url: str, deadline: Deadline = NO_DEADLINE) -> WebhookClient:
    """A webhook client whose attempts and retries all end before `deadline`."""
    timeout = int(min(TIMEOUT_SECONDS, max(MIN_ATTEMPT_SECONDS, deadline.remaining())))
    return WebhookClient(
        url,
        timeout=timeout,
        logger=quiet_sdk_logger(),
        retry_handlers=[
            WithinDeadline(handler, deadline, timeout)
            for handler in (
                RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
                ServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
                ConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
            )
        ],
    )


def quiet_sdk_logger() -> logging.Logger:
    """Pin slack_sdk's loggers at WARNING, and return the webhook client's own: the client
    tests its logger's own level (not the effective one) before it formats the URL into a
    DEBUG or INFO line, so that logger is pinned too, not only its parent."""
    logging.getLogger(SDK_LOGGER).setLevel(logging.WARNING)
    webhook = logging.getLogger(f"{SDK_LOGGER}.webhook.client")
    webhook.setLevel(logging.WARNING)
    return webhook


def send(url: str, message: Message, deadline: Deadline = NO_DEADLINE) -> SlackResult:
    """Deliver, or say it was rejected for good; raise DeliveryError when worth retrying
    (including when the deadline left no time to try, or to try again)."""
    remaining = deadline.remaining()
    if remaining < MIN_ATTEMPT_SECONDS:
        raise DeliveryError(f"no time left to reach Slack ({max(remaining, 0):.1f} s)")
    try:
        response = client(url, deadline).send(text=message.slack_text, blocks=message.blocks)
    except Exception as exc:  # urllib's URLError, timeouts, connection resets after retries
        raise DeliveryError(f"Slack unreachable: {type(exc).__name__}") from exc
    body = (response.body or "").strip()
    if response.status_code == 200 and body == "ok":
        return SlackResult("delivered", 200, body)
    if response.status_code == 200 or response.status_code == 429 or response.status_code >= 500:
        raise DeliveryError(f"Slack answered {response.status_code} {body[:200]!r}")
    return SlackResult("rejected", response.status_code, body[:500])
