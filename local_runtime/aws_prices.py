"""List prices (US East (N. Virginia), on-demand, no free tier) of what a stopping strategy
itself uses, and the arithmetic from measured usage to dollars. Each figure names where it
was read (looked up 2026-11-25); recheck them there before quoting them elsewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Price:
    usd: float
    per: int
    unit: str
    source: str

    def of(self, quantity: float) -> float:
        return self.usd * quantity / self.per


STATE_TRANSITION = Price(
    0.025,
    1_000,
    "Step Functions Standard state transitions (retries included)",
    "https://aws.amazon.com/step-functions/pricing/ (state transitions pricing table, US East"
    " (N. Virginia): $0.0250 per 1,000)",
)
LAMBDA_REQUEST = Price(
    0.20,
    1_000_000,
    "Lambda requests",
    "https://aws.amazon.com/lambda/pricing/ ($0.20 per 1M requests, x86 and Arm alike; the"
    " stored copy of AWS's page renders its table client-side, so read from summaries of it)",
)
LAMBDA_GB_SECOND_ARM = Price(
    0.0000133334,
    1,
    "Lambda duration, Arm (arm64), GB-seconds",
    "https://aws.amazon.com/lambda/pricing/ (Arm, first 7.5 billion GB-s a month; x86 is"
    " $0.0000166667; figures as third-party summaries of that page give them)",
)
EVENTBRIDGE_CUSTOM_EVENT = Price(
    1.00,
    1_000_000,
    "EventBridge custom events published (64 KB chunks)",
    "https://aws.amazon.com/eventbridge/pricing/ (custom events $1.00/million; AWS management"
    " events, such as CloudTrail's CreateSession, are ingested free)",
)
SCHEDULED_INVOCATION = Price(
    1.00,
    1_000_000,
    "scheduled invocations (priced at EventBridge Scheduler's rate, an upper bound for the"
    " template's scheduled rules)",
    "https://aws.amazon.com/eventbridge/pricing/ (Scheduler: $1.00/million invocations after"
    " 14 million free a month)",
)
DYNAMODB_WRITE = Price(
    0.625,
    1_000_000,
    "DynamoDB on-demand write request units (one per write: items under 1 KB assumed)",
    "https://aws.amazon.com/dynamodb/pricing/on-demand/ ($0.625 per million WRU since the"
    " November 2024 price cut, as summaries of that page give it)",
)
DYNAMODB_READ = Price(
    0.125,
    1_000_000,
    "DynamoDB on-demand read request units (one per read, strongly consistent assumed)",
    "https://aws.amazon.com/dynamodb/pricing/on-demand/ ($0.125 per million RRU)",
)
SNS_EMAIL = Price(
    2.00,
    100_000,
    "SNS email deliveries (one subscriber; the publish itself, $0.50 per million, on top)",
    "https://aws.amazon.com/sns/pricing/ ($2.00 per 100,000 email notifications)",
)
SNS_PUBLISH = Price(
    0.50,
    1_000_000,
    "SNS publishes",
    "https://aws.amazon.com/sns/pricing/ ($0.50 per million requests)",
)
NOT_COUNTED = (
    "CloudWatch Logs ingestion, X-Ray traces, KMS requests for the encrypted topic, CloudWatch"
    " custom metrics (per metric-month, not per session), the CloudTrail trail (needed anyway)"
)

DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})
DYNAMODB_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem"})


def requests_billed(operation: str, params: Any) -> int:
    """How many of a call's requests a bill counts: a DynamoDB batch each item it asks for
    (each is read or written separately, as one GetItem or PutItem would be), any other call
    one."""
    tables = params.get("RequestItems") if isinstance(params, dict) else None
    if operation == "BatchGetItem" and isinstance(tables, dict):
        return sum(len(asked.get("Keys") or []) for asked in tables.values())
    if operation == "BatchWriteItem" and isinstance(tables, dict):
        return sum(len(writes or []) for writes in tables.values())
    return 1


@dataclass
class Usage:
    """What a strategy used in one run, as measured."""

    state_transitions: int = 0
    lambda_requests: int = 0
    lambda_gb_seconds: float = 0.0
    """Sum over invocations of memory (GB) x duration rounded up to the millisecond."""
    custom_events: int = 0
    scheduled_invocations: int = 0
    api_calls: dict[str, int] = field(default_factory=dict)
    """`service:Operation` -> requests made during the run (the users' CreateSession aside),
    counted as billed (`requests_billed`: a DynamoDB batch counts each item)."""

    def calls(self, service: str, operations: frozenset[str]) -> int:
        return sum(self.api_calls.get(f"{service}:{op}", 0) for op in operations)


def billed_gb_seconds(memory_mb: int, seconds: float) -> float:
    """Lambda's duration charge unit: memory in GB times the duration rounded up to 1 ms."""
    return memory_mb / 1024 * math.ceil(seconds * 1000) / 1000


def cost(usage: Usage) -> dict[str, float]:
    """Dollars per line item at the list prices above (unrounded)."""
    publishes = usage.calls("sns", frozenset({"Publish"}))
    return {
        "step_functions": STATE_TRANSITION.of(usage.state_transitions),
        "lambda_requests": LAMBDA_REQUEST.of(usage.lambda_requests),
        "lambda_compute": LAMBDA_GB_SECOND_ARM.of(usage.lambda_gb_seconds),
        "eventbridge": EVENTBRIDGE_CUSTOM_EVENT.of(usage.custom_events)
        + SCHEDULED_INVOCATION.of(usage.scheduled_invocations),
        "dynamodb": DYNAMODB_WRITE.of(usage.calls("dynamodb", DYNAMODB_WRITES))
        + DYNAMODB_READ.of(usage.calls("dynamodb", DYNAMODB_READS)),
        "sns": SNS_PUBLISH.of(publishes) + SNS_EMAIL.of(publishes),
    }


def per_thousand(amounts: dict[str, float], sessions: int) -> dict[str, Any]:
    """Each line and the total scaled to 1,000 sessions."""
    scale = 1000 / sessions if sessions else 0.0
    scaled = {k: v * scale for k, v in amounts.items()}
    return {**scaled, "total": sum(scaled.values())}


PRICES = (
    STATE_TRANSITION,
    LAMBDA_REQUEST,
    LAMBDA_GB_SECOND_ARM,
    EVENTBRIDGE_CUSTOM_EVENT,
    SCHEDULED_INVOCATION,
    DYNAMODB_WRITE,
    DYNAMODB_READ,
    SNS_PUBLISH,
    SNS_EMAIL,
)
