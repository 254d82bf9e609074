"""Writes the sample trail `make whatif` reads by default: four days of one account's
CloudTrail history, as a trail delivers it (`{"Records": [...]}` files under
AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/), seeded so every run writes the same bytes.

What is in it: Glue interactive sessions of seven people (notebooks left open, a session with
its own short IdleTimeout, several tabs at once, an exempt streaming session, a cancelled
statement, a user who comes back after lunch, a session in a second region), their failed
calls, other services' calls, console sign-ins, a duplicated record, a CloudTrail digest file
and one truncated download. The trail logs write events only until Tuesday 12:00 and read
events too from then on, so GetStatement polls appear only after that.

Files are as CloudTrail delivers them (.json.gz), except Monday's in us-east-1, which someone
gunzipped (.json).

    python samples/trail/generate.py      # rewrites samples/trail/AWSLogs
"""

from __future__ import annotations

import gzip
import json
import random
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ACCOUNT = "111122223333"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday
END = datetime(2026, 3, 5, 18, 0, tzinfo=UTC)  # Thursday
READ_EVENTS_FROM = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
POLL = timedelta(seconds=10)
"""How often the sample's clients poll GetStatement (the Glue Jupyter kernel polls every
second; 10 s keeps the sample small, and bounds the what-if's error on a statement's end)."""
DELIVERY_HOURS = 3
"""One file per region per 3 hours (CloudTrail delivers every few minutes; fewer, larger files
keep the sample small and change nothing the what-if reads)."""
SSO_ROLE = "AWSReservedSSO_DataEngineer_0123456789abcdef"
GLUE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/GlueInteractiveSessionRole"

rng = random.Random(20260302)


def sso(name: str, role: str = SSO_ROLE) -> dict[str, Any]:
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLE{role[:4].upper()}:{name}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{name}",
        "accountId": ACCOUNT,
        "accessKeyId": "ASIAEXAMPLEKEY",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAEXAMPLEID",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/{role}",
                "accountId": ACCOUNT,
                "userName": role,
            },
            "attributes": {"creationDate": "2026-03-02T07:55:00Z", "mfaAuthenticated": "false"},
        },
    }


def iam_user(name: str) -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": "AIDAEXAMPLEBOB",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "accountId": ACCOUNT,
        "accessKeyId": "AKIAEXAMPLEBOB",
        "userName": name,
    }


ALICE = sso("alice@example.com")
BOB = iam_user("bob")
CAROL = sso("carol@example.com")
DAVE = sso("dave@example.com", "DataScience")
ERIN = sso("erin@example.com")
FRANK = sso("frank@example.com")
GINA = sso("gina@example.com", "Intern")


def record(
    at: datetime,
    who: dict[str, Any],
    source: str,
    name: str,
    request: dict[str, Any] | None,
    response: dict[str, Any] | None = None,
    *,
    region: str = "us-east-1",
    read_only: bool = False,
    error: tuple[str, str] | None = None,
    event_type: str = "AwsApiCall",
) -> dict[str, Any]:
    """One CloudTrail record (CloudTrail User Guide, "CloudTrail record contents")."""
    out: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": who,
        "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "198.51.100.10",
        "userAgent": "aws-glue-sessions/0.38 Botocore/1.34.0"
        if source == "glue.amazonaws.com"
        else "aws-cli/2.15.0",
        "requestParameters": request,
        "responseElements": None if read_only or error else response,
        "requestID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "eventID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "readOnly": read_only,
        "eventType": event_type,
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if error:
        out["errorCode"], out["errorMessage"] = error
    return out


def logged(rec: dict[str, Any]) -> bool:
    """Read events reach the trail only once it logs them."""
    return not rec["readOnly"] or datetime.fromisoformat(rec["eventTime"]) >= READ_EVENTS_FROM


@dataclass
class Session:
    id: str
    who: dict[str, Any]
    created: datetime
    statements: list[tuple[timedelta, timedelta, bool]]
    """(offset from creation, how long it ran, cancelled)"""
    end: tuple[timedelta, str] | None = None
    workers: int | None = None
    worker_type: str | None = None
    idle_timeout: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    region: str = "us-east-1"


def m(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)


def day(d: int, hh: int, mm: int) -> datetime:
    return datetime(2026, 3, d, hh, mm, tzinfo=UTC)


SESSIONS = [
    # alice left her Monday notebook open when she went home.
    Session(
        "alice-3f2a9c1e",
        ALICE,
        day(2, 9, 0),
        [
            (m(2), m(3), False),
            (m(10), m(12), False),
            (m(31), m(1), False),
            (m(50), m(20), False),
            (m(85), m(2), False),
            (m(110), m(4), False),
            (m(130), m(6), False),
        ],
    ),
    # ... and shut her Wednesday kernel down when done (the kernel deletes its session).
    Session(
        "alice-9b1d04f7",
        ALICE,
        day(4, 9, 30),
        [
            (m(1), m(4), False),
            (m(12), m(9), False),
            (m(30), m(2), False),
            (m(45), m(15), False),
            (m(75), m(3), False),
        ],
        end=(m(100), "DeleteSession"),
    ),
    # bob's scripts: big sessions with their own 2-hour IdleTimeout.
    Session(
        "bob-etl-0302",
        BOB,
        day(2, 10, 0),
        [(m(1), m(5), False), (m(20), m(8), False), (m(42), m(6), False)],
        workers=10,
        worker_type="G.2X",
        idle_timeout=120,
    ),
    Session(
        "bob-etl-0303",
        BOB,
        day(3, 14, 0),
        [(m(2), m(68), False)],
        end=(m(75), "StopSession"),
        workers=10,
        worker_type="G.2X",
        idle_timeout=120,
    ),
    # carol's streaming session is exempt; her ad-hoc one is forgotten after a cancel.
    Session(
        "carol-stream",
        CAROL,
        day(2, 8, 30),
        [(m(5), m(40), False), (m(60), m(30), False)],
        workers=2,
        tags={"idle-reaper:exempt": "true", "team": "platform"},
    ),
    Session(
        "carol-adhoc-7c1",
        CAROL,
        day(3, 15, 0),
        [(m(3), m(8), True), (m(14), m(6), False), (m(26), m(2), False)],
    ),
    # dave opens three tabs on a shared role; his team tags its sessions.
    Session(
        "dave-tab-1",
        DAVE,
        day(3, 9, 0),
        [
            (m(3), m(10), False),
            (m(25), m(15), False),
            (m(60), m(20), False),
            (m(100), m(25), False),
        ],
        end=(m(165), "StopSession"),
        tags={"owner": "analytics-team@example.com"},
    ),
    Session(
        "dave-tab-2",
        DAVE,
        day(3, 9, 5),
        [(m(4), m(3), False)],
        tags={"owner": "analytics-team@example.com"},
    ),
    Session("dave-tab-3", DAVE, day(3, 9, 20), [], tags={"owner": "analytics-team@example.com"}),
    # frank takes a long lunch and comes back to his session.
    Session(
        "frank-0304",
        FRANK,
        day(4, 13, 0),
        [
            (m(2), m(10), False),
            (m(20), m(15), False),
            (m(45), m(10), False),
            (m(125), m(20), False),
            (m(155), m(5), False),
        ],
        end=(m(210), "StopSession"),
    ),
    # erin works in eu-west-1: one session stopped, one left open on the trail's last day.
    Session(
        "erin-eu-0304",
        ERIN,
        day(4, 10, 0),
        [(m(2), m(6), False), (m(15), m(20), False), (m(50), m(10), False)],
        end=(m(120), "StopSession"),
        region="eu-west-1",
    ),
    Session(
        "erin-eu-0305",
        ERIN,
        day(5, 9, 0),
        [(m(2), m(5), False), (m(20), m(12), False), (m(45), m(8), False)],
        region="eu-west-1",
    ),
]


def session_records(s: Session) -> list[dict[str, Any]]:
    glue, region = "glue.amazonaws.com", s.region
    request: dict[str, Any] = {
        "id": s.id,
        "role": GLUE_ROLE,
        "command": {"name": "glueetl", "pythonVersion": "3"},
        "glueVersion": "4.0",
    }
    if s.idle_timeout is not None:
        request["idleTimeout"] = s.idle_timeout
    if s.workers is not None:
        request["numberOfWorkers"] = s.workers
        request["workerType"] = s.worker_type or "G.1X"
    if s.tags:
        request["tags"] = s.tags
    created = s.created.strftime("%b %-d, %Y, %-I:%M:%S %p")
    out = [
        record(
            s.created,
            s.who,
            glue,
            "CreateSession",
            request,
            {"session": {"id": s.id, "status": "PROVISIONING", "createdOn": created}},
            region=region,
        )
    ]
    # The kernel waits for READY with GetSession (a read: logged once read events are).
    for k in range(1, 5):
        out.append(
            record(
                s.created + timedelta(seconds=5 * k),
                s.who,
                glue,
                "GetSession",
                {"id": s.id},
                read_only=True,
                region=region,
            )
        )
    for n, (offset, runs, cancelled) in enumerate(s.statements):
        at = s.created + offset
        out.append(
            record(at, s.who, glue, "RunStatement", {"sessionId": s.id}, {"id": n}, region=region)
        )
        poll = at + timedelta(seconds=1)
        while poll <= at + runs + POLL:
            out.append(
                record(
                    poll,
                    s.who,
                    glue,
                    "GetStatement",
                    {"sessionId": s.id, "id": n},
                    read_only=True,
                    region=region,
                )
            )
            if poll >= at + runs:
                break
            poll += POLL
        if cancelled:
            out.append(
                record(
                    at + runs,
                    s.who,
                    glue,
                    "CancelStatement",
                    {"sessionId": s.id, "id": n},
                    {},
                    region=region,
                )
            )
    if s.end is not None:
        offset, name = s.end
        out.append(
            record(s.created + offset, s.who, glue, name, {"id": s.id}, {"id": s.id}, region=region)
        )
    return out


def failures_and_noise() -> list[dict[str, Any]]:
    glue = "glue.amazonaws.com"
    out = [
        record(
            day(3, 10, 0),
            GINA,
            glue,
            "CreateSession",
            {
                "id": "gina-first-try",
                "role": GLUE_ROLE,
                "command": {"name": "glueetl", "pythonVersion": "3"},
            },
            error=(
                "AccessDeniedException",
                "User: arn:aws:sts::111122223333:assumed-role/Intern/gina@example.com is not"
                " authorized to perform: iam:PassRole",
            ),
        ),
        # bob's script runs on after Glue timed his Monday session out.
        record(
            day(2, 12, 55),
            BOB,
            glue,
            "RunStatement",
            {"sessionId": "bob-etl-0302"},
            error=("IllegalSessionStateException", "Session bob-etl-0302 is in TIMEOUT status"),
        ),
        record(
            day(3, 11, 46),
            DAVE,
            glue,
            "StopSession",
            {"id": "dave-tab-l"},
            error=("EntityNotFoundException", "Session dave-tab-l not found"),
        ),
    ]
    t = START
    while t <= END:
        who = rng.choice([ALICE, BOB, CAROL, DAVE, FRANK])
        out.append(
            record(
                t,
                who,
                "sts.amazonaws.com",
                "AssumeRole",
                {
                    "roleArn": f"arn:aws:iam::{ACCOUNT}:role/GlueInteractiveSessionRole",
                    "roleSessionName": "glue-session",
                },
                {"assumedRoleUser": {"arn": "redacted"}},
            )
        )
        out.append(
            record(
                t + m(7),
                who,
                "s3.amazonaws.com",
                "PutBucketTagging",
                {"bucketName": "analytics-scratch"},
                None,
            )
        )
        out.append(
            record(
                t + m(13),
                who,
                "ec2.amazonaws.com",
                "DescribeInstances",
                {"instancesSet": {}},
                read_only=True,
            )
        )
        out.append(
            record(t + m(21), who, glue, "GetTables", {"databaseName": "sales"}, read_only=True)
        )
        out.append(record(t + m(33), who, glue, "UpdateTable", {"databaseName": "sales"}, {}))
        if t.hour == 8:
            out.append(
                record(
                    t + m(2),
                    who,
                    "signin.amazonaws.com",
                    "ConsoleLogin",
                    None,
                    {"ConsoleLogin": "Success"},
                    event_type="AwsConsoleSignIn",
                )
            )
        t += timedelta(hours=1)
    out.append(record(END, ALICE, "sts.amazonaws.com", "GetCallerIdentity", {}, read_only=True))
    return out


def main() -> None:
    records = [r for s in SESSIONS for r in session_records(s)] + failures_and_noise()
    records = [r for r in records if logged(r)]
    root = HERE / "AWSLogs"
    shutil.rmtree(root, ignore_errors=True)
    files: dict[Path, list[dict[str, Any]]] = {}
    for rec in sorted(records, key=lambda r: r["eventTime"]):
        at = datetime.fromisoformat(rec["eventTime"])
        region = rec["awsRegion"]
        window = at.replace(hour=at.hour - at.hour % DELIVERY_HOURS, minute=0, second=0)
        delivered = window + timedelta(hours=DELIVERY_HOURS, minutes=4)
        folder = root / ACCOUNT / "CloudTrail" / region / delivered.strftime("%Y/%m/%d")
        stamp = delivered.strftime("%Y%m%dT%H%MZ")
        files.setdefault(folder / f"{ACCOUNT}_CloudTrail_{region}_{stamp}", []).append(rec)
    duplicate = next(r for r in records if r["eventName"] == "RunStatement")
    for n, (key, recs) in enumerate(sorted(files.items())):
        unique = f"{n:04d}SAMPLE{rng.getrandbits(24):06X}"  # 16 characters, as CloudTrail's
        body = json.dumps({"Records": recs + ([duplicate] if n == 3 else [])}).encode()
        key.parent.mkdir(parents=True, exist_ok=True)
        if key.parent.parts[-4] == "us-east-1" and key.parent.parts[-1] == "02":
            key.with_name(f"{key.name}_{unique}.json").write_bytes(body)
        else:
            key.with_name(f"{key.name}_{unique}.json.gz").write_bytes(gzip.compress(body, mtime=0))
    # A download cut short, and the digest files a bucket sync brings along.
    cut = root / ACCOUNT / "CloudTrail" / "us-east-1" / "2026/03/05"
    whole = gzip.compress(json.dumps({"Records": records[:40]}).encode(), mtime=0)
    (cut / f"{ACCOUNT}_CloudTrail_us-east-1_20260305T1904Z_PARTIALDOWNLOAD.json.gz").write_bytes(
        whole[: len(whole) // 2]
    )
    digest = root / ACCOUNT / "CloudTrail-Digest" / "us-east-1" / "2026/03/05"
    digest.mkdir(parents=True, exist_ok=True)
    (
        digest / f"{ACCOUNT}_CloudTrail-Digest_us-east-1_trail_us-east-1_20260305T180000Z.json.gz"
    ).write_bytes(
        gzip.compress(
            json.dumps(
                {
                    "awsAccountId": ACCOUNT,
                    "digestStartTime": "2026-03-05T17:00:00Z",
                    "digestEndTime": "2026-03-05T18:00:00Z",
                    "digestS3Bucket": "example-trail-bucket",
                    "logFiles": [],
                    "previousDigestSignature": None,
                }
            ).encode(),
            mtime=0,
        )
    )
    print(f"wrote {len(records)} records in {len(files)} files under {root}")


if __name__ == "__main__":
    main()
