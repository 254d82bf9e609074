"""An exported CloudTrail history, read for `make whatif`: the Glue interactive-session calls
in it, and a count of every file and record that could not be used, by reason.

A trail delivers `{"Records": [...]}` files, gzipped, under
`AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/` (CloudTrail User Guide, "Finding your
CloudTrail log files" and "CloudTrail log file examples"); a gunzipped copy is the same object
as plain JSON. Both are read here, in any folder layout, gzip told by its magic bytes rather
than the file's name, and the records put in time order (the guide: "events don't appear in
any specific order"). Every file and every record is hostile: a file that is not JSON,
is truncated, or holds no `Records` list, and a record that is not an object, lacks a field,
carries a value out of bounds, failed (`errorCode`), belongs to another service or is a Glue
call the what-if does not use, is counted under its reason and skipped; nothing here raises
on content. Records CloudTrail delivered twice (the same `eventID`, which the guide says can
happen) count once.

Field names are CloudTrail's record contents (eventTime, eventSource, eventName, awsRegion,
userIdentity, requestParameters, responseElements, errorCode, recipientAccountId, eventID:
CloudTrail User Guide, "CloudTrail record contents"); request and response members are Glue's
API members in lower camel case, as CloudTrail writes them (DeleteCrawler's `Name` is `"name"`
in the example of the AWS Glue Developer Guide, "Logging AWS Glue API calls with AWS
CloudTrail"; events/glue-create-session.json). Only fields every record version has are
required: that example (eventVersion 1.05) has no readOnly or managementEvent.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from idle_reaper.resource import is_account, json_object, principal_or_none
from idle_reaper.times import parse_iso
from local_runtime.errors import ScenarioError
from local_runtime.scenario import EARLIEST_START, LATEST_START

GLUE_SOURCE = "glue.amazonaws.com"
GLUE_CALLS = frozenset(
    {
        "CreateSession",
        "RunStatement",
        "GetStatement",
        "CancelStatement",
        "StopSession",
        "DeleteSession",
    }
)
"""The Glue calls a session's life is rebuilt from; any other Glue call is skipped."""
MAX_FILE_BYTES = 256 * 1024 * 1024
"""Our own bound on one file, decompressed: a gzip bomb or a runaway export is refused (and
counted), never read into memory whole. CloudTrail's own files, delivered every few minutes,
are far smaller."""
MAX_TIME_TEXT = 40
"""An eventTime longer than this is no timestamp (CloudTrail writes `2026-03-02T09:00:00Z`)."""
GZIP_MAGIC = b"\x1f\x8b"

REASONS = {
    "unreadable": "unreadable file",
    "not_json": "not JSON (or truncated)",
    "too_large": f"file over {MAX_FILE_BYTES // (1024 * 1024)} MiB decompressed",
    "no_records": "JSON without a Records list",
    "not_object": "record is not an object",
    "duplicate": "duplicate eventID",
    "missing_field": "missing field",
    "bad_value": "bad value",
    "failed_call": "failed call (errorCode)",
    "other_service": "other service",
    "unknown_event": "unknown event (a Glue call the what-if does not use)",
    "unpriced_worker_type": "worker type without a price in the product",
    "session_not_in_trail": "session not created in the trail",
    "statement_not_in_trail": "statement not run in the trail",
    "after_session_end": "call after the session's stop",
}
"""Why a file or a record was not used: the key counts, the label is what a person reads."""


@dataclass(frozen=True)
class Place:
    """Where a call happened: the account and region a reaper would be deployed in to see it."""

    account: str
    region: str

    def __str__(self) -> str:
        return f"{self.account}/{self.region}"


@dataclass(frozen=True)
class GlueCall:
    """One successful Glue call of a session's life, as the trail recorded it."""

    name: str
    at: datetime
    place: Place
    principal: str | None
    request: Mapping[str, Any]
    response: Mapping[str, Any]
    order: int
    """Its position in reading order: calls in the same second keep the trail's order."""


@dataclass
class TrailHistory:
    """What a trail folder held: its Glue calls and what was skipped, by reason."""

    files: int = 0
    records: int = 0
    calls: list[GlueCall] = field(default_factory=list)
    bad_files: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    first: datetime | None = None
    last: datetime | None = None
    """The earliest and latest eventTime of any record (any service, failed calls too): the
    span the trail covers."""

    def saw(self, moment: datetime) -> None:
        self.first = moment if self.first is None else min(self.first, moment)
        self.last = moment if self.last is None else max(self.last, moment)


def read_trail(
    root: Path, known_regions: frozenset[str], progress: TextIO | None = sys.stderr
) -> TrailHistory:
    """Every Glue call in the trail under `root` (a folder, or one file), in time order."""
    files = trail_files(root)
    history = TrailHistory()
    seen_ids: set[str] = set()
    step = max(1, len(files) // 10)
    for n, path in enumerate(files, 1):
        history.files += 1
        records = _records(path, history.bad_files)
        for record in records or ():
            history.records += 1
            _take(record, history, seen_ids, known_regions)
        if progress is not None and (n % step == 0 or n == len(files)):
            progress.write(
                f"[whatif] read {n}/{len(files)} files, {history.records:,} records,"
                f" {len(history.calls):,} Glue session calls\n"
            )
            progress.flush()
    history.calls.sort(key=lambda c: (c.at, c.order))
    return history


def trail_files(root: Path) -> list[Path]:
    """The `.json` and `.json.gz` files under `root`, in name order (symlinked folders are
    not followed); `root` itself when it is a file."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise ScenarioError(f"{root}: no such folder or file")
    found: list[Path] = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(names):
            if name.lower().endswith((".json", ".json.gz")):
                found.append(Path(folder) / name)
    return found


def _records(path: Path, bad: Counter[str]) -> list[Any] | None:
    """The file's Records, or None (counted in `bad` by reason)."""
    try:
        with path.open("rb") as raw:
            compressed = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            stream: Any = gzip.GzipFile(fileobj=raw) if compressed else raw
            data = stream.read(MAX_FILE_BYTES + 1)
    except (EOFError, zlib.error, gzip.BadGzipFile):
        bad["not_json"] += 1
        return None
    except OSError:
        bad["unreadable"] += 1
        return None
    if len(data) > MAX_FILE_BYTES:
        bad["too_large"] += 1
        return None
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        bad["not_json"] += 1
        return None
    records = document.get("Records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        bad["no_records"] += 1
        return None
    return records


def _take(
    record: Any, history: TrailHistory, seen_ids: set[str], known_regions: frozenset[str]
) -> None:
    """Keep the record as a GlueCall, or count why not."""
    if not isinstance(record, dict):
        history.skipped["not_object"] += 1
        return
    event_id = record.get("eventID")
    if isinstance(event_id, str) and event_id:
        if event_id in seen_ids:
            history.skipped["duplicate"] += 1
            return
        seen_ids.add(event_id)
    moment = event_time(record.get("eventTime"))
    if moment is not None:
        history.saw(moment)
    reason = _unused(record)
    if reason is None and moment is None:
        reason = "bad_value" if "eventTime" in record else "missing_field"
    place = place_of(record, known_regions)
    if reason is None and place is None:
        reason = _place_reason(record)
    request = record.get("requestParameters")
    if reason is None and not isinstance(request, dict):
        reason = "missing_field"
    if reason is not None or moment is None or place is None or not isinstance(request, dict):
        history.skipped[reason or "missing_field"] += 1
        return
    history.calls.append(
        GlueCall(
            name=str(record["eventName"]),
            at=moment,
            place=place,
            principal=principal_or_none(json_object(record.get("userIdentity")).get("arn")),
            request=request,
            response=json_object(record.get("responseElements")),
            order=history.records,
        )
    )


def _unused(record: Mapping[str, Any]) -> str | None:
    """Why a record is not a successful Glue session call; None when it is one."""
    source, name = record.get("eventSource"), record.get("eventName")
    if not isinstance(source, str) or not isinstance(name, str):
        return "missing_field"
    if source != GLUE_SOURCE:
        return "other_service"
    if name not in GLUE_CALLS or record.get("eventType", "AwsApiCall") != "AwsApiCall":
        return "unknown_event"
    if record.get("errorCode"):
        return "failed_call"
    return None


def event_time(value: object) -> datetime | None:
    """An eventTime inside the years a scenario may start in, or None."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_TIME_TEXT:
        return None
    try:
        moment = parse_iso(value)
    except (ValueError, OverflowError):
        return None
    return moment if EARLIEST_START <= moment < LATEST_START else None


def place_of(record: Mapping[str, Any], known_regions: frozenset[str]) -> Place | None:
    """The record's region (a region botocore knows: a stack is deployed there) and account
    (recipientAccountId, else the caller's own account)."""
    region = record.get("awsRegion")
    account = record.get("recipientAccountId")
    if account is None:
        account = json_object(record.get("userIdentity")).get("accountId")
    if not isinstance(region, str) or region not in known_regions or not is_account(account):
        return None
    return Place(account=str(account), region=region)


def _place_reason(record: Mapping[str, Any]) -> str:
    """A missing region or account is a missing field; one that is there but wrong, a bad value."""
    identity = json_object(record.get("userIdentity"))
    if "awsRegion" not in record or (
        "recipientAccountId" not in record and "accountId" not in identity
    ):
        return "missing_field"
    return "bad_value"


def iter_reasons(counts: Counter[str]) -> Iterator[tuple[str, int]]:
    """(label, count) by count, largest first; ties in label order."""
    for key, count in sorted(counts.items(), key=lambda kv: (-kv[1], REASONS.get(kv[0], kv[0]))):
        if count:
            yield REASONS.get(key, key), count
