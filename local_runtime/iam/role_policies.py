"""The template's role policies, written straight into moto's IAM where its API would refuse
them (a policy without `Version`) or lacks them (AWS managed policies, loaded only on demand)."""

from __future__ import annotations

import json
from typing import Any

from local_runtime.errors import TemplateError


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
