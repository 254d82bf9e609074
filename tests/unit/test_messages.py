"""Every message type, rendered from the sample reaper events, against golden files that a
person read once (tests/unit/golden). Regenerate with UPDATE_GOLDEN=1 and read the diff.

The hostile-*.txt golden files show what a session id, an owner tag, an ignored tag value
quoted in a reason, an error text and a console link chosen by an attacker turn into: the
email says them as they are, Slack shows them as text (escaped), never as a ping or a link."""

from __future__ import annotations

import json
import os
import string
from pathlib import Path
from typing import Any

import pytest

from idle_reaper.messages import HEADER_LIMIT, SUBJECT_LIMIT, Message, render
from idle_reaper.reaper_event import ReaperEvent
from tests.conftest import load_event

GOLDEN = Path(__file__).parent / "golden"
TYPES = ["warning", "stopped", "would-stop", "failed", "exempt", "gone"]

HOSTILE_ID = "<!channel> & <@U024BE7LH>"
HOSTILE_OWNER = "<!channel>"
HOSTILE_LINK = "<https://evil.example|Keep my session>"
HOSTILE_NOTE = f"ignored idle-reaper:idle-minutes='{HOSTILE_LINK}': not a whole number"
HOSTILE_CAUSE = "StopSession failed for <!here>: see <https://evil.example|the runbook> & retry"
HOSTILE_CONSOLE = "https://console.aws.amazon.com@evil.example/gluestudio/"
HOSTILE_VALUES = [HOSTILE_ID, HOSTILE_OWNER, HOSTILE_LINK, HOSTILE_CAUSE]


def message_of(event: dict[str, Any]) -> Message:
    return render(ReaperEvent.parse(event))


def rendered(event: dict[str, Any]) -> str:
    message = message_of(event)
    return (
        f"Subject: {message.subject}\n"
        f"Attributes: {json.dumps(message.attributes, sort_keys=True)}\n\n"
        f"{message.email_text}\n\n"
        f"--- Slack fallback text ---\n{message.slack_text}\n\n"
        f"--- Slack blocks ---\n{json.dumps(message.blocks, indent=2, ensure_ascii=False)}\n"
    )


def hostile(kind: str) -> dict[str, Any]:
    """A sample event whose every person-chosen value is an attack on Slack."""
    event = load_event(f"reaper-{kind}.json")
    detail = event["detail"]
    detail["resource"].update(id=HOSTILE_ID, owner=HOSTILE_OWNER, console_url=HOSTILE_CONSOLE)
    detail["resource"]["tags"]["idle-reaper:idle-minutes"] = HOSTILE_LINK
    detail["verdict"]["reason"] += f"; {HOSTILE_NOTE}"
    if kind == "failed":
        detail["error"]["Cause"] = HOSTILE_CAUSE
    return event


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


@pytest.mark.parametrize("kind", [*TYPES, "failed-before-verdict"])
def test_message_matches_its_golden_file(kind: str) -> None:
    assert_golden(kind, rendered(load_event(f"reaper-{kind}.json")))


@pytest.mark.parametrize("kind", ["warning", "stopped", "failed"])
def test_hostile_values_match_their_golden_file(kind: str) -> None:
    assert_golden(f"hostile-{kind}", rendered(hostile(kind)))


def slack_strings(message: Message) -> list[str]:
    """Every string Slack will read from the payload: the fallback and each text object."""
    found = [message.slack_text]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.blocks)
    return found


@pytest.mark.parametrize("kind", ["warning", "stopped", "failed"])
def test_no_hostile_value_reaches_slack_unescaped_and_email_says_them_as_they_are(
    kind: str,
) -> None:
    message = message_of(hostile(kind))
    for text in slack_strings(message):
        for control in ("<!", "<@", "<http", "& "):
            assert control not in text, (control, text)
    assert HOSTILE_ID in message.email_text
    assert "&amp;" not in message.email_text and "&lt;" not in message.email_text
    assert f"Owner: {HOSTILE_OWNER}" in message.email_text
    said = HOSTILE_CAUSE if kind == "failed" else HOSTILE_NOTE
    if kind != "warning":  # a warning does not quote the reason
        assert said in message.email_text
    assert "&lt;!channel&gt; &amp; &lt;@U024BE7LH&gt;" in message.slack_text


def test_mrkdwn_texts_are_verbatim_so_slack_links_nothing_by_itself() -> None:
    message = message_of(hostile("warning"))
    mrkdwn = [
        node
        for block in message.blocks
        for node in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]
        if isinstance(node, dict) and node.get("type") == "mrkdwn"
    ]
    assert mrkdwn and all(node["verbatim"] is True for node in mrkdwn)


def test_a_long_escaped_header_is_cut_to_slacks_limit_never_inside_an_entity() -> None:
    event = load_event("reaper-stopped.json")
    event["detail"]["resource"]["id"] = "&" * 200
    header = message_of(event).blocks[0]["text"]["text"]
    assert len(header) <= HEADER_LIMIT
    assert header.endswith("&amp;…")


def test_warning_says_when_in_absolute_and_relative_time_and_how_to_keep_it() -> None:
    message = message_of(load_event("reaper-warning.json"))
    assert "at 09:40 UTC on 2026-03-02 (in 5 minutes)" in message.email_text
    assert "run a cell" in message.email_text and "idle-reaper:exempt=true" in message.email_text
    assert "Console: https://us-east-1.console.aws.amazon.com/gluestudio/" in message.email_text


@pytest.mark.parametrize("kind", TYPES)
def test_every_message_names_the_session_owner_region_account_and_cost(kind: str) -> None:
    event = load_event(f"reaper-{kind}.json")
    message = message_of(event)
    resource = event["detail"]["resource"]
    for fact in (resource["id"], resource["region"], resource["account"], "Cost so far: "):
        assert fact in message.email_text
        assert fact in message.slack_text
    assert len(message.subject) <= SUBJECT_LIMIT
    assert message.blocks[0]["type"] == "header"
    assert message.attributes == {
        "kind": "glue-session",
        "outcome": kind,
        "owner": resource["owner"],
    }


def test_a_long_subject_is_cut_to_what_sns_accepts() -> None:
    event = load_event("reaper-stopped.json")
    event["detail"]["resource"]["id"] = "x" * 200
    subject = message_of(event).subject
    assert len(subject) == SUBJECT_LIMIT == 99
    assert subject.endswith("...")


@pytest.mark.parametrize(
    "rid",
    [
        "séance-été",
        "日本語のセッション",
        "two\nlines\r\nand a\ttab",
        "nul\x00 escape\x1b[31m del\x7f",
        "\u202eright-to-left override",
        "😀" * 120,
        "x" * 500,
        "é" * 500,
        "\n\n",
        "",
    ],
)
def test_the_subject_is_one_sns_accepts_whatever_the_session_is_called(rid: str) -> None:
    # SNS Publish: Subject is ASCII, begins with a letter, number or punctuation mark, has
    # no line breaks or control characters and is less than 100 characters long.
    event = load_event("reaper-stopped.json")
    event["detail"]["resource"]["id"] = rid
    subject = message_of(event).subject
    assert len(subject) < 100
    assert subject.isascii() and subject.isprintable()
    assert subject[0].isalnum() or subject[0] in string.punctuation
    assert subject.startswith("idle-reaper: ")


def test_accents_are_folded_rather_than_lost_in_the_subject() -> None:
    event = load_event("reaper-stopped.json")
    event["detail"]["resource"]["id"] = "séance-été"
    assert message_of(event).subject.startswith("idle-reaper: seance-ete was stopped")


def test_failed_says_the_error_and_that_nothing_was_stopped() -> None:
    message = message_of(load_event("reaper-failed.json"))
    assert "Glue.AccessDeniedException" in message.email_text
    assert "was not stopped" in message.email_text


def test_a_failure_before_the_first_verdict_names_the_session_its_start_event_named() -> None:
    message = message_of(load_event("reaper-failed-before-verdict.json"))
    assert message.subject == "idle-reaper: could not finish watching alice-etl"
    assert "Glue interactive session alice-etl failed (ResourceReadError)" in message.email_text
    assert "Owner: alice@example.com" in message.email_text
    assert "(unknown)" not in message.email_text
    assert message.attributes == {
        "kind": "glue-session",
        "outcome": "failed",
        "owner": "alice@example.com",
    }


def test_unknown_only_when_even_the_start_event_names_nothing() -> None:
    event = load_event("reaper-failed-before-verdict.json")
    event["detail"]["event"] = load_event("amplify-create-app.json")
    message = message_of(event)
    assert message.subject == "idle-reaper: could not finish watching (unknown)"


GLUE_CONSOLE = (
    "https://us-east-1.console.aws.amazon.com/gluestudio/home?region=us-east-1"
    "#/interactive-sessions"
)


def with_console(url: object, region: str | None = "us-east-1") -> Message:
    event = load_event("reaper-warning.json")
    resource = event["detail"]["resource"]
    resource["console_url"] = url
    if region is None:
        del resource["region"]
    else:
        resource["region"] = region
    return message_of(event)


def buttons(message: Message) -> list[str]:
    return [
        element["url"]
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


@pytest.mark.parametrize(
    ("url", "region"),
    [
        (GLUE_CONSOLE, "us-east-1"),
        ("https://console.aws.amazon.com/glue/home", "eu-west-1"),
        ("https://cn-north-1.console.amazonaws.cn/gluestudio/home", "cn-north-1"),
        ("https://console.amazonaws.cn/glue/home", "cn-northwest-1"),
        ("https://console.amazonaws-us-gov.com/gluestudio/home", "us-gov-west-1"),
        ("https://us-gov-east-1.console.amazonaws-us-gov.com/glue/home", "us-gov-east-1"),
        ("https://US-EAST-1.console.aws.amazon.com:443/glue/home", "us-east-1"),
        (GLUE_CONSOLE, None),
    ],
)
def test_a_link_to_the_console_of_the_resources_partition_is_offered(
    url: str, region: str | None
) -> None:
    message = with_console(url, region)
    assert buttons(message) == [url]
    assert f"Console: {url}" in message.email_text


@pytest.mark.parametrize(
    ("url", "region"),
    [
        ("http://us-east-1.console.aws.amazon.com/gluestudio/home", "us-east-1"),
        ("https://evil.example/gluestudio/home", "us-east-1"),
        ("https://console.aws.amazon.com.evil.example/", "us-east-1"),
        ("https://console.aws.amazon.com@evil.example/", "us-east-1"),
        ("https://user:pw@us-east-1.console.aws.amazon.com/", "us-east-1"),
        ("https://evil.example\\.console.aws.amazon.com/", "us-east-1"),
        ("https://evil.example%2F.console.aws.amazon.com/", "us-east-1"),
        ("https://notconsole.aws.amazon.com/", "us-east-1"),
        ("https://signin.aws.amazon.com/", "us-east-1"),
        ("https://us-east-1.console.aws.amazon.com:8443/", "us-east-1"),
        ("https://us-east-1.console.aws.amazon.com:x/", "us-east-1"),
        ("https://us-east-1.console.aws.amazon.com/\n<!channel>", "us-east-1"),
        ("javascript:alert(1)//console.aws.amazon.com", "us-east-1"),
        ("//us-east-1.console.aws.amazon.com/", "us-east-1"),
        ("https://console.amazonaws.cn/glue/home", "us-east-1"),
        ("https://us-east-1.console.aws.amazon.com/glue/home", "cn-north-1"),
        ("https://us-east-1.console.aws.amazon.com/glue/home", "xx-nowhere-9"),
        (GLUE_CONSOLE + "x" * 3000, "us-east-1"),
        (42, "us-east-1"),
    ],
)
def test_any_other_link_is_dropped_from_the_button_and_the_text(url: object, region: str) -> None:
    message = with_console(url, region)
    assert buttons(message) == []
    assert "Console:" not in message.email_text
    assert "Console:" not in message.slack_text


def test_a_warning_tells_the_owner_why_their_tag_did_not_count_escaped_for_slack() -> None:
    event = load_event("reaper-warning.json")
    note = "the tag 'Idle-Reaper:Exempt'='<!channel>' is not 'idle-reaper:exempt=true'"
    event["detail"]["verdict"]["notes"] = [note, 42, None]
    message = message_of(event)
    assert f"Note: {note}; 42." in message.email_text  # None is no note
    assert "&lt;!channel&gt;" in message.slack_text and "<!channel>" not in message.slack_text
    assert all("<!channel>" not in text for text in slack_strings(message))


def test_notes_are_bounded_whatever_the_verdict_carries() -> None:
    event = load_event("reaper-warning.json")
    event["detail"]["verdict"]["notes"] = ["x" * 5000] * 50
    text = message_of(event).email_text
    assert text.count("x" * 300) == 3 and "x" * 301 not in text


def test_direction_controls_cannot_disguise_a_session_name_anywhere() -> None:
    event = load_event("reaper-warning.json")
    event["detail"]["resource"]["id"] = "abc\u202egpj.exe"
    message = message_of(event)
    assert "abcgpj.exe" in message.email_text and "abcgpj.exe" in message.slack_text
    for text in [message.email_text, message.subject, *slack_strings(message)]:
        assert "\u202e" not in text


# -- keep it running from Slack (issue 12) -------------------------------------------------------
def _kept(kind: str, by: str | None, keep_until: str = "2026-03-02T10:37:00Z") -> dict[str, Any]:
    """A sample event whose verdict's deadline a keep-until set (by a Slack click, or by hand)."""
    from idle_reaper.kept_by import KEPT_BY_TAG, kept_by_value

    event = load_event(f"reaper-{kind}.json")
    detail = event["detail"]
    detail["verdict"]["kept_until"] = "2026-03-02T10:37:00Z"
    tags = detail["resource"]["tags"]
    tags["idle-reaper:keep-until"] = keep_until
    if by is not None:
        tags[KEPT_BY_TAG] = kept_by_value(by, "2026-03-02T10:37:00Z")
    return event


def test_a_warning_carries_the_keep_buttons_only_with_interactivity() -> None:
    from idle_reaper.keep_choices import ButtonValue

    event = ReaperEvent.parse(load_event("reaper-warning.json"))
    plain = render(event)
    assert "Keep for 1 hour" not in json.dumps(plain.blocks)
    with_buttons = render(event, keep_buttons=True)
    (actions,) = [b for b in with_buttons.blocks if b["type"] == "actions"]
    labels = [e["text"]["text"] for e in actions["elements"]]
    assert labels == ["Keep for 1 hour", "Keep until tomorrow 09:00 UTC", "Open in console"]
    value = ButtonValue.parse(actions["elements"][0]["value"])
    assert value is not None and value.ref.id == "watched-only"
    assert value.started_at is not None and value.started_at.isoformat().startswith("2026-03-02")
    assert "Keep button" in with_buttons.slack_text and "Keep button" not in plain.slack_text


@pytest.mark.parametrize("kind", ["stopped", "would-stop", "failed", "exempt", "gone"])
def test_only_warnings_carry_keep_buttons(kind: str) -> None:
    message = render(ReaperEvent.parse(load_event(f"reaper-{kind}.json")), keep_buttons=True)
    assert "idle-reaper.keep." not in json.dumps(message.blocks)


@pytest.mark.parametrize("kind", ["warning", "stopped", "would-stop"])
def test_the_next_warning_or_stop_says_who_kept_it(kind: str) -> None:
    message = message_of(_kept(kind, "alice@example.com"))
    said = "It was kept until 10:37 UTC on 2026-03-02 by alice@example.com from Slack."
    assert said in message.email_text and said in message.slack_text
    assert said in json.dumps(message.blocks)


def test_a_keep_until_set_by_hand_since_is_not_credited_to_the_clicker() -> None:
    message = message_of(_kept("warning", "alice@example.com", keep_until="2026-03-02T18:00:00Z"))
    assert "alice@example.com" not in message.email_text
    assert "by its idle-reaper:keep-until tag" in message.email_text
    plain = message_of(_kept("stopped", None))
    assert "It was kept until 10:37 UTC on 2026-03-02 by its idle-reaper:keep-until tag." in (
        plain.email_text
    )


def test_who_kept_it_is_escaped_like_every_value() -> None:
    from idle_reaper.kept_by import KEPT_BY_TAG

    event = _kept("warning", None)
    tags = event["detail"]["resource"]["tags"]
    tags[KEPT_BY_TAG] = "<!channel> until 2026-03-02T10:37:00Z"  # written by hand, hostile
    message = message_of(event)
    assert "<!channel>" not in message.slack_text and "&lt;!channel&gt;" in message.slack_text
    assert "<!channel>" not in json.dumps(message.blocks)


def test_a_running_cap_or_guardrail_warning_carries_no_keep_button() -> None:
    """No keep may pass a maximum running time, and a guardrail's notice asks for a fix."""
    capped = load_event("reaper-warning.json")
    capped["detail"]["verdict"]["counting"] = "running"
    notice = load_event("reaper-warning.json")
    notice["detail"]["verdict"]["notice"] = "guardrail"
    for event in (capped, notice):
        message = render(ReaperEvent.parse(event), keep_buttons=True)
        assert "idle-reaper.keep." not in json.dumps(message.blocks)
