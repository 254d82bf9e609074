"""The Keep buttons and what they say: the moments each keeps until, the value each carries
(read back as hostile), and the kept-by tag the next messages quote."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from idle_reaper.keep_choices import CHOICES, VALUE_LIMIT, ButtonValue, choice_of, keep_buttons
from idle_reaper.kept_by import KEPT_BY_TAG, kept_by, kept_by_value
from idle_reaper.policy import KEEP_UNTIL_TAG
from idle_reaper.resource import ResourceRef
from tests.conftest import load_event

REF = ResourceRef(kind="glue-session", id="alice-etl", region="us-east-1", account="123456789012")


@pytest.mark.parametrize(
    ("clicked", "expected"),
    [
        (datetime(2026, 3, 2, 9, 27, tzinfo=UTC), datetime(2026, 3, 2, 10, 27, tzinfo=UTC)),
        (datetime(2026, 3, 2, 9, 27, 0, 1, tzinfo=UTC), datetime(2026, 3, 2, 10, 28, tzinfo=UTC)),
        (datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC), datetime(2026, 3, 3, 1, 0, tzinfo=UTC)),
    ],
)
def test_keep_for_an_hour_is_an_hour_after_the_click_on_a_whole_minute(
    clicked: datetime, expected: datetime
) -> None:
    assert CHOICES["1h"].until(clicked) == expected


@pytest.mark.parametrize(
    "clicked",
    [
        datetime(2026, 3, 2, 0, 30, tzinfo=UTC),
        datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        datetime(2026, 3, 2, 23, 59, tzinfo=UTC),
    ],
)
def test_tomorrow_is_nine_utc_on_the_next_utc_day(clicked: datetime) -> None:
    assert CHOICES["tomorrow"].until(clicked) == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def test_the_labels_say_which_time_zone_and_fit_a_button() -> None:
    assert CHOICES["1h"].label == "Keep for 1 hour"
    assert CHOICES["tomorrow"].label == "Keep until tomorrow 09:00 UTC"
    assert all(len(c.label) <= 75 and len(c.action_id) <= 255 for c in CHOICES.values())


def test_only_keep_action_ids_are_choices() -> None:
    assert choice_of("idle-reaper.keep.1h") is CHOICES["1h"]
    for other in ("idle-reaper.keep.2h", "open-console", "", None, 5):
        assert choice_of(other) is None


def test_the_value_round_trips_and_names_the_run() -> None:
    started = datetime(2026, 3, 2, 9, tzinfo=UTC)
    text = ButtonValue(REF, started).encode()
    assert ButtonValue.parse(text) == ButtonValue(REF, started)
    assert len(text) < VALUE_LIMIT


def test_the_longest_studio_app_id_still_fits_a_button() -> None:
    app = f"d-{'a' * 61}/space/{'s' * 63}/JupyterLab/{'n' * 63}"
    ref = ResourceRef(kind="sagemaker-app", id=app, region="us-east-1", account="123456789012")
    resource = {**ref.to_dict(), "started_at": "2026-03-02T09:00:00Z"}
    (first, second) = keep_buttons(resource)
    assert ButtonValue.parse(first["value"]) is not None
    assert first["value"] == second["value"] and len(first["value"]) <= VALUE_LIMIT


def test_a_warning_without_a_full_resource_gets_no_buttons() -> None:
    assert keep_buttons({}) == []
    assert keep_buttons({"kind": "glue-session", "id": "x"}) == []
    resource = load_event("reaper-warning.json")["detail"]["resource"]
    assert [b["action_id"] for b in keep_buttons(resource)] == [
        "idle-reaper.keep.1h",
        "idle-reaper.keep.tomorrow",
    ]


def test_kept_by_names_who_set_the_current_keep_until() -> None:
    tags = {
        KEEP_UNTIL_TAG: "2026-03-02T10:27:00Z",
        KEPT_BY_TAG: kept_by_value("alice@example.com", "2026-03-02T10:27:00Z"),
    }
    assert kept_by(tags) == "alice@example.com"
    assert kept_by({**tags, KEEP_UNTIL_TAG: "2026-03-02T18:00:00Z"}) is None  # re-tagged by hand
    assert kept_by({KEEP_UNTIL_TAG: "2026-03-02T10:27:00Z"}) is None
    assert kept_by({KEPT_BY_TAG: tags[KEPT_BY_TAG]}) is None


def test_kept_by_keeps_only_what_every_kinds_tag_values_accept() -> None:
    value = kept_by_value("o'brien <!channel>@example.com", "2026-03-02T10:27:00Z")
    assert value == "o_brien___channel_@example.com until 2026-03-02T10:27:00Z"
    assert len(kept_by_value("x" * 1000, "2026-03-02T10:27:00Z")) <= 256
