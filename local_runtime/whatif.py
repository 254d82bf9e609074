"""`make whatif`: a real account's CloudTrail history of Glue interactive sessions, replayed
through the reaper and through Glue's default side by side, and what the policy would have
saved, per owner.

The trail (local_runtime.cloudtrail_history reads it) becomes one scenario per account and
region (a reaper watches its own), run twice on the local runtime: once as deployed, once with
KillSwitch="on" (every start rule and the sweeper off, so only Glue's own IdleTimeout ends a
session: Glue's default). Both runs end at the trail's last record; what a session would have
billed after that is unknown and counted in neither. Saved = billed under Glue's default -
billed under the reaper, per session, summed per owner.

What a trail does not say, and what is assumed instead (README "What-if on your own
CloudTrail" says the same):
- Times are the records' eventTime (when the call completed, to the second). The stack is
  deployed at the trail's first record; sessions created before it are not in the what-if.
- A session is what its CreateSession asked for (requestParameters): numberOfWorkers and
  workerType (Glue's defaults, 5 x G.1X, when absent; a maxCapacity-only session as that many
  G.1X workers), idleTimeout, else timeout, else 2880 minutes (Glue API, CreateSession:
  "IdleTimeout ... Default for Spark ETL jobs is value of Timeout"; "Timeout ... Default for
  Spark ETL jobs is 48 hours (2880 minutes)"), and its tags (the policy reads them).
- It ends at its first StopSession or DeleteSession, else runs on to the trail's end (or to
  Glue's IdleTimeout, which the emulated Glue applies). A session id created again after it
  ended (ids are chosen by the caller) is a new session; the first is taken as ended by then.
- A statement runs from its RunStatement. Its end:
  - CancelStatement: cancelled then.
  - GetStatement polls (only where the trail logs read events): CloudTrail omits
    responseElements for calls that change nothing ("CloudTrail record contents"), so a poll
    says only that the client was still waiting. The Glue Jupyter kernel polls GetStatement
    every second until the statement is AVAILABLE, ERROR or CANCELLED, then returns
    (aws-glue-sessions 0.18, GlueKernel.do_execute), so the last poll is taken as the end: at most
    one poll interval late. Where a poll's response does say the state (or CompletedOn), the
    first that saw it finished is the end.
  - Neither: a fixed duration, `--statement-minutes` (default 5), capped at the session's next
    RunStatement (the kernel runs one cell at a time) and at its stop. The summary says how
    many ends were assumed. A forgotten session's savings barely depend on it (both runs count
    Glue's IdleTimeout and the reaper's allowance from the same end); whether the reaper would
    have stopped a session between two statements does.
- A user who runs a statement after the reaper stopped their session ("came back") finds it
  stopped: the replay drops that statement. In life they would start a new session, whose
  cost the replay does not count; the summary counts these sessions so the reader can judge.
- Owner: the session's `owner` tag, else the person behind the caller's ARN (an assumed
  role's session name, an IAM user's name), as the product names owners (kinds.base.owner).
- Both runs leave the sweeper off (DEFAULT_PARAMETERS) and send no Slack or email: neither
  changes a stop here, and the sweeper doubles the run time.
"""

from __future__ import annotations

import io
import math
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from idle_reaper.billing import usd
from idle_reaper.kinds.base import principal_name
from idle_reaper.kinds.glue import DEFAULT_IDLE_TIMEOUT_MINUTES, DEFAULT_WORKERS, DPU_PER_WORKER
from idle_reaper.resource import is_resource_id, json_object
from idle_reaper.times import moment_of, to_iso
from local_runtime.channels import LocalChannels
from local_runtime.cloudtrail_history import (
    GlueCall,
    Place,
    TrailHistory,
    iter_reasons,
    read_trail,
)
from local_runtime.emulators.glue import (
    MAX_IDLE_TIMEOUT,
    MAX_WORKERS,
    MIN_IDLE_TIMEOUT,
    MIN_WORKERS,
    Activity,
    GlueSpec,
    StatementEnd,
)
from local_runtime.errors import ScenarioError
from local_runtime.scenario import MAX_SPAN, ResourceSpec, Scenario, human

GLUE_WORKER_TYPES = frozenset(
    {"Standard", "G.1X", "G.2X", "G.4X", "G.8X", "G.025X", "Z.2X", "G.12X", "G.16X"}
    | {"R.1X", "R.2X", "R.4X", "R.8X"}
)
"""Every WorkerType Glue's API model names (botocore glue-2017-03-31, shape WorkerType): one
the product has no price for is counted apart, not called malformed."""
MAX_TAGS, MAX_TAG_KEY, MAX_TAG_VALUE = 50, 128, 256
"""Glue's tag bounds (botocore glue model: TagsMap at most 50, TagKey 1-128, TagValue 0-256
characters): a CreateSession outside them never succeeded, so its record is not genuine."""
MAX_STATEMENT_ID = 10**9
DEFAULT_STATEMENT_MINUTES = 5.0
MAX_STATEMENT_MINUTES = 24 * 60.0
MIN_SPAN = timedelta(minutes=1)
FINAL_STATES = frozenset({"AVAILABLE", "ERROR", "CANCELLED"})
OWNER_WIDTH = 32
UNKNOWN_OWNER = "unknown"
KILL_SWITCH = "KillSwitch"
DEFAULT_PARAMETERS = {"SweepMinutes": "0"}
"""The what-if runs without the sweeper unless told otherwise (`--param SweepMinutes=15`):
every session in it has its CreateSession, so its start event reaches the reaper and a sweep
finds nothing to claim; it only costs run time (README "What-if on your own CloudTrail")."""
_ENDINGS: dict[str, StatementEnd] = {"ERROR": "error", "CANCELLED": "cancelled"}
"""How a poll's final state ends the replayed statement (AVAILABLE: the default)."""


@dataclass
class StatementStory:
    """One statement as the trail tells it: its RunStatement, polls and cancellation."""

    run_at: datetime
    statement_id: int | None
    last_poll: datetime | None = None
    seen_done: datetime | None = None
    done_state: str | None = None
    completed_on: datetime | None = None
    cancelled_at: datetime | None = None

    @property
    def evidence(self) -> str:
        """How its end is known: `cancelled`, `observed` (polls) or `assumed`."""
        if self.cancelled_at is not None:
            return "cancelled"
        return "observed" if self.last_poll is not None else "assumed"


@dataclass
class SessionStory:
    """One session as the trail tells it, from its CreateSession to its stop (if any)."""

    id: str
    """Unique in the what-if: the Glue id, suffixed `#2`, `#3` when an id is created again."""
    glue_id: str
    place: Place
    created_at: datetime
    principal: str | None
    tags: dict[str, str]
    workers: int
    worker_type: str
    idle_timeout: int
    ended_at: datetime | None = None
    statements: list[StatementStory] = field(default_factory=list)

    @property
    def owner(self) -> str:
        return self.tags.get("owner") or principal_name(self.principal) or UNKNOWN_OWNER


@dataclass(frozen=True)
class Trail:
    """A trail turned into sessions: what the what-if runs, and what it could not use."""

    history: TrailHistory
    sessions: tuple[SessionStory, ...]


def sessions_from(history: TrailHistory) -> Trail:
    """Rebuild every session's life from the trail's calls (in time order); calls that name a
    session or statement the trail never created are counted in `history.skipped`."""
    live: dict[tuple[Place, str], SessionStory] = {}
    used: set[str] = set()
    sessions: list[SessionStory] = []
    for call in history.calls:
        if call.name == "CreateSession":
            story = _created(call, history)
            if story is None:
                continue
            key = (call.place, story.glue_id)
            earlier = live.get(key)
            if earlier is not None and earlier.ended_at is None:
                earlier.ended_at = call.at  # Glue refuses an id in use: the first one was gone
            story.id = _unique(story.glue_id, used)
            used.add(story.id)
            live[key] = story
            sessions.append(story)
            continue
        field_name = "id" if call.name in ("StopSession", "DeleteSession") else "sessionId"
        session_id = call.request.get(field_name)
        if not is_resource_id(session_id):
            history.skipped["missing_field" if session_id is None else "bad_value"] += 1
            continue
        found = live.get((call.place, str(session_id)))
        if found is None:
            history.skipped["session_not_in_trail"] += 1
        elif found.ended_at is not None and call.at > found.ended_at:
            history.skipped["after_session_end"] += 1
        elif call.name in ("StopSession", "DeleteSession"):
            found.ended_at = call.at if found.ended_at is None else min(found.ended_at, call.at)
        else:
            _statement_call(call, found, history)
    return Trail(history=history, sessions=tuple(sessions))


def _unique(glue_id: str, used: set[str]) -> str:
    """The id itself, or the first `id#2`, `id#3`, ... no session in the what-if has yet."""
    n, candidate = 1, glue_id
    while candidate in used:
        n += 1
        suffix = f"#{n}"
        candidate = glue_id[: 255 - len(suffix)] + suffix
    return candidate


def _created(call: GlueCall, history: TrailHistory) -> SessionStory | None:
    """The session a CreateSession made, or None (counted) when a field is missing or out of
    Glue's own bounds."""
    request, response = call.request, json_object(call.response.get("session"))
    glue_id = response.get("id") if is_resource_id(response.get("id")) else request.get("id")
    if glue_id is None:
        history.skipped["missing_field"] += 1
        return None
    worker_type = request.get("workerType")
    if worker_type is not None and worker_type not in DPU_PER_WORKER:
        unpriced = isinstance(worker_type, str) and worker_type in GLUE_WORKER_TYPES
        history.skipped["unpriced_worker_type" if unpriced else "bad_value"] += 1
        return None
    workers = _workers(request)
    idle_timeout = _idle_timeout(request)
    tags = _tags(request.get("tags"))
    if not is_resource_id(glue_id) or workers is None or idle_timeout is None or tags is None:
        history.skipped["bad_value"] += 1
        return None
    return SessionStory(
        id=str(glue_id),
        glue_id=str(glue_id),
        place=call.place,
        created_at=call.at,
        principal=call.principal,
        tags=tags,
        workers=workers,
        worker_type=str(worker_type or "G.1X"),
        idle_timeout=idle_timeout,
    )


def _whole(value: object, low: int, high: int) -> int | None:
    """A whole number in [low, high] (a float that is one too: JSON has one number type).
    Compared before any conversion: a 400-digit integer is refused, never overflows."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if low <= value <= high else None
    if isinstance(value, float) and value.is_integer() and low <= value <= high:
        return int(value)
    return None


def _workers(request: Mapping[str, Any]) -> int | None:
    """numberOfWorkers; a maxCapacity-only session as that many 1-DPU (G.1X) workers, rounded
    up; Glue's default 5 when the call named neither."""
    if request.get("numberOfWorkers") is not None:
        return _whole(request["numberOfWorkers"], MIN_WORKERS, MAX_WORKERS)
    capacity = request.get("maxCapacity")
    if capacity is None:
        return DEFAULT_WORKERS
    if isinstance(capacity, bool) or not isinstance(capacity, int | float):
        return None
    if not 0 < capacity <= MAX_WORKERS:  # also refuses nan, inf and huge integers
        return None
    return max(MIN_WORKERS, math.ceil(capacity))


def _idle_timeout(request: Mapping[str, Any]) -> int | None:
    """idleTimeout, else timeout (Glue's default for it), else 2880 minutes."""
    for key in ("idleTimeout", "timeout"):
        if request.get(key) is not None:
            return _whole(request[key], MIN_IDLE_TIMEOUT, MAX_IDLE_TIMEOUT)
    return DEFAULT_IDLE_TIMEOUT_MINUTES


def _tags(value: object) -> dict[str, str] | None:
    """String tags inside Glue's bounds; None for anything else."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_TAGS:
        return None
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            return None
        if not 0 < len(key) <= MAX_TAG_KEY or len(item) > MAX_TAG_VALUE:
            return None
    return dict(value)


def _statement_id(value: object) -> int | None:
    """A statement Id: a whole number (CloudTrail may write it as a digit string)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    return _whole(value, 0, MAX_STATEMENT_ID)


def _statement_call(call: GlueCall, session: SessionStory, history: TrailHistory) -> None:
    """RunStatement adds a statement; GetStatement and CancelStatement tell about one."""
    if call.name == "RunStatement":
        session.statements.append(
            StatementStory(run_at=call.at, statement_id=_statement_id(call.response.get("id")))
        )
        return
    wanted = _statement_id(call.request.get("id"))
    if wanted is None:
        history.skipped["missing_field" if call.request.get("id") is None else "bad_value"] += 1
        return
    statement = next((s for s in reversed(session.statements) if s.statement_id == wanted), None)
    if statement is None:
        history.skipped["statement_not_in_trail"] += 1
    elif call.name == "CancelStatement":
        statement.cancelled_at = statement.cancelled_at or call.at
    else:
        _poll(call, statement)


def _poll(call: GlueCall, statement: StatementStory) -> None:
    """A GetStatement: when the client looked; and, where the record kept the response (it
    usually does not), what it saw."""
    statement.last_poll = call.at
    seen = json_object(call.response.get("statement"))
    state = seen.get("state")
    if statement.seen_done is None and isinstance(state, str) and state in FINAL_STATES:
        statement.seen_done, statement.done_state = call.at, state
        moment = moment_of(seen.get("completedOn"))
        if moment is not None and statement.run_at <= moment <= call.at:
            statement.completed_on = moment


# -- the scenario ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Assumptions:
    statement_minutes: float = DEFAULT_STATEMENT_MINUTES


def statement_activity(
    session: SessionStory, index: int, start: datetime, trail_end: datetime, assume: Assumptions
) -> tuple[Activity, str]:
    """The statement as the scenario runs it (offsets from `start`), and how its end was
    known: `cancelled`, `observed` (polls) or `assumed` (the module says how)."""
    statement = session.statements[index]
    limit = min(session.ended_at or trail_end, trail_end)
    how = statement.evidence
    ends: StatementEnd = "available"
    if how == "cancelled" and statement.cancelled_at is not None:
        end, ends = statement.cancelled_at, "cancelled"
    elif statement.seen_done is not None:
        end = statement.completed_on or statement.seen_done
        ends = _ENDINGS.get(statement.done_state or "", "available")
    elif statement.last_poll is not None:
        end = statement.last_poll
    else:
        end = statement.run_at + timedelta(minutes=assume.statement_minutes)
        later = [s.run_at for s in session.statements[index + 1 :]]
        if later:
            end = min(end, min(later))
    end = max(statement.run_at, min(end, limit))
    return (
        Activity(at=statement.run_at - start, runs=end - statement.run_at, ends=ends),
        how,
    )


def scenarios(
    trail: Trail, parameters: Mapping[str, str], assume: Assumptions
) -> tuple[list[Scenario], Counter[str]]:
    """One scenario per account and region, and how each statement's end was known."""
    history = trail.history
    if history.first is None or history.last is None or not trail.sessions:
        return [], Counter()
    start, until = history.first, max(history.last - history.first, MIN_SPAN)
    if until > MAX_SPAN:
        raise ScenarioError(
            f"the trail spans {human(until)}, more than {human(MAX_SPAN)}: give a folder"
            " with less of it"
        )
    ends: Counter[str] = Counter()
    by_place: dict[Place, list[ResourceSpec]] = {}
    for session in trail.sessions:
        statements = []
        for index in range(len(session.statements)):
            busy, how = statement_activity(session, index, start, start + until, assume)
            ends[how] += 1
            statements.append(busy)
        spec = ResourceSpec(
            kind="glue-session",
            id=session.id,
            at=session.created_at - start,
            by=session.principal,
            tags=session.tags,
            kind_spec=GlueSpec(
                workers=session.workers,
                worker_type=session.worker_type,
                idle_timeout=session.idle_timeout,
                statements=tuple(statements),
            ),
            stop_by_user=session.ended_at - start if session.ended_at is not None else None,
        )
        by_place.setdefault(session.place, []).append(spec)
    quiet = LocalChannels(slack=False, email=None)
    out = [
        Scenario(
            name=f"whatif {place}",
            start=start,
            until=until,
            parameters=dict(parameters),
            resources=tuple(specs),
            channels=quiet,
            region=place.region,
            account=place.account,
        )
        for place, specs in sorted(by_place.items(), key=lambda kv: str(kv[0]))
    ]
    return out, ends


# -- the two runs, side by side -------------------------------------------------------------


@dataclass(frozen=True)
class SessionResult:
    """One session under both policies (each a summary resource, SCENARIOS.md)."""

    session: SessionStory
    glue_default: Mapping[str, Any]
    reaper: Mapping[str, Any]

    @property
    def stopped_at(self) -> datetime | None:
        stopped = self.reaper.get("stopped_at")
        if self.reaper.get("outcome") != "stopped" or not isinstance(stopped, str):
            return None
        return datetime.fromisoformat(stopped.replace("Z", "+00:00"))

    @property
    def came_back(self) -> int:
        """Statements the user ran after the reaper stopped the session (dropped in the replay)."""
        stopped = self.stopped_at
        if stopped is None:
            return 0
        return sum(1 for s in self.session.statements if s.run_at > stopped)

    @property
    def saved_usd(self) -> float:
        return usd(_cost(self.glue_default, "cost_usd") - _cost(self.reaper, "cost_usd"))

    @property
    def stop_after_assumed_end(self) -> bool:
        """The reaper stopped the session after a statement whose end was assumed (no polls):
        with the real end, it may have stopped later, or not at all."""
        stopped = self.stopped_at
        if stopped is None:
            return False
        before = [s for s in self.session.statements if s.run_at <= stopped]
        return bool(before) and before[-1].evidence == "assumed"


def _cost(resource: Mapping[str, Any], key: str) -> float:
    value = resource.get(key)
    return float(value) if isinstance(value, int | float) else 0.0


@dataclass
class OwnerTotals:
    """One owner's sessions under both policies."""

    owner: str
    sessions: int = 0
    stopped: int = 0
    came_back: int = 0
    came_back_after_assumed_end: int = 0
    glue_default_usd: float = 0.0
    reaper_usd: float = 0.0
    idle_glue_default_usd: float = 0.0
    idle_reaper_usd: float = 0.0

    def add(self, result: SessionResult) -> None:
        self.sessions += 1
        self.stopped += result.stopped_at is not None
        self.came_back += result.came_back > 0
        self.came_back_after_assumed_end += result.came_back > 0 and result.stop_after_assumed_end
        self.glue_default_usd += _cost(result.glue_default, "cost_usd")
        self.reaper_usd += _cost(result.reaper, "cost_usd")
        self.idle_glue_default_usd += _cost(result.glue_default, "wasted_usd")
        self.idle_reaper_usd += _cost(result.reaper, "wasted_usd")

    @property
    def saved_usd(self) -> float:
        return usd(self.glue_default_usd - self.reaper_usd)

    @property
    def saved_share(self) -> float | None:
        """Saved as a share of what Glue's default billed; None when it billed nothing."""
        return self.saved_usd / self.glue_default_usd if self.glue_default_usd > 0 else None

    def as_dict(self) -> dict[str, Any]:
        share = self.saved_share
        return {
            "owner": self.owner[:MAX_TAG_VALUE],
            "sessions": self.sessions,
            "stopped": self.stopped,
            "came_back": self.came_back,
            "came_back_after_assumed_end": self.came_back_after_assumed_end,
            "glue_default_usd": usd(self.glue_default_usd),
            "reaper_usd": usd(self.reaper_usd),
            "saved_usd": self.saved_usd,
            "saved_percent": None if share is None else round(100 * share, 1),
            "idle_glue_default_usd": usd(self.idle_glue_default_usd),
            "idle_reaper_usd": usd(self.idle_reaper_usd),
        }


def by_owner(results: Sequence[SessionResult]) -> tuple[list[OwnerTotals], OwnerTotals]:
    """Per owner, most saved first, and the totals."""
    owners: dict[str, OwnerTotals] = {}
    total = OwnerTotals(owner="total")
    for result in results:
        owner = result.session.owner
        owners.setdefault(owner, OwnerTotals(owner=owner)).add(result)
        total.add(result)
    rows = sorted(owners.values(), key=lambda o: (-o.saved_usd, o.owner))
    return rows, total


def run_side_by_side(
    runs: Sequence[Scenario],
    sessions: Sequence[SessionStory],
    progress: TextIO | None,
) -> tuple[list[SessionResult], dict[str, str]]:
    """Each scenario through the reaper and through Glue's default; the sessions' results and
    the parameters the reaper ran with."""
    from local_runtime.simulation import simulate

    stories = {(s.place.account, s.place.region, s.id): s for s in sessions}
    results: list[SessionResult] = []
    deployed: dict[str, str] = {}
    total = 2 * len(runs)
    for n, scenario in enumerate(runs):
        where = f"{scenario.account}/{scenario.region}"
        count = len(scenario.resources)
        _say(progress, f"[whatif] run {2 * n + 1}/{total}: {where}, {count} sessions, the reaper")
        reaper = simulate(scenario, out=io.StringIO(), progress=progress)["summary"]
        _say(
            progress,
            f"[whatif] run {2 * n + 2}/{total}: {where}, {count} sessions,"
            f" Glue's default ({KILL_SWITCH}=on)",
        )
        default_scenario = replace(scenario, parameters={**scenario.parameters, KILL_SWITCH: "on"})
        default = simulate(default_scenario, out=io.StringIO(), progress=progress)["summary"]
        deployed = dict(reaper["parameters"])
        under_default = {r["id"]: r for r in default["resources"]}
        for resource in reaper["resources"]:
            story = stories[(str(scenario.account), str(scenario.region), resource["id"])]
            results.append(SessionResult(story, under_default[resource["id"]], resource))
    return results, deployed


def _say(progress: TextIO | None, line: str) -> None:
    if progress is not None:
        progress.write(line + "\n")
        progress.flush()


# -- the command ----------------------------------------------------------------------------


def whatif(
    root: Path,
    parameters: Mapping[str, str],
    assume: Assumptions = Assumptions(),
    out: TextIO = sys.stdout,
    progress: TextIO | None = sys.stderr,
) -> dict[str, Any]:
    """Read the trail, run it both ways, print the per-owner table to `out`; return the
    machine-readable result (the command prints it as its last line)."""
    from local_runtime import stack
    from local_runtime.runtime import TEMPLATE

    if KILL_SWITCH in parameters:
        raise ScenarioError(
            f"{KILL_SWITCH} is what the Glue-default run sets; the reaper run keeps it off"
        )
    began = time.monotonic()
    if parameters:  # an unknown name or value fails now, not after reading a long trail
        stack.load(TEMPLATE, {**DEFAULT_PARAMETERS, **parameters})
    history = read_trail(root, stack.known_regions(), progress)
    trail = sessions_from(history)
    runs, ends = scenarios(trail, {**DEFAULT_PARAMETERS, **parameters}, assume)
    results, deployed = run_side_by_side(runs, trail.sessions, progress)
    rows, total = by_owner(results)
    result = {
        "trail": str(root),
        "from": to_iso(history.first) if history.first else None,
        "to": to_iso(history.last) if history.last else None,
        "files": history.files,
        "bad_files": dict(iter_reasons(history.bad_files)),
        "records": history.records,
        "glue_calls": len(history.calls),
        "skipped": dict(iter_reasons(history.skipped)),
        "homes": [
            {"account": s.account, "region": s.region, "sessions": len(s.resources)} for s in runs
        ],
        "sessions": len(trail.sessions),
        "statement_ends": {k: ends[k] for k in ("observed", "cancelled", "assumed")},
        "assumed_statement_minutes": assume.statement_minutes,
        "parameters": deployed or dict(parameters),
        "owners": [row.as_dict() for row in rows],
        "totals": total.as_dict() | {"owner": None},
        "per_session": [_session_row(r) for r in results],
        "wall_seconds": round(time.monotonic() - began, 1),
    }
    out.write(render(result, parameters))
    return {"whatif": result}


def _session_row(result: SessionResult) -> dict[str, Any]:
    session = result.session
    return {
        "id": session.id,
        "account": session.place.account,
        "region": session.place.region,
        "owner": session.owner[:MAX_TAG_VALUE],
        "created_at": to_iso(session.created_at),
        "statements": len(session.statements),
        "outcome": result.reaper.get("outcome"),
        "stopped_at": result.reaper.get("stopped_at"),
        "came_back": result.came_back,
        "stop_after_assumed_end": result.stop_after_assumed_end,
        "glue_default_usd": result.glue_default.get("cost_usd"),
        "reaper_usd": result.reaper.get("cost_usd"),
        "saved_usd": result.saved_usd,
        "glue_default_ended_by": result.glue_default.get("ended_by"),
    }


def shown(text: str, width: int = OWNER_WIDTH) -> str:
    """A hostile string made safe for a terminal: no control, format (bidi) or other
    unprintable character (each becomes `?`), at most `width` characters."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= width else clean[: width - 1] + "…"


def render(result: Mapping[str, Any], overrides: Mapping[str, str]) -> str:
    """The report a person reads: the trail, what was not used and why, the assumptions,
    then savings per owner."""
    span = f"{result['from']} to {result['to']}" if result["from"] else "no record with a time"
    lines = [
        f"# what-if on {shown(str(result['trail']), 120)}: {span}",
        _files_line(result),
        _records_line(result),
    ]
    if not result["sessions"]:
        lines.append("# no Glue interactive session was created in this trail: nothing to compare")
        return "\n".join(lines) + "\n"
    lines += [_sessions_line(result), _policy_line(result["parameters"], overrides), ""]
    header = (
        f"{'owner':<{OWNER_WIDTH}} {'sessions':>8} {'stopped':>7} {'came back':>9}"
        f" {'Glue default':>12} {'with reaper':>11} {'saved':>10} {'saved %':>7}"
    )
    lines += [header, "-" * len(header)]
    for row in [*result["owners"], result["totals"]]:
        name = row["owner"] if row["owner"] is not None else "total"
        share = "-" if row["saved_percent"] is None else f"{row['saved_percent']:.0f}%"
        if row is result["totals"]:
            lines.append("-" * len(header))
        lines.append(
            f"{shown(name):<{OWNER_WIDTH}} {row['sessions']:>8} {row['stopped']:>7}"
            f" {row['came_back']:>9} {_money(row['glue_default_usd']):>12}"
            f" {_money(row['reaper_usd']):>11} {_money(row['saved_usd']):>10} {share:>7}"
        )
    lines += [
        "",
        "saved = billed under Glue's default - billed with the reaper, from each session's"
        f" start to its stop or the trail's end ({result['to']}).",
        "came back = sessions with a statement after the reaper's stop: the replay drops it;"
        " a new session's cost is not counted"
        + _assumed_note(result["totals"]["came_back_after_assumed_end"])
        + ".",
    ]
    return "\n".join(lines) + "\n"


def _assumed_note(count: int) -> str:
    if not count:
        return ""
    return (
        f" ({count} of them stopped after a statement whose end was assumed: with its real"
        " end the stop may have come later, or not at all)"
    )


def _money(amount: float) -> str:
    return f"${amount:,.2f}"


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{count:,} {label}" for label, count in counts.items())


def _files_line(result: Mapping[str, Any]) -> str:
    return _not_used(f"# files: {result['files']:,} read", result["bad_files"])


def _records_line(result: Mapping[str, Any]) -> str:
    read = f"# records: {result['records']:,} read, {result['glue_calls']:,} Glue session calls"
    return _not_used(read, result["skipped"])


def _not_used(line: str, counts: Mapping[str, int]) -> str:
    """The line, and how many were not used and why, when any were not."""
    return f"{line}; {sum(counts.values()):,} not used: {_counts(counts)}" if counts else line


def _sessions_line(result: Mapping[str, Any]) -> str:
    homes = ", ".join(f"{h['account']}/{h['region']}: {h['sessions']}" for h in result["homes"])
    ends = result["statement_ends"]
    minutes = result["assumed_statement_minutes"]
    return (
        f"# sessions: {result['sessions']:,} ({homes or 'none'}); statements:"
        f" {sum(ends.values()):,}, ends seen in GetStatement polls {ends['observed']:,},"
        f" cancelled {ends['cancelled']:,}, assumed {ends['assumed']:,}"
        f" ({minutes:g} min each, or until the session's next RunStatement)"
    )


_POLICY_KEYS = ("GlueIdleMinutes", "WarningMinutes", "DryRun", "SweepMinutes")


def _policy_line(deployed: Mapping[str, Any], overrides: Mapping[str, str]) -> str:
    keys = [*_POLICY_KEYS, *(k for k in sorted(overrides) if k not in _POLICY_KEYS)]
    shown_params = " ".join(f"{k}={shown(str(deployed[k]), 40)}" for k in keys if k in deployed)
    return (
        f"# the reaper: {shown_params}; Glue's default: the same with {KILL_SWITCH}=on"
        " (only Glue's own IdleTimeout ends a session)"
    )
