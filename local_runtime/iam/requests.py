"""What IAM authorizes for a request: its action, and the ARN(s) of the resource(s) it acts on,
worked out from the parameters of the request moto received."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from idle_reaper.exceptions import UnknownRegionError
from idle_reaper.partition import partition_for

Check = tuple[str, str | None]
"""(IAM action, resource ARN); None when the runtime has no ARN rule for the operation."""

_IAM_PREFIXES = {"monitoring": "cloudwatch"}
"""Signing names that are not the service's IAM prefix. CloudWatch signs as `monitoring`
(botocore's model: signingName/endpointPrefix `monitoring`) while its actions are
`cloudwatch:GetMetricData`, ... (Service Authorization Reference, "Actions, resources, and
condition keys for Amazon CloudWatch": service prefix `cloudwatch`)."""


def iam_prefix(signing_name: str) -> str:
    """The IAM service prefix of the service a request was signed for."""
    return _IAM_PREFIXES.get(signing_name, signing_name)


@dataclass
class Call:
    """One API request as IAM sees it."""

    service: str  # the IAM prefix (iam_prefix of the signing name): glue, cloudwatch, ...
    operation: str  # the API operation: GetSession, Invoke, ...
    region: str
    account: str
    params: dict[str, Any]

    @property
    def partition(self) -> str:
        """The region's partition (`aws`, `aws-cn`, `aws-us-gov`): ARNs name it."""
        return partition_for(self.region)

    def arn(self, service: str, resource: str, account: str | None = None) -> str:
        """An ARN in the call's partition and region; `account` "" for resources ARNs name
        without one (EC2 images)."""
        owner = self.account if account is None else account
        return f"arn:{self.partition}:{service}:{self.region}:{owner}:{resource}"


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
    except (KeyError, TypeError, AttributeError, UnknownRegionError):
        resources = None  # a malformed request (moto will refuse it), or a region AWS lacks
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
    if op == "ListSessions":  # names no session: authorized on "*"
        return ["*"]
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


SOURCE_KEY = "events:source"
DETAIL_TYPE_KEY = "events:detail-type"
Entry = tuple[str, dict[str, list[str]]]
"""A PutEvents entry's event bus ARN, and the condition keys AWS sets for it."""


def entry_keys(source: object, detail_type: object) -> dict[str, list[str]]:
    """The condition keys of one PutEvents entry (a key the entry lacks is absent: moto refuses
    the entry for it, as AWS does)."""
    keys: dict[str, list[str]] = {}
    if isinstance(source, str) and source:
        keys[SOURCE_KEY] = [source]
    if isinstance(detail_type, str) and detail_type:
        keys[DETAIL_TYPE_KEY] = [detail_type]
    return keys


def _bus_arn(call: Call, name: object) -> str:
    """An event bus named by name or ARN (the default bus when none is named)."""
    named = str(name or "default")
    return named if named.startswith("arn:") else call.arn("events", f"event-bus/{named}")


def put_events_entries(call: Call) -> list[Entry] | None:
    """For EventBridge's PutEvents, each entry's bus and its condition keys (put_events.py);
    None for any other request, or one whose entries cannot be read (moto refuses it)."""
    if (call.service, call.operation) != ("events", "PutEvents"):
        return None
    raw = call.params.get("Entries")
    if not isinstance(raw, list) or not raw or not all(isinstance(e, dict) for e in raw):
        return None
    return [
        (_bus_arn(call, e.get("EventBusName")), entry_keys(e.get("Source"), e.get("DetailType")))
        for e in raw
    ]


def _events(call: Call) -> Resources:
    op, p = call.operation, call.params

    def bus(name: str | None) -> str:
        return _bus_arn(call, name)

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
            return [call.arn("sqs", parts[-1], account=parts[-2])]
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


def _ssm(call: Call) -> Resources:
    """A parameter's ARN is `parameter/` and its name without the leading slash (Service
    Authorization Reference for Systems Manager: parameter/${ParameterNameWithoutLeadingSlash})."""
    name = call.params.get("Name")
    if call.operation in ("GetParameter", "PutParameter", "DeleteParameter") and name:
        return [call.arn("ssm", "parameter/" + str(name).removeprefix("/"))]
    return None


def _lambda(call: Call) -> Resources:
    p = call.params
    name = p.get("FunctionName")
    if name:
        name = str(name)
        if name.startswith("arn:"):
            arn = name
        elif ":function:" in name:  # account-id:function:name[:qualifier]
            arn = f"arn:{call.partition}:lambda:{call.region}:{name}"
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


_NOTEBOOK_OPERATIONS = frozenset(
    {
        "CreateNotebookInstance",
        "DescribeNotebookInstance",
        "StartNotebookInstance",
        "StopNotebookInstance",
        "UpdateNotebookInstance",
        "DeleteNotebookInstance",
        "CreatePresignedNotebookInstanceUrl",
    }
)
_APP_OPERATIONS = frozenset({"CreateApp", "DescribeApp", "DeleteApp"})
_SPACE_OPERATIONS = frozenset({"CreateSpace", "DescribeSpace", "UpdateSpace", "DeleteSpace"})
_DOMAIN_OPERATIONS = frozenset({"DescribeDomain", "UpdateDomain", "DeleteDomain"})
_PROFILE_OPERATIONS = frozenset(
    {"CreateUserProfile", "DescribeUserProfile", "UpdateUserProfile", "DeleteUserProfile"}
)
_SAGEMAKER_LISTS = frozenset(
    {"ListNotebookInstances", "ListApps", "ListSpaces", "ListDomains", "ListUserProfiles"}
)


def _sagemaker(call: Call) -> Resources:
    """The Service Authorization Reference's SageMaker resource types: `notebook-instance/
    ${NotebookInstanceName}`, `app/${DomainId}/${UserProfileName}/${AppType}/${AppName}` (a
    space's app has the space where the profile would be), `space/${DomainId}/${SpaceName}`,
    `domain/${DomainId}`, `user-profile/${DomainId}/${UserProfileName}`; tagging operations act
    on their ResourceArn; the List operations name no resource type ("*").

    SageMaker writes these ARNs in lower case whatever the case of the names (a refusal of
    DeleteApp names `app/d-.../default-.../kernelgateway/...` for a KernelGateway app, and
    DescribeNotebookInstance returns `notebook-instance/<name in lower case>`), so a policy
    naming `notebook-instance/MyNotebook` matches nothing; a caller's ResourceArn is kept as
    given."""
    op, p = call.operation, call.params

    def sagemaker(resource: str) -> str:
        return call.arn("sagemaker", resource.lower())

    if op in _NOTEBOOK_OPERATIONS:
        return [sagemaker(f"notebook-instance/{p['NotebookInstanceName']}")]
    if op in _APP_OPERATIONS:
        owner = p.get("UserProfileName") or p["SpaceName"]
        return [sagemaker(f"app/{p['DomainId']}/{owner}/{p['AppType']}/{p['AppName']}")]
    if op in _SPACE_OPERATIONS:
        return [sagemaker(f"space/{p['DomainId']}/{p['SpaceName']}")]
    if op in _DOMAIN_OPERATIONS:
        return [sagemaker(f"domain/{p['DomainId']}")]
    if op in _PROFILE_OPERATIONS:
        return [sagemaker(f"user-profile/{p['DomainId']}/{p['UserProfileName']}")]
    if op in ("ListTags", "AddTags", "DeleteTags"):
        return [str(p["ResourceArn"])]
    if op in _SAGEMAKER_LISTS:
        return ["*"]
    return None


_EC2_ID_TYPES = {
    "i": "instance",
    "vol": "volume",
    "sg": "security-group",
    "subnet": "subnet",
    "vpc": "vpc",
    "eni": "network-interface",
    "ami": "image",
    "snap": "snapshot",
}
"""EC2 resource types by their IDs' prefix (`i-0abc...` is an instance)."""
_TAG_SPECIFICATION_TYPE = re.compile(r"TagSpecification\.\d+\.ResourceType")
_EC2_UNOWNED = frozenset({"image", "snapshot"})
"""Resource types whose ARNs name no account (`arn:aws:ec2:us-east-1::image/ami-...`)."""
_EC2_INSTANCE_OPERATIONS = frozenset(
    {"StartInstances", "StopInstances", "RebootInstances", "TerminateInstances"}
)
_EC2_DESCRIBES = frozenset(
    {
        "DescribeInstances",
        "DescribeInstanceStatus",
        "DescribeInstanceTypes",
        "DescribeTags",
        "DescribeImages",
        "DescribeRegions",
        "DescribeAvailabilityZones",
        "DescribeVpcs",
        "DescribeSubnets",
        "DescribeSecurityGroups",
    }
)


def _numbered(params: dict[str, Any], name: str) -> list[str]:
    """A query protocol list (`InstanceId.1`, `InstanceId.2`, ...), in order."""
    pattern = re.compile(rf"{re.escape(name)}\.(\d+)\Z")
    found = [(int(m.group(1)), str(v)) for k, v in params.items() if (m := pattern.match(k))]
    return [value for _, value in sorted(found)]


def _ec2(call: Call) -> Resources:
    """The Service Authorization Reference's EC2 rules: an instance operation acts on
    `instance/${InstanceId}`, each instance named; RunInstances on a new `instance/*` and on
    what it launches from and into (the image, which names no account, the subnet, security
    groups and key pair, a new network interface and volume: a subnet or security group the
    request does not name is its default one, which the runtime does not look up, so it checks
    `subnet/*`, `security-group/*`, stricter than AWS), plus ec2:CreateTags for each resource
    type it tags on creation; CreateTags and DeleteTags act on each resource; the Describe
    operations support no resource-level permissions ("*")."""
    op, p = call.operation, call.params

    def ec2(kind: str, name: str) -> str:
        return call.arn("ec2", f"{kind}/{name}", account="" if kind in _EC2_UNOWNED else None)

    if op in _EC2_INSTANCE_OPERATIONS:
        instances = _numbered(p, "InstanceId")
        return [ec2("instance", i) for i in instances] or None
    if op in _EC2_DESCRIBES:
        return ["*"]
    if op == "RunInstances":
        found: list[str | Check] = [ec2("instance", "*"), ec2("image", str(p["ImageId"]))]
        found.append(ec2("subnet", str(p.get("SubnetId") or "*")))
        groups = _numbered(p, "SecurityGroupId")
        found += [ec2("security-group", g) for g in groups] or [ec2("security-group", "*")]
        found += [ec2("network-interface", "*"), ec2("volume", "*")]
        if p.get("KeyName"):
            found.append(ec2("key-pair", str(p["KeyName"])))
        tagged = [str(v) for k, v in p.items() if _TAG_SPECIFICATION_TYPE.fullmatch(k)]
        found += [("ec2:CreateTags", ec2(kind, "*")) for kind in dict.fromkeys(sorted(tagged))]
        return found
    if op in ("CreateTags", "DeleteTags"):
        arns: list[str | Check] = []
        for resource_id in _numbered(p, "ResourceId"):
            kind = _EC2_ID_TYPES.get(resource_id.split("-", 1)[0])
            if kind is None:
                return None  # a type this runtime has no ARN rule for
            arns.append(ec2(kind, resource_id))
        return arns or None
    return None


def _cloudwatch(call: Call) -> Resources:
    """The metric operations support no resource-level permissions (Service Authorization
    Reference for CloudWatch: GetMetricData, GetMetricStatistics, ListMetrics, PutMetricData
    list no resource type): "*"."""
    if call.operation in ("GetMetricData", "GetMetricStatistics", "ListMetrics", "PutMetricData"):
        return ["*"]
    return None


def _sts(call: Call) -> Resources:
    if call.operation == "AssumeRole" and "RoleArn" in call.params:
        return [call.params["RoleArn"]]
    return None


_TAGGING = {
    ("glue", "TagResource"): "TagsToAdd",
    ("glue", "CreateSession"): "Tags",
    ("sagemaker", "AddTags"): "Tags",
    ("ec2", "CreateTags"): "Tag",
}
"""The tagging requests whose tags this runtime reads into aws:TagKeys and aws:RequestTag/<key>
(IAM User Guide, global condition keys: the keys and the key-value pairs a request passes).
Glue passes a map, SageMaker a list of {Key, Value}, EC2's query protocol `Tag.N.Key` and
`Tag.N.Value`."""


def request_tags(call: Call) -> dict[str, str] | None:
    """The tags the request passes, for the operations in _TAGGING ({} when it passes none);
    None for any other operation: a condition on its request tags refuses the call rather than
    guess (context.Unevaluable)."""
    field = _TAGGING.get((call.service, call.operation))
    if field is None:
        return None
    raw = call.params.get(field)
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    if isinstance(raw, list):
        pairs = [t for t in raw if isinstance(t, dict) and "Key" in t]
        return {str(t["Key"]): str(t.get("Value", "")) for t in pairs}
    return _query_tags(call.params, field)  # EC2's numbered fields; {} when there are none


def _query_tags(params: dict[str, Any], field: str) -> dict[str, str]:
    """`Tag.1.Key`, `Tag.1.Value`, ... (the query protocol's list of structures), in order."""
    pattern = re.compile(rf"{re.escape(field)}\.(\d+)\.Key\Z")
    found: dict[str, str] = {}
    for index in sorted(int(m.group(1)) for k in params if (m := pattern.match(k))):
        found[str(params[f"{field}.{index}.Key"])] = str(params.get(f"{field}.{index}.Value", ""))
    return found


_RESOURCE_RULES: dict[str, Callable[[Call], Resources]] = {
    "glue": _glue,
    "dynamodb": _dynamodb,
    "events": _events,
    "sns": _sns,
    "sqs": _sqs,
    "secretsmanager": _secretsmanager,
    "ssm": _ssm,
    "lambda": _lambda,
    "states": _states,
    "sts": _sts,
    "sagemaker": _sagemaker,
    "ec2": _ec2,
    "cloudwatch": _cloudwatch,
}
"""Per service, how a request names its resource. Where a rule answers None the runtime cannot
tell the ARN: the action is still checked, the Resource element is not (`unchecked`)."""
