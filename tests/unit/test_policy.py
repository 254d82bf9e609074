from __future__ import annotations

from datetime import datetime

import pytest

from idle_reaper.exceptions import PolicyError
from idle_reaper.policy import IDLE_MINUTES_TAG, Policy, rfc3339_moment


def test_defaults_match_the_template() -> None:
    from local_runtime import stack as stack_module
    from tests.conftest import ROOT

    policy = Policy.from_env({})
    template = Policy.from_env(
        stack_module.load(ROOT / "template.yaml").resources["InspectFunction"]["Properties"][
            "Environment"
        ]["Variables"]
    )
    assert policy == template
    assert policy.idle_minutes == {
        "glue-session": 30,
        "sagemaker-notebook": 60,
        "sagemaker-app": 60,
        "ec2-instance": 60,
    }
    assert policy.disabled_kinds == frozenset()
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


@pytest.mark.parametrize(
    ("switch", "off"),
    [
        ("EnableSageMaker", {"sagemaker-notebook", "sagemaker-app"}),
        ("EnableEc2", {"ec2-instance"}),
    ],
)
def test_a_family_switched_off_in_the_template_is_off_in_the_policy(
    switch: str, off: set[str]
) -> None:
    from local_runtime import stack as stack_module
    from tests.conftest import ROOT

    stack = stack_module.load(ROOT / "template.yaml", {switch: "false"})
    env = stack.resources["InspectFunction"]["Properties"]["Environment"]["Variables"]
    assert Policy.from_env(env).disabled_kinds == off


def test_a_switched_off_kind_is_ignored_without_a_single_read() -> None:
    """The stack has no permission to read or stop it: Inspect ends the watch at once."""
    from idle_reaper.inspection import inspect
    from tests.conftest import load_event

    def no_client(service: str, region: str) -> None:
        raise AssertionError(f"read {service} in {region}")

    policy = Policy.from_env({"EC2_ENABLED": "false"})
    out = inspect({"event": load_event("ec2-instance-running.json")}, no_client, policy)
    assert (out["verdict"]["action"], out["verdict"]["outcome"]) == ("done", "ignored")
    assert "ec2-instance is switched off" in out["verdict"]["reason"]


@pytest.mark.parametrize(
    ("value", "exempt"),
    [
        ("true", True),
        ("TRUE", True),
        (" true", True),
        ("true\n", True),
        ("yes", False),
        ("t rue", False),
        ("", False),
        ("\uff54\uff52\uff55\uff45", False),
    ],
)
def test_the_exempt_value_is_true_in_any_case_whitespace_around_it_aside(
    value: str, exempt: bool
) -> None:
    policy = Policy.from_env({})
    assert policy.is_exempt({"idle-reaper:exempt": value}) is exempt
    assert (policy.exempt_note({"idle-reaper:exempt": value}) is None) is exempt


@pytest.mark.parametrize(
    ("raw", "moment"),
    [
        ("2026-03-02T18:00:00Z", "2026-03-02T18:00:00+00:00"),
        ("2026-03-02t18:00:00z", "2026-03-02T18:00:00+00:00"),
        (" 2026-03-02 19:30+01:00 ", "2026-03-02T18:30:00+00:00"),
        ("2026-03-02T18:00:00.123456789Z", "2026-03-02T18:00:00.123456+00:00"),
        ("2026-03-02T18:00:00-00:00", "2026-03-02T18:00:00+00:00"),
    ],
)
def test_rfc3339_times_and_their_variants_name_their_moment(raw: str, moment: str) -> None:
    assert rfc3339_moment(raw) == datetime.fromisoformat(moment)


@pytest.mark.parametrize(
    "raw",
    [
        "2026-03-02T18:00:00",
        "2026-03-02T18:00:00+0100",
        "2026-03-02T23:59:60Z",  # a leap second: datetime has none, so it names no moment
        "2026-03-02T18:00:00.1234567890Z",
        "2026-03-02tt18:00:00Z",
        "\uff12\uff10\uff12\uff16-03-02T18:00:00Z",
        "2026-03-02\u300018:00:00Z",
    ],
)
def test_what_is_no_rfc3339_time_names_no_moment(raw: str) -> None:
    assert isinstance(rfc3339_moment(raw), str)
