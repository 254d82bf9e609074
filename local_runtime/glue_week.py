"""A working week of Glue interactive sessions, generated from a seed: the one workload every
strategy of the comparison benchmark (`make bench`) runs.

Sessions start Monday to Friday between 08:00 and 18:00 (UTC); the run lasts 7 days from
Monday 08:00, so even Friday evening's sessions reach Glue's 2,880-minute IdleTimeout before
it ends. Every time is a whole second. The mix, as shares of the sessions:

- 22% forgotten tabs: opened, up to two short statements in the first ten minutes, then left.
- 28% active developers: two to six bursts of two to eight statements (10 s to 4 min each,
  15 s to 3 min apart), 3 to 25 minutes between bursts; one in five also takes a long break
  (40 to 120 minutes, past the allowance) before a last burst. Then left open.
- 10% long-running statements: one to three statements of 40 minutes to 4 hours each (longer
  than the allowance: a strategy that stops them stops work), then left open.
- 15% several tabs per person: one person opens two or three sessions within two minutes;
  the first is worked in as an active developer's, the others run at most one statement.
- 15% stopped by their users: an active developer's session whose user stops it 1 to 20
  minutes after the last statement ends.
- 10% their own short IdleTimeout (10 to 25 minutes, under the allowance): up to four
  statements, then Glue times the session out before any idle policy would.

Sizes: 2, 5, 10 or 20 workers (30/45/20/5%), G.1X, or G.2X for 15% of sessions. About 120
people own the sessions (the CloudTrail principal of each CreateSession). No session is
tagged: an exemption means the same to every strategy, so it would only dilute the numbers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from local_runtime.emulators.glue import Activity, GlueSpec
from local_runtime.scenario import ResourceSpec, Scenario
from local_runtime.stack import ACCOUNT

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
"""A Monday, 08:00 UTC."""
WORKDAYS = 5
TAIL = timedelta(days=3)
"""After the last working day begins: its longest session (about 14 hours of work) plus
Glue's 2,880-minute IdleTimeout, with room to spare."""
SPAN = timedelta(days=WORKDAYS - 1) + TAIL
"""7 days: Monday 08:00 to the next Monday 08:00."""
WORKDAY = timedelta(hours=10)
PEOPLE = 120
MIX: dict[str, float] = {
    "forgotten": 0.22,
    "active": 0.28,
    "long-running": 0.10,
    "tabs": 0.15,
    "user-stopped": 0.15,
    "short-timeout": 0.10,
}
"""Each archetype's share of the sessions (the module docstring says what each one does)."""
WORKERS = ((2, 0.30), (5, 0.45), (10, 0.20), (20, 0.05))
G2X_SHARE = 0.15
GLUE_DEFAULT_IDLE_TIMEOUT = 2880


@dataclass(frozen=True)
class Workload:
    scenario: Scenario
    archetype: dict[str, str]
    """Session id -> its archetype (a MIX key; a tab group's extra tabs are `tabs`)."""
    planned: dict[str, int]
    """Session id -> how many statements its user will try to run."""


def week(sessions: int, seed: int, workdays: int = WORKDAYS) -> Workload:
    """`sessions` sessions with the documented mix, the same ones for the same seed: each
    archetype gets its share of the sessions (largest remainder), in a seeded order. Fewer
    `workdays` (`make bench-quick`) squeeze them into fewer days and a shorter run."""
    if not 1 <= workdays <= WORKDAYS:
        raise ValueError(f"workdays: {workdays} is outside 1 to {WORKDAYS}")
    rng = random.Random(seed)
    groups: list[list[str]] = []
    for kind, count in apportion(sessions).items():
        if kind != "tabs":
            groups += [[kind]] * count
            continue
        while count > 0:  # a person's tabs: groups of 2 or 3, never a lone one if avoidable
            size = count if count <= 3 else 2 if count == 4 else rng.choice((2, 3))
            groups.append(["tabs"] * size)
            count -= size
    rng.shuffle(groups)
    specs: list[ResourceSpec] = []
    archetype: dict[str, str] = {}
    for group in groups:
        person = (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/DataEngineer/person{rng.randrange(PEOPLE):03d}"
        )
        at = _start(rng, workdays)
        for n, member in enumerate(group):
            session_id = f"s{len(specs):05d}"
            opened = at + timedelta(seconds=n * rng.randint(10, 60))
            specs.append(_session(rng, session_id, member, opened, person, first_tab=n == 0))
            archetype[session_id] = member
    return Workload(
        scenario=Scenario(
            name=f"glue week: {sessions} sessions over {workdays} working day(s), seed {seed}",
            start=START,
            until=timedelta(days=workdays - 1) + TAIL,
            resources=tuple(specs),
        ),
        archetype=archetype,
        planned={s.id: len(_glue(s).statements) for s in specs},
    )


def apportion(sessions: int) -> dict[str, int]:
    """How many sessions each archetype gets: its share, the remainders going to the largest
    fractions (so the counts always add up to `sessions`)."""
    exact = {kind: share * sessions for kind, share in MIX.items()}
    counts = {kind: int(value) for kind, value in exact.items()}
    by_fraction = sorted(MIX, key=lambda kind: exact[kind] - counts[kind], reverse=True)
    for kind in by_fraction[: sessions - sum(counts.values())]:
        counts[kind] += 1
    return counts


def _start(rng: random.Random, workdays: int) -> timedelta:
    """A working-hours moment of the first `workdays` days, whole seconds from Monday 08:00."""
    day = rng.randrange(workdays)
    return timedelta(days=day, seconds=rng.randrange(int(WORKDAY.total_seconds())))


def _session(
    rng: random.Random, session_id: str, kind: str, at: timedelta, person: str, first_tab: bool
) -> ResourceSpec:
    workers = rng.choices([w for w, _ in WORKERS], [p for _, p in WORKERS])[0]
    worker_type = "G.2X" if rng.random() < G2X_SHARE else "G.1X"
    idle_timeout = GLUE_DEFAULT_IDLE_TIMEOUT
    stop_by_user: timedelta | None = None
    cursor = at + _seconds(rng, 60, 300)  # the notebook connects, the first cell runs
    if kind == "forgotten" or (kind == "tabs" and not first_tab):
        limit = 2 if kind == "forgotten" else 1
        statements = _statements(rng, cursor, rng.randint(0, limit), 10, 120, 15, 180)
    elif kind in ("active", "tabs", "user-stopped"):
        statements = _bursts(rng, cursor, long_break=kind == "active" and rng.random() < 0.2)
        if kind == "user-stopped":
            stop_by_user = _end(statements, cursor) + _seconds(rng, 60, 1200)
    elif kind == "long-running":
        statements = _statements(rng, cursor, rng.randint(1, 3), 2400, 14400, 60, 1200)
    elif kind == "short-timeout":
        idle_timeout = rng.randint(10, 25)
        statements = _statements(rng, cursor, rng.randint(0, 4), 10, 240, 15, 300)
    else:
        raise ValueError(f"unknown archetype {kind!r}")
    return ResourceSpec(
        kind="glue-session",
        id=session_id,
        at=at,
        by=person,
        kind_spec=GlueSpec(
            workers=workers,
            worker_type=worker_type,
            idle_timeout=idle_timeout,
            statements=tuple(statements),
        ),
        stop_by_user=stop_by_user,
    )


def _bursts(rng: random.Random, cursor: timedelta, long_break: bool) -> list[Activity]:
    """An active developer's statements: bursts of cells, short pauses between bursts."""
    out: list[Activity] = []
    bursts = rng.randint(2, 6)
    pause_before = rng.randrange(1, bursts) if long_break else None
    for burst in range(bursts):
        if burst:
            long = burst == pause_before
            cursor = _end(out, cursor) + (
                _seconds(rng, 2400, 7200) if long else _seconds(rng, 180, 1500)
            )
        out += _statements(rng, cursor, rng.randint(2, 8), 10, 240, 15, 180)
    return out


def _statements(
    rng: random.Random,
    cursor: timedelta,
    count: int,
    shortest: int,
    longest: int,
    least_gap: int,
    most_gap: int,
) -> list[Activity]:
    """`count` statements one after another (a notebook runs one cell at a time), each
    running `shortest` to `longest` seconds, `least_gap` to `most_gap` seconds apart."""
    out: list[Activity] = []
    for _ in range(count):
        runs = _seconds(rng, shortest, longest)
        out.append(Activity(at=cursor, runs=runs))
        cursor += runs + _seconds(rng, least_gap, most_gap)
    return out


def _end(statements: list[Activity], otherwise: timedelta) -> timedelta:
    """When the last statement ends (as planned); `otherwise` when there is none."""
    return max((s.at + s.runs for s in statements), default=otherwise)


def _seconds(rng: random.Random, low: int, high: int) -> timedelta:
    return timedelta(seconds=rng.randint(low, high))


def _glue(spec: ResourceSpec) -> GlueSpec:
    assert isinstance(spec.kind_spec, GlueSpec)
    return spec.kind_spec
