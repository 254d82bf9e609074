"""The "keep it running" buttons a Slack warning carries: what each keeps the resource until,
and the value each button carries (the resource it is about).

The value comes back from Slack with the click. Slack signs the request, but anyone holding the
incoming webhook's URL can post a message with buttons of their own making in our channel, so
a correctly signed click may still carry any value: it is read here as hostile (bounded, strict
JSON, every field checked as a watcher's resource reference is), and it only ever names what to
look at. Who owns the resource, whether it runs and what the policy allows are read again from
AWS before anything is written (keep.py).

Times are UTC and the buttons say so: the label is fixed when the message goes to a channel of
people in many zones, and the clicker's own zone (users.info `tz`) needs the optional bot
token, so the one zone every reader can check is the one written on the button.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from idle_reaper.exceptions import UnknownKindError
from idle_reaper.kinds import kind_named
from idle_reaper.resource import ResourceRef
from idle_reaper.times import ceil_seconds, parse_iso, to_iso

ACTION_PREFIX = "idle-reaper.keep."
"""Every keep button's action_id starts so; any other action (the console link's) is only
acknowledged."""
TIME_ZONE = "UTC"
MORNING = time(9, 0)
VALUE_LIMIT = 2000
"""Block Kit: a button's value is at most 2000 characters (its action_id 255, its text 75)."""
_VALUE_KEYS = frozenset({"kind", "id", "region", "account", "started_at"})


def _ceil_minute(moment: datetime) -> datetime:
    """The next whole minute (the moment itself when it is one): what people read on a clock."""
    moment = ceil_seconds(moment)
    if moment.second:
        moment = moment.replace(second=0) + timedelta(minutes=1)
    return moment


def _in_an_hour(clicked: datetime) -> datetime:
    return _ceil_minute(clicked + timedelta(hours=1))


def _tomorrow_morning(clicked: datetime) -> datetime:
    day = clicked.astimezone(UTC).date() + timedelta(days=1)
    return datetime.combine(day, MORNING, tzinfo=UTC)


@dataclass(frozen=True)
class Choice:
    """One keep button."""

    name: str
    """How a scenario names it (`keep: [{for: 1h}]`) and the action_id's suffix."""
    label: str
    until: Callable[[datetime], datetime]
    """The moment a click at this time keeps the resource until (UTC, whole minutes)."""

    @property
    def action_id(self) -> str:
        return ACTION_PREFIX + self.name


CHOICES: dict[str, Choice] = {
    choice.name: choice
    for choice in (
        Choice("1h", "Keep for 1 hour", _in_an_hour),
        Choice("tomorrow", f"Keep until tomorrow {MORNING:%H:%M} {TIME_ZONE}", _tomorrow_morning),
    )
}


def choice_of(action_id: object) -> Choice | None:
    """The keep button an action_id names; None for any other action."""
    if not isinstance(action_id, str) or not action_id.startswith(ACTION_PREFIX):
        return None
    return CHOICES.get(action_id.removeprefix(ACTION_PREFIX))


@dataclass(frozen=True)
class ButtonValue:
    """What a keep button says it is about: a resource, and the run its warning was for."""

    ref: ResourceRef
    started_at: datetime | None = None
    """When the warned run began: a click on the warning of an earlier run (a notebook since
    stopped and started again) keeps nothing."""

    def encode(self) -> str:
        data: dict[str, Any] = {
            "kind": self.ref.kind,
            "id": self.ref.id,
            "region": self.ref.region,
            "account": self.ref.account,
        }
        if self.started_at is not None:
            data["started_at"] = to_iso(self.started_at)
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def of(cls, resource: Mapping[str, Any]) -> ButtonValue | None:
        """The value for the resource a reaper event carries; None when it names none fully
        (then the warning carries no buttons)."""
        return cls.parse(
            json.dumps({k: resource.get(k) for k in _VALUE_KEYS if resource.get(k) is not None})
        )

    @classmethod
    def parse(cls, text: object) -> ButtonValue | None:
        """A value read back from a click; None for anything that is not exactly what `encode`
        writes (too long, not a JSON object, an unknown key or kind, a bad id or time)."""
        if not isinstance(text, str) or len(text) > VALUE_LIMIT:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or not set(data) <= _VALUE_KEYS:
            return None
        try:
            kind = kind_named(str(data.get("kind"))[:64])
        except UnknownKindError:
            return None
        ref = ResourceRef.parse(kind.name, data)
        if isinstance(ref, str):
            return None
        started = data.get("started_at")
        if started is None:
            return cls(ref)
        if not isinstance(started, str) or len(started) > 40:
            return None
        try:
            return cls(ref, parse_iso(started).astimezone(UTC))
        except (ValueError, OverflowError):
            return None


def keep_buttons(resource: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The keep buttons for a warning about `resource` (Block Kit button elements); none when
    the event does not name the resource fully."""
    value = ButtonValue.of(resource)
    if value is None:
        return []
    encoded = value.encode()
    if len(encoded) > VALUE_LIMIT:
        return []
    return [
        {
            "type": "button",
            "action_id": choice.action_id,
            "text": {"type": "plain_text", "text": choice.label},
            "value": encoded,
            **({"style": "primary"} if n == 0 else {}),
        }
        for n, choice in enumerate(CHOICES.values())
    ]


__all__ = ["ACTION_PREFIX", "CHOICES", "ButtonValue", "Choice", "choice_of", "keep_buttons"]
