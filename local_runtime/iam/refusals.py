"""A refusal as AWS sends it for the request's protocol, so clients raise the error they would
raise against AWS (`AccessDeniedException`, SNS's `AuthorizationError`, `AccessDenied`)."""

from __future__ import annotations

import json
import uuid
from typing import Any
from xml.sax.saxutils import escape

from werkzeug.exceptions import HTTPException


class Refused(HTTPException):
    """What moto's dispatcher turns into the response: this body, this status."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(description=body)
        self.code = status


def access_denied(response: Any, service: str, message: str) -> Refused:
    """The caller's policies do not allow the call."""
    return _refusal(response, service, message, invalid_token=False)


def invalid_token(response: Any, service: str) -> Refused:
    """The request is signed with an access key no identity holds."""
    message = "The security token included in the request is invalid."
    return _refusal(response, service, message, invalid_token=True)


def _refusal(response: Any, service: str, message: str, invalid_token: bool) -> Refused:
    """The error AWS sends for this protocol: JSON services `AccessDeniedException` (400; SQS
    also names its query-compatible `AccessDenied`), Lambda's REST-JSON the same with 403,
    query services XML: SNS `AuthorizationError`, the others `AccessDenied` (403)."""
    content_type = str(response.headers.get("Content-Type") or "")
    extra: dict[str, str] = {}
    if "x-www-form-urlencoded" in content_type or service in ("sns", "sts", "iam"):
        code = (
            "InvalidClientTokenId"
            if invalid_token
            else ("AuthorizationError" if service == "sns" else "AccessDenied")
        )
        status = 403
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        )
        extra["Content-Type"] = "text/xml"
    else:
        code = "UnrecognizedClientException" if invalid_token else "AccessDeniedException"
        status = 403 if "x-amz-json" not in content_type else 400
        body = json.dumps({"__type": code, "message": message, "Message": message})
        extra["x-amzn-ErrorType"] = code
        extra["Content-Type"] = "application/x-amz-json-1.1"
        if service == "sqs":
            extra["x-amzn-query-error"] = (
                "InvalidClientTokenId;Sender" if invalid_token else "AccessDenied;Sender"
            )
    response.response_headers.update(extra)
    return Refused(status, body)
