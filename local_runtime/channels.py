"""Where notifications go in the emulated account (scenario keys `slack` and `email`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LocalChannels:
    slack: bool = True
    slack_script: tuple[int | str, ...] = ()
    """The Slack sink's first answers (`429`, `ok`, `down`, ...), in order."""
    slack_then: int | str = "ok"
    """Its answer once the script is used up."""
    email: str | None = "team@example.com"
    slack_interactive: bool = False
    """The Slack app has interactivity (a scenario with `keep:` entries): the runtime makes its
    signing secret and bot token, serves Slack's side of the app (slack_app.py) and sets
    SlackSigningSecretArn and SlackBotTokenSecretArn, so warnings carry the Keep buttons."""
