"""Emulated AWS Glue interactive sessions with a life on the virtual clock.

moto's Glue creates sessions READY, forever, with no statements. Here a session is
PROVISIONING, then READY, with the workers, worker type and IdleTimeout its CreateSession
asked for; it runs statements (RunStatement, ListStatements, GetStatement, CancelStatement
over the API, refused with IllegalSessionStateException unless the session is READY, as Glue
does). A statement is WAITING, then RUNNING, then ends AVAILABLE or ERROR, or CANCELLING and
then CANCELLED; StartedOn and CompletedOn are epoch milliseconds, each absent until it
happened, as Glue returns them. Glue's own IdleTimeout times a session out, counting an
unfinished statement as activity; StopSession goes STOPPING then STOPPED. The emulator also
keeps the billing record the summary reads: when it started, when it stopped billing, and why.

Also here: the kind's scenario keys (`workers`, `worker_type`, `idle_timeout`, `statements`;
the common `activity` runs as statements),
what its user does (CreateSession, with its CloudTrail record as the start event; statements
that wait for a session still provisioning) and the session a recorded CreateSession replays.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Literal
from unittest import mock

from idle_reaper.kinds.glue import (
    DEFAULT_IDLE_TIMEOUT_MINUTES,
    DEFAULT_WORKERS,
    DPU_PER_WORKER,
    cost_per_hour,
)
from local_runtime import scenario as scenarios
from local_runtime.cloudtrail import api_call
from local_runtime.emulators.base import Emit, Emulator, Life
from local_runtime.emulators.registry import register
from local_runtime.errors import ScenarioError
from local_runtime.scenario import KindSpec, ResourceSpec

if TYPE_CHECKING:
    from idle_reaper.resource import ResourceRef
    from local_runtime.clock import VirtualClock
    from local_runtime.runtime import Account

StatementEnd = Literal["available", "error", "cancelled"]
_STATEMENT_ENDS: tuple[StatementEnd, ...] = ("available", "error", "cancelled")
_STATEMENT_KEYS = {"at", "runs", "waiting", "ends", "cancelling"}
GLUE_ROLE = "arn:aws:iam::{account}:role/GlueInteractiveSessionRole"
STATEMENT_RETRY_SECONDS = 5
"""How often a scenario's notebook retries a statement while its session is PROVISIONING."""
MIN_WORKERS = 2
"""Glue interactive sessions need at least 2 DPUs; fewer workers than 2 is never a session."""
MAX_WORKERS = 299
"""Glue's documented ceiling for NumberOfWorkers (299 G.1X; the larger types allow fewer)."""
MIN_IDLE_TIMEOUT = 1
"""Glue's CreateSession model: IdleTimeout (shape `Timeout`) is at least 1 minute."""
MAX_IDLE_TIMEOUT = 10080
"""7 days: Glue refuses any timeout over 10,080 minutes (documented for job runs; no
session outlives it either)."""
MAX_LIST_SESSIONS = 1000
"""ListSessions' MaxResults: Glue's API reference gives its valid range as 1 to 1000."""

PROVISIONING_SECONDS = 20
STOPPING_SECONDS = 15
CANCELLING_SECONDS = 10
"""How long a statement is CANCELLING when nothing says otherwise (CancelStatement)."""
ENDED = frozenset({"STOPPING", "STOPPED", "TIMEOUT", "FAILED"})
IN_FLIGHT = frozenset({"WAITING", "RUNNING", "CANCELLING"})
"""Statement states that keep a session busy: Glue does not time out a session mid-statement."""
ENDINGS = frozenset({"AVAILABLE", "ERROR", "CANCELLED"})
_TIMELINE_WORDS = {
    "created": "{text}",
    "ready": "session READY",
    "statement-started": "{text}",
    "statement-completed": "{text}",
    "ended": "billing ended ({text})",
    "refused": "{text}",
    "deleted": "{text}",
}


@dataclass(frozen=True)
class Activity:
    """One statement: submitted at `at`, WAITING for `waiting`, RUNNING for `runs`, then it
    ends `available`, `error` or `cancelled` (CANCELLING for `cancelling` first)."""

    at: timedelta
    runs: timedelta
    waiting: timedelta = timedelta(0)
    ends: StatementEnd = "available"
    cancelling: timedelta | None = None
    """How long a cancelled statement is CANCELLING; None: the emulator's own default."""


@dataclass(frozen=True)
class GlueSpec(KindSpec):
    """A session as a scenario asks for it: its CreateSession and its statements."""

    workers: int = 5
    worker_type: str = "G.1X"
    idle_timeout: int = 2880
    statements: tuple[Activity, ...] = ()


@dataclass
class Statement:
    id: int
    code: str
    state: str = "WAITING"
    started_at: datetime | None = None
    """StartedOn: when it began RUNNING (a WAITING statement has none yet)."""
    completed_at: datetime | None = None
    """CompletedOn: when it became AVAILABLE, ERROR or CANCELLED."""

    @property
    def in_flight(self) -> bool:
        return self.state in IN_FLIGHT

    def as_dict(self) -> dict[str, Any]:
        """The Statement as ListStatements and GetStatement return it."""
        progress = {"WAITING": 0.0, "RUNNING": 0.5, "CANCELLING": 0.5}.get(self.state, 1.0)
        out: dict[str, Any] = {
            "Id": self.id,
            "Code": self.code,
            "State": self.state,
            "Progress": progress,
        }
        if self.started_at is not None:
            out["StartedOn"] = _ms(self.started_at)
        if self.completed_at is not None:
            out["CompletedOn"] = _ms(self.completed_at)
        if self.state in ENDINGS:
            output: dict[str, Any] = {"ExecutionCount": self.id + 1, "Status": self.state}
            if self.state == "ERROR":
                output.update(
                    ErrorName="Exception",
                    ErrorValue="the statement failed (emulated)",
                    Traceback=[],
                )
            else:
                output["Data"] = {"TextPlain": ""}
            out["Output"] = output
        return out


@dataclass(kw_only=True)
class SessionLife(Life):
    """What happened to one session; `ended_by` is reaper (StopSession over the API), user,
    or timeout (Glue's own IdleTimeout)."""

    idle_timeout_minutes: int
    statements: list[Statement] = field(default_factory=list)

    @property
    def busy(self) -> bool:
        """A statement is WAITING, RUNNING or CANCELLING."""
        return any(s.in_flight for s in self.statements)

    @property
    def last_activity_at(self) -> datetime:
        """The latest StartedOn or CompletedOn of any statement, else the creation time."""
        moments = [self.created_at]
        for statement in self.statements:
            moments += [m for m in (statement.started_at, statement.completed_at) if m]
        return max(moments)

    @property
    def own_idle_timeout_minutes(self) -> int:
        return self.idle_timeout_minutes


@register
class GlueEmulator(Emulator):
    """Glue interactive sessions with the life moto does not give them (the module says how)."""

    kind = "glue-session"
    services = ("glue",)
    keys = frozenset({"workers", "worker_type", "idle_timeout", "statements"})

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__(clock)
        self.lives: dict[str, SessionLife] = {}
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

    # -- scenarios and replays ----------------------------------------------------------------
    @classmethod
    def parse(cls, item: Mapping[str, Any], where: str, at: timedelta) -> GlueSpec:
        raw_statements = item.get("statements") or []
        if not isinstance(raw_statements, list):
            raise ScenarioError(f"{where}.statements: must be a list")
        statements = [
            _statement(raw, f"{where}.statements[{i}]", at) for i, raw in enumerate(raw_statements)
        ]
        worker_type = str(item.get("worker_type", "G.1X"))
        if worker_type not in DPU_PER_WORKER:
            raise ScenarioError(
                f"{where}.worker_type: {worker_type!r} is not one of {', '.join(DPU_PER_WORKER)}"
            )
        return GlueSpec(
            workers=scenarios.whole(
                item.get("workers", 5), f"{where}.workers", MIN_WORKERS, MAX_WORKERS
            ),
            worker_type=worker_type,
            idle_timeout=scenarios.whole(
                item.get("idle_timeout", 2880),
                f"{where}.idle_timeout",
                MIN_IDLE_TIMEOUT,
                MAX_IDLE_TIMEOUT,
            ),
            statements=tuple(statements),
        )

    @classmethod
    def spec_from_start_event(cls, event: Mapping[str, Any], ref: ResourceRef) -> ResourceSpec:
        """The session a recorded CreateSession asked for, Glue's defaults where it was silent."""
        request = event["detail"].get("requestParameters") or {}
        if not isinstance(request, dict):
            raise ScenarioError("detail.requestParameters: must be an object")
        tags = request.get("tags") or {}
        if not isinstance(tags, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
        ):
            raise ScenarioError("detail.requestParameters.tags: must map strings to strings")
        where = "detail.requestParameters"
        worker_type = _given(request, "workerType", "G.1X")
        if not isinstance(worker_type, str) or worker_type not in DPU_PER_WORKER:
            raise ScenarioError(
                f"{where}.workerType: {str(worker_type)[:40]!r} is not one of"
                f" {', '.join(DPU_PER_WORKER)}"
            )
        return ResourceSpec(
            kind=cls.kind,
            id=ref.id,
            by=ref.principal,
            tags=dict(tags),
            kind_spec=GlueSpec(
                workers=scenarios.whole(
                    _given(request, "numberOfWorkers", 5),
                    f"{where}.numberOfWorkers",
                    MIN_WORKERS,
                    MAX_WORKERS,
                ),
                worker_type=worker_type,
                idle_timeout=scenarios.whole(
                    _given(request, "idleTimeout", 2880),
                    f"{where}.idleTimeout",
                    MIN_IDLE_TIMEOUT,
                    MAX_IDLE_TIMEOUT,
                ),
            ),
            start_event=dict(event),
        )

    # -- what a user (the scenario) does ------------------------------------------------------
    def life(self, resource_id: str) -> SessionLife | None:
        return self.lives.get(resource_id)

    def start(self, account: Account, spec: ResourceSpec, emit: Emit) -> None:
        """CreateSession as the user's notebook calls it; its CloudTrail record is the start
        event, written at once."""
        glue = _glue_spec(spec)
        request: dict[str, Any] = {
            "id": spec.id,
            "role": GLUE_ROLE.format(account=account.account_id),
            "command": {"name": "glueetl", "pythonVersion": "3"},
            "idleTimeout": glue.idle_timeout,
            "numberOfWorkers": glue.workers,
            "workerType": glue.worker_type,
            "glueVersion": "4.0",
            "tags": spec.tags,
        }
        account.clients["glue"].create_session(
            Id=spec.id,
            Role=request["role"],
            Command={"Name": "glueetl", "PythonVersion": "3"},
            IdleTimeout=glue.idle_timeout,
            NumberOfWorkers=glue.workers,
            WorkerType=glue.worker_type,
            GlueVersion="4.0",
            Tags=spec.tags,
        )
        emit(
            api_call(
                source="aws.glue",
                event_source="glue.amazonaws.com",
                event_name="CreateSession",
                region=account.region,
                account=account.account_id,
                at=self.clock.now(),
                principal=spec.by,
                request=request,
                response={
                    "session": {
                        "id": spec.id,
                        "status": "PROVISIONING",
                        "createdOn": self.clock.now().isoformat(),
                    }
                },
            )
        )

    def schedule(self, origin: datetime, spec: ResourceSpec) -> None:
        """Its `statements`, and its `activity` as statements with every default."""
        busy = tuple(Activity(at=b.at, runs=b.runs) for b in spec.activity)
        for activity in (*_glue_spec(spec).statements, *busy):
            self.clock.at(origin + activity.at, partial(self._statement, spec.id, activity))

    def _statement(self, session_id: str, activity: Activity) -> None:
        """Run a statement; a notebook waits for a session that is still provisioning."""
        life = self.lives.get(session_id)
        status = self.status(session_id)
        if status == "PROVISIONING" and life is not None:
            retry = self.clock.now() + timedelta(seconds=STATEMENT_RETRY_SECONDS)
            self.clock.at(retry, partial(self._statement, session_id, activity))
            return
        if not self.run_statement(
            session_id,
            activity.runs,
            waiting=activity.waiting,
            ends=activity.ends.upper(),
            cancelling=activity.cancelling,
        ):
            self.refused(session_id, f"statement refused: session is {status or 'not created'}")

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

    def user_delete(self, session_id: str) -> bool:
        """The user's DeleteSession: the session is gone at once (GetSession answers
        EntityNotFoundException from now on) and stops billing; False when it never existed.
        Glue's DeleteSession may refuse a session in some states (IllegalSessionStateException
        is among its errors); the emulator takes it from any state, which is all a watcher
        mid-wait can meet (the user deleted it, from the console or their notebook)."""
        session = self._session(session_id)
        if session is None:
            return False
        life = self.lives[session_id]
        ended = session.state in ENDED
        session.state = "STOPPED"  # what still holds it (timers, statements) sees it ended
        for statement in life.statements:
            if statement.in_flight:
                statement.completed_at, statement.state = self.clock.now(), "CANCELLED"
        self._backend.delete_session(session_id)
        if not ended:
            self._ended(life, "user")
        self._on_change(session_id, "deleted", "DeleteSession (the user)")
        return True

    def run_statement(
        self,
        session_id: str,
        runs: timedelta,
        code: str = "spark.sql(...)",
        *,
        waiting: timedelta = timedelta(0),
        ends: str = "AVAILABLE",
        cancelling: timedelta | None = None,
    ) -> bool:
        """Submit a statement: WAITING for `waiting`, RUNNING for `runs`, then `ends`
        (AVAILABLE, ERROR, or CANCELLED after CANCELLING for `cancelling`). False when the
        session cannot run it."""
        if ends not in ENDINGS:
            raise ValueError(f"a statement ends AVAILABLE, ERROR or CANCELLED, not {ends!r}")
        session = self._session(session_id)
        if session is None or session.state != "READY":
            return False
        statement = self._submit(session_id, code)
        label = f"statement {statement.id}"

        def finish() -> None:
            if statement.state != "RUNNING":
                return  # the session stopped under it
            if ends == "CANCELLED":
                self._cancel(session_id, statement, cancelling)
            else:
                self._end(session_id, statement, ends)

        def start() -> None:
            if statement.state != "WAITING":
                return
            self._run(session_id, statement, f"{label} runs {runs}")
            self.clock.at(self.clock.now() + runs, finish)

        if waiting > timedelta(0):
            self._on_change(session_id, "statement-waiting", f"{label} WAITING for {waiting}")
            self.clock.at(self.clock.now() + waiting, start)
        else:
            start()
        return True

    def status(self, session_id: str) -> str | None:
        session = self._session(session_id)
        return str(session.state) if session is not None else None

    def refused(self, session_id: str, why: str) -> None:
        self._on_change(session_id, "refused", why)

    def narrate(self, what: str, text: str) -> str:
        return _TIMELINE_WORDS.get(what, "{text}").format(text=text)

    # -- the service's own behaviour ---------------------------------------------------------
    def _submit(self, session_id: str, code: str) -> Statement:
        life = self.lives[session_id]
        statement = Statement(id=len(life.statements), code=code)
        life.statements.append(statement)
        return statement

    def _run(self, session_id: str, statement: Statement, text: str) -> None:
        statement.state, statement.started_at = "RUNNING", self.clock.now()
        self._on_change(session_id, "statement-started", text)

    def _cancel(self, session_id: str, statement: Statement, cancelling: timedelta | None) -> None:
        """CANCELLING for a while (Spark winds the job down), then CANCELLED."""
        if statement.state == "WAITING":  # never started: nothing to wind down
            self._end(session_id, statement, "CANCELLED")
            return
        if statement.state != "RUNNING":
            return
        span = timedelta(seconds=CANCELLING_SECONDS) if cancelling is None else cancelling
        statement.state = "CANCELLING"
        self._on_change(
            session_id, "statement-cancelling", f"statement {statement.id} CANCELLING for {span}"
        )

        def cancelled() -> None:
            if statement.state == "CANCELLING":
                self._end(session_id, statement, "CANCELLED")

        self.clock.at(self.clock.now() + span, cancelled)

    def _created(self, session: Any) -> None:
        session.state = "PROVISIONING"
        now = self.clock.now()
        described = _describe(session)
        life = SessionLife(
            id=session.session_id,
            created_at=now,
            cost_per_hour=cost_per_hour(described),
            idle_timeout_minutes=int(described["IdleTimeout"]),
        )
        self.lives[session.session_id] = life
        size = (
            f"{described['NumberOfWorkers']} x {described['WorkerType']}"
            if "NumberOfWorkers" in described
            else f"{described['MaxCapacity']:g} DPU"
        )
        self._on_change(
            session.session_id, "created", f"created ({size}, ${life.cost_per_hour:.2f}/h)"
        )
        self.clock.at(now + timedelta(seconds=PROVISIONING_SECONDS), lambda: self._ready(session))

    def _ready(self, session: Any) -> None:
        if session.state != "PROVISIONING":
            return
        session.state = "READY"
        self._on_change(session.session_id, "ready", "READY")
        self._arm_timeout(session)

    def _end(self, session_id: str, statement: Statement, state: str) -> None:
        """AVAILABLE, ERROR or CANCELLED: CompletedOn is now, and Glue's idle clock restarts."""
        if not statement.in_flight:
            return
        statement.completed_at = self.clock.now()
        statement.state = state
        done = "completed" if state == "AVAILABLE" else state
        self._on_change(session_id, "statement-completed", f"statement {statement.id} {done}")
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
        for statement in life.statements:  # stopping the session kills what it runs
            if statement.in_flight:
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
        """A READY session's statements; any other status is refused, as Glue refuses it."""
        from moto.glue.exceptions import IllegalSessionStateException

        session = self._backend.get_session(session_id)  # EntityNotFoundException like Glue
        if session.state != "READY":
            raise IllegalSessionStateException(
                f"Session {session_id} is in {session.state} status; statements need a READY one"
            )
        return self.lives[session_id].statements

    def installed(self, account_id: str, region: str) -> AbstractContextManager[None]:
        from moto.backends import get_backend

        return self.on(get_backend("glue")[account_id][region])

    @contextmanager
    def on(self, backend: Any) -> Iterator[None]:
        """Install the emulator into moto's Glue for the duration of the block."""
        from moto.core.responses import ActionResult
        from moto.glue import models, responses
        from moto.glue.exceptions import EntityNotFoundException

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
            emulator._statements_of(session_id)  # a READY session, or Glue's refusal
            # No duration over the API: it runs until cancelled or the session stops.
            statement = emulator._submit(session_id, self.parameters.get("Code", ""))
            emulator._run(session_id, statement, f"statement {statement.id} runs (API)")
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
            return ActionResult({"Statement": _wanted(self).as_dict()})

        def cancel_statement(self: Any) -> Any:
            emulator._cancel(self.parameters.get("SessionId"), _wanted(self), None)
            return ActionResult({})

        original_list_sessions = responses.GlueResponse.list_sessions

        def list_sessions(self: Any) -> Any:
            """ListSessions, refusing a MaxResults over 1000 as Glue does (moto takes any
            size; botocore refuses one under 1 before a request is sent)."""
            from moto.glue.exceptions import GlueClientError

            asked = self.parameters.get("MaxResults")
            if isinstance(asked, int) and asked > MAX_LIST_SESSIONS:
                raise GlueClientError(
                    "ValidationException",
                    f"1 validation error detected: Value '{asked}' at 'maxResults' failed to "
                    f"satisfy constraint: Member must have value less than or equal to "
                    f"{MAX_LIST_SESSIONS}",
                )
            return original_list_sessions(self)

        def _wanted(response: Any) -> Statement:
            statements = emulator._statements_of(response.parameters.get("SessionId"))
            wanted = response.parameters.get("Id")
            for statement in statements:
                if statement.id == wanted:
                    return statement
            raise EntityNotFoundException(f"Statement {wanted} not found")

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
                "list_sessions": list_sessions,
            }.items():
                stack.enter_context(
                    mock.patch.object(responses.GlueResponse, name, fn, create=True)
                )
            yield

    page_size = 5
    """Statements per ListStatements page: small, so pagination is always exercised."""


def _describe(session: Any) -> dict[str, Any]:
    """GetSession's Session, with what the CreateSession request asked for (moto keeps the
    request's fields but leaves them out) and Glue's defaults for what it did not ask: 5 G.1X
    workers unless it asked for MaxCapacity instead; IdleTimeout = Timeout, else 2880."""
    out: dict[str, Any] = {
        "Id": session.session_id,
        "CreatedOn": session.creation_time,
        "Status": session.state,
        "Role": session.role,
        "Command": session.command,
        "DefaultArguments": session.default_arguments or {},
        "GlueVersion": session.glue_version or "4.0",
        "IdleTimeout": int(session.idle_timeout or session.timeout or DEFAULT_IDLE_TIMEOUT_MINUTES),
    }
    if session.number_of_workers or session.worker_type or not session.max_capacity:
        out["NumberOfWorkers"] = int(session.number_of_workers or DEFAULT_WORKERS)
        out["WorkerType"] = session.worker_type or "G.1X"
    if session.max_capacity:
        out["MaxCapacity"] = float(session.max_capacity)
    if session.description:
        out["Description"] = session.description
    return out


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _glue_spec(spec: ResourceSpec) -> GlueSpec:
    """The resource's Glue keys: Glue's defaults when it names none."""
    if spec.kind_spec is None:
        return GlueSpec()
    if not isinstance(spec.kind_spec, GlueSpec):
        raise TypeError(f"{spec.id}: a glue-session needs a GlueSpec, not {spec.kind_spec!r}")
    return spec.kind_spec


def _statement(raw: Any, where: str, resource_at: timedelta) -> Activity:
    entry = scenarios.mapping(raw, where, _STATEMENT_KEYS)
    if "at" not in entry or "runs" not in entry:
        raise ScenarioError(f"{where}: needs `at` and `runs`")
    at = scenarios.duration(entry["at"], f"{where}.at")
    if at < resource_at:
        raise ScenarioError(f"{where}.at: {entry['at']} is before the resource starts")
    ends = entry.get("ends", "available")
    if ends not in _STATEMENT_ENDS:
        raise ScenarioError(f"{where}.ends: {ends!r} is not available, error or cancelled")
    cancelling = None
    if "cancelling" in entry:
        if ends != "cancelled":
            raise ScenarioError(f"{where}.cancelling: goes only with `ends: cancelled`")
        cancelling = scenarios.duration(entry["cancelling"], f"{where}.cancelling")
    return Activity(
        at=at,
        runs=scenarios.duration(entry["runs"], f"{where}.runs"),
        waiting=scenarios.duration(entry.get("waiting", "0s"), f"{where}.waiting"),
        ends=ends,
        cancelling=cancelling,
    )


def _given(request: Mapping[str, Any], key: str, default: object) -> Any:
    """The request's value, or Glue's default when the call left it out (absent or null)."""
    value = request.get(key)
    return default if value is None else value
