"""The policy document end to end, on the real template, ASL and handlers: three teams under
one document, an invalid document, a pause and a resume, and events out of order."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any

from idle_reaper.policy_check import POLICY_INVALID
from local_runtime import policy_parameter
from local_runtime import scenario as scenarios
from local_runtime.runtime import Account
from local_runtime.simulation import simulate
from tests.conftest import SCENARIOS


def run(
    path: str, prepare: Callable[[Account], None] | None = None, policy: str | None = None
) -> tuple[dict[str, Any], list[Any]]:
    scenario = scenarios.load(SCENARIOS / path)
    if policy is not None:
        scenario = replace(scenario, policy=policy)
    published: list[Any] = []

    def keep(account: Account) -> None:
        published.extend(account.bus.published)

    summary = simulate(scenario, out=io.StringIO(), progress=None, inspect=keep, prepare=prepare)
    return summary["summary"], published


def by_id(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in summary["resources"]}


def test_three_teams_under_one_document() -> None:
    summary, published = run("policy-teams.yaml")
    res = by_id(summary)
    # ml: the rule's 120 minutes, warned 10 minutes before; a tag asking 480 capped at 180
    assert res["ml-default"]["stopped_at"] == "2026-03-02T11:05:00Z"
    assert res["ml-train"]["stopped_at"] == "2026-03-02T12:00:00Z"
    warned = {p.resource_id: p.at for p in published if p.detail_type == "warning"}
    assert warned.get("s-ml-default", True)
    # analytics: busy 4 hours, stopped at the rule's 2-hour running cap after a warning
    busy = res["analytics-busy"]
    assert busy["outcome"] == "stopped" and busy["stopped_at"] == "2026-03-02T11:10:00Z"
    assert busy["warnings"] == 1
    # analytics: 20 workers where 10 are allowed: stopped at once (a minute after creation,
    # when the session is READY), outcome `guardrail`
    huge = res["analytics-huge"]
    assert huge["outcome"] == "guardrail" and huge["stopped_at"] == "2026-03-02T09:16:00Z"
    assert huge["warnings"] == 0
    # platform: exempt by its rule
    assert res["platform-etl"]["outcome"] == "exempt"
    # no rule: the template's 30 minutes; one guardrail notice for the missing owner tag
    assert res["no-owner"]["stopped_at"] == "2026-03-02T09:55:00Z"
    assert res["no-owner"]["guardrail_notices"] == 1
    assert [r["guardrail_notices"] for r in summary["resources"]] == [0, 0, 0, 0, 0, 1]
    assert not any(p.detail_type == "failed" for p in published)


def test_a_rule_routes_its_teams_email_by_the_sns_team_attribute() -> None:
    _summary, published = run("policy-teams.yaml")
    routes = {
        p.resource_id: (p.detail.get("verdict") or {}).get("route")
        for p in published
        if p.detail_type == "stopped"
    }
    assert {"team": "analytics"} in routes.values()
    assert sum(1 for route in routes.values() if route) == 1


def test_a_resource_gone_at_its_stop_is_still_reported_to_its_team() -> None:
    """The first stop of the run (analytics' 20-worker session, at once) finds the session
    deleted: the `gone` event keeps the rule and route the stop verdict had."""

    def deleted_at_the_stop(account: Account) -> None:
        account.emulators["glue-session"].fail_next(  # type: ignore[attr-defined]
            "StopSession", "EntityNotFoundException"
        )

    _summary, published = run("policy-teams.yaml", prepare=deleted_at_the_stop)
    [gone] = [p for p in published if p.detail_type == "gone"]
    assert gone.resource_id.endswith("analytics-huge")
    assert gone.detail["verdict"]["route"] == {"team": "analytics"}
    assert gone.detail["verdict"]["rule"]


def test_an_invalid_document_stops_nothing_and_reports_once_naming_the_field() -> None:
    summary, published = run("policy-invalid.yaml")
    assert [r["outcome"] for r in summary["resources"]] == ["running", "running"]
    assert summary["totals"]["stopped"] == 0 and summary["totals"]["warnings"] == 0
    failures = [p for p in published if p.detail_type == "failed"]
    assert len(failures) == 1
    error = failures[0].detail["error"]
    assert error["Error"] == POLICY_INVALID
    assert error["Cause"].startswith("rules[0].idle_minutes:")
    notified = [n for n in summary["notifications"] if n["type"] == "failed"]
    assert {n["channel"] for n in notified} == {"email", "slack"} and len(notified) == 2


def test_fixing_the_document_resumes_every_watch_and_loses_no_resource() -> None:
    def fix_at_one_hour(account: Account) -> None:
        fixed = '{"version": 1, "rules": [{"name": "ml", "idle_minutes": 45}]}'
        when = account.clock.now() + timedelta(hours=1)
        account.clock.at(when, partial(policy_parameter.write, account, fixed))

    summary, published = run("policy-invalid.yaml", fix_at_one_hour)
    res = by_id(summary)
    # looked at again within 10 minutes of the fix (10:00): warned, then stopped 5 minutes on
    for rid in ("ml-idle", "other-idle"):
        assert res[rid]["outcome"] == "stopped", rid
        assert res[rid]["warnings"] == 1, rid
        stopped = res[rid]["stopped_at"]
        assert "2026-03-02T10:05:00Z" <= stopped <= "2026-03-02T10:15:00Z", (rid, stopped)
    assert len([p for p in published if p.detail_type == "failed"]) == 1  # the first write only


def test_a_pause_holds_every_stop_and_a_resume_loses_nothing() -> None:
    def pause_then_resume(account: Account) -> None:
        start = account.clock.now()
        paused, resumed = '{"version": 1, "paused": true}', '{"version": 1}'
        account.clock.at(start, partial(policy_parameter.write, account, paused))
        account.clock.at(
            start + timedelta(hours=2), partial(policy_parameter.write, account, resumed)
        )

    summary, published = run("abandoned.yaml", pause_then_resume, policy='{"version": 1}')
    (res,) = summary["resources"]
    # idle from 09:00 with a 30-minute allowance: held while paused, stopped after the resume
    # (seen within 10 minutes + a cached minute, then warned 5 minutes before the stop)
    assert res["outcome"] == "stopped"
    assert "2026-03-02T11:05:00Z" <= res["stopped_at"] <= "2026-03-02T11:17:00Z"
    assert res["warnings"] == 1
    assert not any(p.detail_type == "failed" for p in published)


def test_a_stop_before_the_start_event_arrives_ends_the_watch_gone() -> None:
    summary, published = run("out-of-order.yaml")
    (res,) = summary["resources"]
    assert res["outcome"] == "gone" and res["ended_by"] == "user"
    assert res["executions"] == 1 and res["warnings"] == 0
    assert [p.detail_type for p in published] == ["gone"]
