"""Every message type, rendered from the sample reaper events, against golden files that a
person read once (tests/unit/golden). Regenerate with UPDATE_GOLDEN=1 and read the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from idle_reaper.messages import SUBJECT_LIMIT, render
from tests.conftest import load_event

GOLDEN = Path(__file__).parent / "golden"
TYPES = ["warning", "stopped", "would-stop", "failed", "exempt", "gone"]


def rendered(kind: str) -> str:
    event = load_event(f"reaper-{kind}.json")
    message = render(event["detail-type"], event["detail"])
    return (
        f"Subject: {message.subject}\n"
        f"Attributes: {json.dumps(message.attributes, sort_keys=True)}\n\n"
        f"{message.text}\n\n"
        f"--- Slack blocks ---\n{json.dumps(message.blocks, indent=2)}\n"
    )


@pytest.mark.parametrize("kind", TYPES)
def test_message_matches_its_golden_file(kind: str) -> None:
    path = GOLDEN / f"{kind}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(rendered(kind))
    assert rendered(kind) == path.read_text()


def test_warning_says_when_in_absolute_and_relative_time_and_how_to_keep_it() -> None:
    event = load_event("reaper-warning.json")
    message = render("warning", event["detail"])
    assert "at 09:40 UTC on 2026-03-02 (in 5 minutes)" in message.text
    assert "run a cell" in message.text and "idle-reaper:exempt=true" in message.text
    assert "Console: https://us-east-1.console.aws.amazon.com/gluestudio/" in message.text


@pytest.mark.parametrize("kind", TYPES)
def test_every_message_names_the_session_owner_region_account_and_cost(kind: str) -> None:
    detail = load_event(f"reaper-{kind}.json")["detail"]
    message = render(kind, detail)
    resource = detail["resource"]
    for fact in (resource["id"], resource["region"], resource["account"], "Cost so far: "):
        assert fact in message.text
    assert len(message.subject) <= SUBJECT_LIMIT
    assert message.blocks[0]["type"] == "header"
    assert message.attributes == {
        "kind": "glue-session",
        "outcome": kind,
        "owner": resource["owner"],
    }


def test_a_long_subject_is_cut_to_what_sns_accepts() -> None:
    detail = load_event("reaper-stopped.json")["detail"]
    detail["resource"]["id"] = "x" * 200
    assert len(render("stopped", detail).subject) == SUBJECT_LIMIT


def test_failed_says_the_error_and_that_nothing_was_stopped() -> None:
    message = render("failed", load_event("reaper-failed.json")["detail"])
    assert "Glue.AccessDeniedException" in message.text
    assert "was not stopped" in message.text
