"""Who clicked: a Slack user id mapped to the email address of their Slack profile, through the
Web API's users.info and slack_sdk's WebClient (the bot token is optional; without it only the
admin list can identify a clicker).

users.info returns the `email` field only to a token with the users:read.email scope (beside
users:read) (https://docs.slack.dev/reference/methods/users.info). An address is trusted only
for a member of the workspace whose email Slack says is confirmed: a deleted user, a bot, a
Slack Connect stranger, or a profile whose `is_email_confirmed` is false identifies nobody.
"""

from __future__ import annotations

import re
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


def email_of(user_id: str, token: str, timeout_seconds: int = 2) -> str | None:
    """The clicker's confirmed email address, in lower case; None when they have none we may
    trust. KeepError when Slack cannot say (a bad token, a missing scope, Slack unreachable):
    then nobody can be identified, which an operator must hear about."""
    client = WebClient(
        token=token,
        base_url=SLACK_API_URL,
        timeout=max(1, timeout_seconds),
        logger=quiet_sdk_logger(),
    )
    try:
        answer: Any = client.users_info(user=user_id)
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
    if user.get("is_stranger") is True or user.get("is_email_confirmed") is False:
        return None
    profile = user.get("profile")
    email = profile.get("email") if isinstance(profile, dict) else None
    if not isinstance(email, str) or len(email) > EMAIL_LIMIT:
        return None
    email = email.strip()
    return email.lower() if _EMAIL.fullmatch(email) else None


__all__ = ["SLACK_API_URL", "email_of"]
