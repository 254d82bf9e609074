"""Lambda functions from template.yaml, run in-process with their own environment.

moto's Docker-free Lambda returns a canned answer; here an invoke runs the real handler,
imported from the function's CodeUri with the layer's package on the path, and its errors
come back the way Lambda reports them (FunctionError plus errorType/errorMessage). A handler
that runs past the function's Timeout fails as Lambda's would, with Sandbox.Timedout.
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import os
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any
from unittest import mock

import freezegun.api

from local_runtime.errors import TemplateError


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    environment: dict[str, str] = field(default_factory=dict)
    timeout: int = 30
    memory: int = 128
    max_retry_attempts: int = 2
    """Asynchronous invocations (EventBridge's) are retried this often, then sent on."""
    max_event_age_seconds: int = 21600
    on_failure: str | None = None
    """Where a failed asynchronous invocation goes (an SQS queue ARN)."""


@dataclass
class Invocation:
    function: str
    event: Any
    result: Any = None
    error: str | None = None


class FunctionTimedOut(Exception):
    """A handler ran past its function's Timeout. Lambda reports it with errorType
    `Sandbox.Timedout` and errorMessage "RequestId: <id> Error: Task timed out after 30.00
    seconds" (https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html
    #troubleshooting-timeouts; the message as Lambda's runtime emulator writes it), and a Task
    fails with that errorType. (Step Functions' bp-lambda-serviceexception page still says
    timeouts surface as Lambda.Unknown; both match States.TaskFailed and States.ALL.) Named so,
    every reporter that prints `type(exc).__name__` (the bus's dead letters too) says so."""


FunctionTimedOut.__name__ = FunctionTimedOut.__qualname__ = "Sandbox.Timedout"


class FakeContext:
    """The attributes of Lambda's context object that Powertools and handlers read."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = "local"
        self.timeout_seconds = spec.timeout
        # Real time, not the virtual clock: the handler runs in real time while the clock is
        # frozen. freezegun fakes time.monotonic, and swaps any module-level reference to it,
        # so read the real one it keeps on its own module, at each call.
        self._deadline = _real_monotonic() + spec.timeout

    def charge(self, seconds: float) -> None:
        """Count time the handler spent without spending it (an SDK retry's backoff)."""
        self._deadline -= max(0.0, seconds)

    def get_remaining_time_in_millis(self) -> int:
        """Counts down from the Timeout as the handler runs, as Lambda's does."""
        return max(0, int((self._deadline - _real_monotonic()) * 1000))

    def timed_out(self) -> FunctionTimedOut | None:
        """Lambda's error if the handler has used up its Timeout, else None."""
        if _real_monotonic() < self._deadline:
            return None
        return self.timeout_error()

    def timeout_error(self) -> FunctionTimedOut:
        """The error Lambda reports for a handler that ran past its Timeout."""
        return FunctionTimedOut(
            f"RequestId: {self.aws_request_id} Error: Task timed out after "
            f"{self.timeout_seconds:.2f} seconds"
        )


class LogStream(io.TextIOBase):
    """Where the handlers' log lines go (CloudWatch Logs, locally): kept, not printed,
    so the runtime's stdout stays the timeline and the summary."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> int:
        if text.strip():
            self.lines.append(text.rstrip("\n"))
        return len(text)


class Functions:
    """Every function of the stack, by name and ARN."""

    def __init__(self) -> None:
        self.logs = LogStream()
        self._specs: dict[str, FunctionSpec] = {}
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self._lock = threading.RLock()
        self.invocations: list[Invocation] = []
        self.current: Invocation | None = None
        """The invocation running now (a sink or mailbox uses it to say what it served)."""
        self.context: FakeContext | None = None
        """Its context: an SDK retry's backoff is charged to its Timeout (`lambda_backend_on`)."""
        self.context_thread: int | None = None
        """The thread it runs on: only a backoff slept there is the handler's."""
        self.faults: dict[str, list[str]] = {}
        """Function logical id -> how its next invocations fail (`raise`, `timeout`): faults."""
        self.on_fault: Callable[[str, str], None] | None = None
        """Told (function logical id, `raise` or `timeout`) as a fault fails an invocation."""

    def add(self, spec: FunctionSpec) -> None:
        self._specs[spec.name] = spec
        self._specs[spec.arn] = spec
        self._specs[spec.logical_id] = spec

    def spec(self, name_or_arn: str) -> FunctionSpec | None:
        return self._specs.get(name_or_arn) or self._specs.get(name_or_arn.split(":function:")[-1])

    def replace(self, logical_id: str, handler: Callable[[Any, Any], Any]) -> None:
        """Stand a test double in for one function (to script answers the real one cannot give)."""
        spec = self._specs[logical_id]
        self._handlers[spec.name] = handler

    def fail_next(self, logical_id: str, mode: str, count: int) -> None:
        """Make the function's next `count` invocations raise (`raise`: an unhandled
        RuntimeError) or run past its Timeout (`timeout`), without running the handler."""
        if mode not in ("raise", "timeout"):
            raise ValueError(f"a function fault raises or times out, not {mode!r}")
        self.faults.setdefault(logical_id, []).extend([mode] * count)

    def _fault(self, spec: FunctionSpec, context: FakeContext) -> None:
        pending = self.faults.get(spec.logical_id)
        if not pending:
            return
        mode = pending.pop(0)
        if self.on_fault is not None:
            self.on_fault(spec.logical_id, mode)
        if mode == "raise":
            raise RuntimeError(f"{spec.logical_id} crashed (scripted fault)")
        raise context.timeout_error()

    def invoke(self, name_or_arn: str, event: Any) -> Any:
        """Run the handler; exceptions propagate (the caller decides how Lambda reports them)."""
        spec = self.spec(name_or_arn)
        if spec is None:
            raise TemplateError(f"no function {name_or_arn!r} in template.yaml")
        handler = self._handler(spec)
        record = Invocation(function=spec.logical_id, event=event)
        self.invocations.append(record)
        with self._lock, _environment(spec.environment), redirect_stdout(self.logs):
            self.current = record
            outer = self.context, self.context_thread
            context = self.context = FakeContext(spec)
            self.context_thread = threading.get_ident()
            try:
                try:
                    self._fault(spec, context)
                    result = handler(json.loads(json.dumps(event)), context)
                except Exception as exc:
                    # Lambda would have stopped the handler at its Timeout, before it raised.
                    late = context.timed_out()
                    if late is None:
                        raise
                    raise late from exc
                # A handler cannot be stopped in-process: it runs to its end, and an answer
                # that came too late is discarded, as Lambda never returns it.
                late = context.timed_out()
                if late is not None:
                    raise late
                record.result = result
            except Exception as exc:
                record.error = f"{type(exc).__name__}: {exc}"
                raise
            finally:
                self.current = None
                self.context, self.context_thread = outer
        return record.result

    def _handler(self, spec: FunctionSpec) -> Callable[[Any, Any], Any]:
        if spec.name not in self._handlers:
            module_name, _, attr = spec.handler.rpartition(".")
            path = spec.code_dir / f"{module_name.replace('.', '/')}.py"
            if not path.is_file():
                raise TemplateError(f"{spec.logical_id}: handler file {path} not found")
            self._detach_earlier_loggers(spec)
            with _environment(spec.environment), redirect_stdout(self.logs):
                module = _load(f"fn_{spec.logical_id}", path)
            self._handlers[spec.name] = getattr(module, attr)
        return self._handlers[spec.name]

    def _detach_earlier_loggers(self, spec: FunctionSpec) -> None:
        """Each Lambda has its own process; here they share one. Powertools attaches its
        handler to the service's logger once, so a logger left by an earlier account would
        keep writing to that account's log: detach it, and this account's gets its own."""
        service = spec.environment.get("POWERTOOLS_SERVICE_NAME", "service_undefined")
        existing = logging.Logger.manager.loggerDict.get(service)
        handlers = getattr(existing, "handlers", [])
        if any(getattr(h, "stream", None) is not self.logs for h in handlers):
            del logging.Logger.manager.loggerDict[service]  # the next Logger() starts afresh


def lambda_error_payload(exc: BaseException) -> bytes:
    """What Lambda returns for an unhandled exception (a timeout carries no stack trace)."""
    if isinstance(exc, FunctionTimedOut):
        return json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}).encode()
    return json.dumps(
        {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "stackTrace": traceback.format_tb(exc.__traceback__),
        }
    ).encode()


@contextmanager
def lambda_backend_on(functions: Functions) -> Iterator[None]:
    """Route moto Lambda's Invoke to the in-process handlers."""
    from moto.awslambda.models import LambdaBackend

    original = LambdaBackend.invoke

    def invoke(
        self: Any,
        function_name: str,
        qualifier: Any,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> Any:
        if functions.spec(function_name) is None:
            return original(self, function_name, qualifier, body, headers, response_headers)
        event = json.loads(body) if body else {}
        try:
            payload = json.dumps(functions.invoke(function_name, event)).encode()
        except Exception as exc:
            response_headers["x-amz-function-error"] = "Unhandled"
            payload = lambda_error_payload(exc)
        response_headers["Content-Length"] = str(len(payload))
        return payload

    def backoff(seconds: float) -> None:
        """botocore's retry backoff: inside a handler, charged to its Timeout, not slept (the
        virtual clock stands still while a handler runs, so no emulated moment moves); outside
        one (the runtime's own clients), not slept either."""
        context = functions.context
        if context is not None and functions.context_thread == threading.get_ident():
            context.charge(seconds)

    with (
        mock.patch.object(LambdaBackend, "invoke", invoke),
        mock.patch("botocore.endpoint.time", SimpleNamespace(sleep=backoff)),
    ):
        yield


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TemplateError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _real_monotonic() -> float:
    return float(freezegun.api.real_monotonic())


@contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    """The function's variables in os.environ for the block, and os.environ as it was after it
    (what `mock.patch.dict(os.environ, variables)` leaves, see `restore_environ`)."""
    before = os.environ.copy()
    os.environ.update(variables)
    try:
        yield
    finally:
        restore_environ(before)


def restore_environ(before: dict[str, str]) -> None:
    """os.environ back to `before`, keys in the same order, as `mock.patch.dict` restores it:
    it empties os.environ (an unsetenv per variable) and sets every variable again, on every
    invocation. Where every earlier variable is still there in its order, only the variables
    added are removed and only the values changed are set back: the same mapping, the same
    order. Otherwise (a variable deleted, say) it is emptied and refilled as patch.dict does."""
    environ = os.environ
    now = environ.copy()
    if [key for key in now if key in before] == list(before):
        for key in now:
            if key not in before:
                del environ[key]
        for key, value in before.items():
            if now[key] != value:
                environ[key] = value
        return
    environ.clear()
    environ.update(before)
