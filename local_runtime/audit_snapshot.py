"""The local runtime's audit table, kept after a run so `make report` can read it.

The emulated account ends with the run; the table is written to a file (its schema, its
items as DynamoDB returns them, the virtual time the run ended) and `make report` loads it
into a fresh emulated table, so the report's queries run unchanged against it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idle_reaper.times import parse_iso, to_iso
from local_runtime.errors import LocalRuntimeError

if TYPE_CHECKING:
    from local_runtime.runtime import Account

DEFAULT_PATH = Path(__file__).resolve().parent.parent / ".local-runtime" / "audit-table.json"
AUDIT_TABLE = "AuditTable"


@dataclass(frozen=True)
class LocalTable:
    client: Any
    table: str
    account: str
    region: str
    now: datetime
    """The virtual time the run ended: `--since 7d` counts back from here."""


def save(account: Account, path: Path, now: datetime) -> int:
    """Write the run's audit table to `path`; return how many records it holds."""
    dynamodb = account.clients["dynamodb"]
    name = account.stack.physical_name(AUDIT_TABLE)
    described = dynamodb.describe_table(TableName=name)["Table"]
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=name):
        items.extend(page["Items"])
    schema = {
        "KeySchema": described["KeySchema"],
        "AttributeDefinitions": described["AttributeDefinitions"],
        "GlobalSecondaryIndexes": [
            {k: index[k] for k in ("IndexName", "KeySchema", "Projection")}
            for index in described.get("GlobalSecondaryIndexes", [])
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    snapshot = {
        "now": to_iso(now),
        "account": account.account_id,
        "region": account.region,
        "table": name,
        "schema": schema,
        "items": items,
    }
    path.write_text(json.dumps(snapshot))
    return len(items)


@contextmanager
def opened(path: Path) -> Iterator[LocalTable]:
    """The saved table, loaded into a fresh emulated account for as long as it is open."""
    import boto3
    from moto import mock_aws

    try:
        snapshot = json.loads(path.read_text())
    except FileNotFoundError:
        raise LocalRuntimeError(
            f"{path}: no local audit table yet; run `make demo` or `make simulate` first"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise LocalRuntimeError(f"{path}: cannot read the local audit table ({exc})") from None
    with mock_aws():
        client = boto3.client("dynamodb", region_name=snapshot["region"])
        schema = {k: v for k, v in snapshot["schema"].items() if v}
        client.create_table(TableName=snapshot["table"], BillingMode="PAY_PER_REQUEST", **schema)
        for item in snapshot["items"]:
            client.put_item(TableName=snapshot["table"], Item=item)
        yield LocalTable(
            client,
            snapshot["table"],
            snapshot["account"],
            snapshot["region"],
            parse_iso(snapshot["now"]),
        )
