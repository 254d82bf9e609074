"""Emulated AWS Glue interactive sessions with a life on the virtual clock.

moto's Glue creates sessions READY, forever, with no statements. Here a session is
PROVISIONING, then READY; it runs statements (RunStatement, ListStatements, GetStatement,
CancelStatement over the API, epoch-millisecond timestamps as Glue returns them); Glue's
own IdleTimeout times it out; StopSession goes STOPPING then STOPPED. The emulator also
keeps the billing record the summary reads: when it started, when it stopped billing, and why.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

from idle_reaper.kinds.glue import DEFAULT_IDLE_TIMEOUT_MINUTES, cost_per_hour
from local_runtime.clock import VirtualClock

PROVISIONING_SECONDS = 20
STOPPING_SECONDS = 15
ENDED = frozenset({"STOPPING", "STOPPED", "TIMEOUT", "FAILED"})


@dataclass
class Statement:
    id: int
    code: str
    started_at: datetime
    completed_at: datetime | None = None
    state: str = "RUNNING"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Id": self.id,
            "Code": self.code,
            "State": self.state,
            "Progress": 1.0 if self.completed_at else 0.5,
            "StartedOn": _ms(self.started_at),
        }
        if self.completed_at:
            out["CompletedOn"] = _ms(self.completed_at)
            out["Output"] = {"Status": "OK" if self.state == "AVAILABLE" else self.state}
        return out


@dataclass
class SessionLife:
    """What happened to one session: the billing record behind the summary."""

    id: str
    created_at: datetime
    cost_per_hour: float
    idle_timeout_minutes: int
    statements: list[Statement] = field(default_factory=list)
    ended_at: datetime | None = None
    ended_by: str | None = None
    """reaper (StopSession over the API), user, or timeout (Glue's own IdleTimeout)."""

    @property
    def busy(self) -> bool:
        return any(s.completed_at is None for s in self.statements)

    @property
    def last_activity_at(self) -> datetime:
        ends = [s.completed_at for s in self.statements if s.completed_at]
        return max([self.created_at, *ends])


class GlueEmulator:
    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.lives: dict[str, SessionLife] = {}
        self.listeners: list[Callable[[str, str, str], None]] = []
        self.faults: dict[str, list[str]] = {}
        """Operation name -> error codes its next calls fail with (scripted faults)."""
        self._actor = threading.local()
        self._backend: Any = None

    def fail_next(self, operation: str, *error_codes: str) -> None:
        """Make the next calls of a Glue API operation (`StopSession`, `GetSession`) fail."""
        self.faults.setdefault(operation, []).extend(error_codes)

    def _fault(self, operation: str) -> None:
        from moto.glue.exceptions import GlueClientError

        pending = self.faults.get(operation)
        if pending:
            code = pending.pop(0)
            raise GlueClientError(code, f"{operation} failed: {code} (scripted fault)")

    # -- what a user (the scenario) does ------------------------------------------------------
    def user_stop(self, session_id: str) -> bool:
        """The user stops their own session; False when it was no longer running."""
        session = self._session(session_id)
        if session is None or session.state in ENDED:
            return False
        self._actor.name = "user"
        try:
            session.stop_session()
        finally:
            self._actor.name = None
        return True

    def run_statement(self, session_id: str, runs: timedelta, code: str = "spark.sql(...)") -> bool:
        """Start a statement that completes after `runs`; False when the session cannot run it."""
        session = self._session(session_id)
        if session is None or session.state != "READY":
            return False
        statement = self._start_statement(session_id, code)
        self._on_change(session_id, "statement-started", f"statement {statement.id} runs {runs}")
        self.clock.at(self.clock.now() + runs, lambda: self._complete(session_id, statement))
        return True

    def status(self, session_id: str) -> str | None:
        session = self._session(session_id)
        return str(session.state) if session is not None else None

    def refused(self, session_id: str, why: str) -> None:
        self._on_change(session_id, "refused", why)

    def _on_change(self, session_id: str, what: str, text: str) -> None:
        for listener in self.listeners:
            listener(session_id, what, text)

    # -- the service's own behaviour ---------------------------------------------------------
    def _start_statement(self, session_id: str, code: str) -> Statement:
        life = self.lives[session_id]
        statement = Statement(id=len(life.statements), code=code, started_at=self.clock.now())
        life.statements.append(statement)
        return statement

    def _created(self, session: Any) -> None:
        session.state = "PROVISIONING"
        now = self.clock.now()
        life = SessionLife(
            id=session.session_id,
            created_at=now,
            cost_per_hour=cost_per_hour(_describe(session)),
            idle_timeout_minutes=int(session.idle_timeout or DEFAULT_IDLE_TIMEOUT_MINUTES),
        )
        self.lives[session.session_id] = life
        self._on_change(
            session.session_id,
            "created",
            f"created ({session.number_of_workers} x {session.worker_type},"
            f" ${life.cost_per_hour:.2f}/h)",
        )
        self.clock.at(now + timedelta(seconds=PROVISIONING_SECONDS), lambda: self._ready(session))

    def _ready(self, session: Any) -> None:
        if session.state != "PROVISIONING":
            return
        session.state = "READY"
        self._on_change(session.session_id, "ready", "READY")
        self._arm_timeout(session)

    def _complete(self, session_id: str, statement: Statement) -> None:
        if statement.completed_at is not None:
            return
        statement.completed_at = self.clock.now()
        statement.state = "AVAILABLE"
        self._on_change(session_id, "statement-completed", f"statement {statement.id} completed")
        session = self._session(session_id)
        if session is not None:
            self._arm_timeout(session)

    def _arm_timeout(self, session: Any) -> None:
        life = self.lives[session.session_id]
        expected = life.last_activity_at
        due = expected + timedelta(minutes=life.idle_timeout_minutes)

        def check() -> None:
            if session.state == "READY" and not life.busy and life.last_activity_at == expected:
                session.state = "TIMEOUT"
                self._ended(life, "timeout")

        self.clock.at(due, check)

    def _stopping(self, session: Any) -> None:
        life = self.lives[session.session_id]
        for statement in life.statements:
            if statement.completed_at is None:
                statement.completed_at = self.clock.now()
                statement.state = "CANCELLED"
        self._ended(life, getattr(self._actor, "name", None) or "reaper")

        def stopped() -> None:
            if session.state == "STOPPING":
                session.state = "STOPPED"

        self.clock.at(self.clock.now() + timedelta(seconds=STOPPING_SECONDS), stopped)

    def _ended(self, life: SessionLife, by: str) -> None:
        life.ended_at = self.clock.now()
        life.ended_by = by
        self._on_change(life.id, "ended", by)

    def _session(self, session_id: str) -> Any:
        return self._backend.sessions.get(session_id) if self._backend else None

    # -- the API surface moto lacks ------------------------------------------------------------
    def _statements_of(self, session_id: str) -> list[Statement]:
        self._backend.get_session(session_id)  # raises EntityNotFoundException like Glue
        return self.lives[session_id].statements

    @contextmanager
    def on(self, backend: Any) -> Iterator[None]:
        """Install the emulator into moto's Glue for the duration of the block."""
        from moto.core.responses import ActionResult
        from moto.glue import models, responses
        from moto.glue.exceptions import EntityNotFoundException, IllegalSessionStateException

        self._backend = backend
        emulator = self
        fake = models.FakeSession
        original_init, original_stop = fake.__init__, fake.stop_session
        original_get = models.GlueBackend.get_session

        def get_session(backend: Any, session_id: str) -> Any:
            emulator._fault("GetSession")
            return original_get(backend, session_id)

        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            original_init(self, *args, **kwargs)
            emulator._created(self)

        def stop_session(self: Any) -> None:
            emulator._fault("StopSession")
            original_stop(self)
            emulator._stopping(self)

        def as_dict(self: Any) -> dict[str, Any]:
            return _describe(self)

        def run_statement(self: Any) -> Any:
            session_id = self.parameters.get("SessionId")
            session = emulator._backend.get_session(session_id)
            if session.state != "READY":
                raise IllegalSessionStateException(f"Session is in {session.state} status")
            # No duration over the API: it runs until cancelled or the session stops.
            statement = emulator._start_statement(session_id, self.parameters.get("Code", ""))
            return ActionResult({"Id": statement.id})

        def list_statements(self: Any) -> Any:
            statements = emulator._statements_of(self.parameters.get("SessionId"))
            start = int(self.parameters.get("NextToken") or 0)
            page = statements[start : start + emulator.page_size]
            out: dict[str, Any] = {"Statements": [s.as_dict() for s in page]}
            if start + emulator.page_size < len(statements):
                out["NextToken"] = str(start + emulator.page_size)
            return ActionResult(out)

        def get_statement(self: Any) -> Any:
            statements = emulator._statements_of(self.parameters.get("SessionId"))
            wanted = int(self.parameters.get("Id"))
            for statement in statements:
                if statement.id == wanted:
                    return ActionResult({"Statement": statement.as_dict()})
            raise EntityNotFoundException(f"Statement {wanted} not found")

        def cancel_statement(self: Any) -> Any:
            for statement in emulator._statements_of(self.parameters.get("SessionId")):
                if statement.id == int(self.parameters.get("Id")) and not statement.completed_at:
                    statement.completed_at = emulator.clock.now()
                    statement.state = "CANCELLED"
            return ActionResult({})

        with ExitStack() as stack:
            stack.enter_context(mock.patch.object(fake, "__init__", init))
            stack.enter_context(mock.patch.object(fake, "stop_session", stop_session))
            stack.enter_context(mock.patch.object(fake, "as_dict", as_dict))
            stack.enter_context(mock.patch.object(models.GlueBackend, "get_session", get_session))
            for name, fn in {
                "run_statement": run_statement,
                "list_statements": list_statements,
                "get_statement": get_statement,
                "cancel_statement": cancel_statement,
            }.items():
                stack.enter_context(
                    mock.patch.object(responses.GlueResponse, name, fn, create=True)
                )
            yield

    page_size = 5
    """Statements per ListStatements page: small, so pagination is always exercised."""


def _describe(session: Any) -> dict[str, Any]:
    """GetSession's Session, with the fields moto leaves out (workers, IdleTimeout, ...)."""
    out: dict[str, Any] = {
        "Id": session.session_id,
        "CreatedOn": session.creation_time,
        "Status": session.state,
        "Role": session.role,
        "Command": session.command,
        "DefaultArguments": session.default_arguments or {},
        "GlueVersion": session.glue_version or "4.0",
        "IdleTimeout": int(session.idle_timeout or DEFAULT_IDLE_TIMEOUT_MINUTES),
        "NumberOfWorkers": int(session.number_of_workers or 5),
        "WorkerType": session.worker_type or "G.1X",
    }
    if session.max_capacity:
        out["MaxCapacity"] = float(session.max_capacity)
    return out


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
