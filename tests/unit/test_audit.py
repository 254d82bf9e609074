"""The audit record: its keys answer the two questions without a scan, and it carries what
an auditor and a FinOps lead need."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from idle_reaper.audit import AuditRecord, metrics_for, record_for, week_of, weeks_between
from idle_reaper.exceptions import AuditRecordError, MalformedEventError
from tests.conftest import load_event

ACCOUNT = "123456789012"


def test_a_stop_is_keyed_by_session_and_by_account_week() -> None:
    record = record_for(load_event("reaper-stopped.json"), 400)
    assert record.pk == f"glue-session#{ACCOUNT}#us-east-1#gone-home"
    assert record.sk == "2026-03-02T09:30:00Z#4c42e2f2-fb8b-4ad4-8477-90f7604fda27"
    assert record.week == f"{ACCOUNT}#2026-W10"
    assert (record.type, record.owner, record.savings_usd) == (
        "stopped",
        "frank@example.com",
        104.5,
    )
    assert record.idle_minutes_reclaimed == 2850.0
    assert record.execution_arn and record.execution_arn.startswith("arn:aws:states:")


def test_the_record_expires_after_the_retention() -> None:
    record = record_for(load_event("reaper-stopped.json"), 30)
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC).timestamp()
    assert record.expires_at == int(at) + 30 * 86400


def test_only_a_real_stop_counts_as_savings_a_dry_run_as_potential() -> None:
    dry = record_for(load_event("reaper-would-stop.json"), 400)
    assert (dry.savings_usd, dry.potential_savings_usd) == (None, 104.5)
    warning = record_for(load_event("reaper-warning.json"), 400)
    assert (warning.savings_usd, warning.potential_savings_usd) == (None, None)


def test_a_failure_keeps_its_error() -> None:
    record = record_for(load_event("reaper-failed.json"), 400)
    assert record.type == "failed"
    assert record.error and record.error.startswith("Glue.")


def test_the_item_round_trips_through_dynamodb_types() -> None:
    record = record_for(load_event("reaper-stopped.json"), 400)
    item = record.to_item()
    assert item["savings_usd"] == {"N": "104.5"}
    assert item["expires_at"]["N"].isdigit()
    assert "error" not in item  # no empty attributes
    assert AuditRecord.from_item(item) == record


def test_redelivery_gives_the_same_key() -> None:
    event = load_event("reaper-warning.json")
    assert record_for(event, 400).sk == record_for(dict(event), 30).sk


def test_weeks_follow_iso_weeks_across_a_year_end() -> None:
    assert week_of(ACCOUNT, datetime(2026, 12, 31, tzinfo=UTC)) == f"{ACCOUNT}#2026-W53"
    assert week_of(ACCOUNT, datetime(2027, 1, 4, tzinfo=UTC)) == f"{ACCOUNT}#2027-W01"
    weeks = list(
        weeks_between(
            ACCOUNT, datetime(2026, 12, 30, tzinfo=UTC), datetime(2027, 1, 12, tzinfo=UTC)
        )
    )
    assert weeks == [f"{ACCOUNT}#2026-W53", f"{ACCOUNT}#2027-W01", f"{ACCOUNT}#2027-W02"]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            "stopped",
            {"ResourcesStopped": 1, "IdleMinutesReclaimed": 2850.0, "EstimatedSavingsUSD": 104.5},
        ),
        ("warning", {"Warnings": 1}),
        ("failed", {"StopFailures": 1}),
        ("would-stop", {"WouldStop": 1}),
        ("exempt", {}),
        ("gone", {}),
    ],
)  # fmt: skip
def test_metrics_for_each_event_type(kind: str, expected: dict[str, float]) -> None:
    record = record_for(load_event(f"reaper-{kind}.json"), 400)
    assert {name: value for name, _, value in metrics_for(record)} == expected


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"id": "x", "detail-type": "stopped"},
        {"id": "x", "detail-type": "stopped", "detail": "a string"},
        {"id": "x", "detail": {"at": "2026-03-02T09:30:00Z"}},
        {"id": "x", "detail-type": "stopped", "detail": {"at": "yesterday"}},
    ],
)
def test_what_is_not_a_reaper_event_is_refused_not_recorded_wrong(event: dict[str, Any]) -> None:
    # the same refusal as the notify function's: both dead-letter the same events
    with pytest.raises(AuditRecordError) as refused:
        record_for(event, 400)
    assert isinstance(refused.value, MalformedEventError)


def test_a_failure_before_the_first_verdict_is_keyed_by_the_session_it_was_watching() -> None:
    record = record_for(load_event("reaper-failed-before-verdict.json"), 400)
    assert record.pk == f"glue-session#{ACCOUNT}#us-east-1#alice-etl"
    assert (record.kind, record.resource_id, record.owner) == (
        "glue-session",
        "alice-etl",
        "alice@example.com",
    )
    assert record.error and record.error.startswith("ResourceReadError: ")
    assert record.notes is None


def test_an_event_without_an_id_is_recorded_under_its_content_key_once() -> None:
    event = load_event("reaper-stopped.json")
    del event["id"]
    record = record_for(event, 400)
    assert record.event_id.startswith("sha256:")
    assert record.sk == f"2026-03-02T09:30:00Z#{record.event_id}"
    assert record_for(dict(event), 400).sk == record.sk  # a redelivery: the same key
    other = load_event("reaper-warning.json")
    del other["id"]
    assert record_for(other, 400).sk != record.sk
    assert record.notes == "no event id: keyed by the sha256 of its content"


@pytest.mark.parametrize("part", ["resource", "verdict", "error"])
def test_a_damaged_part_is_recorded_as_absent_with_a_note(part: str) -> None:
    # without its resource, a failed event is readable only from the start event it carries
    sample = "reaper-failed-before-verdict.json" if part == "resource" else "reaper-failed.json"
    event = load_event(sample)
    event["detail"][part] = "not an object"
    record = record_for(event, 400)
    assert record.notes == f"detail.{part} was a string, not an object: treated as absent"
    assert record.to_item()["notes"] == {"S": record.notes}


def test_values_of_the_wrong_type_never_reach_the_table_as_that_type() -> None:
    event = load_event("reaper-stopped.json")
    event["detail"]["verdict"].update(cost_usd=True, idle_minutes="30", reason={"x": 1})
    record = record_for(event, 400)
    assert (record.cost_usd, record.allowed_idle_minutes, record.reason) == (None, None, None)


def test_a_time_at_the_end_of_the_calendar_is_refused_not_an_overflow() -> None:
    event = load_event("reaper-stopped.json")
    event["detail"]["at"] = "9999-12-31T23:59:59Z"
    with pytest.raises(AuditRecordError, match="no usable time"):
        record_for(event, 400)


def test_a_keep_is_recorded_with_who_until_when_and_from_where() -> None:
    record = record_for(load_event("reaper-kept.json"), 400)
    assert record.type == "kept"
    assert record.pk == "glue-session#123456789012#us-east-1#watched-only"
    assert (record.kept_until, record.kept_by, record.kept_from) == (
        "2026-03-02T10:37:00Z",
        "analyst@example.com",
        "slack:T0EXAMPLE1/C0REAPER01",
    )
    assert record.owner == "analyst@example.com"
    assert record.reason == (
        "kept until 2026-03-02T10:37:00Z by analyst@example.com from slack:T0EXAMPLE1/C0REAPER01"
    )
    assert metrics_for(record) == [("Keeps", "Count", 1)]
    assert AuditRecord.from_item(record.to_item()) == record


def test_only_a_kept_event_fills_the_keep_fields() -> None:
    event = load_event("reaper-warning.json")
    event["detail"]["keep"] = {"until": "2026-03-02T10:37:00Z", "by": "mallory@example.com"}
    record = record_for(event, 400)
    assert (record.kept_until, record.kept_by, record.kept_from) == (None, None, None)


def test_the_last_warning_of_a_resource_is_found_newest_first() -> None:
    import boto3
    from moto import mock_aws

    from idle_reaper.audit import latest_warning

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="audit",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        )
        warning = load_event("reaper-warning.json")
        pk = record_for(warning, 400).pk
        assert latest_warning(dynamodb, "audit", pk) is None
        for minute, owner in ((35, "first@example.com"), (50, "second@example.com")):
            event = load_event("reaper-warning.json")
            event["id"] = f"warning-{minute}"
            event["detail"]["at"] = f"2026-03-02T09:{minute}:00Z"
            event["detail"]["resource"]["owner"] = owner
            dynamodb.put_item(TableName="audit", Item=record_for(event, 400).to_item())
        kept = load_event("reaper-kept.json")
        kept["detail"]["at"] = "2026-03-02T09:55:00Z"
        dynamodb.put_item(TableName="audit", Item=record_for(kept, 400).to_item())
        found = latest_warning(dynamodb, "audit", pk)
        assert found is not None and (found.type, found.owner) == ("warning", "second@example.com")
        assert latest_warning(dynamodb, "audit", pk + "-other") is None


@pytest.mark.parametrize("sample", ["reaper-stopped.json", "reaper-failed.json"])
def test_an_event_naming_no_resource_and_carrying_no_start_event_is_refused(
    sample: str,
) -> None:
    """The notify function refuses it too: both dead-letter the same events, so an audit
    record never says "unknown" was stopped."""
    event = load_event(sample)
    event["detail"]["resource"] = {}
    event["detail"].pop("event", None)
    with pytest.raises(AuditRecordError, match="names no resource"):
        record_for(event, 400)


def test_an_ignored_event_naming_no_resource_is_still_recorded() -> None:
    event = load_event("reaper-stopped.json")
    event["detail-type"] = event["detail"]["outcome"] = "ignored"
    event["detail"]["resource"] = None
    record = record_for(event, 400)
    assert (record.type, record.resource_id) == ("ignored", "unknown")
