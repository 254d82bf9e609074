"""Slack's side of the Slack app, on 127.0.0.1: the Web API method the keep function calls
(users.info, answered from the scenario's people), the response_url its answers go to, and the
clicks themselves.

A scenario's `keep:` entry presses a Keep button of the last warning the Slack sink delivered
for its resource, at its virtual time: the block_actions payload Slack would send (the button's
own value, the message with its blocks, a response_url on Slack's hooks host, which the keep
function's posts reach here through HooksToLoopback), form-encoded,
signed with the app's signing secret (`forged: true`: with another secret; `stale: true`: a
request signed six minutes earlier, as a replay would be), and posted over HTTP to the stack's
interactivity endpoint (local_runtime/http_api.py). An answer that replaces the message (a
keep) replaces it here too, so a later click sees the message as Slack would show it.

People are named by email in scenarios; each gets a Slack user id made from it (`U` and ten
hex digits of its SHA-256), or is given by id (`by: U0ADMIN1`, for an admin without an email).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from idle_reaper.keep_choices import CHOICES
from idle_reaper.slack_interaction import USER_ID
from local_runtime import loopback
from local_runtime.slack_sink import Request

TEAM_ID = "T0LOCAL01"
CHANNEL_ID = "C0REAPER1"
APP_ID = "A0REAPER1"
STALE_BY = timedelta(minutes=6)
"""How much older than the click a `stale` click's signature is: past Slack's five minutes."""
PATH = "/slack/interactions"
"""The route template.yaml gives the interactivity endpoint."""


_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""An opener of its own, with no proxy: the endpoint is on 127.0.0.1. urllib.request.urlopen
would build (once, for the whole process) a global opener with the proxies of the environment
of that moment, which every later caller of urlopen (slack_sdk included) would inherit."""


HOOKS_URL = "https://hooks.slack.com"
"""Where Slack's response_urls point (idle_reaper/response_url.py); routed to this server."""


class HooksToLoopback(urllib.request.BaseHandler):
    """Slack's hooks host, served on 127.0.0.1: an https request to one of
    idle_reaper.response_url.HOSTS goes, path and all, to `base` over http (as moto stands in
    for AWS's endpoints). Ahead of urllib's proxy and HTTPS handlers (handler_order 100, 500);
    the opener's other handlers (errors, redirects) see its answers as they would Slack's."""

    handler_order = 50

    def __init__(self, base: str) -> None:
        self.base = base

    def https_open(self, req: urllib.request.Request) -> Any:
        from idle_reaper.response_url import HOSTS

        parts = urlsplit(req.full_url)
        if parts.hostname not in HOSTS:
            return None  # not Slack's: left to the opener (there is no internet here)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        local = urllib.request.Request(
            self.base + path,
            data=req.data,
            headers=dict(req.header_items()),
            method=req.get_method(),
        )
        local.timeout = req.timeout  # type: ignore[attr-defined]  # set by OpenerDirector.open
        return urllib.request.HTTPHandler().do_open(http.client.HTTPConnection, local)


def user_id_for(person: str) -> str:
    """The Slack user id of a scenario's person: theirs when given as an id, else one made
    from their email."""
    if USER_ID.fullmatch(person):
        return person
    return "U" + hashlib.sha256(person.lower().encode()).hexdigest()[:10].upper()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Slack's v0 signature: HMAC-SHA256 of `v0:<timestamp>:<body>` with the signing secret."""
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Reply:
    """One answer the keep function sent to a response_url."""

    at: datetime
    payload: dict[str, Any]
    message_ts: str


@dataclass
class ClickRecord:
    at: datetime
    resource: str
    """The scenario's id of the resource."""
    choice: str
    by: str
    team: str | None = None
    """The clicker's workspace when it is not the app's (scenario `team:`)."""
    forged: bool = False
    stale: bool = False
    status: int | None = None
    """The interactivity endpoint's HTTP status; None when there was no button to press."""
    replies: list[Reply] = field(default_factory=list)

    @property
    def answer(self) -> str | None:
        """What the clicker read (Slack's escaping of &, < and > undone)."""
        if not self.replies:
            return None
        text = str(self.replies[-1].payload.get("text", ""))
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass
class Message:
    ts: str
    resource_id: str
    blocks: list[dict[str, Any]]
    text: str


@dataclass
class SlackApp:
    now: Callable[[], datetime]
    signing_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    bot_token: str = field(default_factory=lambda: "xoxb-local-" + secrets.token_hex(12))
    emails: dict[str, str] = field(default_factory=dict)
    """Slack user id -> email, for users.info."""
    teams: dict[str, str] = field(default_factory=dict)
    """Slack user id -> their own workspace, when it is not the app's (a member of a partner
    organization in a Slack Connect channel: users.info shows them, is_stranger false)."""
    messages: dict[str, Message] = field(default_factory=dict)
    """The warnings delivered, by their ts, as they look now (a keep replaces one)."""
    clicks: list[ClickRecord] = field(default_factory=list)
    listeners: list[Callable[[ClickRecord], None]] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _learnt: int = 0

    def person(self, person: str, team: str | None = None) -> str:
        """Register a scenario's person, a member of `team` (the app's own workspace unless
        another is named); their Slack user id, one per person and workspace."""
        if team is None or team == TEAM_ID:
            user_id = user_id_for(person)
        else:
            user_id = user_id_for(f"{team}/{person}")
            self.teams[user_id] = team
        if "@" in person:
            self.emails[user_id] = person.lower()
        return user_id

    def auth_test(self, token: str | None) -> dict[str, Any]:
        """auth.test as Slack answers a bot token: the workspace the app is installed in."""
        if token != self.bot_token:
            return {"ok": False, "error": "invalid_auth"}
        return {
            "ok": True,
            "url": "https://local.slack.com/",
            "team": "local",
            "user": "idle-reaper",
            "team_id": TEAM_ID,
            "user_id": "U0REAPERBOT",
            "bot_id": "B0REAPER1",
            "is_enterprise_install": False,
        }

    def users_info(self, token: str | None, user_id: str) -> dict[str, Any]:
        """users.info as Slack answers it (only the fields the keep function reads, and a few
        more); `invalid_auth` without the bot token."""
        if token != self.bot_token:
            return {"ok": False, "error": "invalid_auth"}
        if not USER_ID.fullmatch(user_id):
            return {"ok": False, "error": "user_not_found"}
        email = self.emails.get(user_id)
        profile: dict[str, Any] = {"real_name": email or user_id, "display_name": user_id}
        if email:
            profile["email"] = email
        return {
            "ok": True,
            "user": {
                "id": user_id,
                "team_id": self.teams.get(user_id, TEAM_ID),
                "name": (email or user_id).split("@")[0],
                "deleted": False,
                "is_bot": False,
                "is_email_confirmed": email is not None,
                "is_stranger": False,
                "tz": "Europe/London",
                "profile": profile,
            },
        }

    def learn(self, requests: list[Request]) -> None:
        """The messages the Slack sink delivered since the last look (each with the reaper event
        the notify function was handling), as the messages they became in the channel."""
        for number, request in enumerate(requests[self._learnt :], start=self._learnt):
            event = getattr(request.context, "event", None)
            detail = event.get("detail") if isinstance(event, dict) else None
            resource = detail.get("resource") if isinstance(detail, dict) else None
            watched = resource.get("id") if isinstance(resource, dict) else None
            if not request.delivered or not isinstance(watched, str):
                continue
            ts = f"{int(request.at.timestamp())}.{number:06d}"
            blocks = request.payload.get("blocks")
            self.messages[ts] = Message(
                ts,
                watched,
                list(blocks) if isinstance(blocks, list) else [],
                str(request.payload.get("text", "")),
            )
        self._learnt = len(requests)

    def button(self, resource_id: str, choice: str) -> tuple[Message, dict[str, Any]] | None:
        """The newest message about the resource that shows the choice's button, and the
        button; None when no warning shows one (none delivered, or a keep replaced it)."""
        action_id = CHOICES[choice].action_id
        for message in sorted(self.messages.values(), key=lambda m: m.ts, reverse=True):
            if message.resource_id != resource_id:
                continue
            for block in message.blocks:
                for element in block.get("elements") or []:
                    if isinstance(element, dict) and element.get("action_id") == action_id:
                        return message, {**element, "block_id": block.get("block_id", "actions")}
        return None

    def click(
        self,
        endpoint: str,
        resource_id: str,
        record: ClickRecord,
    ) -> ClickRecord:
        """Press the button, as Slack would post it to the interactivity endpoint."""
        user_id = self.person(record.by, record.team)
        found = self.button(resource_id, record.choice)
        self.clicks.append(record)
        if found is None:
            self._tell(record)
            return record
        message, button = found
        now = self.now()
        body = self._body(user_id, record.by, message, button, now, len(self.clicks))
        signed_at = int((now - (STALE_BY if record.stale else timedelta(0))).timestamp())
        secret = self.signing_secret if not record.forged else secrets.token_hex(16)
        request = urllib.request.Request(
            endpoint + PATH,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
                "X-Slack-Request-Timestamp": str(signed_at),
                "X-Slack-Signature": sign(secret, signed_at, body),
            },
        )
        try:
            with _LOCAL.open(request, timeout=30) as answer:
                record.status = int(answer.status)
        except urllib.error.HTTPError as exc:
            record.status = exc.code
        self._tell(record)
        return record

    def _body(
        self,
        user_id: str,
        person: str,
        message: Message,
        button: dict[str, Any],
        now: datetime,
        number: int,
    ) -> bytes:
        """The form Slack posts: `payload=<block_actions JSON>`."""
        stamp = f"{now.timestamp():.6f}"
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {
                "id": user_id,
                "username": person.split("@")[0],
                "name": person.split("@")[0],
                "team_id": self.teams.get(user_id, TEAM_ID),
            },
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": CHANNEL_ID,
                "is_ephemeral": False,
            },
            "trigger_id": f"{number}.{stamp}.local",
            "team": {"id": TEAM_ID, "domain": "local"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": CHANNEL_ID, "name": "idle-reaper"},
            "message": {
                "type": "message",
                "subtype": "bot_message",
                "text": message.text,
                "ts": message.ts,
                "bot_id": "B0REAPER1",
                "blocks": message.blocks,
            },
            "state": {"values": {}},
            "response_url": f"{HOOKS_URL}/actions/{TEAM_ID}/{message.ts}/{number}",
            "actions": [
                {
                    "action_id": button.get("action_id"),
                    "block_id": button.get("block_id"),
                    "text": button.get("text"),
                    "value": button.get("value"),
                    "style": button.get("style", "default"),
                    "type": "button",
                    "action_ts": stamp,
                }
            ],
        }
        return ("payload=" + quote(json.dumps(payload), safe="")).encode()

    def answered(self, path: str, payload: dict[str, Any]) -> None:
        """An answer to a response_url: recorded with its click; a replacement replaces the
        message."""
        parts = path.strip("/").split("/")
        ts, number = (parts[2], parts[3]) if len(parts) == 4 else ("", "0")
        with self._lock:
            if payload.get("replace_original") is True and ts in self.messages:
                old = self.messages[ts]
                blocks = payload.get("blocks")
                self.messages[ts] = Message(
                    ts,
                    old.resource_id,
                    list(blocks) if isinstance(blocks, list) else [],
                    str(payload.get("text", "")),
                )
            index = int(number) - 1 if number.isdigit() else -1
            if 0 <= index < len(self.clicks):
                self.clicks[index].replies.append(Reply(self.now(), payload, ts))

    def _tell(self, record: ClickRecord) -> None:
        for listener in self.listeners:
            listener(record)

    @contextmanager
    def serving(self) -> Iterator[SlackApp]:
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace")
                if self.path.startswith("/api/auth.test"):
                    token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                    self._json(200, app.auth_test(token or None))
                    return
                if self.path.startswith("/api/users.info"):
                    token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                    fields = parse_qs(raw)
                    if not fields and raw.startswith("{"):
                        fields = {k: [str(v)] for k, v in json.loads(raw).items()}
                    user = (fields.get("user") or [""])[0]
                    self._json(200, app.users_info(token or None, user))
                    return
                if self.path.startswith("/actions/"):
                    try:
                        payload = json.loads(raw)
                    except ValueError:
                        self._json(400, {"ok": False, "error": "invalid_payload"})
                        return
                    app.answered(self.path, payload if isinstance(payload, dict) else {})
                    self._text(200, "ok")
                    return
                self._text(404, "not_found")

            def _json(self, status: int, data: dict[str, Any]) -> None:
                self._send(status, "application/json; charset=utf-8", json.dumps(data))

            def _text(self, status: int, text: str) -> None:
                self._send(status, "text/plain", text)

            def _send(self, status: int, content_type: str, text: str) -> None:
                body = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        with loopback.serving(Handler) as base:
            self.url = base
            yield self
