"""IAM in the emulated account: who makes each call, and whether their policies allow it.

Every call into moto is checked against its caller's policies, as AWS checks it, so a missing or
wrong permission in template.yaml fails a scenario instead of a deployment:
- each Lambda handler calls with its function role's credentials (deploy.py puts them in the
  function's environment, as Lambda does), the interpreter's Task integrations with the state
  machine role's (fidelity.py), and the runtime's own set-up and scenario actors with an
  administrator of their own (`local-runtime`, Allow */*).
- moto 5.2.5 can check calls itself (`set_initial_no_auth_action_count`), but only as far as the
  action: every service but SQS, IAM and STS hands its check the resource "*", which a statement
  naming an ARN never matches (the template's `glue:GetSession` on `session/*` is refused), its
  wildcards are regular expressions (`.` and `?` mean something else), Conditions are ignored
  except `StringEquals` on `sts:ExternalId`, resource policies are ignored, `lambda:Invoke` is
  not the `lambda:InvokeFunction` a policy names, its signature check fails for Lambda's Invoke,
  and a refusal comes back as XML with code 403 from JSON services. So this module answers
  moto's authorization hook itself: it resolves the caller from the access key (signatures are
  not verified: the runtime hands out every key), works out the IAM action and the resource
  ARN(s) of the call from its parameters, and evaluates identity, resource and session policies
  and their Conditions with AWS's documented logic (an explicit Deny anywhere wins, else an
  Allow is needed; ARN wildcards per segment; actions case-insensitive; a condition key missing
  from the request as documented).
- a refusal is the error AWS sends for that protocol: `AccessDeniedException` from JSON services
  (a Step Functions aws-sdk Task sees `Glue.AccessDeniedException`), `AuthorizationError` from
  SNS, `AccessDenied` from the other query services.

Not evaluated (these only make the check less strict, never stricter): permissions boundaries,
SCPs and RCPs, KMS key policies (KMS is not emulated), S3 calls (not checked), the resource
of an operation without an ARN rule here (`Identities.unchecked` lists those calls: their action
is still checked), and trust policies except where a service takes a role (deploy-time for
functions and state machines, CreateStateMachine). A condition key the runtime cannot know
(`aws:SourceIp`, `aws:ResourceTag/...`, service keys) refuses the call with a message naming the
key rather than guess.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any
from unittest import mock

from werkzeug.exceptions import HTTPException

from local_runtime.errors import TemplateError

ADMIN_USER = "local-runtime"
"""The runtime's own identity: deploys the stack and plays the scenario's people."""
_ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
SESSION_SECONDS = 43200
"""Role credentials last 12 hours in AWS; moto never expires them (the virtual clock may move
a week), and botocore treats credentials from the environment as static, so they last the run."""

_ACTIVE: Identities | None = None
_ACTIVE_LOCK = threading.Lock()


def active() -> Identities | None:
    """The identities of the account being emulated now (moto is process-wide: one at a time)."""
    return _ACTIVE


# -- credentials and callers ----------------------------------------------------------------------
@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def environment(self) -> dict[str, str]:
        """What Lambda puts in a function's environment for its role."""
        env = {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env

    def client_kwargs(self) -> dict[str, str]:
        kwargs = {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
        }
        if self.session_token:
            kwargs["aws_session_token"] = self.session_token
        return kwargs


@dataclass(frozen=True)
class Caller:
    """Who a request comes from, as the request context describes them."""

    arn: str
    """What AWS names in a refusal: the user, or `sts::...:assumed-role/<role>/<session>`."""
    principal_arn: str
    """aws:PrincipalArn: the user, or the role (not the session)."""
    account: str
    kind: str  # "User" or "AssumedRole"
    name: str  # the user's or the role's name
    userid: str
    session_policy: str | None = None


class Unevaluable(Exception):
    """A Condition needs a request-context key this runtime cannot know: it refuses the call
    rather than guess (AWS would know the value; a guess could pass what AWS refuses)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


# -- the request ----------------------------------------------------------------------------------
@dataclass
class Call:
    """One API request as IAM sees it."""

    service: str  # the signing name, which is the IAM prefix: glue, states, dynamodb, ...
    operation: str  # the API operation: GetSession, Invoke, ...
    region: str
    account: str
    params: dict[str, Any]

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"


_ACTION_NAMES = {
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeWithResponseStream"): "InvokeFunction",
}
"""Operations whose IAM action has another name than the API operation."""

Check = tuple[str, str | None]
"""(IAM action, resource ARN); None when the runtime has no ARN rule for the operation."""


def checks(call: Call) -> list[Check]:
    """The (action, resource) pairs AWS authorizes for this call; all must be allowed."""
    action = f"{call.service}:{_ACTION_NAMES.get((call.service, call.operation), call.operation)}"
    rule = _RESOURCE_RULES.get(call.service)
    try:
        resources = rule(call) if rule is not None else None
    except (KeyError, TypeError, AttributeError):  # a malformed request: moto will refuse it
        resources = None
    if resources is None:
        return [(action, None)]
    return [r if isinstance(r, tuple) else (action, r) for r in resources]


def _glue(call: Call) -> list[Any] | None:
    op, p = call.operation, call.params
    if op in ("CreateSession", "GetSession", "StopSession", "DeleteSession") and "Id" in p:
        return [call.arn("glue", f"session/{p['Id']}")]
    if op in ("RunStatement", "GetStatement", "ListStatements", "CancelStatement"):
        return [call.arn("glue", f"session/{p.get('SessionId', '')}")]
    if op in ("GetTags", "TagResource", "UntagResource") and "ResourceArn" in p:
        return [p["ResourceArn"]]
    return None


def _dynamodb(call: Call) -> list[Any] | None:
    op, p = call.operation, call.params

    def table(name: str, index: str | None = None) -> str:
        arn = name if name.startswith("arn:") else call.arn("dynamodb", f"table/{name}")
        return f"{arn}/index/{index}" if index else arn

    if op in ("BatchGetItem", "BatchWriteItem"):
        return [table(name) for name in p.get("RequestItems", {})]
    if op in ("TransactWriteItems", "TransactGetItems"):
        actions = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
            "Get": "GetItem",
        }
        out: list[Any] = []
        for item in p.get("TransactItems", []):
            for kind, body in item.items():
                out.append((f"dynamodb:{actions.get(kind, kind)}", table(body["TableName"])))
        return out
    if op in ("ListTables", "DescribeLimits", "DescribeEndpoints"):
        return ["*"]
    if "TableName" in p:
        return [table(p["TableName"], p.get("IndexName") if op in ("Query", "Scan") else None)]
    if "ResourceArn" in p:
        return [p["ResourceArn"]]
    return None


_RULE_NAME_PARAMETERS = {
    **dict.fromkeys(("PutRule", "DeleteRule", "DescribeRule", "EnableRule", "DisableRule"), "Name"),
    **dict.fromkeys(("PutTargets", "RemoveTargets", "ListTargetsByRule"), "Rule"),
}


def _events(call: Call) -> list[Any] | None:
    op, p = call.operation, call.params

    def bus(name: str | None) -> str:
        name = name or "default"
        return name if name.startswith("arn:") else call.arn("events", f"event-bus/{name}")

    if op == "PutEvents":
        return sorted({bus(e.get("EventBusName")) for e in p.get("Entries", [])}) or [bus(None)]
    rule_name = p.get(_RULE_NAME_PARAMETERS.get(op, ""))
    if rule_name:
        on = str(p.get("EventBusName") or "default").rsplit("/", 1)[-1]
        return [
            call.arn("events", f"rule/{rule_name}" if on == "default" else f"rule/{on}/{rule_name}")
        ]
    if op in ("CreateEventBus", "DeleteEventBus", "DescribeEventBus"):
        return [bus(p.get("Name"))]
    if op in ("PutPermission", "RemovePermission"):
        return [bus(p.get("EventBusName"))]
    if op in ("ListRules", "ListEventBuses"):
        return ["*"]
    return None


def _sns(call: Call) -> list[Any] | None:
    op, p = call.operation, call.params
    if op == "Publish" and (p.get("TopicArn") or p.get("TargetArn")):
        return [p.get("TopicArn") or p.get("TargetArn")]
    if "TopicArn" in p:
        return [p["TopicArn"]]
    if op == "CreateTopic" and "Name" in p:
        return [call.arn("sns", p["Name"])]
    if op == "Unsubscribe" and "SubscriptionArn" in p:
        return [p["SubscriptionArn"].rsplit(":", 1)[0]]
    if op == "ListTopics":
        return ["*"]
    return None


def _sqs(call: Call) -> list[Any] | None:
    p = call.params
    url = p.get("QueueUrl")
    if url:
        parts = str(url).rstrip("/").split("/")
        if len(parts) >= 2:
            return [f"arn:aws:sqs:{call.region}:{parts[-2]}:{parts[-1]}"]
    if call.operation in ("CreateQueue", "GetQueueUrl") and "QueueName" in p:
        return [call.arn("sqs", p["QueueName"])]
    if call.operation == "ListQueues":
        return ["*"]
    return None


def _secretsmanager(call: Call) -> list[Any] | None:
    secret = call.params.get("SecretId")
    if secret:
        return [_secret_arn(call, str(secret))]
    if call.operation in ("ListSecrets", "GetRandomPassword"):
        return ["*"]
    return None


def _secret_arn(call: Call, secret: str) -> str:
    """The secret's full ARN (with its random suffix), as AWS evaluates it, from a name or an
    ARN; a secret that does not exist is named by what the caller passed."""
    from moto.secretsmanager.models import secretsmanager_backends

    try:
        found = secretsmanager_backends[call.account][call.region].secrets.get(secret)
    except Exception:
        found = None
    if found is not None:
        return str(found.arn)
    return secret if secret.startswith("arn:") else call.arn("secretsmanager", f"secret:{secret}")


def _lambda(call: Call) -> list[Any] | None:
    p = call.params
    name = p.get("FunctionName")
    if name:
        name = str(name)
        if name.startswith("arn:"):
            arn = name
        elif ":function:" in name:  # account-id:function:name[:qualifier]
            arn = f"arn:aws:lambda:{call.region}:{name}"
        else:
            arn = call.arn("lambda", f"function:{name}")
        qualifier = p.get("Qualifier")
        if qualifier and arn.count(":") == 6:
            arn = f"{arn}:{qualifier}"
        return [arn]
    if call.operation in ("ListFunctions", "GetAccountSettings"):
        return ["*"]
    return None


def _states(call: Call) -> list[Any] | None:
    p = call.params
    for key in ("stateMachineArn", "executionArn", "mapRunArn", "activityArn"):
        if p.get(key):
            passed = [("iam:PassRole", p["roleArn"])] if p.get("roleArn") else []
            return [p[key], *passed]
    if call.operation == "CreateStateMachine" and "name" in p:
        made = [call.arn("states", f"stateMachine:{p['name']}")]
        # passing a role to a service needs iam:PassRole on it
        return made + ([("iam:PassRole", p["roleArn"])] if p.get("roleArn") else [])
    if call.operation in ("ListStateMachines", "ListActivities"):
        return ["*"]
    return None


def _sts(call: Call) -> list[Any] | None:
    if call.operation == "AssumeRole" and "RoleArn" in call.params:
        return [call.params["RoleArn"]]
    return None


_RESOURCE_RULES: dict[str, Callable[[Call], list[Any] | None]] = {
    "glue": _glue,
    "dynamodb": _dynamodb,
    "events": _events,
    "sns": _sns,
    "sqs": _sqs,
    "secretsmanager": _secretsmanager,
    "lambda": _lambda,
    "states": _states,
    "sts": _sts,
}
"""Per service, how a request names its resource. Where a rule answers None the runtime cannot
tell the ARN: the action is still checked, the Resource element is not (`unchecked`)."""


# -- policy language ------------------------------------------------------------------------------
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
    sid: str = ""
    variables: bool = True
    """Policy variables are substituted only under Version 2012-10-17 (else literal text)."""

    def matches_action(self, action: str) -> bool:
        if self.actions is not None:
            return any(_action_pattern(a).match(action) for a in self.actions)
        return not any(_action_pattern(a).match(action) for a in self.not_actions or ())

    def matches_resource(self, resource: str | None, context: Context) -> bool:
        if resource is None:  # no ARN rule for this operation: only the action is checked
            return True
        if self.resources is not None:
            return any(
                _resource_matches(r, resource, context, self.variables) for r in self.resources
            )
        if self.not_resources is not None:
            return not any(
                _resource_matches(r, resource, context, self.variables) for r in self.not_resources
            )
        return False  # neither element: IAM would have refused the policy


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)


@lru_cache(maxsize=1024)
def parse(document: str) -> tuple[Statement, ...]:
    """A policy document's statements (cached: the same documents are read on every call)."""
    body = json.loads(document)
    variables = body.get("Version") == "2012-10-17"
    raw = body.get("Statement", [])
    out = []
    for s in raw if isinstance(raw, list) else [raw]:
        out.append(
            Statement(
                effect=str(s.get("Effect", "Deny")),
                actions=_strings(s["Action"]) if "Action" in s else None,
                not_actions=_strings(s["NotAction"]) if "NotAction" in s else None,
                resources=_strings(s["Resource"]) if "Resource" in s else None,
                not_resources=_strings(s["NotResource"]) if "NotResource" in s else None,
                condition=dict(s.get("Condition") or {}),
                principal=s.get("Principal"),
                not_principal=s.get("NotPrincipal"),
                sid=str(s.get("Sid", "")),
                variables=variables,
            )
        )
    return tuple(out)


@cache
def _action_pattern(pattern: str) -> re.Pattern[str]:
    """Actions: `*` and `?` wildcards; prefix and name are case-insensitive."""
    return re.compile(_wildcards(pattern) + r"\Z", re.IGNORECASE | re.DOTALL)


def _wildcards(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


@cache
def _arn_pattern(pattern: str) -> re.Pattern[str]:
    """ARNs, case-sensitive, wildcards within each colon-separated segment; a `*` that ends a
    segment may also match across the colons after it (AWS's documented rule, which is why
    SAM's `function:name*` covers `function:name:alias`)."""
    if pattern == "*":
        return re.compile(r".*\Z", re.DOTALL)
    segments = pattern.split(":")
    out = []
    for segment in segments:
        text = ""
        for i, c in enumerate(segment):
            if c == "*":
                text += ".*" if i == len(segment) - 1 else "[^:]*"
            elif c == "?":
                text += "[^:]"
            else:
                text += re.escape(c)
        out.append(text)
    return re.compile(":".join(out) + r"\Z", re.DOTALL)


@cache
def _like_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(_wildcards(pattern) + r"\Z", re.DOTALL)


_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _substitute(text: str, context: Context) -> str | None:
    """Policy variables (`${aws:username}`); None when a variable's key is absent (the
    element then matches nothing, as in AWS)."""
    if "${" not in text:
        return text
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        key = match.group(1).strip()
        if key in ("*", "?", "$") or "," in key:
            raise Unevaluable(f"policy variable ${{{key}}}")
        found = context.get(key)
        if found is None:
            missing = True
            return ""
        return found[0]

    out = _VARIABLE.sub(value, text)
    return None if missing else out


def _resource_matches(pattern: str, resource: str, context: Context, variables: bool) -> bool:
    resolved = _substitute(pattern, context) if variables else pattern
    return resolved is not None and _arn_pattern(resolved).match(resource) is not None


# -- request context and conditions ---------------------------------------------------------------
_KNOWN_ABSENT = frozenset(
    k.lower()
    for k in (
        "aws:SourceArn",
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:CalledVia",
        "aws:CalledViaFirst",
        "aws:CalledViaLast",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:VpcSourceIp",
        "aws:SourceVpcArn",
        "aws:SourceIdentity",
        "aws:FederatedProvider",
        "aws:MultiFactorAuthAge",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalServiceName",
        "aws:PrincipalServiceNamesList",
        "aws:ResourceOrgID",
        "aws:ResourceOrgPaths",
        "aws:Ec2InstanceSourceVpc",
        "aws:Ec2InstanceSourcePrivateIPv4",
    )
)
"""Keys AWS leaves out of a request a user or a role session makes directly (no service on
its behalf, no VPC endpoint, no organization): a condition on them is decided as AWS decides a
missing key, not refused as unknown."""


@dataclass
class Context:
    """The request context: keys (lower-case) to values; absent keys are known to be absent."""

    values: dict[str, list[str]]
    absent: frozenset[str] = _KNOWN_ABSENT

    def get(self, key: str) -> list[str] | None:
        lowered = key.lower()
        if lowered in self.values:
            return self.values[lowered]
        if lowered in self.absent or lowered.startswith("aws:principaltag/"):
            return None
        raise Unevaluable(f"condition key {key}")


class _LazyContext(Context):
    """Built on first use: most statements have no Condition, and most calls need none."""

    def __init__(self, build: Callable[[], Context]) -> None:
        self._build: Callable[[], Context] | None = build

    def get(self, key: str) -> list[str] | None:
        if self._build is not None:
            built, self._build = self._build(), None
            self.values, self.absent = built.values, built.absent
        return super().get(key)


def request_context(caller: Caller, region: str, now: datetime, tags: dict[str, str]) -> Context:
    values = {
        "aws:principalarn": caller.principal_arn,
        "aws:principalaccount": caller.account,
        "aws:principaltype": caller.kind,
        "aws:userid": caller.userid,
        "aws:requestedregion": region,
        "aws:currenttime": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:epochtime": str(int(now.timestamp())),
        "aws:securetransport": "true",
        "aws:resourceaccount": caller.account,
        "aws:viaawsservice": "false",
        "aws:principalisawsservice": "false",
    }
    absent = set(_KNOWN_ABSENT)
    if caller.kind == "User":
        values["aws:username"] = caller.name
        absent |= {"aws:tokenissuetime", "aws:multifactorauthpresent"}
    else:
        values["aws:multifactorauthpresent"] = "false"
        absent.add("aws:username")
    out = {k: [v] for k, v in values.items()}
    for key, value in tags.items():
        out[f"aws:principaltag/{key.lower()}"] = [value]
    return Context(out, frozenset(absent))


_NEGATED = frozenset(
    {
        "StringNotEquals",
        "StringNotEqualsIgnoreCase",
        "StringNotLike",
        "NumericNotEquals",
        "DateNotEquals",
        "ArnNotEquals",
        "ArnNotLike",
        "NotIpAddress",
    }
)
_VARIABLES_ALLOWED = ("String", "Arn")


def _number(text: str) -> float:
    return float(text)


def _date(text: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ip(actual: str, expected: str) -> bool:
    return ipaddress.ip_address(actual) in ipaddress.ip_network(expected, strict=False)


_MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda a, e: a == e,
    "StringEqualsIgnoreCase": lambda a, e: a.casefold() == e.casefold(),
    "StringLike": lambda a, e: _like_pattern(e).match(a) is not None,
    "NumericEquals": lambda a, e: _number(a) == _number(e),
    "NumericLessThan": lambda a, e: _number(a) < _number(e),
    "NumericLessThanEquals": lambda a, e: _number(a) <= _number(e),
    "NumericGreaterThan": lambda a, e: _number(a) > _number(e),
    "NumericGreaterThanEquals": lambda a, e: _number(a) >= _number(e),
    "DateEquals": lambda a, e: _date(a) == _date(e),
    "DateLessThan": lambda a, e: _date(a) < _date(e),
    "DateLessThanEquals": lambda a, e: _date(a) <= _date(e),
    "DateGreaterThan": lambda a, e: _date(a) > _date(e),
    "DateGreaterThanEquals": lambda a, e: _date(a) >= _date(e),
    "Bool": lambda a, e: a.lower() == e.lower(),
    "BinaryEquals": lambda a, e: a == e,
    "IpAddress": _ip,
    "ArnEquals": lambda a, e: _arn_pattern(e).match(a) is not None,
    "ArnLike": lambda a, e: _arn_pattern(e).match(a) is not None,
}
_POSITIVE_OF = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NotIpAddress": "IpAddress",
}


def conditions_hold(block: dict[str, Any], context: Context, variables: bool = True) -> bool:
    """AWS's Condition logic: operators AND, keys AND, a key's values OR (NOR when negated); a
    key missing from the request makes a condition false, true when negated, `...IfExists`
    true, and `Null` tests presence; `ForAllValues`/`ForAnyValue` qualify multivalued keys."""
    for operator, pairs in block.items():
        qualifier, _, base = operator.rpartition(":")
        if_exists = base.endswith("IfExists") and base != "IfExists"
        if if_exists:
            base = base[: -len("IfExists")]
        for key, expected in dict(pairs).items():
            wanted = [
                str(v).lower() if isinstance(v, bool) else str(v)
                for v in (expected if isinstance(expected, list) else [expected])
            ]
            actual = context.get(key)
            if base == "Null":
                if (actual is None) != (wanted[0].lower() == "true"):
                    return False
                continue
            negated = base in _NEGATED
            positive = _POSITIVE_OF.get(base, base)
            matcher = _MATCHERS.get(positive)
            if matcher is None:
                raise Unevaluable(f"condition operator {operator}")
            if actual is None:
                if if_exists or negated or qualifier == "ForAllValues":
                    continue
                return False
            if variables and base.startswith(_VARIABLES_ALLOWED):
                resolved = [_substitute(w, context) for w in wanted]
                wanted = [w for w in resolved if w is not None]

            hits = [any(matcher(v, w) for w in wanted) != negated for v in actual]
            every = qualifier == "ForAllValues" or (negated and qualifier != "ForAnyValue")
            ok = all(hits) if every else any(hits)
            if not ok:
                return False
    return True


def _applies(statement: Statement, action: str, resource: str | None, context: Context) -> bool:
    return (
        statement.matches_action(action)
        and statement.matches_resource(resource, context)
        and (
            not statement.condition
            or conditions_hold(statement.condition, context, statement.variables)
        )
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
        where = resource or "*"
        try:
            if any(
                s.effect == "Deny" and _applies(s, action, resource, context) for s in statements
            ):
                return Decision(
                    False, action, resource, "with an explicit deny in an identity-based policy"
                )
            document = resource_policies.get(where)
            own = parse(document) if document else ()
            for s in own:
                names = (
                    _names(s.principal, caller)
                    if s.not_principal is None
                    else (None if _names(s.not_principal, caller) else "self")
                )
                if s.effect == "Deny" and names and _applies(s, action, resource, context):
                    return Decision(
                        False, action, resource, "with an explicit deny in a resource-based policy"
                    )
            allowed = any(
                s.effect == "Allow" and _applies(s, action, resource, context) for s in statements
            ) or any(
                s.effect == "Allow"
                and _names(s.principal, caller) == "self"
                and _applies(s, action, resource, context)
                for s in own
            )
            if allowed and session is not None:
                if any(
                    s.effect == "Deny" and _applies(s, action, resource, context) for s in session
                ):
                    return Decision(
                        False, action, resource, "with an explicit deny in a session policy"
                    )
                if not any(
                    s.effect == "Allow" and _applies(s, action, resource, context) for s in session
                ):
                    return Decision(
                        False,
                        action,
                        resource,
                        f"because no session policy allows the {action} action",
                    )
        except Unevaluable as exc:
            return Decision(
                False,
                action,
                resource,
                f"because the local runtime cannot evaluate the {exc.what} (it refuses rather"
                " than guess; see local_runtime/iam.py)",
            )
        if not allowed:
            return Decision(
                False,
                action,
                resource,
                f"because no identity-based policy allows the {action} action",
            )
    return Decision(True)


# -- the emulated account's identities ------------------------------------------------------------
class Identities:
    """The runtime's administrator, the role sessions it hands out, and the check every call
    into moto goes through while `enforced()` is open."""

    def __init__(self, account: str, region: str, admin: Credentials) -> None:
        self.account = account
        self.region = region
        self.admin = admin
        self.decisions: Counter[tuple[str, str, bool]] = Counter()
        """(caller, action, allowed) -> calls: what each identity did, and was refused."""
        self.unchecked: set[tuple[str, str]] = set()
        """(caller, action) called with no ARN rule for its resource: only the action checked."""
        self._sessions: dict[tuple[str, str], Credentials] = {}
        self._callers: dict[str, Caller] = {}
        self._lock = threading.Lock()

    # -- credentials --------------------------------------------------------------------------
    def role_credentials(self, role_arn: str, session_name: str) -> Credentials:
        """A session of the role, as the service using it (Lambda, Step Functions) gets one;
        one per role and session name for the whole run."""
        from moto.sts.models import sts_backends

        with self._lock:
            key = (role_arn, session_name)
            if key not in self._sessions:
                assumed = sts_backends[self.account]["aws"].assume_role(
                    region_name=self.region,
                    role_session_name=session_name,
                    role_arn=role_arn,
                    policy="",
                    duration=SESSION_SECONDS,
                    external_id="",
                )
                self._sessions[key] = Credentials(
                    assumed.access_key_id, assumed.secret_access_key, assumed.session_token
                )
            return self._sessions[key]

    def function_environment(self, role_arn: str, function_name: str) -> dict[str, str]:
        """The credential variables Lambda sets for a function: its role, session = its name."""
        self.require_trust(role_arn, "lambda.amazonaws.com", function_name)
        return self.role_credentials(role_arn, function_name).environment()

    def require_trust(self, role_arn: str, service: str, user: str) -> None:
        """AWS refuses a function or a state machine whose role its service cannot assume;
        so does the deployment here."""
        problem = self._untrusted(role_arn, service)
        if problem:
            raise TemplateError(f"{user}: {problem}")

    def _untrusted(self, role_arn: str, service: str) -> str | None:
        """Why `service` cannot assume the role (it does not exist, or its trust policy does
        not name the service), or None when it can."""
        parts = role_arn.split(":")
        account = parts[4] if len(parts) > 5 else self.account
        role = self._role(role_arn.rsplit("/", 1)[-1], account)
        document = role.assume_role_policy_document if role is not None else None
        if document is None:
            return f"role {role_arn} does not exist"
        text = document if isinstance(document, str) else json.dumps(document)
        for s in parse(text):
            principal = s.principal if isinstance(s.principal, dict) else {}
            services = principal.get("Service", [])
            services = services if isinstance(services, list) else [services]
            if s.effect == "Allow" and s.matches_action("sts:AssumeRole") and service in services:
                return None
        return f"role {role_arn} does not trust {service} to assume it"

    # -- the check ----------------------------------------------------------------------------
    def authorize(self, response: Any) -> None:
        """moto's authorization hook, for every request but S3's."""
        headers = response.headers
        if headers.get("X-Amz-Target") in _PUBLIC_OPERATIONS:
            return
        scope = _credential_scope(headers.get("Authorization") or "")
        service = scope[3] if len(scope) > 3 else ""
        region = scope[2] if len(scope) > 2 else self.region
        operation = str(response._get_action() or "")
        if (service, operation) == ("sts", "GetCallerIdentity"):
            return  # always allowed, even under an explicit deny
        caller = self._caller(scope[0] if scope else "", response.current_account)
        if caller is None:
            raise _refusal(
                response,
                service,
                _INVALID_TOKEN,
                "The security token included in the request is invalid.",
            )
        call = Call(service, operation, region, response.current_account, _params(response))
        requested = checks(call)
        for action, resource in requested:
            if resource is None:
                self.unchecked.add((caller.name, action))
        decision = decide(
            self._policies(caller),
            {r: _resource_policy(r) for _, r in requested if r not in (None, "*")},
            requested,
            caller,
            _LazyContext(
                lambda: request_context(caller, region, datetime.now(UTC), self._tags(caller))
            ),
            caller.session_policy,
        )
        self.decisions[(caller.name, requested[0][0], decision.allowed)] += 1
        if not decision.allowed:
            message = (
                f"User: {caller.arn} is not authorized to perform: {decision.action}"
                f"{f' on resource: {decision.resource}' if decision.resource else ''}"
                f" {decision.reason}"
            )
            raise _refusal(response, service, _ACCESS_DENIED, message)
        role_arn = call.params.get("roleArn")
        if service == "states" and operation in _ROLE_TAKING and role_arn:
            problem = self._untrusted(str(role_arn), "states.amazonaws.com")
            if problem:  # Step Functions checks it can assume the role when it is given one
                message = (
                    "Neither the global service principal states.amazonaws.com, nor the regional"
                    f" one is authorized to assume the provided role ({problem})."
                )
                raise _refusal(response, service, _ACCESS_DENIED, message)

    def _caller(self, access_key_id: str, account: str) -> Caller | None:
        cached = self._callers.get(access_key_id)
        if cached is not None:
            return cached
        from moto.iam.models import iam_backends
        from moto.sts.models import sts_backends

        iam = iam_backends[account]["aws"]
        key = iam.access_keys.get(access_key_id)
        caller: Caller | None = None
        if key is not None and key.user_name and key.status == "Active":
            user = iam.get_user(key.user_name)
            caller = Caller(
                arn=user.arn,
                principal_arn=user.arn,
                account=account,
                kind="User",
                name=user.name,
                userid=user.id,
            )
        else:
            for assumed in sts_backends[account]["aws"].assumed_roles:
                if assumed.access_key_id == access_key_id:
                    role_name = assumed.role_arn.rsplit("/", 1)[-1]
                    role = self._role(role_name, account)
                    caller = Caller(
                        arn=f"arn:aws:sts::{account}:assumed-role/{role_name}/{assumed.session_name}",
                        principal_arn=assumed.role_arn,
                        account=account,
                        kind="AssumedRole",
                        name=role_name,
                        userid=f"{role.id if role else 'AROA'}:{assumed.session_name}",
                        session_policy=assumed.policy or None,
                    )
                    break
        if caller is not None:
            self._callers[access_key_id] = caller
        return caller

    def _role(self, name: str, account: str | None = None) -> Any:
        from moto.iam.models import iam_backends

        try:
            return iam_backends[account or self.account]["aws"].get_role(name)
        except Exception:
            return None

    def _policies(self, caller: Caller) -> list[str]:
        """The caller's identity policies, read from IAM on every call (a test may change a
        role's policy mid-run; parsing is cached by document)."""
        from moto.iam.models import iam_backends

        iam = iam_backends[caller.account]["aws"]
        if caller.kind == "User":
            owners: list[Any] = [iam.get_user(caller.name)]
            owners += iam.get_groups_for_user(caller.name)
        else:
            role = self._role(caller.name, caller.account)
            owners = [role] if role is not None else []
        documents: list[str] = []
        for owner in owners:
            documents += [_text(d) for d in owner.policies.values()]
            for policy in owner.managed_policies.values():
                documents += [_text(v.document) for v in policy.versions if v.is_default]
        return documents

    def _tags(self, caller: Caller) -> dict[str, str]:
        """The role's tags (aws:PrincipalTag/...); moto keeps them by lower-cased key."""
        role = self._role(caller.name, caller.account) if caller.kind == "AssumedRole" else None
        tags = getattr(role, "tags", None) or {}
        values = tags.values() if isinstance(tags, dict) else tags
        return {str(t["Key"]): str(t["Value"]) for t in values}


def put_role_policy(account: str, role: str, name: str, document: dict[str, Any]) -> None:
    """An inline policy, as IAM stores it. IAM accepts a document without `Version` (it means
    2008-10-17, where `${...}` is literal text; SAM's policy templates omit it), moto's policy
    validator refuses one, so the document goes straight into moto's IAM."""
    from moto.iam.models import iam_backends

    iam_backends[account]["aws"].get_role(role).put_policy(name, json.dumps(document))


def provide_aws_managed_policy(account: str, arn: str) -> None:
    """Make an AWS managed policy a template attaches exist in the emulated IAM. moto loads
    them only when configured to, all 1,500 at once; this takes the one needed from moto's own
    copy (decoding only that entry of the 4.7 MB document)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy, iam_backends

    prefix = "arn:aws:iam::aws:policy/"
    backend = iam_backends[account]["aws"]
    if not arn.startswith(prefix) or arn in backend.managed_policies:
        return
    name = arn.rsplit("/", 1)[-1]
    start = aws_managed_policies_data.find(f'"{name}":')
    if start < 0:
        raise TemplateError(f"{arn} is not an AWS managed policy moto knows")
    start += len(name) + 3
    data, _ = json.JSONDecoder().raw_decode(aws_managed_policies_data, start)
    policy = AWSManagedPolicy.from_data(name, account, "us-east-1", data)
    if policy.arn != arn:
        raise TemplateError(f"{arn}: moto's copy has it at {policy.arn}")
    backend.managed_policies[policy.arn] = policy


def _text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def _credential_scope(authorization: str) -> list[str]:
    """`AWS4-HMAC-SHA256 Credential=AKID/20260302/us-east-1/glue/aws4_request, ...`"""
    _, found, rest = authorization.partition("Credential=")
    return rest.split(",", 1)[0].strip().split("/") if found else []


def _params(response: Any) -> dict[str, Any]:
    """The request's parameters, wherever its protocol and moto's handler put them: parsed
    already (`params`; DynamoDB's `body`), a JSON body, the query string, the REST path."""
    params: dict[str, Any] = {}
    for key, values in (response.querystring or {}).items():
        if isinstance(values, list) and values and values[0] != "":
            params[key] = values[0]
    parsed = getattr(response, "params", None)
    body = response.body
    if isinstance(parsed, dict) and parsed:
        params.update(parsed)
    elif isinstance(body, dict):
        params.update(body)
    elif body and "x-amz-json" in str(response.headers.get("Content-Type") or ""):
        try:
            decoded = json.loads(body)
        except (TypeError, ValueError):
            decoded = None
        if isinstance(decoded, dict):
            params.update(decoded)
    params.update(getattr(response, "uri_match", None) or {})
    return params


def _resource_policy(arn: str | None) -> str | None:
    """The resource-based policy on the resource, for the services the product calls that
    have one; None when it has none."""
    if not arn or not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None
    service, region, account, name = parts[2], parts[3], parts[4], parts[5]
    try:
        if service == "events" and name.startswith("event-bus/"):
            from moto.events.models import events_backends

            bus = events_backends[account][region].event_buses.get(name.split("/", 1)[1])
            return bus.policy if bus is not None else None
        if service == "sqs":
            from moto.sqs.models import sqs_backends

            queue = sqs_backends[account][region].queues.get(name)
            return queue.policy if queue is not None else None
        if service == "sns":
            from moto.sns.models import sns_backends

            topic = sns_backends[account][region].topics.get(arn)
            return topic.policy if topic is not None else None
        if service == "secretsmanager":
            from moto.secretsmanager.models import secretsmanager_backends

            secret = secretsmanager_backends[account][region].secrets.get(arn)
            return getattr(secret, "policy", None)
    except Exception:
        return None
    return None


# -- refusals on the wire -------------------------------------------------------------------------
_ACCESS_DENIED = "denied"
_ROLE_TAKING = ("CreateStateMachine", "UpdateStateMachine")
_INVALID_TOKEN = "invalid-token"
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


def _refusal(response: Any, service: str, kind: str, message: str) -> Exception:
    """The error AWS sends for this protocol: JSON services `AccessDeniedException` (400; SQS
    also names its query-compatible `AccessDenied`), Lambda's REST-JSON the same with 403,
    query services XML: SNS `AuthorizationError`, the others `AccessDenied` (403)."""
    content_type = str(response.headers.get("Content-Type") or "")
    extra: dict[str, str] = {}
    if "x-www-form-urlencoded" in content_type or service in ("sns", "sts", "iam"):
        code = (
            "InvalidClientTokenId"
            if kind == _INVALID_TOKEN
            else ("AuthorizationError" if service == "sns" else "AccessDenied")
        )
        status = 403
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{_xml(message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        )
        extra["Content-Type"] = "text/xml"
    else:
        code = "UnrecognizedClientException" if kind == _INVALID_TOKEN else "AccessDeniedException"
        status = 403 if "x-amz-json" not in content_type else 400
        body = json.dumps({"__type": code, "message": message, "Message": message})
        extra["x-amzn-ErrorType"] = code
        extra["Content-Type"] = "application/x-amz-json-1.1"
        if service == "sqs":
            extra["x-amzn-query-error"] = (
                "InvalidClientTokenId;Sender" if kind == _INVALID_TOKEN else "AccessDenied;Sender"
            )
    response.response_headers.update(extra)
    return _Refused(status, body)


class _Refused(HTTPException):
    """What moto's dispatcher turns into the response: this body, this status."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(description=body)
        self.code = status


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- switching it on ------------------------------------------------------------------------------
@contextmanager
def enforced(account: str, region: str) -> Iterator[Identities]:
    """Create the runtime's administrator, then check every call against its caller's
    policies until the block ends. Inside the block, code that builds boto3 clients from the
    environment (the runtime, the tests, the handlers) gets the administrator, or the role of
    the function whose environment is applied."""
    global _ACTIVE
    import boto3
    from moto.core.responses import BaseResponse
    from moto.iam.models import iam_backends

    # Straight into the emulated IAM (no call to authorize yet), in the account being emulated.
    backend = iam_backends[account]["aws"]
    if ADMIN_USER not in backend.users:  # (an outer mock_aws keeps accounts between runs)
        backend.create_user(region_name=region, user_name=ADMIN_USER)
    backend.put_user_policy(ADMIN_USER, "everything", json.dumps(_ADMIN_POLICY))
    for old in list(backend.list_access_keys(ADMIN_USER)):  # a user may have two keys
        backend.delete_access_key(old.access_key_id, ADMIN_USER)
    key = backend.create_access_key(ADMIN_USER)
    admin = Credentials(key.access_key_id, key.secret_access_key)
    identities = Identities(account, region, admin)

    def authorize(response: Any, resource: str = "*") -> None:
        identities.authorize(response)

    with _ACTIVE_LOCK:
        if _ACTIVE is not None:
            raise RuntimeError("IAM enforcement is already on: one emulated account at a time")
        _ACTIVE = identities
    try:
        with ExitStack() as stack:
            stack.enter_context(mock.patch.dict(os.environ, admin.environment()))
            os.environ.pop("AWS_SESSION_TOKEN", None)  # a user's keys carry none
            stack.enter_context(
                mock.patch.object(
                    BaseResponse, "_authenticate_and_authorize_normal_action", authorize
                )
            )
            stack.enter_context(
                mock.patch.object(boto3, "_get_default_session", _session_reading_environment())
            )
            yield identities
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE = None


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
