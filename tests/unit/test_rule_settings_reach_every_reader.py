"""Review of issue 10: a rule's settings must reach everything that uses them. Each test fails
until the problem is fixed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from idle_reaper.inspection import inspect
from idle_reaper.kinds.ec2 import PERIOD
from idle_reaper.messages import render
from idle_reaper.policy import Policy
from idle_reaper.reaper_event import ReaperEvent
from idle_reaper.times import parse_iso, to_iso
from idle_reaper.verdict import decide
from tests.unit.test_ec2_kind import IDLE, IID, T0, FakeCloudWatch, FakeEc2
from tests.unit.test_verdict_policy import READY, with_doc

EC2 = {"kind": "ec2-instance", "id": IID, "region": "us-east-1", "account": "123456789012"}
DAY = {T0 + PERIOD * i: IDLE for i in range(int(timedelta(days=1) / PERIOD) + 1)}


def client(ec2: FakeEc2, cloudwatch: FakeCloudWatch, service: str, _region: str) -> Any:
    return ec2 if service == "ec2" else cloudwatch


def first_warning_or_stop(policy: Policy, until: datetime) -> dict[str, Any] | None:
    """Follow the watcher: look, wait for next_check_at, look again, until a warn or a stop."""
    now = T0 + timedelta(minutes=6)
    while now < until:
        ec2, cloudwatch = FakeEc2(), FakeCloudWatch(DAY, now)
        look = inspect({"resource": EC2}, partial(client, ec2, cloudwatch), policy, None, now)
        verdict: dict[str, Any] = look["verdict"]
        if verdict["action"] in ("warn", "stop"):
            return verdict
        now = parse_iso(verdict["next_check_at"])
    return None


def test_an_ec2_rule_longer_than_the_template_allowance_still_stops_an_idle_instance() -> None:
    """The EC2 kind reads CloudWatch only as far back as the allowance needs
    (ec2.query_start), and takes the allowance from look.policy, which inspection.inspect
    builds from the template's policy, not the rule's (the rule is chosen only after the
    observation, from its tags: inspection.py, `own = policy.for_resource(...)` after
    `kind.observe(...)`). With no busy period in the window, the instance is "idle since" the
    window's start, an hour or two ago, at every look: under a rule of 240 minutes and the
    template's 60, the deadline slides ahead of every look and an instance idle all day is
    never warned nor stopped. The same allowance set by the template parameter works."""
    until = T0 + timedelta(hours=20)
    template = Policy.from_env({"EC2_IDLE_MINUTES": "240"})
    assert first_warning_or_stop(template, until) is not None  # warned at about 13:00
    rule = "version: 1\nrules: [{name: long, match: {kinds: [ec2-instance]}, idle_minutes: 240}]"
    ruled = Policy.from_env({}).with_document(rule)
    assert first_warning_or_stop(ruled, until) is not None, "idle 20 hours, never warned"


def test_the_warning_before_a_running_cap_does_not_say_using_it_keeps_it() -> None:
    """Under a rule's max_running_minutes the resource is stopped "busy or not", yet the
    warning (verdict reason and the message rendered from it) says it "has been idle for 115
    minutes" and will be stopped "unless it is used", and tells the owner to "run a cell (any
    statement resets the idle clock)": an owner who follows it loses the work in progress."""
    busy = replace(READY, busy=True, last_activity_at=None)
    policy = with_doc("version: 1\nrules: [{name: capped, max_running_minutes: 120}]")
    now = T0 + timedelta(minutes=115)
    verdict = decide("glue-session", busy, policy, now)
    assert verdict.action == "warn"
    assert "unless used" not in verdict.reason
    resource = {"kind": "glue-session", "id": "s1", "region": "us-east-1", "account": "1" * 12}
    detail = {"outcome": "warning", "resource": resource, "verdict": verdict.to_dict()}
    event = {"id": "e1", "detail-type": "warning", "detail": {**detail, "at": to_iso(now)}}
    text = render(ReaperEvent.parse(event)).email_text
    assert "unless it is used" not in text
    assert "resets the idle clock" not in text
    assert "has been idle" not in text
