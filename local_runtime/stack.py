"""template.yaml as it will deploy: SAM-transformed, parameters applied, intrinsics resolved.

The same transform `sam deploy` runs (samtranslator), then the small part of CloudFormation
the runtime needs: Ref, GetAtt, Sub, Join, Select, Split, If and the pseudo parameters.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

# Imported here, not when first used: pydantic (under samtranslator) cannot be imported
# while freezegun has replaced `date`, and the runtime loads templates on its frozen clock.
from cfnlint.decode import decode
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform

from local_runtime.errors import ScenarioError, TemplateError

STACK_NAME = "idle-reaper"
_STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}", re.ASCII)
"""CloudFormation's rule for a stack name (its CreateStack API reference)."""
Amendment = Callable[[dict[str, Any]], None]
"""Edits a SAM template in place as read (plain JSON, intrinsics as {"Ref": ...}), before the
transform: a benchmark strategy swaps the watcher's definition or adds a function. The
product deploys template.yaml unamended."""
REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass
class Stack:
    root: Path
    parameters: dict[str, str]
    resources: dict[str, dict[str, Any]]
    """Logical id -> resolved CloudFormation resource (Type, Properties)."""
    code_dirs: dict[str, Path] = field(default_factory=dict)
    """Function logical id -> its CodeUri folder."""
    conditions: dict[str, bool] = field(default_factory=dict)
    name: str = STACK_NAME
    region: str = REGION
    account: str = ACCOUNT

    def of_type(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == cfn_type}

    def physical_name(self, logical_id: str) -> str:
        return _physical_name(self, logical_id, self.resources[logical_id])

    def arn(self, logical_id: str) -> str:
        return str(_get_att(self, logical_id, "Arn"))

    def ref(self, logical_id: str) -> str:
        return str(_ref(self, logical_id))


def load(
    template: Path,
    overrides: Mapping[str, Any] | None = None,
    *,
    region: str = REGION,
    account: str = ACCOUNT,
    amend: Amendment | None = None,
    name: str = STACK_NAME,
) -> Stack:
    """Read, transform and resolve a SAM template with parameter overrides, as deployed into
    `account` and `region` (the partition, for ARNs, is the region's) as stack `name`. `amend`
    edits the template as read, before anything else (the benchmark's alternative strategies)."""
    partition_of(region)  # an unknown region fails here, before anything is deployed
    if _STACK_NAME.fullmatch(name) is None:
        raise ScenarioError(
            f"stack name {name[:140]!r}: a letter, then letters, digits and hyphens, at most 128"
        )
    sam = read(template)
    if amend is not None:
        amend(sam)
    parameters = parameters_of(sam, overrides or {})
    root = template.parent
    code_dirs = _localize_uris(sam, root)
    cfn = _transform(sam, parameters, region, account)
    stack = Stack(
        root=root,
        parameters=parameters,
        resources={},
        code_dirs=code_dirs,
        region=region,
        account=account,
        name=name,
    )
    stack.resources = copy.deepcopy(cfn.get("Resources", {}))
    stack.conditions = _conditions(stack, cfn.get("Conditions", {}))
    stack.resources = {
        logical: {**res, "Properties": resolve(stack, res.get("Properties", {}))}
        for logical, res in stack.resources.items()
        if res.get("Condition") is None or stack.conditions[res["Condition"]]
    }
    return stack


def read(template: Path) -> dict[str, Any]:
    """The template as plain JSON values (cfn-lint's decoder reads YAML's short forms)."""
    raw, problems = decode(str(template))
    if raw is None:
        raise TemplateError(f"{template}: {problems}")
    clean: dict[str, Any] = _json_clean(raw)
    return clean


def parameters_of(sam: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, str]:
    """The values the stack deploys with, checked as CloudFormation checks them before it
    creates anything: each against its declaration, then all against the template's Rules."""
    parameters = _parameters(sam, overrides)
    _check_rules(sam.get("Rules") or {}, parameters)
    return parameters


def _json_clean(value: Any) -> Any:
    """cfn-lint's decoder returns str/dict subclasses carrying line marks; make them plain."""
    return json.loads(json.dumps(value))


def _parameters(sam: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, str]:
    declared = sam.get("Parameters", {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise ScenarioError(
            f"unknown template parameter(s) {', '.join(unknown)}; "
            f"template.yaml declares {', '.join(sorted(declared))}"
        )
    values: dict[str, str] = {}
    for name, spec in declared.items():
        value = overrides.get(name, spec.get("Default"))
        if value is None:
            raise ScenarioError(f"template parameter {name} has no default: set it")
        text = str(value).lower() if isinstance(value, bool) else str(value)
        pattern = spec.get("AllowedPattern")
        if pattern and re.fullmatch(str(pattern), text) is None:
            why = spec.get("ConstraintDescription") or f"must match {pattern}"
            raise ScenarioError(f"parameter {name}={text!r}: {why}")
        allowed = spec.get("AllowedValues")
        if allowed and text not in [str(a) for a in allowed]:
            raise ScenarioError(f"parameter {name}={text!r}: allowed values are {allowed}")
        if spec.get("Type") == "Number":
            try:
                number = float(text)
            except ValueError:
                raise ScenarioError(f"parameter {name}={text!r} is not a number") from None
            if not math.isfinite(number):  # float() reads nan and inf; CloudFormation does not
                raise ScenarioError(f"parameter {name}={text!r} is not a number")
            if "MinValue" in spec and number < float(spec["MinValue"]):
                raise ScenarioError(f"parameter {name}={text} is below {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                raise ScenarioError(f"parameter {name}={text} is above {spec['MaxValue']}")
        values[name] = text
    return values


def _localize_uris(sam: dict[str, Any], root: Path) -> dict[str, Path]:
    """Swap local paths for placeholders the translator accepts (as `sam validate` does),
    inline the ASL files, and remember where each function's code lives."""
    code_dirs: dict[str, Path] = {}
    global_code = sam.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
    for logical, res in sam.get("Resources", {}).items():
        props = res.setdefault("Properties", {})
        kind = res.get("Type")
        if kind == "AWS::Serverless::Function":
            uri = props.get("CodeUri", global_code)
            if not isinstance(uri, str):
                raise TemplateError(f"{logical}: CodeUri must be a local folder")
            code_dirs[logical] = (root / uri).resolve()
            props["CodeUri"] = f"s3://local-runtime/{logical}"
        elif kind == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = f"s3://local-runtime/{logical}"
        elif kind == "AWS::Serverless::StateMachine" and isinstance(
            props.get("DefinitionUri"), str
        ):
            path = root / props.pop("DefinitionUri")
            props["Definition"] = json.loads(path.read_text())
    return code_dirs


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


def _transform(
    sam: dict[str, Any], parameters: dict[str, str], region: str, account: str
) -> dict[str, Any]:
    values = {
        **parameters,
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::Partition": partition_of(region),
    }
    try:
        with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": region}):
            result: dict[str, Any] = transform(sam, values, _NoManagedPolicies())
    except InvalidDocumentException as exc:
        raise TemplateError("; ".join(str(cause) for cause in exc.causes)) from exc
    return result


@cache
def partition_of(region: str) -> str:
    """`aws`, `aws-cn`, `aws-us-gov`, ... from botocore's partition data (no table of ours)."""
    import boto3
    from botocore.exceptions import UnknownRegionError

    try:
        return str(boto3.session.Session().get_partition_for_region(region))
    except UnknownRegionError:
        raise TemplateError(f"unknown region {region[:40]!r}") from None


@cache
def known_regions() -> frozenset[str]:
    """Every region botocore's partition data names (its `*-global` pseudo-regions aside)."""
    from botocore.loaders import create_loader

    return frozenset(
        name
        for entry in create_loader().load_data("partitions")["partitions"]
        for name in entry["regions"]
        if not name.endswith("-global")
    )


@cache
def url_suffix(region: str) -> str:
    """AWS::URLSuffix: the partition's DNS suffix (amazonaws.com, amazonaws.com.cn, ...)."""
    from botocore.loaders import create_loader

    partition = partition_of(region)
    for entry in create_loader().load_data("partitions")["partitions"]:
        if entry["id"] == partition:
            return str(entry["outputs"]["dnsSuffix"])
    return "amazonaws.com"


# -- intrinsic functions ---------------------------------------------------------------------
_PSEUDO = {
    "AWS::Partition": lambda s: partition_of(s.region),
    "AWS::Region": lambda s: s.region,
    "AWS::AccountId": lambda s: s.account,
    "AWS::StackName": lambda s: s.name,
    "AWS::StackId": lambda s: (
        f"arn:{partition_of(s.region)}:cloudformation:{s.region}:{s.account}:stack/{s.name}/local"
    ),
    "AWS::URLSuffix": lambda s: url_suffix(s.region),
    "AWS::NoValue": lambda s: None,
}


def resolve(stack: Stack, value: Any) -> Any:
    if isinstance(value, list):  # AWS::NoValue (also out of an Fn::If) drops the item
        return [r for r in (resolve(stack, v) for v in value) if r is not None]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return _ref(stack, arg)
        if key == "Fn::GetAtt":
            logical, attr = arg.split(".", 1) if isinstance(arg, str) else arg
            return _get_att(stack, logical, attr)
        if key == "Fn::Sub":
            return _sub(stack, arg)
        if key == "Fn::Join":
            sep, items = arg
            return sep.join(str(i) for i in resolve(stack, items))
        if key == "Fn::Select":
            index, items = resolve(stack, arg)
            return items[int(index)]
        if key == "Fn::Split":
            sep, text = resolve(stack, arg)
            return text.split(sep)
        if key == "Fn::If":
            name, yes, no = arg
            return resolve(stack, yes if stack.conditions[name] else no)
        if key == "Fn::ToJsonString":
            return json.dumps(resolve(stack, arg))
        if key == "Fn::Base64":  # of the UTF-8 text, as CloudFormation encodes it
            return base64.b64encode(str(resolve(stack, arg)).encode()).decode()
    resolved = {k: resolve(stack, v) for k, v in value.items()}
    return {k: v for k, v in resolved.items() if v is not None}


def _truth(
    expr: dict[str, Any],
    value: Callable[[Any], Any],
    named: Callable[[str], bool] | None = None,
) -> bool:
    """A condition or rule expression: Fn::Equals/Not/And/Or, Fn::Contains (rules), and a
    named `Condition` (conditions). `value` resolves an operand (Ref and friends)."""
    ((key, arg),) = expr.items()
    if key == "Condition" and named is not None:
        return named(arg)
    if key == "Fn::Equals":
        return str(value(arg[0])) == str(value(arg[1]))
    if key == "Fn::Not":
        return not _truth(arg[0], value, named)
    if key == "Fn::And":
        return all(_truth(a, value, named) for a in arg)
    if key == "Fn::Or":
        return any(_truth(a, value, named) for a in arg)
    if key == "Fn::Contains":
        return str(value(arg[1])) in [str(v) for v in value(arg[0])]
    raise TemplateError(f"unsupported condition or rule function {key}")


def _check_rules(rules: dict[str, Any], parameters: dict[str, str]) -> None:
    """The template's Rules section, as CloudFormation checks it before creating anything:
    a rule whose condition holds must have every assertion hold, or nothing deploys."""

    def value(expr: Any) -> Any:
        if isinstance(expr, dict) and set(expr) == {"Ref"}:
            return parameters[expr["Ref"]]
        if isinstance(expr, list):
            return [value(v) for v in expr]
        return expr

    for name, rule in rules.items():
        condition = rule.get("RuleCondition")
        if condition is not None and not _truth(condition, value):
            continue
        for assertion in rule.get("Assertions", []):
            if not _truth(assertion["Assert"], value):
                described = assertion.get("AssertDescription", f"rule {name} does not hold")
                raise ScenarioError(f"parameters refused by the template's Rules: {described}")


def _conditions(stack: Stack, declared: dict[str, Any]) -> dict[str, bool]:
    done: dict[str, bool] = {}

    def condition(name: str) -> bool:
        if name not in done:
            done[name] = _truth(declared[name], lambda a: resolve(stack, a), condition)
        return done[name]

    stack.conditions = done
    for name in declared:
        condition(name)
    return done


def _ref(stack: Stack, name: str) -> Any:
    if name in _PSEUDO:
        return _PSEUDO[name](stack)
    if name in stack.parameters:
        return stack.parameters[name]
    res = stack.resources.get(name)
    if res is None:
        raise TemplateError(f"Ref to unknown {name}")
    kind = res["Type"]
    if kind in ("AWS::StepFunctions::StateMachine", "AWS::SNS::Topic", "AWS::Lambda::LayerVersion"):
        return _get_att(stack, name, "Arn")
    if kind == "AWS::SQS::Queue":
        queue = _physical_name(stack, name, res)
        return f"https://sqs.{stack.region}.{url_suffix(stack.region)}/{stack.account}/{queue}"
    return _physical_name(stack, name, res)


_ARN_FORMATS = {
    "AWS::Lambda::Function": "arn:aws:lambda:{r}:{a}:function:{n}",
    "AWS::Lambda::LayerVersion": "arn:aws:lambda:{r}:{a}:layer:{n}:1",
    "AWS::StepFunctions::StateMachine": "arn:aws:states:{r}:{a}:stateMachine:{n}",
    "AWS::SQS::Queue": "arn:aws:sqs:{r}:{a}:{n}",
    "AWS::SNS::Topic": "arn:aws:sns:{r}:{a}:{n}",
    "AWS::Events::Rule": "arn:aws:events:{r}:{a}:rule/{n}",
    "AWS::Events::EventBus": "arn:aws:events:{r}:{a}:event-bus/{n}",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{r}:{a}:table/{n}",
    "AWS::Logs::LogGroup": "arn:aws:logs:{r}:{a}:log-group:{n}:*",
    "AWS::IAM::Role": "arn:aws:iam::{a}:role/{n}",
    "AWS::KMS::Key": "arn:aws:kms:{r}:{a}:key/{n}",
    "AWS::SecretsManager::Secret": "arn:aws:secretsmanager:{r}:{a}:secret:{n}",
}
_NAME_PROPERTIES = (
    "FunctionName",
    "StateMachineName",
    "QueueName",
    "TopicName",
    "TableName",
    "LogGroupName",
    "RoleName",
    "Name",
    "LayerName",
    "AlarmName",
)


def _physical_name(stack: Stack, logical: str, res: dict[str, Any]) -> str:
    props = res.get("Properties", {})
    for prop in _NAME_PROPERTIES:
        if prop in props:
            value = resolve(stack, props[prop])
            if isinstance(value, str):
                return value
    return f"{stack.name}-{logical}"


def _get_att(stack: Stack, logical: str, attr: str) -> Any:
    res = stack.resources.get(logical)
    if res is None:
        raise TemplateError(f"GetAtt on unknown {logical}")
    name = _physical_name(stack, logical, res)
    if attr == "Arn":
        fmt = _ARN_FORMATS.get(res["Type"])
        if fmt is None:
            raise TemplateError(f"GetAtt {logical}.Arn: {res['Type']} not supported locally")
        arn = fmt.format(r=stack.region, a=stack.account, n=name)
        return arn.replace("arn:aws:", f"arn:{partition_of(stack.region)}:", 1)
    if attr in ("QueueName", "TopicName", "Name", "StateMachineName"):
        return name
    if attr == "QueueUrl":
        return _ref(stack, logical)
    raise TemplateError(f"GetAtt {logical}.{attr} not supported locally")


_SUB = re.compile(r"\$\{([^}!]+)\}")


def _sub(stack: Stack, arg: Any) -> str:
    text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
    values = {k: resolve(stack, v) for k, v in variables.items()}

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in values:
            return str(values[key])
        if "." in key:
            logical, attr = key.split(".", 1)
            return str(_get_att(stack, logical, attr))
        return str(_ref(stack, key))

    return _SUB.sub(replace, text)
