"""Where a policy rule sends a resource's notifications, as the watcher's events carry it.

Shared by the policy document (which validates a route when it is written) and the notify
function (which reads it back from an event, so checks its shape again: never trusted)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

TEAM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
"""A team name: the SNS `team` attribute a team's email subscription filters on."""
SLACK_SECRET_PREFIX = "idle-reaper/slack/"
"""Team webhooks live under this Secrets Manager prefix: the notify role may read no other."""
SLACK_SECRET_PATTERN = r"^idle-reaper/slack/[A-Za-z0-9/_+=.@-]{1,200}$"
_TEAM = re.compile(TEAM_PATTERN, re.ASCII)
_SLACK_SECRET = re.compile(SLACK_SECRET_PATTERN, re.ASCII)


def route_of(verdict: Mapping[str, Any]) -> dict[str, str]:
    """`team` and `slack_webhook_secret` from a verdict's route, each kept only when it has
    the shape the policy document allows (`..` never passes: no path out of the prefix)."""
    route = verdict.get("route")
    if not isinstance(route, Mapping):
        return {}
    found: dict[str, str] = {}
    team, secret = route.get("team"), route.get("slack_webhook_secret")
    if isinstance(team, str) and _TEAM.fullmatch(team):
        found["team"] = team
    if isinstance(secret, str) and _SLACK_SECRET.fullmatch(secret) and ".." not in secret:
        found["slack_webhook_secret"] = secret
    return found
