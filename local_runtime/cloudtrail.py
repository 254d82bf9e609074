"""CloudTrail records of the emulated account's API calls, as EventBridge delivers them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from idle_reaper.times import to_iso

DEFAULT_PRINCIPAL = "arn:aws:sts::{account}:assumed-role/DataEngineer/analyst@example.com"


def api_call(
    *,
    source: str,
    event_source: str,
    event_name: str,
    region: str,
    account: str,
    at: datetime,
    principal: str | None,
    request: dict[str, Any],
    response: dict[str, Any] | None,
    error: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The "AWS API Call via CloudTrail" envelope for one call (failed calls carry errorCode
    and a null responseElements, as CloudTrail writes them)."""
    arn = principal or DEFAULT_PRINCIPAL.format(account=account)
    role, _, session_name = arn.split(":")[-1].removeprefix("assumed-role/").partition("/")
    identity = {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLEID:{session_name or role}",
        "arn": arn,
        "accountId": account,
        "accessKeyId": "ASIAEXAMPLEKEY",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAEXAMPLEID",
                "arn": f"arn:aws:iam::{account}:role/{role}",
                "accountId": account,
                "userName": role,
            },
            "attributes": {"creationDate": to_iso(at), "mfaAuthenticated": "false"},
        },
    }
    detail: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": to_iso(at),
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": "198.51.100.10",
        "userAgent": "aws-cli/2.15.0 md/Botocore#1.34.0",
        "requestParameters": request,
        "responseElements": None if error else response,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if error:
        detail["errorCode"], detail["errorMessage"] = error
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": source,
        "account": account,
        "time": to_iso(at),
        "region": region,
        "resources": [],
        "detail": detail,
    }
