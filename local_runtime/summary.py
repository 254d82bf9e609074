"""The summary a run ends with (format: shared SCENARIOS.md): per resource what the reaper did
and what it cost, from the emulator's billing record and the events the watcher published."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from idle_reaper.audit import STOPS
from idle_reaper.billing import billed_cost, idle_cost, usd
from idle_reaper.reaper_event import failure_of
from idle_reaper.savings import Savings, savings
from idle_reaper.times import minutes_between, to_iso
from local_runtime.bus import Published, watched_id
from local_runtime.emulators import Life
from local_runtime.runtime import Account
from local_runtime.scenario import ResourceSpec, Scenario
from local_runtime.slack_app import TEAM_ID

# When a resource has several reaper events (a duplicate watcher), the one that says most.
_PRECEDENCE = ("stopped", "guardrail", "would-stop", "failed", "exempt", "gone")


def summarize(scenario: Scenario, account: Account, end: datetime) -> dict[str, Any]:
    watchers = executions_by_resource(account)
    resources = [_resource(account, spec, end, watchers) for spec in scenario.resources]
    totals: dict[str, Any] = {
        "stopped": sum(1 for r in resources if r["outcome"] in STOPS),
        "would_stop": sum(1 for r in resources if r["outcome"] == "would-stop"),
        "warnings": sum(r["warnings"] for r in resources),
        "cost_usd": usd(sum(r["cost_usd"] or 0.0 for r in resources)),
        "wasted_usd": usd(sum(r["wasted_usd"] or 0.0 for r in resources)),
        "saved_usd": usd(sum(r["saved_usd"] or 0.0 for r in resources)),
        "idle_minutes_reclaimed": round(sum(r["idle_minutes_reclaimed"] for r in resources), 1),
        "state_transitions": sum(r["state_transitions"] for r in resources),
        "executions": sum(r["executions"] for r in resources),
    }
    extra: dict[str, Any] = {}
    if scenario.keeps and account.slack_app is not None:
        extra["clicks"] = [
            {
                "resource": c.resource,
                "at": to_iso(c.at),
                "by": c.by,
                "team": c.team or TEAM_ID,
                "for": c.choice,
                "forged": c.forged,
                "stale": c.stale,
                "status": c.status,
                "answer": c.answer,
            }
            for c in account.slack_app.clicks
        ]
    return {
        "summary": {
            "scenario": scenario.name,
            "start": to_iso(scenario.start),
            "end": to_iso(end),
            "parameters": account.stack.parameters,
            "resources": resources,
            "notifications": notifications(account, scenario_names(account, scenario)),
            "dead_letters": len(account.bus.dead_letters),
            **extra,
            "totals": totals,
        }
    }


def _resource(
    account: Account, spec: ResourceSpec, end: datetime, watchers: dict[str, list[str]]
) -> dict[str, Any]:
    emulator = account.emulators[spec.kind]
    life, watched = emulator.life(spec.id), emulator.resource_id(spec)
    events = [p for p in account.bus.published if p.resource_id == watched]
    executions = watchers.get(watched, [])
    outcome, decisive = _outcome(events, life is not None and life.ended_at is not None)
    out: dict[str, Any] = {"kind": spec.kind, "id": spec.id, "outcome": outcome}
    if life is None:
        out.update(
            started_at=None,
            last_activity_at=None,
            stopped_at=None,
            idle_minutes_billed=0.0,
            cost_usd=0.0,
            wasted_usd=0.0,
            saved_usd=0.0,
            idle_minutes_reclaimed=0.0,
        )
    else:
        billed_until = min(life.ended_at or end, end)
        last = billed_until if life.busy and life.ended_at is None else life.last_activity_at
        stopped = decisive.at if decisive and outcome in (*STOPS, "would-stop") else None
        out.update(
            started_at=to_iso(life.created_at),
            last_activity_at=to_iso(last),
            stopped_at=to_iso(stopped) if stopped else None,
            idle_minutes_billed=round(minutes_between(last, billed_until), 1),
            cost_usd=_priced(life, lambda p: billed_cost(p, life.created_at, billed_until)),
            wasted_usd=_priced(life, lambda p: idle_cost(p, last, billed_until)),
            ended_by=life.ended_by,
        )
        saved = _saved(life) if outcome in STOPS else None
        out.update(
            saved_usd=saved.usd if saved else (None if life.cost_per_hour is None else 0.0),
            idle_minutes_reclaimed=saved.idle_minutes_reclaimed if saved else 0.0,
        )
    if outcome == "failed" and decisive is not None:
        error = decisive.detail.get("error")
        out["error"] = ": ".join(failure_of(error if isinstance(error, dict) else {}))
    histories = [account.history_types(arn) for arn in executions]
    out.update(
        warnings=sum(1 for e in events if e.detail_type == "warning"),
        kept=sum(1 for e in events if e.detail_type == "kept"),
        guardrail_notices=sum(1 for e in events if _notice(e)),
        executions=len(executions),
        state_transitions=sum(_transitions(types) for types in histories),
        history_events=max((len(types) for types in histories), default=0),
    )
    return out


def _priced(life: Life, amount: Callable[[float], float]) -> float | None:
    """An amount at the resource's price; None (not a guess) when its price is unknown."""
    return None if life.cost_per_hour is None else usd(amount(life.cost_per_hour))


def _saved(life: Life) -> Savings | None:
    """The savings model (savings.py) applied to what the emulator billed: the resource's
    real start, stop and last activity, against its own idle timeout (Glue's IdleTimeout)."""
    if life.ended_by != "reaper" or life.ended_at is None or life.cost_per_hour is None:
        return None
    return savings(
        life.cost_per_hour,
        life.created_at,
        life.ended_at,
        life.last_activity_at,
        life.own_idle_timeout_minutes,
    )


def _notice(event: Published) -> bool:
    """A guardrail notice (the watch goes on), not the guardrail stop that ends it."""
    verdict = event.detail.get("verdict")
    return event.detail_type == "guardrail-notice" or (
        isinstance(verdict, dict) and verdict.get("notice") == "guardrail-notice"
    )


def _outcome(events: list[Published], ended: bool) -> tuple[str, Published | None]:
    for outcome in _PRECEDENCE:
        for event in events:
            if event.detail_type == outcome and not _notice(event):
                return outcome, event
    return ("gone" if ended else "running"), None


def executions_by_resource(account: Account) -> dict[str, list[str]]:
    """Every watcher execution (continuations included), by the resource id its input names:
    the carried resource, else the start event."""
    sfn = account.clients["stepfunctions"]
    out: dict[str, list[str]] = {}
    for logical in account.stack.of_type("AWS::StepFunctions::StateMachine"):
        machine = account.stack.ref(logical)
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine):
            for execution in page["executions"]:
                arn = execution["executionArn"]
                watched = watched_id(json.loads(sfn.describe_execution(executionArn=arn)["input"]))
                if watched is not None:
                    out.setdefault(watched, []).append(arn)
    return out


def _transitions(types: list[str]) -> int:
    """States entered: what Standard workflows bill."""
    return sum(1 for t in types if t.endswith("StateEntered"))


def scenario_names(account: Account, scenario: Scenario) -> dict[str, str]:
    """The scenario's id of each resource, by the id AWS gave it (Emulator.resource_id)."""
    return {account.emulators[s.kind].resource_id(s): s.id for s in scenario.resources}


def notifications(account: Account, names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every message delivered: Slack (the sink answered 200 ok) and email (SNS deliveries
    to email subscriptions), with the reaper event the notify function was handling; the
    resource named by its scenario id where `names` knows it."""
    out: list[dict[str, Any]] = []
    for request in account.slack.requests:
        if request.delivered:
            out.append(_notification(request.context, "slack", request.at, names or {}))
    for email in account.mailbox.sent:
        out.append(_notification(email.context, "email", email.at, names or {}))
    return sorted(out, key=lambda n: (n["at"], n["resource"] or "", n["channel"]))


def _notification(
    invocation: Any, channel: str, at: datetime, names: dict[str, str]
) -> dict[str, Any]:
    event = getattr(invocation, "event", None) or {}
    detail, resource = event.get("detail"), None
    if isinstance(detail, dict):  # a damaged event's detail or resource may be no object
        resource = detail.get("resource")
    watched = resource.get("id") if isinstance(resource, dict) else None
    return {
        "type": event.get("detail-type"),
        "channel": channel,
        "resource": names.get(watched, watched) if isinstance(watched, str) else watched,
        "at": to_iso(at),
    }
