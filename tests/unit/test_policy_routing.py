"""A rule's route, from the watcher's event to the channels: the team's SNS attribute and its
own Slack webhook; a route that does not have the documented shape is ignored, never used."""

from __future__ import annotations

from typing import Any

import pytest

from idle_reaper.messages import render
from idle_reaper.notification import Channels, notify
from idle_reaper.reaper_event import ReaperEvent
from idle_reaper.route import route_of
from tests.conftest import load_event
from tests.unit.test_notification import FakeSns, Once


def routed(route: Any) -> dict[str, Any]:
    event = load_event("reaper-stopped.json")
    event["detail"]["verdict"]["route"] = route
    return event


def test_the_team_attribute_lets_a_teams_email_subscription_filter() -> None:
    sns = FakeSns()
    notify(routed({"team": "analytics"}), Channels(topic_arn="arn:t"), sns, Once())
    (sent,) = sns.published
    assert sent["MessageAttributes"]["team"] == {"DataType": "String", "StringValue": "analytics"}


def test_a_teams_webhook_replaces_the_stacks_for_its_resources() -> None:
    asked: list[str] = []
    sent: list[str] = []

    def team_url(secret: str) -> str:
        asked.append(secret)
        return "http://127.0.0.1:9/team"

    channels = Channels(slack_url=lambda: "http://127.0.0.1:9/default", team_slack_url=team_url)
    import idle_reaper.slack as slack_module

    original = slack_module.send

    def fake_send(url: str, message: Any, deadline: Any) -> Any:
        sent.append(url)
        return slack_module.SlackResult("delivered", 200, "ok")

    slack_module.send = fake_send  # type: ignore[assignment]
    try:
        notify(
            routed({"slack_webhook_secret": "idle-reaper/slack/ml"}), channels, FakeSns(), Once()
        )
        notify(load_event("reaper-warning.json"), channels, FakeSns(), Once())
    finally:
        slack_module.send = original  # type: ignore[assignment]
    assert asked == ["idle-reaper/slack/ml"]
    assert sent == ["http://127.0.0.1:9/team", "http://127.0.0.1:9/default"]


@pytest.mark.parametrize(
    "route",
    [
        {"team": "a b"},
        {"team": "<!channel>"},
        {"team": 5},
        {"slack_webhook_secret": "prod/db-password"},
        {"slack_webhook_secret": "idle-reaper/slack/../../prod/db"},
        {"slack_webhook_secret": "arn:aws:secretsmanager:us-east-1:1:secret:x"},
        "analytics",
        ["analytics"],
        None,
    ],
)
def test_a_route_of_any_other_shape_is_ignored(route: Any) -> None:
    assert route_of({"route": route}) == {}
    message = render(ReaperEvent.parse(routed(route)))
    assert "team" not in message.attributes


def test_a_route_keeps_only_its_well_formed_parts() -> None:
    assert route_of({"route": {"team": "ml", "slack_webhook_secret": "x/y"}}) == {"team": "ml"}
