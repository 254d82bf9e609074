"""Sweep: on a schedule, start a watcher for every running resource that has none."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from idle_reaper import Policy, policy_source
from idle_reaper.aws import CLIENT_CONFIG
from idle_reaper.claims import Claims
from idle_reaper.exceptions import SweepError
from idle_reaper.resource import Home
from idle_reaper.sweep import SweepReport, sweep
from idle_reaper.times import now_utc

logger = Logger()
tracer = Tracer()
STARTED_METRIC = "SweepStarted"
"""Resources found running without a watcher (a watcher was started), per kind: a start event
that should have come did not."""


@cache
def _client(service: str, region: str) -> Any:
    """One client per service and region for the life of the container (CLIENT_CONFIG: short
    timeouts and standard retries)."""
    return boto3.client(service, region_name=region, config=CLIENT_CONFIG)  # type: ignore[call-overload]


def starter(state_machine_arn: str, region: str) -> Any:
    """start(name, input): StartExecution of the watcher; False when an execution of that name
    exists (ExecutionAlreadyExists: this minute's sweep already started it)."""

    def start(name: str, watcher_input: dict[str, Any]) -> bool:
        try:
            _client("stepfunctions", region).start_execution(
                stateMachineArn=state_machine_arn, name=name, input=json.dumps(watcher_input)
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                return False
            raise
        return True

    return start


def _emit(report: SweepReport) -> None:
    """SweepStarted per kind, each with its own `kind` dimension (one EMF blob each)."""
    for name, tally in report.kinds.items():
        with single_metric(
            name=STARTED_METRIC, unit=MetricUnit.Count, value=tally.started
        ) as metric:
            metric.add_dimension(name="kind", value=name)


@cache
def _ssm() -> SSMProvider:
    """The policy parameter's provider for the life of the container (it caches the value)."""
    return policy_source.provider()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    env = os.environ
    home = Home.from_env(env)
    policy = policy_source.with_document(
        Policy.from_env(env), env.get("POLICY_PARAMETER_NAME"), _ssm()
    )
    try:
        report = sweep(
            _client,
            home,
            policy,
            Claims(
                _client("dynamodb", home.region),
                env["CLAIMS_TABLE_NAME"],
                _client("stepfunctions", home.region),
            ),
            starter(env["WATCHER_STATE_MACHINE_ARN"], home.region),
            now_utc(),
        )
    except SweepError as exc:
        if isinstance(exc.report, SweepReport):
            _emit(exc.report)
            logger.error("sweep", extra={"report": exc.report.to_dict()})
        raise
    _emit(report)
    logger.info("sweep", extra={"report": report.to_dict()})
    return report.to_dict()
