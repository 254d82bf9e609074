"""The savings model: what a stop saved against leaving the session to its own timeout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from idle_reaper.savings import DEFAULT_OWN_IDLE_TIMEOUT_MINUTES, savings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIVE_DPU = 5 * 0.44  # USD per hour


def test_the_forgotten_tab_stopped_after_30_minutes_saves_all_but_the_first_half_hour() -> None:
    # Left alone it bills 48 h ($105.60); stopped at 30 idle minutes it bills $1.10.
    saved = savings(FIVE_DPU, T0, T0 + timedelta(minutes=30), T0, 2880)
    assert saved.usd == 104.50
    assert saved.idle_minutes_reclaimed == 2850.0
    assert saved.would_have_ended_at == T0 + timedelta(minutes=2880)


def test_the_own_timeout_counts_from_the_last_activity_not_the_start() -> None:
    last = T0 + timedelta(hours=3)
    saved = savings(FIVE_DPU, T0, last + timedelta(minutes=30), last, 60)
    assert saved.idle_minutes_reclaimed == 30.0
    assert saved.usd == round(FIVE_DPU * 0.5, 2)


def test_nothing_is_saved_when_the_own_timeout_would_have_come_first() -> None:
    saved = savings(FIVE_DPU, T0, T0 + timedelta(minutes=30), T0, 20)
    assert (saved.usd, saved.idle_minutes_reclaimed) == (0.0, 0.0)


def test_the_one_minute_minimum_applies_to_both_sides() -> None:
    # Stopped 20 s after start: billed as a minute, so it saves 2 minutes less 1, not less 20 s.
    saved = savings(60.0, T0, T0 + timedelta(seconds=20), T0, 2)
    assert saved.usd == 1.0  # $60/h: 2 minutes would have billed $2, the stop billed $1
    assert saved.idle_minutes_reclaimed == round(100 / 60, 1)


def test_amounts_are_rounded_to_the_cent() -> None:
    saved = savings(0.1234, T0, T0 + timedelta(minutes=7), T0, 61)
    assert saved.usd == round(saved.usd, 2)


def test_glues_default_is_48_hours() -> None:
    assert DEFAULT_OWN_IDLE_TIMEOUT_MINUTES == 2880
