"""The keep decision (issue 12) against a fake Glue and fake neighbours: who may keep, what a
click changes, and every click that must change nothing."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from idle_reaper import keep as keep_module
from idle_reaper.audit import AuditRecord
from idle_reaper.exceptions import KeepError
from idle_reaper.keep import Answer, Keeper, keep
from idle_reaper.keep_choices import CHOICES, ButtonValue
from idle_reaper.kept_by import KEPT_BY_TAG, kept_by
from idle_reaper.policy import KEEP_UNTIL_TAG, Policy
from idle_reaper.resource import Home, ResourceRef
from idle_reaper.slack_interaction import Click

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=27)
ACCOUNT, REGION = "123456789012", "us-east-1"
REF = ResourceRef(kind="glue-session", id="alice-etl", region=REGION, account=ACCOUNT)
ALICE, BOB, ADMIN = "U0ALICE01", "U0BOB0001", "U0ADMIN01"
EMAILS = {ALICE: "Alice@Example.com", BOB: "bob@example.com"}


class FakeGlue:
    """A READY session created at T0, idle since, with its tags; every TagResource counted."""

    def __init__(
        self, status: str = "READY", tags: dict[str, str] | None = None, created: datetime = T0
    ) -> None:
        self.status, self.created = status, created
        self.tags = {"owner": "alice@example.com"} if tags is None else dict(tags)
        self.writes: list[dict[str, str]] = []
        self.refuse: str | None = None

    def get_session(self, Id: str) -> dict[str, Any]:
        if self.status == "MISSING":
            raise ClientError({"Error": {"Code": "EntityNotFoundException"}}, "GetSession")
        return {
            "Session": {
                "Id": Id,
                "Status": self.status,
                "CreatedOn": self.created,
                "NumberOfWorkers": 5,
                "WorkerType": "G.1X",
            }
        }

    def list_statements(self, SessionId: str, NextToken: str | None = None) -> dict[str, Any]:
        return {"Statements": []}

    def get_tags(self, ResourceArn: str) -> dict[str, Any]:
        return {"Tags": dict(self.tags)}

    def tag_resource(self, ResourceArn: str, TagsToAdd: dict[str, str]) -> None:
        if self.refuse:
            raise ClientError({"Error": {"Code": self.refuse}}, "TagResource")
        assert ResourceArn == f"arn:aws:glue:{REGION}:{ACCOUNT}:session/alice-etl"
        self.writes.append(dict(TagsToAdd))
        self.tags.update(TagsToAdd)


class World:
    """The keep function's neighbours: Glue, the audit trail, Slack's users.info, the bus,
    the claims table."""

    def __init__(self, glue: FakeGlue | None = None, policy: Policy | None = None) -> None:
        self.glue = glue or FakeGlue()
        self.policy = policy or Policy.from_env({})
        self.warned_owner: str | None = "alice@example.com"
        self.published: list[dict[str, Any]] = []
        self.claims: dict[str, datetime] = {}
        self.lookups: list[str] = []
        self.teams: list[str | None] = []
        self.bot_token = True
        self.slack_down = False

    def email_of(self, user: str, team: str | None) -> str | None:
        self.lookups.append(user)
        self.teams.append(team)
        if self.slack_down:
            raise KeepError("users.info failed: URLError")
        email = EMAILS.get(user)
        return email.lower() if email else None

    def last_warning(self, kind: Any, ref: ResourceRef) -> AuditRecord | None:
        if self.warned_owner is None:
            return None
        blank = dict.fromkeys(("pk", "sk", "week", "event_id", "at", "kind", "account"), "x")
        return AuditRecord(
            **blank,
            type="warning",
            resource_id=ref.id,
            region=ref.region,
            owner=self.warned_owner,
        )

    def claim(self, key: str, until: datetime) -> bool:
        held = self.claims.get(key)
        if held is not None and held >= until - timedelta(minutes=5):
            return False
        self.claims[key] = until
        return True

    def keeper(self, now: datetime = NOW, admins: frozenset[str] = frozenset()) -> Keeper:
        return Keeper(
            client_for=lambda service, region: self.glue,
            policy=self.policy,
            home=Home("aws", REGION, ACCOUNT),
            admins=admins,
            email_of=self.email_of if self.bot_token else None,
            last_warning=self.last_warning,
            publish=self.published.append,
            claim=self.claim,
            now=now,
        )


def click(
    user: str = ALICE,
    choice: str = "1h",
    at: datetime = NOW,
    value: str | None = None,
) -> Click:
    default = ButtonValue(REF, T0).encode()
    return Click(
        user_id=user,
        team_id="T0TEAM001",
        channel_id="C0CHAN001",
        action_id=CHOICES[choice].action_id,
        value=default if value is None else value,
        response_url="https://hooks.slack.com/actions/T0TEAM001/1/x",
        clicked_at=at,
    )


def test_the_owner_keeps_for_an_hour_from_the_click() -> None:
    world = World()
    answer = keep(click(), world.keeper())
    assert answer.outcome == "kept"
    assert answer.until == NOW + timedelta(hours=1)
    assert world.glue.writes == [
        {
            KEEP_UNTIL_TAG: "2026-03-02T10:27:00Z",
            KEPT_BY_TAG: "alice@example.com until 2026-03-02T10:27:00Z",
        }
    ]
    assert kept_by(world.glue.tags) == "alice@example.com"
    (event,) = world.published
    assert (event["Source"], event["DetailType"]) == ("idle-reaper", "kept")
    detail = json.loads(event["Detail"])
    assert detail["resource"]["id"] == "alice-etl"
    assert detail["resource"]["owner"] == "alice@example.com"
    assert detail["keep"] == {
        "until": "2026-03-02T10:27:00Z",
        "previous": None,
        "by": "alice@example.com",
        "slack_user": ALICE,
        "admin": False,
        "choice": "1h",
        "from": "slack:T0TEAM001/C0CHAN001",
    }
    assert "Kept until 10:27 UTC on 2026-03-02 by alice@example.com" in answer.text


def test_a_click_mid_minute_keeps_to_the_next_whole_minute() -> None:
    world = World()
    answer = keep(click(at=NOW + timedelta(seconds=13)), world.keeper(NOW + timedelta(seconds=14)))
    assert answer.until == datetime(2026, 3, 2, 10, 28, tzinfo=UTC)


def test_until_tomorrow_morning_is_nine_utc_the_next_day() -> None:
    world = World()
    answer = keep(click(choice="tomorrow"), world.keeper())
    assert answer.outcome == "kept"
    assert world.glue.tags[KEEP_UNTIL_TAG] == "2026-03-03T09:00:00Z"


def test_someone_else_cannot_keep_it_and_nothing_changes() -> None:
    world = World()
    answer = keep(click(user=BOB), world.keeper())
    assert answer.outcome == "refused"
    assert "Only the owner of alice-etl (alice@example.com)" in answer.text
    assert world.glue.writes == [] and world.published == []


def test_without_the_bot_token_only_admins_can_keep() -> None:
    world = World()
    world.bot_token = False
    assert keep(click(), world.keeper()).outcome == "refused"
    answer = keep(click(user=ADMIN), world.keeper(admins=frozenset({ADMIN})))
    assert answer.outcome == "kept"
    assert answer.who == "slack:U0ADMIN01"
    assert world.glue.tags[KEPT_BY_TAG] == "slack:U0ADMIN01 until 2026-03-02T10:27:00Z"
    assert json.loads(world.published[0]["Detail"])["keep"]["admin"] is True


def test_an_admin_keeps_what_they_do_not_own() -> None:
    world = World()
    answer = keep(click(user=BOB), world.keeper(admins=frozenset({BOB})))
    assert answer.outcome == "kept" and answer.who == "bob@example.com"


def test_an_admin_keeps_even_when_slack_cannot_say_who_they_are() -> None:
    """An admin is one by the Slack user id Slack signed: users.info down changes only how the
    keep is signed. Anyone else cannot be identified then: `failed`, for the alarm."""
    world = World()
    world.slack_down = True
    assert keep(click(), world.keeper(admins=frozenset({BOB}))).outcome == "failed"
    answer = keep(click(user=BOB), world.keeper(admins=frozenset({BOB})))
    assert answer.outcome == "kept" and answer.who == f"slack:{BOB}"


def test_the_clickers_own_workspace_is_what_is_checked() -> None:
    """The lookup is told the click's user.team_id (an external member's own organization),
    falling back to the workspace the click came from (slack_users.py decides)."""
    world = World()
    keep(replace(click(), user_team_id="T0PARTNER1"), world.keeper())
    keep(click(), world.keeper())
    assert world.teams == ["T0PARTNER1", "T0TEAM001"]


def test_an_owner_that_is_no_address_matches_nobody() -> None:
    world = World(FakeGlue(tags={}))
    world.warned_owner = "arn:aws:iam::123456789012:user/alice"
    assert keep(click(), world.keeper()).outcome == "refused"
    assert world.glue.writes == []


def test_without_an_owner_tag_the_owner_is_who_the_warning_named() -> None:
    world = World(FakeGlue(tags={}))  # a Glue session's owner is often its creator alone
    world.warned_owner = "alice@example.com"
    assert keep(click(), world.keeper()).outcome == "kept"
    world = World(FakeGlue(tags={}))
    world.warned_owner = "bob@example.com"
    assert keep(click(), world.keeper()).outcome == "refused"


def test_an_owner_tag_rewritten_after_the_warning_does_not_make_an_owner() -> None:
    """bob may tag the session: he writes `owner=bob@...` after the warning named alice, then
    clicks. Refused (alice too, until the next warning records the new owner); an admin still
    can; the same owner written in another case is no change."""
    world = World(FakeGlue(tags={"owner": "bob@example.com"}))
    world.warned_owner = "alice@example.com"
    answer = keep(click(user=BOB), world.keeper())
    assert answer.outcome == "refused"
    assert "owner tag changed since the warning" in answer.text
    assert world.glue.writes == [] and world.published == []
    assert keep(click(user=ADMIN), world.keeper(admins=frozenset({ADMIN}))).outcome == "kept"
    world = World(FakeGlue(tags={"owner": "ALICE@example.com"}))
    world.warned_owner = "alice@example.com"
    assert keep(click(), world.keeper()).outcome == "kept"


def test_a_double_click_writes_once_and_publishes_once() -> None:
    world = World()
    first = keep(click(), world.keeper())
    second = keep(click(at=NOW + timedelta(seconds=40)), world.keeper(NOW + timedelta(seconds=41)))
    assert (first.outcome, second.outcome) == ("kept", "already")
    assert len(world.glue.writes) == 1 and len(world.published) == 1
    assert "already kept until 10:27 UTC on 2026-03-02 by alice@example.com" in second.text


def test_a_replayed_request_asks_for_the_same_keep_and_changes_nothing() -> None:
    world = World()
    request = click()
    assert keep(request, world.keeper()).outcome == "kept"
    replayed = keep(request, world.keeper(NOW + timedelta(minutes=4)))
    assert replayed.outcome == "already"
    assert len(world.glue.writes) == 1 and len(world.published) == 1


def test_racing_clicks_both_pass_the_tag_check_but_publish_once() -> None:
    world = World()
    stale_view = FakeGlue()  # the second invocation read the tags before the first wrote them
    assert keep(click(), world.keeper()).outcome == "kept"
    racing = World(stale_view)
    racing.claims = world.claims
    answer = keep(click(at=NOW + timedelta(seconds=1)), racing.keeper())
    assert answer.outcome == "already" and racing.published == []


def test_a_later_click_past_the_double_click_window_extends() -> None:
    world = World()
    keep(click(), world.keeper())
    later = NOW + timedelta(minutes=20)
    answer = keep(click(at=later), world.keeper(later))
    assert answer.outcome == "kept" and answer.until == later + timedelta(hours=1)
    assert len(world.published) == 2
    assert json.loads(world.published[1]["Detail"])["keep"]["previous"] == "2026-03-02T10:27:00Z"


@pytest.mark.parametrize("status", ["STOPPED", "STOPPING", "TIMEOUT", "MISSING"])
def test_a_click_after_the_stop_changes_nothing(status: str) -> None:
    world = World(FakeGlue(status=status))
    answer = keep(click(), world.keeper())
    assert answer.outcome == "refused" and answer.text.startswith("Too late: alice-etl")
    assert world.glue.writes == [] and world.published == []


def test_a_click_on_a_resource_never_warned_changes_nothing() -> None:
    world = World()
    world.warned_owner = None
    answer = keep(click(), world.keeper())
    assert answer.outcome == "refused" and "no warning on record" in answer.text
    assert world.glue.writes == []


def test_a_click_on_the_warning_of_an_earlier_run_changes_nothing() -> None:
    world = World(FakeGlue(created=T0 + timedelta(hours=1)))
    answer = keep(click(), world.keeper(T0 + timedelta(hours=1, minutes=27)))
    assert answer.outcome == "refused" and "earlier run" in answer.text
    assert world.glue.writes == []


def test_past_the_policys_maximum_changes_nothing_and_says_how_far() -> None:
    world = World(policy=replace(Policy.from_env({}), max_idle_minutes=60))
    answer = keep(click(), world.keeper())  # idle since 09:00: at most 10:00
    assert answer.outcome == "refused"
    assert "MaxIdleMinutes=60" in answer.text and "until 10:00 UTC on 2026-03-02 at most" in (
        answer.text
    )
    assert world.glue.writes == [] and world.published == []


def _with_rule(rule: str) -> Policy:
    document = (
        '{"version": 1, "rules": [{"name": "etl", "match": {"kinds": ["glue-session"]}, '
        + rule
        + "}]}"
    )
    return Policy.from_env({}).with_document(document)


def test_a_rules_tag_limit_and_running_cap_are_maximums_too() -> None:
    world = World(policy=_with_rule('"tags": {"max_idle_minutes": 45}'))
    answer = keep(click(), world.keeper())
    assert answer.outcome == "refused" and "45 minutes by the policy rule 'etl'" in answer.text
    world = World(policy=_with_rule('"max_running_minutes": 60'))
    answer = keep(click(), world.keeper())
    assert answer.outcome == "refused" and "maximum running time (60 minutes)" in answer.text
    assert world.glue.writes == []


def test_a_rule_that_refuses_keep_until_refuses_the_click() -> None:
    world = World(policy=_with_rule('"tags": {"keep_until": false}'))
    answer = keep(click(), world.keeper())
    assert answer.outcome == "refused" and "not honoured by the policy rule 'etl'" in answer.text
    assert world.glue.writes == []


def test_an_exempt_resource_needs_no_keep() -> None:
    world = World(FakeGlue(tags={"owner": "alice@example.com", "idle-reaper:exempt": "true"}))
    answer = keep(click(), world.keeper())
    assert answer.outcome == "refused" and "exempt" in answer.text


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        '{"kind": "glue-session"}',
        '{"kind": "nope", "id": "x", "region": "us-east-1", "account": "123456789012"}',
        '{"kind": "glue-session", "id": "x", "region": "us-east-1", "account": "1234"}',
        '{"kind": "glue-session", "id": "x", "region": "us-east-1", "account": "123456789012",'
        ' "owner": "mallory@example.com"}',
        '{"kind": "glue-session", "id": "x", "region": "us-east-1", "account": "123456789012",'
        ' "started_at": "yesterday"}',
        "x" * 3000,
    ],
)
def test_a_forged_value_names_nothing_and_changes_nothing(value: str) -> None:
    world = World()
    answer = keep(click(value=value), world.keeper())
    assert answer.outcome == "refused" and "names no resource" in answer.text
    assert world.glue.writes == []


def test_a_value_naming_another_account_changes_nothing() -> None:
    other = ButtonValue(replace(REF, account="210987654321"), T0).encode()
    world = World()
    answer = keep(click(value=other), world.keeper())
    assert answer.outcome == "refused" and "another account or region" in answer.text
    assert world.glue.writes == []


def test_another_button_is_only_acknowledged() -> None:
    world = World()
    answer = keep(replace(click(), action_id="open-console"), world.keeper())
    assert answer == Answer("ignored", "")


def test_a_refused_tag_write_is_a_failure_to_report() -> None:
    world = World()
    world.glue.refuse = "AccessDeniedException"
    answer = keep(click(), world.keeper())
    assert answer.outcome == "failed" and "AccessDeniedException" in str(answer.error)
    assert "nothing was changed" in answer.text and world.published == []


def test_slack_unreachable_is_a_failure_not_a_refusal() -> None:
    world = World()
    world.slack_down = True
    answer = keep(click(), world.keeper())
    assert answer.outcome == "failed" and world.glue.writes == []


def test_the_owner_email_is_compared_as_people_write_it() -> None:
    world = World(FakeGlue(tags={"owner": " ALICE@example.COM "}))
    assert keep(click(), world.keeper()).outcome == "kept"


def test_unicode_case_folding_does_not_make_two_addresses_one() -> None:
    """`ß` folds to `ss` under Unicode rules: strasse@ and straße@ are two people."""
    assert keep_module._address(" Alice@Example.COM ") == "alice@example.com"
    assert keep_module._address("straße@example.com") != keep_module._address("strasse@example.com")
    assert keep_module._same_person("ALICE@example.com", "alice@EXAMPLE.com")
    assert not keep_module._same_person("strasse@example.com", "straße@example.com")


def test_a_resource_idle_reaper_no_longer_watches_needs_no_keep(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An instance whose opt-in tag was removed since its warning: its tag write would be
    refused by IAM; it is refused politely instead, and nothing is written."""
    from idle_reaper.kinds.base import Look
    from idle_reaper.kinds.glue import GlueSession
    from idle_reaper.resource import Observation

    class NotWatched(GlueSession):
        def observe(self, ref: ResourceRef, look: Look) -> Observation:
            seen = super().observe(ref, look)
            return replace(seen, unwatchable="not opted in: tag it idle-reaper:opt-in=true")

    monkeypatch.setattr("idle_reaper.keep.kind_named", lambda name: NotWatched())
    world = World()
    answer = keep(click(), world.keeper())
    assert answer.outcome == "refused" and "does not stop it (not opted in" in answer.text
    assert world.glue.writes == [] and world.published == []
