"""Policy check: on each write of the policy parameter, and every 15 minutes, one `failed`
event per distinct invalid document (a day), naming the bad field."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.typing import LambdaContext

from idle_reaper import Policy, policy_source
from idle_reaper.aws import CLIENT_CONFIG
from idle_reaper.exceptions import DeliveryError
from idle_reaper.policy_check import REPORT_AGAIN_SECONDS, checked_by, failed_detail
from idle_reaper.times import now_utc, to_iso

logger = Logger()
tracer = Tracer()
EVENT_SOURCE = "idle-reaper"
once_a_day = IdempotencyConfig(expires_after_seconds=REPORT_AGAIN_SECONDS)


@cache
def _ssm() -> SSMProvider:
    """The policy parameter's provider for the life of the container (it caches the value)."""
    return policy_source.provider()


@cache
def _reports() -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(
        table_name=os.environ["IDEMPOTENCY_TABLE"], boto_config=CLIENT_CONFIG
    )


def _report_once(problem: dict[str, str], detail: dict[str, Any]) -> dict[str, Any]:
    """Put the failed event at most once per (parameter, error) a day: a write, its label and
    every scheduled check of one bad document give one event."""

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="problem", persistence_store=_reports(), config=once_a_day
    )
    def report(problem: dict[str, str]) -> dict[str, Any]:
        answer = boto3.client("events", config=CLIENT_CONFIG).put_events(
            Entries=[
                {
                    "EventBusName": os.environ["EVENT_BUS_NAME"],
                    "Source": EVENT_SOURCE,
                    "DetailType": "failed",
                    "Detail": json.dumps(detail),
                }
            ]
        )
        if answer.get("FailedEntryCount"):  # PutEvents answers 200 with per-entry failures
            raise DeliveryError(f"the failed event was not put: {answer['Entries'][0]}")
        return {"event_id": str(answer["Entries"][0].get("EventId"))}

    reported: dict[str, Any] = report(problem=problem)
    return reported


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    once_a_day.register_lambda_context(context)
    name = os.environ["POLICY_PARAMETER_NAME"]
    why = checked_by(event, name)
    if why is None:
        logger.info("not a write of the policy parameter nor its schedule: nothing to check")
        return {"checked": False}
    policy = policy_source.with_document(Policy.from_env(), name, _ssm(), fresh=True)
    detail = failed_detail(name, policy, to_iso(now_utc()))
    if detail is None or policy.document_error is None:
        logger.info("policy document valid", extra={"checked_by": why})
        return {"checked": True, "valid": True}
    logger.warning("policy document invalid", extra={"error": policy.document_error})
    reported = _report_once({"parameter": name, "error": policy.document_error}, detail)
    return {"checked": True, "valid": False, "error": policy.document_error, **reported}
