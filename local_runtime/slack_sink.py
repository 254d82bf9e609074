"""A real HTTP server on 127.0.0.1 that answers like a Slack incoming webhook.

Its answers can be scripted (`[429, 429, ok]`, then `ok`, `down` or a status for the rest of
the run), so the notify function's retry and failure handling run against real HTTP.
Deliveries are recorded with the reaper event the notify function was handling then.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from local_runtime import loopback

BODIES = {
    200: "ok",
    400: "invalid_payload",
    403: "action_prohibited",
    404: "channel_not_found",
    410: "channel_is_archived",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}
RETRY_AFTER_SECONDS = 1


@dataclass
class Request:
    at: datetime
    status: int | None
    """None when the sink was down (the connection was dropped)."""
    payload: dict[str, Any]
    context: Any = None
    """What the caller was doing (the notify invocation's event), for the summary."""
    delivered: bool = False
    """Answered 200 `ok`: Slack took the message."""


@dataclass
class SlackSink:
    """Answers from `script` in order, then `then` for every request after."""

    script: list[int | str] = field(default_factory=list)
    """Answers in order: `ok`, `down`, a status such as 429, or `status:body`."""
    then: int | str = "ok"
    now: Callable[[], datetime] = datetime.now
    context: Callable[[], Any] = lambda: None
    requests: list[Request] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_answer(self) -> tuple[int, str] | None:
        """(status, body) for the next request; None to drop the connection. An answer is
        `ok`, `down`, a status (with Slack's usual body for it) or `status:body`."""
        with self._lock:
            answer = self.script.pop(0) if self.script else self.then
        if answer == "down":
            return None
        if answer == "ok":
            return 200, "ok"
        status, _, body = str(answer).partition(":")
        return int(status), body or BODIES.get(int(status), "error")

    @contextmanager
    def serving(self) -> Iterator[SlackSink]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    payload = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    payload = {"unparsed": raw.decode(errors="replace")}
                answer = sink.next_answer()
                status = answer[0] if answer else None
                ok = answer == (200, "ok")
                sink.requests.append(Request(sink.now(), status, payload, sink.context(), ok))
                if answer is None:
                    self.close_connection = True
                    self.connection.close()
                    return
                status, text = answer
                body = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                if status == 429:
                    self.send_header("Retry-After", str(RETRY_AFTER_SECONDS))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        with loopback.serving(Handler) as base:
            self.url = base + "/services/T000/B000/local"
            yield self
