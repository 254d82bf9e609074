"""What the clicker reads after a click: the warning updated in place for a keep (its Keep
buttons gone, one escaped line added), a note only they see for anything else."""

from __future__ import annotations

from datetime import UTC, datetime

from idle_reaper.keep import Answer
from idle_reaper.keep_reply import reply
from idle_reaper.messages import render
from idle_reaper.reaper_event import ReaperEvent
from idle_reaper.slack_interaction import Click
from tests.conftest import load_event


def click_on_warning() -> Click:
    message = render(ReaperEvent.parse(load_event("reaper-warning.json")), keep_buttons=True)
    return Click(
        user_id="U0ANALYST1",
        team_id="T0EXAMPLE1",
        channel_id="C0REAPER01",
        action_id="idle-reaper.keep.1h",
        value=None,
        response_url="https://hooks.slack.com/actions/T0EXAMPLE1/1/x",
        clicked_at=datetime(2026, 3, 2, 9, 37, tzinfo=UTC),
        message_blocks=tuple(message.blocks),
    )


def test_a_keep_replaces_the_warning_without_its_keep_buttons() -> None:
    click = click_on_warning()
    answer = Answer("kept", "Kept until 10:37 UTC on 2026-03-02 by analyst@example.com.")
    payload = reply(answer, click)
    assert payload is not None and payload["replace_original"] is True
    blocks, original = payload["blocks"], list(click.message_blocks or ())
    assert [b["type"] for b in original] == ["header", "section", "section", "actions", "context"]
    assert len(blocks) == len(original) + 1
    assert blocks[:3] == original[:3] and blocks[4] == original[4]
    assert [e["text"]["text"] for e in original[3]["elements"]] == [
        "Keep for 1 hour",
        "Keep until tomorrow 09:00 UTC",
        "Open in console",
    ]
    assert [e["text"]["text"] for e in blocks[3]["elements"]] == ["Open in console"]
    assert blocks[-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": answer.text, "verbatim": True}],
    }


def test_anything_but_a_keep_is_a_note_to_the_clicker_alone() -> None:
    for outcome in ("refused", "already", "failed"):
        answer = Answer(outcome, "alice-etl cannot be kept")  # type: ignore[arg-type]
        payload = reply(answer, click_on_warning())
        assert payload == {
            "response_type": "ephemeral",
            "replace_original": False,
            "text": "alice-etl cannot be kept",
        }
    assert reply(Answer("ignored", ""), click_on_warning()) is None


def test_what_the_answer_quotes_is_escaped() -> None:
    answer = Answer("refused", "Only the owner of <!channel> (<https://evil.example|x>) & co")
    payload = reply(answer, click_on_warning())
    assert payload is not None
    assert payload["text"] == (
        "Only the owner of &lt;!channel&gt; (&lt;https://evil.example|x&gt;) &amp; co"
    )
    kept = reply(Answer("kept", "Kept by <!here>"), click_on_warning())
    assert kept is not None and kept["blocks"][-1]["elements"][0]["text"] == "Kept by &lt;!here&gt;"


def test_a_message_at_slacks_block_limit_still_fits_the_line() -> None:
    click = click_on_warning()
    many = tuple({"type": "divider"} for _ in range(50))
    payload = reply(Answer("kept", "Kept."), Click(**{**click.__dict__, "message_blocks": many}))
    assert payload is not None and len(payload["blocks"]) == 50
