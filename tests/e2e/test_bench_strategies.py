"""The benchmark's strategies really run on the local runtime: three hand-made sessions
(never used; one long statement; bursts with pauses under the allowance) through each
stopping strategy, judged by the same harness `make bench` uses (local_runtime.comparison)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from local_runtime.comparison import run_strategy
from local_runtime.emulators.glue import Activity, GlueSpec
from local_runtime.glue_week import START, Workload
from local_runtime.scenario import ResourceSpec, Scenario
from local_runtime.strategies import named, reaper_warning

ALLOWANCE = 30


def _minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def _workload() -> Workload:
    statements = {
        "idle": (),
        # 2 to 47 minutes: a stop before 77 minutes is early, one before 47 stops work
        "long": (Activity(at=_minutes(2), runs=_minutes(45)),),
        # pauses of 17 and 24 minutes: the deadline is 30 minutes after the third, at 76
        "bursty": tuple(Activity(at=_minutes(m), runs=_minutes(1)) for m in (2, 20, 45)),
    }
    specs = tuple(
        ResourceSpec(kind="glue-session", id=name, kind_spec=GlueSpec(statements=work))
        for name, work in statements.items()
    )
    return Workload(
        scenario=Scenario(
            name="three sessions", start=START, until=timedelta(hours=3), resources=specs
        ),
        archetype={name: name for name in statements},
        planned={name: len(work) for name, work in statements.items()},
    )


def _run(key: str) -> dict[str, Any]:
    return run_strategy(named(key), _workload(), ALLOWANCE, progress=None)


def test_the_fixed_wait_stops_everything_at_the_allowance_work_or_not() -> None:
    result = _run("fixed-wait")
    assert result["stopped"] == 3
    assert (result["busy_stops"], result["early_stops"]) == (1, 1)  # long; bursty
    assert result["refused_statements"] == 1  # bursty's third
    assert result["latency_median_seconds"] == 0.0  # idle, on its deadline
    assert result["usage"]["state_transitions"] == 6  # Wait and Stop, three times


@pytest.mark.parametrize(("key", "longest"), [("polling", 5 * 60), ("hourly-sweep", 60 * 60)])
def test_the_polling_loop_and_the_sweep_never_stop_work_and_stop_within_their_period(
    key: str, longest: int
) -> None:
    result = _run(key)
    assert result["stopped"] == 3
    assert result["false_stops"] == 0
    assert result["refused_statements"] == 0
    assert result["latency_count"] == 3
    assert 0 <= result["latency_p99_seconds"] <= longest
    functions = result["usage"]["lambda_requests_by_function"]
    assert set(functions) == {"LookFunction" if key == "polling" else "PolicyEngineFunction"}


def test_the_reaper_stops_each_session_on_its_deadline() -> None:
    result = _run("reaper")
    assert (result["stopped"], result["false_stops"]) == (3, 0)
    assert result["latency_p99_seconds"] is not None
    assert result["latency_p99_seconds"] < 1.0
    assert result["usage"]["custom_events"] == 6  # a warning and a stop each


def test_the_reaper_without_a_warning_stops_on_the_same_deadlines_for_fewer_transitions() -> None:
    warned, unwarned = (
        _run("reaper"),
        run_strategy(reaper_warning(0), _workload(), ALLOWANCE, progress=None),
    )
    assert (warned["warnings"], unwarned["warnings"]) == (3, 0)
    assert (unwarned["stopped"], unwarned["false_stops"]) == (3, 0)
    assert unwarned["latency_p99_seconds"] is not None
    assert unwarned["latency_p99_seconds"] < 1.0
    assert unwarned["usage"]["custom_events"] == 3  # the stops alone
    # no warning's 4 transitions for each session, and fewer looks during the long statement
    saved = warned["usage"]["state_transitions"] - unwarned["usage"]["state_transitions"]
    assert saved >= 3 * 4
