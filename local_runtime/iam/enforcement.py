"""IAM switched on: moto's authorization hook answered here for every call, so a missing or
wrong permission in template.yaml fails a scenario instead of a deployment."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from local_runtime.iam.context import Caller, LazyContext, request_context
from local_runtime.iam.identities import Identities, create_admin
from local_runtime.iam.policies import Decision, decide
from local_runtime.iam.put_events import (
    REFUSED_ENTRIES,
    DecideEntry,
    answering_refusals,
    decide_entries,
    without_conditions_on,
)
from local_runtime.iam.refusals import access_denied, invalid_token
from local_runtime.iam.requests import (
    Call,
    checks,
    credential_scope,
    iam_prefix,
    params,
    put_events_entries,
    request_tags,
)
from local_runtime.iam.resource_policies import resource_policy

# Why not moto's own check (`set_initial_no_auth_action_count`, moto 5.2.5): it goes only as far
# as the action. Every service but SQS, IAM and STS hands its check the resource "*", which a
# statement naming an ARN never matches (the template's `glue:GetSession` on `session/*` is
# refused); its wildcards are regular expressions (`.` and `?` mean something else); Conditions
# are ignored except `StringEquals` on `sts:ExternalId`; resource policies are ignored;
# `lambda:Invoke` is not the `lambda:InvokeFunction` a policy names; its signature check fails
# for Lambda's Invoke; and a refusal comes back as XML with code 403 from JSON services. So
# `authorize` resolves the caller from the access key (signatures are not verified: the runtime
# hands out every key), works out the call's IAM action and resource ARN(s) (requests.py), and
# evaluates identity, resource and session policies with AWS's logic (policies.py).

_PUBLIC_OPERATIONS = frozenset(
    {
        "AWSCognitoIdentityService.GetId",
        "AWSCognitoIdentityService.GetOpenIdToken",
        "AWSCognitoIdentityProviderService.ConfirmSignUp",
        "AWSCognitoIdentityProviderService.GetUser",
        "AWSCognitoIdentityProviderService.ForgotPassword",
        "AWSCognitoIdentityProviderService.InitiateAuth",
        "AWSCognitoIdentityProviderService.SignUp",
    }
)
"""Operations AWS serves without credentials."""
_ROLE_TAKING = ("CreateStateMachine", "UpdateStateMachine")
"""Step Functions operations that check the service can assume the role they are given."""

_ACTIVE: Identities | None = None
_ACTIVE_LOCK = threading.Lock()


def active() -> Identities | None:
    """The identities of the account being emulated now (moto is process-wide: one at a time)."""
    return _ACTIVE


@contextmanager
def enforced(account: str, region: str) -> Iterator[Identities]:
    """Create the runtime's administrator, then check every call against its caller's
    policies until the block ends. Inside the block, code that builds boto3 clients from the
    environment (the runtime, the tests, the handlers) gets the administrator, or the role of
    the function whose environment is applied (deploy.py puts it there, as Lambda does; the
    state machine's Tasks call with its role, fidelity.py)."""
    global _ACTIVE
    import boto3
    from moto.core.responses import BaseResponse
    from moto.events.responses import EventsHandler

    admin = create_admin(account, region)
    identities = Identities(account, region)

    def hook(response: Any, resource: str = "*") -> None:  # in place of BaseResponse's method
        authorize(identities, response)

    with _ACTIVE_LOCK:
        if _ACTIVE is not None:
            raise RuntimeError("IAM enforcement is already on: one emulated account at a time")
        _ACTIVE = identities
    try:
        with ExitStack() as stack:
            stack.enter_context(mock.patch.dict(os.environ, admin.environment()))
            os.environ.pop("AWS_SESSION_TOKEN", None)  # a user's keys carry none
            stack.enter_context(
                mock.patch.object(BaseResponse, "_authenticate_and_authorize_normal_action", hook)
            )
            stack.enter_context(
                mock.patch.object(boto3, "_get_default_session", _session_reading_environment())
            )
            stack.enter_context(
                mock.patch.object(
                    EventsHandler, "put_events", answering_refusals(EventsHandler.put_events)
                )
            )
            yield identities
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE = None


def authorize(identities: Identities, response: Any) -> None:
    """moto's authorization hook, for every request but S3's: returns when the caller's
    policies allow the call, else raises the refusal AWS would send."""
    headers = response.headers
    if headers.get("X-Amz-Target") in _PUBLIC_OPERATIONS:
        return
    scope = credential_scope(headers.get("Authorization") or "")
    service = scope[3] if len(scope) > 3 else ""
    region = scope[2] if len(scope) > 2 else identities.region
    operation = str(response._get_action() or "")
    if (service, operation) == ("sts", "GetCallerIdentity"):
        return  # always allowed, even under an explicit deny
    caller = identities.caller(scope[0] if scope else "", response.current_account)
    if caller is None:
        raise invalid_token(response, service)
    call = Call(iam_prefix(service), operation, region, response.current_account, params(response))
    requested = checks(call)
    identities.unchecked.update((caller.name, a) for a, resource in requested if resource is None)
    entries = put_events_entries(call)
    if entries is not None:  # authorized entry by entry (put_events.py)
        decision, refused = decide_entries(entries, _entry_decider(identities, caller, region))
        setattr(response, REFUSED_ENTRIES, refused)
    else:
        decision = decide(
            identities.policies(caller),
            {r: resource_policy(r) for _, r in requested if r not in (None, "*")},
            requested,
            caller,
            LazyContext(
                lambda: request_context(
                    caller, region, datetime.now(UTC), identities.tags(caller), request_tags(call)
                )
            ),
            caller.session_policy,
        )
    identities.decisions[(caller.name, requested[0][0], decision.allowed)] += 1
    if not decision.allowed:
        # AWS names no resource for an action that supports no resource-level permission
        named = decision.resource not in (None, "", "*")
        on = f" on resource: {decision.resource}" if named else ""
        message = (
            f"User: {caller.arn} is not authorized to perform: {decision.action}{on}"
            f" {decision.reason}"
        )
        raise access_denied(response, service, message)
    role_arn = call.params.get("roleArn")
    if service == "states" and operation in _ROLE_TAKING and role_arn:
        problem = identities.untrusted(str(role_arn), "states.amazonaws.com")
        if problem:
            message = (
                "Neither the global service principal states.amazonaws.com, nor the regional"
                f" one is authorized to assume the provided role ({problem})."
            )
            raise access_denied(response, service, message)


def _entry_decider(identities: Identities, caller: Caller, region: str) -> DecideEntry:
    """How one PutEvents entry is decided: events:PutEvents on its bus, with its own keys, the
    conditions on `leave_out` taken out of every policy (put_events.decide_entries)."""
    identity = identities.policies(caller)
    tags = identities.tags(caller)

    def decide_one(bus: str, keys: Mapping[str, list[str]], leave_out: frozenset[str]) -> Decision:
        context = request_context(caller, region, datetime.now(UTC), tags, None, keys)
        return decide(
            [d for d in (without_conditions_on(p, leave_out) for p in identity) if d],
            {bus: without_conditions_on(resource_policy(bus), leave_out)},
            [("events:PutEvents", bus)],
            caller,
            context,
            without_conditions_on(caller.session_policy, leave_out),
        )

    return decide_one


def _session_reading_environment() -> Callable[[], Any]:
    """boto3's default session resolves credentials once and keeps them; in Lambda each
    function has its own process, so its own default session and its own role. Here every
    function shares this process: the default session reads the credentials from the
    environment whenever it builds a client, so `boto3.client("sns")` in a handler signs with
    that function's role. (One session, not one per role: each session would load every
    service model again, about 80 ms a client.)"""
    import boto3
    from botocore.credentials import Credentials as BotoCredentials

    session = boto3.session.Session()

    def credentials() -> Any:
        key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
        if not key or not secret:
            return None
        return BotoCredentials(key, secret, os.environ.get("AWS_SESSION_TOKEN"))

    session._session.get_credentials = credentials  # type: ignore[method-assign]
    return lambda: session
