"""The policy document: what validates, what is refused (naming the field), and how the
template, a rule and a resource's tags combine (README "Policy precedence")."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from idle_reaper.exceptions import PolicyError
from idle_reaper.kinds import all_kinds
from idle_reaper.policy import IDLE_MINUTES_TAG, KEEP_UNTIL_TAG, Policy
from idle_reaper.policy_document import parse


def ml(fields: dict[str, object]) -> dict[str, object]:
    """A document with one rule, `ml`, with these fields."""
    return {"version": 1, "rules": [{"name": "ml", **fields}]}


KINDS = tuple(kind.name for kind in all_kinds())
TEMPLATE = Policy.from_env({"GLUE_IDLE_MINUTES": "30", "MAX_IDLE_MINUTES": "1440"})
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

THREE_TEAMS = """
version: 1
guardrails: {required_tags: [owner]}
rules:
  - name: ml
    match: {tags: {team: ml}}
    idle_minutes: 120
    warning_minutes: 10
    tags: {max_idle_minutes: 180, exempt: false}
  - name: analytics
    match: {kinds: [glue-session], tags: {team: [analytics, bi]}, accounts: ["111122223333"]}
    idle_minutes: 20
    max_running_minutes: 240
    dry_run: true
    notify: {team: analytics, slack_webhook_secret: idle-reaper/slack/analytics}
  - name: platform
    match: {tags: {team: platform}}
    exempt: true
"""


def policy(text: str = THREE_TEAMS, base: Policy = TEMPLATE) -> Policy:
    return base.with_document(text)


def test_a_valid_document_in_yaml_and_in_json_reads_the_same() -> None:
    as_yaml = parse(THREE_TEAMS, KINDS)
    import yaml

    as_json = parse(json.dumps(yaml.safe_load(THREE_TEAMS)), KINDS)
    assert as_yaml == as_json
    assert [rule.name for rule in as_yaml.rules] == ["ml", "analytics", "platform"]


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"rules": []}, "version: Field required"),
        ({"version": 2}, "version: Input should be 1"),
        ({"version": 1, "paused": "yes"}, "paused: Input should be a valid boolean"),
        ({"version": 1, "paused": 1}, "paused: Input should be a valid boolean"),
        (ml({"exempt": "true"}), "rules[0].exempt: Input should be a valid boolean"),
        ({"version": 1, "rule": []}, "rule: Extra inputs are not permitted"),
        (ml({"idle_minutes": 0}), "rules[0].idle_minutes"),
        (ml({"idle_minutes": "30"}), "rules[0].idle_minutes"),
        (ml({"idle_minutes": 10**9}), "rules[0].idle_minutes"),
        (ml({"warning_minutes": -1}), "rules[0].warning_minutes"),
        (ml({"max_running_minutes": 0}), "rules[0].max_running_minutes"),
        (ml({"exempt": "maybe"}), "rules[0].exempt"),
        (ml({"dry_run": 2}), "rules[0].dry_run"),
        ({"version": 1, "rules": [{"name": "<b>ml</b>"}]}, "rules[0].name"),
        ({"version": 1, "rules": [{"idle_minutes": 5}]}, "rules[0].name: Field required"),
        (ml({"idle_minuts": 5}), "rules[0].idle_minuts: Extra"),
        (ml({"match": {"accounts": ["12345"]}}), "rules[0].match.accounts[0]"),
        (ml({"match": {"kinds": ["glue"]}}), "rules[0].match.kinds[0]: unknown kind 'glue'"),
        (ml({"match": {"tags": {"team": 5}}}), "rules[0].match.tags.team"),
        (ml({"notify": {"team": "a b"}}), "rules[0].notify.team"),
        (ml({"notify": {"slack_webhook_secret": "db/password"}}), "notify.slack_webhook_secret"),
        (ml({"tags": {"max_idle_minutes": 0}}), "rules[0].tags.max_idle_minutes"),
        ({"version": 1, "rules": [{"name": "ml"}, {"name": "ml"}]}, "rules[1].name: 'ml' is used"),
        ({"version": 1, "guardrails": {"action": "kill"}}, "guardrails.action"),
        ({"version": 1, "guardrails": {"max_workers": 0}}, "guardrails.max_workers"),
        ({"version": 1, "guardrails": {"required_tags": "owner"}}, "guardrails.required_tags"),
    ],
)  # fmt: skip
def test_each_invalid_field_is_named(document: dict[str, object], field: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse(json.dumps(document), KINDS)
    assert field in str(raised.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1\nrules: [", "not valid YAML or JSON at line"),
        ("- version: 1", "must be a mapping"),
        ("just words", "must be a mapping"),
        ("", "must be a mapping"),
        ("version: 1\n" + "#" * 9000, "more than 8192"),
    ],
)
def test_an_unreadable_document_says_why(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse(text, KINDS)


def test_the_bad_value_itself_is_never_echoed() -> None:
    """The error goes into events, Slack and logs: it names the field, not the value."""
    hostile = "<!channel> https://evil.example/" + "x" * 50
    with pytest.raises(PolicyError) as raised:
        parse(json.dumps({"version": 1, "rules": [{"name": hostile}]}), KINDS)
    assert "evil" not in str(raised.value)
    assert "rules[0].name" in str(raised.value)


def test_an_invalid_document_is_kept_as_its_error_and_sets_nothing() -> None:
    broken = policy(json.dumps(ml({"idle_minutes": 0})))
    assert broken.document is None
    assert broken.document_error is not None and "rules[0].idle_minutes" in broken.document_error
    assert broken.for_resource("glue-session", {"team": "ml"}, None) == broken


# The precedence table: template < first matching rule < the resource's tags, within the
# limits the rule sets on tags. Each row of the README's table is one test here.


def test_no_rule_matches_the_template_applies() -> None:
    own = policy().for_resource("glue-session", {"team": "finance"}, "111122223333")
    assert own.rule is None
    assert own.idle_minutes_for("glue-session", {})[0] == 30
    assert own.warning_minutes == 5


def test_a_rule_overrides_the_template() -> None:
    own = policy().for_resource("glue-session", {"team": "ml"}, None)
    assert own.rule is not None and own.rule.name == "ml"
    assert own.idle_minutes_for("glue-session", {"team": "ml"}) == (120, None)
    assert own.warning_minutes == 10


def test_the_first_matching_rule_wins() -> None:
    text = THREE_TEAMS + "  - name: later\n    match: {tags: {team: ml}}\n    idle_minutes: 5\n"
    own = policy(text).for_resource("glue-session", {"team": "ml"}, None)
    assert own.rule is not None and own.rule.name == "ml"


def test_every_match_condition_must_hold() -> None:
    doc = policy()
    tags = {"team": "bi"}
    assert doc.for_resource("glue-session", tags, "111122223333").rule is not None
    assert doc.for_resource("glue-session", tags, "999999999999").rule is None  # account
    assert doc.for_resource("sagemaker-notebook", tags, "111122223333").rule is None  # kind
    assert doc.for_resource("glue-session", {"team": "BI"}, "111122223333").rule is None  # exact


def test_a_tag_overrides_the_rule_up_to_the_rules_limit() -> None:
    own = policy().for_resource("glue-session", {"team": "ml"}, None)
    assert own.idle_minutes_for("glue-session", {IDLE_MINUTES_TAG: "150"}) == (150, None)
    minutes, note = own.idle_minutes_for("glue-session", {IDLE_MINUTES_TAG: "480"})
    assert minutes == 180
    assert note is not None and "capped at 180 minutes by the policy rule 'ml'" in note


def test_max_idle_minutes_still_caps_a_tag_under_a_looser_rule() -> None:
    base = Policy.from_env({"MAX_IDLE_MINUTES": "100"})
    own = policy(base=base).for_resource("glue-session", {"team": "ml"}, None)
    minutes, note = own.idle_minutes_for("glue-session", {IDLE_MINUTES_TAG: "150"})
    assert minutes == 100 and note is not None and "MaxIdleMinutes=100" in note


def test_a_rule_may_refuse_the_exempt_tag_and_says_so() -> None:
    tags = {"team": "ml", "idle-reaper:exempt": "true"}
    own = policy().for_resource("glue-session", tags, None)
    assert not own.is_exempt(tags)
    note = own.exempt_note(tags)
    assert note is not None and "not honoured by the policy rule 'ml'" in note
    assert TEMPLATE.is_exempt(tags)  # without the document the tag exempts


def test_a_rule_may_exempt_whatever_the_tags_say() -> None:
    tags = {"team": "platform"}
    own = policy().for_resource("ec2-instance", tags, None)
    assert own.is_exempt(tags)
    assert own.exempt_reason(tags) == "exempt by the policy rule 'platform'"


def test_template_dry_run_stays_on_whatever_a_rule_says() -> None:
    dry = Policy.from_env({"DRY_RUN": "true"})
    text = "version: 1\nrules: [{name: all, dry_run: false}]"
    assert dry.with_document(text).for_resource("glue-session", {}, None).dry_run is True
    assert TEMPLATE.with_document(text).for_resource("glue-session", {}, None).dry_run is False
    rule_dry = "version: 1\nrules: [{name: all, dry_run: true}]"
    assert TEMPLATE.with_document(rule_dry).for_resource("glue-session", {}, None).dry_run


def test_keep_until_is_capped_by_the_rules_tag_limit_and_running_time() -> None:
    ml = policy().for_resource("glue-session", {"team": "ml"}, None)
    tags = {KEEP_UNTIL_TAG: "2026-03-03T09:00:00Z"}
    kept, note = ml.keep_until(tags, T0, T0)
    assert kept == T0 + timedelta(minutes=180)
    assert note is not None and "180 minutes by the policy rule 'ml'" in note
    analytics = policy().for_resource("glue-session", {"team": "bi"}, "111122223333")
    kept, note = analytics.keep_until(tags, T0 + timedelta(hours=3), T0)
    assert kept == T0 + timedelta(minutes=240)
    assert note is not None and "maximum running time (240 minutes)" in note


def test_a_rule_may_refuse_keep_until() -> None:
    text = "version: 1\nrules: [{name: strict, tags: {keep_until: false}}]"
    own = TEMPLATE.with_document(text).for_resource("glue-session", {}, None)
    kept, note = own.keep_until({KEEP_UNTIL_TAG: "2026-03-02T10:00:00Z"}, T0, T0)
    assert kept is None and note is not None and "not honoured by the policy rule" in note


def test_guardrails_come_from_the_rule_else_the_document() -> None:
    doc = policy(THREE_TEAMS.replace("    exempt: true\n", "    guardrails: {max_workers: 4}\n"))
    assert doc.for_resource("glue-session", {}, None).guardrails is not None
    platform = doc.for_resource("glue-session", {"team": "platform"}, None).guardrails
    assert platform is not None and platform.max_workers == 4 and platform.required_tags == ()


def test_route_and_pause_are_read() -> None:
    own = policy().for_resource("glue-session", {"team": "bi"}, "111122223333")
    assert own.route is not None and own.route.team == "analytics"
    assert not own.paused
    assert policy("version: 1\npaused: true").paused
