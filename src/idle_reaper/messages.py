"""What people read: one message per reaper event, as an email (subject and plain text) and
as Slack Block Kit (with the same plain text as its fallback)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from idle_reaper.policy import DEFAULT_EXEMPT_TAG
from idle_reaper.times import minutes_between, parse_iso

KIND_NAMES = {"glue-session": "Glue interactive session"}
NOTIFIED_ALWAYS = ("warning", "stopped", "would-stop", "failed")
NOTIFIED_ON_REQUEST = ("exempt", "gone")
SUBJECT_LIMIT = 100  # SNS refuses longer subjects


@dataclass(frozen=True)
class Message:
    type: str
    resource_id: str
    subject: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    """SNS message attributes (kind, outcome, owner) for subscription filter policies."""


def render(
    detail_type: str, detail: Mapping[str, Any], exempt_tag_key: str = DEFAULT_EXEMPT_TAG
) -> Message:
    """The message for one reaper event; `detail` is the watcher's event detail."""
    resource = detail.get("resource") or {}
    verdict = detail.get("verdict") or {}
    at = _moment(detail.get("at")) or _moment(verdict.get("checked_at"))
    kind = KIND_NAMES.get(str(resource.get("kind")), str(resource.get("kind") or "resource"))
    rid = str(resource.get("id") or "(unknown)")
    deadline = _moment(verdict.get("deadline"))
    idle_since = _moment(verdict.get("idle_since"))
    idle = f"{minutes_between(idle_since, at):.0f} minutes" if idle_since and at else "unknown"
    when = _when(deadline, at)
    headline, body, keep = _story(
        detail_type, kind, rid, when, idle, verdict, detail, exempt_tag_key
    )

    facts = [
        ("Owner", str(resource.get("owner") or "unknown")),
        ("Region", str(resource.get("region") or "?")),
        ("Account", str(resource.get("account") or "?")),
        ("Idle", idle),
        ("Cost so far", _usd(verdict.get("cost_usd"))),
    ]
    console = resource.get("console_url")
    lines = [_plain(body), "", *(f"{name}: {value}" for name, value in facts)]
    if console:
        lines.append(f"Console: {console}")
    if keep:
        lines += ["", _plain(keep)]
    if detail.get("execution_arn"):
        lines += ["", f"Watcher: {detail['execution_arn']}"]
    text = "\n".join(lines)

    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": headline[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": body}},
        {"type": "section", "fields": _fields(facts)},
    ]
    if console:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in console"},
                        "url": console,
                    }
                ],
            }
        )
    if keep:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": keep}]})
    return Message(
        type=detail_type,
        resource_id=rid,
        subject=_subject(headline),
        text=text,
        blocks=blocks,
        attributes={
            "kind": str(resource.get("kind") or "unknown"),
            "outcome": detail_type,
            "owner": str(resource.get("owner") or "unknown"),
        },
    )


def _story(
    detail_type: str,
    kind: str,
    rid: str,
    when: str,
    idle: str,
    verdict: Mapping[str, Any],
    detail: Mapping[str, Any],
    exempt_tag_key: str,
) -> tuple[str, str, str]:
    """Headline, body and how-to-keep line for each event type."""
    keep = (
        "To keep it: run a cell (any statement resets the idle clock), or tag it "
        f"`{exempt_tag_key}=true` if it must never be stopped."
    )
    if detail_type == "warning":
        return (
            f"{rid} will be stopped {when}",
            f"Your {kind} *{rid}* has been idle for {idle}. idle-reaper will stop it {when} "
            f"unless it is used.",
            keep,
        )
    if detail_type == "stopped":
        return (
            f"{rid} was stopped after {idle} idle",
            f"idle-reaper stopped your {kind} *{rid}* {when}: {verdict.get('reason', 'idle')}. "
            f"{_saved(verdict, 'That saved')}Start a new session when you need one.",
            "",
        )
    if detail_type == "would-stop":
        return (
            f"[dry run] {rid} would have been stopped",
            f"Dry run: idle-reaper would have stopped your {kind} *{rid}* {when}, "
            f"idle for {idle}. {_saved(verdict, 'A stop would have saved')}Nothing was stopped.",
            keep,
        )
    if detail_type == "failed":
        error = detail.get("error") or {}
        return (
            f"could not finish watching {rid}",
            f"The watcher for {kind} *{rid}* failed ({error.get('Error', 'unknown error')}): "
            f"{str(error.get('Cause', ''))[:500]}. The session was not stopped by idle-reaper; "
            f"check it by hand.",
            "",
        )
    if detail_type == "exempt":
        return (
            f"{rid} is exempt from idle stops",
            f"Your {kind} *{rid}* is exempt: idle-reaper will not stop it. "
            f"It bills until you stop it or it times out.",
            "",
        )
    return (
        f"{rid} ended before idle-reaper stopped it",
        f"Your {kind} *{rid}* ended on its own or was stopped by someone else: "
        f"{verdict.get('reason', 'gone')}.",
        "",
    )


def _when(deadline: datetime | None, at: datetime | None) -> str:
    """`at 10:13 UTC on 2026-03-02 (in 5 minutes)`, or `now` when already due."""
    if deadline is None:
        return "now"
    stamp = deadline.strftime("at %H:%M UTC on %Y-%m-%d")
    if at is None:
        return stamp
    minutes = round((deadline - at).total_seconds() / 60)
    if minutes <= 0:
        return stamp
    return f"{stamp} (in {minutes} minute{'s' if minutes != 1 else ''})"


def _saved(verdict: Mapping[str, Any], lead: str) -> str:
    """The savings sentence (savings.py's model), or nothing when it is not known."""
    amount = verdict.get("savings_usd")
    if not isinstance(amount, int | float):
        return ""
    return f"{lead} about {_usd(amount)} against leaving it to its own idle timeout. "


def _fields(facts: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in facts]


def _usd(amount: Any) -> str:
    return f"${float(amount):.2f}" if isinstance(amount, int | float) else "unknown"


def _plain(mrkdwn: str) -> str:
    """The email's text: Slack's bold and code marks taken out."""
    return mrkdwn.replace("*", "").replace("`", "")


def _subject(headline: str) -> str:
    subject = f"idle-reaper: {headline}"
    return subject if len(subject) <= SUBJECT_LIMIT else subject[: SUBJECT_LIMIT - 1] + "…"


def _moment(value: Any) -> datetime | None:
    try:
        return parse_iso(str(value)) if value else None
    except ValueError:
        return None
