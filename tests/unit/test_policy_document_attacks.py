"""Review of issue 10: hostile policy documents. Each test names a problem the review found;
it fails until the problem is fixed (README "Policy document": "validated whole ... an invalid
document stops nothing ... one `failed` event naming the bad field")."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from idle_reaper.exceptions import PolicyError
from idle_reaper.guardrail import breaches
from idle_reaper.policy import Policy
from idle_reaper.policy_document import Guardrails, parse
from idle_reaper.resource import Observation
from idle_reaper.verdict import decide

KINDS = ("glue-session", "sagemaker-notebook", "sagemaker-app", "ec2-instance")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
READY = Observation(
    phase="billing", status="READY", started_at=T0, last_activity_at=T0, cost_per_hour=2.2
)


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\nrules: " + "[" * 4000 + "]" * 4000,  # 8,018 characters: under the limit
        '{"version": 1, "rules": ' + "[" * 2000 + "]" * 2000 + "}",  # JSON is YAML too
        "version: 1\nrules: " + "{a: " * 1500 + "1" + "}" * 1500,
    ],
    ids=["yaml-flow", "json", "yaml-mapping"],
)
def test_a_deeply_nested_document_is_an_invalid_document_not_a_crash(text: str) -> None:
    """PyYAML composes recursively: nesting deeper than the interpreter's recursion limit
    raises RecursionError, which is not a yaml.YAMLError, so policy_document._parse lets it
    out; Policy.with_document catches only PolicyError. Then Inspect (every watcher's every
    look), the sweeper and the policy check all crash instead of holding and reporting once."""
    try:
        policy = Policy.from_env({}).with_document(text)
    except RecursionError:
        pytest.fail("RecursionError escaped Policy.with_document: every function reading it fails")
    assert policy.document_error is not None
    verdict = decide("glue-session", READY, policy.for_resource("glue-session", {}, None), T0)
    assert verdict.action == "wait"


def test_a_duplicate_key_is_refused_not_silently_the_last_one() -> None:
    """yaml.safe_load keeps the last of two equal keys (JSON too): a document that says
    `paused: true` and, further down, `paused: false` is not paused, and nobody is told. The
    model refuses unknown keys for the same reason ("a misspelt key must not be silently
    ignored"); a duplicate one is the same mistake."""
    with pytest.raises(PolicyError):
        parse("version: 1\npaused: true\nrules: []\npaused: false\n", KINDS)


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\nrules: [{name: r, exempt: yes}]",  # YAML 1.1: yes is true
        "version: 1\npaused: on",  # YAML 1.1: on is true
        "version: 1\nrules: [{name: r, idle_minutes: 0120}]",  # YAML 1.1 octal: 80 minutes
        "version: true",  # Literal[1] takes True
    ],
    ids=["exempt-yes", "paused-on", "octal-minutes", "version-true"],
)
def test_yaml_1_1_guesses_are_refused_as_the_model_promises(text: str) -> None:
    """policy_document.Flag: "true or false only: `"yes"` or `1` for `exempt` is a mistake to
    name, not to guess at"; README: "`true`/`false` only (`"yes"` is refused, not guessed)".
    PyYAML resolves YAML 1.1 scalars before pydantic sees them, so the guess is made anyway:
    `exempt: yes` exempts, `paused: on` pauses, `idle_minutes: 0120` is 80 minutes."""
    with pytest.raises(PolicyError):
        parse(text, KINDS)


@pytest.mark.parametrize("blank", ["\u200b", "\u2060", "\ufeff", "\u3164", "\u3164\u3164"])
def test_an_invisible_owner_tag_is_a_missing_owner_tag(blank: str) -> None:
    """guardrail.breaches treats `value.strip()` as blank: str.strip() removes whitespace, but
    zero-width characters (U+200B, U+2060, U+FEFF) are not whitespace to Python, so an owner
    tag that shows nothing at all satisfies `required_tags: [owner]`. Services that enforce
    the common tag pattern `[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*` refuse the zero-width ones, but
    U+3164 HANGUL FILLER is a letter (\\p{L}): blank on screen, and that pattern accepts it."""
    seen = replace(READY, tags={"owner": blank})
    assert breaches(Guardrails(required_tags=("owner",)), seen) != []
