"""Which AWS partition a region is in, and the console's domain there.

ARNs are `arn:<partition>:...`: `aws`, `aws-cn` in China, `aws-us-gov` in GovCloud. The
partition comes from botocore's own endpoint data, never from a hand-written prefix table.
"""

from __future__ import annotations

import re
from functools import cache

from botocore.exceptions import BotoCoreError

from idle_reaper.exceptions import UnknownRegionError

CONSOLE_HOSTS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}
"""The AWS Management Console's domain per partition; a link anywhere else is not ours."""
_REGION_NAME = re.compile(r"[a-z]{2}(-[a-z]+){1,3}-\d{1,2}")


@cache
def partition_for(region: str) -> str:
    """`aws`, `aws-cn`, `aws-us-gov`, ... for a region name (botocore's partition data);
    raises UnknownRegionError for a name no partition knows."""
    import boto3

    try:
        return str(boto3.session.Session().get_partition_for_region(region))
    except BotoCoreError as exc:  # botocore's UnknownRegionError
        raise UnknownRegionError(f"unknown region {region[:40]!r}") from exc


def is_region(value: object) -> bool:
    """A region name some AWS partition knows (hostile strings from events end here)."""
    if not isinstance(value, str) or not _REGION_NAME.fullmatch(value):
        return False
    try:
        partition_for(value)
    except UnknownRegionError:
        return False
    return True


def console_host(region: str) -> str | None:
    """The console's host name for a region, or None where this project knows none."""
    partition = partition_for(region)
    base = CONSOLE_HOSTS.get(partition)
    if base is None:
        return None
    return base if partition == "aws-us-gov" else f"{region}.{base}"
