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
- huge: a record padded to HUGE_EVENT_BYTES (its request carries that much DefaultArguments),
  and on the reaper bus a `stopped` detail of that size naming no resource; both stay under
  PutEvents' 256 KB entry limit.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from idle_reaper.times import to_iso
from local_runtime.cloudtrail import api_call

if TYPE_CHECKING:
    from local_runtime.faults import EventDamage, Sender
    from local_runtime.runtime import Account

FOREIGN_ACCOUNT = "210987654321"
FOREIGN_SOURCE = "com.example.billing"
HUGE_EVENT_BYTES = 100_000
"""A start event this large stays under PutEvents' 256 KB entry limit ("The maximum size for a
PutEvents event entry is 256 KB", https://docs.aws.amazon.com/eventbridge/latest/APIReference/
API_PutEvents.html) and, carried twice into the first Inspect task's input (as `event` and
inside `state`), under Step Functions' 256 KiB (262,144 bytes) for a state's input
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_StateEnteredEventDetails.html).
A start event over about 128 KiB would overflow that task input in AWS (States.DataLimitExceeded);
the runtime does not enforce the limit (README, "Fault suite")."""
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
        padding = HUGE_EVENT_BYTES - len(json.dumps(event))
        request["defaultArguments"] = {"--extra-py-files": "s3://bucket/" + "x" * max(0, padding)}
    return event


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
        text = json.dumps({"outcome": "stopped", "padding": "x" * HUGE_EVENT_BYTES, "at": now})
    return {
        "EventBusName": bus,
        "Source": source,
        "DetailType": detail_type,
        "Detail": text,
    }
