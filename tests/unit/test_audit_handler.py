"""The audit handler as Lambda runs it in the local runtime, against the table the template
declares: once per event, whatever the redelivery, with valid EMF metrics and a correlation id."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from idle_reaper.audit import AuditRecord
from idle_reaper.exceptions import AuditRecordError
from local_runtime.runtime import Account, running
from tests import emf
from tests.conftest import load_event

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TYPES = ("warning", "stopped", "would-stop", "failed", "exempt", "gone")


@pytest.fixture
def account() -> Iterator[Account]:
    with running(T0) as account:
        yield account


def records(account: Account) -> list[AuditRecord]:
    dynamodb = account.clients["dynamodb"]
    table = account.stack.physical_name("AuditTable")
    items = dynamodb.scan(TableName=table)["Items"]
    return [AuditRecord.from_item(i) for i in items]


def emitted(account: Account) -> list[dict[str, Any]]:
    return [json.loads(line) for line in account.functions.logs.lines if '"_aws"' in line]


def test_three_deliveries_of_every_event_write_one_record_each(account: Account) -> None:
    for _ in range(3):
        for kind in TYPES:
            account.functions.invoke("AuditFunction", load_event(f"reaper-{kind}.json"))
    got = sorted(r.type for r in records(account))
    assert got == sorted(TYPES)


def test_metrics_are_emitted_once_per_event_as_valid_emf(account: Account) -> None:
    for _ in range(3):
        account.functions.invoke("AuditFunction", load_event("reaper-stopped.json"))
        account.functions.invoke("AuditFunction", load_event("reaper-warning.json"))
    documents = emitted(account)
    for document in documents:
        emf.validate(document)
    names = [
        m["Name"]
        for d in documents
        for directive in d["_aws"]["CloudWatchMetrics"]
        for m in directive["Metrics"]
    ]
    assert sorted(names) == sorted(
        ["ResourcesStopped", "IdleMinutesReclaimed", "EstimatedSavingsUSD", "Warnings"]
    )
    stopped = next(d for d in documents if "ResourcesStopped" in d)
    assert stopped["kind"] == "glue-session"
    assert ["kind", "service"] in [
        sorted(s) for s in stopped["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    ]
    assert stopped["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "IdleReaper"
    assert stopped["EstimatedSavingsUSD"] == [104.5]


def test_every_log_line_carries_the_watchers_execution_arn(account: Account) -> None:
    event = load_event("reaper-stopped.json")
    account.functions.invoke("AuditFunction", event)
    logs = [json.loads(line) for line in account.functions.logs.lines if '"level"' in line]
    assert logs
    assert {line["correlation_id"] for line in logs} == {event["detail"]["execution_arn"]}


def test_a_malformed_event_fails_the_invocation_so_it_is_retried_then_dead_lettered(
    account: Account,
) -> None:
    with pytest.raises(AuditRecordError):
        account.functions.invoke("AuditFunction", {"id": "x", "detail-type": "stopped"})
    assert records(account) == []


def test_the_notify_handlers_metrics_are_valid_emf_too(account: Account) -> None:
    account.functions.invoke("NotifyFunction", load_event("reaper-stopped.json"))
    documents = emitted(account)
    assert documents
    for document in documents:
        emf.validate(document)


def test_an_event_without_metrics_leaves_no_dimension_to_the_next_warm_invocation(
    account: Account,
) -> None:
    # Powertools clears dimensions only when it flushes metrics: a dimension added for an event
    # that adds none would stay on the warm module and be "added again" by the next event.
    other = load_event("reaper-exempt.json")  # records no metric
    other["detail"]["resource"]["kind"] = "ec2-instance"
    account.functions.invoke("AuditFunction", other)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        account.functions.invoke("AuditFunction", load_event("reaper-stopped.json"))
    assert [str(w.message) for w in caught if "already been added" in str(w.message)] == []
    stopped = emitted(account)[-1]
    assert stopped["kind"] == "glue-session"
