"""The emulated Glue, seen the way the inspect handler sees it: through boto3.

Statements are WAITING, RUNNING, then AVAILABLE, ERROR or (after CANCELLING) CANCELLED, with
StartedOn/CompletedOn only once they happened; a session that is not READY refuses statement
calls; a session is what its CreateSession asked for; Glue's own idle timeout never fires
mid-statement. Only moto's Glue and the virtual clock run here (no stack), so it is quick.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError

from local_runtime.actors import schedule
from local_runtime.clock import VirtualClock
from local_runtime.emulators.glue import CANCELLING_SECONDS, GlueEmulator
from local_runtime.runtime import Account
from local_runtime.scenario import parse
from local_runtime.stack import ACCOUNT, REGION

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ROLE = f"arn:aws:iam::{ACCOUNT}:role/GlueInteractiveSessionRole"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass
class Glue:
    emulator: GlueEmulator
    client: Any
    clock: VirtualClock

    def create(self, session_id: str = "s1", **request: Any) -> None:
        request.setdefault("IdleTimeout", 2880)
        self.client.create_session(
            Id=session_id, Role=ROLE, Command={"Name": "glueetl", "PythonVersion": "3"}, **request
        )

    def ready(self, session_id: str = "s1", **request: Any) -> None:
        """A session created at T0, READY once provisioned (20 s later)."""
        self.create(session_id, **request)
        self.run(1)

    def run(self, minutes: float) -> None:
        self.clock.run_until(at(minutes))

    def statements(self, session_id: str = "s1") -> list[dict[str, Any]]:
        return list(self.client.list_statements(SessionId=session_id)["Statements"])

    def status(self, session_id: str = "s1") -> str:
        return str(self.client.get_session(Id=session_id)["Session"]["Status"])


@pytest.fixture
def glue() -> Iterator[Glue]:
    from moto import mock_aws
    from moto.backends import get_backend

    clock = VirtualClock(T0)
    with mock_aws():
        clock.start()
        try:
            emulator = GlueEmulator(clock)
            with emulator.on(get_backend("glue")[ACCOUNT][REGION]):
                yield Glue(emulator, boto3.client("glue", region_name=REGION), clock)
        finally:
            clock.stop()


def test_a_waiting_statement_has_no_started_on_until_it_runs(glue: Glue) -> None:
    glue.ready()
    assert glue.emulator.run_statement("s1", timedelta(minutes=5), waiting=timedelta(minutes=2))
    glue.run(2)
    (waiting,) = glue.statements()
    assert waiting["State"] == "WAITING" and waiting["Progress"] == 0.0
    assert "StartedOn" not in waiting and "CompletedOn" not in waiting
    glue.run(4)
    (running,) = glue.statements()
    assert running["State"] == "RUNNING" and running["StartedOn"] == ms(at(3))
    assert "CompletedOn" not in running
    glue.run(9)
    (done,) = glue.statements()
    assert (done["State"], done["StartedOn"], done["CompletedOn"]) == (
        "AVAILABLE",
        ms(at(3)),
        ms(at(8)),
    )
    assert done["Output"]["Status"] == "AVAILABLE"


def test_a_cancelled_statement_is_cancelling_for_a_while_then_cancelled(glue: Glue) -> None:
    glue.ready()
    glue.emulator.run_statement(
        "s1", timedelta(minutes=5), ends="CANCELLED", cancelling=timedelta(minutes=10)
    )
    glue.run(10)
    (cancelling,) = glue.statements()
    assert cancelling["State"] == "CANCELLING"
    assert cancelling["StartedOn"] == ms(at(1)) and "CompletedOn" not in cancelling
    glue.run(17)
    (cancelled,) = glue.statements()
    assert cancelled["State"] == "CANCELLED" and cancelled["CompletedOn"] == ms(at(16))


def test_an_error_statement_ends_error_with_an_error_output(glue: Glue) -> None:
    glue.ready()
    glue.emulator.run_statement("s1", timedelta(minutes=3), ends="ERROR")
    glue.run(5)
    statement = glue.client.get_statement(SessionId="s1", Id=0)["Statement"]
    assert statement["State"] == "ERROR" and statement["CompletedOn"] == ms(at(4))
    assert statement["Output"]["Status"] == "ERROR" and statement["Output"]["ErrorName"]


def test_cancel_statement_over_the_api_goes_through_cancelling(glue: Glue) -> None:
    glue.ready()
    statement_id = glue.client.run_statement(SessionId="s1", Code="df.count()")["Id"]
    glue.client.cancel_statement(SessionId="s1", Id=statement_id)
    assert glue.statements()[0]["State"] == "CANCELLING"
    glue.clock.run_until(at(1) + timedelta(seconds=CANCELLING_SECONDS))
    assert glue.statements()[0]["State"] == "CANCELLED"


def test_the_last_activity_is_the_latest_started_on_or_completed_on(glue: Glue) -> None:
    glue.ready()
    life = glue.emulator.lives["s1"]
    glue.emulator.run_statement("s1", timedelta(minutes=2))
    glue.run(5)
    glue.emulator.run_statement("s1", timedelta(minutes=30))
    glue.run(6)
    assert life.busy and life.last_activity_at == at(5)  # the running one's StartedOn
    glue.run(40)
    assert not life.busy and life.last_activity_at == at(35)


CALLS = {  # RunStatement refused a session that was not READY already; these did not
    "ListStatements": lambda c: c.list_statements(SessionId="s1"),
    "GetStatement": lambda c: c.get_statement(SessionId="s1", Id=0),
    "CancelStatement": lambda c: c.cancel_statement(SessionId="s1", Id=0),
}


@pytest.mark.parametrize("operation", CALLS)
@pytest.mark.parametrize("status", ["PROVISIONING", "STOPPING", "STOPPED", "TIMEOUT"])
def test_statement_calls_are_refused_unless_the_session_is_ready(
    glue: Glue, operation: str, status: str
) -> None:
    glue.create(IdleTimeout=5)
    if status != "PROVISIONING":
        glue.run(1)
        glue.emulator.run_statement("s1", timedelta(minutes=1))  # statement 0 exists
        if status == "TIMEOUT":
            glue.run(10)
        else:
            glue.client.stop_session(Id="s1")
            if status == "STOPPED":
                glue.run(2)
    assert glue.status() == status
    with pytest.raises(ClientError) as refused:
        CALLS[operation](glue.client)
    assert refused.value.response["Error"]["Code"] == "IllegalSessionStateException"


def test_a_session_is_what_its_create_session_asked_for(glue: Glue) -> None:
    glue.create("workers", NumberOfWorkers=10, WorkerType="G.2X", IdleTimeout=60)
    glue.create("capacity", MaxCapacity=2.0)
    glue.client.create_session(
        Id="lifetime", Role=ROLE, Command={"Name": "glueetl"}, Timeout=120
    )  # no IdleTimeout: Glue takes the Timeout
    workers = glue.client.get_session(Id="workers")["Session"]
    assert (workers["NumberOfWorkers"], workers["WorkerType"], workers["IdleTimeout"]) == (
        10,
        "G.2X",
        60,
    )
    capacity = glue.client.get_session(Id="capacity")["Session"]
    assert capacity["MaxCapacity"] == 2.0
    assert "NumberOfWorkers" not in capacity and "WorkerType" not in capacity
    assert glue.client.get_session(Id="lifetime")["Session"]["IdleTimeout"] == 120
    lives = glue.emulator.lives
    assert lives["workers"].cost_per_hour == pytest.approx(10 * 2 * 0.44)
    assert lives["capacity"].cost_per_hour == pytest.approx(2 * 0.44)
    assert (lives["workers"].idle_timeout_minutes, lives["lifetime"].idle_timeout_minutes) == (
        60,
        120,
    )


def test_glue_never_times_a_session_out_mid_statement(glue: Glue) -> None:
    """Waiting, running and cancelling are all activity for Glue's own IdleTimeout; it
    counts from the last CompletedOn."""
    glue.ready(IdleTimeout=10)
    glue.emulator.run_statement(
        "s1",
        timedelta(minutes=15),
        waiting=timedelta(minutes=15),
        ends="CANCELLED",
        cancelling=timedelta(minutes=15),
    )
    glue.run(46 + 9)  # WAITING 1-16, RUNNING 16-31, CANCELLING 31-46, then idle
    assert glue.status() == "READY"
    assert glue.statements()[0]["CompletedOn"] == ms(at(46))
    glue.run(46 + 11)
    assert glue.status() == "TIMEOUT"
    assert glue.emulator.lives["s1"].ended_at == at(56)


def actors_account(glue: Glue, put: Callable[[dict[str, Any]], None]) -> Account:
    """Just what the scenario's actors reach for: the clock, the Glue emulator and client,
    and a bus that hands every start event to `put`."""
    return cast(
        Account,
        SimpleNamespace(
            clock=glue.clock,
            emulators={"glue-session": glue.emulator},
            clients={"glue": glue.client},
            bus=SimpleNamespace(put=put),
            deployed_at=T0,  # the stack exists: start events reach the bus
            region=REGION,
            account_id=ACCOUNT,
        ),
    )


def test_the_scenario_keys_drive_statements_and_a_late_start_event(glue: Glue) -> None:
    """What a scenario's user does (actors.py), with a bus that only records what it is
    given: the CreateSession record is written at `at` and delivered `event_delay` later;
    statements wait, run and end as their keys say."""
    delivered: list[tuple[datetime, dict[str, Any]]] = []
    account = actors_account(glue, lambda event: delivered.append((glue.clock.now(), event)))
    run = parse(
        {
            "start": T0.isoformat(),
            "until": "2h",
            "resources": [
                {
                    "kind": "glue-session",
                    "id": "s1",
                    "at": "10m",
                    "event": "late",
                    "event_delay": "45m",
                    "statements": [
                        {"at": "15m", "runs": "20m", "waiting": "2m"},
                        {"at": "40m", "runs": "10m", "ends": "cancelled", "cancelling": "5m"},
                        {"at": "60m", "runs": "1m", "ends": "error"},
                    ],
                }
            ],
        }
    )
    schedule(account, run, run.resources[0])

    def states() -> list[str]:
        return [s["State"] for s in glue.statements()]

    glue.run(16)
    assert states() == ["WAITING"]
    glue.run(18)
    assert states() == ["RUNNING"] and glue.statements()[0]["StartedOn"] == ms(at(17))
    glue.run(52)
    assert states() == ["AVAILABLE", "CANCELLING"] and delivered == []
    glue.run(56)
    assert states() == ["AVAILABLE", "CANCELLED"]
    assert glue.statements()[1]["CompletedOn"] == ms(at(55))
    glue.run(62)
    assert states() == ["AVAILABLE", "CANCELLED", "ERROR"]
    ((when, event),) = delivered
    assert when == at(55)
    assert event["detail"]["eventTime"] == "2026-03-02T09:10:00Z"  # when the call was made


def test_activity_runs_as_statements_with_every_default(glue: Glue) -> None:
    """`activity:` is every kind's busy periods; for Glue, statements with default keys."""
    account = actors_account(glue, lambda event: None)
    run = parse(
        {
            "start": T0.isoformat(),
            "until": "2h",
            "resources": [
                {
                    "kind": "glue-session",
                    "id": "s1",
                    "statements": [{"at": "5m", "runs": "5m"}],
                    "activity": [{"at": "20m", "runs": "10m"}],
                }
            ],
        }
    )
    schedule(account, run, run.resources[0])
    glue.run(25)
    assert [s["State"] for s in glue.statements()] == ["AVAILABLE", "RUNNING"]
    glue.run(31)
    assert [s["State"] for s in glue.statements()] == ["AVAILABLE", "AVAILABLE"]
    assert glue.statements()[1]["CompletedOn"] == ms(at(30))


def test_list_sessions_takes_a_page_of_1000_and_refuses_more_as_glue_does(glue: Glue) -> None:
    """Glue's API reference: MaxResults 1 to 1000. moto takes any size; the emulator refuses
    what Glue would, so a handler asking for more fails here as it would on AWS."""
    for n in range(3):
        glue.create(f"s{n}")
    page = glue.client.list_sessions(MaxResults=1000)
    assert sorted(page["Ids"]) == ["s0", "s1", "s2"] and "NextToken" not in page
    with pytest.raises(ClientError) as refused:
        glue.client.list_sessions(MaxResults=1001)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "less than or equal to 1000" in refused.value.response["Error"]["Message"]
