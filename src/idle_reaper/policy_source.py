"""Where the policy document comes from: the SSM parameter the template names, read through
Powertools Parameters and cached, so thousands of looks cost a read a minute, not one each.
The provider is the handler's (one per container, like its clients)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from idle_reaper.aws import CLIENT_CONFIG
from idle_reaper.exceptions import ResourceReadError
from idle_reaper.policy import Policy

MAX_AGE_SECONDS = 60
"""A changed document (a pause, a fix) is honoured within a minute of being written."""


def provider() -> SSMProvider:
    """An SSM provider with the short timeouts and standard retries every client has."""
    return SSMProvider(boto_config=CLIENT_CONFIG)


def with_document(
    policy: Policy, name: str | None, ssm: SSMProvider, *, fresh: bool = False
) -> Policy:
    """`policy` with the document in parameter `name` (none named: the template alone).

    A parameter that does not exist is an invalid document (nothing stops: it was named, so
    something is wrong); a read that fails raises ResourceReadError, retried like any read.
    """
    if not name:
        return policy
    try:
        text = ssm.get(name, max_age=MAX_AGE_SECONDS, force_fetch=fresh)
    except GetParameterError as exc:
        cause = exc.__cause__ or exc.__context__
        code = (
            cause.response.get("Error", {}).get("Code") if isinstance(cause, ClientError) else None
        )
        if code == "ParameterNotFound":
            return policy.with_error(f"the parameter {name} does not exist")
        raise ResourceReadError(f"GetParameter {name}: {code or exc}") from exc
    return policy.with_document(str(text))
