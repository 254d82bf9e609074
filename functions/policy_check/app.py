"""Policy check: on each write of the policy parameter, one `failed` event if it is invalid."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.typing import LambdaContext

from idle_reaper import Policy, policy_source
from idle_reaper.aws import CLIENT_CONFIG
from idle_reaper.exceptions import DeliveryError
from idle_reaper.policy_check import changed_parameter, failed_detail
from idle_reaper.times import now_utc, to_iso

logger = Logger()
tracer = Tracer()
EVENT_SOURCE = "idle-reaper"


@cache
def _ssm() -> SSMProvider:
    """The policy parameter's provider for the life of the container (it caches the value)."""
    return policy_source.provider()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    name = os.environ["POLICY_PARAMETER_NAME"]
    changed = changed_parameter(event)
    if changed is None or changed[1] != name:
        logger.info("not a change of the policy parameter: nothing to check")
        return {"checked": False}
    policy = policy_source.with_document(Policy.from_env(), name, _ssm(), fresh=True)
    detail = failed_detail(name, policy, to_iso(now_utc()))
    if detail is None:
        logger.info("policy document valid", extra={"operation": changed[0]})
        return {"checked": True, "valid": True}
    logger.warning("policy document invalid", extra={"error": policy.document_error})
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
    return {"checked": True, "valid": False, "error": policy.document_error}
