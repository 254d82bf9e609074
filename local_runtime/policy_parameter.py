"""The policy document's SSM parameter in the emulated account, written as an admin would.

Writing it is a PutParameter, and Parameter Store then puts its own `Parameter Store Change`
event on the default bus (moto does not): the runtime emits it, in AWS's shape, so the stack's
policy check runs on each write as it would deployed.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from idle_reaper.times import to_iso
from local_runtime.stack import partition_of

if TYPE_CHECKING:
    from local_runtime.runtime import Account

NAME = "/idle-reaper/policy"
"""Where scenarios keep their `policy:` document (the PolicyParameterName they deploy with)."""


def write(account: Account, text: str, name: str = NAME) -> None:
    """PutParameter (a String, overwritten), then its change event."""
    ssm = account.clients["ssm"]
    try:
        ssm.get_parameter(Name=name)
        operation = "Update"
    except ssm.exceptions.ParameterNotFound:
        operation = "Create"
    ssm.put_parameter(Name=name, Value=text, Type="String", Overwrite=True, Tier="Advanced")
    account.bus.put(change_event(account, name, operation))


def change_event(account: Account, name: str, operation: str) -> dict[str, Any]:
    """A `Parameter Store Change` event (Systems Manager User Guide, "Amazon EventBridge event
    examples for Systems Manager": source aws.ssm; detail operation, name, type, description)."""
    arn = f"arn:{partition_of(account.region)}:ssm:{account.region}:{account.account_id}"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Parameter Store Change",
        "source": "aws.ssm",
        "account": account.account_id,
        "time": to_iso(account.clock.now()),
        "region": account.region,
        "resources": [f"{arn}:parameter/{name.removeprefix('/')}"],
        "detail": {"operation": operation, "name": name, "type": "String", "description": ""},
    }
