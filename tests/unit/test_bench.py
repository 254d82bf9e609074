"""The comparison benchmark's parts that decide its numbers: the generated week (seeded, the
documented mix), the per-session arithmetic (false stops, idle money, latency), percentiles,
the cost model, the quota arithmetic of the scale run, and the strategies' template edits."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local_runtime import aws_prices, comparison, glue_week, scale, strategies
from local_runtime.emulators.glue import GlueSpec
from local_runtime.strategies import glue_idleness
from local_runtime.strategy_metrics import (
    SessionRecord,
    StatementRecord,
    outcome,
    percentile,
    totals,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PRICE = 2.2  # 5 DPU x $0.44
ALLOWANCE = timedelta(minutes=30)
RUN_END = T0 + timedelta(days=7)


def _glue(spec: Any) -> GlueSpec:
    assert isinstance(spec.kind_spec, GlueSpec)
    return spec.kind_spec


# -- the generated week -----------------------------------------------------------------------
def test_the_week_is_the_same_for_the_same_seed_and_differs_for_another() -> None:
    one, again, other = glue_week.week(200, 7), glue_week.week(200, 7), glue_week.week(200, 8)
    assert one.scenario == again.scenario
    assert one.archetype == again.archetype
    assert one.scenario.resources != other.scenario.resources


def test_the_week_has_exactly_the_sessions_asked_for_with_the_documented_mix() -> None:
    workload = glue_week.week(1000, 7)
    assert len(workload.scenario.resources) == 1000
    assert len({s.id for s in workload.scenario.resources}) == 1000
    shares = Counter(workload.archetype.values())
    assert set(shares) == set(glue_week.MIX)
    for archetype, share in glue_week.MIX.items():
        assert abs(shares[archetype] - share * 1000) <= 1, archetype
    assert sum(glue_week.apportion(37).values()) == 37
    assert sum(workload.planned.values()) == sum(
        len(_glue(s).statements) for s in workload.scenario.resources
    )


def test_sessions_start_on_working_days_in_working_hours_on_whole_seconds() -> None:
    for spec in glue_week.week(300, 3).scenario.resources:
        start = glue_week.START + spec.at
        assert start.weekday() < 5 and 8 <= start.hour < 18, spec.id
        for moment in (spec.at, *(a.at for a in _glue(spec).statements)):
            assert moment.total_seconds() == int(moment.total_seconds()), spec.id


def test_fewer_working_days_make_a_shorter_run_that_still_outlasts_glues_timeout() -> None:
    workload = glue_week.week(100, 7, workdays=1)
    assert workload.scenario.until == timedelta(days=3)
    assert glue_week.week(100, 7).scenario.until == timedelta(days=7) == glue_week.SPAN
    for spec in workload.scenario.resources:
        assert spec.at < timedelta(hours=10), spec.id
        last = max((a.at + a.runs for a in _glue(spec).statements), default=spec.at)
        assert last + timedelta(minutes=_glue(spec).idle_timeout) < workload.scenario.until
    with pytest.raises(ValueError):
        glue_week.week(10, 7, workdays=6)


def test_a_sessions_statements_run_one_after_another_and_glue_times_it_out_within_the_run() -> None:
    for spec in glue_week.week(500, 11).scenario.resources:
        statements = _glue(spec).statements
        for earlier, later in itertools.pairwise(statements):
            assert later.at >= earlier.at + earlier.runs, spec.id
        last = max((a.at + a.runs for a in statements), default=spec.at)
        timeout = timedelta(minutes=_glue(spec).idle_timeout)
        assert last + timeout < glue_week.SPAN, spec.id


def test_each_archetype_behaves_as_documented() -> None:
    workload = glue_week.week(1000, 5)
    by_id = {s.id: s for s in workload.scenario.resources}
    long_break = 0
    for session_id, archetype in workload.archetype.items():
        spec, glue = by_id[session_id], _glue(by_id[session_id])
        if archetype == "short-timeout":
            assert 10 <= glue.idle_timeout <= 25
        else:
            assert glue.idle_timeout == 2880
        if archetype == "user-stopped":
            assert spec.stop_by_user is not None
            end = max(a.at + a.runs for a in glue.statements)
            assert timedelta(minutes=1) <= spec.stop_by_user - end <= timedelta(minutes=20)
        else:
            assert spec.stop_by_user is None
        if archetype == "long-running":
            assert all(a.runs > ALLOWANCE for a in glue.statements)
        if archetype == "forgotten":
            assert len(glue.statements) <= 2
        if archetype == "active":
            gaps = [b.at - (a.at + a.runs) for a, b in itertools.pairwise(glue.statements)]
            long_break += any(g > ALLOWANCE for g in gaps)
        assert not spec.tags  # nothing exempt: it would mean the same to every strategy
    assert long_break > 0


def test_several_tabs_of_one_person_open_within_two_minutes() -> None:
    workload = glue_week.week(600, 9)
    tabs = [s for s in workload.scenario.resources if workload.archetype[s.id] == "tabs"]
    by_person: dict[str | None, list[timedelta]] = {}
    for spec in tabs:
        by_person.setdefault(spec.by, []).append(spec.at)
    grouped = [ats for ats in by_person.values() if len(ats) > 1]
    assert grouped
    assert any(max(ats) - min(ats) <= timedelta(minutes=2) for ats in grouped)


# -- per-session arithmetic -------------------------------------------------------------------
def _record(
    statements: tuple[StatementRecord, ...] = (),
    ended_at: datetime | None = None,
    ended_by: str | None = None,
    planned: int | None = None,
) -> SessionRecord:
    return SessionRecord(
        id="s",
        archetype="test",
        created_at=T0,
        cost_per_hour=PRICE,
        ended_at=ended_at,
        ended_by=ended_by,
        statements=statements,
        planned_statements=len(statements) if planned is None else planned,
    )


def _done(start_min: float, end_min: float) -> StatementRecord:
    return StatementRecord(T0 + timedelta(minutes=start_min), T0 + timedelta(minutes=end_min))


def test_a_stop_at_the_deadline_is_no_false_stop_and_bills_the_allowance_idle() -> None:
    last = T0 + timedelta(minutes=10)
    got = outcome(_record((_done(5, 10),), last + ALLOWANCE, "reaper"), ALLOWANCE, RUN_END)
    assert (got.stopped, got.false_stop, got.latency_seconds) == (True, False, 0.0)
    assert got.idle_usd == pytest.approx(PRICE * 0.5)
    assert got.idle_past_allowance_usd == 0.0
    assert got.billed_usd == pytest.approx(PRICE * 40 / 60)


def test_a_stop_one_millisecond_before_the_deadline_is_a_false_stop() -> None:
    last = T0 + timedelta(minutes=10)
    stop = last + ALLOWANCE - timedelta(milliseconds=1)
    got = outcome(_record((_done(5, 10),), stop, "reaper"), ALLOWANCE, RUN_END)
    assert (got.early_stop, got.busy_stop, got.false_stop) == (True, False, True)
    assert got.latency_seconds is None


def test_the_allowance_is_judged_at_glues_millisecond_resolution() -> None:
    # The statement ended at .0004 s; Glue reports .000, and a stop at that reading's deadline
    # is on time, not 0.4 ms early.
    ended = T0 + timedelta(minutes=10, microseconds=400)
    statement = StatementRecord(T0 + timedelta(minutes=5), ended)
    stop = T0 + timedelta(minutes=10) + ALLOWANCE
    assert not outcome(_record((statement,), stop, "reaper"), ALLOWANCE, RUN_END).false_stop


def test_a_stop_that_cancels_running_work_is_a_false_stop_with_no_idle_money() -> None:
    stop = T0 + timedelta(hours=2)
    running = StatementRecord(T0 + timedelta(minutes=5), stop, killed=True)
    got = outcome(_record((running,), stop, "reaper"), ALLOWANCE, RUN_END)
    assert (got.busy_stop, got.false_stop, got.idle_usd, got.latency_seconds) == (
        True,
        True,
        0.0,
        None,
    )


def test_glues_timeout_after_the_deadline_has_a_latency_and_a_users_stop_has_none() -> None:
    last = T0 + timedelta(minutes=10)
    timeout = outcome(
        _record((_done(5, 10),), last + timedelta(minutes=2880), "timeout"), ALLOWANCE, RUN_END
    )
    assert timeout.latency_seconds == (2880 - 30) * 60
    assert not timeout.stopped
    assert timeout.idle_past_allowance_usd == pytest.approx(PRICE * (2880 - 30) / 60)
    user = outcome(
        _record((_done(5, 10),), last + timedelta(minutes=3), "user"), ALLOWANCE, RUN_END
    )
    assert (user.stopped, user.false_stop, user.latency_seconds) == (False, False, None)
    assert user.idle_usd == pytest.approx(PRICE * 3 / 60)


def test_an_own_timeout_before_the_deadline_gives_no_latency() -> None:
    got = outcome(_record((), T0 + timedelta(minutes=15), "timeout"), ALLOWANCE, RUN_END)
    assert (got.latency_seconds, got.false_stop) == (None, False)


def test_a_session_still_billing_at_the_end_is_counted_apart_and_billed_to_the_end() -> None:
    end = T0 + timedelta(hours=5)
    got = outcome(_record((_done(5, 10),)), ALLOWANCE, end)
    assert got.still_billing_past_deadline
    assert got.latency_seconds is None
    assert got.billed_usd == pytest.approx(PRICE * 5)
    still_working = outcome(
        _record((StatementRecord(T0 + timedelta(minutes=5), None),)), ALLOWANCE, end
    )
    assert not still_working.still_billing_past_deadline
    assert still_working.idle_usd == 0.0


def test_statements_the_user_could_not_run_are_counted_as_refused() -> None:
    got = outcome(
        _record((_done(5, 10),), T0 + timedelta(minutes=40), "reaper", planned=4),
        ALLOWANCE,
        RUN_END,
    )
    assert got.refused_statements == 3


def test_percentiles_are_nearest_rank_values_that_occurred() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([], 0.99) is None
    with pytest.raises(ValueError):
        percentile(values, 0.0)


def test_totals_add_up_the_sessions_and_take_latency_from_those_that_have_one() -> None:
    last = T0 + timedelta(minutes=10)
    records = [
        _record((_done(5, 10),), last + ALLOWANCE + timedelta(minutes=m), "reaper")
        for m in (0, 10, 20)
    ] + [_record((_done(5, 10),), last + timedelta(minutes=1), "reaper")]
    summed = totals(outcome(r, ALLOWANCE, RUN_END) for r in records)
    assert (summed["stopped"], summed["false_stops"], summed["early_stops"]) == (4, 1, 1)
    assert summed["latency_count"] == 3
    assert summed["latency_median_seconds"] == 600.0
    assert summed["latency_p99_seconds"] == 1200.0
    assert summed["idle_past_allowance_usd"] == pytest.approx(PRICE * 30 / 60)


# -- cost model -------------------------------------------------------------------------------
def test_lambda_duration_is_billed_by_the_millisecond_rounded_up() -> None:
    assert aws_prices.billed_gb_seconds(256, 0.0101) == pytest.approx(0.25 * 0.011)
    assert aws_prices.billed_gb_seconds(1024, 0.002) == pytest.approx(0.002)


def test_the_cost_model_prices_each_line_at_its_list_price() -> None:
    usage = aws_prices.Usage(
        state_transitions=20_000,
        lambda_requests=10_000,
        lambda_gb_seconds=1_000.0,
        custom_events=2_000,
        scheduled_invocations=672,
        api_calls={
            "dynamodb:PutItem": 3_000,
            "dynamodb:UpdateItem": 1_000,
            "dynamodb:GetItem": 2_000,
            "sns:Publish": 1_000,
            "glue:GetSession": 99_999,  # free: not priced
        },
    )
    lines = aws_prices.cost(usage)
    assert lines["step_functions"] == pytest.approx(0.50)
    assert lines["lambda_requests"] == pytest.approx(0.002)
    assert lines["lambda_compute"] == pytest.approx(0.0133334)
    assert lines["eventbridge"] == pytest.approx(0.002 + 0.000672)
    assert lines["dynamodb"] == pytest.approx(4_000 * 0.625e-6 + 2_000 * 0.125e-6)
    assert lines["sns"] == pytest.approx(1_000 * 0.5e-6 + 1_000 * 2.0e-5)
    scaled = aws_prices.per_thousand(lines, 4_000)
    assert scaled["step_functions"] == pytest.approx(0.125)
    assert scaled["total"] == pytest.approx(sum(lines.values()) / 4)


def test_a_dynamodb_batch_is_billed_for_each_item_it_asks_for() -> None:
    keys = {"Keys": [{"claim": {"S": str(n)}} for n in range(7)], "ConsistentRead": True}
    assert aws_prices.requests_billed("BatchGetItem", {"RequestItems": {"claims": keys}}) == 7
    writes = {"a": [{"PutRequest": {}}] * 3, "b": [{"DeleteRequest": {}}] * 2}
    assert aws_prices.requests_billed("BatchWriteItem", {"RequestItems": writes}) == 5
    assert aws_prices.requests_billed("GetItem", {"TableName": "claims"}) == 1
    assert aws_prices.requests_billed("BatchGetItem", {}) == 1  # malformed: a call still bills


def test_every_price_names_its_source() -> None:
    for price in aws_prices.PRICES:
        assert price.source.startswith("https://aws.amazon.com/"), price.unit


# -- the scale run's quota arithmetic ---------------------------------------------------------
def test_a_token_bucket_throttles_only_past_its_size_plus_what_it_refills() -> None:
    bucket = scale.TokenBucket("test", size=10, refill=2.0, source="test")
    burst = [T0] * 12
    assert scale.throttled(burst, bucket) == (2, 0.0)
    spread = [T0 + timedelta(seconds=n) for n in range(100)]  # one a second: never short
    refused, fewest = scale.throttled(spread, bucket)
    assert (refused, fewest) == (0, 9.0)


def test_peaks_per_second_and_of_open_intervals() -> None:
    moments = [T0, T0 + timedelta(milliseconds=999), T0 + timedelta(seconds=1)]
    assert scale.peak_per_second(moments) == 2
    one_after_another = [
        (T0, T0 + timedelta(seconds=1)),
        (T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)),
    ]
    assert scale.peak_concurrency(one_after_another)[0] == 1
    nested = [(T0, T0 + timedelta(hours=1)), (T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))]
    assert scale.peak_concurrency(nested) == (2, T0 + timedelta(minutes=1))


def test_the_scale_burst_starts_every_session_within_one_minute() -> None:
    scenario = scale.burst(300, 7)
    ats = [s.at for s in scenario.resources]
    assert len(ats) == 300 and max(ats) < timedelta(minutes=1) and min(ats) >= timedelta(0)
    assert len({s.by for s in scenario.resources}) == 300


# -- the strategies ---------------------------------------------------------------------------
def _template() -> dict[str, Any]:
    from cfnlint.decode import decode

    raw, _ = decode(str(comparison.TEMPLATE))
    assert raw is not None
    loaded: dict[str, Any] = json.loads(json.dumps(raw))
    return loaded


def test_the_five_strategies_share_one_allowance_and_only_the_alternatives_amend() -> None:
    assert [s.key for s in strategies.STRATEGIES] == [
        "glue-timeout",
        "fixed-wait",
        "hourly-sweep",
        "polling",
        "reaper",
    ]
    assert strategies.named("reaper").amend(30) is None
    assert strategies.named("glue-timeout").parameters == {"KillSwitch": "on"}
    assert comparison.allowance_minutes() == int(
        _template()["Parameters"]["GlueIdleMinutes"]["Default"]
    )


def test_the_fixed_wait_replaces_the_watcher_and_keeps_its_start_rule() -> None:
    template, original = _template(), _template()
    amend = strategies.named("fixed-wait").amend(30)
    assert amend is not None
    amend(template)
    watcher = template["Resources"]["WatcherStateMachine"]["Properties"]
    assert "DefinitionUri" not in watcher
    assert watcher["Definition"]["States"]["WaitFixedTime"]["Seconds"] == 1800
    assert watcher["Events"] == original["Resources"]["WatcherStateMachine"]["Properties"]["Events"]


def test_a_fixed_wait_of_its_own_waits_that_long_whatever_the_allowance() -> None:
    template = _template()
    variant = strategies.fixed_wait(240)
    amend = variant.amend(30)
    assert amend is not None
    amend(template)
    watcher = template["Resources"]["WatcherStateMachine"]["Properties"]
    assert watcher["Definition"]["States"]["WaitFixedTime"]["Seconds"] == 240 * 60
    assert variant.key == "fixed-wait-240" and variant.parameters == {"SweepMinutes": "0"}
    with pytest.raises(ValueError, match="outside 1 to 2880"):
        strategies.fixed_wait(0)


def test_a_warning_of_its_own_is_only_the_parameter_and_the_template_as_it_deploys() -> None:
    variant = strategies.reaper_warning(0)
    assert variant.key == "reaper-warning-0"
    assert variant.parameters == {"WarningMinutes": "0"}
    assert variant.amend(30) is None


def test_the_polling_loop_gets_a_look_function_it_may_invoke() -> None:
    template = _template()
    amend = strategies.named("polling").amend(30)
    assert amend is not None
    amend(template)
    resources = template["Resources"]
    watcher = resources["WatcherStateMachine"]["Properties"]
    assert watcher["Definition"]["States"]["WaitFiveMinutes"]["Seconds"] == 300
    assert watcher["DefinitionSubstitutions"]["LookFunctionArn"] == {
        "Fn::GetAtt": ["LookFunction", "Arn"]
    }
    assert {"LambdaInvokePolicy": {"FunctionName": {"Ref": "LookFunction"}}} in watcher["Policies"]
    look = resources["LookFunction"]["Properties"]
    assert look["Handler"] == "glue_idleness.look"
    assert look["Environment"]["Variables"]["IDLE_MINUTES"] == {"Ref": "GlueIdleMinutes"}


def test_the_hourly_sweep_is_a_scheduled_function_on_a_stack_with_nothing_else_watching() -> None:
    template = _template()
    strategy = strategies.named("hourly-sweep")
    amend = strategy.amend(30)
    assert amend is not None
    amend(template)
    engine = template["Resources"]["PolicyEngineFunction"]["Properties"]
    assert engine["Events"]["Hourly"]["Properties"]["Schedule"] == "rate(60 minutes)"
    assert strategy.parameters["KillSwitch"] == "on"


class _Glue:
    """Just enough of a Glue client for the fixture's judgement."""

    def __init__(self, statements: list[dict[str, Any]]) -> None:
        self.statements = statements

    def list_statements(self, **kwargs: Any) -> dict[str, Any]:
        return {"Statements": self.statements}


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.mark.parametrize(
    ("status", "statements", "idle_for", "expected"),
    [
        ("PROVISIONING", [], timedelta(hours=1), "wait"),
        ("STOPPED", [], timedelta(hours=1), "gone"),
        ("TIMEOUT", [], timedelta(hours=1), "gone"),
        ("READY", [], timedelta(minutes=30), "stop"),
        ("READY", [], timedelta(minutes=29, seconds=59), "wait"),
        ("READY", [{"State": "RUNNING", "StartedOn": 0}], timedelta(hours=5), "wait"),
        ("READY", [{"State": "WAITING"}], timedelta(hours=5), "wait"),
        ("READY", [{"State": "AVAILABLE", "CompletedOn": "now"}], timedelta(hours=5), "wait"),
    ],
)
def test_the_naive_strategies_judge_idleness_as_a_plain_script_would(
    status: str, statements: list[dict[str, Any]], idle_for: timedelta, expected: str
) -> None:
    now = datetime.now(UTC)
    created = now - idle_for
    listed = [
        {k: (_ms(now) if v == "now" else _ms(created) if v == 0 else v) for k, v in s.items()}
        for s in statements
    ]
    session = {"Id": "s1", "Status": status, "CreatedOn": created}
    assert glue_idleness.judge(_Glue(listed), session, ALLOWANCE) == expected


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sessions", "0"], "--sessions"),
        (["--sessions", "100001"], "--sessions"),
        (["--workdays", "6"], "--workdays"),
        (["--strategies", "reaper,cron"], "unknown cron"),
        (["--fixed-waits", "60,0"], "--fixed-waits: '0'"),
        (["--fixed-waits", "2881"], "--fixed-waits: '2881'"),
        (["--fixed-waits", "1.5"], "--fixed-waits: '1.5'"),
        (["--fixed-waits", "60,,120"], "--fixed-waits: ''"),
        (["--fixed-waits", ""], "--fixed-waits: ''"),
        (["--fixed-waits", "60,60"], "--fixed-waits: 60 twice"),
        (["--warning-minutes", "4"], "--warning-minutes: '4'"),  # not in AllowedValues
        (["--warning-minutes", "30"], "--warning-minutes: '30'"),  # not under the allowance
        (["--warning-minutes", "-1"], "--warning-minutes: '-1'"),
        (["--warning-minutes", "0,0"], "--warning-minutes: 0 twice"),
        (["--warning-minutes", "05"], "--warning-minutes: '05'"),  # CloudFormation: not "5"
        (["--warning-minutes", "\u0665"], "--warning-minutes: '\u0665'"),  # an Arabic-Indic 5
        (["--fixed-waits", "9" * 5000], "--fixed-waits: '99999"),  # not int()'s digit limit
    ],
)
def test_the_comparison_refuses_bad_options_in_one_line_before_running(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert comparison.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_the_scale_run_refuses_an_absurd_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert scale.main(["--sessions", "0"]) == 2
    assert "--sessions" in capsys.readouterr().err
