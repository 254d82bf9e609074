"""Static security of template.yaml beyond test_template.py: no wildcard action in any policy
of any resource under any switch, no AWS managed policy that grants one, and no secret in a
parameter or an environment variable. checkov and cfn-lint's serverless rules run in
`make security` (README: Static security)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from local_runtime import stack as stack_module
from local_runtime.errors import ScenarioError
from tests.conftest import ROOT
from tests.template.test_template import DOCUMENTED_WILDCARDS

TEMPLATE = ROOT / "template.yaml"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:idle-reaper/slack-AbCdEf"

VARIANTS: dict[str, dict[str, str]] = {
    "defaults": {},
    "every channel on": {
        "SlackWebhookSecretArn": SECRET_ARN,
        "NotificationEmail": "team@example.com",
        "NotifyOnExemptAndGone": "true",
    },
    "Glue only, kill switch on": {
        "EnableSageMaker": "false",
        "EnableEc2": "false",
        "KillSwitch": "on",
        "SweepMinutes": "0",
    },
}
"""The switches that add or remove policy statements and environment variables (HasSlack,
SageMakerOn, Ec2On) in each position, so a statement behind a condition is seen too."""

MANAGED_POLICIES_WITHOUT_WILDCARDS = {
    # logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents (AWS Managed Policy
    # Reference, AWSLambdaBasicExecutionRole, v1)
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    # xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets,
    # GetSamplingStatisticSummaries (AWS Managed Policy Reference, AWSXrayWriteOnlyAccess, v2)
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}
"""The AWS managed policies SAM attaches (a function's basic role; Tracing: Active), read
action by action. Any other managed policy would be a grant this test cannot see into."""

POLICY_BEARERS = {
    "AWS::IAM::Role",
    "AWS::KMS::Key",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::Events::EventBusPolicy",
}


@pytest.fixture(scope="module", params=list(VARIANTS), ids=list(VARIANTS))
def stack(request: pytest.FixtureRequest) -> stack_module.Stack:
    return stack_module.load(TEMPLATE, VARIANTS[request.param])


def policy_statements(value: Any) -> Iterator[dict[str, Any]]:
    """Every statement of every policy document under `value`: role policies, trust policies,
    key, topic, queue and event bus policies (a bus policy holds a single Statement)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Statement":
                yield from (inner if isinstance(inner, list) else [inner])
            else:
                yield from policy_statements(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from policy_statements(inner)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def wildcard_in(action: str) -> bool:
    """`*`, `service:*`, `service:Get*`, `service:Get?ession`: any action IAM would expand.
    The one exception is the action AWS's own docs spell with a wildcard (test_template.py)."""
    return action not in DOCUMENTED_WILDCARDS and ("*" in action or "?" in action)


@pytest.mark.parametrize(
    ("action", "flagged"),
    [
        ("*", True),
        ("s3:*", True),
        ("glue:Get*", True),
        ("glue:*Session", True),
        ("iam:Pass?ole", True),
        ("glue:StopSession", False),
        ("kms:GenerateDataKey*", False),  # documented: SNS with a customer managed key
    ],
)
def test_the_wildcard_check_flags_what_iam_would_expand(action: str, flagged: bool) -> None:
    assert wildcard_in(action) is flagged


def test_the_walk_reaches_every_policy_in_the_stack(stack: stack_module.Stack) -> None:
    """Guards the checks below against passing on nothing: each resource that carries a
    policy yields statements, and each statement has an action to check."""
    bearers = {k: v for k, v in stack.resources.items() if v["Type"] in POLICY_BEARERS}
    assert {v["Type"] for v in bearers.values()} == POLICY_BEARERS
    for logical, resource in bearers.items():
        found = list(policy_statements(resource["Properties"]))
        assert found, logical
        assert all(s.get("Action") or s.get("NotAction") for s in found), logical


def test_no_allow_statement_grants_a_wildcard_action(stack: stack_module.Stack) -> None:
    """Anywhere in the stack: roles (SAM's policy templates expanded), trust policies, the key,
    topic, queue and event bus policies. A Deny may use wildcards: it only narrows."""
    for logical, resource in stack.resources.items():
        for statement in policy_statements(resource.get("Properties", {})):
            if statement.get("Effect") != "Allow":
                continue
            assert "NotAction" not in statement, f"{logical}: Allow + NotAction grants the rest"
            for action in as_list(statement["Action"]):
                assert not wildcard_in(action), f"{logical}: {action}"


def test_roles_attach_only_managed_policies_read_action_by_action(
    stack: stack_module.Stack,
) -> None:
    for logical, role in stack.of_type("AWS::IAM::Role").items():
        attached = set(role["Properties"].get("ManagedPolicyArns", []))
        assert attached <= MANAGED_POLICIES_WITHOUT_WILDCARDS, f"{logical}: {attached}"


# -- secrets ------------------------------------------------------------------------------------
SECRET_NAME = re.compile(
    r"secret|token|passw|pwd|api_?key|webhook|credential|private_?key", re.IGNORECASE
)
"""A name that suggests its value is a credential. Such a name may only hold an ARN."""

SECRET_VALUE = re.compile(
    r"://"  # a URL: a webhook URL is a bearer credential, and no setting here is a URL
    r"|xox[abeoprs]-"  # a Slack token
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"  # an AWS access key id
    r"|-----BEGIN"  # a PEM key
    r"|\{\{resolve:(?:secretsmanager|ssm-secure):"  # a dynamic reference: the plaintext at deploy
)

SECRETS_MANAGER_ARN = re.compile(
    r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+"
)


@pytest.mark.parametrize(
    "value",
    [
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "xoxb-0000000000-0000000000000-abcdefghijklmnopqrstuvwx",
        "AKIAIOSFODNN7EXAMPLE",
        "-----BEGIN PRIVATE KEY-----",
        "{{resolve:secretsmanager:slack:SecretString:url}}",
    ],
)
def test_the_secret_check_recognises_credentials(value: str) -> None:
    assert SECRET_VALUE.search(value)


def raw_template() -> dict[str, Any]:
    """template.yaml as written (intrinsics unresolved), as CloudFormation receives it."""
    from cfnlint.decode import decode

    raw, problems = decode(str(TEMPLATE))
    assert raw is not None, problems
    return dict(json.loads(json.dumps(raw)))


def test_no_parameter_default_holds_a_credential() -> None:
    for name, spec in raw_template()["Parameters"].items():
        default = str(spec.get("Default", ""))
        assert not SECRET_VALUE.search(default), f"{name}: {default!r}"


def test_a_parameter_named_like_a_secret_takes_only_a_secret_arn() -> None:
    """SlackWebhookSecretArn names where the webhook is kept; its pattern refuses the webhook
    URL itself, so the credential cannot reach the stack's parameters or the function."""
    secretish = {
        name: spec
        for name, spec in raw_template()["Parameters"].items()
        if SECRET_NAME.search(name)
    }
    assert secretish, "the Slack secret's parameter is named like a secret: the check saw none"
    for name, spec in secretish.items():
        assert name.endswith("Arn"), name
        assert spec.get("Default", "") == "", name
        assert stack_module.load(TEMPLATE, {name: SECRET_ARN}).parameters[name] == SECRET_ARN
        for hostile in (
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "xoxb-0000000000-0000000000000-abcdefghijklmnopqrstuvwx",
            f"{SECRET_ARN} ",
            f"{SECRET_ARN}\nhttps://hooks.slack.com/services/T0/B0/X",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:slack",  # partial: IAM-denied
        ):
            with pytest.raises(ScenarioError, match=name):
                stack_module.load(TEMPLATE, {name: hostile})


def test_no_environment_variable_holds_a_credential(stack: stack_module.Stack) -> None:
    """Every function's variables, as deployed: no value looks like a credential, and a name
    that suggests one holds a Secrets Manager ARN (or nothing, when that channel is off)."""
    functions = stack.of_type("AWS::Lambda::Function")
    assert functions
    for logical, function in functions.items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        for name, value in variables.items():
            assert not SECRET_VALUE.search(str(value)), f"{logical}.{name}={value!r}"
            if SECRET_NAME.search(name):
                assert name.endswith("_ARN"), f"{logical}.{name}"
                assert value == "" or SECRETS_MANAGER_ARN.fullmatch(value), f"{logical}.{name}"


def test_no_dynamic_reference_puts_a_secret_into_the_template() -> None:
    """`{{resolve:secretsmanager:...}}` anywhere would write the plaintext into a resource's
    configuration at deploy; the functions read the secret at run time instead."""
    text = TEMPLATE.read_text()
    assert "{{resolve:secretsmanager" not in text
    assert "{{resolve:ssm-secure" not in text
