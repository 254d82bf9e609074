"""`make whatif`: reading a CloudTrail export (files, records, bad ones counted by reason),
turning it into scenarios (sessions, statements, the approximations), and the per-owner
savings arithmetic. No run of the runtime here (tests/e2e/test_whatif.py runs one)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from local_runtime import cloudtrail_history
from local_runtime.cloudtrail_history import Place, TrailHistory, read_trail, trail_files
from local_runtime.emulators.glue import GlueSpec
from local_runtime.errors import ScenarioError
from local_runtime.stack import known_regions
from local_runtime.whatif import (
    DEFAULT_PARAMETERS,
    KILL_SWITCH,
    Assumptions,
    OwnerTotals,
    SessionResult,
    SessionStory,
    StatementStory,
    Trail,
    by_owner,
    render,
    scenarios,
    sessions_from,
    shown,
    whatif,
)
from tests.conftest import ROOT

ACCOUNT = "111122223333"
ALICE = f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_DataEngineer_01/alice@example.com"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REGIONS = known_regions()


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


_ids = iter(range(10**6))


def rec(
    minutes: float,
    name: str,
    request: dict[str, Any] | None,
    response: dict[str, Any] | None = None,
    *,
    who: str = ALICE,
    source: str = "glue.amazonaws.com",
    region: str = "us-east-1",
    **extra: Any,
) -> dict[str, Any]:
    """A CloudTrail record as a trail file holds it (the fields "CloudTrail record contents"
    documents)."""
    return {
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "arn": who, "accountId": ACCOUNT},
        "eventTime": at(minutes),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "requestParameters": request,
        "responseElements": response,
        "eventID": f"event-{next(_ids)}",
        "readOnly": name.startswith("Get"),
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
        **extra,
    }


def create(minutes: float, session_id: str, **request: Any) -> dict[str, Any]:
    who = request.pop("who", ALICE)
    body = {"id": session_id, "role": "arn:aws:iam::111122223333:role/Glue", **request}
    return rec(minutes, "CreateSession", body, {"session": {"id": session_id}}, who=who)


def run(minutes: float, session_id: str, statement: int) -> dict[str, Any]:
    return rec(minutes, "RunStatement", {"sessionId": session_id}, {"id": statement})


def poll(minutes: float, session_id: str, statement: int, **response: Any) -> dict[str, Any]:
    seen = {"statement": response} if response else None
    return rec(minutes, "GetStatement", {"sessionId": session_id, "id": statement}, seen)


def stop(minutes: float, session_id: str, name: str = "StopSession") -> dict[str, Any]:
    return rec(minutes, name, {"id": session_id}, {"id": session_id})


def write(path: Path, records: list[Any], *, gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"Records": records}).encode()
    path.write_bytes(gzip.compress(body) if gz else body)
    return path


def history_of(tmp_path: Path, records: list[Any]) -> TrailHistory:
    write(tmp_path / "trail.json", records)
    return read_trail(tmp_path, REGIONS, progress=None)


def trail_of(tmp_path: Path, records: list[Any]) -> Trail:
    return sessions_from(history_of(tmp_path, records))


# -- reading files ---------------------------------------------------------------------------


def test_gzip_and_plain_files_in_nested_folders_are_read_in_time_order(tmp_path: Path) -> None:
    # GIVEN a trail laid out as CloudTrail delivers it, one file gzipped, one not, the later
    # calls in the earlier file (a file may hold records from any time before its delivery)
    day = tmp_path / "AWSLogs" / ACCOUNT / "CloudTrail" / "us-east-1" / "2026" / "03" / "02"
    write(day / "a_CloudTrail_us-east-1_20260302T0905Z_X.json.gz", [run(5, "s", 0)], gz=True)
    write(day / "b_CloudTrail_us-east-1_20260302T0910Z_Y.json", [create(0, "s")])
    (day / "notes.txt").write_text("not a trail file")
    # WHEN it is read
    history = read_trail(tmp_path, REGIONS, progress=None)
    # THEN both files count, the text file is not read, and the calls are in time order
    assert history.files == 2
    assert [c.name for c in history.calls] == ["CreateSession", "RunStatement"]
    assert history.calls[0].place == Place(ACCOUNT, "us-east-1")
    assert history.first == T0 and history.last == T0 + timedelta(minutes=5)


def test_gzip_is_told_by_its_bytes_not_by_its_name(tmp_path: Path) -> None:
    write(tmp_path / "gunzipped-but-named.json.gz", [create(0, "a")])
    write(tmp_path / "gzipped-but-named.json", [create(1, "b")], gz=True)
    history = read_trail(tmp_path, REGIONS, progress=None)
    assert len(history.calls) == 2 and not history.bad_files


@pytest.mark.parametrize(
    ("name", "body", "reason"),
    [
        ("truncated.json.gz", gzip.compress(b'{"Records": []}' * 50, mtime=0)[:30], "not_json"),
        ("broken.json", b'{"Records": [{"eventTime": ', "not_json"),
        ("latin1.json", '{"Records": ["caf\xe9"]}'.encode("latin-1"), "not_json"),
        ("deep.json", b"[" * 200_000 + b"]" * 200_000, "not_json"),
        ("empty.json", b"", "not_json"),
        (
            "digest.json",
            b'{"digestStartTime": "2026-03-02T09:00:00Z", "logFiles": []}',
            "no_records",
        ),
        ("array.json", b"[1, 2, 3]", "no_records"),
        ("records-object.json", b'{"Records": {"eventName": "CreateSession"}}', "no_records"),
    ],
)
def test_a_bad_file_is_counted_by_reason_and_the_rest_is_read(
    tmp_path: Path, name: str, body: bytes, reason: str
) -> None:
    (tmp_path / name).write_bytes(body)
    write(tmp_path / "good.json", [create(0, "s")])
    history = read_trail(tmp_path, REGIONS, progress=None)
    assert history.bad_files == {reason: 1}
    assert history.files == 2 and len(history.calls) == 1


def test_a_file_over_the_size_bound_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cloudtrail_history, "MAX_FILE_BYTES", 1000)
    write(tmp_path / "bomb.json.gz", [create(n, f"s{n}") for n in range(100)], gz=True)
    history = read_trail(tmp_path, REGIONS, progress=None)
    assert history.bad_files == {"too_large": 1} and history.calls == []


def test_a_missing_folder_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such folder"):
        trail_files(tmp_path / "nowhere")


def test_progress_goes_to_the_stream_given(tmp_path: Path) -> None:
    import io

    write(tmp_path / "a.json", [create(0, "s")])
    out = io.StringIO()
    read_trail(tmp_path, REGIONS, progress=out)
    assert out.getvalue() == "[whatif] read 1/1 files, 1 records, 1 Glue session calls\n"


# -- records ----------------------------------------------------------------------------------


def without(record: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != key}


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ("a string", "not_object"),
        (["a", "list"], "not_object"),
        (rec(1, "CreateSession", {"id": "x"}, errorCode="AccessDeniedException"), "failed_call"),
        (rec(1, "GetObject", {"bucketName": "b"}, source="s3.amazonaws.com"), "other_service"),
        (rec(1, "GetTables", {"databaseName": "d"}), "unknown_event"),
        (rec(1, "CreateSession", {"id": "x"}, eventType="AwsServiceEvent"), "unknown_event"),
        (without(rec(1, "CreateSession", {"id": "x"}), "eventSource"), "missing_field"),
        (without(rec(1, "CreateSession", {"id": "x"}), "eventTime"), "missing_field"),
        (rec(1, "CreateSession", {"id": "x"}, eventTime="yesterday"), "bad_value"),
        (rec(1, "CreateSession", {"id": "x"}, eventTime="1999-12-31T23:59:59Z"), "bad_value"),
        (rec(1, "CreateSession", {"id": "x"}, eventTime=20260302), "bad_value"),
        (rec(1, "CreateSession", {"id": "x"}, eventTime="2026-03-02T09:00:00Z" * 9), "bad_value"),
        (without(rec(1, "CreateSession", {"id": "x"}), "awsRegion"), "missing_field"),
        (rec(1, "CreateSession", {"id": "x"}, region="mars-north-1"), "bad_value"),
        (rec(1, "CreateSession", {"id": "x"}, recipientAccountId="12345"), "bad_value"),
        (rec(1, "CreateSession", None), "missing_field"),
        (rec(1, "CreateSession", ["id", "x"]), "missing_field"),
    ],
)
def test_a_record_that_cannot_be_used_is_counted_by_reason(
    tmp_path: Path, record: Any, reason: str
) -> None:
    history = history_of(tmp_path, [record, create(0, "good")])
    assert history.skipped == {reason: 1}
    assert [c.request["id"] for c in history.calls] == ["good"]
    assert history.records == 2


def test_the_account_falls_back_to_the_callers_own(tmp_path: Path) -> None:
    history = history_of(tmp_path, [without(create(0, "s"), "recipientAccountId")])
    assert history.calls[0].place == Place(ACCOUNT, "us-east-1")


def test_a_record_delivered_twice_counts_once(tmp_path: Path) -> None:
    record = create(0, "s")
    write(tmp_path / "a.json", [record])
    write(tmp_path / "b.json", [record, run(1, "s", 0)])
    history = read_trail(tmp_path, REGIONS, progress=None)
    assert history.skipped == {"duplicate": 1} and len(history.calls) == 2


def test_every_records_time_counts_for_the_trails_span(tmp_path: Path) -> None:
    # Another service's call and a failed one still say the trail was recording then.
    history = history_of(
        tmp_path,
        [
            rec(-30, "AssumeRole", {}, source="sts.amazonaws.com"),
            create(0, "s"),
            rec(600, "RunStatement", {"sessionId": "s"}, errorCode="IllegalSessionStateException"),
        ],
    )
    assert history.first == T0 - timedelta(minutes=30)
    assert history.last == T0 + timedelta(minutes=600)


# -- sessions ---------------------------------------------------------------------------------


def test_a_session_is_what_its_create_session_asked_for(tmp_path: Path) -> None:
    trail = trail_of(
        tmp_path,
        [
            create(
                0,
                "etl",
                numberOfWorkers=10,
                workerType="G.2X",
                idleTimeout=120,
                tags={"team": "data"},
            )
        ],
    )
    (session,) = trail.sessions
    assert (session.workers, session.worker_type, session.idle_timeout) == (10, "G.2X", 120)
    assert session.tags == {"team": "data"} and session.principal == ALICE
    assert session.created_at == T0 and session.ended_at is None


def test_glues_defaults_fill_what_create_session_left_out(tmp_path: Path) -> None:
    trail = trail_of(
        tmp_path,
        [
            create(0, "plain"),
            create(1, "timeout-only", timeout=600),
            create(2, "dpu", maxCapacity=2.5),
        ],
    )
    plain, timeout_only, dpu = trail.sessions
    assert (plain.workers, plain.worker_type, plain.idle_timeout) == (5, "G.1X", 2880)
    assert timeout_only.idle_timeout == 600  # IdleTimeout defaults to Timeout
    assert (dpu.workers, dpu.worker_type) == (3, "G.1X")  # 2.5 DPU as 3 one-DPU workers


def test_the_response_names_the_session_when_it_can(tmp_path: Path) -> None:
    record = rec(0, "CreateSession", {"id": "asked"}, {"session": {"id": "given"}})
    assert [s.id for s in trail_of(tmp_path, [record]).sessions] == ["given"]


@pytest.mark.parametrize(
    ("request_fields", "reason"),
    [
        ({"numberOfWorkers": 1}, "bad_value"),
        ({"numberOfWorkers": 300}, "bad_value"),
        ({"numberOfWorkers": "5"}, "bad_value"),
        ({"numberOfWorkers": True}, "bad_value"),
        ({"numberOfWorkers": 5.5}, "bad_value"),
        ({"numberOfWorkers": float("inf")}, "bad_value"),
        ({"numberOfWorkers": 10**400}, "bad_value"),  # JSON allows it; no float holds it
        ({"maxCapacity": -1}, "bad_value"),
        ({"maxCapacity": 10**400}, "bad_value"),
        ({"maxCapacity": float("nan")}, "bad_value"),
        ({"idleTimeout": 0}, "bad_value"),
        ({"idleTimeout": 10081}, "bad_value"),
        ({"workerType": "G.12X"}, "unpriced_worker_type"),
        ({"workerType": "G.1X; rm -rf /"}, "bad_value"),
        ({"tags": {"owner": 7}}, "bad_value"),
        ({"tags": {"": "empty key"}}, "bad_value"),
        ({"tags": {"k": "v" * 257}}, "bad_value"),
        ({"tags": {f"k{n}": "v" for n in range(51)}}, "bad_value"),
        ({"tags": ["owner", "alice"]}, "bad_value"),
    ],
)
def test_a_create_session_outside_glues_bounds_is_counted_not_replayed(
    tmp_path: Path, request_fields: dict[str, Any], reason: str
) -> None:
    history = history_of(tmp_path, [create(0, "bad", **request_fields), create(1, "good")])
    trail = sessions_from(history)
    assert [s.id for s in trail.sessions] == ["good"]
    assert history.skipped == {reason: 1}


@pytest.mark.parametrize("session_id", ["", "a\nb", "x" * 256, 42, None, "\x1b[31mred"])
def test_a_hostile_session_id_is_refused(tmp_path: Path, session_id: Any) -> None:
    record = rec(0, "CreateSession", {"id": session_id}, {"session": {"id": session_id}})
    history = history_of(tmp_path, [record])
    assert sessions_from(history).sessions == ()
    assert sum(history.skipped.values()) == 1


def test_calls_name_only_sessions_the_trail_created(tmp_path: Path) -> None:
    history = history_of(
        tmp_path,
        [
            run(0, "from-before-the-trail", 0),
            create(1, "s"),
            poll(2, "s", 9),  # a statement the trail never ran
            stop(3, "s"),
            run(4, "s", 0),  # after its stop
            rec(5, "RunStatement", {"sessionId": "s\x00"}, {"id": 1}),
            rec(2.5, "GetStatement", {"sessionId": "s"}),  # which statement?
            rec(2.6, "GetStatement", {"sessionId": "s", "id": "\u00b2"}),  # a digit, not ASCII
        ],
    )
    trail = sessions_from(history)
    assert trail.sessions[0].statements == []
    assert history.skipped == {
        "session_not_in_trail": 1,
        "statement_not_in_trail": 1,
        "after_session_end": 1,
        "bad_value": 2,
        "missing_field": 1,
    }


def test_the_first_stop_or_delete_ends_a_session(tmp_path: Path) -> None:
    trail = trail_of(tmp_path, [create(0, "s"), stop(50, "s", "DeleteSession"), stop(51, "s")])
    assert trail.sessions[0].ended_at == T0 + timedelta(minutes=50)


def test_an_id_created_again_is_a_new_session_and_ends_the_first(tmp_path: Path) -> None:
    trail = trail_of(tmp_path, [create(0, "etl"), run(5, "etl", 0), create(600, "etl")])
    first, second = trail.sessions
    assert (first.id, second.id, second.glue_id) == ("etl", "etl#2", "etl")
    assert first.ended_at == T0 + timedelta(minutes=600) and second.ended_at is None
    assert len(first.statements) == 1


def test_a_renamed_session_never_takes_an_id_another_session_has(tmp_path: Path) -> None:
    trail = trail_of(
        tmp_path, [create(0, "etl#2"), create(1, "etl"), stop(2, "etl"), create(3, "etl")]
    )
    assert [s.id for s in trail.sessions] == ["etl#2", "etl", "etl#3"]


def test_owner_is_the_owner_tag_else_the_person_behind_the_caller(tmp_path: Path) -> None:
    trail = trail_of(
        tmp_path,
        [
            create(0, "tagged", tags={"owner": "team@example.com"}),
            create(1, "sso"),
            create(2, "user", who=BOB),
            create(3, "root", who=f"arn:aws:iam::{ACCOUNT}:root"),
            without(create(4, "nobody"), "userIdentity"),
        ],
    )
    assert [s.owner for s in trail.sessions] == [
        "team@example.com",
        "alice@example.com",
        "bob",
        f"arn:aws:iam::{ACCOUNT}:root",
        "unknown",
    ]


# -- statements and their ends ---------------------------------------------------------------


def statements_of(tmp_path: Path, records: list[Any], minutes: float = 5) -> list[tuple[Any, ...]]:
    """(offset minutes, runs minutes, ends, how) of the first session's statements."""
    trail = trail_of(tmp_path, records)
    (run_,), _ = scenarios(trail, {}, Assumptions(statement_minutes=minutes))
    spec = run_.resources[0].kind_spec
    assert isinstance(spec, GlueSpec)
    hows = [s.evidence for s in trail.sessions[0].statements]
    return [
        (a.at.total_seconds() / 60, a.runs.total_seconds() / 60, a.ends, how)
        for a, how in zip(spec.statements, hows, strict=True)
    ]


def test_with_polls_a_statement_ends_at_the_last_poll(tmp_path: Path) -> None:
    # CloudTrail keeps no response for a read: the polls say only that the client waited.
    records = [create(0, "s"), run(1, "s", 0), poll(1.5, "s", 0), poll(4, "s", 0), poll(9, "s", 0)]
    assert statements_of(tmp_path, records) == [(1.0, 8.0, "available", "observed")]


def test_a_poll_that_saw_the_end_ends_it_there(tmp_path: Path) -> None:
    records = [
        create(0, "s"),
        run(1, "s", 0),
        poll(2, "s", 0, state="RUNNING"),
        poll(3, "s", 0, state="ERROR"),
        poll(4, "s", 0, state="ERROR"),
    ]
    assert statements_of(tmp_path, records) == [(1.0, 2.0, "error", "observed")]


def test_completed_on_in_a_poll_is_the_exact_end(tmp_path: Path) -> None:
    done = int((T0 + timedelta(minutes=2, seconds=30)).timestamp() * 1000)
    records = [create(0, "s"), run(1, "s", 0), poll(3, "s", 0, state="AVAILABLE", completedOn=done)]
    assert statements_of(tmp_path, records) == [(1.0, 1.5, "available", "observed")]


def test_a_completed_on_outside_the_statement_is_not_believed(tmp_path: Path) -> None:
    records = [create(0, "s"), run(1, "s", 0), poll(3, "s", 0, state="AVAILABLE", completedOn=1)]
    assert statements_of(tmp_path, records) == [(1.0, 2.0, "available", "observed")]


def test_a_cancelled_statement_ends_at_its_cancel(tmp_path: Path) -> None:
    records = [
        create(0, "s"),
        run(1, "s", 0),
        rec(7, "CancelStatement", {"sessionId": "s", "id": "0"}, {}),
    ]
    assert statements_of(tmp_path, records) == [(1.0, 6.0, "cancelled", "cancelled")]


def test_without_polls_a_statement_runs_the_assumed_minutes_or_until_the_next_one(
    tmp_path: Path,
) -> None:
    records = [create(0, "s"), run(1, "s", 0), run(3, "s", 1), run(20, "s", 2), stop(22, "s")]
    assert statements_of(tmp_path, records) == [
        (1.0, 2.0, "available", "assumed"),  # the kernel ran the next cell at 3: it had ended
        (3.0, 5.0, "available", "assumed"),
        (20.0, 2.0, "available", "assumed"),  # the session stopped under it
    ]
    assert statements_of(tmp_path, records, minutes=1)[1] == (3.0, 1.0, "available", "assumed")


def test_no_statement_runs_past_the_trails_end(tmp_path: Path) -> None:
    records = [
        create(0, "s"),
        run(58, "s", 0),
        rec(60, "ListBuckets", {}, source="s3.amazonaws.com"),
    ]
    assert statements_of(tmp_path, records) == [(58.0, 2.0, "available", "assumed")]


# -- scenarios ---------------------------------------------------------------------------------


def test_one_scenario_per_account_and_region_over_the_trails_span(tmp_path: Path) -> None:
    records = [
        rec(-10, "AssumeRole", {}, source="sts.amazonaws.com"),
        create(0, "east", tags={"owner": "alice"}),
        stop(90, "east"),
        {**create(5, "west"), "awsRegion": "eu-west-1"},
        rec(300, "AssumeRole", {}, source="sts.amazonaws.com"),
    ]
    runs, _ = scenarios(trail_of(tmp_path, records), DEFAULT_PARAMETERS, Assumptions())
    assert [(s.account, s.region) for s in runs] == [(ACCOUNT, "eu-west-1"), (ACCOUNT, "us-east-1")]
    west, east = runs
    assert east.start == T0 - timedelta(minutes=10) and east.until == timedelta(minutes=310)
    (spec,) = east.resources
    assert (spec.id, spec.at, spec.stop_by_user) == (
        "east",
        timedelta(minutes=10),
        timedelta(minutes=100),
    )
    assert spec.by == ALICE and spec.tags == {"owner": "alice"}
    assert west.resources[0].at == timedelta(minutes=15)
    assert east.parameters == {"SweepMinutes": "0"}
    assert not east.channels.slack and east.channels.email is None


def test_a_trail_longer_than_a_scenario_may_run_is_refused(tmp_path: Path) -> None:
    records = [create(0, "s"), rec(367 * 24 * 60, "AssumeRole", {}, source="sts.amazonaws.com")]
    with pytest.raises(ScenarioError, match="more than 366d"):
        scenarios(trail_of(tmp_path, records), {}, Assumptions())


def test_a_trail_without_sessions_makes_no_scenario(tmp_path: Path) -> None:
    records = [rec(0, "AssumeRole", {}, source="sts.amazonaws.com")]
    assert scenarios(trail_of(tmp_path, records), {}, Assumptions()) == ([], {})


def test_the_kill_switch_is_the_other_runs_and_cannot_be_set(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="Glue-default run"):
        whatif(tmp_path, {KILL_SWITCH: "off"}, progress=None)


# -- savings arithmetic ------------------------------------------------------------------------


def story(owner: str, *run_minutes: float, evidence: str = "assumed") -> SessionStory:
    out = SessionStory(
        id=f"s-{owner}-{len(run_minutes)}",
        glue_id="s",
        place=Place(ACCOUNT, "us-east-1"),
        created_at=T0,
        principal=None,
        tags={"owner": owner},
        workers=5,
        worker_type="G.1X",
        idle_timeout=2880,
    )
    for m in run_minutes:
        statement = StatementStory(run_at=T0 + timedelta(minutes=m), statement_id=None)
        if evidence == "observed":
            statement.last_poll = statement.run_at
        out.statements.append(statement)
    return out


def outcome(cost: float, wasted: float = 0.0, stopped: str | None = None) -> dict[str, Any]:
    return {
        "outcome": "stopped" if stopped else "gone",
        "stopped_at": stopped,
        "cost_usd": cost,
        "wasted_usd": wasted,
    }


def test_saved_is_the_difference_of_the_two_bills() -> None:
    result = SessionResult(story("a", 0), outcome(13.2, 12.0), outcome(1.32, 0.99, at(36)))
    assert result.saved_usd == 11.88
    assert result.came_back == 0 and result.stop_after_assumed_end


def test_came_back_counts_statements_after_the_reapers_stop() -> None:
    result = SessionResult(
        story("a", 0, 100, 120, evidence="observed"), outcome(5), outcome(2, 0, at(40))
    )
    assert result.came_back == 2 and not result.stop_after_assumed_end
    untouched = SessionResult(story("a", 0, 100), outcome(5), outcome(5))
    assert untouched.came_back == 0 and untouched.stopped_at is None


def test_per_owner_sums_most_saved_first_and_totals() -> None:
    results = [
        SessionResult(story("bob", 0), outcome(10.0, 8.0), outcome(4.0, 2.0, at(30))),
        SessionResult(story("alice", 0), outcome(1.0), outcome(1.0)),
        SessionResult(story("bob", 0, 50), outcome(2.5, 1.0), outcome(1.25, 0.5, at(40))),
        SessionResult(story("carol", 0), outcome(0.0), outcome(0.0)),
    ]
    rows, total = by_owner(results)
    assert [r.owner for r in rows] == ["bob", "alice", "carol"]
    bob = rows[0].as_dict()
    assert bob | {"owner": "bob"} == {
        "owner": "bob",
        "sessions": 2,
        "stopped": 2,
        "came_back": 1,
        "came_back_after_assumed_end": 1,
        "glue_default_usd": 12.5,
        "reaper_usd": 5.25,
        "saved_usd": 7.25,
        "saved_percent": 58.0,
        "idle_glue_default_usd": 9.0,
        "idle_reaper_usd": 2.5,
    }
    assert rows[2].saved_share is None  # billed nothing: no share to speak of
    assert (total.sessions, total.saved_usd, total.glue_default_usd) == (4, 7.25, 13.5)


def test_hostile_strings_reach_the_terminal_harmless() -> None:
    assert shown("\x1b[2J\x1b[31mmallory") == "?[2J?[31mmallory"
    assert shown("alice\u202eevil") == "alice?evil"  # a bidi override
    assert shown("line\nbreak\ttab\x00") == "line?break?tab?"
    assert shown("x" * 100) == "x" * 31 + "…"


def test_the_report_shows_every_owner_and_the_totals_safely() -> None:
    rows, total = by_owner(
        [
            SessionResult(story("\x1b[31mmallory"), outcome(3.0), outcome(1.0, 0, at(30))),
            SessionResult(story("alice"), outcome(1.0), outcome(1.0)),
        ]
    )
    result = {
        "trail": "t",
        "from": at(0),
        "to": at(60),
        "files": 2,
        "bad_files": {"not JSON (or truncated)": 1},
        "records": 10,
        "glue_calls": 4,
        "skipped": {"other service": 6},
        "homes": [{"account": ACCOUNT, "region": "us-east-1", "sessions": 2}],
        "sessions": 2,
        "statement_ends": {"observed": 0, "cancelled": 0, "assumed": 2},
        "assumed_statement_minutes": 5.0,
        "parameters": {"GlueIdleMinutes": "30", "SweepMinutes": "0"},
        "owners": [r.as_dict() for r in rows],
        "totals": total.as_dict() | {"owner": None},
    }
    text = render(result, {})
    assert "\x1b" not in text
    lines = text.splitlines()
    assert lines[1] == "# files: 2 read; 1 not used: 1 not JSON (or truncated)"
    assert lines[2] == "# records: 10 read, 4 Glue session calls; 6 not used: 6 other service"
    assert any(
        line.startswith("?[31mmallory ") and "$2.00" in line and "67%" in line for line in lines
    )
    assert any(line.startswith("total ") and "$4.00" in line and "$2.00" in line for line in lines)
    assert "GlueIdleMinutes=30 DryRun" not in text and "GlueIdleMinutes=30" in text


def test_owner_totals_start_empty() -> None:
    assert OwnerTotals(owner="x").as_dict()["saved_percent"] is None


# -- the bundled sample -------------------------------------------------------------------------


def test_the_bundled_sample_reads_as_its_readme_says() -> None:
    history = read_trail(ROOT / "samples" / "trail", REGIONS, progress=None)
    trail = sessions_from(history)
    assert history.files == 34
    assert history.bad_files == {"not_json": 1, "no_records": 1}
    assert history.skipped == {
        "other_service": 226,
        "unknown_event": 162,
        "failed_call": 3,
        "duplicate": 1,
    }
    assert len(trail.sessions) == 12
    assert {s.place.region for s in trail.sessions} == {"us-east-1", "eu-west-1"}
    evidence = [st.evidence for s in trail.sessions for st in s.statements]
    assert (evidence.count("observed"), evidence.count("cancelled"), evidence.count("assumed")) == (
        19,
        1,
        17,
    )
