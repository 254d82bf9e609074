"""Who clicked, as far as idle-reaper may trust it (src/idle_reaper/slack_users.py), asked of
Slack's side as the local runtime plays it (local_runtime/slack_app.py: auth.test, users.info):
only a member of the app's own organization, with a confirmed email, is anybody."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from idle_reaper import slack_users
from idle_reaper.exceptions import KeepError
from idle_reaper.slack_users import Workspace, email_of, workspace_of
from local_runtime.slack_app import TEAM_ID, SlackApp

PARTNER = "T0PARTNER1"
ORG = "E0ORGANIZ1"


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackApp]:
    app = SlackApp(lambda: datetime(2026, 3, 2, tzinfo=UTC))
    with app.serving():
        monkeypatch.setattr(slack_users, "SLACK_API_URL", f"{app.url}/api/")
        monkeypatch.setattr(slack_users, "_WORKSPACES", {})
        yield app


def amend(
    monkeypatch: pytest.MonkeyPatch,
    app: SlackApp,
    method: str,
    change: Callable[[dict[str, Any]], None],
) -> list[str]:
    """Slack's answer to `method`, changed; the calls it got."""
    original = getattr(app, method)
    calls: list[str] = []

    def answer(*args: Any) -> dict[str, Any]:
        calls.append(method)
        found: dict[str, Any] = original(*args)
        change(found)
        return found

    monkeypatch.setattr(app, method, answer)
    return calls


def sibling_member(slack: SlackApp, monkeypatch: pytest.MonkeyPatch, email: str) -> str:
    """A member of another workspace of the organization ORG, as users.info describes one."""
    member = slack.person(email)
    slack.teams[member] = "T0SIBLING1"

    def enterprise(answer: dict[str, Any]) -> None:
        answer["user"]["enterprise_user"] = {"enterprise_id": ORG, "teams": ["T0SIBLING1"]}

    amend(monkeypatch, slack, "users_info", enterprise)
    return member


def test_a_member_of_the_workspace_is_their_confirmed_email(slack: SlackApp) -> None:
    alice = slack.person("Alice@Example.com")
    assert email_of(alice, TEAM_ID, slack.bot_token) == "alice@example.com"


def test_a_partner_in_a_slack_connect_channel_is_nobody_whatever_their_email(
    slack: SlackApp,
) -> None:
    """Their organization controls their address: it may read the owner's own."""
    mallory = slack.person("alice@example.com")  # the owner's address, on a partner's profile
    slack.teams[mallory] = PARTNER
    assert email_of(mallory, PARTNER, slack.bot_token) is None
    # and a payload claiming the app's workspace is caught by users.info's team_id
    assert email_of(mallory, TEAM_ID, slack.bot_token) is None


def test_a_click_that_names_no_workspace_is_nobody(slack: SlackApp) -> None:
    alice = slack.person("alice@example.com")
    assert email_of(alice, None, slack.bot_token) is None


@pytest.mark.parametrize("confirmed", [False, None, "true", 1])
def test_an_email_slack_does_not_say_is_confirmed_is_nobodys(
    slack: SlackApp, monkeypatch: pytest.MonkeyPatch, confirmed: object
) -> None:
    alice = slack.person("alice@example.com")

    def unconfirm(answer: dict[str, Any]) -> None:
        if confirmed is None:
            del answer["user"]["is_email_confirmed"]
        else:
            answer["user"]["is_email_confirmed"] = confirmed

    amend(monkeypatch, slack, "users_info", unconfirm)
    assert email_of(alice, TEAM_ID, slack.bot_token) is None


def test_in_an_enterprise_organization_a_sibling_workspace_is_ours(
    slack: SlackApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The click reports the organization's E id (Slack's block_actions payload); users.info
    names the member's own workspace and their enterprise_user.enterprise_id."""
    amend(monkeypatch, slack, "auth_test", lambda a: a.update(enterprise_id=ORG))
    sibling = sibling_member(slack, monkeypatch, "carol@example.com")
    assert email_of(sibling, ORG, slack.bot_token) == "carol@example.com"
    assert email_of(sibling, "E0OTHERORG", slack.bot_token) is None


def test_an_organization_wide_install_is_at_home_in_the_whole_organization(
    slack: SlackApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An org-wide install's token may name no workspace (Slack's org-wide OAuth answer has
    "team": null); the organization is then the app's home."""

    def org_wide(answer: dict[str, Any]) -> None:
        answer.update(team_id=None, enterprise_id=ORG, is_enterprise_install=True)

    amend(monkeypatch, slack, "auth_test", org_wide)
    assert workspace_of(slack.bot_token) == Workspace(ORG, ORG)
    member = sibling_member(slack, monkeypatch, "dan@example.com")
    assert email_of(member, ORG, slack.bot_token) == "dan@example.com"
    assert email_of(member, PARTNER, slack.bot_token) is None


def test_an_install_naming_neither_workspace_nor_organization_identifies_nobody(
    slack: SlackApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    amend(
        monkeypatch,
        slack,
        "auth_test",
        lambda a: a.update(team_id=None, is_enterprise_install=True),
    )
    with pytest.raises(KeepError, match="named no workspace"):
        workspace_of(slack.bot_token)


def test_a_missing_confirmation_field_is_said_in_the_log(
    slack: SlackApp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    alice = slack.person("alice@example.com")
    amend(monkeypatch, slack, "users_info", lambda a: a["user"].pop("is_email_confirmed"))
    with caplog.at_level("WARNING", logger="idle_reaper.slack_users"):
        assert email_of(alice, TEAM_ID, slack.bot_token) is None
    assert "no is_email_confirmed" in caplog.text


def test_the_workspace_is_asked_once_per_token(
    slack: SlackApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = amend(monkeypatch, slack, "auth_test", lambda a: None)
    alice, bob = slack.person("alice@example.com"), slack.person("bob@example.com")
    email_of(alice, TEAM_ID, slack.bot_token)
    email_of(bob, TEAM_ID, slack.bot_token)
    assert calls == ["auth_test"]
    assert workspace_of(slack.bot_token) == Workspace(TEAM_ID)


def test_when_slack_cannot_say_nobody_is_identified_loudly(slack: SlackApp) -> None:
    alice = slack.person("alice@example.com")
    with pytest.raises(KeepError, match=r"auth\.test answered invalid_auth"):
        email_of(alice, TEAM_ID, "xoxb-not-the-token")


@pytest.mark.parametrize(
    ("workspace", "team", "enterprise", "held"),
    [
        (Workspace("T0HOME0001"), "T0HOME0001", None, True),
        (Workspace("T0HOME0001"), "T0OTHER001", None, False),
        (Workspace("T0HOME0001"), None, None, False),
        (Workspace("T0HOME0001"), "T0OTHER001", "E0ORGANIZ1", False),  # no organization here
        (Workspace("T0HOME0001", ORG), ORG, None, True),
        (Workspace("T0HOME0001", ORG), "T0OTHER001", ORG, True),
        (Workspace("T0HOME0001", ORG), "T0OTHER001", "E0OTHERORG", False),
    ],
)
def test_what_counts_as_the_apps_organization(
    workspace: Workspace, team: str | None, enterprise: str | None, held: bool
) -> None:
    assert workspace.holds(team, enterprise) is held
