from __future__ import annotations

import pytest

from idle_reaper.exceptions import PolicyError
from idle_reaper.policy import IDLE_MINUTES_TAG, Policy


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
