"""What-if scenarios (format: shared SCENARIOS.md), parsed strictly: an unknown key, a bad
duration, an unknown kind or a number out of bounds is an error before anything runs.

The bounds are there so that every moment a run computes stays far inside what `datetime`,
epoch milliseconds and the virtual clock can hold: an absurd value is refused with one line
here instead of overflowing somewhere in the middle of a run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Set
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from local_runtime.channels import LocalChannels
from local_runtime.emulators.registry import all_emulators, emulator_for
from local_runtime.errors import ScenarioError

if TYPE_CHECKING:
    from local_runtime.faults import Fault

EventMode = Literal["normal", "missed", "duplicate", "late"]
_EVENT_MODES: tuple[EventMode, ...] = ("normal", "missed", "duplicate", "late")
_DURATION = re.compile(r"^\s*(-)?\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_TOP_KEYS = {
    "name",
    "start",
    "until",
    "parameters",
    "resources",
    "slack",
    "email",
    "deliveries",
    "policy",
    "faults",
    "keep",
}
_SLACK_KEYS = {"responses", "then"}
_KEEP_KEYS = {"resource", "at", "for", "by", "team", "forged", "stale"}
_PERSON = re.compile(r"[^@\s]{1,64}@[^@\s]{1,185}|[UW][A-Z0-9]{2,30}", re.ASCII)
"""Who clicks: an email address, or a Slack user id (an admin without one)."""
_TEAM = re.compile(r"T[A-Z0-9]{2,30}", re.ASCII)
"""The clicker's own workspace, when not the app's: a Slack team id."""
COMMON_KEYS = frozenset(
    {"kind", "id", "at", "by", "tags", "stop_by_user", "event", "event_delay", "activity"}
)
_ACTIVITY_KEYS = {"at", "runs"}
"""Every kind's resource keys; each emulator adds its own (`Emulator.keys`)."""

MAX_SPAN = timedelta(days=366)
"""The longest a scenario runs, and so the longest duration it may name: a year of virtual
time is more than any what-if needs (Glue's own timeouts end a session within 7 days)."""
EARLIEST_START = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_START = datetime(2100, 1, 1, tzinfo=UTC)
"""`start` (and a replayed event's `time`) must fall in [EARLIEST_START, LATEST_START): any
real or planned use of the service, with room to run MAX_SPAN and Glue's longest timeout."""
MAX_DELIVERIES = 10
"""EventBridge is at least once: a few copies test idempotency; thousands test nothing."""


@dataclass(frozen=True)
class KindSpec:
    """What a kind's own scenario keys say (workers, statements, ...): each emulator
    subclasses it and parses into it (`Emulator.parse`)."""


@dataclass(frozen=True)
class Busy:
    """A busy period, every kind's `activity:` entry: a Glue statement, a busy kernel or
    terminal, an EC2 instance working. Each kind's emulator makes it happen its own way."""

    at: timedelta
    runs: timedelta


@dataclass(frozen=True)
class ResourceSpec:
    kind: str
    id: str
    at: timedelta = timedelta(0)
    """When its user creates it, from the scenario's start; negative (at least -MAX_SPAN):
    before the scenario and its stack, so no rule sees its start event. Its activity and
    `stop_by_user` still count from the scenario's start."""
    by: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    kind_spec: KindSpec | None = None
    """Its kind's own keys; None: the kind's defaults."""
    activity: tuple[Busy, ...] = ()
    stop_by_user: timedelta | None = None
    event: EventMode = "normal"
    event_delay: timedelta | None = None
    """With `event: late`: how long after `at` the start event reaches EventBridge."""
    start_event: dict[str, Any] | None = None
    """A recorded start event to deliver instead of a generated one (`make replay`)."""


@dataclass(frozen=True)
class KeepSpec:
    """A press of a Keep button of a warning (issue 12): `{resource, at, for, by}`, plus
    `forged: true` (signed with another secret) or `stale: true` (signed six minutes before
    it arrives, as a replayed request is), or `team: T...` (the clicker's own workspace, when it
    is not the app's: a partner organization's member in a Slack Connect channel)."""

    resource: str
    at: timedelta
    choice: str
    """Which button: `1h` ("Keep for 1 hour") or `tomorrow` ("Keep until tomorrow 09:00 UTC")."""
    by: str
    team: str | None = None
    forged: bool = False
    stale: bool = False


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
    policy: str | None = None
    """The policy document's text (a `policy:` mapping as JSON, or a string as written)."""
    region: str | None = None
    account: str | None = None
    """Where the stack is deployed (`make replay`: the event's own); None: the runtime's default."""
    faults: tuple[Fault, ...] = ()
    """What fails, and when (`faults:`, local_runtime.faults)."""
    keeps: tuple[KeepSpec, ...] = ()
    """Keep buttons pressed in Slack, in the order they are listed."""

    @property
    def end(self) -> datetime:
        return self.start + self.until

    @property
    def origin(self) -> datetime:
        """Where the virtual clock starts: the earliest resource's creation when one was
        started before the scenario (and its stack, deployed at `start`), else `start`."""
        return self.start + min((timedelta(0), *(spec.at for spec in self.resources)))


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
    top = mapping(data, where, _TOP_KEYS)
    for key in ("start", "until", "resources"):
        if key not in top:
            raise ScenarioError(f"{where}: missing `{key}`")
    parameters = mapping(top.get("parameters") or {}, f"{where}.parameters", None)
    resources = top["resources"]
    if not isinstance(resources, list):
        raise ScenarioError(f"{where}.resources: must be a list")
    until = duration(top["until"], f"{where}.until")
    if until <= timedelta(0):
        raise ScenarioError(
            f"{where}.until: {top['until']!r} runs nothing (use 90s, 30m, 8h or 2d)"
        )
    specs = tuple(_resource(r, f"{where}.resources[{i}]") for i, r in enumerate(resources))
    seen: set[str] = set()
    for spec in specs:
        if spec.id in seen:
            raise ScenarioError(f"{where}.resources: id {spec.id!r} is used twice")
        seen.add(spec.id)
    from local_runtime import faults

    keeps = tuple(
        _keep(k, f"{where}.keep[{i}]", seen) for i, k in enumerate(_list(top, "keep", where))
    )
    channels = _channels(top, where)
    if keeps and not channels.slack:
        raise ScenarioError(f"{where}.keep: a Keep button is in a Slack message: Slack is off")
    return Scenario(
        name=str(top.get("name") or Path(where).stem),
        start=start_time(_timestamp(top["start"], f"{where}.start"), f"{where}.start"),
        until=until,
        parameters=dict(parameters),
        resources=specs,
        channels=replace(channels, slack_interactive=True) if keeps else channels,
        deliveries=whole(top.get("deliveries", 1), f"{where}.deliveries", 1, MAX_DELIVERIES),
        policy=_policy(top.get("policy"), f"{where}.policy"),
        faults=faults.parse(top.get("faults"), f"{where}.faults", specs, until),
        keeps=keeps,
    )


def _keep(raw: Any, where: str, ids: Set[str]) -> KeepSpec:
    """One `keep:` entry: a scenario resource, a moment, a button, a person."""
    from idle_reaper.keep_choices import CHOICES

    entry = mapping(raw, where, _KEEP_KEYS)
    for key in ("resource", "at", "for", "by"):
        if key not in entry:
            raise ScenarioError(f"{where}: missing `{key}`")
    resource = entry["resource"]
    if not isinstance(resource, str) or resource not in ids:
        raise ScenarioError(
            f"{where}.resource: {str(resource)[:60]!r} is no resource of the scenario"
        )
    choice = entry["for"]
    if not isinstance(choice, str) or choice not in CHOICES:
        known = ", ".join(f"{name} ({c.label!r})" for name, c in CHOICES.items())
        raise ScenarioError(f"{where}.for: {str(choice)[:60]!r} is no Keep button (one of {known})")
    by = entry["by"]
    if not isinstance(by, str) or _PERSON.fullmatch(by) is None:
        raise ScenarioError(
            f"{where}.by: {str(by)[:60]!r} is neither an email address nor a Slack user id"
        )
    team = entry.get("team")
    if team is not None and (not isinstance(team, str) or _TEAM.fullmatch(team) is None):
        raise ScenarioError(f"{where}.team: {str(team)[:40]!r} is no Slack team id (T...)")
    flags = {}
    for flag in ("forged", "stale"):
        value = entry.get(flag, False)
        if not isinstance(value, bool):
            raise ScenarioError(f"{where}.{flag}: true or false, not {str(value)[:40]!r}")
        flags[flag] = value
    return KeepSpec(
        resource=resource,
        at=duration(entry["at"], f"{where}.at"),
        choice=choice,
        by=by,
        team=team,
        forged=flags["forged"],
        stale=flags["stale"],
    )


def human(span: timedelta) -> str:
    """The shortest duration string that reads back as `span` (8h, 90m, 2d)."""
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def duration(value: Any, where: str, *, signed: bool = False) -> timedelta:
    """`90s`, `30m`, `8h`, `2d` (a bare number is refused: its unit would be a guess), at
    most MAX_SPAN; negative (`-2h`) only where `signed` says an offset may point back."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ScenarioError(f"{where}: bad duration {value!r} (use 90s, 30m, 8h or 2d)")
    minus, number, unit = match.groups()
    if minus and not signed:
        raise ScenarioError(f"{where}: {value!r} is negative (a duration here counts forward)")
    seconds = float(number) * _SECONDS[unit]  # inf for absurd digit strings: caught below
    if not seconds <= MAX_SPAN.total_seconds():
        raise ScenarioError(
            f"{where}: {value.strip()!r} is longer than {human(MAX_SPAN)},"
            " the longest a scenario may run"
        )
    return timedelta(seconds=-seconds if minus else seconds)


def start_time(moment: datetime, where: str) -> datetime:
    """The virtual clock's origin, inside [EARLIEST_START, LATEST_START)."""
    if not EARLIEST_START <= moment < LATEST_START:
        raise ScenarioError(
            f"{where}: {moment.isoformat()} is outside {EARLIEST_START.year}-"
            f"{LATEST_START.year - 1} (the years a scenario may start in)"
        )
    return moment


def whole(value: Any, where: str, minimum: int, maximum: int) -> int:
    """A whole number (not a bool, a float or a string) in [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise ScenarioError(
            f"{where}: must be a whole number from {minimum} to {maximum}, not {shown}"
        )
    return value


def _policy(value: Any, where: str) -> str | None:
    """The document as the parameter will hold it. It is not validated here: an invalid
    document is a what-if worth running (nothing stops; one failed event names the field)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    raise ScenarioError(f"{where}: a mapping (the document) or a string (its text)")


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
    spec = mapping(slack or {}, f"{where}.slack", _SLACK_KEYS)
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
    """The common keys here; the kind's own keys by its emulator."""
    if not isinstance(data, Mapping) or "kind" not in data:
        raise ScenarioError(f"{where}: needs a `kind`")
    kind = data["kind"]
    emulator = emulator_for(kind) if isinstance(kind, str) else None
    if emulator is None:
        known = ", ".join(e.kind for e in all_emulators())
        raise ScenarioError(f"{where}.kind: unknown kind {kind!r} (known: {known})")
    item = mapping(data, where, COMMON_KEYS | emulator.keys)
    if not isinstance(item.get("id"), str) or not item["id"]:
        raise ScenarioError(f"{where}.id: must be a non-empty string")
    at = duration(item.get("at", "0m"), f"{where}.at", signed=True)
    event, event_delay = _event(item, where)
    tags = mapping(item.get("tags") or {}, f"{where}.tags", None)
    kind_spec = emulator.parse(item, where, at)
    activity = tuple(
        _busy(raw, f"{where}.activity[{i}]", at)
        for i, raw in enumerate(_list(item, "activity", where))
    )
    stop = item.get("stop_by_user")
    return ResourceSpec(
        kind=kind,
        id=item["id"],
        at=at,
        by=str(item["by"]) if item.get("by") else None,
        tags={str(k): _tag_value(v) for k, v in tags.items()},
        kind_spec=kind_spec,
        activity=activity,
        stop_by_user=duration(stop, f"{where}.stop_by_user") if stop is not None else None,
        event=event,
        event_delay=event_delay,
    )


def _list(item: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = item.get(key) or []
    if not isinstance(value, list):
        raise ScenarioError(f"{where}.{key}: must be a list")
    return value


def _busy(raw: Any, where: str, resource_at: timedelta) -> Busy:
    entry = mapping(raw, where, _ACTIVITY_KEYS)
    if "at" not in entry or "runs" not in entry:
        raise ScenarioError(f"{where}: needs `at` and `runs`")
    at = duration(entry["at"], f"{where}.at")
    if at < resource_at:
        raise ScenarioError(f"{where}.at: {entry['at']} is before the resource starts")
    return Busy(at=at, runs=duration(entry["runs"], f"{where}.runs"))


def _event(item: Mapping[str, Any], where: str) -> tuple[EventMode, timedelta | None]:
    """`event` and its `event_delay`: the delay goes with `late`, and `late` needs one."""
    event = item.get("event", "normal")
    if event not in _EVENT_MODES:
        raise ScenarioError(f"{where}.event: {event!r} is not normal, missed, duplicate or late")
    if event != "late":
        if "event_delay" in item:
            raise ScenarioError(f"{where}.event_delay: goes only with `event: late`")
        return event, None
    if "event_delay" not in item:
        raise ScenarioError(
            f"{where}.event: `late` needs `event_delay` (how long after `at` the event arrives)"
        )
    delay = duration(item["event_delay"], f"{where}.event_delay")
    if delay <= timedelta(0):
        raise ScenarioError(f"{where}.event_delay: a late event arrives after `at`, not at it")
    return event, delay


def mapping(data: Any, where: str, allowed: Set[str] | None) -> Mapping[str, Any]:
    """A mapping with no key outside `allowed` (None: any key)."""
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
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 shifted past datetime's range
        raise ScenarioError(f"{where}: {value!r} is out of range") from None


def _tag_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
