"""What people read: one message per reaper event, as an email (subject and plain text) and
as Slack Block Kit (with its own fallback text).

Every value taken from the event is untrusted: whoever creates a session chooses its id and
its tags, and reasons and error texts quote them. Slack reads `&`, `<` and `>` as control
characters (`<!channel>` pings a whole channel, `<https://x|Keep my session>` plants a link),
so every value is escaped as Slack documents (&amp; &lt; &gt;) in every text of the blocks
and in the fallback text (https://api.slack.com/reference/surfaces/formatting#escaping),
and mrkdwn texts are `verbatim`, so Slack does not turn a bare URL or a channel name inside
a value into a link either
(https://docs.slack.dev/reference/block-kit/composition-objects/text-object).
The email is plain text: the same story with the values as they are, no markup, no escapes.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from idle_reaper.keep_choices import keep_buttons
from idle_reaper.kept_by import kept_by
from idle_reaper.partition import CONSOLE_HOSTS, is_region, partition_for
from idle_reaper.policy import DEFAULT_EXEMPT_TAG, KEEP_UNTIL_TAG
from idle_reaper.policy_check import POLICY_INVALID
from idle_reaper.reaper_event import ReaperEvent, failure_of, number_of, text_of
from idle_reaper.route import route_of
from idle_reaper.times import minutes_between, parse_iso

KIND_NAMES = {"glue-session": "Glue interactive session"}
NOTIFIED_ALWAYS = ("warning", "guardrail-notice", "guardrail", "stopped", "would-stop", "failed")
NOTIFIED_ON_REQUEST = ("exempt", "gone")
SUBJECT_LIMIT = 99
"""SNS Publish: a Subject must be "less than 100 characters long", with no line breaks or
control characters; older API references also require ASCII that begins with a letter,
number or punctuation mark, which sns_subject keeps to as well.
https://docs.aws.amazon.com/sns/latest/api/API_Publish.html"""
HEADER_LIMIT = 150
"""Slack: a header block's plain_text is at most 150 characters."""
TEXT_LIMIT = 3000
"""Slack: a section's (or a context element's) text is at most 3000 characters."""
FIELD_LIMIT = 2000
"""Slack: each of a section's fields is at most 2000 characters."""
URL_LIMIT = 3000
"""Slack: a button's url is at most 3000 characters."""
CAUSE_LIMIT = 500
_HOST = re.compile(r"[a-z0-9.-]+")
"""A console host name is letters, digits, dots and hyphens: nothing a browser would read
differently from urllib (a backslash, a percent sign)."""


@dataclass(frozen=True)
class Message:
    type: str
    resource_id: str
    subject: str
    email_text: str
    """The email's body: plain text, every value as it is."""
    slack_text: str
    """Slack's fallback text (notifications, clients without blocks): every value escaped."""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    """SNS message attributes (kind, outcome, owner) for subscription filter policies."""


@dataclass(frozen=True)
class _Style:
    """How one rendering writes an event's values and its emphasis."""

    value: Callable[[str], str]
    bold: Callable[[str], str]
    code: Callable[[str], str]


_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Direction controls: a session named `abc\u202egpj.exe` would read `abcexe.jpg`."""


def shown(text: str) -> str:
    """A value as a person should see it: without the controls that reorder what follows."""
    return _BIDI.sub("", text)


def slack_escape(text: str) -> str:
    """`&`, `<`, `>` as Slack's HTML entities; nothing else (Slack decodes only these)."""
    return html.escape(shown(text), quote=False)


def _same(text: str) -> str:
    return text


PLAIN = _Style(value=shown, bold=_same, code=_same)
"""The email."""
FALLBACK = _Style(value=slack_escape, bold=_same, code=_same)
"""Slack's fallback text and the header: escaped, no marks."""
MRKDWN = _Style(value=slack_escape, bold=lambda t: f"*{t}*", code=lambda t: f"`{t}`")
"""Slack's mrkdwn blocks: escaped, with bold and code marks around the escaped values."""


@dataclass(frozen=True)
class _Facts:
    """What every rendering says, read once from the event (values raw, not yet escaped)."""

    detail_type: str
    kind: str
    rid: str
    when: str
    idle: str
    verdict: Mapping[str, Any]
    error: Mapping[str, Any]
    table: list[tuple[str, str]]
    console: str | None
    watcher: str | None
    kept: tuple[datetime, str | None] | None = None
    """The keep-until that moved the deadline, and who set it from Slack (None: by the tag)."""
    buttons: list[dict[str, Any]] = field(default_factory=list)
    """The keep buttons (a warning, with interactivity configured)."""


@dataclass(frozen=True)
class _Story:
    headline: str
    body: str
    keep: str


def render(
    event: ReaperEvent, exempt_tag_key: str = DEFAULT_EXEMPT_TAG, keep_buttons: bool = False
) -> Message:
    """The message for one reaper event; a warning carries the keep buttons when
    `keep_buttons` (the stack's Slack app has interactivity: SlackSigningSecretArn)."""
    facts = _facts(event, keep_buttons)
    plain = _story(facts, PLAIN, exempt_tag_key)
    escaped = _story(facts, FALLBACK, exempt_tag_key)
    marked = _story(facts, MRKDWN, exempt_tag_key)
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _clip(escaped.headline, HEADER_LIMIT)},
        },
        {"type": "section", "text": _mrkdwn(marked.body, TEXT_LIMIT)},
        {
            "type": "section",
            "fields": [
                _mrkdwn(f"*{name}*\n{slack_escape(value)}", FIELD_LIMIT)
                for name, value in facts.table
            ],
        },
    ]
    elements = list(facts.buttons)
    if facts.console:
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Open in console"},
                "url": facts.console,
            }
        )
    if elements:
        blocks.append({"type": "actions", "elements": elements})
    if marked.keep:
        blocks.append({"type": "context", "elements": [_mrkdwn(marked.keep, TEXT_LIMIT)]})
    return Message(
        type=event.detail_type,
        resource_id=facts.rid,
        subject=sns_subject(plain.headline),
        email_text=_text(facts, plain, PLAIN),
        slack_text=_text(facts, escaped, FALLBACK),
        blocks=blocks,
        attributes={
            "kind": text_of(event.resource.get("kind")) or "unknown",
            "outcome": event.detail_type,
            "owner": text_of(event.resource.get("owner")) or "unknown",
            **({"team": team} if (team := route_of(event.verdict).get("team")) else {}),
        },
    )


MAX_NOTES = 3
NOTE_LIMIT = 300


def _notes(verdict: Mapping[str, Any], style: _Style) -> str:
    """What the owner should fix in their tags (an ignored idle-minutes value, a near-miss
    exempt tag), quoted from the verdict: bounded, and escaped like every other value."""
    raw = verdict.get("notes")
    notes = [text_of(n) for n in raw[:MAX_NOTES]] if isinstance(raw, list) else []
    said = [style.value(n[:NOTE_LIMIT]) for n in notes if n]
    return f" Note: {'; '.join(said)}." if said else ""


def _facts(event: ReaperEvent, buttons: bool = False) -> _Facts:
    resource, verdict = event.resource, event.verdict
    at = _moment(event.at) or _moment(verdict.get("checked_at"))
    kind = text_of(resource.get("kind"))
    deadline = _moment(verdict.get("deadline"))
    idle_since = _moment(verdict.get("idle_since"))
    idle = f"{minutes_between(idle_since, at):.0f} minutes" if idle_since and at else "unknown"
    return _Facts(
        detail_type=event.detail_type,
        kind=KIND_NAMES.get(kind or "", kind or "resource"),
        rid=text_of(resource.get("id")) or "(unknown)",
        when=_when(deadline, at),
        idle=idle,
        verdict=verdict,
        error=event.error,
        table=[
            ("Owner", text_of(resource.get("owner")) or "unknown"),
            ("Region", text_of(resource.get("region")) or "?"),
            ("Account", text_of(resource.get("account")) or "?"),
            ("Idle", idle),
            ("Cost so far", _usd(verdict.get("cost_usd"))),
        ],
        console=console_link(resource.get("console_url"), resource.get("region")),
        watcher=event.execution_arn,
        kept=_kept(resource, verdict),
        buttons=keep_buttons(resource) if buttons and _keepable(event.detail_type, verdict) else [],
    )


def _keepable(detail_type: str, verdict: Mapping[str, Any]) -> bool:
    """A warning a keep can answer: the stop of an idle resource. A guardrail's notice and a
    maximum running time's warning (no keep may pass it) carry no Keep button."""
    return (
        detail_type == "warning"
        and verdict.get("notice", "warning") == "warning"
        and verdict.get("counting") != "running"
    )


def _kept(
    resource: Mapping[str, Any], verdict: Mapping[str, Any]
) -> tuple[datetime, str | None] | None:
    """The keep-until that set this verdict's deadline, and who set it from Slack: the
    kept-by tag when it was written with the resource's current keep-until."""
    until = _moment(verdict.get("kept_until"))
    if until is None:
        return None
    raw = resource.get("tags")
    tags = (
        {str(k): v for k, v in raw.items() if isinstance(v, str)}
        if isinstance(raw, Mapping)
        else {}
    )
    return until, kept_by(tags)


def _kept_sentence(facts: _Facts, style: _Style) -> str:
    """`It was kept until 10:30 UTC on 2026-03-02 by alice@example.com.` (or by its tag)."""
    if facts.kept is None:
        return ""
    until, who = facts.kept
    by = (
        f"by {style.value(who[:NOTE_LIMIT])} from Slack"
        if who
        else f"by its {style.code(KEEP_UNTIL_TAG)} tag"
    )
    return f" It was kept until {until.strftime('%H:%M UTC on %Y-%m-%d')} {by}."


def _story(facts: _Facts, style: _Style, exempt_tag_key: str) -> _Story:
    """Headline, body and how-to-keep line for each event type, in one style."""
    v, rid, when, idle = style.value, style.value(facts.rid), facts.when, facts.idle
    kind, named = v(facts.kind), style.bold(style.value(facts.rid))
    verdict = facts.verdict
    keep = (
        "To keep it: run a cell (any statement resets the idle clock), or tag it "
        f"{style.code(v(exempt_tag_key) + '=true')} if it must never be stopped."
    )
    if facts.buttons:
        keep = (
            "To keep it: press a Keep button of the Slack message (its owner or an "
            "idle-reaper admin), run a cell (any statement resets the idle clock), or tag it "
            f"{style.code(v(exempt_tag_key) + '=true')} if it must never be stopped."
        )
    kept = _kept_sentence(facts, style)
    if facts.detail_type == "warning" and verdict.get("counting") == "running":
        return _Story(
            f"{rid} will be stopped {when}: its maximum running time",
            f"Your {kind} {named} has run as long as the policy allows. idle-reaper will stop it "
            f"{when}, busy or not: save your work before then.",
            "Using it does not keep it running; ask the policy's owner if it must run longer."
            + _notes(verdict, style),
        )
    if facts.detail_type == "warning":
        return _Story(
            f"{rid} will be stopped {when}",
            f"Your {kind} {named} has been idle for {idle}. idle-reaper will stop it {when} "
            f"unless it is used.{kept}",
            keep + _notes(verdict, style),
        )
    # a watcher started before guardrails existed puts its notice on the bus as `warning`
    notice = facts.detail_type == "guardrail-notice" or (
        facts.detail_type == "warning" and verdict.get("notice") == "guardrail-notice"
    )
    if notice or facts.detail_type == "guardrail":
        reason = v(text_of(verdict.get("reason")) or "a guardrail")
        if notice:
            return _Story(
                f"{rid} breaches a guardrail",
                f"Your {kind} {named} breaches this account's guardrails ({reason}). "
                "Fix it when you can: the policy's owner set these limits.",
                "",
            )
        return _Story(
            f"{rid} was stopped: it breaches a guardrail",
            f"idle-reaper stopped your {kind} {named} {when} because it breaches this "
            f"account's guardrails ({reason}). Start it again within the limits.",
            "",
        )
    if facts.detail_type == "failed" and text_of(facts.error.get("Error")) == POLICY_INVALID:
        _, why = failure_of(facts.error)
        return _Story(
            "the idle-reaper policy document is invalid",
            f"{v(text_of(verdict.get('reason')) or 'The policy document is invalid')}: "
            f"{v(why[:CAUSE_LIMIT])}. Watchers wait; nothing is stopped until it is fixed.",
            "",
        )
    if facts.detail_type == "stopped":
        reason = v(text_of(verdict.get("reason")) or "idle")
        return _Story(
            f"{rid} was stopped after {idle} idle",
            f"idle-reaper stopped your {kind} {named} {when}: {reason}.{kept} "
            f"{_saved(verdict, 'That saved')}Start a new session when you need one.",
            "",
        )
    if facts.detail_type == "would-stop":
        return _Story(
            f"[dry run] {rid} would have been stopped",
            f"Dry run: idle-reaper would have stopped your {kind} {named} {when}, "
            f"idle for {idle}.{kept} {_saved(verdict, 'A stop would have saved')}Nothing was "
            "stopped.",
            keep,
        )
    if facts.detail_type == "failed":
        error, why = failure_of(facts.error)
        name, cause = v(error), v(why[:CAUSE_LIMIT])
        return _Story(
            f"could not finish watching {rid}",
            f"The watcher for {kind} {named} failed ({name}): {cause}. The session was not "
            f"stopped by idle-reaper; check it by hand.",
            "",
        )
    if facts.detail_type == "exempt":
        return _Story(
            f"{rid} is exempt from idle stops",
            f"Your {kind} {named} is exempt: idle-reaper will not stop it. "
            f"It bills until you stop it or it times out.",
            "",
        )
    reason = v(text_of(verdict.get("reason")) or "gone")
    return _Story(
        f"{rid} ended before idle-reaper stopped it",
        f"Your {kind} {named} ended on its own or was stopped by someone else: {reason}.",
        "",
    )


def _text(facts: _Facts, story: _Story, style: _Style) -> str:
    """The whole message as text: the email's (plain) or Slack's fallback (escaped)."""
    lines = [story.body, "", *(f"{name}: {style.value(value)}" for name, value in facts.table)]
    if facts.console:
        lines.append(f"Console: {style.value(facts.console)}")
    if story.keep:
        lines += ["", story.keep]
    if facts.watcher:
        lines += ["", f"Watcher: {style.value(facts.watcher)}"]
    return "\n".join(lines)


def console_link(url: object, region: object) -> str | None:
    """`url` when it is an https link to the AWS Management Console of the resource's
    partition, else None: a link elsewhere would carry the reaper's credibility to any site.

    The console's domains per partition are in idle_reaper.partition (AWS General Reference,
    https://docs.aws.amazon.com/general/latest/gr/mgmt-console.html): region-code.console.
    aws.amazon.com, console.amazonaws.cn in China, console.amazonaws-us-gov.com in GovCloud.
    A resource without a region may link to any of the three.
    """
    if not isinstance(url, str) or len(url) > URL_LIMIT:
        return None
    if not (url.isascii() and url.isprintable()) or " " in url or "\\" in url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number, a broken IPv6 literal
        return None
    host = parts.hostname
    if parts.scheme != "https" or "@" in parts.netloc or port not in (None, 443):
        return None  # http, userinfo (`https://console.aws.amazon.com@evil.example/`)
    if not host or not _HOST.fullmatch(host):
        return None
    domains = _console_domains(region)
    return url if any(host == d or host.endswith(f".{d}") for d in domains) else None


def _console_domains(region: object) -> tuple[str, ...]:
    if region is None:
        return tuple(CONSOLE_HOSTS.values())
    if not is_region(region):
        return ()
    domain = CONSOLE_HOSTS.get(partition_for(str(region)))
    return (domain,) if domain else ()


def sns_subject(headline: str) -> str:
    """`idle-reaper: <headline>` as a Subject SNS accepts whatever the headline holds:
    accents folded to ASCII and any other character as `?`, line breaks and control
    characters as spaces, at most SUBJECT_LIMIT characters (cut with `...`); it always
    begins with the letter `i`."""
    folded = unicodedata.normalize("NFKD", f"idle-reaper: {headline}")
    chars = []
    for char in folded:
        if unicodedata.combining(char):
            continue  # the accent of an é, once NFKD has split it from its e
        if char.isascii() and char.isprintable():
            chars.append(char)
        elif char.isspace() or unicodedata.category(char).startswith("C"):
            chars.append(" ")  # line breaks, tabs, control and format characters
        else:
            chars.append("?")
    subject = " ".join("".join(chars).split())
    if len(subject) > SUBJECT_LIMIT:
        subject = subject[: SUBJECT_LIMIT - 3].rstrip() + "..."
    return subject


def _mrkdwn(text: str, limit: int) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _clip(text, limit), "verbatim": True}


def _clip(escaped: str, limit: int) -> str:
    """At most `limit` characters, ending with … when cut, and never cut inside an entity
    (`&am`), which Slack would show as text."""
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    entity = cut.rfind("&")
    if entity != -1 and ";" not in cut[entity:]:
        cut = cut[:entity]
    return cut + "…"


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
    amount = number_of(verdict.get("savings_usd"))
    if amount is None:
        return ""
    return f"{lead} about {_usd(amount)} against leaving it to its own idle timeout. "


def _usd(amount: Any) -> str:
    value = number_of(amount)
    return f"${float(value):.2f}" if value is not None else "unknown"


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None
