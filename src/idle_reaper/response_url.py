"""Where a click's answer may go, and posting it there: a response_url is a bearer address
(whoever holds it may post into the channel for 30 minutes), so it is used only when it is
Slack's, never followed elsewhere, and never logged.

Slack gives each interaction a response_url on its hooks host, `https://hooks.slack.com/...`
(the block_actions payload: https://docs.slack.dev/reference/interaction-payloads/block_actions-payload;
Enterprise organizations use the same host). GovSlack runs apart, on the slack-gov.com domain
and not on slack.com (https://api.slack-gov.com/gov-slack/about), so its hooks host is
`hooks.slack-gov.com`. Anything else is refused: another scheme (http://), another host
(`hooks.slack.com.evil.com`, an IP literal, a trailing dot), a user part
(`https://hooks.slack.com@evil.com/`), a port, a non-ASCII or unprintable character. The URL is
inside the signed body, so only Slack (or whoever holds the signing secret) chose it: this is
the second lock, not the first.

A redirect is not followed (urllib would turn a POST answered 301/302/303 into a GET to
wherever Location says): the 3xx status is the answer.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from email.message import Message
from typing import IO, Any
from urllib.parse import urlsplit

from idle_reaper.deadline import Deadline

HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
"""Slack's hosts for response_urls: commercial Slack (and Enterprise organizations), GovSlack."""
URL_LIMIT = 2000
TIMEOUT_SECONDS = 2
"""One attempt: the answer must be posted within Slack's three seconds to be worth reading."""
MIN_ATTEMPT_SECONDS = 1
"""An attempt is not started with less time than this before the deadline."""
ATTEMPTS = 2
RETRIED = frozenset({429, 500, 502, 503, 504})

_HANDLERS: tuple[urllib.request.BaseHandler, ...] = ()
"""Transport handlers added to the opener: none in Lambda. The local runtime routes Slack's
hooks host to its own server here (local_runtime/slack_app.py), as moto routes AWS's."""


def checked(value: object) -> str | None:
    """The URL when it is a response_url of Slack's (https, on one of HOSTS, nothing else in
    its authority); None otherwise."""
    if not isinstance(value, str) or not 0 < len(value) <= URL_LIMIT:
        return None
    if not (value.isascii() and value.isprintable()) or any(c in value for c in " \\"):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme != "https" or port is not None or "@" in parts.netloc:
        return None
    if parts.netloc.lower() not in HOSTS or parts.hostname not in HOSTS:
        return None
    return value


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx is the answer, not a place to go."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_NoRedirect, *_HANDLERS)


def post(url: str, payload: dict[str, Any], deadline: Deadline) -> int | None:
    """Post the answer: Slack's status, or None when the URL is not Slack's or Slack could not
    be reached in time (a timeout, a reset: the keep itself stands). A 429 or 5xx is tried
    once more when there is time."""
    if checked(url) is None:
        return None
    body = json.dumps(payload).encode()
    status: int | None = None
    for _ in range(ATTEMPTS):
        remaining = deadline.remaining()
        if remaining < MIN_ATTEMPT_SECONDS:
            break
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        try:
            with _opener().open(request, timeout=min(TIMEOUT_SECONDS, remaining)) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            status = int(exc.code)
            exc.close()
            if status not in RETRIED:
                return status
        # http.client's own errors (BadStatusLine, LineTooLong) are no OSError: a garbled
        # answer is no answer, and the keep itself stands.
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException):
            status = None
    return status


__all__ = ["HOSTS", "checked", "post"]
