"""Reading the audit table one account-week at a time (the ByAccountWeek index): a report
over a week costs one or two queries however large the table grows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TextIO

from idle_reaper.audit import WEEK_INDEX, AuditRecord, weeks_between
from idle_reaper.times import to_iso


def read(
    client: Any,
    table: str,
    account: str,
    since: datetime,
    until: datetime,
    progress: TextIO | None = None,
    page_size: int | None = None,
) -> list[AuditRecord]:
    """Every record of `account` from `since` to `until`, oldest first. `page_size` caps
    a page below DynamoDB's 1 MB (tests use it to see paging)."""
    records: list[AuditRecord] = []
    pages = 0
    paginator = client.get_paginator("query")
    for week in weeks_between(account, since, until):
        for page in paginator.paginate(
            TableName=table,
            IndexName=WEEK_INDEX,
            KeyConditionExpression="#week = :week AND sk BETWEEN :since AND :until",
            ExpressionAttributeNames={"#week": "week"},
            ExpressionAttributeValues={
                ":week": {"S": week},
                ":since": {"S": to_iso(since)},
                ":until": {"S": to_iso(until) + "~"},  # `~` sorts after every `#<event id>`
            },
            PaginationConfig={"PageSize": page_size} if page_size else {},
        ):
            pages += 1
            records.extend(AuditRecord.from_item(item) for item in page["Items"])
            if progress is not None:
                progress.write(f"\r[report] {week}: page {pages}, {len(records):,} records")
                progress.flush()
    if progress is not None and pages:
        progress.write("\n")
    return records
