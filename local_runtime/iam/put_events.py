"""EventBridge's PutEvents as IAM sees it: authorized entry by entry, each with its own
`events:source` and `events:detail-type`, and an entry the caller may not publish fails alone.

AWS's documentation: the EventBridge user guide lists both condition keys ("Using IAM policy
conditions in Amazon EventBridge": `events:detail-type` is the literal detail-type of the event,
`events:source` its source), and its example policy for PutEvents conditions on
`ForAllValues:StringEquals` `events:source` and `StringEquals` `events:detail-type`
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-example-policy-cross-account-custom-bus-source.html).
An entry refused for them is reported in the answer, not as an error of the request:
PutEventsResultEntry's ErrorCode `NotAuthorizedForSourceException` ("You do not have
permissions to publish events with this source onto this event bus") or
`NotAuthorizedForDetailTypeException` ("... with this detail type ...")
(https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html).

Which of the two an entry gets is found by asking again with the conditions on one key left
out of every policy: allowed without those on `events:source`, the source was at fault; else
without those on `events:detail-type`, the detail-type. Refused even without both, the caller
may not publish on that bus at all: the whole request is refused, as before (AccessDenied).
One approximation: an explicit Deny conditioned on these keys refuses the whole request here
(left out, its condition no longer limits it), where AWS would fail only the matching entries;
the template has no such Deny.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from local_runtime.iam.policies import Decision
from local_runtime.iam.requests import DETAIL_TYPE_KEY as DETAIL_TYPE
from local_runtime.iam.requests import SOURCE_KEY as SOURCE
from local_runtime.iam.requests import Entry

NOT_FOR_SOURCE = "NotAuthorizedForSourceException"
NOT_FOR_DETAIL_TYPE = "NotAuthorizedForDetailTypeException"
MESSAGES = {
    NOT_FOR_SOURCE: "You do not have permissions to publish events with this source onto this"
    " event bus.",
    NOT_FOR_DETAIL_TYPE: "You do not have permissions to publish events with this detail type"
    " onto this event bus.",
}
REFUSED_ENTRIES = "_idle_reaper_refused_entries"
"""Where authorize() leaves, on moto's handler, the entries it refused (index -> ErrorCode)."""
MAX_ENTRIES = 10
"""PutEvents takes at most 10 entries (moto refuses more, as AWS does)."""

DecideEntry = Callable[[str, Mapping[str, list[str]], frozenset[str]], Decision]
"""(bus ARN, the entry's keys, condition keys to leave out of every policy) -> the decision."""


def decide_entries(
    entries: list[Entry], decide_one: DecideEntry
) -> tuple[Decision, dict[int, str]]:
    """The request's decision, and the entries refused in the answer (index -> ErrorCode). The
    decision refuses only when an entry may not be published on its bus at all."""
    refused: dict[int, str] = {}
    nothing = frozenset[str]()
    for index, (bus, keys) in enumerate(entries):
        decision = decide_one(bus, keys, nothing)
        if decision.allowed:
            continue
        if decide_one(bus, keys, frozenset({SOURCE})).allowed:
            refused[index] = NOT_FOR_SOURCE
        elif decide_one(bus, keys, frozenset({DETAIL_TYPE})).allowed:
            refused[index] = NOT_FOR_DETAIL_TYPE
        elif decide_one(bus, keys, frozenset({SOURCE, DETAIL_TYPE})).allowed:
            refused[index] = NOT_FOR_SOURCE  # both wrong: the source is named first
        else:
            return decision, {}
    return Decision(True), refused


def without_conditions_on(document: str | None, keys: frozenset[str]) -> str | None:
    """The policy with every condition on these keys (any case: IAM key names are not case
    sensitive) taken out; an operator left with no key, and a Condition left empty, go too."""
    if document is None or not keys:
        return document
    body = json.loads(document)
    raw = body.get("Statement", [])
    statements = raw if isinstance(raw, list) else [raw]
    for statement in statements:
        condition = statement.get("Condition")
        if not isinstance(condition, dict):
            continue
        kept = {
            operator: left
            for operator, pairs in condition.items()
            if (left := {k: v for k, v in dict(pairs).items() if k.lower() not in keys})
        }
        if kept:
            statement["Condition"] = kept
        else:
            statement.pop("Condition")
    return json.dumps({**body, "Statement": statements})


def answering_refusals(original: Callable[[Any], str]) -> Callable[[Any], str]:
    """moto's PutEvents handler, answering the entries authorize() refused as AWS does (each
    with its ErrorCode, in its place) and handing moto only the others."""

    def put_events(handler: Any) -> str:
        refused: dict[int, str] = getattr(handler, REFUSED_ENTRIES, None) or {}
        events = handler._get_param("Entries") or []
        if not refused or len(events) > MAX_ENTRIES:
            return original(handler)
        published = [e for i, e in enumerate(events) if i not in refused]
        results = iter(handler.events_backend.put_events(published) if published else [])
        entries = [
            _failed(refused[i]) if i in refused else next(results, _failed("InternalFailure"))
            for i in range(len(events))
        ]
        failed = sum(1 for e in entries if "ErrorCode" in e)
        return json.dumps({"FailedEntryCount": failed, "Entries": entries})

    return put_events


def _failed(code: str) -> dict[str, str]:
    return {"ErrorCode": code, "ErrorMessage": MESSAGES.get(code, "The entry was not processed.")}


__all__ = ["answering_refusals", "decide_entries", "without_conditions_on"]
