"""A click on a Slack button as API Gateway's HTTP API hands it to the keep function: the raw
body checked against Slack's signature first, then read as a `block_actions` payload, every
field hostile.

Slack's request signing (https://docs.slack.dev/authentication/verifying-requests-from-slack):
the signature is `v0=` and the hex HMAC-SHA256, keyed with the app's signing secret, of
`v0:<X-Slack-Request-Timestamp>:<raw body>`; a request whose timestamp is more than five
minutes from the local clock may be a replay and is refused. slack_sdk's SignatureVerifier
does exactly that, comparing with hmac.compare_digest (constant time); the headers are checked
for shape before it sees them (it would raise on a timestamp that is not a number, and
compare_digest raises on non-ASCII text).

Interactivity payloads arrive form-encoded with one `payload` field holding JSON
(https://docs.slack.dev/interactivity/handling-user-interaction). API Gateway's HTTP API
passes a body that is not text (this form encoding included) base64-encoded, with
`isBase64Encoded` true (payload format 2.0, headers in lower case:
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs

from slack_sdk.signature import Clock, SignatureVerifier

from idle_reaper import response_url
from idle_reaper.exceptions import InteractionError

MAX_BODY_BYTES = 1024 * 1024
"""A click's payload carries the whole message (at most 50 blocks of a few KB): a megabyte is
far above any real one, and below what API Gateway would pass (10 MB)."""
REPLAY_WINDOW_SECONDS = 5 * 60
"""Slack: refuse a request whose timestamp is more than five minutes from the local clock."""
_TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}", re.ASCII)
USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}", re.ASCII)
"""A Slack user id (`U…`, or `W…` in an Enterprise organization)."""
TEAM_ID = re.compile(r"[TE][A-Z0-9]{2,30}", re.ASCII)
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,30}", re.ASCII)
MAX_BLOCKS = 50
"""Slack: a message holds at most 50 blocks."""

Check = Literal["valid", "unsigned", "bad", "stale"]


@dataclass(frozen=True)
class Request:
    """What the signature covers: the raw body and the two headers, as they arrived."""

    body: bytes
    timestamp: str | None
    signature: str | None


def request_of(event: object) -> Request:
    """The request an API Gateway (HTTP API, payload 2.0) event carries; InteractionError when
    it is not one (no body, a body that is not base64 where it says it is, too large)."""
    if not isinstance(event, Mapping):
        raise InteractionError("not an API Gateway event")
    raw = event.get("body")
    if not isinstance(raw, str):
        raise InteractionError("the request has no body")
    if len(raw) > MAX_BODY_BYTES * 4 // 3 + 4:
        raise InteractionError("the request body is too large")
    if event.get("isBase64Encoded") is True:
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InteractionError("the body is not the base64 it says it is") from exc
    else:
        body = raw.encode("utf-8", "surrogatepass")
    if len(body) > MAX_BODY_BYTES:
        raise InteractionError("the request body is too large")
    headers = event.get("headers")
    found = headers if isinstance(headers, Mapping) else {}
    lowered = {str(k).lower(): v for k, v in found.items() if isinstance(v, str)}
    return Request(
        body=body,
        timestamp=lowered.get("x-slack-request-timestamp"),
        signature=lowered.get("x-slack-signature"),
    )


class _At(Clock):
    """slack_sdk's clock, stopped at a given moment (the handler's own `now`)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def now(self) -> float:
        return self.seconds


def verify(request: Request, signing_secret: str, now: float) -> Check:
    """Whether Slack signed this request: `valid`; `unsigned` (a header missing or malformed),
    `bad` (the signature does not match) or `stale` (outside the five-minute window)."""
    stamp, signature = request.timestamp, request.signature
    if stamp is None or signature is None:
        return "unsigned"
    if _TIMESTAMP.fullmatch(stamp) is None or _SIGNATURE.fullmatch(signature) is None:
        return "unsigned"
    if abs(now - int(stamp)) > REPLAY_WINDOW_SECONDS:
        return "stale"
    verifier = SignatureVerifier(signing_secret, clock=_At(now))
    return "valid" if verifier.is_valid(request.body, stamp, signature) else "bad"


@dataclass(frozen=True)
class Click:
    """One press of a button, as far as idle-reaper reads it."""

    user_id: str
    team_id: str | None
    channel_id: str | None
    action_id: str
    value: str | None
    response_url: str | None
    """Where the answer goes (Slack: usable up to five times within 30 minutes); only ever an
    https URL on Slack's hooks host (response_url.py)."""
    clicked_at: datetime
    """The signed request's timestamp: a replay of the same request asks for the same keep."""
    message_blocks: tuple[Mapping[str, Any], ...] | None = None
    """The message the button was in, to update it; None when the payload has none."""
    user_team_id: str | None = None
    """The clicker's own workspace (`user.team_id`; an `E...` organization id in an Enterprise
    organization): a member of another organization in a Slack Connect channel names theirs."""
    response_url_refused: bool = False
    """The payload named a response_url that is not Slack's (response_url.py): no answer."""


def click_of(body: bytes, clicked_at: datetime) -> Click | None:
    """The click a verified body describes; None for an interaction that is not a button press
    in a message (nothing to do but acknowledge it); InteractionError when it cannot be read."""
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=False, max_num_fields=20)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InteractionError("the body is not a form") from exc
    fields = form.get("payload")
    if not fields or len(fields) != 1:
        raise InteractionError("the form has no single `payload` field")
    try:
        payload = json.loads(fields[0])
    except (ValueError, RecursionError) as exc:  # RecursionError: nested thousands deep
        raise InteractionError("the payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise InteractionError("the payload is not a JSON object")
    if payload.get("type") != "block_actions":
        return None
    actions = payload.get("actions")
    if not isinstance(actions, list) or len(actions) != 1 or not isinstance(actions[0], dict):
        return None  # a button press carries exactly one action
    action = actions[0]
    user = _object(payload.get("user"))
    user_id = user.get("id")
    if not isinstance(user_id, str) or USER_ID.fullmatch(user_id) is None:
        raise InteractionError("the payload names no Slack user")
    action_id = action.get("action_id")
    if not isinstance(action_id, str) or len(action_id) > 255:
        return None
    value = action.get("value")
    message = _object(payload.get("message"))
    blocks = message.get("blocks")
    answer_to = response_url.checked(payload.get("response_url"))
    return Click(
        user_id=user_id,
        team_id=_id(_object(payload.get("team")).get("id"), TEAM_ID),
        channel_id=_id(_object(payload.get("channel")).get("id"), CHANNEL_ID),
        action_id=action_id,
        value=value if isinstance(value, str) else None,
        user_team_id=_id(user.get("team_id"), TEAM_ID),
        response_url=answer_to,
        response_url_refused=payload.get("response_url") is not None and answer_to is None,
        clicked_at=clicked_at,
        message_blocks=tuple(b for b in blocks[:MAX_BLOCKS] if isinstance(b, dict))
        if isinstance(blocks, list)
        else None,
    )


def signed_time(request: Request) -> datetime:
    """The moment the (verified) request was signed."""
    return datetime.fromtimestamp(int(request.timestamp or 0), UTC)


def _object(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _id(value: object, pattern: re.Pattern[str]) -> str | None:
    return value if isinstance(value, str) and pattern.fullmatch(value) else None


__all__ = ["Click", "Request", "click_of", "request_of", "signed_time", "verify"]
