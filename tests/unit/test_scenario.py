"""The scenario parser: the keys added as the product grows (statement `waiting`, `ends`,
`cancelling`; resource `event: late` with `event_delay`), and numbers held to bounds so that
an absurd value is one clear error before anything runs, never an overflow mid-run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml

from local_runtime.emulators.glue import MAX_IDLE_TIMEOUT, MAX_WORKERS, Activity, GlueSpec
from local_runtime.errors import ScenarioError
from local_runtime.scenario import MAX_SPAN, Busy, ResourceSpec, duration, parse


def scenario(**resource: Any) -> dict[str, Any]:
    return {
        "start": "2026-03-02T09:00:00Z",
        "until": "8h",
        "resources": [{"kind": "glue-session", "id": "a", **resource}],
    }


def resource(**keys: Any) -> ResourceSpec:
    return parse(scenario(**keys)).resources[0]


def statement(**keys: Any) -> Activity:
    glue = resource(statements=[{"at": "5m", "runs": "20m", **keys}]).kind_spec
    assert isinstance(glue, GlueSpec)
    return glue.statements[0]


def refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError) as error:
        parse(data)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


# -- activity, every kind's key ---------------------------------------------------------------
def test_activity_is_a_list_of_busy_periods_for_any_kind() -> None:
    spec = resource(at="5m", activity=[{"at": "10m", "runs": "20m"}, {"at": "1h", "runs": "90s"}])
    assert spec.activity == (
        Busy(at=timedelta(minutes=10), runs=timedelta(minutes=20)),
        Busy(at=timedelta(hours=1), runs=timedelta(seconds=90)),
    )
    assert resource().activity == ()


@pytest.mark.parametrize(
    ("activity", "message"),
    [
        ("10m", "activity: must be a list"),
        ([{"at": "10m"}], "activity[0]: needs `at` and `runs`"),
        ([{"at": "10m", "runs": "5m", "ends": "error"}], "unknown key(s) ends"),
        ([{"at": "1m", "runs": "5m"}], "activity[0].at: 1m is before the resource starts"),
        ([{"at": "10m", "runs": "99999999999d"}], "activity[0].runs"),
    ],
)
def test_bad_activity_is_refused_in_one_line(activity: Any, message: str) -> None:
    refused(scenario(at="5m", activity=activity), message)


# -- statement keys ---------------------------------------------------------------------------
def test_a_statement_defaults_to_no_waiting_and_ending_available() -> None:
    assert statement() == Activity(at=timedelta(minutes=5), runs=timedelta(minutes=20))
    assert statement().waiting == timedelta(0) and statement().ends == "available"


def test_waiting_is_how_long_a_statement_waits_before_it_runs() -> None:
    assert statement(waiting="2m").waiting == timedelta(minutes=2)


@pytest.mark.parametrize("ends", ["available", "error", "cancelled"])
def test_ends_names_how_a_statement_ends(ends: str) -> None:
    assert statement(ends=ends).ends == ends


def test_cancelling_goes_with_ends_cancelled() -> None:
    got = statement(ends="cancelled", cancelling="10m")
    assert (got.ends, got.cancelling) == ("cancelled", timedelta(minutes=10))
    assert statement(ends="cancelled").cancelling is None  # the emulator's own default


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"ends": "finished"}, "not available, error or cancelled"),
        ({"ends": "AVAILABLE"}, "not available, error or cancelled"),
        ({"cancelling": "10m"}, "goes only with `ends: cancelled`"),
        ({"ends": "error", "cancelling": "10m"}, "goes only with `ends: cancelled`"),
        ({"waiting": "2 minutes"}, "bad duration"),
        ({"waiting": "-2m"}, "negative"),
        ({"ends": "cancelled", "cancelling": "99999999999d"}, "longer than 366d"),
        ({"waiting": "1" + "0" * 400 + "s"}, "longer than 366d"),
    ],
)
def test_bad_statement_keys_are_refused(keys: dict[str, Any], message: str) -> None:
    refused(scenario(statements=[{"at": "5m", "runs": "20m", **keys}]), message)


# -- event: late ------------------------------------------------------------------------------
def test_a_late_event_arrives_event_delay_after_at() -> None:
    late = resource(event="late", event_delay="45m")
    assert (late.event, late.event_delay) == ("late", timedelta(minutes=45))
    assert resource().event_delay is None


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"event": "late"}, "`late` needs `event_delay`"),
        ({"event_delay": "45m"}, "goes only with `event: late`"),
        ({"event": "duplicate", "event_delay": "45m"}, "goes only with `event: late`"),
        ({"event": "late", "event_delay": "0s"}, "arrives after `at`"),
        ({"event": "late", "event_delay": "-5m"}, "negative"),
        ({"event": "tardy"}, "not normal, missed, duplicate or late"),
    ],
)
def test_bad_late_events_are_refused(keys: dict[str, Any], message: str) -> None:
    refused(scenario(**keys), message)


# -- bounds -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("top", "message"),
    [
        ({"until": "99999999999d"}, "longer than 366d"),
        ({"until": "367d"}, "longer than 366d"),
        ({"until": "9" * 400 + "s"}, "longer than 366d"),
        ({"until": "0s"}, "runs nothing"),
        ({"until": "-8h"}, "negative"),
        ({"start": "9999-12-31T09:00:00Z"}, "outside 2000-2099"),
        ({"start": "0001-01-01T00:00:00Z"}, "outside 2000-2099"),
        ({"start": "9999-12-31T23:00:00-05:00"}, "out of range"),
        ({"deliveries": 10**12}, "from 1 to 10"),
    ],
)
def test_absurd_top_level_values_are_refused(top: dict[str, Any], message: str) -> None:
    refused({**scenario(), **top}, message)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"workers": 10**12}, f"from 2 to {MAX_WORKERS}"),
        ({"workers": 1}, f"from 2 to {MAX_WORKERS}"),
        ({"workers": "abc"}, f"from 2 to {MAX_WORKERS}"),
        ({"workers": 5.0}, f"from 2 to {MAX_WORKERS}"),
        ({"idle_timeout": 10**30}, f"from 1 to {MAX_IDLE_TIMEOUT}"),
        ({"idle_timeout": 0}, f"from 1 to {MAX_IDLE_TIMEOUT}"),
        ({"at": "99999999999d"}, "longer than 366d"),
        ({"stop_by_user": "9" * 400 + "m"}, "longer than 366d"),
        ({"stop_by_user": "100000h"}, "longer than 366d"),
        ({"statements": [{"at": "5m", "runs": "99999999999d"}]}, "longer than 366d"),
        ({"statements": "5m"}, "must be a list"),
    ],
)
def test_absurd_resource_values_are_refused(keys: dict[str, Any], message: str) -> None:
    refused(scenario(**keys), message)


@pytest.mark.parametrize(
    ("level", "inside", "outside"),
    [
        ("top", {"until": "366d"}, {"until": "367d"}),
        ("top", {"start": "2099-12-31T23:59:59Z"}, {"start": "2100-01-01T00:00:00Z"}),
        ("top", {"start": "2000-01-01T00:00:00Z"}, {"start": "1999-12-31T23:59:59Z"}),
        ("top", {"deliveries": 10}, {"deliveries": 11}),
        ("resource", {"workers": MAX_WORKERS}, {"workers": MAX_WORKERS + 1}),
        ("resource", {"idle_timeout": MAX_IDLE_TIMEOUT}, {"idle_timeout": MAX_IDLE_TIMEOUT + 1}),
        ("resource", {"stop_by_user": f"{MAX_SPAN.days}d"}, {"stop_by_user": "8785h"}),
    ],
)
def test_each_bound_is_the_last_value_accepted(
    level: str, inside: dict[str, Any], outside: dict[str, Any]
) -> None:
    def data(values: dict[str, Any]) -> dict[str, Any]:
        return scenario(**values) if level == "resource" else {**scenario(), **values}

    parse(data(inside))
    with pytest.raises(ScenarioError):
        parse(data(outside))


def test_an_offset_may_be_negative_where_the_caller_allows_it() -> None:
    assert duration("-2h", "at", signed=True) == -timedelta(hours=2)
    with pytest.raises(ScenarioError, match="longer than 366d"):
        duration("-400d", "at", signed=True)


def test_a_resource_may_start_before_the_scenario_and_the_clock_starts_there() -> None:
    """A negative `at` (SCENARIOS.md: started before the scenario and its stack); its
    activity and stop still count from the scenario's start."""
    data = scenario(at="-2h", activity=[{"at": "0m", "runs": "5m"}], stop_by_user="3h")
    data["resources"].append({"kind": "glue-session", "id": "b", "at": "-30m"})
    parsed = parse(data)
    first = parsed.resources[0]
    assert first.at == -timedelta(hours=2)
    assert first.activity == (Busy(at=timedelta(0), runs=timedelta(minutes=5)),)
    assert first.stop_by_user == timedelta(hours=3)
    assert parsed.origin == parsed.start - timedelta(hours=2)
    assert parse(scenario(at="10m")).origin == parse(scenario()).start


@pytest.mark.parametrize(
    ("at", "accepted"),
    [(f"-{MAX_SPAN.days}d", True), (f"-{MAX_SPAN.days * 24 + 1}h", False), ("-2x", False)],
)
def test_a_negative_at_is_held_to_the_longest_span(at: str, accepted: bool) -> None:
    if accepted:
        assert resource(at=at).at == -MAX_SPAN
    else:
        with pytest.raises(ScenarioError, match=r"resources\[0\]\.at"):
            resource(at=at)


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_a_minutes_parameter_must_be_a_whole_number(value: str) -> None:
    """Python's float() reads nan and inf; the template's pattern refuses them."""
    from local_runtime.runtime import TEMPLATE
    from local_runtime.stack import load

    with pytest.raises(ScenarioError, match=r"GlueIdleMinutes=.*whole number"):
        load(TEMPLATE, yaml.safe_load(f"{{GlueIdleMinutes: {value}}}"))


# -- keep: a Keep button pressed in Slack (issue 12) ------------------------------------------
def test_keep_entries_press_a_button_and_switch_interactivity_on() -> None:
    from local_runtime.scenario import KeepSpec

    data = {
        **scenario(),
        "keep": [
            {"resource": "a", "at": "27m", "for": "1h", "by": "frank@example.com"},
            {"resource": "a", "at": "28m", "for": "tomorrow", "by": "U0ADMIN01", "forged": True},
            {"resource": "a", "at": "29m", "for": "1h", "by": "x@y.z", "team": "T0PARTNER1"},
        ],
    }
    parsed = parse(data)
    assert parsed.keeps == (
        KeepSpec("a", timedelta(minutes=27), "1h", "frank@example.com"),
        KeepSpec("a", timedelta(minutes=28), "tomorrow", "U0ADMIN01", forged=True),
        KeepSpec("a", timedelta(minutes=29), "1h", "x@y.z", team="T0PARTNER1"),
    )
    assert parsed.channels.slack_interactive is True
    assert parse(scenario()).channels.slack_interactive is False


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"resource": "b", "at": "1m", "for": "1h", "by": "x@y.z"}, "is no resource"),
        ({"resource": "a", "at": "1m", "for": "2h", "by": "x@y.z"}, "is no Keep button"),
        ({"resource": "a", "at": "1m", "for": "1h", "by": "frank"}, "neither an email"),
        (
            {"resource": "a", "at": "1m", "for": "1h", "by": "x@y.z", "forged": "yes"},
            "true or false",
        ),
        ({"resource": "a", "at": "1m", "for": "1h", "by": "x@y.z", "team": "partner"}, "team id"),
        ({"resource": "a", "at": "1m", "for": "1h", "by": "x@y.z", "team": ["T0P"]}, "team id"),
        ({"resource": "a", "at": "soon", "for": "1h", "by": "x@y.z"}, "bad duration"),
        ({"resource": "a", "for": "1h", "by": "x@y.z"}, "missing `at`"),
        ({"resource": "a", "at": "1m", "for": "1h", "by": "x@y.z", "as": "admin"}, "unknown key"),
    ],
)
def test_a_bad_keep_entry_is_refused_in_one_line(entry: dict[str, Any], message: str) -> None:
    refused({**scenario(), "keep": [entry]}, message)


def test_a_keep_needs_slack() -> None:
    entry = {"resource": "a", "at": "1m", "for": "1h", "by": "x@y.z"}
    refused({**scenario(), "slack": "off", "keep": [entry]}, "Slack is off")
