"""The Glue adapter against a fake client: what the API returns, and how it is read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from idle_reaper.exceptions import ResourceReadError
from idle_reaper.kinds.base import Look
from idle_reaper.kinds.glue import MAX_STATEMENT_PAGES, GlueSession, cost_per_hour, session_arn
from idle_reaper.policy import Policy
from idle_reaper.resource import Home, ResourceRef
from idle_reaper.times import to_iso
from idle_reaper.verdict import decide
from tests.conftest import load_event

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REF = ResourceRef(kind="glue-session", id="s1", region="us-east-1", account="123456789012")


def looking(client: Any) -> Look:
    """A look that hands the adapter `client` for every service."""
    return Look(client=lambda _service: client, policy=Policy.from_env({}), now=T0)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class FakeGlue:
    """Just the calls the adapter makes, with pages of statements."""

    def __init__(
        self,
        status: str = "READY",
        pages: list[list[dict[str, Any]]] | None = None,
        errors: dict[str, str] | None = None,
    ) -> None:
        self.status, self.pages, self.errors = status, pages or [[]], errors or {}
        self.calls: list[str] = []

    def _maybe_fail(self, op: str) -> None:
        self.calls.append(op)
        if op in self.errors:
            raise ClientError({"Error": {"Code": self.errors[op], "Message": "x"}}, op)

    def get_session(self, Id: str) -> dict[str, Any]:
        self._maybe_fail("GetSession")
        return {
            "Session": {
                "Id": Id,
                "Status": self.status,
                "CreatedOn": T0,
                "NumberOfWorkers": 5,
                "WorkerType": "G.1X",
                "IdleTimeout": 120,
            }
        }

    def list_statements(self, SessionId: str, NextToken: str | None = None) -> dict[str, Any]:
        self._maybe_fail("ListStatements")
        index = int(NextToken or 0)
        page: dict[str, Any] = {"Statements": self.pages[index]}
        if index + 1 < len(self.pages):
            page["NextToken"] = str(index + 1)
        return page

    def get_tags(self, ResourceArn: str) -> dict[str, Any]:
        self._maybe_fail("GetTags")
        return {"Tags": {"owner": "alice@example.com"}}


def statement(
    state: str, completed: datetime | None = None, *, seconds: bool = False
) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": 1, "State": state, "StartedOn": ms(T0)}
    if completed:
        out["CompletedOn"] = int(completed.timestamp()) if seconds else ms(completed)
    return out


def test_identifies_a_successful_create_session_event() -> None:
    ref = GlueSession().identify(load_event("glue-create-session.json"))
    assert ref is not None
    assert (ref.id, ref.region, ref.account) == ("alice-etl", "us-east-1", "123456789012")
    assert ref.principal == "arn:aws:sts::123456789012:assumed-role/DataEngineer/alice@example.com"


@pytest.mark.parametrize("name", ["glue-create-session-failed.json", "amplify-create-app.json"])
def test_does_not_identify_failed_or_foreign_events(name: str) -> None:
    assert GlueSession().identify(load_event(name)) is None


def test_last_activity_is_the_latest_completion_across_pages() -> None:
    latest = T0 + timedelta(minutes=42)
    pages = [
        [statement("AVAILABLE", T0 + timedelta(minutes=5))],
        [statement("AVAILABLE", latest)],
        [statement("ERROR", T0 + timedelta(minutes=10))],
    ]
    client = FakeGlue(pages=pages)
    seen = GlueSession().observe(REF, looking(client))
    assert client.calls.count("ListStatements") == 3
    assert seen.last_activity_at == latest
    assert not seen.busy
    assert seen.own_idle_timeout_minutes == 120
    assert seen.tags == {"owner": "alice@example.com"}


def test_completed_on_in_seconds_reads_the_same_as_milliseconds() -> None:
    done = T0 + timedelta(minutes=7)
    in_ms = GlueSession().observe(REF, looking(FakeGlue(pages=[[statement("AVAILABLE", done)]])))
    in_s = GlueSession().observe(
        REF, looking(FakeGlue(pages=[[statement("AVAILABLE", done, seconds=True)]]))
    )
    assert in_ms.last_activity_at == in_s.last_activity_at == done


@pytest.mark.parametrize("state", ["WAITING", "RUNNING", "CANCELLING", "SOMETHING_NEW"])
def test_waiting_running_cancelling_or_unknown_statement_means_busy(state: str) -> None:
    pages = [[statement("AVAILABLE", T0 + timedelta(minutes=1))], [statement(state)]]
    assert GlueSession().observe(REF, looking(FakeGlue(pages=pages))).busy


def test_no_statements_means_idle_since_creation() -> None:
    seen = GlueSession().observe(REF, looking(FakeGlue()))
    assert seen.last_activity_at == T0
    assert seen.phase == "billing"


@pytest.mark.parametrize(
    ("status", "phase"),
    [
        ("PROVISIONING", "starting"),
        ("READY", "billing"),
        ("STOPPING", "ended"),
        ("STOPPED", "ended"),
        ("TIMEOUT", "ended"),
        ("FAILED", "ended"),
    ],
)
def test_status_maps_to_phase(status: str, phase: str) -> None:
    client = FakeGlue(status=status)
    assert GlueSession().observe(REF, looking(client)).phase == phase
    # statements are only read for a session that can be stopped
    assert ("ListStatements" in client.calls) is (phase == "billing")


def test_missing_session_is_not_an_error() -> None:
    seen = GlueSession().observe(
        REF, looking(FakeGlue(errors={"GetSession": "EntityNotFoundException"}))
    )
    assert seen.phase == "missing"


@pytest.mark.parametrize("op", ["GetSession", "ListStatements", "GetTags"])
def test_throttling_or_denial_is_a_read_error_not_a_verdict(op: str) -> None:
    with pytest.raises(ResourceReadError) as caught:
        GlueSession().observe(REF, looking(FakeGlue(errors={op: "ThrottlingException"})))
    assert isinstance(caught.value.__cause__, ClientError)


@pytest.mark.parametrize(
    ("session", "per_hour"),
    [
        ({"NumberOfWorkers": 5, "WorkerType": "G.1X"}, 2.2),
        ({"NumberOfWorkers": 10, "WorkerType": "G.2X"}, 8.8),
        ({"MaxCapacity": 2.0}, 0.88),
        ({}, 2.2),
    ],
)
def test_cost_per_hour(session: dict[str, Any], per_hour: float) -> None:
    assert cost_per_hour(session) == pytest.approx(per_hour)


def test_a_statement_without_completed_on_counts_from_its_start_never_as_long_idle() -> None:
    # an ERROR statement that started at 40 minutes and has no CompletedOn
    started_late = {"Id": 2, "State": "ERROR", "StartedOn": ms(T0 + timedelta(minutes=40))}
    pages = [[statement("AVAILABLE", T0 + timedelta(minutes=5))], [started_late]]
    seen = GlueSession().observe(REF, looking(FakeGlue(pages=pages)))
    assert seen.last_activity_at == T0 + timedelta(minutes=40)


def test_a_cancelled_long_statement_is_activity_until_it_ended() -> None:
    cancelled = statement("CANCELLED", T0 + timedelta(minutes=90))
    seen = GlueSession().observe(REF, looking(FakeGlue(pages=[[cancelled]])))
    assert seen.last_activity_at == T0 + timedelta(minutes=90) and not seen.busy


@pytest.mark.parametrize("junk", [1e30, -5, "12", True, float("nan"), None, 0])
def test_absurd_statement_times_are_no_time_at_all(junk: Any) -> None:
    """No time dates the statement's work: the activity cannot be read (never idle since the
    creation, as it was read before review s19)."""
    odd = {"Id": 3, "State": "AVAILABLE", "StartedOn": junk, "CompletedOn": junk}
    seen = GlueSession().observe(REF, looking(FakeGlue(pages=[[odd]])))
    assert seen.last_activity_at == T0
    assert seen.unreadable is not None and "statement 3" in seen.unreadable


@pytest.mark.parametrize("state", ["AVAILABLE", "CANCELLED", "ERROR"])
def test_a_finished_statement_without_times_makes_the_activity_unreadable(state: str) -> None:
    """Review s19: an AVAILABLE statement with no StartedOn/CompletedOn added nothing, so the
    session counted as idle since its creation and was stopped at that deadline."""
    glue = FakeGlue(pages=[[{"Id": 1, "State": state}]])
    seen = GlueSession().observe(REF, looking(glue))
    assert seen.unreadable is not None and f"statement 1 is {state}" in seen.unreadable
    verdict = decide(
        "glue-session",
        seen,
        Policy(idle_minutes={"glue-session": 30}),
        T0 + timedelta(hours=3),
        to_iso(T0),
    )
    assert verdict.action == "wait" and "never stopped on a guess" in verdict.reason


def test_one_of_the_two_times_still_dates_a_finished_statement() -> None:
    only_completed = {"Id": 1, "State": "CANCELLED", "CompletedOn": ms(T0 + timedelta(minutes=7))}
    seen = GlueSession().observe(REF, looking(FakeGlue(pages=[[only_completed]])))
    assert (seen.unreadable, seen.last_activity_at) == (None, T0 + timedelta(minutes=7))


def test_a_waiting_statement_without_times_is_work_not_an_unknown() -> None:
    seen = GlueSession().observe(REF, looking(FakeGlue(pages=[[{"Id": 1, "State": "WAITING"}]])))
    assert seen.busy and seen.unreadable is None


def test_statements_read_past_their_page_cap_are_a_read_error_not_a_stop() -> None:
    """ListStatements had no page cap while every other listing has one: an answer that keeps
    paginating is a read error (Inspect retries it), never a Lambda timeout or a guess."""
    pages = [[statement("AVAILABLE", T0 + timedelta(minutes=1))]] * (MAX_STATEMENT_PAGES + 1)
    glue = FakeGlue(pages=pages)
    with pytest.raises(ResourceReadError, match=f"more than {MAX_STATEMENT_PAGES} pages"):
        GlueSession().observe(REF, looking(glue))
    assert glue.calls.count("ListStatements") == MAX_STATEMENT_PAGES
    last_page = FakeGlue(pages=pages[:MAX_STATEMENT_PAGES])  # exactly the cap: read in full
    seen = GlueSession().observe(REF, looking(last_page))
    assert seen.last_activity_at == T0 + timedelta(minutes=1)


@pytest.mark.parametrize(
    ("page", "busy"),
    [(None, False), ([], False), ({"Statements": "x"}, False), ({"Statements": [None, 3]}, True)],
)
def test_a_malformed_statements_page_is_never_read_as_idleness(page: Any, busy: bool) -> None:
    """No list: no statements. An item that is no object is a statement in no known state:
    when in doubt, busy."""

    class Odd(FakeGlue):
        def list_statements(self, SessionId: str, NextToken: str | None = None) -> Any:
            return page

    seen = GlueSession().observe(REF, looking(Odd()))
    assert (seen.busy, seen.unreadable, seen.last_activity_at) == (busy, None, T0)


@pytest.mark.parametrize(
    ("region", "arn", "console"),
    [
        ("us-east-1", "arn:aws:glue:", "https://us-east-1.console.aws.amazon.com/"),
        ("cn-north-1", "arn:aws-cn:glue:", "https://cn-north-1.console.amazonaws.cn/"),
        ("us-gov-west-1", "arn:aws-us-gov:glue:", "https://console.amazonaws-us-gov.com/"),
    ],
)
def test_arns_and_console_links_are_in_the_regions_partition(
    region: str, arn: str, console: str
) -> None:
    ref = ResourceRef(kind="glue-session", id="s1", region=region, account="123456789012")
    assert session_arn(ref).startswith(arn)
    assert (GlueSession().console_url(ref) or "").startswith(console)


# -- running(): what the sweeper lists ------------------------------------------------------------
HOME = Home(partition="aws", region="us-east-1", account="123456789012")


class ListingGlue:
    """ListSessions in pages (NextToken), and GetSession / ListStatements / GetTags answering
    from the same sessions, so observe() and running() read the very same data."""

    def __init__(self, pages: list[list[Any]], error: str | None = None) -> None:
        self.pages, self.error = pages, error
        self.tokens: list[str | None] = []

    def list_sessions(self, MaxResults: int, NextToken: str | None = None) -> dict[str, Any]:
        assert MaxResults == 1000, "the largest page ListSessions gives: the fewest calls"
        self.tokens.append(NextToken)
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "x"}}, "ListSessions")
        index = int(NextToken or 0)
        page: dict[str, Any] = {"Sessions": self.pages[index]}
        if index + 1 < len(self.pages):
            page["NextToken"] = str(index + 1)
        return page

    def get_session(self, Id: str) -> dict[str, Any]:
        found = [s for page in self.pages for s in page if isinstance(s, dict) and s["Id"] == Id]
        return {"Session": found[0]}

    def list_statements(self, SessionId: str, NextToken: str | None = None) -> dict[str, Any]:
        return {"Statements": []}

    def get_tags(self, ResourceArn: str) -> dict[str, Any]:
        return {"Tags": {}}


def session(sid: str, status: str = "READY", created: Any = T0) -> dict[str, Any]:
    return {"Id": sid, "Status": status, "CreatedOn": created}


def listed(client: Any) -> list[Any]:
    return list(GlueSession().running(lambda _service: client, HOME))


def test_running_lists_ready_and_provisioning_sessions_across_pages() -> None:
    client = ListingGlue(
        [
            [session("a"), session("b", "STOPPED"), session("c", "PROVISIONING")],
            [session("d", "FAILED"), session("e", "TIMEOUT")],
            [session("f"), session("g", "STOPPING")],
        ]
    )
    found = listed(client)
    assert [s.ref.id for s in found] == ["a", "c", "f"]
    assert client.tokens == [None, "1", "2"]
    assert {(s.ref.kind, s.ref.account, s.ref.region) for s in found} == {
        ("glue-session", "123456789012", "us-east-1")
    }


@pytest.mark.parametrize("created", [T0, ms(T0), ms(T0) / 1000])
def test_a_sightings_start_is_exactly_what_observe_reads(created: Any) -> None:
    client = ListingGlue([[session("s1", created=created)]])
    [sighting] = listed(client)
    seen = GlueSession().observe(sighting.ref, looking(client))
    assert sighting.started_at == seen.started_at == T0


@pytest.mark.parametrize(
    "item",
    [
        "s1",
        None,
        {"Id": 7, "Status": "READY", "CreatedOn": T0},
        {"Id": "", "Status": "READY", "CreatedOn": T0},
        {"Id": "x\ny", "Status": "READY", "CreatedOn": T0},
        {"Id": "s1", "Status": "READY"},
        {"Id": "s1", "Status": "READY", "CreatedOn": "yesterday"},
        {"Id": "s1", "Status": "READY", "CreatedOn": True},
        {"Id": "s1", "Status": "READY", "CreatedOn": -5},
        {"Id": "s1", "Status": ["READY"], "CreatedOn": T0},
    ],
)
def test_a_malformed_item_is_skipped_and_the_listing_goes_on(item: Any) -> None:
    found = listed(ListingGlue([[item, session("ok")], [session("ok2")]]))
    assert [s.ref.id for s in found] == ["ok", "ok2"]


def test_a_page_without_a_list_of_sessions_is_no_sessions() -> None:
    class Odd(ListingGlue):
        def list_sessions(self, MaxResults: int, NextToken: str | None = None) -> dict[str, Any]:
            return {"Sessions": {"Id": "s1"}, "NextToken": 5}

    assert listed(Odd([])) == []


@pytest.mark.parametrize("code", ["AccessDeniedException", "ThrottlingException"])
def test_a_failed_listing_is_a_read_error(code: str) -> None:
    with pytest.raises(ResourceReadError, match="ListSessions"):
        listed(ListingGlue([[]], error=code))


def test_endless_pages_are_a_read_error() -> None:
    class Endless(ListingGlue):
        def list_sessions(self, MaxResults: int, NextToken: str | None = None) -> dict[str, Any]:
            return {"Sessions": [], "NextToken": "again"}

    with pytest.raises(ResourceReadError, match="pages"):
        listed(Endless([]))


def test_the_listing_permission_is_list_sessions() -> None:
    assert GlueSession.list_permissions == ("glue:ListSessions",)
