"""Slack's request signature and the click it carries, as the keep function reads them: the
sample event (events/keep-block-actions.json) is an API Gateway HTTP API v2 event wrapping a
block_actions payload, signed here with a known secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest

from idle_reaper.exceptions import InteractionError
from idle_reaper.keep_choices import ButtonValue
from idle_reaper.slack_interaction import (
    Request,
    click_of,
    request_of,
    signed_time,
    verify,
)
from tests.conftest import load_event

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
"""The example signing secret of Slack's "Verifying requests" guide; the sample event is
signed with it."""
STAMP = 1772443620  # 2026-03-02T09:27:00Z
SAMPLE_STAMP = 1772444220  # 09:37:00Z, when the sample event was signed


def signed(body: bytes, secret: str = SECRET, stamp: int = STAMP) -> Request:
    base = f"v0:{stamp}:".encode() + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return Request(body=body, timestamp=str(stamp), signature=signature)


def form(payload: dict[str, Any]) -> bytes:
    return ("payload=" + quote(json.dumps(payload), safe="")).encode()


def sample_payload() -> dict[str, Any]:
    event = load_event("keep-block-actions.json")
    body = base64.b64decode(event["body"]).decode()
    fields = dict(part.split("=", 1) for part in body.split("&"))
    from urllib.parse import unquote_plus

    payload: dict[str, Any] = json.loads(unquote_plus(fields["payload"]))
    return payload


def test_the_sample_event_is_an_http_api_v2_event_with_a_base64_form_body() -> None:
    event = load_event("keep-block-actions.json")
    assert event["version"] == "2.0" and event["isBase64Encoded"] is True
    assert event["routeKey"] == "POST /slack/interactions"
    assert event["requestContext"]["http"]["method"] == "POST"
    assert all(name == name.lower() for name in event["headers"])
    request = request_of(event)
    assert request.body.startswith(b"payload=")
    assert request.timestamp == event["headers"]["x-slack-request-timestamp"]


def test_the_sample_event_is_signed_as_slack_signs() -> None:
    request = request_of(load_event("keep-block-actions.json"))
    assert verify(request, SECRET, SAMPLE_STAMP + 60) == "valid"
    assert verify(request, "another-secret", SAMPLE_STAMP) == "bad"
    click = click_of(request.body, signed_time(request))
    assert click is not None
    value = ButtonValue.parse(click.value)
    assert value is not None and value.ref.id == "watched-only"


def test_a_good_signature_is_valid_within_five_minutes() -> None:
    request = signed(b"payload=%7B%7D")
    assert verify(request, SECRET, STAMP) == "valid"
    assert verify(request, SECRET, STAMP + 300) == "valid"
    assert verify(request, SECRET, STAMP - 300) == "valid"


def test_a_bad_signature_is_refused() -> None:
    good = signed(b"payload=%7B%7D")
    assert verify(good, "another-secret", STAMP) == "bad"
    tampered = Request(b"payload=%7B%22x%22%7D", good.timestamp, good.signature)
    assert verify(tampered, SECRET, STAMP) == "bad"
    restamped = Request(good.body, str(STAMP + 1), good.signature)
    assert verify(restamped, SECRET, STAMP) == "bad"


def test_a_stale_or_future_request_is_refused_whatever_its_signature() -> None:
    request = signed(b"payload=%7B%7D")
    assert verify(request, SECRET, STAMP + 301) == "stale"
    assert verify(request, SECRET, STAMP - 301) == "stale"


def test_a_replayed_request_is_still_valid_within_the_window() -> None:
    """The signature cannot tell a replay from the original within five minutes: a replay asks
    for the very same keep (its time is the signed timestamp), which changes nothing
    (test_keep.py: test_a_replayed_request_asks_for_the_same_keep_and_changes_nothing)."""
    request = signed(b"payload=%7B%7D")
    assert verify(request, SECRET, STAMP + 10) == verify(request, SECRET, STAMP + 200) == "valid"
    assert signed_time(request) == datetime(2026, 3, 2, 9, 27, tzinfo=UTC)
    assert verify(request, SECRET, STAMP + 360) == "stale"


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        (None, "v0=" + "0" * 64),
        (str(STAMP), None),
        ("abc", "v0=" + "0" * 64),
        ("".join(chr(0xFF10 + int(d)) for d in str(STAMP)), "v0=" + "0" * 64),  # full-width
        (str(STAMP), "v0=" + "é" * 64),  # compare_digest raises on non-ASCII text
        (str(STAMP), "v1=" + "0" * 64),
        (str(STAMP), "v0=" + "0" * 63),
        ("9" * 40, "v0=" + "0" * 64),
    ],
)
def test_malformed_headers_are_unsigned_and_never_raise(
    timestamp: str | None, signature: str | None
) -> None:
    assert verify(Request(b"x", timestamp, signature), SECRET, STAMP) == "unsigned"


def test_the_body_is_read_whether_or_not_api_gateway_base64_encoded_it() -> None:
    body = "payload=%7B%7D"
    plain = {"body": body, "isBase64Encoded": False, "headers": {"X-Slack-Signature": "s"}}
    encoded = {"body": base64.b64encode(body.encode()).decode(), "isBase64Encoded": True}
    assert request_of(plain).body == request_of(encoded).body == body.encode()
    assert request_of(plain).signature == "s"


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        {},
        {"body": 5},
        {"body": "not base64!", "isBase64Encoded": True},
        {"body": "x" * (2 * 1024 * 1024)},
    ],
)
def test_what_is_no_request_is_refused(event: Any) -> None:
    with pytest.raises(InteractionError):
        request_of(event)


def test_a_click_is_read_from_the_sample_payload() -> None:
    payload = sample_payload()
    moment = datetime(2026, 3, 2, 9, 27, tzinfo=UTC)
    click = click_of(form(payload), moment)
    assert click is not None
    assert click.user_id == payload["user"]["id"]
    assert click.team_id == payload["team"]["id"]
    assert click.channel_id == payload["channel"]["id"]
    assert click.action_id == "idle-reaper.keep.1h"
    assert click.value == payload["actions"][0]["value"]
    assert click.response_url == payload["response_url"]
    assert click.clicked_at == moment
    assert click.message_blocks and click.message_blocks[0]["type"] == "header"


def test_other_interactions_are_only_acknowledged() -> None:
    payload = sample_payload()
    moment = datetime(2026, 3, 2, 9, 27, tzinfo=UTC)
    assert click_of(form({**payload, "type": "view_submission"}), moment) is None
    assert click_of(form({**payload, "actions": []}), moment) is None
    assert click_of(form({**payload, "actions": payload["actions"] * 2}), moment) is None


@pytest.mark.parametrize(
    "body",
    [b"nothing=here", b"payload=not-json", b"payload=%5B%5D", b"payload=1&payload=2", b"\xff"],
)
def test_an_unreadable_signed_body_is_a_bad_request(body: bytes) -> None:
    with pytest.raises(InteractionError):
        click_of(body, datetime(2026, 3, 2, tzinfo=UTC))


def test_hostile_fields_are_dropped_not_trusted() -> None:
    payload = sample_payload()
    payload["team"] = {"id": "T0<!channel>"}
    payload["channel"] = {"id": 7}
    payload["response_url"] = "javascript:alert(1)"
    click = click_of(form(payload), datetime(2026, 3, 2, tzinfo=UTC))
    assert click is not None
    assert (click.team_id, click.channel_id, click.response_url) == (None, None, None)
    payload["user"] = {"id": "U0X> <!here"}
    with pytest.raises(InteractionError):
        click_of(form(payload), datetime(2026, 3, 2, tzinfo=UTC))
