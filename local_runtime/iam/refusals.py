"""A refusal as AWS sends it for the request's protocol, so clients raise the error they would
raise against AWS (`AccessDeniedException`, SNS's `AuthorizationError`, `AccessDenied`, EC2's
`UnauthorizedOperation`)."""

from __future__ import annotations

import json
import secrets
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


_QUERY_COMPATIBLE = frozenset({"sqs", "monitoring"})
"""JSON services that also send their query protocol's error code (botocore's models:
`awsQueryCompatible`), which clients report: SQS's and CloudWatch's `AccessDenied`."""
EC2_REFUSAL = "You are not authorized to perform this operation."
EC2_BAD_KEY = "AWS was not able to validate the provided access credentials"


def _ec2_refusal(response: Any, message: str, invalid_token: bool) -> Refused:
    """EC2's own XML error (`Response/Errors/Error`): an IAM refusal is UnauthorizedOperation,
    403 ("If a user tries to perform an action that has not been granted, the request returns
    the following error: Client.UnauthorizedOperation": Amazon EC2 API Reference, "Troubleshooting
    API request errors"; "an HTTP 403 response": STS DecodeAuthorizationMessage), its message
    AWS's sentence, IAM's explanation and an encoded authorization message; an unknown key is
    AuthFailure (401: EC2's common client errors)."""
    if invalid_token:
        code, status, text = "AuthFailure", 401, EC2_BAD_KEY
    else:
        encoded = secrets.token_urlsafe(96)  # opaque, as AWS's (only STS can decode those)
        code, status = "UnauthorizedOperation", 403
        text = f"{EC2_REFUSAL} {message}. Encoded authorization failure message: {encoded}"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
        f"<Code>{code}</Code><Message>{escape(text)}</Message></Error></Errors>"
        f"<RequestID>{uuid.uuid4()}</RequestID></Response>"
    )
    response.response_headers.update({"Content-Type": "text/xml"})
    return Refused(status, body)


def _refusal(response: Any, service: str, message: str, invalid_token: bool) -> Refused:
    """The error AWS sends for this protocol: JSON services `AccessDeniedException` (400; SQS
    and CloudWatch also name their query-compatible `AccessDenied`), Lambda's REST-JSON the same
    with 403, query services XML: SNS `AuthorizationError`, EC2 its own (`_ec2_refusal`), the
    others `AccessDenied` (403)."""
    if service == "ec2":
        return _ec2_refusal(response, message, invalid_token)
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
        if service in _QUERY_COMPATIBLE:
            extra["x-amzn-query-error"] = (
                "InvalidClientTokenId;Sender" if invalid_token else "AccessDenied;Sender"
            )
    response.response_headers.update(extra)
    return Refused(status, body)
