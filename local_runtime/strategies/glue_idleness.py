"""Benchmark fixtures, not the product: the Lambda code of two alternative strategies.

`look` is the look function of the naive polling loop (polling.asl.json): it reads one session
and says stop, wait or gone. `sweep` is a scheduled policy engine: every run it lists the
sessions, reads each READY one's statements and stops those idle past the allowance. Both
judge idleness as a plain script would: busy while a statement is not AVAILABLE, CANCELLED or
ERROR; otherwise idle since the latest StartedOn or CompletedOn (else CreatedOn). No
warnings, tags or claims: that is the product's, and the point of the comparison.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import boto3

DONE = frozenset({"AVAILABLE", "CANCELLED", "ERROR"})
MAX_PAGES = 1000
"""Pages of ListSessions or ListStatements read at most (a broken paginator ends, never loops)."""
Judgement = Literal["stop", "wait", "gone"]


def look(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The polling loop's look: what to do with one session now."""
    session_id = event.get("session_id") if isinstance(event, Mapping) else None
    if not isinstance(session_id, str) or not session_id:
        return {"action": "gone", "session_id": None}
    glue = boto3.client("glue")
    try:
        session = glue.get_session(Id=session_id)["Session"]
    except glue.exceptions.EntityNotFoundException:
        return {"action": "gone", "session_id": session_id}
    return {"action": judge(glue, session, _allowance()), "session_id": session_id}


def sweep(event: Mapping[str, Any], context: Any) -> dict[str, int]:
    """One scheduled run: stop every READY session idle past the allowance."""
    glue = boto3.client("glue")
    allowance = _allowance()
    seen = stopped = 0
    for session in _sessions(glue):
        seen += 1
        if judge(glue, session, allowance) != "stop":
            continue
        try:
            glue.stop_session(Id=session["Id"])
            stopped += 1
        except (
            glue.exceptions.IllegalSessionStateException,
            glue.exceptions.EntityNotFoundException,
        ):
            continue  # ended since it was listed
    return {"sessions": seen, "stopped": stopped}


def judge(glue: Any, session: Mapping[str, Any], allowance: timedelta) -> Judgement:
    """stop: READY, nothing running, idle at least `allowance`; wait: not yet (or starting);
    gone: no longer billing."""
    status = session.get("Status")
    if status == "PROVISIONING":
        return "wait"
    if status != "READY":
        return "gone"
    last = _moment(session.get("CreatedOn"))
    for statement in _statements(glue, str(session["Id"])):
        if statement.get("State") not in DONE:
            return "wait"
        for key in ("StartedOn", "CompletedOn"):
            moment = _moment(statement.get(key))
            if moment is not None and (last is None or moment > last):
                last = moment
    if last is None:
        return "wait"
    return "stop" if datetime.now(UTC) - last >= allowance else "wait"


def _allowance() -> timedelta:
    return timedelta(minutes=int(os.environ.get("IDLE_MINUTES", "30")))


def _sessions(glue: Any) -> Iterator[Mapping[str, Any]]:
    token: str | None = None
    for _ in range(MAX_PAGES):
        page = glue.list_sessions(**({"NextToken": token} if token else {}))
        yield from page.get("Sessions") or []
        token = page.get("NextToken")
        if not token:
            return


def _statements(glue: Any, session_id: str) -> Iterator[Mapping[str, Any]]:
    token: str | None = None
    for _ in range(MAX_PAGES):
        kwargs: dict[str, Any] = {"SessionId": session_id}
        if token:
            kwargs["NextToken"] = token
        page = glue.list_statements(**kwargs)
        yield from page.get("Statements") or []
        token = page.get("NextToken")
        if not token:
            return


def _moment(value: Any) -> datetime | None:
    """CreatedOn (boto3 gives a datetime) or StartedOn/CompletedOn (epoch milliseconds)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value / 1000, UTC)
    return None
