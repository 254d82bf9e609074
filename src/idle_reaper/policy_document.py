"""The optional policy document: YAML or JSON in an SSM parameter, validated into typed rules.

One document serves every team: rules select resources by kind, tags and account and set
their allowance, warning, maximum running time, exemption, dry run and where notifications
go; a rule may also limit what resource tags can relax. pydantic validates it, so a bad
document is refused whole, with an error that names the field (`rules[1].idle_minutes`),
and nothing is stopped on a document half understood.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from idle_reaper.exceptions import PolicyError
from idle_reaper.route import SLACK_SECRET_PATTERN, TEAM_PATTERN

MAX_DOCUMENT_CHARS = 8192
"""An Advanced SSM parameter holds 8 KB; a Standard one 4 KB."""
MAX_MINUTES = 525_600
"""A year: a bound on every minutes field, so a typo never becomes 'never'."""

Minutes = Annotated[int, Field(ge=1, le=MAX_MINUTES, strict=True)]
Flag = Annotated[bool, Field(strict=True)]
"""true or false only: `"yes"` or `1` for `exempt` is a mistake to name, not to guess at."""
Text = Annotated[str, StringConstraints(min_length=1, max_length=128)]
TagValue = Annotated[str, StringConstraints(max_length=256)]
"""AWS tag values run to 256 characters (keys to 128)."""
Name = Annotated[str, StringConstraints(pattern=TEAM_PATTERN)]
Account = Annotated[str, StringConstraints(pattern=r"^[0-9]{12}$")]
SecretName = Annotated[str, StringConstraints(pattern=SLACK_SECRET_PATTERN)]


class _Strict(BaseModel):
    """Unknown keys are errors: a misspelt `idle_minuts` must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Match(_Strict):
    """Which resources a rule is for; every listed condition must hold (empty = all)."""

    kinds: tuple[Text, ...] = ()
    tags: Mapping[Text, TagValue | Annotated[tuple[TagValue, ...], Field(min_length=1)]] = Field(
        default_factory=dict
    )
    """Tag key -> the value, or any of the values, it must have (exactly, case and all)."""
    accounts: tuple[Account, ...] = ()


class TagLimits(_Strict):
    """How far a resource's own tags may relax the rule."""

    max_idle_minutes: Minutes | None = None
    """`idle-reaper:idle-minutes` (and a keep-until) above this is capped here."""
    exempt: Flag = True
    """False: the exempt tag is not honoured for these resources."""
    keep_until: Flag = True
    """False: `idle-reaper:keep-until` is not honoured for these resources."""


class Route(_Strict):
    """Where a rule's notifications go instead of the stack's defaults."""

    team: Name | None = None
    """Set as the SNS `team` attribute: a team's email subscribes with a filter on it."""
    slack_webhook_secret: SecretName | None = None
    """The team channel's incoming webhook, a secret named under idle-reaper/slack/."""


class Guardrails(_Strict):
    """Checked when a resource is first watched: what AWS's own Glue sample enforces."""

    max_workers: Annotated[int, Field(ge=1, le=100_000, strict=True)] | None = None
    """Glue's NumberOfWorkers (kinds that report a worker count)."""
    max_idle_timeout_minutes: Minutes | None = None
    """The resource's own idle timeout: Glue's IdleTimeout (2,880 when the session sets none),
    a Studio app's idle shutdown where one is set."""
    required_tags: tuple[Text, ...] = ()
    """Tag keys every resource must carry with a non-blank value (an owner, a cost centre)."""
    action: Literal["notify", "stop"] = "notify"
    """notify: one `guardrail` event, then watched as usual; stop: stopped at once."""


class Rule(_Strict):
    """The settings for the resources it matches; unset fields keep the template's."""

    name: Name
    match: Match = Field(default_factory=Match)
    idle_minutes: Minutes | None = None
    warning_minutes: Annotated[int, Field(ge=0, le=MAX_MINUTES, strict=True)] | None = None
    max_running_minutes: Minutes | None = None
    exempt: Flag | None = None
    dry_run: Flag | None = None
    notify: Route | None = None
    tags: TagLimits = Field(default_factory=TagLimits)
    guardrails: Guardrails | None = None
    """Replaces the document's guardrails for these resources."""

    def matches(self, kind: str, tags: Mapping[str, str], account: str | None) -> bool:
        if self.match.kinds and kind not in self.match.kinds:
            return False
        if self.match.accounts and account not in self.match.accounts:
            return False
        for key, wanted in self.match.tags.items():
            allowed = (wanted,) if isinstance(wanted, str) else wanted
            if tags.get(key) not in allowed:
                return False
        return True


class PolicyDocument(_Strict):
    """Version 1. Rules are tried in order; the first that matches a resource applies."""

    version: Literal[1]
    paused: Flag = False
    """While true nothing is stopped: watchers keep waiting and resume where they were."""
    rules: tuple[Rule, ...] = ()
    guardrails: Guardrails | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: Any) -> Any:
        """`version: true` is not version 1 (True == 1 in Python)."""
        if isinstance(value, bool):
            raise ValueError("Input should be 1")
        return value

    def rule_for(self, kind: str, tags: Mapping[str, str], account: str | None) -> Rule | None:
        return next((rule for rule in self.rules if rule.matches(kind, tags, account)), None)


def parse(text: str, kinds: tuple[str, ...]) -> PolicyDocument:
    """The document in `text` (YAML or JSON), or PolicyError naming the first bad field."""
    return _parse(text, kinds)


@lru_cache(maxsize=8)
def _parse(text: str, kinds: tuple[str, ...]) -> PolicyDocument:
    """Cached by text: Powertools caches the parameter, this the reading of it."""
    if len(text) > MAX_DOCUMENT_CHARS:
        raise PolicyError(f"policy: {len(text)} characters, more than {MAX_DOCUMENT_CHARS}")
    try:
        raw: Any = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        place = getattr(exc, "problem_mark", None)
        where = f" at line {place.line + 1}" if place is not None else ""
        problem = getattr(exc, "problem", None)
        why = f": {problem}" if problem in (_DUPLICATE, _GUESSED) else ""
        raise PolicyError(f"policy: not valid YAML or JSON{where}{why}") from None
    except RecursionError:  # `[[[[…` thousands deep: refused, never a crash of every reader
        raise PolicyError("policy: nested too deeply") from None
    if not isinstance(raw, dict):
        raise PolicyError("policy: the document must be a mapping with `version: 1`")
    try:
        document = PolicyDocument.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(_first_error(exc)) from None
    for n, rule in enumerate(document.rules):
        for m, kind in enumerate(rule.match.kinds):
            if kind not in kinds:
                raise PolicyError(
                    f"rules[{n}].match.kinds[{m}]: unknown kind {kind[:64]!r}"
                    f" (known: {', '.join(kinds)})"
                )
    names = [rule.name for rule in document.rules]
    for n, name in enumerate(names):
        if name in names[:n]:
            raise PolicyError(f"rules[{n}].name: {name!r} is used by an earlier rule")
    return document


_DUPLICATE = "a key is given twice"
_GUESSED = "only true and false are booleans, and whole numbers are written in decimal"


class _StrictLoader(yaml.SafeLoader):  # type: ignore[misc]
    """YAML as a person means it: a key given twice is an error (not the last one silently),
    and YAML 1.1's guesses (`yes`/`on` as true, `0120` as octal 80, `1:30` as 90) are refused
    rather than read as something the author did not write."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        for n, key in enumerate(keys):
            if isinstance(key, str | int) and key in keys[:n]:
                raise yaml.constructor.ConstructorError(
                    None, None, _DUPLICATE, node.value[n][0].start_mark
                )
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping

    def construct_yaml_bool(self, node: yaml.ScalarNode) -> bool:
        text = str(self.construct_scalar(node))
        if text not in ("true", "false"):
            raise yaml.constructor.ConstructorError(None, None, _GUESSED, node.start_mark)
        return text == "true"

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        if not re.fullmatch(r"-?(0|[1-9][0-9]*)", text):
            raise yaml.constructor.ConstructorError(None, None, _GUESSED, node.start_mark)
        return int(text)


_StrictLoader.add_constructor("tag:yaml.org,2002:bool", _StrictLoader.construct_yaml_bool)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)


_TYPE_NAMES = frozenset({"str", "int", "bool", "tuple", "list", "dict", "literal"})


def _first_error(exc: ValidationError) -> str:
    """`rules[1].idle_minutes: Input should be greater than or equal to 1`: the field a
    person must fix, never the value (it is echoed only in the log, bounded)."""
    error = exc.errors(include_url=False, include_input=False)[0]
    path = ""
    for part in error["loc"]:
        if isinstance(part, str) and (part.startswith("[") or "-" in part or part in _TYPE_NAMES):
            continue  # pydantic's own step (`[key]`, `constrained-str`, `tuple`), not a field
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return f"{path or 'policy'}: {error['msg']}"
