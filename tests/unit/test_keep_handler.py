"""The keep function's handler: what it answers API Gateway (and so Slack) for each kind of
request, what it tells the clicker, that a failure raises its alarm, and that its clients wait
less than Slack does."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from idle_reaper import aws
from idle_reaper.exceptions import KeepError
from idle_reaper.keep import Answer
from tests.conftest import load_event
from tests.unit.test_handlers import Context, Provider, load

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SIGNED_AT = datetime(2026, 3, 2, 9, 37, tzinfo=UTC).timestamp()


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "idle-reaper")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "IdleReaper")
    monkeypatch.setenv("HOME_REGION", "us-east-1")
    monkeypatch.setenv("HOME_ACCOUNT", "123456789012")
    monkeypatch.setenv("SLACK_SIGNING_SECRET_ARN", "arn:signing")
    module = load("keep")
    monkeypatch.setattr(module.tracer, "provider", Provider())
    monkeypatch.setattr(module, "_secret", lambda name: SECRET if "SIGNING" in name else None)
    monkeypatch.setattr(module.time, "time", lambda: SIGNED_AT + 30)
    return module


class Answered:
    """Stands in for keep() and the response_url post: what was decided, what was sent."""

    def __init__(self, answer: Answer) -> None:
        self.answer, self.sent, self.clicks = answer, [], []

    def keep(self, click: Any, keeper: Any) -> Answer:
        self.clicks.append((click, keeper))
        return self.answer

    def send(self, url: str, payload: dict[str, Any], deadline: Any) -> int:
        self.sent.append((url, payload))
        return 200


def wire(app: Any, monkeypatch: pytest.MonkeyPatch, answer: Answer) -> Answered:
    answered = Answered(answer)
    monkeypatch.setattr(app, "keep", answered.keep)
    monkeypatch.setattr(app.keep_reply, "send", answered.send)
    return answered


def test_a_signed_click_is_decided_answered_to_slack_and_acknowledged(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    answered = wire(app, monkeypatch, Answer("kept", "Kept until 10:37 UTC on 2026-03-02."))
    response = app.handler(load_event("keep-block-actions.json"), Context())
    assert response["statusCode"] == 200
    ((click, keeper),) = answered.clicks
    assert click.user_id == "U0ANALYST1" and click.clicked_at.isoformat().startswith(
        "2026-03-02T09:37"
    )
    assert keeper.email_of is None  # no bot token configured: admins only
    ((url, payload),) = answered.sent
    assert url.startswith("https://hooks.slack.com/actions/")
    assert payload["replace_original"] is True


def test_a_bad_or_stale_signature_is_401_and_decides_nothing(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    answered = wire(app, monkeypatch, Answer("kept", "x"))
    event = load_event("keep-block-actions.json")
    event["headers"]["x-slack-signature"] = "v0=" + "0" * 64
    assert app.handler(event, Context())["statusCode"] == 401
    monkeypatch.setattr(app.time, "time", lambda: SIGNED_AT + 301)
    assert app.handler(load_event("keep-block-actions.json"), Context())["statusCode"] == 401
    del event["headers"]["x-slack-signature"]
    assert app.handler(event, Context())["statusCode"] == 401
    assert answered.clicks == [] and answered.sent == []


def test_what_is_no_interaction_is_400(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    answered = wire(app, monkeypatch, Answer("kept", "x"))
    assert app.handler({"body": None}, Context())["statusCode"] == 400
    event = load_event("keep-block-actions.json")
    event["body"] = "%%%"
    assert app.handler(event, Context())["statusCode"] == 400
    assert answered.clicks == []


def test_a_signed_body_that_is_no_payload_is_400(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib
    import hmac

    answered = wire(app, monkeypatch, Answer("kept", "x"))
    body = b"hello=world"
    stamp = str(int(SIGNED_AT))
    signature = hmac.new(SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    event = {
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
        "headers": {
            "x-slack-request-timestamp": stamp,
            "x-slack-signature": "v0=" + signature.hexdigest(),
        },
    }
    assert app.handler(event, Context())["statusCode"] == 400
    assert answered.clicks == []


def test_a_refusal_is_told_to_the_clicker_alone_and_is_no_error(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    answered = wire(app, monkeypatch, Answer("refused", "Only the owner can keep it."))
    assert app.handler(load_event("keep-block-actions.json"), Context())["statusCode"] == 200
    ((_url, payload),) = answered.sent
    assert payload == {
        "response_type": "ephemeral",
        "replace_original": False,
        "text": "Only the owner can keep it.",
    }


def test_a_failure_is_told_to_the_clicker_and_then_raised_for_the_alarm(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = Answer("failed", "idle-reaper could not keep it just now.", error="AccessDenied")
    answered = wire(app, monkeypatch, failed)
    with pytest.raises(KeepError, match="AccessDenied"):
        app.handler(load_event("keep-block-actions.json"), Context())
    ((_url, payload),) = answered.sent
    assert payload["response_type"] == "ephemeral"


def test_another_button_is_acknowledged_and_answered_with_nothing(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    answered = wire(app, monkeypatch, Answer("ignored", ""))
    assert app.handler(load_event("keep-block-actions.json"), Context())["statusCode"] == 200
    assert answered.sent == []


def test_without_a_signing_secret_the_endpoint_is_broken_not_open(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "_secret", lambda name: None)
    with pytest.raises(KeepError):
        app.handler(load_event("keep-block-actions.json"), Context())


def test_its_clients_give_up_before_slack_does(app: Any) -> None:
    config = app._client("glue", "us-east-1").meta.config
    assert config.connect_timeout + config.read_timeout <= app.SLACK_WAITS_SECONDS
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}
    assert aws.INTERACTIVE_CONFIG.read_timeout < aws.CLIENT_CONFIG.read_timeout


def _signed(payload: dict[str, Any]) -> dict[str, Any]:
    """A click event carrying this payload, signed with the app's secret."""
    import hashlib
    import hmac
    from urllib.parse import quote

    body = ("payload=" + quote(json.dumps(payload), safe="")).encode()
    stamp = str(int(SIGNED_AT))
    signature = hmac.new(SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    return {
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
        "headers": {
            "x-slack-request-timestamp": stamp,
            "x-slack-signature": "v0=" + signature.hexdigest(),
        },
    }


def test_a_response_url_that_is_not_slacks_gets_nothing_and_is_not_logged(
    app: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from urllib.parse import unquote_plus

    answered = wire(app, monkeypatch, Answer("kept", "Kept until 10:37 UTC on 2026-03-02."))
    sample = load_event("keep-block-actions.json")
    body = base64.b64decode(sample["body"]).decode()
    payload = json.loads(unquote_plus(body.split("payload=", 1)[1].split("&", 1)[0]))
    hostile = "https://hooks.slack.com@evil.example/actions/T0EXAMPLE1/1/secret-token"
    payload["response_url"] = hostile
    warned: list[str] = []
    monkeypatch.setattr(app.logger, "warning", lambda msg, **kw: warned.append(f"{msg} {kw}"))
    assert app.handler(_signed(payload), Context())["statusCode"] == 200
    assert len(answered.clicks) == 1  # the keep is still decided
    assert answered.sent == []  # but nothing goes to that address
    assert any("response_url is not Slack's" in w for w in warned)
    out = capsys.readouterr()
    assert '"KeepResponseUrlRefused":[1.0]' in out.out
    logged = " ".join([*warned, out.out, out.err])
    assert "evil.example" not in logged and "secret-token" not in logged
