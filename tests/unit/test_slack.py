"""Slack delivery against a real HTTP server on 127.0.0.1 (the local runtime's sink), one
failure class at a time; the retry budget against a deadline on a fake clock, so a test
proves a 30-second budget without waiting for it."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from idle_reaper import slack
from idle_reaper.exceptions import DeliveryError
from idle_reaper.messages import render
from idle_reaper.reaper_event import ReaperEvent
from local_runtime import slack_sink
from local_runtime.slack_sink import SlackSink
from tests.conftest import load_event

MESSAGE = render(ReaperEvent.parse(load_event("reaper-stopped.json")))


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
    assert request.payload["text"] == MESSAGE.slack_text
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


class FakeClock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def deadline(self, seconds: float) -> slack.Deadline:
        return slack.Deadline.after(seconds, clock=self, sleep=self.sleep)


@answers(then=429)
def test_a_retry_after_past_the_deadline_is_never_slept(
    sink: SlackSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN Slack asks for 30 s and the function has 20 s left for Slack
    monkeypatch.setattr(slack_sink, "RETRY_AFTER_SECONDS", 30)
    clock = FakeClock()
    # WHEN / THEN it gives up at once: no sleep, one request, a retryable failure
    with pytest.raises(DeliveryError, match="429"):
        slack.send(sink.url, MESSAGE, clock.deadline(20))
    assert clock.slept == []
    assert len(sink.requests) == 1


@answers(429, "ok")
def test_a_retry_after_that_fits_is_slept_on_the_deadlines_clock(sink: SlackSink) -> None:
    clock = FakeClock()
    began = time.monotonic()
    assert slack.send(sink.url, MESSAGE, clock.deadline(20)).status == "delivered"
    assert len(clock.slept) == 1 and 1 <= clock.slept[0] < 2  # Retry-After: 1, plus jitter
    assert time.monotonic() - began < 1  # the real clock did not wait for it


@pytest.mark.parametrize(
    ("sink", "budget"),
    [
        (((), 429), 9.0),
        (((), 429), 20.0),
        (((), 503), 6.0),
        (((), "down"), 5.5),
        (((), 503), 25.0),
    ],
    indirect=["sink"],
)
def test_every_attempt_and_every_wait_fit_in_the_budget(sink: SlackSink, budget: float) -> None:
    # GIVEN the worst case: every attempt takes its whole timeout (5 s)
    clock = FakeClock()
    start = clock.now

    def each_attempt_takes_its_timeout() -> datetime:
        clock.now += slack.TIMEOUT_SECONDS
        return datetime.now()

    sink.now = each_attempt_takes_its_timeout
    # WHEN Slack never says ok
    with pytest.raises(DeliveryError):
        slack.send(sink.url, MESSAGE, clock.deadline(budget))
    # THEN every attempt and every wait ended by the deadline
    assert clock.now - start <= budget
    assert len(sink.requests) >= 1


@answers("ok")
def test_a_short_budget_shortens_the_attempt_timeout_to_fit(sink: SlackSink) -> None:
    clock = FakeClock()
    assert slack.client(sink.url, clock.deadline(3.5)).timeout == 3
    assert slack.client(sink.url, clock.deadline(60)).timeout == slack.TIMEOUT_SECONDS


@answers("ok")
def test_no_time_left_means_no_attempt(sink: SlackSink) -> None:
    with pytest.raises(DeliveryError, match="no time left"):
        slack.send(sink.url, MESSAGE, FakeClock().deadline(0.5))
    assert sink.requests == []


@answers(then="down")
def test_the_webhook_url_never_reaches_a_log_even_at_debug(
    sink: SlackSink, caplog: pytest.LogCaptureFixture
) -> None:
    # slack_sdk writes `POST <url>` into INFO and DEBUG lines when it retries
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DeliveryError):
        slack.send(sink.url, MESSAGE)
    assert len(sink.requests) == 1 + slack.CONNECTION_RETRIES
    assert caplog.records  # slack_sdk's own ERROR lines still come through
    assert not any(sink.url in record.getMessage() for record in caplog.records)
    assert logging.getLogger("slack_sdk").level == logging.WARNING
