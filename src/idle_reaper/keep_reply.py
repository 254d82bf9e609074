"""What the clicker sees after a click, sent to the click's response_url.

A keep updates the warning in place: its blocks as they were, less the Keep buttons (the next
warning brings new ones), plus one line, "Kept until 10:27 UTC on 2026-03-02 by
alice@example.com." Anything else (a refusal, a double click, a failure) is a note only the
clicker sees, and the warning stays as it was. Slack: `replace_original: true` replaces the
message the button was in; `response_type: ephemeral` with `replace_original: false` shows a
message to the clicker alone; a response_url takes up to five answers within 30 minutes
(https://docs.slack.dev/messaging/modifying-messages). Every value in the answer is escaped
as messages.py escapes a warning's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from idle_reaper import response_url
from idle_reaper.deadline import Deadline
from idle_reaper.keep import Answer
from idle_reaper.keep_choices import ACTION_PREFIX
from idle_reaper.messages import TEXT_LIMIT, slack_escape
from idle_reaper.slack_interaction import MAX_BLOCKS, Click


def reply(answer: Answer, click: Click) -> dict[str, Any] | None:
    """The response_url payload for an answer; None when there is nothing to say."""
    if answer.outcome == "ignored" or not answer.text:
        return None
    text = slack_escape(answer.text)[:TEXT_LIMIT]
    if answer.outcome != "kept":
        return {"response_type": "ephemeral", "replace_original": False, "text": text}
    line = {"type": "context", "elements": [{"type": "mrkdwn", "text": text, "verbatim": True}]}
    blocks = [*_without_keep_buttons(click.message_blocks or ())][: MAX_BLOCKS - 1]
    return {"replace_original": True, "text": text, "blocks": [*blocks, line]}


def _without_keep_buttons(blocks: tuple[Mapping[str, Any], ...]) -> list[dict[str, Any]]:
    """The message's blocks with every Keep button taken out (and an actions block left with
    nothing in it dropped)."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        elements = block.get("elements")
        if block.get("type") != "actions" or not isinstance(elements, list):
            out.append(dict(block))
            continue
        kept = [
            e
            for e in elements
            if not (isinstance(e, dict) and str(e.get("action_id", "")).startswith(ACTION_PREFIX))
        ]
        if kept:
            out.append({**block, "elements": kept})
    return out


def send(url: str, payload: dict[str, Any], deadline: Deadline) -> int | None:
    """Post the answer; Slack's status, or None when the URL is not Slack's or Slack could not
    be reached in time (response_url.py: https on Slack's hooks host only, no redirect)."""
    return response_url.post(url, payload, deadline)


__all__ = ["reply", "send"]
