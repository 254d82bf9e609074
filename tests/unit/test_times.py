from __future__ import annotations

from datetime import UTC, datetime

from idle_reaper.times import from_epoch, from_iso_second, parse_iso, to_iso


def test_to_iso_is_whole_seconds_with_z_and_rounds_up() -> None:
    assert to_iso(datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)) == "2026-03-02T09:00:00Z"
    # a wait must never end before the moment it waits for
    assert to_iso(datetime(2026, 3, 2, 9, 0, 0, 1000, tzinfo=UTC)) == "2026-03-02T09:00:01Z"


def test_glue_longs_in_milliseconds_and_in_seconds_mean_the_same_moment() -> None:
    moment = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    seconds = int(moment.timestamp())
    assert from_epoch(seconds) == moment
    assert from_epoch(seconds * 1000) == moment
    assert from_epoch(seconds * 1000 + 250).microsecond == 250_000


def test_parse_iso_accepts_z_and_offsets() -> None:
    assert parse_iso("2026-03-02T09:00:00Z") == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert parse_iso("2026-03-02T10:00:00+01:00") == datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_a_time_from_an_untrusted_field_is_a_datetime_or_an_epoch_or_nothing() -> None:
    from idle_reaper.times import moment_of

    aware = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert moment_of(aware) == aware
    assert moment_of(aware.replace(tzinfo=None)) == aware  # boto3's naive times are UTC
    assert moment_of(1772442000) == moment_of(1772442000000) == aware
    for junk in (True, "2026-03-02", 0, -5, 10**15, None, [1]):
        assert moment_of(junk) is None, junk


def test_a_time_from_a_tag_or_carried_state_is_read_only_as_to_iso_writes_it() -> None:
    moment = datetime(2026, 3, 2, 9, 45, tzinfo=UTC)
    assert from_iso_second(to_iso(moment)) == moment
    for junk in (
        "2026-03-02T09:45:00+00:00",
        "2026-03-02t09:45:00z",
        "2026-03-02T09:45:00.5Z",
        "9999-12-31T23:59:59-23:59",
        "2026-02-30T25:00:00Z",
        "\uff12\uff10\uff12\uff16-03-02T09:45:00Z",  # full-width digits: strptime reads them
        "",
        None,
        7,
    ):
        assert from_iso_second(junk) is None, junk
