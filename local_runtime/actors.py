"""What the people in a scenario do in the emulated account: start a resource (and its start
event reaches EventBridge, on time, late, twice or not at all), run work in it, stop it
themselves."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from idle_reaper.kinds.glue import DPU_PER_WORKER
from local_runtime import scenario as scenarios
from local_runtime.cloudtrail import api_call
from local_runtime.errors import ScenarioError
from local_runtime.runtime import Account
from local_runtime.scenario import Activity, ResourceSpec, Scenario

GLUE_ROLE = "arn:aws:iam::{account}:role/GlueInteractiveSessionRole"
STATEMENT_RETRY_SECONDS = 5


def schedule(account: Account, scenario: Scenario, spec: ResourceSpec) -> None:
    """Put everything this resource's user does on the clock."""
    clock = account.clock
    clock.at(scenario.start + spec.at, partial(start_glue_session, account, spec))
    for activity in spec.statements:
        clock.at(scenario.start + activity.at, partial(_run, account, spec, activity))
    if spec.stop_by_user is not None:
        clock.at(scenario.start + spec.stop_by_user, partial(account.glue.user_stop, spec.id))


def start_glue_session(account: Account, spec: ResourceSpec) -> None:
    request: dict[str, Any] = {
        "id": spec.id,
        "role": GLUE_ROLE.format(account=account.account_id),
        "command": {"name": "glueetl", "pythonVersion": "3"},
        "idleTimeout": spec.idle_timeout,
        "numberOfWorkers": spec.workers,
        "workerType": spec.worker_type,
        "glueVersion": "4.0",
        "tags": spec.tags,
    }
    account.clients["glue"].create_session(
        Id=spec.id,
        Role=request["role"],
        Command={"Name": "glueetl", "PythonVersion": "3"},
        IdleTimeout=spec.idle_timeout,
        NumberOfWorkers=spec.workers,
        WorkerType=spec.worker_type,
        GlueVersion="4.0",
        Tags=spec.tags,
    )
    if spec.event == "missed":
        return
    event = spec.start_event or api_call(
        source="aws.glue",
        event_source="glue.amazonaws.com",
        event_name="CreateSession",
        region=account.region,
        account=account.account_id,
        at=account.clock.now(),
        principal=spec.by,
        request=request,
        response={
            "session": {
                "id": spec.id,
                "status": "PROVISIONING",
                "createdOn": account.clock.now().isoformat(),
            }
        },
    )
    if spec.event == "late" and spec.event_delay is not None:
        # CloudTrail recorded the call now; EventBridge delivers the record later.
        account.clock.at(account.clock.now() + spec.event_delay, partial(account.bus.put, event))
        return
    for _ in range(2 if spec.event == "duplicate" else 1):
        account.bus.put(event)


def _run(account: Account, spec: ResourceSpec, activity: Activity) -> None:
    """Run a statement; a notebook waits for a session that is still provisioning."""
    life = account.glue.lives.get(spec.id)
    status = account.glue.status(spec.id)
    if status == "PROVISIONING" and life is not None:
        retry = account.clock.now() + timedelta(seconds=STATEMENT_RETRY_SECONDS)
        account.clock.at(retry, partial(_run, account, spec, activity))
        return
    if not account.glue.run_statement(
        spec.id,
        activity.runs,
        waiting=activity.waiting,
        ends=activity.ends.upper(),
        cancelling=activity.cancelling,
    ):
        account.glue.refused(spec.id, f"statement refused: session is {status or 'not created'}")


def spec_from_start_event(event: dict[str, Any]) -> ResourceSpec | None:
    """The resource a recorded start event created, to create again in the emulated account;
    its numbers are held to the scenario's bounds (a recording may be hand-edited or hostile)."""
    from idle_reaper.kinds import identify

    found = identify(event)
    if found is None:
        return None
    request = event["detail"].get("requestParameters") or {}
    if not isinstance(request, dict):
        raise ScenarioError("detail.requestParameters: must be an object")
    tags = request.get("tags") or {}
    if not isinstance(tags, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
    ):
        raise ScenarioError("detail.requestParameters.tags: must map strings to strings")
    where = "detail.requestParameters"
    worker_type = _given(request, "workerType", "G.1X")
    if not isinstance(worker_type, str) or worker_type not in DPU_PER_WORKER:
        raise ScenarioError(
            f"{where}.workerType: {str(worker_type)[:40]!r} is not one of"
            f" {', '.join(DPU_PER_WORKER)}"
        )
    return ResourceSpec(
        kind=found[0].name,
        id=found[1].id,
        by=found[1].principal,
        tags=dict(tags),
        workers=scenarios.whole(
            _given(request, "numberOfWorkers", 5),
            f"{where}.numberOfWorkers",
            scenarios.MIN_WORKERS,
            scenarios.MAX_WORKERS,
        ),
        worker_type=worker_type,
        idle_timeout=scenarios.whole(
            _given(request, "idleTimeout", 2880),
            f"{where}.idleTimeout",
            scenarios.MIN_IDLE_TIMEOUT,
            scenarios.MAX_IDLE_TIMEOUT,
        ),
        start_event=event,
    )


def _given(request: dict[str, Any], key: str, default: object) -> Any:
    """The request's value, or Glue's default when the call left it out (absent or null)."""
    value = request.get(key)
    return default if value is None else value
