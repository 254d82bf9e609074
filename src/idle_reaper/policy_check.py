"""When the policy document is written, say at once, and once, if it is invalid.

Every watcher keeps waiting while the document is invalid (verdict.py), so it must not be
left unnoticed: the parameter's own change event (EventBridge `Parameter Store Change`) brings
one check per write, and an invalid document gives one `failed` reaper event that names the
bad field. Notify and Audit take it like any watcher's failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from idle_reaper.messages import POLICY_INVALID
from idle_reaper.policy import Policy


def changed_parameter(event: Mapping[str, Any]) -> tuple[str, str] | None:
    """(operation, parameter name) of a Parameter Store Change event, or None for anything
    else (the rule already filters on the name: this is for a person invoking it by hand)."""
    if event.get("source") != "aws.ssm" or event.get("detail-type") != "Parameter Store Change":
        return None
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        return None
    operation, name = detail.get("operation"), detail.get("name")
    if not isinstance(operation, str) or not isinstance(name, str):
        return None
    return operation[:64], name[:2048]


def failed_detail(name: str, policy: Policy, at: str) -> dict[str, Any] | None:
    """The `failed` reaper event's detail for an invalid document, or None when it is valid."""
    if policy.document_error is None:
        return None
    reason = f"the policy document {name} is invalid: nothing is stopped until it is fixed"
    return {
        "outcome": "failed",
        "resource": {},
        "verdict": {"action": "wait", "reason": reason, "checked_at": at},
        "error": {"Error": POLICY_INVALID, "Cause": policy.document_error},
        "policy": {"parameter": name},
        "at": at,
    }
