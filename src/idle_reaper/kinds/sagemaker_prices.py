"""On-demand prices of SageMaker notebook instances and Studio apps, per instance-hour.

A watched resource's cost and savings are only as honest as this table, so it holds only
prices that could be checked, and answers None for everything else: an unknown price gives no
cost and no savings figure (resource.Observation.cost_per_hour), never a guess.

Source: AWS's public price list for the `AmazonSageMaker` offer (the data behind
https://aws.amazon.com/sagemaker/ai/pricing/), as published 2026-09-24, read by usage type:
`USE1-Notebk:ml.<type>` for notebook instances and `USE1-Studio:JupyterLab-ml.<type>` for
Studio apps; taken on 2026-11-25. The two products are priced apart, and do differ
(ml.g4dn.xlarge: 0.7360 as a notebook instance, 0.7364 in Studio).

Looked for and not verified, so unknown (None) until someone checks them against the price
list: ml.t3.large, ml.t3.xlarge, ml.m5.large, ml.m5.2xlarge, ml.c5.xlarge, ml.p3.2xlarge, and
every region but us-east-1. The Studio prices were checked for JupyterLab usage types only;
`product="studio"` gives the same figure for CodeEditor and KernelGateway apps of that
instance type, which is an assumption of this table, not a checked fact.
"""

from __future__ import annotations

from typing import Literal

Product = Literal["notebook", "studio"]

PRICES_TAKEN = "2026-11-25"
"""When the table was last checked against the price list."""

_PRICES: dict[tuple[str, Product], dict[str, float]] = {
    ("us-east-1", "notebook"): {
        "ml.t3.medium": 0.05,
        "ml.m5.xlarge": 0.23,
        "ml.g4dn.xlarge": 0.736,
    },
    ("us-east-1", "studio"): {
        "ml.t3.medium": 0.05,
        "ml.m5.xlarge": 0.23,
        "ml.g4dn.xlarge": 0.7364,
    },
}


def price_per_hour(region: str, instance_type: str, product: Product) -> float | None:
    """USD per hour of one `instance_type` running as `product` in `region`; None when this
    table does not know it (another region, another type, a hostile string)."""
    if not isinstance(region, str) or not isinstance(instance_type, str):
        return None
    return _PRICES.get((region, product), {}).get(instance_type)


def known_instance_types(region: str, product: Product) -> tuple[str, ...]:
    """The instance types with a known price (scenarios and tests pick from these)."""
    return tuple(sorted(_PRICES.get((region, product), {})))
