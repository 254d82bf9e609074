"""The IAM policy language: statements parsed from policy documents, and AWS's evaluation of a
request against identity, resource and session policies (an explicit Deny anywhere wins)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from local_runtime.iam.conditions import conditions_hold
from local_runtime.iam.context import Caller, Context, Unevaluable
from local_runtime.iam.patterns import action_pattern, arn_pattern, substitute
from local_runtime.iam.requests import Check
from local_runtime.iam.resource_tags import ResourceContext

# Not evaluated (each only makes the check less strict, never stricter): permissions boundaries,
# SCPs and RCPs, KMS key policies (KMS is not emulated), S3 calls (not checked), the resource of
# an operation without an ARN rule (`Identities.unchecked` lists those calls: their action is
# still checked), and trust policies except where a service takes a role (deploy-time for
# functions and state machines, CreateStateMachine). A condition key the runtime cannot know
# (`aws:SourceIp`, service keys, `aws:ResourceTag/...` on a service whose tags it does not read:
# resource_tags.py reads EC2's and SageMaker's) refuses the call with a message naming the key
# rather than guess.


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    condition: dict[str, Any]
    principal: Any = None
    not_principal: Any = None
    variables: bool = True
    """Policy variables are substituted only under Version 2012-10-17 (else literal text)."""

    def matches_action(self, action: str) -> bool:
        if self.actions is not None:
            return any(action_pattern(a).match(action) for a in self.actions)
        return not any(action_pattern(a).match(action) for a in self.not_actions or ())

    def matches_resource(self, resource: str | None, context: Context) -> bool:
        if resource is None:  # no ARN rule for this operation: only the action is checked
            return True
        if self.resources is not None:
            return any(self._names_resource(r, resource, context) for r in self.resources)
        if self.not_resources is not None:
            return not any(self._names_resource(r, resource, context) for r in self.not_resources)
        return False  # neither element: IAM would have refused the policy

    def _names_resource(self, pattern: str, resource: str, context: Context) -> bool:
        resolved = substitute(pattern, context) if self.variables else pattern
        return resolved is not None and arn_pattern(resolved).match(resource) is not None

    def applies(self, action: str, resource: str | None, context: Context) -> bool:
        return (
            self.matches_action(action)
            and self.matches_resource(resource, context)
            and (not self.condition or conditions_hold(self.condition, context, self.variables))
        )


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)


@lru_cache(maxsize=1024)
def parse(document: str) -> tuple[Statement, ...]:
    """A policy document's statements (cached: the same documents are read on every call)."""
    body = json.loads(document)
    variables = body.get("Version") == "2012-10-17"
    raw = body.get("Statement", [])
    return tuple(
        Statement(
            effect=str(s.get("Effect", "Deny")),
            actions=_strings(s["Action"]) if "Action" in s else None,
            not_actions=_strings(s["NotAction"]) if "NotAction" in s else None,
            resources=_strings(s["Resource"]) if "Resource" in s else None,
            not_resources=_strings(s["NotResource"]) if "NotResource" in s else None,
            condition=dict(s.get("Condition") or {}),
            principal=s.get("Principal"),
            not_principal=s.get("NotPrincipal"),
            variables=variables,
        )
        for s in (raw if isinstance(raw, list) else [raw])
    )


def _names(principal: Any, caller: Caller) -> str | None:
    """Whether a resource policy's Principal names the caller: "self" (the caller, its role,
    or everyone), "account" (the caller's account: grants nothing alone in the same account,
    but a Deny on it applies), or None."""
    if principal == "*":
        return "self"
    if not isinstance(principal, dict):
        return None
    values = principal.get("AWS", [])
    for value in values if isinstance(values, list) else [values]:
        if value in ("*", caller.principal_arn, caller.arn):
            return "self"
        if value in (caller.account, f"arn:aws:iam::{caller.account}:root"):
            return "account"
    return None


def _covers(statement: Statement, caller: Caller) -> bool:
    """Whether a resource policy's statement is about the caller (Principal or NotPrincipal)."""
    if statement.not_principal is not None:
        return not _names(statement.not_principal, caller)
    return _names(statement.principal, caller) is not None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    action: str = ""
    resource: str | None = None
    reason: str = ""


def decide(
    identity: Sequence[str],
    resource_policies: dict[str, str | None],
    requested: list[Check],
    caller: Caller,
    context: Context,
    session_policy: str | None = None,
) -> Decision:
    """AWS's evaluation for a request within one account: an explicit Deny in any policy
    refuses; else the identity policies, or a resource policy naming the caller, must allow
    (and a session policy, if any, must allow too)."""
    statements = [s for doc in identity for s in parse(doc)]
    session = parse(session_policy) if session_policy else None
    for action, resource in requested:
        document = resource_policies.get(resource or "*")
        scoped = ResourceContext(context, action, resource)  # with that resource's tags
        try:
            reason = _why_refused(action, resource, statements, document, session, caller, scoped)
        except Unevaluable as exc:
            reason = (
                f"because the local runtime cannot evaluate the {exc} (it refuses rather"
                " than guess; see local_runtime/iam/policies.py)"
            )
        if reason is not None:
            return Decision(False, action, resource, reason)
    return Decision(True)


def _why_refused(
    action: str,
    resource: str | None,
    identity: Sequence[Statement],
    resource_policy: str | None,
    session: Sequence[Statement] | None,
    caller: Caller,
    context: Context,
) -> str | None:
    """Why AWS refuses this action on this resource, or None when it allows it."""

    def any_applies(effect: str, statements: Sequence[Statement]) -> bool:
        return any(s.effect == effect and s.applies(action, resource, context) for s in statements)

    if any_applies("Deny", identity):
        return "with an explicit deny in an identity-based policy"
    own = parse(resource_policy) if resource_policy else ()
    if any_applies("Deny", [s for s in own if _covers(s, caller)]):
        return "with an explicit deny in a resource-based policy"
    granting = [s for s in own if _names(s.principal, caller) == "self"]
    if not (any_applies("Allow", identity) or any_applies("Allow", granting)):
        return f"because no identity-based policy allows the {action} action"
    if session is not None:
        if any_applies("Deny", session):
            return "with an explicit deny in a session policy"
        if not any_applies("Allow", session):
            return f"because no session policy allows the {action} action"
    return None
