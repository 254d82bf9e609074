"""`make whatif` end to end: a small CloudTrail export through the command, both runs on the
local runtime, the per-owner savings printed and as the last line."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from tests.e2e.test_cli import cli

ACCOUNT = "111122223333"
ALICE = f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_DataEngineer_01/alice@example.com"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"


def rec(
    time: str,
    name: str,
    request: dict[str, Any] | None,
    response: dict[str, Any] | None = None,
    *,
    who: str = ALICE,
    source: str = "glue.amazonaws.com",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "arn": who, "accountId": ACCOUNT},
        "eventTime": f"2026-03-02T{time}Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "requestParameters": request,
        "responseElements": response,
        "eventID": f"{name}-{time}",
        "readOnly": name.startswith("Get"),
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
        **extra,
    }


def test_whatif_replays_a_trail_both_ways_and_prints_the_savings_per_owner(tmp_path: Path) -> None:
    # GIVEN a trail of two hours' work and a quiet afternoon: alice leaves her notebook open
    # after one statement (its end seen in GetStatement polls); bob's script, on a session
    # with its own 60-minute IdleTimeout, runs one statement (no polls: 5 minutes assumed)
    # and is stopped at 11:00; a failed call, another service, a truncated file
    folder = tmp_path / "AWSLogs" / ACCOUNT / "CloudTrail" / "us-east-1" / "2026" / "03" / "02"
    folder.mkdir(parents=True)
    records = [
        rec("09:00:00", "AssumeRole", {}, source="sts.amazonaws.com"),
        rec("09:00:00", "CreateSession", {"id": "alice-nb"}, {"session": {"id": "alice-nb"}}),
        rec("09:01:00", "RunStatement", {"sessionId": "alice-nb"}, {"id": 0}),
        *(
            rec(t, "GetStatement", {"sessionId": "alice-nb", "id": 0})
            for t in ("09:01:30", "09:03:00", "09:06:00")
        ),
        rec(
            "09:10:00",
            "CreateSession",
            {"id": "bob-etl", "numberOfWorkers": 2, "workerType": "G.1X", "idleTimeout": 60},
            {"session": {"id": "bob-etl"}},
            who=BOB,
        ),
        rec("09:12:00", "RunStatement", {"sessionId": "bob-etl"}, {"id": 0}, who=BOB),
        rec("09:30:00", "RunStatement", {"sessionId": "nope"}, errorCode="EntityNotFoundException"),
        rec("11:00:00", "StopSession", {"id": "bob-etl"}, {"id": "bob-etl"}, who=BOB),
        rec("15:00:00", "DescribeInstances", {}, source="ec2.amazonaws.com"),
    ]
    (folder / "trail_0905Z.json.gz").write_bytes(
        gzip.compress(json.dumps({"Records": records}).encode())
    )
    (folder / "trail_1505Z.json.gz").write_bytes(gzip.compress(b'{"Records": [{"eventT')[:20])

    # WHEN the command runs on it
    result = cli("whatif", str(tmp_path))

    # THEN it succeeds, says how far it has come on stderr, and prints the table, then the JSON
    assert result.returncode == 0, result.stderr
    assert "[whatif] run 1/2: 111122223333/us-east-1, 2 sessions, the reaper" in result.stderr
    assert "[whatif] run 2/2: 111122223333/us-east-1, 2 sessions, Glue's default" in result.stderr
    lines = result.stdout.strip().splitlines()
    out = json.loads(lines[-1])["whatif"]
    assert out["bad_files"] == {"not JSON (or truncated)": 1}
    assert out["skipped"] == {"other service": 2, "failed call (errorCode)": 1}
    assert out["statement_ends"] == {"observed": 1, "cancelled": 0, "assumed": 1}
    sessions = {s["id"]: s for s in out["per_session"]}
    # alice: idle from 09:06:00 (her last poll), stopped GlueIdleMinutes=30 later; under
    # Glue's default (IdleTimeout 2880) billed to the trail's end: 6 h x 5 DPU x $0.44
    assert sessions["alice-nb"]["stopped_at"] == "2026-03-02T09:36:00Z"
    assert sessions["alice-nb"]["glue_default_usd"] == 13.2
    assert sessions["alice-nb"]["reaper_usd"] == 1.32  # 36 min x 5 DPU x $0.44/h
    # bob: idle from 09:17 (12 + 5 assumed); Glue's default ends it at 10:17 (his 60 minutes)
    assert sessions["bob-etl"]["stopped_at"] == "2026-03-02T09:47:00Z"
    assert sessions["bob-etl"]["glue_default_ended_by"] == "timeout"
    assert (sessions["bob-etl"]["glue_default_usd"], sessions["bob-etl"]["reaper_usd"]) == (
        0.98,  # 67 min x 2 DPU x $0.44/h
        0.54,  # 37 min
    )
    owners = {o["owner"]: o for o in out["owners"]}
    assert [o["owner"] for o in out["owners"]] == ["alice@example.com", "bob"]
    assert (owners["alice@example.com"]["saved_usd"], owners["bob"]["saved_usd"]) == (11.88, 0.44)
    assert out["totals"]["saved_usd"] == 12.32 and out["totals"]["stopped"] == 2
    table = [line for line in lines if line.startswith(("alice@", "bob ", "total "))]
    assert len(table) == 3
    assert "$13.20" in table[0] and "$11.88" in table[0] and "90%" in table[0]
    assert "$14.18" in table[2] and "$1.86" in table[2] and "$12.32" in table[2]
