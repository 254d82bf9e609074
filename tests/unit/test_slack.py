"""Slack delivery against a real HTTP server on 127.0.0.1 (the local runtime's sink), one
failure class at a time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from idle_reaper import slack
from idle_reaper.exceptions import DeliveryError
from idle_reaper.messages import render
from local_runtime.slack_sink import SlackSink
from tests.conftest import load_event

MESSAGE = render("stopped", load_event("reaper-stopped.json")["detail"])


@pytest.fixture
def sink(request: pytest.FixtureRequest) -> Iterator[SlackSink]:
    script, then = request.param
    with SlackSink(list(script), then).serving() as running:
        yield running


def answers(*script: int | str, then: int | str = "ok") -> object:
    return pytest.mark.parametrize("sink", [(script, then)], indirect=True)


@answers("ok")
def test_ok_is_delivered_once_with_text_fallback_and_blocks(sink: SlackSink) -> None:
    result = slack.send(sink.url, MESSAGE)
    assert (result.status, result.code) == ("delivered", 200)
    (request,) = sink.requests
    assert request.payload["text"] == MESSAGE.text
    assert request.payload["blocks"] == MESSAGE.blocks


@answers(429, 429, "ok")
def test_rate_limit_honours_retry_after_then_delivers(sink: SlackSink) -> None:
    assert slack.send(sink.url, MESSAGE).status == "delivered"
    assert [r.status for r in sink.requests] == [429, 429, 200]
    gaps = [
        (b.at - a.at).total_seconds()
        for a, b in zip(sink.requests, sink.requests[1:], strict=False)
    ]
    assert all(gap >= 1 for gap in gaps)  # Retry-After: 1


@answers(then=429)
def test_rate_limited_for_good_is_a_retryable_failure(sink: SlackSink) -> None:
    with pytest.raises(DeliveryError):
        slack.send(sink.url, MESSAGE)
    assert len(sink.requests) == 1 + slack.RATE_LIMIT_RETRIES


@answers(500, "ok")
def test_server_error_is_retried_with_backoff(sink: SlackSink) -> None:
    assert slack.send(sink.url, MESSAGE).status == "delivered"
    assert [r.status for r in sink.requests] == [500, 200]


@answers(then=503)
def test_server_down_for_good_is_a_retryable_failure(sink: SlackSink) -> None:
    with pytest.raises(DeliveryError):
        slack.send(sink.url, MESSAGE)
    assert len(sink.requests) == 1 + slack.SERVER_ERROR_RETRIES


@answers(then="down")
def test_dropped_connections_are_a_retryable_failure(sink: SlackSink) -> None:
    with pytest.raises(DeliveryError) as caught:
        slack.send(sink.url, MESSAGE)
    assert caught.value.__cause__ is not None
    assert len(sink.requests) == 1 + slack.CONNECTION_RETRIES


@answers("200:no_service")
def test_a_200_whose_body_is_not_ok_is_a_failure(sink: SlackSink) -> None:
    with pytest.raises(DeliveryError, match="no_service"):
        slack.send(sink.url, MESSAGE)


@pytest.mark.parametrize(
    "sink", [((400,), "ok"), ((404,), "ok"), ((410,), "ok"), ((403,), "ok")], indirect=True
)
def test_permanent_4xx_is_rejected_once_not_retried(sink: SlackSink) -> None:
    result = slack.send(sink.url, MESSAGE)
    assert result.status == "rejected"
    assert result.body in (
        "invalid_payload",
        "channel_not_found",
        "channel_is_archived",
        "action_prohibited",
    )
    assert len(sink.requests) == 1


def test_nothing_listening_is_a_retryable_failure() -> None:
    with SlackSink().serving() as gone:
        url = gone.url
    with pytest.raises(DeliveryError):
        slack.send(url, MESSAGE)
