"""Keep: a Slack button click in (API Gateway HTTP API), the resource's keep-until tag and a
`kept` event out, or a polite answer that changes nothing. Synchronous: Slack waits for the
HTTP answer (three seconds), so every call has short timeouts and the answer the clicker reads
goes to the click's response_url before the function returns."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider
from aws_lambda_powertools.utilities.typing import LambdaContext

from idle_reaper import aws, keep_reply, policy_source
from idle_reaper.audit import AuditRecord, latest_warning, pk_of
from idle_reaper.deadline import Deadline
from idle_reaper.exceptions import InteractionError, KeepError
from idle_reaper.keep import Keeper, keep
from idle_reaper.keep_claims import claim
from idle_reaper.kinds.base import ResourceKind
from idle_reaper.policy import Policy
from idle_reaper.resource import Home, ResourceRef
from idle_reaper.slack_interaction import click_of, request_of, signed_time, verify
from idle_reaper.slack_users import email_of
from idle_reaper.times import now_utc

logger = Logger()
metrics = Metrics()
tracer = Tracer(patch_modules=["botocore"])
"""AWS calls only: X-Ray's httplib patch records each request's URL, and the click's
response_url is a bearer address (whoever holds it may post into the channel)."""
SECRET_MAX_AGE_SECONDS = 300
SLACK_WAITS_SECONDS = 3
"""Slack shows the clicker an error when the request is not answered within three seconds."""
ANSWER_SECONDS = 5
"""How long the response_url post may take, retries included: it is what the clicker reads."""


@cache
def _client(service: str, region: str) -> Any:
    """One client per service and region, with the interactive timeouts (aws.py)."""
    return aws.client(service, region, aws.INTERACTIVE_CONFIG)


@cache
def _secrets() -> SecretsProvider:
    return SecretsProvider(boto_config=aws.INTERACTIVE_CONFIG)


@cache
def _ssm() -> SSMProvider:
    return SSMProvider(boto_config=aws.INTERACTIVE_CONFIG)


def _secret(variable: str) -> str | None:
    """A secret's value (a plain string, or `{"value": ...}`), cached; never logged."""
    arn = os.environ.get(variable)
    if not arn:
        return None
    value = str(_secrets().get(arn, max_age=SECRET_MAX_AGE_SECONDS)).strip()
    if value.startswith("{"):
        value = str(json.loads(value).get("value", "")).strip()
    return value or None


def _admins() -> frozenset[str]:
    raw = os.environ.get("KEEP_ADMIN_SLACK_USER_IDS", "")
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def _last_warning(kind: ResourceKind, ref: ResourceRef) -> AuditRecord | None:
    table = os.environ["AUDIT_TABLE"]
    return latest_warning(
        _client("dynamodb", aws_region()), table, pk_of(kind.name, ref.account, ref.region, ref.id)
    )


def _publish(entry: dict[str, Any]) -> None:
    answer = _client("events", aws_region()).put_events(
        Entries=[{**entry, "EventBusName": os.environ["EVENT_BUS_NAME"]}]
    )
    if answer.get("FailedEntryCount"):
        failed = (answer.get("Entries") or [{}])[0]
        raise KeepError(f"the kept event was refused: {failed.get('ErrorCode')}")


def _claim(audit_key: str, until: datetime) -> bool:
    table = os.environ["KEEP_CLAIMS_TABLE"]
    return claim(_client("dynamodb", aws_region()), table, audit_key, until)


def _email_lookup(token: str | None) -> Callable[[str, str | None], str | None] | None:
    """auth.test and users.info through the bot token, when one is configured."""
    if token is None:
        return None
    return lambda user, team: email_of(user, team, token, SLACK_WAITS_SECONDS)


def aws_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ["HOME_REGION"]


def _answer(status: int, text: str = "") -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "text/plain"}, "body": text}


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId", log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.monotonic()
    try:
        request = request_of(event)
    except InteractionError as exc:
        logger.warning("not a Slack interaction", extra={"why": str(exc)})
        return _answer(400, "bad request")
    secret = _secret("SLACK_SIGNING_SECRET_ARN")
    if secret is None:
        raise KeepError("no signing secret: interactivity is configured without one")
    check = verify(request, secret, time.time())
    if check != "valid":
        logger.warning("refused: not signed by Slack", extra={"check": check})
        metrics.add_metric(name="KeepSignatureRefused", unit=MetricUnit.Count, value=1)
        return _answer(401, "invalid request signature")
    try:
        click = click_of(request.body, signed_time(request))
    except InteractionError as exc:
        logger.warning("a signed request idle-reaper cannot read", extra={"why": str(exc)})
        return _answer(400, "bad request")
    if click is None:
        return _answer(200)
    token = _secret("SLACK_BOT_TOKEN_SECRET_ARN")
    policy = policy_source.with_document(
        Policy.from_env(), os.environ.get("POLICY_PARAMETER_NAME"), _ssm()
    )
    keeper = Keeper(
        client_for=_client,
        policy=policy,
        home=Home.from_env(os.environ),
        admins=_admins(),
        email_of=_email_lookup(token),
        last_warning=_last_warning,
        publish=_publish,
        claim=_claim,
        now=now_utc(),
    )
    answer = keep(click, keeper)
    payload = keep_reply.reply(answer, click)
    status = None
    if payload is not None and click.response_url:
        status = keep_reply.send(click.response_url, payload, Deadline.after(ANSWER_SECONDS))
    if click.response_url_refused:  # never logged: a response_url is a bearer address
        logger.warning("the click's response_url is not Slack's: no answer was sent to it")
        metrics.add_metric(name="KeepResponseUrlRefused", unit=MetricUnit.Count, value=1)
    logger.info(
        "click",
        extra={
            "outcome": answer.outcome,
            "resource": answer.resource_id,
            "user": click.user_id,
            "until": answer.until.isoformat() if answer.until else None,
            "answered": status,
            "seconds": round(time.monotonic() - started, 3),
        },
    )
    if answer.outcome != "ignored":
        metrics.add_metric(name=f"Keep{answer.outcome.title()}", unit=MetricUnit.Count, value=1)
    if payload is not None and status != 200:
        logger.error("the clicker's answer did not reach Slack", extra={"status": status})
    if answer.outcome == "failed":
        raise KeepError(answer.error or "the keep failed")
    return _answer(200)
