"""The deployed policy: template parameters as the inspect function's environment, and the
per-resource tags that may tighten or relax it."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from idle_reaper.exceptions import PolicyError

IDLE_MINUTES_TAG = "idle-reaper:idle-minutes"
KEEP_UNTIL_TAG = "idle-reaper:keep-until"
_ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})", re.ASCII
)
"""An ISO-8601 time with its offset (`2026-03-02T18:00:00Z`, `2026-03-02T19:00+01:00`): a time
without one would be read in whatever zone the reader guesses."""
_WHOLE_MINUTES = re.compile(r"[0-9]{1,6}")
DEFAULT_EXEMPT_TAG = "idle-reaper:exempt"


@dataclass(frozen=True)
class Policy:
    """Idle allowance per kind, warning lead time, dry run and the tags that override them."""

    idle_minutes: Mapping[str, int]
    warning_minutes: int = 5
    dry_run: bool = False
    exempt_tag_key: str = DEFAULT_EXEMPT_TAG
    max_idle_minutes: int = 1440
    kind_settings: Mapping[str, Any] = field(default_factory=dict)
    disabled_kinds: frozenset[str] = frozenset()
    """Kinds switched off in the template (EnableSageMaker, EnableEc2 = "false")."""
    """Each kind's own settings (`ResourceKind.settings_from`), by kind name."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Policy:
        """Read the policy the template passed as environment variables."""
        from idle_reaper.kinds import all_kinds

        env = os.environ if env is None else env
        idle = {
            kind.name: int_setting(env, kind.idle_minutes_env, kind.default_idle_minutes, 1)
            for kind in all_kinds()
        }
        return cls(
            idle_minutes=idle,
            warning_minutes=int_setting(env, "WARNING_MINUTES", 5, 0),
            dry_run=env.get("DRY_RUN", "false").strip().lower() == "true",
            exempt_tag_key=env.get("EXEMPT_TAG_KEY", DEFAULT_EXEMPT_TAG) or DEFAULT_EXEMPT_TAG,
            max_idle_minutes=int_setting(env, "MAX_IDLE_MINUTES", 1440, 1),
            kind_settings={kind.name: kind.settings_from(env) for kind in all_kinds()},
            disabled_kinds=frozenset(
                kind.name
                for kind in all_kinds()
                if kind.enabled_env and env.get(kind.enabled_env, "true").strip().lower() == "false"
            ),
        )

    def is_exempt(self, tags: Mapping[str, str]) -> bool:
        """Only the exact key with the value `true` (any case) exempts: a near miss never
        exempts by accident (exempt_note says so instead)."""
        return tags.get(self.exempt_tag_key, "").lower() == "true"

    def exempt_note(self, tags: Mapping[str, str]) -> str | None:
        """Why a tag that looks like the exempt tag did not exempt, so the owner can fix it:
        `Idle-Reaper:Exempt`, a stray space in the key or value, or a value such as `yes`."""
        wanted = f"{self.exempt_tag_key}=true"
        for key, value in sorted(tags.items()):
            near_key = _folded(key) == _folded(self.exempt_tag_key)
            if not near_key or (key == self.exempt_tag_key and value.lower() == "true"):
                continue
            return (
                f"the tag {key!r}={value!r} is not {wanted!r}, so it does not exempt; use {wanted}"
            )
        return None

    def keep_until(
        self, tags: Mapping[str, str], idle_since: datetime
    ) -> tuple[datetime | None, str | None]:
        """The moment an `idle-reaper:keep-until` tag keeps the resource until, and a note when
        the tag was not honoured as written. An invalid value is ignored (the idle rule
        applies, with its warning); a later one than an idle-minutes tag could allow
        (MaxIdleMinutes after the idle period began) is capped there."""
        raw = tags.get(KEEP_UNTIL_TAG)
        if raw is None:
            return None, None
        shown = f"{KEEP_UNTIL_TAG}={raw[:64]!r}"
        if _ISO_TIME.fullmatch(raw.strip()) is None:
            return None, f"ignored {shown}: not an ISO-8601 time with its offset (…T18:00:00Z)"
        try:
            moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:  # 2026-02-30T25:00Z
            return None, f"ignored {shown}: not a real time"
        moment = moment.astimezone(UTC)
        cap = idle_since + timedelta(minutes=self.max_idle_minutes)
        if moment > cap:
            return cap, f"{shown} capped at MaxIdleMinutes={self.max_idle_minutes} of idleness"
        return moment, None

    def idle_minutes_for(self, kind: str, tags: Mapping[str, str]) -> tuple[int, str | None]:
        """The idle allowance for one resource, and a note when its tag was not honoured.

        A tag may set any whole number of minutes from 1 up to MaxIdleMinutes; anything
        else keeps the default, so a typo never exempts a resource by accident.
        """
        default = self.idle_minutes[kind]
        raw = tags.get(IDLE_MINUTES_TAG)
        if raw is None:
            return default, None
        if _WHOLE_MINUTES.fullmatch(raw.strip()) is None:  # not int(): it takes 1_0, +5, ٣
            return default, f"ignored {IDLE_MINUTES_TAG}={raw[:64]!r}: not a whole number"
        minutes = int(raw.strip())
        if minutes < 1:
            return default, f"ignored {IDLE_MINUTES_TAG}={raw!r}: must be at least 1"
        if minutes > self.max_idle_minutes:
            note = f"{IDLE_MINUTES_TAG}={raw!r} capped at MaxIdleMinutes={self.max_idle_minutes}"
            return self.max_idle_minutes, note
        return minutes, None


def _folded(text: str) -> str:
    """How a person would read a tag key: full-width letters, case and stray spaces aside."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def int_setting(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    """A whole-number setting from the environment, or PolicyError naming it."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise PolicyError(f"{name}={raw!r} is not a whole number") from exc
    if value < minimum:
        raise PolicyError(f"{name}={value} is below the minimum {minimum}")
    return value
