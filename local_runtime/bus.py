"""EventBridge delivery to Step Functions and Lambda targets, which moto does not do.

Rules come from template.yaml (deployed into moto's EventBridge), and matching is moto's own
pattern matcher; this module adds the deliveries, with the target's RetryPolicy (backoff on
the virtual clock) and its dead-letter queue. It also keeps every event the reaper published,
and runs scheduled rules (`rate(...)`), which moto stores but never fires, on the virtual clock.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from unittest import mock

from idle_reaper.kinds import identify
from idle_reaper.times import to_iso
from local_runtime.clock import VirtualClock
from local_runtime.errors import TemplateError
from local_runtime.lambdas import Functions

REAPER_SOURCE = "idle-reaper"
FIRST_RETRY_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300.0
ENABLED_STATES = frozenset({"ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"})
"""Rule states that match events (PutRule's State; anything else, DISABLED, matches none)."""
MAX_SCHEDULE_EXPRESSION = 256
"""PutRule's ScheduleExpression length limit."""
LONGEST_EMULATED_PERIOD = timedelta(days=3660)
"""A rate longer than this never fires within any run (scenarios last at most a year): the
rule is deployed but no timer is armed, so no absurd value overflows the clock."""
_RATE = re.compile(r"rate\((\d{1,12}) (minute|minutes|hour|hours|day|days)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
SCHEDULED_DETAIL_TYPE = "Scheduled Event"
SCHEDULED_SOURCE = "aws.events"


def schedule_period(expression: Any) -> timedelta | None:
    """The period of a scheduled rule's `rate(value unit)`, as EventBridge's rate expression
    reference has it: a positive whole value; the unit singular for 1 (`rate(1 hour)`), plural
    otherwise (`rate(5 hours)`). None for a valid rate too long to fire in any run. `cron(...)`
    is refused: the runtime does not emulate cron schedules. One-line TemplateError otherwise."""
    shown = repr(expression)[:60]
    if not isinstance(expression, str) or len(expression) > MAX_SCHEDULE_EXPRESSION:
        raise TemplateError(f"ScheduleExpression {shown} is not a rate(...) expression")
    if expression.startswith("cron("):
        raise TemplateError(
            f"ScheduleExpression {shown}: cron schedules are not emulated locally;"
            " use rate(value unit)"
        )
    match = _RATE.fullmatch(expression)
    if match is None:
        raise TemplateError(
            f"ScheduleExpression {shown} is not rate(value unit)"
            " (unit minute|minutes|hour|hours|day|days)"
        )
    value, unit = int(match[1]), match[2]
    if value == 0:
        raise TemplateError(f"ScheduleExpression {shown}: the value must be positive")
    if (value == 1) != (not unit.endswith("s")):
        raise TemplateError(
            f"ScheduleExpression {shown}: the unit is singular for 1 and plural otherwise"
        )
    seconds = value * _UNIT_SECONDS[unit.removesuffix("s")]
    if seconds > LONGEST_EMULATED_PERIOD.total_seconds():
        return None
    return timedelta(seconds=seconds)


def scheduled_event(rule_arn: str, account: str, region: str, at: datetime) -> dict[str, Any]:
    """The event a scheduled rule sends its targets, in EventBridge's shape."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": SCHEDULED_DETAIL_TYPE,
        "source": SCHEDULED_SOURCE,
        "account": account,
        "time": to_iso(at),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def _enabled(rule: Any) -> bool:
    return rule.state in ENABLED_STATES


def _matches_events(rule: Any) -> bool:
    """An enabled pattern rule: a scheduled rule has no pattern (moto's empty pattern would
    match everything) and is only ever fired by its schedule."""
    return _enabled(rule) and not rule.scheduled_expression


@dataclass
class Published:
    """One event the watcher put on the bus."""

    at: datetime
    detail_type: str
    detail: dict[str, Any]

    @property
    def resource_id(self) -> str | None:
        """The resource it is about; a failure before any verdict names it by the start
        event it carries."""
        return watched_id(self.detail)


@dataclass
class Started:
    execution_arn: str
    state_machine_arn: str
    event: dict[str, Any]
    """The execution's input: the start event wrapped by the rule's InputTransformer."""
    at: datetime

    @property
    def resource_id(self) -> str | None:
        return watched_id(self.event)


def watched_id(state: Any) -> str | None:
    """The resource id a watcher input or a reaper event's detail names: its `resource`,
    else the start `event` it carries (else the object itself, a bare start event): a kind's
    start event, or the event a sweep writes for a resource it found (its own `resource`)."""
    if not isinstance(state, dict):
        return None
    start = state.get("event", state)
    for holder in (state, start):
        resource = holder.get("resource") if isinstance(holder, dict) else None
        if isinstance(resource, dict) and isinstance(resource.get("id"), str):
            return str(resource["id"])
    found = identify(start) if isinstance(start, dict) else None
    return found[1].id if found else None


RoleClient = Callable[[str, str], Any]
"""(role ARN, boto3 service) -> a client signing as a session of that role."""


class Bus:
    def __init__(
        self,
        clock: VirtualClock,
        functions: Functions,
        sfn: Any,
        sqs: Any,
        as_role: RoleClient | None = None,
    ) -> None:
        self.clock = clock
        self.functions = functions
        self._sfn = sfn
        self._sqs = sqs
        self._as_role = as_role
        """EventBridge starts a Step Functions target with the rule target's RoleArn."""
        self._backend: Any = None
        self.published: list[Published] = []
        self.started: list[Started] = []
        self.dead_letters: list[tuple[str, dict[str, Any], str]] = []
        self.listeners: list[Callable[[str, Any], None]] = []
        self.failing_puts = 0
        """How many of the next PutEvents entries EventBridge rejects (scripted fault)."""
        self.deliveries = 1
        """Copies of each matched event every target gets (EventBridge is at-least-once)."""
        self._injecting = threading.local()
        """Set on the thread putting a scenario's damaged events (`inject`) while it does: a
        watcher publishing at that moment, on its own thread, is still counted."""

    def put(self, event: dict[str, Any]) -> None:
        """Deliver a fully formed event (a CloudTrail record, a native state change)."""
        envelope = {**event, "ingestion-time": self.clock.now().timestamp()}
        rules = [r for r in self._backend.event_buses["default"].rules.values()]
        rules = [r for r in rules if _matches_events(r)]
        if not any(rule.event_pattern.matches_event(envelope) for rule in rules):
            self._tell("unmatched", event)
        for rule in rules:
            rule.send_to_targets(envelope)

    def inject(self, events: Any, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """PutEvents with the `events` client given (a scenario's fault): checked, delivered
        and answered like any call (the answer's entries are returned), but never counted among
        the events the watcher published. A refused call raises as boto3 raises it."""
        self._injecting.active = True
        try:
            answer = events.put_events(Entries=entries)
        finally:
            self._injecting.active = False
        return list(answer["Entries"])

    def arm_schedules(self) -> None:
        """Start the clock on every enabled scheduled rule of the default bus (the only bus
        that takes them): "a rate expression starts when you create the scheduled event
        rule", so its first event is one period after now (the deployment), then one each
        period. One timer per rule, re-armed as it fires; the clock runs it only until the
        run ends, and never counts it as pending work (`VirtualClock.next_due`)."""
        for rule in list(self._backend.event_buses["default"].rules.values()):
            if not rule.scheduled_expression or not _enabled(rule):
                continue
            period = schedule_period(rule.scheduled_expression)
            if period is not None:
                self._arm(rule.name, rule.scheduled_expression, self.clock.now() + period, period)

    def _arm(self, name: str, expression: str, when: datetime, period: timedelta) -> None:
        self.clock.at(when, partial(self._tick, name, expression, period), recurring=True)

    def _tick(self, name: str, expression: str, period: timedelta) -> None:
        """One scheduled firing: the Scheduled Event to each target, as a matched event is
        delivered (asynchronous Lambda invoke, retry policy, dead-letter queue, input
        transformer). A rule deleted or rescheduled since ends this timer; one disabled since
        sends nothing but keeps its phase, should it be enabled again."""
        rule = self._backend.event_buses["default"].rules.get(name)
        if rule is None or rule.scheduled_expression != expression:
            return
        now = self.clock.now()
        self._arm(name, expression, now + period, period)
        if not _enabled(rule):
            return
        event = scheduled_event(rule.arn, rule.account_id, rule.region_name, now)
        self._tell("scheduled", event)
        for target in rule.targets:
            if _delivered_here(target["Arn"]):
                for _ in range(self.deliveries):
                    self._deliver({**target, "_rule": rule.arn}, event, 0)

    def _deliver(self, target: dict[str, Any], event: dict[str, Any], attempt: int) -> None:
        arn: str = target["Arn"]
        payload = _target_input(target, event)
        try:
            if ":states:" in arn:
                role = target.get("RoleArn")
                sfn = self._as_role(role, "stepfunctions") if role and self._as_role else self._sfn
                # Compact JSON, as EventBridge writes a target's input (its size is what
                # StartExecution's 256 KiB limit counts).
                started = sfn.start_execution(
                    stateMachineArn=arn,
                    name=str(uuid.uuid4()),
                    input=json.dumps(payload, separators=(",", ":")),
                )
                self.started.append(
                    Started(started["executionArn"], arn, payload, self.clock.now())
                )
                self._tell("started", self.started[-1])
            elif ":lambda:" in arn:
                if self.functions.spec(arn) is None:
                    raise LookupError(f"no function {arn}")
                # EventBridge invokes Lambda asynchronously: Lambda queues the event and runs
                # it after the caller (maybe a watcher's PutEvents) has moved on.
                self.clock.at(self.clock.now(), partial(self._invoke_async, arn, payload, 0))
            else:
                return
        except Exception as exc:
            self._failed(target, event, attempt, exc)

    def _invoke_async(self, arn: str, event: dict[str, Any], attempt: int) -> None:
        """Lambda's asynchronous invocation: retried (1, then 2 minutes later) as the
        function's EventInvokeConfig allows, then sent to its on-failure destination."""
        try:
            self.functions.invoke(arn, event)
            return
        except Exception as exc:
            error = exc
        spec = self.functions.spec(arn)
        assert spec is not None  # checked when the event was delivered
        retry_at = self.clock.now() + timedelta(minutes=attempt + 1)
        sent = _event_time(event)
        age_ok = sent is None or (retry_at - sent).total_seconds() <= spec.max_event_age_seconds
        if attempt < spec.max_retry_attempts and age_ok:
            self.clock.at(retry_at, partial(self._invoke_async, arn, event, attempt + 1))
            return
        reason = f"{type(error).__name__}: {error}"
        self.dead_letters.append((arn, event, reason))
        self._tell("dead-letter", (arn, event, reason))
        if spec.on_failure:
            record = {
                "version": "1.0",
                "timestamp": self.clock.now().isoformat(),
                "requestContext": {
                    "functionArn": f"{arn}:$LATEST",
                    "condition": "RetriesExhausted",
                    "approximateInvokeCount": attempt + 1,
                },
                "requestPayload": event,
                "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
                "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)},
            }
            self._send_to_queue(spec.on_failure, json.dumps(record), {})

    def _failed(
        self, target: dict[str, Any], event: dict[str, Any], attempt: int, exc: Exception
    ) -> None:
        policy = target.get("RetryPolicy") or {}
        max_attempts = int(policy.get("MaximumRetryAttempts", 185))
        max_age = timedelta(seconds=int(policy.get("MaximumEventAgeInSeconds", 86400)))
        backoff = min(FIRST_RETRY_SECONDS * 2**attempt, MAX_BACKOFF_SECONDS)
        retry_at = self.clock.now() + timedelta(seconds=backoff)
        sent = _event_time(event)
        if attempt < max_attempts and (sent is None or retry_at - sent <= max_age):
            self.clock.at(retry_at, lambda: self._deliver(target, event, attempt + 1))
            return
        reason = f"{type(exc).__name__}: {exc}"
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
        self.dead_letters.append((target["Arn"], event, reason))
        self._tell("dead-letter", (target["Arn"], event, reason))
        if dlq:
            attributes = {
                "ERROR_CODE": type(exc).__name__,
                "ERROR_MESSAGE": str(exc)[:256],
                "RULE_ARN": target.get("_rule", ""),
                "TARGET_ARN": target["Arn"],
            }
            self._send_to_queue(dlq, json.dumps(event), attributes)

    def _send_to_queue(self, queue_arn: str, body: str, attributes: dict[str, str]) -> None:
        url = self._sqs.get_queue_url(QueueName=queue_arn.split(":")[-1])["QueueUrl"]
        self._sqs.send_message(
            QueueUrl=url,
            MessageBody=body,
            MessageAttributes={
                k: {"DataType": "String", "StringValue": v or "-"} for k, v in attributes.items()
            },
        )

    def _tell(self, what: str, data: Any) -> None:
        for listener in self.listeners:
            listener(what, data)

    @contextmanager
    def on(self, backend: Any) -> Iterator[None]:
        """Hook moto's EventBridge: record the reaper's events, deliver to SFN and Lambda."""
        from moto.events.models import EventsBackend, Rule

        self._backend = backend
        bus = self
        original_send = Rule.send_to_targets
        original_put = EventsBackend.put_events

        def send_to_targets(rule: Any, event: Any, transform_input: bool = True) -> None:
            if not _matches_events(rule):  # moto's PutEvents asks disabled and scheduled ones
                return
            ours = [t for t in rule.targets if _delivered_here(t["Arn"])]
            if len(ours) < len(rule.targets):
                original_send(rule, event, transform_input)  # moto's own: SQS, logs, buses
            if ours and rule.event_pattern.matches_event(event):
                for target in ours:
                    for _ in range(bus.deliveries):
                        bus._deliver({**target, "_rule": rule.arn}, event, 0)

        def put_events(backend: Any, events: list[dict[str, Any]]) -> Any:
            if bus.failing_puts > 0:
                bus.failing_puts -= 1
                return [{"ErrorCode": "InternalFailure", "ErrorMessage": "scripted fault"}]
            for entry in events:
                injected = getattr(bus._injecting, "active", False)
                if entry.get("Source") == REAPER_SOURCE and not injected:
                    record = Published(
                        bus.clock.now(), entry["DetailType"], json.loads(entry["Detail"])
                    )
                    bus.published.append(record)
                    bus._tell("published", record)
            return original_put(backend, events)

        with ExitStack() as stack:
            stack.enter_context(mock.patch.object(Rule, "send_to_targets", send_to_targets))
            stack.enter_context(mock.patch.object(EventsBackend, "put_events", put_events))
            yield


def _delivered_here(arn: str) -> bool:
    return ":states:" in arn or ":lambda:" in arn


def _target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """What the target receives: its constant Input, its InputTransformer's output, else the
    event as EventBridge sends it: without moto's internal ingestion-time, and with `time`
    in ISO-8601 as AWS writes it (moto writes epoch seconds)."""
    if "Input" in target:
        return json.loads(target["Input"])
    out = {k: v for k, v in event.items() if k != "ingestion-time"}
    if isinstance(out.get("time"), int | float):
        out["time"] = to_iso(datetime.fromtimestamp(out["time"], UTC))
    transformer = target.get("InputTransformer")
    if transformer:
        return _transformed(transformer, out, event.get("ingestion-time"))
    return out


def _transformed(transformer: dict[str, Any], event: dict[str, Any], ingested: Any) -> Any:
    """EventBridge's input transformer: `<name>` in InputTemplate takes the value of its
    InputPathsMap path, and the predefined `<aws.events.event.json>` the whole event."""
    from jsonpath_ng.ext import parse  # type: ignore[attr-defined]

    values: dict[str, str] = {"aws.events.event.json": json.dumps(event)}
    if isinstance(ingested, int | float):
        values["aws.events.event.ingestion-time"] = json.dumps(
            to_iso(datetime.fromtimestamp(ingested, UTC))
        )
    for name, path in (transformer.get("InputPathsMap") or {}).items():
        found = parse(path).find(event)
        values[name] = json.dumps(found[0].value) if found else "null"
    text = transformer["InputTemplate"]
    for name, value in values.items():
        text = text.replace(f"<{name}>", value)
    return json.loads(text)


def _event_time(event: dict[str, Any]) -> datetime | None:
    from idle_reaper.times import parse_iso

    try:
        return parse_iso(str(event["time"]))
    except (KeyError, ValueError):
        return None
