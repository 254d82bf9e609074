"""Review of issue 10: "An invalid policy document stops nothing and produces one failed event
naming the bad field." Each test fails until the problem is fixed: a write can give two failed
events, and a document that was never written after the deployment gives none."""

from __future__ import annotations

from datetime import timedelta

from idle_reaper.policy_check import POLICY_INVALID
from local_runtime import policy_parameter
from local_runtime.actors import start
from local_runtime.emulators.glue import GlueEmulator
from local_runtime.runtime import running
from local_runtime.scenario import ResourceSpec
from tests.workflow.conftest import T0

NAME = "/idle-reaper/policy"
INVALID = "version: 1\nrules: [{name: a, idle_minutes: 0}]"


def test_a_document_invalid_before_the_stack_existed_is_still_reported_once() -> None:
    """The README's order of work is: write the document, deploy with PolicyParameterName
    naming it. Its Parameter Store Change came before the PolicyWritten rule existed, so no
    check ever runs: the session below is held (never stopped) for an hour, and would be for
    ever, and nobody is told why. The same holds after an update that points
    PolicyParameterName at another parameter, or a deploy whose new code refuses a document
    the old code accepted. Events are also "emitted on a best effort basis" (the same page):
    one may simply not come."""
    parameters = {"PolicyParameterName": NAME, "SweepMinutes": "0"}
    with running(T0, parameters, origin=T0 - timedelta(hours=1)) as account:
        policy_parameter.write(account, INVALID, NAME)  # an hour before the deployment
        account.clock.run_until(T0 + timedelta(minutes=1))
        start(account, ResourceSpec(kind="glue-session", id="s1"))
        account.clock.run_until(T0 + timedelta(hours=1))
        published = [p.detail_type for p in account.bus.published]
        glue = account.emulators["glue-session"]
        assert isinstance(glue, GlueEmulator)
        assert glue.status("s1") == "READY"  # held, as it should be: nothing stopped
        assert len(account.bus.started) == 1  # a watcher runs, and waits
        failed = [p for p in account.bus.published if p.detail_type == "failed"]
        assert len(failed) == 1, f"published: {published}"
        assert failed[0].detail["error"]["Error"] == POLICY_INVALID
