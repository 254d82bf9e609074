"""When the policy document is invalid, say so, once, naming the bad field.

Every watcher keeps waiting while the document is invalid (verdict.py), so it must not be
left unnoticed. The parameter's own change event (EventBridge `Parameter Store Change`) brings a
check at each write; a schedule brings one every 15 minutes, for a document that was invalid
before the stack existed (its write came before the rule) or whose change event was lost (they
are best effort). Each distinct problem is reported once a day (Powertools Idempotency), as a
`failed` reaper event that Notify and Audit take like any watcher's failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from idle_reaper.policy import Policy

POLICY_INVALID = "PolicyInvalid"
"""The error a `failed` event names when the policy document is refused."""
REPORT_AGAIN_SECONDS = 24 * 3600
"""A document that stays invalid is reported again once a day, never more often."""
WRITES = ("Create", "Update", "Delete")
"""The operations that change the document (a label on a version does not)."""


def checked_by(event: Mapping[str, Any], name: str) -> str | None:
    """Why this invocation checks the document (`Update`, `schedule`), or None: a change of
    another parameter, a label, anything else."""
    if event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event":
        return "schedule"
    changed = changed_parameter(event)
    if changed is None or changed[1] != name or changed[0] not in WRITES:
        return None
    return changed[0]


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
