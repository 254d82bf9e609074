"""The one reading of a reaper event that notify and audit share: what it refuses (and why),
what it reads as absent (and notes), how it keys an event without an id, and how it names
the resource of a watcher that failed before its first verdict."""

from __future__ import annotations

import json
from typing import Any

import pytest

from idle_reaper.exceptions import AuditRecordError, MalformedEventError
from idle_reaper.reaper_event import ReaperEvent, content_key, failure_of
from tests.conftest import load_event

ALICE = "arn:aws:sts::123456789012:assumed-role/DataEngineer/alice@example.com"


def stopped(**detail: Any) -> dict[str, Any]:
    event = load_event("reaper-stopped.json")
    event["detail"].update(detail)
    return event


@pytest.mark.parametrize(
    ("event", "why"),
    [
        ("not an object", "not a JSON object"),
        ([{"detail-type": "stopped"}], "not a JSON object"),
        ({"id": "x", "detail": {}}, "no detail-type"),
        ({"id": "x", "detail-type": "", "detail": {}}, "no detail-type"),
        ({"id": "x", "detail-type": ["stopped"], "detail": {}}, "no detail-type"),
        ({"id": "x", "detail-type": "stopped"}, "detail is missing"),
        ({"id": "x", "detail-type": "stopped", "detail": "{}"}, "detail is a string"),
        ({"id": "x", "detail-type": "stopped", "detail": []}, "detail is a list"),
    ],
)
def test_what_cannot_be_read_at_all_is_refused_with_its_reason(event: Any, why: str) -> None:
    with pytest.raises(MalformedEventError, match=why):
        ReaperEvent.parse(event)


def test_the_audit_functions_refusal_is_the_same_kind_of_error() -> None:
    assert issubclass(AuditRecordError, MalformedEventError)


@pytest.mark.parametrize("part", ["resource", "verdict", "error"])
@pytest.mark.parametrize("value", ["x", [1, 2], 3, True])
def test_a_part_that_is_not_an_object_is_read_as_absent_and_noted(part: str, value: Any) -> None:
    parsed = ReaperEvent.parse(stopped(**{part: value}))
    assert getattr(parsed, part) == {}
    assert any(note.startswith(f"detail.{part} was ") for note in parsed.notes)


def test_a_null_part_is_simply_absent() -> None:
    parsed = ReaperEvent.parse(stopped(verdict=None, error=None))
    assert (parsed.verdict, parsed.error, parsed.notes) == ({}, {}, ())


def test_a_sample_event_reads_without_a_note() -> None:
    parsed = ReaperEvent.parse(load_event("reaper-stopped.json"))
    assert parsed.id == "4c42e2f2-fb8b-4ad4-8477-90f7604fda27"
    assert parsed.resource["id"] == "gone-home" and parsed.notes == ()


def test_an_event_without_an_id_is_keyed_by_its_content() -> None:
    event = stopped()
    del event["id"]
    parsed = ReaperEvent.parse(event)
    assert parsed.id.startswith("sha256:") and len(parsed.id) == len("sha256:") + 64
    assert "no event id" in parsed.notes[0]
    # the same content in another key order is the same event: a redelivery dedupes
    reordered = json.loads(json.dumps(event, sort_keys=True))
    reordered = dict(reversed(list(reordered.items())))
    assert ReaperEvent.parse(reordered).id == parsed.id
    # any other content is another event
    other = json.loads(json.dumps(event))
    other["detail"]["resource"]["id"] = "gone-home-2"
    assert ReaperEvent.parse(other).id != parsed.id


@pytest.mark.parametrize("event_id", [None, "", 42])
def test_an_id_that_is_not_a_string_is_no_id(event_id: Any) -> None:
    event = stopped()
    event["id"] = event_id
    assert ReaperEvent.parse(event).id == content_key(event)


def test_a_failure_before_the_first_verdict_names_the_resource_its_start_event_named() -> None:
    parsed = ReaperEvent.parse(load_event("reaper-failed-before-verdict.json"))
    assert dict(parsed.resource) == {
        "kind": "glue-session",
        "id": "alice-etl",
        "region": "us-east-1",
        "account": "123456789012",
        "principal": ALICE,
        "owner": "alice@example.com",
        "console_url": (
            "https://us-east-1.console.aws.amazon.com/gluestudio/home?region=us-east-1"
            "#/interactive-sessions"
        ),
    }
    assert (parsed.verdict, parsed.notes) == ({}, ())
    assert parsed.error["Error"] == "ResourceReadError"


def test_a_sweepers_resource_reference_names_it_too() -> None:
    event = load_event("reaper-failed-before-verdict.json")
    event["detail"]["event"] = load_event("inspect-resource-ref.json")
    resource = ReaperEvent.parse(event).resource
    assert (resource["kind"], resource["id"], resource["account"]) == (
        "glue-session",
        "alice-etl",
        "123456789012",
    )


def test_an_absent_resource_key_is_derived_as_a_null_one_is() -> None:
    event = load_event("reaper-failed-before-verdict.json")
    del event["detail"]["resource"]
    assert ReaperEvent.parse(event).resource["id"] == "alice-etl"


def test_a_damaged_resource_is_derived_from_the_start_event_and_noted() -> None:
    event = load_event("reaper-failed-before-verdict.json")
    event["detail"]["resource"] = "alice-etl"
    parsed = ReaperEvent.parse(event)
    assert parsed.resource["id"] == "alice-etl"
    assert parsed.notes == ("detail.resource was a string, not an object: treated as absent",)


@pytest.mark.parametrize(
    ("start", "note"),
    [
        (load_event("amplify-create-app.json"), "names no resource"),
        (load_event("glue-create-session-failed.json"), "names no resource"),
        ({"resource": {"kind": "no-such-kind", "id": "x"}}, "names no resource"),
        ({"resource": {"kind": "glue-session", "id": "x"}}, "names no resource"),
        ("CreateSession", "detail.event was a string"),
    ],
)
def test_a_start_event_that_names_nothing_leaves_the_resource_unknown(
    start: Any, note: str
) -> None:
    event = load_event("reaper-failed-before-verdict.json")
    event["detail"]["event"] = start
    parsed = ReaperEvent.parse(event)
    assert parsed.resource == {}
    assert note in parsed.notes[-1]


def test_the_watchers_resource_wins_over_its_start_event() -> None:
    event = load_event("reaper-failed.json")
    event["detail"]["event"] = load_event("glue-create-session.json")
    assert ReaperEvent.parse(event).resource["id"] == "grace-ml"


def test_a_time_that_is_not_a_string_is_read_as_absent_and_noted() -> None:
    parsed = ReaperEvent.parse(stopped(at=1772443800))
    assert parsed.at is None
    assert parsed.notes == ("detail.at was a number: treated as absent",)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            {
                "Error": "ResourceReadError",
                "Cause": '{"errorMessage": "GetSession s1: throttled", "errorType": "X",'
                ' "stackTrace": ["  File \\"glue.py\\", line 91"]}',
            },
            ("ResourceReadError", "GetSession s1: throttled"),
        ),
        (
            {"Error": "Glue.AccessDeniedException", "Cause": "not allowed"},
            ("Glue.AccessDeniedException", "not allowed"),
        ),
        ({"Error": "States.Runtime", "Cause": "{not json"}, ("States.Runtime", "{not json")),
        ({"Cause": {"nested": 1}}, ("unknown error", '{"nested": 1}')),
        ({}, ("unknown error", "")),
    ],
)
def test_a_failure_reads_as_its_message_never_a_stack_trace(
    error: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert failure_of(error) == expected
