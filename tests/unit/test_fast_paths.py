"""The runtime's shortcuts through moto's and botocore's per-request work give the same answers
as the work they skip: the same handler, the same serialized responses and errors, the same
timestamps, the same credential scope for IAM to read."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.crt.auth import CrtS3SigV4Auth, CrtSigV4Auth
from botocore.exceptions import ClientError
from freezegun import freeze_time
from moto import mock_aws
from moto.core.responses import BaseResponse
from moto.core.serialize import JSONSerializer, ResponseSerializer, XFormedAttributePicker
from moto.core.utils import get_service_model, method_names_from_class
from moto.dynamodb.responses import DynamoHandler
from moto.glue.responses import GlueResponse

from local_runtime.fast_paths import (
    _FunctionNames,
    _Memo,
    _route,
    fast_paths_on,
    json_deepcopy,
    random_string,
)
from local_runtime.iam.requests import credential_scope


@pytest.mark.parametrize("response_cls", [GlueResponse, DynamoHandler, BaseResponse])
def test_the_handler_lookup_answers_as_moto_lists_methods(response_cls: type) -> None:
    listed = method_names_from_class(response_cls)
    names = _FunctionNames(response_cls)
    for name in [*dir(response_cls), "no_such_action", "", "__class__", "list_sessions"]:
        assert (name in names) == (name in listed), name


def test_a_url_is_routed_to_the_handler_moto_would_call() -> None:
    assert _route("https://glue.us-east-1.amazonaws.com/") == (GlueResponse, "dispatch")
    assert _route("https://dynamodb.eu-west-1.amazonaws.com/") == (DynamoHandler, "dispatch")
    assert _route("https://example.com/anything") is None  # moto's own path decides


def _calls(prefix: str) -> list[Any]:
    """Deterministic calls (and refusals) across protocols: what each returned, less the
    request's own metadata."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    glue = boto3.client("glue", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    answers: list[Any] = []

    def keep(call: Any) -> None:
        try:
            answer = call()
            answer.pop("ResponseMetadata", None)
            answers.append(answer)
        except ClientError as exc:
            answers.append(("error", exc.response["Error"], exc.operation_name))

    table = f"{prefix}-claims"
    keep(
        lambda: dynamodb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "claim", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "claim", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    )
    keep(lambda: dynamodb.put_item(TableName=table, Item={"claim": {"S": "k"}, "n": {"N": "1"}}))
    keep(lambda: dynamodb.get_item(TableName=table, Key={"claim": {"S": "k"}}))
    keep(
        lambda: dynamodb.put_item(
            TableName=table,
            Item={"claim": {"S": "k"}},
            ConditionExpression="attribute_not_exists(claim)",
        )
    )
    keep(lambda: dynamodb.get_item(TableName="missing", Key={"claim": {"S": "k"}}))
    keep(lambda: dynamodb.describe_table(TableName=table))
    keep(
        lambda: glue.create_session(
            Id=f"{prefix}-s1", Role="arn:aws:iam::123456789012:role/r", Command={"Name": "glueetl"}
        )
    )
    keep(lambda: glue.get_session(Id=f"{prefix}-s1"))
    keep(lambda: glue.list_sessions())
    keep(lambda: glue.get_session(Id="missing"))
    keep(lambda: sqs.create_queue(QueueName=f"{prefix}-q"))
    keep(lambda: sqs.get_queue_attributes(QueueUrl="https://nowhere/123456789012/missing"))
    return answers


def test_responses_and_errors_are_the_same_with_the_shortcuts() -> None:
    with freeze_time("2026-03-02T08:00:00.250Z"), mock_aws():
        without = _calls("a")
    with freeze_time("2026-03-02T08:00:00.250Z"), mock_aws(), fast_paths_on():
        with_shortcuts = _calls("a")
    assert with_shortcuts == without
    assert any(isinstance(a, tuple) for a in without)  # refusals were compared too


def _signed(signer: Any) -> dict[str, str]:
    request = AWSRequest(
        method="POST",
        url="https://glue.us-east-1.amazonaws.com/",
        data=b'{"Id": "s1"}',
        headers={
            "X-Amz-Target": "AWSGlue.GetSession",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    signer.add_auth(request)
    return dict(request.headers.items())


@freeze_time("2026-03-02T08:00:05Z")
def test_requests_carry_the_credential_scope_the_signer_would_write() -> None:
    credentials = Credentials("AKIDEXAMPLE", "secret", "session-token")
    signed = _signed(CrtSigV4Auth(credentials, "glue", "us-east-1"))
    with fast_paths_on():
        quick = _signed(CrtSigV4Auth(credentials, "glue", "us-east-1"))
    assert credential_scope(quick["Authorization"]) == credential_scope(signed["Authorization"])
    assert credential_scope(quick["Authorization"]) == [
        "AKIDEXAMPLE",
        "20260302",
        "us-east-1",
        "glue",
        "aws4_request",
    ]
    for header in ("X-Amz-Date", "X-Amz-Security-Token", "host", "X-Amz-Target"):
        assert quick[header] == signed[header]
    assert set(quick) == set(signed)


@freeze_time("2026-03-02T08:00:05Z")
def test_other_signers_still_sign() -> None:
    """S3's signer (a subclass) is left to botocore: it signs the payload too."""
    credentials = Credentials("AKIDEXAMPLE", "secret")
    expected = _signed(CrtS3SigV4Auth(credentials, "s3", "us-east-1"))
    with fast_paths_on():
        got = _signed(CrtS3SigV4Auth(credentials, "s3", "us-east-1"))
    assert got == expected


def test_timestamps_convert_as_moto_and_botocore_convert_them() -> None:
    from botocore import parsers
    from moto.core.serialize import TimestampSerializer

    values: list[Any] = [
        datetime(2026, 3, 2, 8, 0, 0, 250_000, tzinfo=UTC),
        datetime(2026, 3, 2, 9, 0, 0, 250_000, tzinfo=timezone(timedelta(hours=1))),
        datetime(2026, 3, 2, 8, 0, 0),
        1772438400,
        1772438400.25,
        "2026-03-02T08:00:00Z",
        "1772438400",
    ]
    formats = ["iso8601", "unixtimestamp", "rfc822", "iso8601_zeroed"]
    serializer = TimestampSerializer("iso8601")
    expected = [[serializer._convert_timestamp_to_str(v, f) for f in formats] for v in values]
    parse = parsers.DEFAULT_TIMESTAMP_PARSER
    parsed = [parse(v) for v in values[3:]]
    with fast_paths_on():
        for _ in range(2):  # computed, then remembered
            got = [[serializer._convert_timestamp_to_str(v, f) for f in formats] for v in values]
            assert got == expected
            assert [parsers.DEFAULT_TIMESTAMP_PARSER(v) for v in values[3:]] == parsed
    assert parsers.DEFAULT_TIMESTAMP_PARSER is parse  # restored


def test_a_memo_keeps_answers_apart_by_key_and_bounded() -> None:
    memo = _Memo(limit=4)
    calls: list[int] = []

    def answer(n: int) -> int:
        calls.append(n)
        return n * 10

    assert [memo.get((int, n), lambda n=n: answer(n)) for n in (1, 2, 1, 2)] == [10, 20, 10, 20]
    assert calls == [1, 2]
    assert memo.get((float, 1.0), lambda: 99) == 99  # 1.0 is not 1 once typed
    for n in range(3, 10):
        memo.get((int, n), lambda n=n: answer(n))
    assert len(memo._answers) <= 4
    assert memo.get([1], lambda: "unhashable, computed") == "unhashable, computed"


def _built(method: str, url: str, headers: dict[str, Any], body: Any) -> Any:
    """The request moto builds (its environ, its body), or the error it raises."""
    from moto.core.request import Request

    try:
        request = Request.from_primitives(method, url, dict(headers), body)
    except Exception as exc:
        return ("raised", type(exc), str(exc))
    data = request.get_data()
    environ = dict(request.environ)
    environ.pop("wsgi.input")
    environ.pop("werkzeug.request", None)
    return type(request), data, environ


REQUESTS: list[tuple[str, str, dict[str, Any], Any]] = [
    (  # JSON protocol (Glue, DynamoDB, Step Functions), the signer's host header
        "POST",
        "https://glue.us-east-1.amazonaws.com/",
        {
            "X-Amz-Target": "AWSGlue.GetSession",
            "Content-Type": "application/x-amz-json-1.1",
            "host": "glue.us-east-1.amazonaws.com",
            "Content-Length": "12",
            "X-Amz-Security-Token": b"token-as-bytes",
        },
        b'{"Id": "s1"}',
    ),
    (  # query protocol (SNS, EC2): a form-encoded text body
        "POST",
        "https://sns.us-east-1.amazonaws.com/",
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        "Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At&Message=%C3%A9",
    ),
    (  # REST-JSON (Lambda Invoke): the resource in the path, a qualifier in the query
        "POST",
        "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/invocations?Qualifier=%24LATEST",
        {"X-Amz-Invocation-Type": "RequestResponse", "Transfer-Encoding": "chunked"},
        b"{}",
    ),
    ("GET", "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/", {}, None),
    (  # no body, a declared length, repeated and odd headers, a port
        "GET",
        "https://sqs.us-east-1.amazonaws.com:4443/path/with%20space/",
        {"Content-Length": "0", "X-Amz-Meta-My_Key": "v", "Accept": "a", "accept": "b"},
        b"",
    ),
    ("DELETE", "http://example.com:notaport/x", {"Content-Length": "nope"}, b""),
]


@pytest.mark.parametrize("method, url, headers, body", REQUESTS)
def test_requests_reach_moto_as_werkzeug_builds_them(
    method: str, url: str, headers: dict[str, Any], body: Any
) -> None:
    expected = _built(method, url, headers, body)
    with fast_paths_on():
        assert _built(method, url, headers, body) == expected


def test_multipart_and_form_bodies_are_left_to_werkzeug() -> None:
    """Its multipart boundary is random: nothing to compare, so the direct path never builds
    one (nor an empty form)."""
    from local_runtime.fast_paths import wsgi_environ

    for content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        headers = {"Content-Type": content_type}
        assert wsgi_environ("POST", "https://glue.us-east-1.amazonaws.com/", headers, b"") is None


def test_a_header_werkzeug_refuses_is_still_refused() -> None:
    from moto.core.request import Request

    with fast_paths_on(), pytest.raises(ValueError, match="newline"):
        Request.from_primitives("GET", "https://glue.us-east-1.amazonaws.com/", {"X": "a\nb"})


def _shape(value: Any, seen: dict[int, int] | None = None) -> Any:
    """The structure of a copy, sharing included: each dict or list is named by the order it
    was first met, so two copies agree only if they share (and cycle) alike."""
    seen = {} if seen is None else seen
    if isinstance(value, dict | list):
        if id(value) in seen:
            return ("seen", seen[id(value)])
        seen[id(value)] = len(seen)
        items = value.items() if isinstance(value, dict) else enumerate(value)
        return (type(value).__name__, [(k, _shape(v, seen)) for k, v in items])
    return (type(value).__name__, value)


def test_the_interpreters_copies_are_deepcopys() -> None:
    from collections import OrderedDict

    shared = {"Id": "s1", "Tags": ["a", "b"]}
    looped: list[Any] = [1]
    looped.append(looped)
    stamp = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    value: Any = {
        "Execution": {"Input": shared, "Again": shared, "Id": 7, "Ratio": 0.5, "Ok": True},
        "Lists": [shared, [None, "x", 3], looped],
        "Other": (shared, stamp),
        "Ordered": OrderedDict(b=[1], a={"x": shared}),
        7: None,
    }
    expected = copy.deepcopy(value)
    got = json_deepcopy(value)
    assert _shape(got) == _shape(expected)  # equal, sharing and cycle alike (== would recurse)
    assert got["Execution"]["Input"] is got["Lists"][0]  # shared, as deepcopy shares it
    assert got["Other"][0] is got["Execution"]["Input"]  # across the fallback too
    assert got["Lists"][2][1] is got["Lists"][2]  # a cycle stays a cycle
    assert got["Execution"] is not value["Execution"] and got["Lists"] is not value["Lists"]
    assert type(got["Ordered"]) is OrderedDict
    for scalar in ("text", 3, 2.5, None, True):
        assert json_deepcopy(scalar) is scalar


def test_the_interpreter_copies_through_json_deepcopy_only_inside_the_block() -> None:
    from moto.stepfunctions.parser.asl.eval import states as states_module

    states: Any = states_module  # its `copy` is the module the shortcut replaces
    with fast_paths_on():
        assert states.copy.deepcopy is json_deepcopy
        data = {"input": {"a": [1, {"b": 2}]}}
        extracted = states.States._extract(None, data)
        assert extracted == data and extracted["input"] is not data["input"]
    assert states.copy is copy


@pytest.mark.parametrize(
    ("length", "digits", "lower"), [(52, True, False), (20, False, False), (8, True, True)]
)
def test_request_ids_draw_the_same_characters_from_the_same_generator(
    length: int, digits: bool, lower: bool
) -> None:
    from moto.moto_api._internal.moto_random import MotoRandom

    slow, quick = MotoRandom(11), MotoRandom(11)
    expected = [slow.get_random_string(length, digits, lower) for _ in range(50)]
    with fast_paths_on():
        got = [quick.get_random_string(length, digits, lower) for _ in range(50)]
    assert got == expected
    assert quick.getstate() == slow.getstate()  # the same bits drawn, no more
    assert random_string(MotoRandom(3), "abc", 30) == "".join(_choices(MotoRandom(3), "abc", 30))
    with pytest.raises(IndexError):
        random_string(MotoRandom(3), "", 1)


def _choices(rng: Any, pool: str, length: int) -> list[str]:
    return [rng.choice(pool) for _ in range(length)]


_CONFIG: Any = Config  # botocore-stubs does not list user_agent_appid


def _user_agent(client: Any, features: set[str] | None = None) -> str:
    from botocore.context import get_context, start_as_current_context

    with start_as_current_context():
        ctx = get_context()
        assert ctx is not None
        if features is not None:
            ctx.features.update(features)
        return str(client._user_agent_creator.to_string())


@pytest.mark.parametrize(
    "config",
    [
        _CONFIG(),
        _CONFIG(
            user_agent_appid="reaper/1", user_agent_extra="extra/2", retries={"mode": "standard"}
        ),
        _CONFIG(user_agent="legacy/1.0", user_agent_extra="x"),
    ],
)
def test_user_agents_are_the_strings_botocore_builds(config: Any) -> None:
    client = boto3.client(
        "glue",
        region_name="us-east-1",
        config=config,
        aws_access_key_id="a",
        aws_secret_access_key="b",
    )
    expected = [_user_agent(client), _user_agent(client, {"U", "b"}), _user_agent(client)]
    with fast_paths_on():
        for _ in range(2):  # built, then kept
            got = [_user_agent(client), _user_agent(client, {"U", "b"}), _user_agent(client)]
            assert got == expected
    assert expected[0] != expected[1] or config.user_agent is not None  # features were read


def test_action_names_are_moto_s() -> None:
    from moto.core import responses
    from moto.core.utils import camelcase_to_underscores

    names = ["GetSession", "ListSessions", "PutItem", "DescribeDBInstances", "", "ARNThing", "x"]
    expected = [camelcase_to_underscores(n) for n in names]
    module: Any = responses
    with fast_paths_on():
        for _ in range(2):  # computed, then kept
            assert [module.camelcase_to_underscores(n) for n in names] == expected
    assert module.camelcase_to_underscores is camelcase_to_underscores  # restored


def test_request_root_urls_are_werkzeug_s() -> None:
    from werkzeug.sansio import request as sansio_request
    from werkzeug.sansio.utils import get_current_url

    calls: list[tuple[Any, ...]] = [
        ("https", "glue.us-east-1.amazonaws.com"),
        ("https", "glue.us-east-1.amazonaws.com", ""),
        ("https", "glue.us-east-1.amazonaws.com", "/root/", "/a b/%41"),
        ("http", "xn--bcher-kva.example:8080", "", "/p", b"q=1&r=%20"),
        ("https", "host", "", "/p", "q=1"),
    ]
    expected = [get_current_url(*c) for c in calls]
    module: Any = sansio_request
    with fast_paths_on():
        for _ in range(2):
            assert [module.get_current_url(*c) for c in calls] == expected
    assert module.get_current_url is get_current_url


def _set_extra(env: Any) -> None:
    env["PERF2_ADDED"] = "1"


def _change_home(env: Any) -> None:
    env["PERF2_KEPT"] = "changed"


def _delete_kept(env: Any) -> None:
    del env["PERF2_KEPT"]


@pytest.mark.parametrize("during", [None, _set_extra, _change_home, _delete_kept])
def test_a_functions_environment_is_undone_as_patch_dict_undoes_it(during: Any) -> None:
    import os
    from unittest import mock

    from local_runtime.lambdas import _environment

    variables = {"PERF2_FN": "fn", "PERF2_KEPT": "by the function"}

    def run(block: Any) -> tuple[list[tuple[str, str]], dict[str, str]]:
        with mock.patch.dict(os.environ, {"PERF2_KEPT": "before"}):
            with block(variables):
                inside = dict(os.environ)
                if during is not None:
                    during(os.environ)
            return list(os.environ.items()), inside

    expected = run(lambda v: mock.patch.dict(os.environ, v))
    assert run(_environment) == expected
    assert ("PERF2_KEPT", "before") in expected[0]
    assert expected[1]["PERF2_FN"] == "fn" and expected[1]["PERF2_KEPT"] == "by the function"


class _Session:
    """A backend object read by attribute (moto's models), its aliases moto's defaults."""

    def __init__(self, n: int) -> None:
        self.id = f"s{n}"
        self.status = "READY" if n % 2 else "STOPPED"
        self.role = None if n % 3 else "arn:aws:iam::123456789012:role/r"
        self.number_of_workers = n
        self.default_arguments = {"--k": f"v{n}"} if n % 2 else {}
        self.command = {"Name": "glueetl", "PythonVersion": "3"}


class _Aliased:
    """Its aliases held by the instance: always serialized moto's whole way."""

    def __init__(self, n: int) -> None:
        self.Meta = SimpleNamespace(serialization_aliases={})
        self.Id = f"a{n}"


def _serialized(operation: str, results: list[Any], transformers: Any = None) -> list[Any]:
    """Each result serialized, in turn, by one of moto's JSON serializers as moto builds it."""
    model = get_service_model("glue").operation_model(operation)  # as moto loads it
    out = []
    for result in results:
        picker = XFormedAttributePicker(response_transformers=transformers)
        out.append(JSONSerializer(operation_model=model, value_picker=picker).serialize(result))
    return out


_RESULTS: list[Any] = [
    *({"Sessions": [_Session(n), {"Id": f"d{n}", "Status": "READY"}]} for n in range(4)),
    {"Sessions": [{"Id": "x", "Command": {"Name": "pythonshell"}, "IdleTimeout": 5}]},
    {"Sessions": [_Session(7), _Aliased(1), _Aliased(2)], "NextToken": "t"},
    {"Ids": ["a", "b"], "Sessions": []},
    {"Sessions": [{"Id": "y", "Command": None, "Status": None}]},
]


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


@pytest.mark.parametrize("transformers", [None, {"Session.Id": _upper}])
def test_structures_serialize_as_moto_serializes_them(transformers: Any) -> None:
    without = _serialized("ListSessions", _RESULTS, transformers)
    with fast_paths_on():
        first = _serialized("ListSessions", _RESULTS, transformers)
        again = _serialized("ListSessions", _RESULTS, transformers)  # the kept member plans
    assert first == without
    assert again == without
    assert ('"Id": "S1"' if transformers else '"Id": "s1"') in str(without)


def test_a_member_step_patched_later_is_still_called() -> None:
    """A plan kept for a structure never bypasses a member serializer patched afterwards."""
    calls: list[str] = []
    member = ResponseSerializer._serialize_structure_member

    def counted(self: Any, *args: Any) -> None:
        calls.append(args[-1])
        member(self, *args)

    with fast_paths_on():
        plain = _serialized("ListSessions", [{"Sessions": [_Session(1)]}])
        with mock.patch.object(ResponseSerializer, "_serialize_structure_member", counted):
            patched = _serialized("ListSessions", [{"Sessions": [_Session(1)]}])
    assert patched == plain
    assert {"Sessions", "Id", "Status", "NumberOfWorkers"} <= set(calls)
