"""How Inspect reads the two tags the lifecycle script publishes: every branch of read_signal,
its edges, and the values a hostile tagger could write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from idle_reaper.kinds.activity_signal import (
    CLOCK_SKEW,
    FIRST_SIGNAL_GRACE,
    HEARTBEAT_TAG,
    LAST_ACTIVITY_TAG,
    LATE_AFTER,
    LOST_AFTER,
    Signal,
    read_signal,
)

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def tags(heartbeat: datetime | str | None, last: datetime | str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in ((HEARTBEAT_TAG, heartbeat), (LAST_ACTIVITY_TAG, last)):
        if value is not None:
            out[key] = value if isinstance(value, str) else iso(value)
    return out


# -- no heartbeat -------------------------------------------------------------------------
def test_no_heartbeat_within_the_grace_is_not_there_yet() -> None:
    now = START + FIRST_SIGNAL_GRACE - timedelta(seconds=1)

    got = read_signal({}, START, now)

    assert got.unreadable == "no activity signal yet: waiting for its first heartbeat"
    assert got.unwatchable is None and got.last_activity_at is None


def test_no_heartbeat_after_the_grace_is_no_signal() -> None:
    got = read_signal({"owner": "frank@example.com"}, START, START + FIRST_SIGNAL_GRACE)

    assert got.unreadable is None
    assert got.unwatchable is not None
    assert got.unwatchable.startswith("no activity signal: attach idle-reaper's lifecycle")


def test_a_last_activity_alone_is_no_heartbeat() -> None:
    got = read_signal(tags(None, START), START, START + timedelta(hours=1))

    assert got.unwatchable is not None and got.unwatchable.startswith("no activity signal")


def test_a_heartbeat_from_an_earlier_run_is_no_heartbeat() -> None:
    earlier = START - timedelta(seconds=1)

    soon = read_signal(tags(earlier, earlier), START, START + timedelta(minutes=2))
    later = read_signal(tags(earlier, earlier), START, START + timedelta(minutes=30))

    assert soon.unreadable is not None and "first heartbeat" in soon.unreadable
    assert later.unwatchable is not None and later.unwatchable.startswith("no activity signal")


# -- a heartbeat, fresh, late or lost ------------------------------------------------------
def test_a_fresh_heartbeat_gives_the_last_activity() -> None:
    now = START + timedelta(hours=2)
    last = now - timedelta(minutes=42)

    heartbeat = now - timedelta(seconds=30)
    got = read_signal(tags(heartbeat, last), START, now)

    assert got == Signal(last_activity_at=last, reported_until=heartbeat)


def test_a_heartbeat_exactly_late_after_old_is_still_read() -> None:
    now = START + timedelta(hours=2)
    heartbeat = now - LATE_AFTER

    got = read_signal(tags(heartbeat, heartbeat), START, now)

    assert got.last_activity_at == heartbeat


def test_a_late_heartbeat_cannot_be_read_now() -> None:
    now = START + timedelta(hours=2)
    heartbeat = now - LATE_AFTER - timedelta(seconds=1)

    got = read_signal(tags(heartbeat, START), START, now)

    assert got.last_activity_at is None and got.unwatchable is None
    assert got.unreadable == f"the activity signal is late (last heartbeat {iso(heartbeat)})"


def test_a_heartbeat_exactly_lost_after_old_is_only_late() -> None:
    now = START + timedelta(hours=3)

    got = read_signal(tags(now - LOST_AFTER, START), START, now)

    assert got.unreadable is not None and got.unwatchable is None


def test_a_lost_heartbeat_means_the_script_stopped() -> None:
    now = START + timedelta(hours=3)
    heartbeat = now - LOST_AFTER - timedelta(seconds=1)

    got = read_signal(tags(heartbeat, heartbeat), START, now)

    assert got.unreadable is None and got.last_activity_at is None
    assert got.unwatchable is not None
    assert got.unwatchable.startswith(f"the activity signal stopped at {iso(heartbeat)}: attach")


# -- the last activity ---------------------------------------------------------------------
def test_no_last_activity_beside_a_fresh_heartbeat_cannot_be_read() -> None:
    now = START + timedelta(hours=1)

    got = read_signal(tags(now, None), START, now)

    assert got.unreadable == f"the {LAST_ACTIVITY_TAG} tag is not a UTC time before its heartbeat"


def test_a_last_activity_after_its_heartbeat_cannot_be_read() -> None:
    now = START + timedelta(hours=1)
    heartbeat = now - timedelta(minutes=1)

    got = read_signal(tags(heartbeat, heartbeat + CLOCK_SKEW + timedelta(seconds=1)), START, now)

    assert got.unreadable is not None and LAST_ACTIVITY_TAG in got.unreadable


def test_a_last_activity_just_after_its_heartbeat_is_the_instance_clock() -> None:
    now = START + timedelta(hours=1)
    heartbeat = now - timedelta(minutes=3)
    last = heartbeat + CLOCK_SKEW

    got = read_signal(tags(heartbeat, last), START, now)

    assert got.last_activity_at == last


def test_a_last_activity_before_the_start_is_the_start() -> None:
    now = START + timedelta(hours=1)

    got = read_signal(tags(now, START - timedelta(days=3)), START, now)

    assert got.last_activity_at == START


# -- times from the future and malformed values --------------------------------------------
def test_a_heartbeat_from_the_future_is_no_heartbeat() -> None:
    now = START + timedelta(hours=1)
    future = now + CLOCK_SKEW + timedelta(seconds=1)

    got = read_signal(tags(future, now), START, now)

    assert got.unwatchable is not None and got.unwatchable.startswith("no activity signal")


def test_a_heartbeat_within_the_clock_skew_is_accepted() -> None:
    now = START + timedelta(hours=1)
    ahead = now + CLOCK_SKEW

    got = read_signal(tags(ahead, now - timedelta(minutes=5)), START, now)

    assert got.last_activity_at == now - timedelta(minutes=5)


def test_a_last_activity_far_in_the_future_cannot_hold_a_notebook_forever() -> None:
    now = START + timedelta(hours=1)

    got = read_signal(tags(now, "2099-01-01T00:00:00Z"), START, now)

    assert got.last_activity_at is None
    assert got.unreadable is not None


@pytest.mark.parametrize(
    "value",
    [
        "2026-02-30T25:00:00Z",
        "2026-03-02T24:00:00Z",
        "2026-03-02T09:60:00Z",
        "2026-03-02T09:00:00",
        "2026-03-02T09:00:00+00:00",
        "2026-03-02 09:00:00Z",
        "2026-03-02T09:00:00.123Z",
        "2026-03-02T09:00:00z",
        " 2026-03-02T09:00:00Z",
        "2026-03-02T09:00:00Z\n",
        "1772442000",
        "",
        "now",
        "\u0662\u0660\u0662\u0666-\u0660\u0663-\u0660\u0662T\u0660\u0669:\u0660\u0660:\u0660\u0660Z",
    ],
)
def test_a_malformed_heartbeat_is_no_heartbeat(value: str) -> None:
    now = START + timedelta(hours=1)

    got = read_signal(tags(value, now), START, now)

    assert got.last_activity_at is None
    assert got.unwatchable is not None and got.unwatchable.startswith("no activity signal")


@pytest.mark.parametrize(
    "value",
    ["2026-02-30T25:00:00Z", "yesterday", "2026-03-02T09:30:00+00:00", "\uff12026-03-02T09:30:00Z"],
)
def test_a_malformed_last_activity_cannot_be_read(value: str) -> None:
    now = START + timedelta(hours=1)

    got = read_signal(tags(now, value), START, now)

    assert got.last_activity_at is None
    assert got.unreadable is not None and LAST_ACTIVITY_TAG in got.unreadable


def test_a_value_that_is_not_a_string_is_no_value() -> None:
    now = START + timedelta(hours=1)
    hostile = {HEARTBEAT_TAG: 1772445600, LAST_ACTIVITY_TAG: None}

    got = read_signal(hostile, START, now)  # type: ignore[arg-type]

    assert got.unwatchable is not None
