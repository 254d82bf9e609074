"""The local runtime's API Gateway HTTP API: routes from the template, the payload 2.0 event a
function receives, and how its answer becomes the HTTP response."""

from __future__ import annotations

import base64
import json
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest

from local_runtime import stack as stack_module
from local_runtime.http_api import HttpApis, response_of
from tests.conftest import ROOT

SIGNING = "arn:aws:secretsmanager:us-east-1:123456789012:secret:idle-reaper/slack-signing-AbCdEf"
NOW = datetime(2026, 3, 2, 9, 37, tzinfo=UTC)


class Functions:
    """Stands in for the runtime's Functions: answers, or raises, and keeps what it got."""

    def __init__(self, answer: Any = None, error: Exception | None = None) -> None:
        self.answer, self.error, self.events = answer, error, []

    def invoke(self, arn: str, event: Any) -> Any:
        self.events.append((arn, event))
        if self.error:
            raise self.error
        return self.answer


@pytest.fixture(scope="module")
def stack() -> stack_module.Stack:
    return stack_module.load(ROOT / "template.yaml", {"SlackSigningSecretArn": SIGNING})


def apis(stack: stack_module.Stack, functions: Functions) -> HttpApis:
    return HttpApis(stack, functions, lambda: NOW)  # type: ignore[arg-type]


def test_a_form_post_reaches_the_function_as_api_gateway_sends_it(
    stack: stack_module.Stack,
) -> None:
    functions = Functions({"statusCode": 200, "headers": {"X-A": "1"}, "body": "ok"})
    status, headers, body = apis(stack, functions).serve(
        "POST",
        "/slack/interactions?x=1",
        {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Signature": "v0=ab"},
        b"payload=%7B%7D",
    )
    assert (status, headers, body) == (200, {"x-a": "1"}, b"ok")
    ((arn, event),) = functions.events
    assert arn == stack.arn("KeepFunction")
    assert event["version"] == "2.0" and event["routeKey"] == "POST /slack/interactions"
    assert event["rawPath"] == "/slack/interactions" and event["rawQueryString"] == "x=1"
    assert event["headers"]["x-slack-signature"] == "v0=ab"  # names in lower case
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"payload=%7B%7D"
    context = event["requestContext"]
    assert context["http"]["method"] == "POST" and context["stage"] == "$default"
    assert context["timeEpoch"] == int(NOW.timestamp() * 1000)
    assert context["time"] == "02/Mar/2026:09:37:00 +0000"


def test_a_json_body_stays_text(stack: stack_module.Stack) -> None:
    functions = Functions({"statusCode": 204})
    apis(stack, functions).serve(
        "POST", "/slack/interactions", {"content-type": "application/json"}, b'{"a": 1}'
    )
    event = functions.events[0][1]
    assert (event["isBase64Encoded"], event["body"]) == (False, '{"a": 1}')


def test_unknown_routes_and_function_errors(stack: stack_module.Stack) -> None:
    assert apis(stack, Functions()).serve("GET", "/slack/interactions", {}, b"")[0] == 404
    assert apis(stack, Functions()).serve("POST", "/other", {}, b"")[0] == 404
    broken = apis(stack, Functions(error=RuntimeError("boom")))
    status, _, body = broken.serve("POST", "/slack/interactions", {}, b"")
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})


def test_an_answer_without_a_status_code_is_a_200_with_it_as_json() -> None:
    assert response_of({"a": 1}) == (200, {"content-type": "application/json"}, b'{"a": 1}')
    encoded = {
        "statusCode": 201,
        "body": base64.b64encode(b"\x00").decode(),
        "isBase64Encoded": True,
    }
    assert response_of(encoded) == (201, {}, b"\x00")


def test_it_answers_over_real_http(stack: stack_module.Stack) -> None:
    functions = Functions({"statusCode": 401, "body": "invalid request signature"})
    with apis(stack, functions).serving() as served:
        request = urllib.request.Request(served.url + "/slack/interactions", b"x", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            # an opener of its own: urlopen's global one would keep this test's proxy settings
            # for every later test of the process
            urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10)
    assert refused.value.code == 401 and refused.value.read() == b"invalid request signature"
