"""Notify: one reaper event in, a Slack message and an email out, each delivered once."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from idle_reaper import aws
from idle_reaper.deadline import Deadline
from idle_reaper.exceptions import MalformedEventError, SlackSecretError
from idle_reaper.notification import Channels, notify
from idle_reaper.policy import DEFAULT_EXEMPT_TAG

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

logger = Logger()
metrics = Metrics()
tracer = Tracer(patch_modules=["botocore"])
"""AWS calls only: X-Ray's httplib patch records each request's URL, and Slack's is the webhook,
a secret (whoever holds it can post to the channel)."""
DELIVERY_MEMORY_SECONDS = 15 * 24 * 3600
"""How long a delivery is remembered: longer than an event can take to come back from the
notify dead-letter queue (its 14-day retention, after Lambda's 6 hours of retries), so a
redrive sends nothing twice. A template test holds it above the queue's numbers."""
idempotency = IdempotencyConfig(expires_after_seconds=DELIVERY_MEMORY_SECONDS)
SECRET_MAX_AGE_SECONDS = 300
SLACK_MARGIN_SECONDS = aws.ONE_ATTEMPT_SECONDS + 1
"""What the invocation still has to do once Slack has answered: write the idempotency
record's completion (one DynamoDB call, at most one attempt at CLIENT_CONFIG's timeouts)
and flush its metrics. The email goes out before Slack, so its time is spent by the time
Slack starts: the deadline is a moment, so whatever ran first has already come off it."""


@cache
def _sns() -> Any:
    return aws.client("sns")


@cache
def _deliveries() -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(
        table_name=os.environ["IDEMPOTENCY_TABLE"], boto_config=aws.CLIENT_CONFIG
    )


@cache
def _secrets() -> SecretsProvider:
    """parameters.get_secret builds its provider without a botocore Config: build our own.
    Imported here: only a deployment with a Slack webhook reads a secret."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto_config=aws.CLIENT_CONFIG)


def _once(key: str, delivery: Any) -> dict[str, Any]:
    """Run a delivery at most once per key (event id and channel)."""

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="key", persistence_store=_deliveries(), config=idempotency
    )
    def deliver(key: str) -> dict[str, Any]:
        result: dict[str, Any] = delivery()
        return result

    delivered: dict[str, Any] = deliver(key=key)
    return delivered


def _slack_url(secret_id: str | None = None) -> str | None:
    """The webhook URL from Secrets Manager (cached); never logged. A plain URL or
    `{"url": "..."}`. `secret_id`: a team's webhook a policy rule routes to; else the stack's."""
    arn = secret_id or os.environ.get("SLACK_WEBHOOK_SECRET_ARN")
    if not arn:
        return None
    value = str(_secrets().get(arn, max_age=SECRET_MAX_AGE_SECONDS)).strip()
    if value.startswith("{"):
        value = str(json.loads(value).get("url", ""))
    if value and not value.lower().startswith(("https://", "http://")):
        # slack_sdk puts a URL it finds invalid, secret and all, in its error: refuse it here.
        raise SlackSecretError("the Slack webhook secret holds no http(s) URL")
    return value or None


def _team_slack_url(secret_name: str) -> str | None:
    """A team's webhook (a policy rule's route), or None when it cannot be read: a missing or
    misnamed team secret must not hold back the message, which then goes to the stack's channel."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        return _slack_url(secret_name)
    except (GetParameterError, SlackSecretError, ValueError) as exc:  # any provider's .get
        logger.warning(
            "the team's Slack webhook cannot be read: using the stack's",
            extra={"secret": secret_name, "why": type(exc).__name__},
        )
        return None


def slack_deadline(context: LambdaContext, clock: Callable[[], float] = time.monotonic) -> Deadline:
    """When Slack must have answered: the function's own deadline less SLACK_MARGIN_SECONDS,
    so a slow Slack fails the delivery (and Lambda retries it) instead of the function."""
    remaining = context.get_remaining_time_in_millis() / 1000
    return Deadline(clock() + remaining - SLACK_MARGIN_SECONDS, clock)


@logger.inject_lambda_context(correlation_id_path="detail.execution_arn", log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    channels = Channels(
        topic_arn=os.environ.get("TOPIC_ARN") or None,
        slack_url=_slack_url,
        team_slack_url=_team_slack_url,
        notify_exempt_and_gone=os.environ.get("NOTIFY_EXEMPT_AND_GONE", "false") == "true",
        exempt_tag_key=os.environ.get("EXEMPT_TAG_KEY") or DEFAULT_EXEMPT_TAG,
        slack_deadline=slack_deadline(context),
        keep_buttons=os.environ.get("KEEP_BUTTONS", "false") == "true",
    )
    try:
        outcome = notify(event, channels, _sns(), _once)
    except MalformedEventError as exc:
        logger.error("not a reaper event: failing, so it is dead-lettered", extra={"why": str(exc)})
        raise
    if outcome.event.notes:
        logger.warning(
            "the event was damaged; read as far as it goes",
            extra={"event_id": outcome.event.id, "notes": list(outcome.event.notes)},
        )
    if outcome.message is None:
        return {"notified": False, "type": outcome.event.detail_type}
    if outcome.results:  # Powertools clears dimensions only when it flushes a metric
        metrics.add_dimension(name="kind", value=outcome.message.attributes["kind"])
    for channel, result in outcome.results.items():
        if result.get("status") == "rejected":
            logger.error(
                "Slack rejected the message for good; not retrying",
                extra={"channel": channel, "code": result["code"], "body": result["body"]},
            )
            metrics.add_metric(name="SlackRejected", unit=MetricUnit.Count, value=1)
        else:
            metrics.add_metric(name="NotificationsDelivered", unit=MetricUnit.Count, value=1)
    logger.info("notified", extra={"type": outcome.message.type, "channels": list(outcome.results)})
    return {"notified": True, "type": outcome.message.type, "results": outcome.results}
