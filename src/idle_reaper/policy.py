"""The deployed policy: template parameters as the inspect function's environment, the
optional policy document's rule for a resource, and the resource's own tags, in that order of
precedence (README: "Policy precedence")."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from idle_reaper.exceptions import PolicyError
from idle_reaper.policy_document import Guardrails, PolicyDocument, Route, Rule, TagLimits, parse

IDLE_MINUTES_TAG = "idle-reaper:idle-minutes"
KEEP_UNTIL_TAG = "idle-reaper:keep-until"
_ISO_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)
"""An RFC 3339 time with its offset (`2026-03-02T18:00:00Z`, `2026-03-02T19:00+01:00`): a time
without one would be read in whatever zone the reader guesses. RFC 3339 section 5.6 also
allows `t` and `z` in lower case and a space for `T` (its NOTEs), and any number of fraction
digits (`time-secfrac`): up to 9 (nanoseconds, as `date --rfc-3339=ns` writes) are read, cut to
the microsecond. Seconds may be left out (ISO 8601's `hh:mm`). Refused: an offset without its
colon, an hour 24 or a leap second (datetime has neither), a date or time that does not exist."""
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
    """Each kind's own settings (`ResourceKind.settings_from`), by kind name."""
    disabled_kinds: frozenset[str] = frozenset()
    """Kinds switched off in the template (EnableSageMaker, EnableEc2 = "false")."""
    document: PolicyDocument | None = None
    document_error: str | None = None
    """Why the policy document was refused: then nothing is stopped until it is fixed."""
    rule: Rule | None = None
    """The document's rule for this one resource (for_resource), if one matched."""
    guardrails: Guardrails | None = None

    @property
    def paused(self) -> bool:
        return self.document is not None and self.document.paused

    @property
    def max_running_minutes(self) -> int | None:
        return self.rule.max_running_minutes if self.rule else None

    @property
    def route(self) -> Route | None:
        return self.rule.notify if self.rule else None

    @property
    def tag_limits(self) -> TagLimits:
        return self.rule.tags if self.rule else TagLimits()

    @property
    def tag_idle_cap(self) -> int:
        """The most idle minutes a tag may ask for: MaxIdleMinutes, or the rule's limit."""
        limit = self.tag_limits.max_idle_minutes
        return self.max_idle_minutes if limit is None else min(limit, self.max_idle_minutes)

    def with_document(self, text: str | None) -> Policy:
        """This policy with the document in `text` (None: no document is configured). A
        document that does not validate is kept as its error: nothing stops on it."""
        if text is None:
            return self
        from idle_reaper.kinds import all_kinds

        try:
            document = parse(text, tuple(kind.name for kind in all_kinds()))
        except PolicyError as exc:
            return self.with_error(str(exc))
        return replace(self, document=document, document_error=None, guardrails=document.guardrails)

    def with_error(self, error: str) -> Policy:
        """This policy with its document refused for `error`: nothing stops until it is fixed."""
        return replace(self, document=None, document_error=error, guardrails=None)

    def for_resource(self, kind: str, tags: Mapping[str, str], account: str | None) -> Policy:
        """The policy one resource gets: the first matching rule's settings over the template's.
        DryRun=true in the template stays on whatever a rule says (it is the safety switch)."""
        rule = self.document.rule_for(kind, tags, account) if self.document else None
        if rule is None:
            return self
        idle = dict(self.idle_minutes)
        if rule.idle_minutes is not None:
            idle[kind] = rule.idle_minutes
        return replace(
            self,
            idle_minutes=idle,
            warning_minutes=self.warning_minutes
            if rule.warning_minutes is None
            else rule.warning_minutes,
            dry_run=self.dry_run or bool(rule.dry_run),
            rule=rule,
            guardrails=rule.guardrails or self.guardrails,
        )

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
        """Only the exact key with the value `true` (any case, whitespace around it aside)
        exempts: a near miss never exempts by accident (exempt_note says so instead). A rule
        may exempt, or refuse it."""
        if self.rule is not None and self.rule.exempt:
            return True
        return self.tag_limits.exempt and self.exempt_tagged(tags)

    def exempt_tagged(self, tags: Mapping[str, str]) -> bool:
        """The exact key with `true` in any case; whitespace around the value is no near miss
        (a console paste, `" true"`): the owner meant it, and a stop on it would be wrong."""
        return _is_true(tags.get(self.exempt_tag_key, ""))

    def exempt_reason(self, tags: Mapping[str, str]) -> str:
        if self.rule is not None and self.rule.exempt:
            return f"exempt by the policy rule {self.rule.name!r}"
        return f"tagged {self.exempt_tag_key}=true"

    def exempt_note(self, tags: Mapping[str, str]) -> str | None:
        """Why a tag that looks like the exempt tag did not exempt, so the owner can fix it:
        `Idle-Reaper:Exempt`, a stray space in the key, or a value such as `yes`."""
        wanted = f"{self.exempt_tag_key}=true"
        if self.exempt_tagged(tags) and not self.tag_limits.exempt and self.rule is not None:
            return f"{wanted} is not honoured by the policy rule {self.rule.name!r}"
        for key, value in sorted(tags.items()):
            near_key = _folded(key) == _folded(self.exempt_tag_key)
            if not near_key or (key == self.exempt_tag_key and _is_true(value)):
                continue
            return (
                f"the tag {key!r}={value!r} is not {wanted!r}, so it does not exempt; use {wanted}"
            )
        return None

    def keep_until(
        self, tags: Mapping[str, str], idle_since: datetime, started_at: datetime | None = None
    ) -> tuple[datetime | None, str | None]:
        """The moment an `idle-reaper:keep-until` tag keeps the resource until, and a note when
        the tag was not honoured as written. An invalid value is ignored (the idle rule
        applies, with its warning); a later one than an idle-minutes tag could allow
        (tag_idle_cap after the idle period began, and the rule's maximum running time) is
        capped there."""
        raw = tags.get(KEEP_UNTIL_TAG)
        if raw is None:
            return None, None
        shown = f"{KEEP_UNTIL_TAG}={raw[:64]!r}"
        if not self.tag_limits.keep_until and self.rule is not None:
            return None, f"ignored {shown}: not honoured by the policy rule {self.rule.name!r}"
        moment = rfc3339_moment(raw)
        if isinstance(moment, str):
            return None, f"ignored {shown}: {moment}"
        cap = idle_since + timedelta(minutes=self.tag_idle_cap)
        why = f"{self._cap_source()} of idleness"
        running = self.max_running_minutes
        if running is not None and started_at is not None:
            running_cap = started_at + timedelta(minutes=running)
            if running_cap < cap:
                cap, why = running_cap, f"the policy's maximum running time ({running} minutes)"
        if moment > cap:
            return cap, f"{shown} capped at {why}"
        return moment, None

    def _cap_source(self) -> str:
        """Which limit capped a tag: `MaxIdleMinutes=240`, or `120 by the policy rule 'ml'`."""
        limit = self.tag_limits.max_idle_minutes
        if self.rule is not None and limit is not None and limit < self.max_idle_minutes:
            return f"{limit} minutes by the policy rule {self.rule.name!r}"
        return f"MaxIdleMinutes={self.max_idle_minutes}"

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
        if minutes > self.tag_idle_cap:
            return self.tag_idle_cap, f"{IDLE_MINUTES_TAG}={raw!r} capped at {self._cap_source()}"
        return minutes, None


def rfc3339_moment(raw: str) -> datetime | str:
    """The UTC moment an RFC 3339 time names (surrounding whitespace aside), or why it names
    none."""
    found = _ISO_TIME.fullmatch(raw.strip())
    if found is None:
        return "not an ISO-8601 time with its offset (…T18:00:00Z)"
    date, clock, fraction, offset = found.groups()
    micro = f".{fraction[:6]}" if fraction else ""  # cut, never rounded up past the moment
    zone = "+00:00" if offset in ("Z", "z") else offset
    try:
        return datetime.fromisoformat(f"{date}T{clock}{micro}{zone}").astimezone(UTC)
    except (ValueError, OverflowError):  # 2026-02-30T25:00Z; 0001-01-01T00:00+00:30
        return "not a real time"


def _is_true(value: str) -> bool:
    return value.strip().lower() == "true"


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
