"""What an EC2 instance costs per hour while it runs: On-Demand, Linux, shared tenancy.

Source: the Amazon EC2 On-Demand pricing page (https://aws.amazon.com/ec2/pricing/on-demand/),
region US East (N. Virginia), operating system Linux, taken on PRICES_TAKEN. The page itself
is rendered by a script that could not be fetched where this table was written, so each value
is the one the page lists as found in several independent published copies of it, all agreeing;
a type or a region whose price could not be checked that way is left out. Anything not in the
table has no price (None): no cost and no savings figure is given for it, never a guess.
Windows, RHEL, SUSE, dedicated tenancy, Savings Plans, Reserved and Spot prices all differ:
`listed_price` gives the table's price only to an instance DescribeInstances describes as
exactly what the table lists, and None (unknown) to any other, including one whose platform,
tenancy or purchase option it does not say: a missing figure, never a wrong one.
"""

from __future__ import annotations

from collections.abc import Mapping

PRICES_TAKEN = "2026-11-25"
SOURCE = "https://aws.amazon.com/ec2/pricing/on-demand/"

ON_DEMAND_LINUX_USD_PER_HOUR: Mapping[str, Mapping[str, float]] = {
    "us-east-1": {
        "t3.micro": 0.0104,
        "t3.small": 0.0208,
        "t3.medium": 0.0416,
        "t3.large": 0.0832,
        "t3.xlarge": 0.1664,
        "m5.large": 0.096,
        "m5.xlarge": 0.192,
        "m5.2xlarge": 0.384,
        "m6i.large": 0.096,
        "c5.large": 0.085,
        "r5.large": 0.126,
        "g4dn.xlarge": 0.526,
        "p3.2xlarge": 3.06,
    },
}
"""Region -> instance type -> USD per instance-hour (EC2 bills Linux per second)."""


def price_per_hour(region: str, instance_type: object) -> float | None:
    """The On-Demand Linux price of a type in a region, or None when the table has none."""
    if not isinstance(instance_type, str):
        return None
    return ON_DEMAND_LINUX_USD_PER_HOUR.get(region, {}).get(instance_type)


LISTED_PLATFORM = "Linux/UNIX"
"""DescribeInstances' PlatformDetails for a Linux instance with no paid OS or software licence
(EC2 User Guide, AMI billing information fields: usage operation RunInstances). Red Hat
Enterprise Linux, SUSE Linux, Ubuntu Pro, Windows and every "with SQL Server" variant are other
values, at other prices."""
LISTED_TENANCY = "default"
"""Placement.Tenancy of a shared-hardware instance; `dedicated` and `host` bill differently."""


def listed_price(
    region: str,
    instance_type: object,
    *,
    platform_details: object,
    tenancy: object,
    lifecycle: object,
) -> float | None:
    """The table's price for an instance DescribeInstances describes (PlatformDetails,
    Placement.Tenancy, InstanceLifecycle), when it is an On-Demand, shared-tenancy Linux/UNIX
    instance (no InstanceLifecycle: Spot, Scheduled and Capacity Blocks bill otherwise);
    None for anything else."""
    if platform_details != LISTED_PLATFORM or tenancy != LISTED_TENANCY or lifecycle is not None:
        return None
    return price_per_hour(region, instance_type)
