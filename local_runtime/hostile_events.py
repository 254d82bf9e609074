"""Damaged events a scenario's `faults:` put on both buses: malformed, truncated, foreign, huge.

On the default bus each is a Glue CreateSession record as CloudTrail would hand it to
EventBridge, delivered as AWS delivers its own events (`Bus.put`), damaged so; with a
`resource` it is that session's own start event. On the reaper's bus each
is a reaper event sent with PutEvents (source `idle-reaper`) by someone in the account, whom
the bus policy refuses, or (`as: watcher`) with the watcher's own role, as a watcher gone wrong
would; either way it is not counted among the events the watcher published.

- malformed: every field the reaper reads has the wrong type (ids that are numbers or lists, a
  request that is a string, an identity that is a list, a time that is not one).
- truncated: cut short. A CloudTrail record whose request and response never arrived; on the
  reaper bus the Detail text cut in half, which is no longer JSON: PutEvents refuses the entry
  (MalformedDetail, "The JSON provided is not valid": PutEventsResultEntry's ErrorCode) and
  nothing is delivered.
- foreign: from elsewhere. A record from another account (a bus forwarding another account's
  events), and on the reaper bus an event from another source.
- huge: a record padded (its request carries that much DefaultArguments) to the most a start
  event can be and still be watched: its watcher's first Inspect task input (the function's
  ARN, and the Payload: the start event in the state, the execution's ARN and name) is exactly
  Step Functions' 262,144 bytes (`first_look_bytes`). On the reaper bus, a `stopped` detail of
  that size naming no resource. Both are under PutEvents' entry limit (1 MB since January
  2026, HUGE_ENTRY_LIMIT).
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from idle_reaper.times import to_iso
from idle_reaper.watch import start_input
from local_runtime.cloudtrail import api_call
from local_runtime.fidelity import PAYLOAD_LIMIT_BYTES, payload_bytes

if TYPE_CHECKING:
    from local_runtime.faults import EventDamage, Sender
    from local_runtime.runtime import Account

FOREIGN_ACCOUNT = "210987654321"
FOREIGN_SOURCE = "com.example.billing"
HUGE_ENTRY_LIMIT = 1_048_576
"""PutEvents' entry limit, raised from 256 KB to 1 MB on 2026-01-29 ("AWS has raised the maximum
payload size from 256 KB to 1 MB for ... Amazon EventBridge", AWS Compute Blog, "More room to
build: serverless services now support payloads up to 1 MB"; botocore's PutEvents documentation:
"the total entry size must be less than 1MB"). A start event larger than Step Functions' 256 KiB
execution input can reach EventBridge, but no watcher: StartExecution refuses it, EventBridge
dead-letters it (WatcherStartDeadLetterQueue, alarmed) and the sweeper finds the resource."""
GHOST_SESSION = "ghost-session"
"""The session a damaged event names when the fault names no resource: it does not exist."""


def put(
    account: Account, damage: EventDamage, resource: str | None, sender: Sender
) -> dict[str, Any]:
    """Put one damaged event on the default bus and one on the reaper's bus, now, the second
    by `sender`: someone in the account (the runtime's administrator), or the watcher's own
    role. PutEvents' answer to the second: its entry (an EventId, or an ErrorCode such as
    MalformedDetail), or the whole call's refusal (`{"ErrorCode": "AccessDeniedException"}`:
    the bus policy lets only the watcher, and the policy check, publish)."""
    account.bus.put(_start_event(account, damage, resource or GHOST_SESSION))
    entry = _reaper_entry(account, damage, resource or GHOST_SESSION)
    role = account.stack.arn("WatcherStateMachineRole") if sender == "watcher" else None
    return _put_as(account, role, entry)


def _put_as(account: Account, role_arn: str | None, entry: dict[str, Any]) -> dict[str, Any]:
    import boto3
    from botocore.exceptions import ClientError

    kwargs: dict[str, Any] = {}
    if role_arn is not None and account.iam is not None:
        kwargs = account.iam.role_credentials(role_arn, "states").client_kwargs()
    events = boto3.client("events", region_name=account.region, **kwargs)  # type: ignore[call-overload]
    try:
        return account.bus.inject(events, [entry])[0]
    except ClientError as exc:
        return {"ErrorCode": exc.response["Error"]["Code"]}


def _start_event(account: Account, damage: EventDamage, session_id: str) -> dict[str, Any]:
    now = account.clock.now()
    request: dict[str, Any] = {
        "id": session_id,
        "role": f"arn:aws:iam::{account.account_id}:role/GlueInteractiveSessionRole",
        "command": {"name": "glueetl", "pythonVersion": "3"},
        "numberOfWorkers": 5,
        "workerType": "G.1X",
        "glueVersion": "4.0",
    }
    response: dict[str, Any] = {
        "session": {"id": session_id, "status": "PROVISIONING", "createdOn": now.isoformat()}
    }
    event = api_call(
        source="aws.glue",
        event_source="glue.amazonaws.com",
        event_name="CreateSession",
        region=account.region,
        account=account.account_id,
        at=now,
        principal=None,
        request=request,
        response=response,
    )
    detail = event["detail"]
    if damage == "malformed":
        detail["requestParameters"] = f"id={session_id}"
        detail["responseElements"] = {"session": {"id": [session_id], "status": 7}}
        detail["userIdentity"] = [{"arn": 12}]
        detail["awsRegion"] = {"name": account.region}
        event["time"] = "yesterday"
    elif damage == "truncated":
        for key in ("requestParameters", "responseElements", "userIdentity", "eventID"):
            detail.pop(key)
    elif damage == "foreign":
        event["account"] = detail["recipientAccountId"] = FOREIGN_ACCOUNT
    else:
        request["defaultArguments"] = {"--extra-py-files": "s3://bucket/"}
        padding = PAYLOAD_LIMIT_BYTES - first_look_bytes(account, event)
        request["defaultArguments"]["--extra-py-files"] += "x" * padding
    return event


def first_look_bytes(account: Account, event: dict[str, Any]) -> int:
    """The size of the first Inspect task's input after Parameters (the function's ARN and the
    Payload: TaskScheduledEventDetails' `parameters`) for a watcher of `event` started by its
    rule: the start rule's input (`start_input`) as the state, the execution's ARN and name
    (EventBridge names it with a UUID, 36 characters)."""
    name = str(uuid.UUID(int=0))
    machine = account.stack.ref("WatcherStateMachine")
    arn = machine.replace(":stateMachine:", ":execution:") + ":" + name
    payload = {"state": start_input(event), "execution_arn": arn, "execution_name": name}
    return payload_bytes({"FunctionName": account.stack.arn("InspectFunction"), "Payload": payload})


def _reaper_entry(account: Account, damage: EventDamage, session_id: str) -> dict[str, Any]:
    bus = account.stack.ref("ReaperEventBus")
    now = to_iso(account.clock.now())
    resource = {
        "kind": "glue-session",
        "id": session_id,
        "region": account.region,
        "account": account.account_id,
    }
    detail: dict[str, Any] = {
        "outcome": "stopped",
        "resource": resource,
        "verdict": {"action": "done", "outcome": "stopped", "reason": "idle"},
        "execution_arn": f"arn:aws:states:{account.region}:{account.account_id}:execution:x:"
        + str(uuid.uuid4()),
        "at": now,
    }
    source, detail_type = "idle-reaper", "stopped"
    text = json.dumps(detail)
    if damage == "malformed":
        text = json.dumps({"outcome": 7, "resource": session_id, "verdict": [], "at": "yesterday"})
    elif damage == "truncated":
        text = text[: len(text) // 2]
    elif damage == "foreign":
        source = FOREIGN_SOURCE
    else:
        text = json.dumps({"outcome": "stopped", "padding": "x" * PAYLOAD_LIMIT_BYTES, "at": now})
    return {
        "EventBusName": bus,
        "Source": source,
        "DetailType": detail_type,
        "Detail": text,
    }
