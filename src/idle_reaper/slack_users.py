"""Who clicked, as far as idle-reaper may trust it: the email of their Slack profile, through the
Web API's users.info and slack_sdk's WebClient (the bot token is optional; without it only the
admin list can identify a clicker).

users.info returns the `email` field only to a token with the users:read.email scope (beside
users:read) (https://docs.slack.dev/reference/methods/users.info). An address is trusted only
for a member of the app's own organization whose email Slack says is confirmed: a deleted
user, a bot, a profile whose `is_email_confirmed` is not true, and anyone from another
organization identify nobody. The last matters in a Slack Connect channel: a member of a
partner organization can press the button, and their address is one their own organization
controls (it could read `alice@example.com` as well as anything else). So the workspace the app
is installed in is asked of Slack itself, auth.test with the bot token ("tells you who you
are"; `team_id`, and `enterprise_id` in an Enterprise organization:
https://docs.slack.dev/reference/methods/auth.test; no scope needed), once per token and
container, and a clicker counts only when both the click (the payload's `user.team_id`, which
reports the organization's `E...` id in an Enterprise organization:
https://docs.slack.dev/reference/interaction-payloads/block_actions-payload) and their
users.info (`team_id`, or `enterprise_user.enterprise_id` for a member of another workspace of
the same Enterprise organization) name that workspace or its organization. `is_stranger`
alone would not do: it is false for a member of another organization who shares a channel
with the app.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from idle_reaper.exceptions import KeepError
from idle_reaper.slack import quiet_sdk_logger

SLACK_API_URL = "https://slack.com/api/"
"""Slack's Web API, read at each call (the local runtime serves its own on 127.0.0.1)."""
EMAIL_LIMIT = 254
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,252}")
NOBODY_ERRORS = frozenset({"user_not_found", "user_not_visible"})
"""users.info answers that mean this id is no member we can see: nobody to trust."""
logger = logging.getLogger(__name__)
_TEAM = re.compile(r"[TE][A-Z0-9]{2,30}", re.ASCII)
_ENTERPRISE = re.compile(r"E[A-Z0-9]{2,30}", re.ASCII)


@dataclass(frozen=True)
class Workspace:
    """The workspace the app is installed in, and its Enterprise organization if any."""

    team_id: str
    enterprise_id: str | None = None

    def holds(self, team: object, enterprise: object = None) -> bool:
        """Whether a team id (a workspace's `T...`, or an organization's `E...`), or an
        enterprise id, is this workspace or its organization."""
        ours = {self.team_id} | ({self.enterprise_id} if self.enterprise_id else set())
        if isinstance(team, str) and team in ours:
            return True
        return self.enterprise_id is not None and enterprise == self.enterprise_id


_WORKSPACES: dict[str, Workspace] = {}
"""auth.test's answer per bot token, for the container's life (a rotated token is asked anew)."""


def _client(token: str, timeout_seconds: int) -> WebClient:
    return WebClient(
        token=token,
        base_url=SLACK_API_URL,
        timeout=max(1, timeout_seconds),
        logger=quiet_sdk_logger(),
    )


def workspace_of(token: str, timeout_seconds: int = 2) -> Workspace:
    """The workspace the bot token belongs to (auth.test); KeepError when Slack cannot say."""
    known = _WORKSPACES.get(token)
    if known is not None:
        return known
    try:
        answer: Any = _client(token, timeout_seconds).auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown_error")
        raise KeepError(f"auth.test answered {error[:80]}") from exc
    except (SlackClientError, OSError) as exc:
        raise KeepError(f"auth.test failed: {type(exc).__name__}") from exc
    team, enterprise = answer.get("team_id"), answer.get("enterprise_id")
    enterprise = (
        enterprise if isinstance(enterprise, str) and _ENTERPRISE.fullmatch(enterprise) else None
    )
    if answer.get("is_enterprise_install") is True and enterprise is not None:
        # An organization-wide install may name no workspace (its OAuth answer has "team": null:
        # https://api.slack.com/enterprise/apps/reference): the organization is the home.
        team = enterprise
    if not isinstance(team, str) or _TEAM.fullmatch(team) is None:
        raise KeepError("auth.test named no workspace")
    found = Workspace(team, enterprise)
    _WORKSPACES[token] = found
    return found


def email_of(
    user_id: str, clicked_from: str | None, token: str, timeout_seconds: int = 2
) -> str | None:
    """The clicker's confirmed email address, in lower case; None when they have none we may
    trust, or are no member of the app's organization (`clicked_from`: the click's
    `user.team_id`). KeepError when Slack cannot say (a bad token, a missing scope, Slack
    unreachable): then nobody can be identified, which an operator must hear about."""
    home = workspace_of(token, timeout_seconds)
    if not home.holds(clicked_from):
        return None  # another organization's member, whatever their profile says
    try:
        answer: Any = _client(token, timeout_seconds).users_info(user=user_id)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown_error")
        if error in NOBODY_ERRORS:
            return None
        raise KeepError(f"users.info answered {error[:80]}") from exc
    except (SlackClientError, OSError) as exc:
        raise KeepError(f"users.info failed: {type(exc).__name__}") from exc
    user = answer.get("user")
    if not isinstance(user, dict):
        return None
    if user.get("deleted") is True or user.get("is_bot") is True:
        return None
    if user.get("is_stranger") is True or user.get("is_email_confirmed") is not True:
        if "is_email_confirmed" not in user:
            # Fails closed; said, so that a Slack that stops sending the field is noticed.
            logger.warning("users.info gave no is_email_confirmed: nobody identified by email")
        return None
    enterprise_user = user.get("enterprise_user")
    enterprise = enterprise_user.get("enterprise_id") if isinstance(enterprise_user, dict) else None
    if not home.holds(user.get("team_id"), enterprise):
        return None
    profile = user.get("profile")
    email = profile.get("email") if isinstance(profile, dict) else None
    if not isinstance(email, str) or len(email) > EMAIL_LIMIT:
        return None
    email = email.strip()
    return email.lower() if _EMAIL.fullmatch(email) else None


__all__ = ["SLACK_API_URL", "Workspace", "email_of", "workspace_of"]
