"""Review of issue 10: what a guardrail may stop. Each test fails until the problem is fixed.

decide() checks guardrails before anything else that ends a watch (verdict.py: `broken` is
computed before `policy.is_exempt` and before `seen.unwatchable`), so `action: stop` reaches
resources the reaper promises never to stop, and it does so at every look, not only the first.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from idle_reaper.inspection import inspect
from idle_reaper.kinds.ec2 import PERIOD
from idle_reaper.policy import Policy
from tests.unit.test_ec2_kind import IDLE, IID, T0, FakeCloudWatch, FakeEc2
from tests.unit.test_glue_kind import FakeGlue

EC2 = {"kind": "ec2-instance", "id": IID, "region": "us-east-1", "account": "123456789012"}
STOP_UNOWNED = "version: 1\nguardrails: {required_tags: [owner], action: stop}"


def look_at_ec2(tags: dict[str, str], document: str, **instance: Any) -> dict[str, Any]:
    now = T0 + timedelta(hours=1)
    ec2 = FakeEc2(tags=tags, **instance)
    cloudwatch = FakeCloudWatch({T0 + PERIOD * i: IDLE for i in range(12)}, now)
    policy = Policy.from_env({}).with_document(document)
    clients = {"ec2": ec2, "cloudwatch": cloudwatch}
    result = inspect({"resource": EC2}, lambda service, _r: clients[service], policy, None, now)
    verdict: dict[str, Any] = result["verdict"]
    return verdict


@pytest.mark.parametrize(
    ("tags", "instance"),
    [
        # README "EnableEc2": "only those tagged idle-reaper:opt-in=true are ever judged or
        # stopped". IAM refuses this stop, so the watcher counts 6 refusals and ends `failed`:
        # one failed event per unowned instance in the account, for a rule meant for Glue.
        ({"Name": "db"}, {}),
        # Opted in, but an Auto Scaling group member: ec2.stop_problem says the reaper never
        # stops one (the group replaces it, and the replacement carries the same tags: a
        # stop/replace loop). IAM allows this stop: it happens.
        ({"idle-reaper:opt-in": "true", "aws:autoscaling:groupName": "web"}, {}),
        # Opted in, but a Spot Instance (EC2 stops one only under a persistent request).
        ({"idle-reaper:opt-in": "true"}, {"InstanceLifecycle": "spot"}),
    ],
    ids=["not-opted-in", "auto-scaling-member", "spot"],
)
def test_a_guardrail_never_stops_an_instance_the_reaper_must_not_stop(
    tags: dict[str, str], instance: dict[str, Any]
) -> None:
    without = look_at_ec2(tags, "version: 1", **instance)
    assert without["outcome"] == "exempt"  # what the reaper does without the guardrail
    with_guardrail = look_at_ec2(tags, STOP_UNOWNED, **instance)
    assert with_guardrail["action"] != "stop", with_guardrail["reason"]


def test_a_guardrail_added_later_does_not_stop_watched_resources_at_once() -> None:
    """README "Guardrails": "checked at a resource's first look"; issue 10: "Guardrails at
    creation". decide() has no notion of a first look: a document edited to add
    `action: stop` stops, at its next look and without a warning, every resource already
    watched that breaches it (here a session watched for 10 hours, 40 looks in)."""
    glue = FakeGlue()  # 5 workers, tagged with an owner, idle since T0
    ref = {"kind": "glue-session", "id": "s1", "region": "us-east-1", "account": "123456789012"}
    state = {
        "resource": {**ref, "started_at": "2026-03-02T09:00:00Z"},
        "verdict": {"action": "wait", "outcome": None, "reason": "busy"},
        "claim": {"held": True},
        "watch": {"looks": 40, "generation": 1, "origin": "w1", "history": 480},
        "tries": {"failures": 0, "refusals": 0},
    }
    document = "version: 1\nguardrails: {max_workers: 2, action: stop}"
    policy = Policy.from_env({"GLUE_IDLE_MINUTES": "1440"}).with_document(document)
    now = T0 + timedelta(hours=10)
    result = inspect({"state": state}, lambda _s, _r: glue, policy, None, now)
    assert result["verdict"]["action"] != "stop", result["verdict"]["reason"]
