"""Faults a scenario throws at the system (`faults:`), each at its moment on the virtual clock.

Four sorts, told apart by the key that names what fails:
- `service`: an AWS API call fails. `errors: [A, B]` makes the next calls of the operation fail
  with A, then B, then succeed; `outage: 3h` makes every call fail for that long (with `error`,
  default the service's own 5xx). The answer is the one the service sends: its HTTP status
  (400 for a throttle, 500 for a server fault) and a JSON error body, put in front of moto at
  botocore's `before-send`, so every caller (a handler's boto3 client with its standard retries,
  Step Functions' aws-sdk and DynamoDB tasks with their ASL Retry) meets it as it would in AWS.
  `table:` (DynamoDB, a table's logical id) and `resource:` (a Glue session) narrow it.
- `function`: a Lambda function of the template raises (`raise: N`, an unhandled RuntimeError)
  or runs past its Timeout (`timeout: N`, Sandbox.Timedout) on its next N invocations.
- `delete`: the user deletes the resource (Glue's DeleteSession) at that moment.
- `event`: a malformed, truncated, foreign or huge event is put on the default bus and on the
  reaper's bus (`resource:` makes it that resource's own start event, damaged so).

Every name is checked before anything runs: a service the runtime cannot fault, an operation or
an error code botocore's model of the service does not know, a function or table the template
does not declare, a resource the scenario does not name: each is a one-line ScenarioError.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, partial
from typing import TYPE_CHECKING, Any, Literal

from idle_reaper.times import to_iso
from local_runtime import scenario as scenarios
from local_runtime.errors import ScenarioError

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest, AWSResponse

    from local_runtime.runtime import Account
    from local_runtime.scenario import ResourceSpec, Scenario

EventDamage = Literal["malformed", "truncated", "foreign", "huge"]
EVENT_DAMAGES: tuple[EventDamage, ...] = ("malformed", "truncated", "foreign", "huge")
FunctionMode = Literal["raise", "timeout"]
MAX_FAULTY_CALLS = 100
"""`errors:` lists at most this many answers; a longer failure is an `outage:`."""
MAX_FAULTY_INVOCATIONS = 100

FAULTABLE_SERVICES = ("glue", "dynamodb", "events", "sagemaker")
"""boto3 services the runtime calls whose errors it can answer as AWS does: all speak AWS's JSON
protocol, whose error is a JSON body `{"__type": <code>, "message": ...}` with the HTTP status
(botocore reads the code from `__type`). EC2 (XML errors) and Lambda (REST-JSON, the code in a
header) are not faulted here."""

COMMON_ERRORS: dict[str, int] = {
    "AccessDeniedException": 400,
    "IncompleteSignature": 400,
    "InternalFailure": 500,
    "InvalidAction": 400,
    "InvalidClientTokenId": 403,
    "NotAuthorized": 400,
    "OptInRequired": 403,
    "RequestExpired": 400,
    "ServiceUnavailable": 503,
    "ThrottlingException": 400,
    "ValidationError": 400,
}
"""The errors every AWS API action may return, with their HTTP status: each service's "Common
Errors" page (e.g. https://docs.aws.amazon.com/databrew/latest/dg/CommonErrors.html: "This
section lists the errors common to the API actions of all AWS services"; ThrottlingException
400, InternalFailure 500, ServiceUnavailable 503). Glue's own throttle is this
ThrottlingException, "Rate exceeded (Service: AWSGlue; Status Code: 400; Error Code:
ThrottlingException ...)" (https://repost.aws/knowledge-center/glue-throttling-rate-exceeded)."""

SERVER_ERRORS: dict[tuple[str, str], int] = {
    ("glue", "InternalServiceException"): 500,
    ("dynamodb", "InternalServerError"): 500,
    ("events", "InternalException"): 500,
    ("sagemaker", "InternalFailure"): 500,
}
"""Modelled errors that are the service's own fault: HTTP 500. botocore's JSON models carry no
status for them; the Smithy models AWS publishes do: Glue's InternalServiceException is
`"smithy.api#error": "server"` (aws/api-models-aws, models/glue/service/2017-03-31), and a
server error without `httpError` is 500 in Smithy; DynamoDB's InternalServerError and
EventBridge's InternalException are "HTTP Status Code: 500" in their API references. Every other
modelled error is a client error: 400 (or the `httpStatusCode` the botocore model gives)."""

OUTAGE_ERRORS = {
    "glue": "InternalServiceException",
    "dynamodb": "InternalServerError",
    "events": "InternalException",
    "sagemaker": "InternalFailure",
}
"""What a service answers during an `outage:` unless the fault names an `error`."""

MESSAGES = {"ThrottlingException": "Rate exceeded"}

_API_KEYS = {"at", "service", "operation", "errors", "outage", "error", "table", "resource"}
_FUNCTION_KEYS = {"at", "function", "raise", "timeout"}
_DELETE_KEYS = {"at", "resource", "delete"}
_EVENT_KEYS = {"at", "event", "resource", "as"}
Sender = Literal["outsider", "watcher"]
SENDERS: tuple[Sender, ...] = ("outsider", "watcher")


@dataclass(frozen=True)
class ApiFault:
    """Calls of one operation fail: the next ones with `errors`, or every one for `outage`."""

    at: timedelta
    service: str
    operation: str
    errors: tuple[str, ...] = ()
    outage: timedelta | None = None
    table: str | None = None
    """DynamoDB: only calls on this table (the template's logical id)."""
    resource: str | None = None
    """Glue: only calls naming this session (`Id` or `SessionId`)."""


@dataclass(frozen=True)
class FunctionFault:
    """A function's next `count` invocations raise, or run past its Timeout."""

    at: timedelta
    function: str
    mode: FunctionMode
    count: int


@dataclass(frozen=True)
class DeleteFault:
    """The user deletes the resource."""

    at: timedelta
    resource: str


@dataclass(frozen=True)
class EventFault:
    """A damaged event on both buses; with `resource`, that resource's start event."""

    at: timedelta
    event: EventDamage
    resource: str | None = None
    sender: Sender = "outsider"
    """Who puts it on the reaper's bus: someone in the account (`outsider`, whom the bus
    policy refuses) or the watcher's own role (`watcher`: a watcher gone wrong)."""


Fault = ApiFault | FunctionFault | DeleteFault | EventFault


# -- parsing -------------------------------------------------------------------------------------
def parse(
    value: Any, where: str, resources: Sequence[ResourceSpec], until: timedelta
) -> tuple[Fault, ...]:
    """The scenario's `faults:` list, every name checked against botocore, the template and the
    scenario's resources, every moment inside the run."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ScenarioError(f"{where}: must be a list")
    kinds = {spec.id: spec.kind for spec in resources}
    created = {spec.id: spec.at for spec in resources}
    out = []
    for i, raw in enumerate(value):
        fault = _fault(raw, f"{where}[{i}]", kinds)
        if fault.at >= until:
            raise ScenarioError(
                f"{where}[{i}].at: {scenarios.human(fault.at)} never comes:"
                f" the run ends at {scenarios.human(until)}"
            )
        named = fault.resource if isinstance(fault, DeleteFault | EventFault) else None
        if named is not None and fault.at < created[named]:
            raise ScenarioError(
                f"{where}[{i}].at: {scenarios.human(fault.at)} is before {named} is created"
                f" ({scenarios.human(created[named])})"
            )
        out.append(fault)
    return tuple(out)


def _fault(raw: Any, where: str, kinds: Mapping[str, str]) -> Fault:
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{where}: must be a mapping")
    for key, allowed in (
        ("service", _API_KEYS),
        ("function", _FUNCTION_KEYS),
        ("delete", _DELETE_KEYS),
        ("event", _EVENT_KEYS),
    ):
        if key in raw:
            item = scenarios.mapping(raw, where, allowed)
            if "at" not in item:
                raise ScenarioError(f"{where}: needs `at` (when the fault begins)")
            at = scenarios.duration(item["at"], f"{where}.at")
            if key == "service":
                return _api_fault(item, where, at, kinds)
            if key == "function":
                return _function_fault(item, where, at)
            if key == "delete":
                return _delete_fault(item, where, at, kinds)
            return _event_fault(item, where, at, kinds)
    raise ScenarioError(f"{where}: needs one of `service`, `function`, `delete` or `event`")


def _api_fault(
    item: Mapping[str, Any], where: str, at: timedelta, kinds: Mapping[str, str]
) -> ApiFault:
    service, operation = item["service"], item.get("operation")
    if service not in FAULTABLE_SERVICES:
        raise ScenarioError(
            f"{where}.service: {str(service)[:40]!r} cannot be faulted"
            f" (one of {', '.join(FAULTABLE_SERVICES)})"
        )
    if not isinstance(operation, str) or operation not in _operations(service):
        raise ScenarioError(
            f"{where}.operation: {str(operation)[:60]!r} is not a {service} operation"
            " (botocore's model of the service, e.g. GetSession)"
        )
    if ("errors" in item) == ("outage" in item):
        raise ScenarioError(f"{where}: needs `errors` (the next calls) or `outage`, one of them")
    table, resource = item.get("table"), item.get("resource")
    tables = template_names("AWS::DynamoDB::Table")
    if table is not None and (service != "dynamodb" or table not in tables):
        raise ScenarioError(
            f"{where}.table: {str(table)[:60]!r} is not a DynamoDB table of template.yaml"
            f" (one of {', '.join(sorted(tables))})"
        )
    if resource is not None and (service != "glue" or kinds.get(resource) != "glue-session"):
        raise ScenarioError(
            f"{where}.resource: {str(resource)[:60]!r} is not a glue-session of this scenario"
        )
    if "outage" in item:
        outage = scenarios.duration(item["outage"], f"{where}.outage")
        if outage <= timedelta(0):
            raise ScenarioError(f"{where}.outage: an outage lasts longer than 0s")
        error = item.get("error", OUTAGE_ERRORS[service])
        _check_code(service, operation, error, f"{where}.error")
        return ApiFault(at, service, operation, (error,), outage, table, resource)
    if "error" in item:
        raise ScenarioError(f"{where}.error: goes with `outage`; list the next calls' `errors`")
    errors = item["errors"]
    if not isinstance(errors, list) or not 1 <= len(errors) <= MAX_FAULTY_CALLS:
        raise ScenarioError(f"{where}.errors: a list of 1 to {MAX_FAULTY_CALLS} error codes")
    for i, code in enumerate(errors):
        _check_code(service, operation, code, f"{where}.errors[{i}]")
    return ApiFault(at, service, operation, tuple(errors), None, table, resource)


def _check_code(service: str, operation: str, code: Any, where: str) -> None:
    if not isinstance(code, str) or status_of(service, operation, code) is None:
        declared = ", ".join(sorted(_declared(service, operation)))
        raise ScenarioError(
            f"{where}: {str(code)[:60]!r} is neither an error {service} {operation} declares"
            f" ({declared}) nor a common AWS error (ThrottlingException, InternalFailure,"
            " ServiceUnavailable, ...)"
        )


def _function_fault(item: Mapping[str, Any], where: str, at: timedelta) -> FunctionFault:
    function = item["function"]
    functions = template_names("AWS::Serverless::Function")
    if function not in functions:
        raise ScenarioError(
            f"{where}.function: {str(function)[:60]!r} is not a function of template.yaml"
            f" (one of {', '.join(sorted(functions))})"
        )
    if ("raise" in item) == ("timeout" in item):
        raise ScenarioError(f"{where}: needs `raise: N` or `timeout: N`, one of them")
    mode: FunctionMode = "raise" if "raise" in item else "timeout"
    count = scenarios.whole(item[mode], f"{where}.{mode}", 1, MAX_FAULTY_INVOCATIONS)
    return FunctionFault(at, str(function), mode, count)


def _delete_fault(
    item: Mapping[str, Any], where: str, at: timedelta, kinds: Mapping[str, str]
) -> DeleteFault:
    if item["delete"] is not True:
        raise ScenarioError(f"{where}.delete: must be `true`")
    resource = item.get("resource")
    if not isinstance(resource, str) or kinds.get(resource) != "glue-session":
        raise ScenarioError(
            f"{where}.resource: {str(resource)[:60]!r} is not a glue-session of this scenario"
            " (only Glue sessions can be deleted by a fault)"
        )
    return DeleteFault(at, resource)


def _event_fault(
    item: Mapping[str, Any], where: str, at: timedelta, kinds: Mapping[str, str]
) -> EventFault:
    damage = item["event"]
    if damage not in EVENT_DAMAGES:
        known = ", ".join(EVENT_DAMAGES)
        raise ScenarioError(f"{where}.event: {str(damage)[:40]!r} is not one of {known}")
    resource = item.get("resource")
    if resource is not None and kinds.get(resource) != "glue-session":
        raise ScenarioError(
            f"{where}.resource: {str(resource)[:60]!r} is not a glue-session of this scenario"
        )
    sender = item.get("as", "outsider")
    if sender not in SENDERS:
        raise ScenarioError(f"{where}.as: {str(sender)[:40]!r} is not {' or '.join(SENDERS)}")
    return EventFault(at, damage, resource, sender)


# -- what AWS answers ----------------------------------------------------------------------------
@cache
def _model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


@cache
def _operations(service: str) -> frozenset[str]:
    return frozenset(_model(service).operation_names)


@cache
def _declared(service: str, operation: str) -> dict[str, int]:
    """Each error the operation declares, with its HTTP status."""
    out: dict[str, int] = {}
    for shape in _model(service).operation_model(operation).error_shapes:
        code = str((shape.metadata.get("error") or {}).get("code") or shape.name)
        status = (shape.metadata.get("error") or {}).get("httpStatusCode")
        out[code] = int(status) if status else SERVER_ERRORS.get((service, code), 400)
    return out


def status_of(service: str, operation: str, code: str) -> int | None:
    """The HTTP status AWS answers `code` with for this operation; None: not an error it sends."""
    declared = _declared(service, operation)
    if code in declared:
        return declared[code]
    return COMMON_ERRORS.get(code)


@cache
def template_names(cfn_type: str) -> frozenset[str]:
    """Logical ids of template.yaml's resources of a type (before the SAM transform)."""
    from local_runtime import stack
    from local_runtime.runtime import TEMPLATE

    resources = stack.read(TEMPLATE).get("Resources") or {}
    return frozenset(str(k) for k, v in resources.items() if v.get("Type") == cfn_type)


@cache
def _event_prefix(service: str) -> str:
    """botocore's name for the service in its event names (`before-send.<this>.<Operation>`)."""
    return str(_model(service).service_id.hyphenize())


# -- the run -------------------------------------------------------------------------------------
@dataclass
class _Rule:
    fault: ApiFault
    pending: list[str]
    until: datetime | None = None
    """Outage: the moment the service answers again."""
    table_name: str | None = None


@dataclass
class Injector:
    """The faults armed now, and every call answered with one."""

    account: Account
    rules: list[_Rule] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    """What failed, when: each faulted call, invocation, deletion and damaged event (the
    summary's `faults`)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, **what: Any) -> None:
        with self._lock:
            self.log.append({"at": to_iso(self.account.clock.now()), **what})

    def arm(self, fault: ApiFault) -> None:
        now = self.account.clock.now()
        table = self.account.stack.physical_name(fault.table) if fault.table is not None else None
        rule = _Rule(fault, list(fault.errors), now + fault.outage if fault.outage else None, table)
        with self._lock:
            self.rules.append(rule)

    def answer(self, event_name: str, request: AWSPreparedRequest) -> AWSResponse | None:
        """The error response for this call if a fault is armed for it, else None (moto answers)."""
        parts = event_name.split(".")
        if len(parts) != 3 or not self.rules:
            return None
        _, service_id, operation = parts
        with self._lock:
            for rule in self.rules:
                fault = rule.fault
                if _event_prefix(fault.service) != service_id or fault.operation != operation:
                    continue
                if not _concerns(rule, request):
                    continue
                code = self._take(rule)
                if code is None:
                    continue
                status = status_of(fault.service, operation, code) or 400
                self.log.append(
                    {
                        "at": to_iso(self.account.clock.now()),
                        "service": fault.service,
                        "operation": operation,
                        "error": code,
                        "status": status,
                    }
                )
                return _error_response(request, status, code, operation)
        return None

    def _take(self, rule: _Rule) -> str | None:
        if rule.until is not None:
            return rule.pending[0] if self.account.clock.now() < rule.until else None
        return rule.pending.pop(0) if rule.pending else None


def _concerns(rule: _Rule, request: AWSPreparedRequest) -> bool:
    """The call is one the fault is narrowed to (its table, its session), or it is not narrowed."""
    if rule.table_name is None and rule.fault.resource is None:
        return True
    raw = request.body
    try:
        body = json.loads(raw if isinstance(raw, str | bytes | bytearray) else b"{}")
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    if rule.table_name is not None and body.get("TableName") != rule.table_name:
        return False
    resource = rule.fault.resource
    return resource is None or resource in (body.get("Id"), body.get("SessionId"))


def _error_response(
    request: AWSPreparedRequest, status: int, code: str, operation: str
) -> AWSResponse:
    """A JSON-protocol service's error answer, as botocore parses it (code from `__type`)."""
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse

    message = MESSAGES.get(code, f"{operation} failed: {code} (scripted fault)")
    body = json.dumps({"__type": code, "message": message})
    headers = {
        "x-amzn-RequestId": str(uuid.uuid4()),
        "Content-Type": "application/x-amz-json-1.1",
        "Content-Length": str(len(body)),
    }
    return AWSResponse(request.url, status, headers, MockRawResponse(body))  # type: ignore[arg-type]


@contextmanager
def injected(account: Account, scenario: Scenario) -> Iterator[Injector]:
    """Answer faulted calls in front of moto for the block, and put the scenario's faults on
    the clock."""
    from moto.core.botocore_stubber import BotocoreStubber

    injector = Injector(account)
    account.functions.on_fault = lambda function, mode: injector.note(function=function, fault=mode)
    original = BotocoreStubber.__call__

    def call(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        if self.enabled:
            answered = injector.answer(event_name, request)
            if answered is not None:
                return answered
        return original(self, event_name, request, **kwargs)

    from unittest import mock

    with mock.patch.object(BotocoreStubber, "__call__", call):
        for fault in scenario.faults:
            when = scenario.start + fault.at
            begin = partial(_begin, account, injector, fault)
            if isinstance(fault, ApiFault | FunctionFault):
                account.clock.at(when, begin)  # armed before anything else due then
            else:  # after anything else due then: a resource created then exists first
                account.clock.at(when, partial(account.clock.at, when, begin))
        yield injector


def _begin(account: Account, injector: Injector, fault: Fault) -> None:
    """The fault happens now."""
    if isinstance(fault, ApiFault):
        injector.arm(fault)
    elif isinstance(fault, FunctionFault):
        account.functions.fail_next(fault.function, fault.mode, fault.count)
    elif isinstance(fault, DeleteFault):
        from local_runtime.emulators.glue import GlueEmulator

        glue = account.emulators["glue-session"]
        assert isinstance(glue, GlueEmulator)  # parse took only Glue sessions
        injector.note(deleted=fault.resource, existed=glue.user_delete(fault.resource))
    else:
        from local_runtime import hostile_events

        answer = hostile_events.put(account, fault.event, fault.resource, fault.sender)
        injector.note(event=fault.event, resource=fault.resource, reaper_bus=answer)
