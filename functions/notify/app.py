"""Notify: one reaper event in, a Slack message and an email out, each delivered once."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from idle_reaper.notification import Channels, notify
from idle_reaper.policy import DEFAULT_EXEMPT_TAG

logger = Logger()
metrics = Metrics()
tracer = Tracer()
idempotency = IdempotencyConfig(expires_after_seconds=7 * 24 * 3600)
SECRET_MAX_AGE_SECONDS = 300


@cache
def _sns() -> Any:
    return boto3.client("sns")


@cache
def _deliveries() -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE"])


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


def _slack_url() -> str | None:
    """The webhook URL from Secrets Manager (cached); never logged. A plain URL or
    `{"url": "..."}`."""
    arn = os.environ.get("SLACK_WEBHOOK_SECRET_ARN")
    if not arn:
        return None
    value = str(parameters.get_secret(arn, max_age=SECRET_MAX_AGE_SECONDS)).strip()
    if value.startswith("{"):
        value = str(json.loads(value).get("url", ""))
    return value or None


@logger.inject_lambda_context(correlation_id_path="detail.execution_arn", log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    channels = Channels(
        topic_arn=os.environ.get("TOPIC_ARN") or None,
        slack_url=_slack_url,
        notify_exempt_and_gone=os.environ.get("NOTIFY_EXEMPT_AND_GONE", "false") == "true",
        exempt_tag_key=os.environ.get("EXEMPT_TAG_KEY") or DEFAULT_EXEMPT_TAG,
    )
    outcome = notify(event, channels, _sns(), _once)
    if outcome.message is None:
        return {"notified": False, "type": event.get("detail-type")}
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
