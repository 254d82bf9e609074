"""What the people in a scenario do in the emulated account: start a resource (and its start
event reaches EventBridge, or not), run work in it, stop it themselves."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from local_runtime.cloudtrail import api_call
from local_runtime.runtime import Account
from local_runtime.scenario import ResourceSpec, Scenario

GLUE_ROLE = "arn:aws:iam::{account}:role/GlueInteractiveSessionRole"
STATEMENT_RETRY_SECONDS = 5


def schedule(account: Account, scenario: Scenario, spec: ResourceSpec) -> None:
    """Put everything this resource's user does on the clock."""
    clock = account.clock
    clock.at(scenario.start + spec.at, partial(start_glue_session, account, spec))
    for activity in spec.statements:
        clock.at(scenario.start + activity.at, partial(_run, account, spec, activity.runs))
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
    for _ in range(2 if spec.event == "duplicate" else 1):
        account.bus.put(event)


def _run(account: Account, spec: ResourceSpec, runs: timedelta) -> None:
    """Run a statement; a notebook waits for a session that is still provisioning."""
    life = account.glue.lives.get(spec.id)
    status = account.glue.status(spec.id)
    if status == "PROVISIONING" and life is not None:
        retry = account.clock.now() + timedelta(seconds=STATEMENT_RETRY_SECONDS)
        account.clock.at(retry, partial(_run, account, spec, runs))
        return
    if not account.glue.run_statement(spec.id, runs):
        account.glue.refused(spec.id, f"statement refused: session is {status or 'not created'}")


def spec_from_start_event(event: dict[str, Any]) -> ResourceSpec | None:
    """The resource a recorded start event created, to create again in the emulated account."""
    from idle_reaper.kinds import identify

    found = identify(event)
    if found is None:
        return None
    request = event["detail"].get("requestParameters") or {}
    tags = request.get("tags") or {}
    return ResourceSpec(
        kind=found[0].name,
        id=found[1].id,
        by=found[1].principal,
        tags={str(k): str(v) for k, v in tags.items()},
        workers=int(request.get("numberOfWorkers") or 5),
        worker_type=str(request.get("workerType") or "G.1X"),
        idle_timeout=int(request.get("idleTimeout") or 2880),
        start_event=event,
    )
