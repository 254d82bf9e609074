"""Audit: one reaper event in, one record in the audit table and its metrics out, once."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from idle_reaper import aws
from idle_reaper.audit import DEFAULT_RETENTION_DAYS, metrics_for, record_for
from idle_reaper.exceptions import AuditRecordError

logger = Logger()
metrics = Metrics()
tracer = Tracer()


@cache
def _dynamodb() -> Any:
    return aws.client("dynamodb")


@logger.inject_lambda_context(correlation_id_path="detail.execution_arn", log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    retention = int(os.environ.get("AUDIT_RETENTION_DAYS") or DEFAULT_RETENTION_DAYS)
    try:
        record = record_for(event, retention)
    except AuditRecordError as exc:
        logger.error("cannot be recorded: failing, so it is dead-lettered", extra={"why": str(exc)})
        raise
    if record.notes:
        logger.warning(
            "the event was damaged; recorded as far as it goes",
            extra={"event_id": record.event_id, "notes": record.notes},
        )
    try:
        _dynamodb().put_item(
            TableName=os.environ["AUDIT_TABLE"],
            Item=record.to_item(),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except _dynamodb().exceptions.ConditionalCheckFailedException:
        logger.info("already on the record", extra={"event_id": record.event_id})
        return {"recorded": False, "event_id": record.event_id}
    added = metrics_for(record)
    if added:  # Powertools clears dimensions only when it flushes a metric: none, no dimension
        metrics.add_dimension(name="kind", value=record.kind)
    for name, unit, value in added:
        metrics.add_metric(name=name, unit=unit, value=value)
    logger.info(
        "recorded",
        extra={"event_id": record.event_id, "type": record.type, "resource": record.resource_id},
    )
    return {"recorded": True, "event_id": record.event_id}
