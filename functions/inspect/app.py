"""Inspect: read-only look at one resource, returning the watcher's next verdict and state."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.typing import LambdaContext

from idle_reaper import Policy, inspect, policy_source
from idle_reaper.aws import CLIENT_CONFIG
from idle_reaper.resource import Home

logger = Logger()
tracer = Tracer()


@cache
def _client(service: str, region: str) -> Any:
    """One client per service and region for the life of the container, with short timeouts
    and standard retries so one slow call cannot outlive the function."""
    return boto3.client(service, region_name=region, config=CLIENT_CONFIG)  # type: ignore[call-overload]


def _policy() -> Policy:
    """The template's policy with the document, if one is named (cached a minute)."""
    return policy_source.with_document(
        Policy.from_env(), os.environ.get("POLICY_PARAMETER_NAME"), _ssm()
    )


@cache
def _ssm() -> SSMProvider:
    """The policy parameter's provider for the life of the container (it caches the value)."""
    return policy_source.provider()


@logger.inject_lambda_context(correlation_id_path="execution_arn", log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = inspect(event, _client, _policy(), Home.from_env(os.environ))
    verdict = result["verdict"]
    logger.info(
        "verdict",
        extra={
            "action": verdict["action"],
            "reason": verdict["reason"],
            "resource": result["resource"] and result["resource"]["id"],
            "looks": result["watch"]["looks"],
        },
    )
    return result
