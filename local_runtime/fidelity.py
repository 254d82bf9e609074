"""Patches that close moto's fidelity gaps, applied for the life of one Runtime.

Each fixes the emulator to behave like AWS; none touches the ASL or a handler.
- Wait states and Retry backoffs sleep on the virtual clock, not in real time.
- Executions tell the clock when they start and end (busy accounting, no polling).
- aws-sdk errors carry AWS's service names (`Glue.EntityNotFoundException`, not `glue.`).
- The interpreter reuses one boto3 client per service and region (moto builds a new one,
  about 30 ms, for every Task), parses each definition once rather than per execution (its
  parsed program is stateless: executions keep their state in their own environment), and
  compiles each JSONPath once (jsonpath_ng builds a new parser per call).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from functools import cache
from types import SimpleNamespace
from typing import Any
from unittest import mock

from local_runtime.clock import VirtualClock

# AWS's error prefixes for aws-sdk integrations, by the lower-case service name in the ARN.
SERVICE_ERROR_NAMES = {
    "glue": "Glue",
    "sagemaker": "SageMaker",
    "ec2": "Ec2",
    "dynamodb": "DynamoDb",
    "sfn": "Sfn",
    "sns": "Sns",
    "sqs": "Sqs",
    "s3": "S3",
    "eventbridge": "EventBridge",
    "lambda": "Lambda",
}

_PARSER = "moto.stepfunctions.parser"
_MODULES_WITH_CLIENTS = (
    "asl.component.state.exec.state_task.lambda_eval_utils",
    "asl.component.state.exec.state_task.service.state_task_service_factory",
)


@cache
def _cached_client(region: str, service: str) -> Any:
    from moto.stepfunctions.parser.asl.utils import boto_client

    return boto_client.boto_client_for(region=region, service=service)


def _client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    return _cached_client(region, service)


@cache
def _parsed_program(definition: str) -> Any:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    return AmazonStateLanguageParser.parse(definition)[0]


@contextmanager
def interpreter_on(clock: VirtualClock) -> Iterator[None]:
    """Apply every interpreter patch for the duration of the block."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as aws_sdk,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
    from moto.stepfunctions.parser.asl.utils import json_path
    from moto.stepfunctions.parser.backend import execution_worker

    worker_cls = execution_worker.ExecutionWorker
    original_logic = worker_cls._execution_logic
    original_start = worker_cls.start

    def start(self: Any) -> None:
        clock.enter()
        try:
            original_start(self)
        except BaseException:
            clock.leave()
            raise

    def execution_logic(self: Any) -> None:
        clock.baton.acquire()
        try:
            original_logic(self)
        finally:
            clock.baton.release()
            clock.leave()

    def entrypoint(self: Any) -> Any:
        return _parsed_program(self._evaluation_details.state_machine_details.definition)

    def wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        if wait_seconds > 0:
            clock.sleep_until(clock.now() + timedelta(seconds=wait_seconds))

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(worker_cls, "start", start))
        stack.enter_context(mock.patch.object(worker_cls, "_execution_logic", execution_logic))
        stack.enter_context(mock.patch.object(worker_cls, "_get_evaluation_entrypoint", entrypoint))
        compile_path = cache(json_path.parse)  # type: ignore[attr-defined]
        stack.enter_context(mock.patch.object(json_path, "parse", compile_path))
        stack.enter_context(
            mock.patch.object(wait_function.WaitFunction, "_wait_interval", wait_interval)
        )
        stack.enter_context(
            mock.patch.object(
                importlib.import_module(f"{_PARSER}.asl.component.common.retry.retrier_decl"),
                "time",
                SimpleNamespace(sleep=clock.sleep),
            )
        )
        stack.enter_context(mock.patch.dict(aws_sdk._SERVICE_ERROR_NAMES, SERVICE_ERROR_NAMES))
        for name in _MODULES_WITH_CLIENTS:
            importlib.import_module(f"{_PARSER}.{name}")
        for name, module in list(sys.modules.items()):
            if name.startswith(_PARSER) and hasattr(module, "boto_client_for"):
                if name.endswith("utils.boto_client"):
                    continue
                stack.enter_context(mock.patch.object(module, "boto_client_for", _client_for))
        try:
            yield
        finally:
            _cached_client.cache_clear()
            _parsed_program.cache_clear()
