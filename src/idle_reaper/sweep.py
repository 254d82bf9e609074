"""The sweeper: every resource that runs without a watcher gets one.

Start events get missed (no trail yet, a rule disabled during a deploy, a resource started
before the stack, an event that ran out of retries), so every SweepMinutes each enabled kind
lists what it has running, and a watcher is started for each resource whose claim no watcher
holds. Claims are read a hundred at a time (one BatchGetItem), not one call each, so a claim is
read up to a hundred looks before its resource is judged: a watcher that claims it meanwhile
meets the sweep's watcher at the claim. The claim (watch.claim_key) is the one guard against two
watchers: a duplicate event, an event after a sweep or two sweeps all meet the watcher's
conditional put (the later one ends `Duplicate`). The sweeper looks at a resource exactly as
Inspect would first (inspection.inspect), so a resource a watcher would end at once (exempt,
gone) starts none; an exempt one is looked at again at the next sweep.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from idle_reaper.claims import READ_AT_ONCE
from idle_reaper.exceptions import ClaimReadError, SweepError
from idle_reaper.inspection import ClientFactory, inspect
from idle_reaper.kinds import all_kinds
from idle_reaper.kinds.base import ResourceKind, Sighting
from idle_reaper.policy import Policy
from idle_reaper.resource import Home, ResourceRef
from idle_reaper.times import to_iso
from idle_reaper.watch import MAX_NAME, claim_key, start_input

logger = logging.getLogger(__name__)


class ClaimBook(Protocol):
    """The claims table as the sweeper reads it (claims.Claims)."""

    def items(self, keys: Sequence[str]) -> Mapping[str, Mapping[str, Any]]:
        """The claim items there are among `keys` (at most READ_AT_ONCE), by key."""
        ...

    def holds(self, key: str, item: Mapping[str, Any] | None) -> bool:
        """A watch holds the claim `key`, read as `item` (None: no item)."""
        ...


Start = Callable[[str, dict[str, Any]], bool]
"""(execution name, input) -> True when started; False when an execution of that name exists."""

SOURCE = "idle-reaper.sweeper"
DETAIL_TYPE = "Resource found running"
NAME_PREFIX = "sweep-"
HASH_CHARS = 40
"""160 bits of the claim key's SHA-256: no two resources share a name by chance."""
MAX_ERROR_TEXT = 300
"""Bytes an error's text takes at most in the log, counted as json.dumps escapes it by default
(6 or 12 bytes a character outside ASCII): never less than Powertools writes (UTF-8, quotes and
controls escaped), so a hostile resource id never floods the log."""
MAX_ERRORS_KEPT = 50
"""Error texts a kind's report keeps (all are counted): at most 15 KB a kind, 60 KB for the four
in the sweep's one log line, under the 256 KB a CloudWatch Logs event could be before the
limit was raised to 1 MB (PutLogEvents API reference)."""


@dataclass
class KindSweep:
    """What one kind's sweep found and did."""

    listed: int = 0
    """Resources the listing gave that run (each counted once)."""
    watched: int = 0
    """A watcher holds their claim: nothing to do."""
    started: int = 0
    """A watcher was started for them (or StartExecution took a retried start as the same)."""
    already_started: int = 0
    """StartExecution answered ExecutionAlreadyExists: this sweep minute's start exists."""
    skipped: dict[str, int] = field(default_factory=dict)
    """By the outcome Inspect's first look gave (exempt, gone, ignored): no watcher needed."""
    errors: list[str] = field(default_factory=list)
    """The first MAX_ERRORS_KEPT failures, as text."""
    failed: int = 0
    """Every failure, kept as text or not."""
    unread: int = 0
    """Resources whose claims could not be read (a page's read failed): not judged this sweep."""

    def fail(self, where: str, exc: Exception) -> None:
        """Count a failure; keep its text while fewer than MAX_ERRORS_KEPT are kept."""
        self.failed += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(_cut(f"{where}: {type(exc).__name__}: {exc}"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "listed": self.listed,
            "watched": self.watched,
            "started": self.started,
            "already_started": self.already_started,
            "skipped": dict(self.skipped),
            "failed": self.failed,
            "unread": self.unread,
            "errors": list(self.errors),
        }


@dataclass
class SweepReport:
    """Every kind's sweep, logged by the handler and returned as its result."""

    swept_at: datetime
    kinds: dict[str, KindSweep] = field(default_factory=dict)
    disabled: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(tally.failed for tally in self.kinds.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "swept_at": to_iso(self.swept_at),
            "kinds": {name: tally.to_dict() for name, tally in self.kinds.items()},
            "disabled": list(self.disabled),
            "errors": self.errors,
        }


def sweep(
    client_for: ClientFactory,
    home: Home,
    policy: Policy,
    claims: ClaimBook,
    start: Start,
    now: datetime,
) -> SweepReport:
    """List every enabled kind's running resources in `home` and start a watcher for each one
    that has none. One kind failing (its listing throttled or denied, one resource's look or
    start failing) never stops the rest: every failure is counted in the report, and once
    every kind was swept SweepError is raised carrying the report (`.report`)."""
    report = SweepReport(swept_at=now)
    for kind in sorted(all_kinds(), key=lambda k: k.name):
        if kind.name in policy.disabled_kinds:
            report.disabled.append(kind.name)
            continue
        report.kinds[kind.name] = _sweep_kind(kind, client_for, home, policy, claims, start, now)
    if report.errors:
        raise SweepError(_failure_summary(report), report)
    return report


def _sweep_kind(
    kind: ResourceKind,
    client_for: ClientFactory,
    home: Home,
    policy: Policy,
    claims: ClaimBook,
    start: Start,
    now: datetime,
) -> KindSweep:
    tally = KindSweep()
    found: dict[str, Sighting] = {}
    try:
        for sighting in kind.running(lambda service: client_for(service, home.region), home):
            # a listing that shifted between pages may give one resource twice: counted once
            found.setdefault(claim_key(sighting.ref, sighting.started_at), sighting)
    except Exception as exc:  # the listing itself (throttled, denied): counted, the rest looked at
        tally.fail("listing", exc)
    tally.listed = len(found)
    keys = list(found)
    for first in range(0, len(keys), READ_AT_ONCE):
        page = keys[first : first + READ_AT_ONCE]
        try:
            items: Mapping[str, Mapping[str, Any]] | None = claims.items(page)
        except ClaimReadError:  # a bad key or a bad answer: one by one, it costs only its own
            items = None
        except Exception as exc:  # throttled, timed out: one error, the next page is tried
            tally.fail(f"claims of {len(page)}", exc)
            tally.unread += len(page)
            continue
        for key in page:
            sighting = found[key]
            try:
                item = (items if items is not None else claims.items([key])).get(key)
                _consider(sighting, key, item, tally, client_for, home, policy, claims, start, now)
            except Exception as exc:  # one resource never stops the others: counted
                tally.fail(sighting.ref.id[:80], exc)
    return tally


def _consider(
    sighting: Sighting,
    key: str,
    item: Mapping[str, Any] | None,
    tally: KindSweep,
    client_for: ClientFactory,
    home: Home,
    policy: Policy,
    claims: ClaimBook,
    start: Start,
    now: datetime,
) -> None:
    """Skip a watched resource, look at an unwatched one as Inspect would, start a watcher
    unless that look ends the watch at once."""
    if claims.holds(key, item):
        tally.watched += 1
        return
    looked = inspect({"resource": sighting.ref.to_dict()}, client_for, policy, home, now)
    verdict = looked["verdict"]
    if verdict["action"] == "done":
        outcome = str(verdict.get("outcome") or "done")
        tally.skipped[outcome] = tally.skipped.get(outcome, 0) + 1
        return
    claim = looked.get("claim")
    looked_key = claim.get("key") if isinstance(claim, Mapping) else None
    if isinstance(looked_key, str) and looked_key != key:  # it moved on since the listing
        if claims.holds(looked_key, claims.items([looked_key]).get(looked_key)):
            tally.watched += 1
            return
        key = looked_key
    name = execution_name(key, now)
    if start(name, start_input(found_event(sighting.ref, name, now))):
        tally.started += 1
    else:
        tally.already_started += 1


def execution_name(key: str, now: datetime) -> str:
    """A Step Functions execution name (1 to 80 of [A-Za-z0-9-_]) from the claim key and the
    sweep's minute: a retried sweep in the same minute asks for the same execution, which
    StartExecution runs once. Later sweeps meet the watcher's claim instead."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:HASH_CHARS]
    return f"{NAME_PREFIX}{digest}-{now.strftime('%Y%m%dT%H%M')}"[:MAX_NAME]


def found_event(ref: ResourceRef, name: str, now: datetime) -> dict[str, Any]:
    """The start event a sweep writes for a resource found running, shaped like an
    EventBridge event (what the watcher carries and reaper events quote). Its time is the
    sweep's minute, so a same-minute retry gives the same input too."""
    return {
        "version": "0",
        "id": name,
        "source": SOURCE,
        "detail-type": DETAIL_TYPE,
        "account": ref.account,
        "region": ref.region,
        "time": to_iso(now.replace(second=0, microsecond=0)),
        "resources": [],
        "detail": {},
        "resource": ref.to_dict(),
    }


def _cut(text: str) -> str:
    """`text`, cut so that escaped as JSON (ASCII only, the larger count) it takes at most
    MAX_ERROR_TEXT bytes."""
    kept, size = [], 2  # the quotes
    for char in text:
        size += len(json.dumps(char)) - 2
        if size > MAX_ERROR_TEXT:
            break
        kept.append(char)
    return "".join(kept)


def _failure_summary(report: SweepReport) -> str:
    failed = [f"{name} ({t.failed})" for name, t in report.kinds.items() if t.failed]
    return f"the sweep met {report.errors} error(s): {', '.join(failed)}"
