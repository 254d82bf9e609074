"""API Gateway's HTTP APIs from template.yaml, served on 127.0.0.1.

Each route of an AWS::ApiGatewayV2::Api's OpenAPI body (as SAM writes it from a function's
HttpApi event) invokes its Lambda proxy integration through the runtime's Functions, with the
payload format 2.0 event API Gateway sends, and the function's answer becomes the HTTP
response, as API Gateway maps it
(https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html):
headers in lower case, duplicates joined with commas; a body that is not text (a form, as
Slack posts) base64-encoded with `isBase64Encoded` true; an answer with `statusCode` is the
response, any other answer a 200 with it as JSON; a function error a 500.

Not emulated: authorizers (the template has none), CORS, the stage's throttling, access logs,
and the Lambda permission SAM adds for the API (the invocation is not checked against it).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from local_runtime import loopback
from local_runtime.errors import TemplateError
from local_runtime.lambdas import Functions
from local_runtime.stack import Stack

_INTEGRATION = re.compile(
    r"arn:[^:]+:apigateway:[^:]+:lambda:path/[^/]+/functions/(.+)/invocations"
)
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
MAX_BODY_BYTES = 10 * 1024 * 1024
"""An HTTP API's payload quota (10 MB)."""


@dataclass(frozen=True)
class Route:
    api: str
    """The API's logical id (its `apiId` in events)."""
    method: str
    path: str
    function_arn: str


@dataclass
class Exchange:
    """One request the API served, for tests and the timeline."""

    at: datetime
    route: str
    status: int
    event: dict[str, Any]
    answer: Any


def routes_of(stack: Stack) -> dict[tuple[str, str], Route]:
    """(METHOD, path) -> its route, from every HTTP API of the stack."""
    found: dict[tuple[str, str], Route] = {}
    for logical, res in stack.of_type("AWS::ApiGatewayV2::Api").items():
        paths = (res["Properties"].get("Body") or {}).get("paths") or {}
        for path, methods in paths.items():
            for method, operation in methods.items():
                integration = operation.get("x-amazon-apigateway-integration") or {}
                match = _INTEGRATION.fullmatch(str(integration.get("uri", "")))
                if match is None or integration.get("payloadFormatVersion") != "2.0":
                    raise TemplateError(
                        f"{logical} {method.upper()} {path}: only Lambda proxy integrations"
                        " with payload format 2.0 are emulated"
                    )
                key = (method.upper(), path)
                if key in found:
                    raise TemplateError(f"{method.upper()} {path} is routed twice")
                found[key] = Route(logical, method.upper(), path, match.group(1))
    return found


@dataclass
class HttpApis:
    """Every HTTP API of the stack on one local port, routed by method and path."""

    stack: Stack
    functions: Functions
    now: Callable[[], datetime]
    routes: dict[tuple[str, str], Route] = field(default_factory=dict)
    exchanges: list[Exchange] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self.routes = routes_of(self.stack)

    def serve(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """One request, as API Gateway would answer it."""
        parts = urlsplit(target)
        route = self.routes.get((method, parts.path))
        if route is None:
            return 404, {"content-type": "application/json"}, b'{"message":"Not Found"}'
        event = self.event(route, parts.path, parts.query, headers, body)
        try:
            answer = self.functions.invoke(route.function_arn, event)
        except Exception as exc:
            self.exchanges.append(Exchange(self.now(), _key(route), 500, event, repr(exc)))
            return 500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}'
        status, out_headers, out_body = response_of(answer)
        self.exchanges.append(Exchange(self.now(), _key(route), status, event, answer))
        return status, out_headers, out_body

    def event(
        self, route: Route, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> dict[str, Any]:
        """The payload format 2.0 event for one request."""
        lowered: dict[str, str] = {}
        for name, value in headers.items():
            key = name.lower()
            lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
        text = any(lowered.get("content-type", "").startswith(t) for t in _TEXT_TYPES)
        moment = self.now().astimezone(UTC)
        host = lowered.get("host", "127.0.0.1")
        return {
            "version": "2.0",
            "routeKey": _key(route),
            "rawPath": path,
            "rawQueryString": query,
            "headers": lowered,
            "requestContext": {
                "accountId": self.stack.account,
                "apiId": route.api,
                "domainName": host,
                "domainPrefix": host.split(".", 1)[0],
                "http": {
                    "method": route.method,
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                    "userAgent": lowered.get("user-agent", ""),
                },
                "requestId": str(uuid.uuid4()),
                "routeKey": _key(route),
                "stage": "$default",
                "time": moment.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(moment.timestamp() * 1000),
            },
            "body": body.decode("utf-8", "replace") if text else base64.b64encode(body).decode(),
            "isBase64Encoded": not text,
        }

    @contextmanager
    def serving(self) -> Iterator[HttpApis]:
        apis = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY_BYTES)
                body = self.rfile.read(length)
                status, headers, out = apis.serve(
                    self.command, self.path, dict(self.headers.items()), body
                )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_POST = do_GET = do_PUT = do_DELETE = _any

            def log_message(self, *args: Any) -> None:
                return

        with loopback.serving(Handler) as base:
            self.url = base
            yield self


def response_of(answer: Any) -> tuple[int, dict[str, str], bytes]:
    """API Gateway's reading of a payload 2.0 answer: one with `statusCode` is the response
    (its body base64-decoded when `isBase64Encoded`); anything else is a 200 with it as JSON."""
    if isinstance(answer, dict) and "statusCode" in answer:
        headers = {str(k).lower(): str(v) for k, v in (answer.get("headers") or {}).items()}
        body = answer.get("body") or ""
        raw = base64.b64decode(body) if answer.get("isBase64Encoded") else str(body).encode()
        return int(answer["statusCode"]), headers, raw
    return 200, {"content-type": "application/json"}, json.dumps(answer).encode()


def _key(route: Route) -> str:
    return f"{route.method} {route.path}"
