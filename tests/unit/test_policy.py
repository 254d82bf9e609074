from __future__ import annotations

import pytest

from idle_reaper.exceptions import PolicyError
from idle_reaper.policy import IDLE_MINUTES_TAG, Policy


def test_defaults_match_the_template() -> None:
    policy = Policy.from_env({})
    assert policy.idle_minutes == {"glue-session": 30}
    assert policy.warning_minutes == 5
    assert policy.dry_run is False
    assert policy.exempt_tag_key == "idle-reaper:exempt"


def test_environment_sets_the_policy() -> None:
    env = {
        "GLUE_IDLE_MINUTES": "45",
        "WARNING_MINUTES": "0",
        "DRY_RUN": "TRUE",
        "EXEMPT_TAG_KEY": "keep",
    }
    policy = Policy.from_env(env)
    assert policy.idle_minutes["glue-session"] == 45
    assert policy.warning_minutes == 0
    assert policy.dry_run is True
    assert policy.is_exempt({"keep": "true"}) and not policy.is_exempt({"keep": "no"})


@pytest.mark.parametrize(
    "env", [{"GLUE_IDLE_MINUTES": "ten"}, {"GLUE_IDLE_MINUTES": "0"}, {"WARNING_MINUTES": "-1"}]
)
def test_bad_settings_are_refused_not_guessed(env: dict[str, str]) -> None:
    with pytest.raises(PolicyError):
        Policy.from_env(env)


@pytest.mark.parametrize(
    ("tag", "minutes", "noted"),
    [
        ("90", 90, False),
        (" 15 ", 15, False),
        ("0", 30, True),
        ("soon", 30, True),
        ("5000", 1440, True),
        ("1_0", 30, True),  # int() would take these three
        ("+5", 30, True),
        ("\u0663", 30, True),
        ("9" * 5000, 30, True),
    ],
)
def test_idle_minutes_tag(tag: str, minutes: int, noted: bool) -> None:
    got, note = Policy.from_env({}).idle_minutes_for("glue-session", {IDLE_MINUTES_TAG: tag})
    assert got == minutes
    assert (note is not None) is noted
