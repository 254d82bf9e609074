"""Each handler imports only what it uses: what a fresh interpreter holds in sys.modules once
it has imported a handler (as Lambda's cold start does), checked module by module.

Every import is paid on each cold start (and, as deployed, compiled from source too:
`make coldstart` measures it), so a module one path needs is imported on that path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache

import pytest

from tests.conftest import ROOT

FUNCTIONS = ROOT / "functions"
SCRIPT = """\
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
__import__("app")
print(json.dumps(sorted(sys.modules)))
"""

MUST_NOT = {
    "audit": {
        "slack_sdk",  # audit never talks to Slack
        "idle_reaper.slack",
        "idle_reaper.notification",
        "idle_reaper.inspection",  # nor inspects anything: the package no longer pulls it in
        "idle_reaper.verdict",
        "idle_reaper.sweep",
        "aws_lambda_powertools.utilities.parameters",
        "aws_lambda_powertools.utilities.idempotency",
    },
    "notify": {
        "slack_sdk",  # Slack is off unless SlackWebhookSecretArn is set: imported when used
        "idle_reaper.slack",
        "aws_lambda_powertools.utilities.parameters",  # the secret is read only for Slack
        "idle_reaper.inspection",
        "idle_reaper.verdict",
        "idle_reaper.sweep",
        "idle_reaper.audit",
    },
    "inspect": {
        "slack_sdk",
        "idle_reaper.slack",
        "idle_reaper.notification",
        "idle_reaper.audit",
        "idle_reaper.sweep",
        "aws_lambda_powertools.utilities.idempotency",
    },
    "sweep": {
        "slack_sdk",
        "idle_reaper.slack",
        "idle_reaper.notification",
        "idle_reaper.audit",
        "aws_lambda_powertools.utilities.idempotency",
    },
    "keep": {
        "idle_reaper.notification",  # it answers the clicker itself, never through notify
        "idle_reaper.sweep",
        "idle_reaper.mail",
        "aws_lambda_powertools.utilities.idempotency",
    },
    "policy_check": {
        "slack_sdk",  # it only reads a parameter and puts an event
        "idle_reaper.slack",
        "idle_reaper.notification",
        "idle_reaper.messages",
        "idle_reaper.inspection",
        "idle_reaper.sweep",
        "idle_reaper.audit",
    },
}
MUST = {
    # what each handler does need: proves the check sees the handler's own imports
    "audit": {"idle_reaper.audit", "idle_reaper.reaper_event"},
    "notify": {"idle_reaper.notification", "aws_lambda_powertools.utilities.idempotency"},
    "inspect": {"idle_reaper.inspection", "idle_reaper.kinds.glue", "boto3"},
    "sweep": {"idle_reaper.sweep", "idle_reaper.claims", "boto3"},
    "policy_check": {"idle_reaper.policy_check", "idle_reaper.policy_document", "pydantic"},
    # every request is checked against Slack's signature first: slack_sdk is always needed
    "keep": {"idle_reaper.keep", "slack_sdk.signature", "idle_reaper.inspection", "boto3"},
}


@cache
def imported_by(function: str) -> frozenset[str]:
    """sys.modules of a fresh interpreter that imported functions/<function>/app.py with
    the layer's package on the path, and nothing of this shell's environment but PATH."""
    code_dir = FUNCTIONS / function
    env = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(code_dir), str(ROOT / "src")],
        cwd=code_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return frozenset(json.loads(done.stdout))


def test_every_function_folder_is_checked() -> None:
    folders = {p.parent.name for p in FUNCTIONS.glob("*/app.py")}
    assert folders == set(MUST_NOT) == set(MUST)


@pytest.mark.parametrize("function", sorted(MUST_NOT))
def test_a_handler_imports_only_what_it_uses(function: str) -> None:
    modules = imported_by(function)
    assert MUST[function] <= modules, MUST[function] - modules
    assert not MUST_NOT[function] & modules, sorted(MUST_NOT[function] & modules)


def test_notify_imports_slack_on_the_way_to_slack() -> None:
    # GIVEN a webhook and no time left: the delivery fails before any network, but only
    # after the Slack path has imported slack_sdk
    script = """\
import json, sys
sys.path[:0] = [sys.argv[1]]
from idle_reaper import notification
from idle_reaper.deadline import Deadline
from idle_reaper.exceptions import NotificationsFailedError
before = "slack_sdk" in sys.modules
channels = notification.Channels(
    slack_url=lambda: "https://hooks.example.invalid/x", slack_deadline=Deadline(0.0, lambda: 0.0)
)
try:
    notification.notify(json.load(open(sys.argv[2])), channels, None, lambda k, d: d())
    failed = ""
except NotificationsFailedError as exc:
    failed = str(exc)
print(json.dumps([before, "slack_sdk" in sys.modules, failed]))
"""
    done = subprocess.run(
        [sys.executable, "-c", script, str(ROOT / "src"), str(ROOT / "events/reaper-stopped.json")],
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    before, after, failed = json.loads(done.stdout)
    assert (before, after) == (False, True)
    assert failed.startswith("slack: no time left")
