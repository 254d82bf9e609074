"""What IAM authorizes for a request: its action, and the ARN(s) of the resource(s) it acts on,
worked out from the parameters of the request moto received."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Check = tuple[str, str | None]
"""(IAM action, resource ARN); None when the runtime has no ARN rule for the operation."""


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


def credential_scope(authorization: str) -> list[str]:
    """The access key, date, region, service of a SigV4 `Authorization` header:
    `AWS4-HMAC-SHA256 Credential=AKID/20260302/us-east-1/glue/aws4_request, ...`"""
    _, found, rest = authorization.partition("Credential=")
    return rest.split(",", 1)[0].strip().split("/") if found else []


def params(response: Any) -> dict[str, Any]:
    """The request's parameters, wherever its protocol and moto's handler put them: parsed
    already (`params`; DynamoDB's `body`), a JSON body, the query string, the REST path."""
    found: dict[str, Any] = {}
    for key, values in (response.querystring or {}).items():
        if isinstance(values, list) and values and values[0] != "":
            found[key] = values[0]
    parsed = getattr(response, "params", None)
    body = response.body
    if isinstance(parsed, dict) and parsed:
        found.update(parsed)
    elif isinstance(body, dict):
        found.update(body)
    elif body and "x-amz-json" in str(response.headers.get("Content-Type") or ""):
        try:
            decoded = json.loads(body)
        except (TypeError, ValueError):
            decoded = None
        if isinstance(decoded, dict):
            found.update(decoded)
    found.update(getattr(response, "uri_match", None) or {})
    return found


_ACTION_NAMES = {
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeWithResponseStream"): "InvokeFunction",
}
"""Operations whose IAM action has another name than the API operation."""

Resources = list[str | Check] | None
"""What a rule finds: the call's resource ARNs (a Check where the call also needs another
action, as iam:PassRole on a role it passes), or None when it cannot tell."""


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


def _glue(call: Call) -> Resources:
    op, p = call.operation, call.params
    if op in ("CreateSession", "GetSession", "StopSession", "DeleteSession") and "Id" in p:
        return [call.arn("glue", f"session/{p['Id']}")]
    if op in ("RunStatement", "GetStatement", "ListStatements", "CancelStatement"):
        return [call.arn("glue", f"session/{p.get('SessionId', '')}")]
    if op in ("GetTags", "TagResource", "UntagResource") and "ResourceArn" in p:
        return [p["ResourceArn"]]
    return None


_TRANSACTION_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _dynamodb(call: Call) -> Resources:
    op, p = call.operation, call.params

    def table(name: str, index: str | None = None) -> str:
        arn = name if name.startswith("arn:") else call.arn("dynamodb", f"table/{name}")
        return f"{arn}/index/{index}" if index else arn

    if op in ("BatchGetItem", "BatchWriteItem"):
        return [table(name) for name in p.get("RequestItems", {})]
    if op in ("TransactWriteItems", "TransactGetItems"):
        return [
            (f"dynamodb:{_TRANSACTION_ACTIONS.get(kind, kind)}", table(body["TableName"]))
            for item in p.get("TransactItems", [])
            for kind, body in item.items()
        ]
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


def _events(call: Call) -> Resources:
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


def _sns(call: Call) -> Resources:
    op, p = call.operation, call.params
    if op == "Publish" and (p.get("TopicArn") or p.get("TargetArn")):
        return [p.get("TopicArn") or p["TargetArn"]]
    if "TopicArn" in p:
        return [p["TopicArn"]]
    if op == "CreateTopic" and "Name" in p:
        return [call.arn("sns", p["Name"])]
    if op == "Unsubscribe" and "SubscriptionArn" in p:
        return [p["SubscriptionArn"].rsplit(":", 1)[0]]
    if op == "ListTopics":
        return ["*"]
    return None


def _sqs(call: Call) -> Resources:
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


def _secretsmanager(call: Call) -> Resources:
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


def _lambda(call: Call) -> Resources:
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


def _states(call: Call) -> Resources:
    p = call.params
    # passing a role to a service needs iam:PassRole on it
    passed: list[str | Check] = [("iam:PassRole", p["roleArn"])] if p.get("roleArn") else []
    for key in ("stateMachineArn", "executionArn", "mapRunArn", "activityArn"):
        if p.get(key):
            return [p[key], *passed]
    if call.operation == "CreateStateMachine" and "name" in p:
        return [call.arn("states", f"stateMachine:{p['name']}"), *passed]
    if call.operation in ("ListStateMachines", "ListActivities"):
        return ["*"]
    return None


def _sts(call: Call) -> Resources:
    if call.operation == "AssumeRole" and "RoleArn" in call.params:
        return [call.params["RoleArn"]]
    return None


_RESOURCE_RULES: dict[str, Callable[[Call], Resources]] = {
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
