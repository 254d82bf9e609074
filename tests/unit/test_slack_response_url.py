"""A click's response_url is a bearer address: posted to only when it is https on Slack's hooks
host (hooks.slack.com, GovSlack's hooks.slack-gov.com), never followed through a redirect
(src/idle_reaper/response_url.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from idle_reaper import response_url
from idle_reaper.deadline import Deadline
from idle_reaper.slack_interaction import click_of
from local_runtime import loopback
from local_runtime.slack_app import HooksToLoopback
from tests.unit.test_slack_interaction import form, sample_payload

SLACKS = [
    "https://hooks.slack.com/actions/T0EXAMPLE1/1234567890/AbCdEfGh",
    "https://hooks.slack-gov.com/actions/T0EXAMPLE1/1234567890/AbCdEfGh",
    "https://HOOKS.SLACK.COM/actions/T0EXAMPLE1/1/x",  # host names are not case-sensitive
]
HOSTILE = [
    "http://hooks.slack.com/actions/T0EXAMPLE1/1/x",  # not https
    "https://hooks.slack.com.evil.com/actions/T0EXAMPLE1/1/x",
    "https://evil.com/hooks.slack.com/actions/T0EXAMPLE1/1/x",
    "https://evilhooks.slack.com/actions/x",
    "https://slack.com/api/chat.postMessage",
    "https://hooks.slack.com@evil.com/actions/x",  # userinfo: the host is evil.com
    "https://evil.com@hooks.slack.com/actions/x",  # userinfo, even in front of Slack's host
    "https://hooks.slack.com:evil@evil.com/",
    "https://hooks.slack.com\\@evil.com/",
    "https://hooks.slack.com:8443/actions/x",
    "https://hooks.slack.com:443/actions/x",  # a port at all: Slack writes none
    "https://hooks.slack.com./actions/x",  # trailing dot
    "https://203.0.113.7/actions/x",
    "https://[::1]/actions/x",
    "https://2130706433/actions/x",
    "https://hooks.sl\u0430ck.com/actions/x",  # a Cyrillic a
    "https://hooks%2eslack.com/actions/x",
    "https://hooks.slack.com /actions/x",
    "https://hooks.slack.com/actions/x\n",
    "//hooks.slack.com/actions/x",
    "hooks.slack.com/actions/x",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "ftp://hooks.slack.com/x",
    "https://hooks.slack.com/" + "a" * 2100,
    "",
]


@pytest.mark.parametrize("url", SLACKS)
def test_slacks_own_hooks_hosts_are_accepted(url: str) -> None:
    assert response_url.checked(url) == url


@pytest.mark.parametrize("url", HOSTILE)
def test_anything_else_is_refused(url: str) -> None:
    assert response_url.checked(url) is None


@pytest.mark.parametrize("value", [None, 7, ["https://hooks.slack.com/x"], {"url": "x"}])
def test_what_is_no_string_is_refused(value: object) -> None:
    assert response_url.checked(value) is None


@pytest.mark.parametrize("url", HOSTILE[:8])
def test_a_click_with_a_hostile_response_url_has_none_and_says_so(url: str) -> None:
    payload = {**sample_payload(), "response_url": url}
    click = click_of(form(payload), datetime(2026, 3, 2, tzinfo=UTC))
    assert click is not None
    assert click.response_url is None and click.response_url_refused


def test_a_click_without_one_is_not_a_refusal() -> None:
    payload = sample_payload()
    del payload["response_url"]
    click = click_of(form(payload), datetime(2026, 3, 2, tzinfo=UTC))
    assert click is not None and click.response_url is None and not click.response_url_refused


@pytest.mark.parametrize("url", HOSTILE[:14])
def test_post_never_opens_a_hostile_url(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network() -> Any:
        raise AssertionError("opened a connection")

    monkeypatch.setattr(response_url, "_opener", no_network)
    assert response_url.post(url, {"text": "x"}, Deadline.after(5)) is None


class Recorder:
    """Slack's hooks host on 127.0.0.1, answering each path as told; what it was asked."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bytes]] = []
        self.answers: dict[str, tuple[int, dict[str, str]]] = {}


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            recorder.seen.append((self.command, self.path, self.rfile.read(length)))
            status, headers = recorder.answers.get(self.path, (200, {}))
            self.send_response(status)
            for name, value in {**headers, "Content-Length": "2"}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(b"ok")

        do_POST = do_GET = _answer

        def log_message(self, *args: Any) -> None:
            return

    with loopback.serving(Handler) as base:
        monkeypatch.setattr(response_url, "_HANDLERS", (HooksToLoopback(base),))
        yield recorder


def test_the_answer_is_posted_as_json_to_slacks_url(hooks: Recorder) -> None:
    status = response_url.post(SLACKS[0], {"text": "Kept"}, Deadline.after(5))
    assert status == 200
    ((method, path, body),) = hooks.seen
    assert (method, path) == ("POST", "/actions/T0EXAMPLE1/1234567890/AbCdEfGh")
    assert json.loads(body) == {"text": "Kept"}


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirect_is_the_answer_not_a_place_to_go(hooks: Recorder, code: int) -> None:
    path = "/actions/T0EXAMPLE1/1/x"
    hooks.answers[path] = (code, {"Location": "https://hooks.slack.com/stolen"})
    assert response_url.post(SLACKS[2], {"text": "x"}, Deadline.after(5)) == code
    assert [p for _, p, _ in hooks.seen] == [path]


def test_a_server_error_is_tried_once_more_within_the_deadline(hooks: Recorder) -> None:
    path = "/actions/T0EXAMPLE1/1/x"
    hooks.answers[path] = (503, {})
    assert response_url.post(SLACKS[2], {"text": "x"}, Deadline.after(5)) == 503
    assert len(hooks.seen) == response_url.ATTEMPTS
    hooks.seen.clear()
    assert response_url.post(SLACKS[2], {"text": "x"}, Deadline.after(0.5)) is None
    assert hooks.seen == []  # no time for an attempt: none started


def test_a_client_error_is_not_retried(hooks: Recorder) -> None:
    path = "/actions/T0EXAMPLE1/1/x"
    hooks.answers[path] = (404, {})
    assert response_url.post(SLACKS[2], {"text": "x"}, Deadline.after(5)) == 404
    assert len(hooks.seen) == 1


def test_an_answer_that_is_no_http_is_no_status_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """http.client's own errors (BadStatusLine, LineTooLong) are no OSError: before this, one
    escaped post() and failed the keep handler after the keep was made (no log, no metric)."""

    class Garbage(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.wfile.write(b"NOT-HTTP garbage\r\n\r\n")

        def log_message(self, *args: Any) -> None:
            return

    with loopback.serving(Garbage) as base:
        monkeypatch.setattr(response_url, "_HANDLERS", (HooksToLoopback(base),))
        assert response_url.post(SLACKS[0], {"text": "x"}, Deadline.after(5)) is None
