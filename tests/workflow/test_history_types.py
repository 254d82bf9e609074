"""The summary counts transitions from the history's event types read straight from the
emulated Step Functions (Account.history_types): they are GetExecutionHistory's, in order."""

from __future__ import annotations

from tests.workflow.conftest import Watch


def test_history_types_are_get_execution_historys(watch: Watch) -> None:
    watch.start(tags={"owner": "alice@example.com"})
    watch.run(10)  # mid-watch: the execution is asleep in a Wait state
    running = watch.account.history_types(watch.execution)
    assert running == [e["type"] for e in watch.account.history(watch.execution)]
    assert "WaitStateEntered" in running
    watch.run(120)
    finished = watch.account.history_types(watch.execution)
    assert finished == [e["type"] for e in watch.account.history(watch.execution)]
    assert finished[-1] == "ExecutionSucceeded"
    assert sum(t.endswith("StateEntered") for t in finished) == watch.account.state_transitions(
        watch.execution
    )
