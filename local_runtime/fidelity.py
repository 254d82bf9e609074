"""Patches that close moto's fidelity gaps, applied for the life of one Runtime.

Each fixes the emulator to behave like AWS; none touches the ASL or a handler.
- Wait states and Retry backoffs sleep on the virtual clock, not in real time; a Timestamp or
  TimestampPath wait wakes exactly on its timestamp (moto rounds the delta to whole seconds).
- A Choice rule whose Variable path is missing fails the execution with States.Runtime (moto
  compares it as false); IsPresent stays the way to test presence.
- No Retrier or Catcher matches States.Runtime, not even States.ALL (moto's States.ALL does).
- An execution whose history reaches HISTORY_EVENT_LIMIT events fails (moto's never does).
- Payloads are held to PAYLOAD_LIMIT_BYTES, as AWS holds them: StartExecution refuses a larger
  input (ValidationException; moto took any size), a Task whose input after Parameters is
  larger fails with States.DataLimitExceeded (moto never measured it), and a result or a
  state's output may be exactly the limit (moto failed it one byte early, measured with the
  spaces of its own JSON). No Retrier or Catcher matches States.DataLimitExceeded.
- Executions tell the clock when they start and end (busy accounting, no polling).
- aws-sdk Task errors are named as Step Functions names them: `<Service>.<Exception>` as the
  AWS SDK for Java 2.x names the service and the exception class, the class being the service's
  `<Service>Exception` for any error its model does not declare (every EC2 error is
  `Ec2.Ec2Exception`), and the Cause is that SDK's message (see `aws_sdk_error`).
- The interpreter reuses one boto3 client per service and region (moto builds a new one,
  about 30 ms, for every Task), parses each definition once rather than per execution (its
  parsed program is stateless: executions keep their state in their own environment), and
  compiles each JSONPath once (jsonpath_ng builds a new parser per call).
"""

from __future__ import annotations

import importlib
import json
import random
import re
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from functools import cache
from types import SimpleNamespace
from typing import Any
from unittest import mock

from local_runtime import iam
from local_runtime.clock import VirtualClock
from local_runtime.sdk_errors import aws_sdk_cause, aws_sdk_error

HISTORY_EVENT_LIMIT = 25_000
"""Events in one Standard execution's history. "Maximum execution history size: 25,000 events in
a single state machine execution history. If the execution history reaches this quota, the
execution will fail." (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html,
"Quotas related to state machine executions"; also bp-history-limit.html, "a hard quota of 25,000
entries"). The docs name no error; executions that hit it report States.Runtime and "The execution
reached the maximum number of history events (25000).", event 25,000 being that ExecutionFailed."""

HISTORY_LIMIT_CAUSE = "The execution reached the maximum number of history events ({limit})."
CHOICE_PATH_CAUSE = (
    "Invalid path '{path}': The choice state's condition path references an invalid value."
)
"""A Choice rule on a path missing from the input fails the execution ("If the state input doesn't
contain the $.type field, the execution fails and an error is displayed in the execution history":
https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html, the JSONPath example);
IsPresent is the operator that tests presence. The error is States.Runtime, worded as here."""

PAYLOAD_LIMIT_BYTES = 262_144
"""The most a Step Functions payload may hold, in bytes of UTF-8 JSON: "Maximum input or output
size for a task, state, or execution: 256 KiB of data as a UTF-8 encoded string"
(https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html, "Quotas related to
task executions"); "Length Constraints: Maximum length of 262144", "expressed as bytes in UTF-8
encoding" (API reference: StartExecution's `input`, StateEnteredEventDetails' `input`,
TaskScheduledEventDetails' `parameters`). Measured on compact JSON, as the history holds it."""

INPUT_TOO_LARGE = (
    "1 validation error detected: Value at 'input' failed to satisfy constraint: "
    "Member must have size less than or equal to {limit} bytes in UTF-8 encoding"
)
"""StartExecution's refusal of a larger input: a ValidationException (StartExecution's Errors in
the API reference: "The input does not satisfy the constraints specified by an AWS service"),
worded as AWS answers it (the docs quote no message; this one is as observed and reported)."""

DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
"""A Task input (after Parameters), a Task result or a state output over the limit. "A terminal
error that can't be caught by the States.ALL error type" (https://docs.aws.amazon.com/
step-functions/latest/dg/concepts-error-handling.html, "Error names"); here no ErrorEquals
matches it, naming it included, as for States.Runtime: the execution fails."""

TASK_INPUT_CAUSE = (
    "The state/task '{name}' has an input with a size exceeding the maximum number of bytes "
    "service limit."
)
"""Worded after AWS's cause for a result over the limit ("The state/task '...' returned a result
with a size exceeding the maximum number of bytes service limit.", which moto keeps)."""

STATES_RUNTIME = "States.Runtime"
"""Never retried nor caught here. AWS: States.ALL cannot catch the Runtime error type (nor the
terminal States.DataLimitExceeded), https://docs.aws.amazon.com/step-functions/latest/dg/
concepts-error-handling.html, "Error names". An ErrorEquals naming States.Runtime itself is
refused too: the stricter reading, as the same page has a States.Runtime failure end the run."""

_PARSER = "moto.stepfunctions.parser"
_ROOT_ENV = "_idle_reaper_root_env"
_HISTORY_FULL = "_idle_reaper_history_full"
_HISTORY_LOCK = threading.RLock()
# moto's own pattern for a Wait timestamp (kept, so no string passes here that moto refuses).
_WAIT_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


class HistoryLimitReached(Exception):
    """Unwinds the state that tried to record an event past the quota. The execution has
    already failed by then, so whatever catches this on the way up changes nothing."""


def history_events(execution_arn: str) -> int:
    """How many events the execution's history holds now, without copying it (moto's
    GetExecutionHistory deep-copies every event); 0 before the execution has started."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    region, account = execution_arn.split(":")[3:5]
    backend = stepfunctions_parser_backends[account][region]
    execution: Any = backend.describe_execution(execution_arn)  # the parser's, with a worker
    env = execution.exec_worker.env if execution.exec_worker else None
    return 0 if env is None else len(env.event_manager._history_event_list)


_MODULES_WITH_CLIENTS = (
    "asl.component.state.exec.state_task.lambda_eval_utils",
    "asl.component.state.exec.state_task.service.state_task_service_factory",
)


@cache
def _cached_client(region: str, service: str, role_arn: str | None = None) -> Any:
    """The client moto's interpreter would build (no retries, no parameter validation), signed
    with a session of the Task's role (the state machine's, or the Task's Credentials): Step
    Functions calls with that role, so IAM checks it. Without IAM enforcement, moto's own."""
    import boto3
    from botocore.config import Config
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
    from moto.stepfunctions.parser.asl.utils import boto_client

    identities = iam.active()
    if identities is None or role_arn is None:
        return boto_client.boto_client_for(region=region, service=service)
    credentials = identities.role_credentials(role_arn, "local-runtime-states")
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name=region,
        config=Config(
            parameter_validation=False,
            retries={"max_attempts": 0, "total_max_attempts": 1},
            connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
            read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
        ),
        **credentials.client_kwargs(),
    )


def _client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    return _cached_client(region, service, getattr(state_credentials, "role_arn", None))


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
        stack.enter_context(_aws_sdk_error_names(aws_sdk.StateTaskServiceAwsSdk))
        stack.enter_context(_exact_timestamp_waits(clock))
        stack.enter_context(_strict_choice_paths())
        stack.enter_context(_math_random_end_exclusive())
        stack.enter_context(_uncatchable_runtime_errors())
        stack.enter_context(_payload_limits())
        stack.enter_context(_history_quota(worker_cls))
        stack.enter_context(_sfn_parameter_names())
        stack.enter_context(_execution_names())
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


@contextmanager
def _exact_timestamp_waits(clock: VirtualClock) -> Iterator[None]:
    """Timestamp and TimestampPath waits sleep until the timestamp itself, fractions included:
    moto truncates the timestamp to the second and the delta to whole seconds, so from a clock
    on a fractional second (a jittered Retry leaves it there) a wait woke up to a second early.
    Seconds and SecondsPath already sleep their exact seconds (see `wait_interval`)."""
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import (
        Timestamp,
    )

    def wait_until_timestamp(self: Any, env: Any) -> None:
        self.string.eval(env=env)
        text = env.stack.pop()
        when = _wait_timestamp(text)
        if when is None:  # moto's own States.Runtime failure, unchanged
            raise FailureEventException(self._create_failure_event(env, text))
        if when > clock.now():
            clock.sleep_until(when)

    # TimestampPath inherits this from Timestamp; mock restores the inherited method on exit.
    with mock.patch.object(Timestamp, "_eval_body", wait_until_timestamp):
        yield


def _runtime_failure(cause: str) -> Any:
    """An ExecutionFailed event's details (moto's EventDetails): States.Runtime and `cause`."""
    return {"executionFailedEventDetails": {"error": STATES_RUNTIME, "cause": cause}}


def _wait_timestamp(text: Any) -> datetime | None:
    if not isinstance(text, str) or _WAIT_TIMESTAMP.match(text) is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@contextmanager
def _strict_choice_paths() -> Iterator[None]:
    """A Choice rule (at any depth under And, Or, Not) whose Variable is missing from the input
    fails the execution with States.Runtime, except IsPresent. moto treats the missing value as
    not matching, so a Default branch was silently taken instead."""
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_operator_type import (  # noqa: E501
        ComparisonOperatorType,
    )
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_variable import (  # noqa: E501
        ComparisonVariable,
    )
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.variable import (
        NoSuchVariable,
    )

    def compare(self: Any, env: Any) -> None:
        self.variable.eval(env)
        missing = isinstance(env.stack[-1], NoSuchVariable)
        if missing and self.comparison_function.operator_type != ComparisonOperatorType.IsPresent:
            path = self.variable.string_sampler.literal_value
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=StatesErrorNameType.StatesRuntime),
                    event_type=HistoryEventType.ExecutionFailed,
                    event_details=_runtime_failure(CHOICE_PATH_CAUSE.format(path=path)),
                )
            )
        self.comparison_function.eval(env)

    with mock.patch.object(ComparisonVariable, "_eval_body", compare):
        yield


@contextmanager
def _math_random_end_exclusive() -> Iterator[None]:
    """States.MathRandom returns "a random number between the specified start number
    (inclusive) and end number (exclusive)" (Step Functions' intrinsic functions); moto's
    includes the end. Unseeded, it is random here as in AWS."""
    module = importlib.import_module(
        f"{_PARSER}.asl.component.intrinsic.function.statesfunction.math_operations.math_random"
    )

    def eval_body(self: Any, env: Any) -> None:
        self.argument_list.eval(env=env)
        args = env.stack.pop()
        seed = None
        if self.argument_list.size == 3:
            seed = args.pop()
            self._validate_integer_value(seed, "seed")
        end = self._validate_integer_value(args.pop(), "end")
        start = self._validate_integer_value(args.pop(), "start")
        env.stack.append(random.Random(seed).randrange(start, end))

    with mock.patch.object(module.MathRandom, "_eval_body", eval_body):
        yield


@contextmanager
def _uncatchable_runtime_errors() -> Iterator[None]:
    """No Retrier or Catcher matches States.Runtime nor States.DataLimitExceeded, whatever its
    ErrorEquals (moto's States.ALL matches them, so an execution AWS fails went on to a Catch's
    state)."""
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
        ErrorEqualsDecl,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )

    terminal = (
        StatesErrorName(typ=StatesErrorNameType.StatesRuntime),
        StatesErrorName(typ=StatesErrorNameType.StatesStatesDataLimitExceeded),
    )
    original = ErrorEqualsDecl._eval_body

    def error_equals(self: Any, env: Any) -> None:
        if env.stack[-1] in terminal:
            env.stack.pop()
            env.stack.append(False)
            return
        original(self, env)

    with mock.patch.object(ErrorEqualsDecl, "_eval_body", error_equals):
        yield


def payload_bytes(value: Any) -> int:
    """A payload's size as Step Functions counts it: its compact JSON, in UTF-8 bytes (a string
    is counted as it is: an execution's input arrives as text)."""
    text = (
        value
        if isinstance(value, str)
        # a datetime (a timestamp in a service's answer) is an ISO string in the history
        else json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_iso)
    )
    return len(text.encode("utf-8"))


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _within_limit(value: Any) -> bool:
    return payload_bytes(value) <= PAYLOAD_LIMIT_BYTES


@contextmanager
def _payload_limits() -> Iterator[None]:
    """Step Functions' 256 KiB, wherever AWS applies it (PAYLOAD_LIMIT_BYTES)."""
    from moto.stepfunctions.exceptions import ValidationException
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import (
        StateTask,
    )
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original_parameters = StateTask._eval_parameters
    original_start = StepFunctionsParserBackend.start_execution
    limit_error = StatesErrorNameType.StatesStatesDataLimitExceeded

    def eval_parameters(self: Any, env: Any) -> Any:
        parameters = original_parameters(self, env)
        if _within_limit(parameters):
            return parameters
        cause = TASK_INPUT_CAUSE.format(name=self.name)
        details: Any = {"taskFailedEventDetails": {"error": DATA_LIMIT_EXCEEDED, "cause": cause}}
        raise FailureEventException(
            FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=limit_error),
                event_type=HistoryEventType.TaskFailed,
                event_details=details,
            )
        )

    def start_execution(
        self: Any,
        state_machine_arn: str,
        name: Any = None,
        execution_input: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if isinstance(execution_input, str) and not _within_limit(execution_input):
            raise ValidationException(INPUT_TOO_LARGE.format(limit=PAYLOAD_LIMIT_BYTES))
        return original_start(self, state_machine_arn, name, execution_input, *args, **kwargs)

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(StateTask, "_eval_parameters", eval_parameters))
        stack.enter_context(
            mock.patch.object(StepFunctionsParserBackend, "start_execution", start_execution)
        )
        for module in (
            "asl.component.state.state",
            "asl.component.state.exec.state_task.state_task_lambda",
            "asl.component.state.exec.state_task.service.state_task_service",
        ):
            imported = importlib.import_module(f"{_PARSER}.{module}")
            stack.enter_context(mock.patch.object(imported, "is_within_size_quota", _within_limit))
        yield


@contextmanager
def _history_quota(worker_cls: Any) -> Iterator[None]:
    """Fail an execution the way AWS does when its history reaches HISTORY_EVENT_LIMIT: the
    event that would be number HISTORY_EVENT_LIMIT is an ExecutionFailed (States.Runtime)
    instead, nothing more is recorded or run, and no Catch can intervene."""
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    original_environment = worker_cls._get_evaluation_environment
    original_add_event = EventManager.add_event
    original_set_error = Environment.set_error
    # Events that end a failed, stopped or timed-out execution stay whatever their number:
    # the execution ends with them anyway.
    endings = {
        HistoryEventType.ExecutionFailed,
        HistoryEventType.ExecutionAborted,
        HistoryEventType.ExecutionTimedOut,
    }

    def environment(self: Any) -> Any:
        env = original_environment(self)
        setattr(env.event_manager, _ROOT_ENV, env)  # frames share the root's event manager
        return env

    def add_event(self: Any, context: Any, event_type: Any, *args: Any, **kwargs: Any) -> int:
        with _HISTORY_LOCK:
            if getattr(self, _HISTORY_FULL, False):
                return int(context.last_published_event_id)
            limit = HISTORY_EVENT_LIMIT
            if len(self._history_event_list) + 1 < limit or event_type in endings:
                return int(original_add_event(self, context, event_type, *args, **kwargs))
            failure = _runtime_failure(HISTORY_LIMIT_CAUSE.format(limit=limit))
            details = failure["executionFailedEventDetails"]
            event_id = original_add_event(self, context, HistoryEventType.ExecutionFailed, failure)
            root = getattr(self, _ROOT_ENV, None)
            if root is not None:
                original_set_error(root, details)  # and every open frame with it
            setattr(self, _HISTORY_FULL, True)
        if event_type != HistoryEventType.ExecutionSucceeded:  # a state was mid-way: unwind it
            raise HistoryLimitReached(details["cause"])
        return int(event_id)

    def set_error(self: Any, error: Any) -> None:
        if getattr(self.event_manager, _HISTORY_FULL, False):
            return  # the quota failure stands; the unwinding must not restate it
        original_set_error(self, error)

    with ExitStack() as stack:
        stack.enter_context(
            mock.patch.object(worker_cls, "_get_evaluation_environment", environment)
        )
        stack.enter_context(mock.patch.object(EventManager, "add_event", add_event))
        stack.enter_context(mock.patch.object(Environment, "set_error", set_error))
        yield


@contextmanager
def _sfn_parameter_names() -> Iterator[None]:
    """The `states:startExecution` integration takes AWS's PascalCase names (StateMachineArn,
    Input, Name: the Step Functions developer guide, "Start a new AWS Step Functions state
    machine from a running execution") and maps them onto the camelCase API. moto's port
    hands them to botocore unchanged, which refuses them: map them as the service does."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_sfn as sfn,
    )

    original = sfn.StateTaskServiceSfn._normalise_parameters

    def normalise(self: Any, parameters: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        original(self, parameters, *args, **kwargs)
        for key in [k for k in parameters if k[:1].isupper()]:
            parameters[key[0].lower() + key[1:]] = parameters.pop(key)

    with mock.patch.object(sfn.StateTaskServiceSfn, "_normalise_parameters", normalise):
        yield


@contextmanager
def _execution_names() -> Iterator[None]:
    """StartExecution without a name gets a unique one (AWS generates a UUID); moto names it
    `None`, so a second unnamed start would collide with the first."""
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution

    def start_execution(
        self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any
    ) -> Any:
        return original(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    with mock.patch.object(StepFunctionsParserBackend, "start_execution", start_execution):
        yield


@contextmanager
def _aws_sdk_error_names(task_cls: Any) -> Iterator[None]:
    """aws-sdk Task failures named as AWS names them (see above). moto's port names a modeled
    error after botocore's class (`ResourceNotFound` + `Exception`, but `KMSKeyNotAccessibleFault`
    + `Exception`) and the service after a table of two entries (`glue.GlueException`)."""
    from botocore.exceptions import ClientError

    original = task_cls._from_error

    def from_error(self: Any, env: Any, ex: Exception) -> Any:
        if not isinstance(ex, ClientError):
            return original(self, env, ex)
        code = str((ex.response.get("Error") or {}).get("Code") or "")
        service, error = aws_sdk_error(self.resource.api_name, code)
        cause = aws_sdk_cause(service, ex.response)
        return self._get_task_failure_event(env=env, error=error, cause=cause)

    with mock.patch.object(task_cls, "_from_error", from_error):
        yield
