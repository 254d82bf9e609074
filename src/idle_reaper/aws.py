"""How every handler talks to AWS: short timeouts and the standard retry mode, so one slow
call cannot outlive the function (every function has 30 s, template.yaml Globals).

botocore's defaults are 60 s to connect and 60 s to read, with the legacy retry mode: one
stuck call would time the function out, and Lambda would retry the whole invocation.
https://docs.aws.amazon.com/boto3/latest/guide/retries.html
https://botocore.amazonaws.com/v1/documentation/api/latest/reference/config.html
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5
"""SNS Publish, a DynamoDB item, a secret and Glue's reads answer in well under a second;
a call that has not answered in 5 s is retried rather than waited on."""
TOTAL_MAX_ATTEMPTS = 3
"""Including the first: `total_max_attempts`, unlike `max_attempts`, counts it."""

CLIENT_CONFIG = Config(
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
    retries={"mode": "standard", "total_max_attempts": TOTAL_MAX_ATTEMPTS},
)

ONE_ATTEMPT_SECONDS = CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS
"""The longest one attempt of one call can take before botocore gives up on it."""

INTERACTIVE_CONFIG = Config(
    connect_timeout=1,
    read_timeout=2,
    retries={"mode": "standard", "total_max_attempts": 2},
)
"""For the keep function, where a person waits: Slack gives up on the request after three
seconds, so a call that has not answered in two is retried once, not waited on."""


def client(service: str, region: str | None = None, config: Config = CLIENT_CONFIG) -> Any:
    """A boto3 client with CLIENT_CONFIG (or `config`); built on call (never at import),
    cached by callers."""
    return boto3.client(service, region_name=region, config=config)  # type: ignore[call-overload]


__all__ = ["CLIENT_CONFIG", "INTERACTIVE_CONFIG", "ONE_ATTEMPT_SECONDS", "client"]
