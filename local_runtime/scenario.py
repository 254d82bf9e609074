"""What-if scenarios (format: shared SCENARIOS.md), parsed strictly: an unknown key, a bad
duration or an unknown kind is an error before anything runs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml

from idle_reaper.kinds.glue import DPU_PER_WORKER
from local_runtime.channels import LocalChannels
from local_runtime.errors import ScenarioError

EventMode = Literal["normal", "missed", "duplicate"]
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_TOP_KEYS = {"name", "start", "until", "parameters", "resources", "slack", "email", "deliveries"}
_SLACK_KEYS = {"responses", "then"}
_COMMON_KEYS = {"kind", "id", "at", "by", "tags", "stop_by_user", "event"}
_KIND_KEYS = {"glue-session": {"workers", "worker_type", "idle_timeout", "statements"}}
_STATEMENT_KEYS = {"at", "runs"}


@dataclass(frozen=True)
class Activity:
    at: timedelta
    runs: timedelta


@dataclass(frozen=True)
class ResourceSpec:
    kind: str
    id: str
    at: timedelta = timedelta(0)
    by: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    workers: int = 5
    worker_type: str = "G.1X"
    idle_timeout: int = 2880
    statements: tuple[Activity, ...] = ()
    stop_by_user: timedelta | None = None
    event: EventMode = "normal"
    start_event: dict[str, Any] | None = None
    """A recorded start event to deliver instead of a generated one (`make replay`)."""


@dataclass(frozen=True)
class Scenario:
    name: str
    start: datetime
    until: timedelta
    parameters: dict[str, Any] = field(default_factory=dict)
    resources: tuple[ResourceSpec, ...] = ()
    channels: LocalChannels = field(default_factory=LocalChannels)
    deliveries: int = 1
    """How many times EventBridge delivers each matched event to each target (at least once)."""
    events: tuple[dict[str, Any], ...] = ()
    """Recorded events to put on the bus at the start (`make replay` of a non-start event)."""

    @property
    def end(self) -> datetime:
        return self.start + self.until


def load(path: Path) -> Scenario:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "unreadable"
        raise ScenarioError(f"{path}: not valid YAML{where}: {problem}") from exc
    return parse(data, str(path))


def parse(data: Any, where: str = "scenario") -> Scenario:
    top = _mapping(data, where, _TOP_KEYS)
    for key in ("start", "until", "resources"):
        if key not in top:
            raise ScenarioError(f"{where}: missing `{key}`")
    parameters = _mapping(top.get("parameters") or {}, f"{where}.parameters", None)
    resources = top["resources"]
    if not isinstance(resources, list):
        raise ScenarioError(f"{where}.resources: must be a list")
    until = duration(top["until"], f"{where}.until")
    specs = tuple(_resource(r, f"{where}.resources[{i}]") for i, r in enumerate(resources))
    seen: set[str] = set()
    for spec in specs:
        if spec.id in seen:
            raise ScenarioError(f"{where}.resources: id {spec.id!r} is used twice")
        seen.add(spec.id)
    return Scenario(
        name=str(top.get("name") or Path(where).stem),
        start=_timestamp(top["start"], f"{where}.start"),
        until=until,
        parameters=dict(parameters),
        resources=specs,
        channels=_channels(top, where),
        deliveries=_int(top.get("deliveries", 1), f"{where}.deliveries", 1),
    )


def human(span: timedelta) -> str:
    """The shortest duration string that reads back as `span` (8h, 90m, 2d)."""
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def duration(value: Any, where: str) -> timedelta:
    """`90s`, `30m`, `8h`, `2d` (a bare number is refused: its unit would be a guess)."""
    match = _DURATION.match(str(value)) if isinstance(value, str) else None
    if match is None:
        raise ScenarioError(f"{where}: bad duration {value!r} (use 90s, 30m, 8h or 2d)")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


def _channels(top: Mapping[str, Any], where: str) -> LocalChannels:
    """`slack: off` or `slack: {responses: [429, 429, ok], then: ok}`; `email: off` or an
    address."""
    slack, email = top.get("slack", {}), top.get("email", LocalChannels.email)
    if email in (False, "off"):
        email = None
    elif not isinstance(email, str) or "@" not in email:
        raise ScenarioError(f"{where}.email: {email!r} is not an address (or `off`)")
    if slack in (False, "off"):
        return LocalChannels(slack=False, email=email)
    spec = _mapping(slack or {}, f"{where}.slack", _SLACK_KEYS)
    script = spec.get("responses") or []
    if not isinstance(script, list):
        raise ScenarioError(f"{where}.slack.responses: must be a list")
    answers = tuple(_answer(a, f"{where}.slack.responses[{i}]") for i, a in enumerate(script))
    then = _answer(spec.get("then", "ok"), f"{where}.slack.then")
    return LocalChannels(slack=True, slack_script=answers, slack_then=then, email=email)


def _answer(value: Any, where: str) -> int | str:
    """`ok`, `down`, an HTTP status, or `status:body` (a 200 whose body is not ok)."""
    if value in ("ok", "down"):
        return str(value)
    status, _, _ = str(value).partition(":")
    if status.isdigit() and 100 <= int(status) <= 599 and not isinstance(value, bool):
        return value if isinstance(value, int) else str(value)
    raise ScenarioError(f"{where}: {value!r} is not ok, down, an HTTP status or status:body")


def _resource(data: Any, where: str) -> ResourceSpec:
    if not isinstance(data, Mapping) or "kind" not in data:
        raise ScenarioError(f"{where}: needs a `kind`")
    kind = data["kind"]
    if kind not in _KIND_KEYS:
        raise ScenarioError(f"{where}.kind: unknown kind {kind!r} (known: {', '.join(_KIND_KEYS)})")
    item = _mapping(data, where, _COMMON_KEYS | _KIND_KEYS[kind])
    if not isinstance(item.get("id"), str) or not item["id"]:
        raise ScenarioError(f"{where}.id: must be a non-empty string")
    at = duration(item.get("at", "0m"), f"{where}.at")
    event = item.get("event", "normal")
    if event not in ("normal", "missed", "duplicate"):
        raise ScenarioError(f"{where}.event: {event!r} is not normal, missed or duplicate")
    tags = _mapping(item.get("tags") or {}, f"{where}.tags", None)
    statements = []
    for i, raw in enumerate(item.get("statements") or []):
        spot = f"{where}.statements[{i}]"
        entry = _mapping(raw, spot, _STATEMENT_KEYS)
        if "at" not in entry or "runs" not in entry:
            raise ScenarioError(f"{spot}: needs `at` and `runs`")
        activity = Activity(
            duration(entry["at"], f"{spot}.at"), duration(entry["runs"], f"{spot}.runs")
        )
        if activity.at < at:
            raise ScenarioError(f"{spot}.at: {entry['at']} is before the resource starts")
        statements.append(activity)
    worker_type = str(item.get("worker_type", "G.1X"))
    if worker_type not in DPU_PER_WORKER:
        raise ScenarioError(
            f"{where}.worker_type: {worker_type!r} is not one of {', '.join(DPU_PER_WORKER)}"
        )
    stop = item.get("stop_by_user")
    return ResourceSpec(
        kind=kind,
        id=item["id"],
        at=at,
        by=str(item["by"]) if item.get("by") else None,
        tags={str(k): _tag_value(v) for k, v in tags.items()},
        workers=_int(item.get("workers", 5), f"{where}.workers", 2),
        worker_type=worker_type,
        idle_timeout=_int(item.get("idle_timeout", 2880), f"{where}.idle_timeout", 1),
        statements=tuple(statements),
        stop_by_user=duration(stop, f"{where}.stop_by_user") if stop is not None else None,
        event=event,
    )


def _mapping(data: Any, where: str, allowed: set[str] | None) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{where}: must be a mapping")
    if allowed is not None:
        unknown = sorted(set(map(str, data)) - allowed)
        if unknown:
            raise ScenarioError(
                f"{where}: unknown key(s) {', '.join(unknown)}"
                f" (allowed: {', '.join(sorted(allowed))})"
            )
    return data


def _timestamp(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise ScenarioError(f"{where}: {value!r} is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        raise ScenarioError(f"{where}: {value!r} needs a time zone (end it with Z for UTC)")
    return moment.astimezone(UTC)


def _int(value: Any, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ScenarioError(f"{where}: must be a whole number of at least {minimum}, not {value!r}")
    return value


def _tag_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
