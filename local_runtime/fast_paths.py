"""Exact shortcuts through the per-request work moto and botocore repeat on every call.

A simulated week makes hundreds of thousands of in-process AWS calls, and most of their cost is
not the emulated service but work that gives the same answer every time: moto listing a
response class's methods with `inspect.getmembers` to find the handler, moto's serializer
building six alias providers per response field to find the attribute it reads (and, for a
structure it met before, walking its members through a context, a cache key and the picker
each), botocore and moto parsing and formatting the same timestamps, botocore sanitising and
assembling the same user-agent strings, moto's ASL interpreter deep-copying plain JSON through
`copy`'s generic machinery, moto drawing each request id three Python calls a character,
werkzeug and moto re-deriving the same root URLs and action names. Each shortcut here memoizes a
pure function of its inputs or answers the same question more directly, so every response,
error and IAM decision is what it was (the side-by-side run, `python -m
local_runtime.side_by_side`, compares the whole summary and timeline); none skips a check: the
request is still built, validated against the model, routed, IAM-checked, dispatched,
serialized and parsed.
"""

from __future__ import annotations

import copy
import inspect
import random
import string
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from functools import lru_cache
from types import SimpleNamespace
from typing import Any
from unittest import mock

_TIMESTAMP_CACHE = 65_536
"""Distinct timestamps kept per cache (a week of sessions has a few hundred thousand)."""


@contextmanager
def fast_paths_on() -> Iterator[None]:
    """Apply every shortcut for the duration of the block (caches are dropped at its end)."""
    with ExitStack() as stack:
        stack.enter_context(_handler_lookup())
        stack.enter_context(_attribute_keys())
        stack.enter_context(_timestamps())
        stack.enter_context(_user_agent_components())
        stack.enter_context(_user_agents())
        stack.enter_context(_signatures())
        stack.enter_context(_routes())
        stack.enter_context(_requests())
        stack.enter_context(_interpreter_copies())
        stack.enter_context(_request_ids())
        stack.enter_context(_action_names())
        stack.enter_context(_request_urls())
        yield


class _FunctionNames:
    """`name in method_names_from_class(cls)` without listing the class: moto asks only
    whether the action's name is a plain function of the response class, which is exactly
    `inspect.getmembers(cls, inspect.isfunction)` containing it (getmembers reads every name
    of dir(cls) with getattr, and getattr finds nothing else that is a function)."""

    __slots__ = ("_cls",)

    def __init__(self, cls: type) -> None:
        self._cls = cls

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and inspect.isfunction(getattr(self._cls, name, None))


@contextmanager
def _handler_lookup() -> Iterator[None]:
    """moto's `call_action` finds the handler by listing every member of the response class
    (`inspect.getmembers`, a thousand attributes for EC2) on every request."""
    from moto.core import responses

    with mock.patch.object(responses, "method_names_from_class", _FunctionNames):
        yield


@contextmanager
def _attribute_keys() -> Iterator[None]:
    """moto's serializer reads each response field from the backend's object under the first
    of several candidate names, and builds those candidates anew for every field of every
    response (a context object, the field's dotted path, six alias-provider objects each
    asking the object and the shape). The candidates depend only on the picker's providers,
    the object's class (and its `Meta`), the field's shape (and the structure holding it) and
    the field's name, so they are worked out once per combination, by moto's own code; the
    value is still read from the object each time, as moto reads it. A response with
    transformers (which read the field's path) or an object whose aliases are its own goes
    moto's whole way."""
    from moto.core import serialize, utils
    from moto.core.utils import get_value

    picker_cls: Any = serialize.AttributePicker
    serializer_cls: Any = serialize.ResponseSerializer
    original_call = picker_cls.__call__
    original_get_value = serializer_cls.get_value
    default_providers = serialize.DEFAULT_ALIAS_PROVIDERS
    candidates: dict[tuple[Any, ...], tuple[tuple[str, ...], bool]] = {}
    """cache key -> (candidate names in moto's order, whether any is a dotted path)"""
    missing = getattr(utils, "MISSING")  # noqa: B009 (moto's sentinel; not exported for mypy)

    def cache_key(picker: Any, obj: Any, meta: Any, shape: Any, key: str) -> tuple[Any, ...]:
        providers = picker.alias_providers
        return (
            type(picker),
            "default" if providers is default_providers else tuple(providers),
            obj.__class__,
            meta,
            shape,
            getattr(shape, "parent", None),
            key,
        )

    def read(obj: Any, keys: tuple[str, ...], dotted: bool) -> Any:
        """moto's AttributePicker loop: the first candidate the object has, else None."""
        if type(obj) is dict and not dotted:  # moto's get_value on a dict: obj[key] or missing
            for possible_key in keys:
                value = obj.get(possible_key, missing)
                if value is not missing:
                    return value
            return None
        for possible_key in keys:
            value = get_value(obj, possible_key, missing)
            if value is not missing:
                return value
        return None

    def pick(self: Any, context: Any) -> Any:
        obj, shape = context.obj, context.shape
        meta = getattr(obj, "Meta", None)
        if meta is not None and not isinstance(meta, type):
            return original_call(self, context)  # aliases held by the instance: moto's way
        found_key = cache_key(self, obj, meta, shape, context.key)
        found = candidates.get(found_key)
        if found is None:
            keys = tuple(self.get_possible_keys(context))
            found = candidates[found_key] = (keys, any("." in k for k in keys))
        value = read(obj, *found)
        if self.response_transformers:
            key_path = f"{context.key_path}.{context.key}"
            for transform_path, transform in self.response_transformers.items():
                if key_path.endswith(transform_path):
                    value = transform(value)
                    break
        return value

    def serializer_get_value(self: Any, value: Any, key: str, shape: Any) -> Any:
        picker = self._value_picker
        if (
            isinstance(picker, picker_cls)
            and type(picker).__call__ is pick
            and not picker.response_transformers
        ):
            meta = getattr(value, "Meta", None)
            if meta is None or isinstance(meta, type):
                found = candidates.get(cache_key(picker, value, meta, shape, key))
                if found is not None:
                    return read(value, *found)
        return original_get_value(self, value, key, shape)  # moto's way (and the cache filled)

    def member_plan(self: Any, value: Any, shape: Any) -> tuple[Any, ...] | None:
        """Each member of the structure with the candidate names its value is read under,
        in moto's order, or None where moto's own loop must run (its picker or its member
        serialization is not the default one, or a member's candidates are not known yet)."""
        picker = self._value_picker
        cls = type(self)
        if (
            cls.get_value is not serializer_get_value
            or cls._serialize_structure_member is not default_member
            or not isinstance(picker, picker_cls)
            or type(picker).__call__ is not pick
            or picker.response_transformers
        ):
            return None
        meta = getattr(value, "Meta", None)
        if meta is not None and not isinstance(meta, type):
            return None
        members = shape.members
        plan_key = (*cache_key(picker, value, meta, shape, "")[:4], shape)
        plan = plans.get(plan_key)
        if plan is not None and plan[0] is members:
            return plan[1]  # type: ignore[no-any-return]
        steps = []
        for member_key, member_shape in members.items():
            if getattr(member_shape, "parent", None) is not shape:
                return None  # moto's loop sets it: then the candidates are known
            found = candidates.get(cache_key(picker, value, meta, member_shape, member_key))
            if found is None:
                return None
            steps.append((member_key, member_shape, *found))
        plans[plan_key] = (members, tuple(steps))
        return tuple(steps)

    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        """moto's ResponseSerializer._serialize_type_structure, each member read under the
        candidate names moto's picker gave it the first time (the structure, the object's
        class and the picker the same)."""
        if value is None:
            return
        steps = member_plan(self, value, shape)
        if steps is None:
            original_structure(self, serialized, value, shape, key)
            return
        wrapper = self.MAP_TYPE() if key else serialized
        serialize = self._serialize
        for member_key, member_shape, keys, dotted in steps:
            member_shape.parent = shape
            member_value = read(value, keys, dotted)
            if member_value is not None:
                serialize(wrapper, member_value, member_shape, member_key)
        if key:
            self._default_serialize(serialized, wrapper, shape, key)

    original_structure = serializer_cls._serialize_type_structure
    default_member = serializer_cls._serialize_structure_member
    plans: dict[tuple[Any, ...], tuple[Any, tuple[tuple[Any, ...], ...]]] = {}
    """(picker, providers, object class, Meta, structure shape) -> (the shape's members
    dict, each member's (key, shape, candidate names, any dotted))"""

    try:
        with (
            mock.patch.object(picker_cls, "__call__", pick),
            mock.patch.object(serializer_cls, "get_value", serializer_get_value),
            mock.patch.object(serializer_cls, "_serialize_type_structure", serialize_structure),
        ):
            yield
    finally:
        candidates.clear()
        plans.clear()


class _Memo:
    """Answers kept by key, at most `limit` of them (the oldest half dropped when full)."""

    def __init__(self, limit: int = _TIMESTAMP_CACHE) -> None:
        self._answers: dict[Any, Any] = {}
        self._limit = limit

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        """The answer kept for `key`, else compute()'s (kept); an unhashable key computes."""
        try:
            return self._answers[key]
        except KeyError:
            pass
        except TypeError:  # unhashable
            return compute()
        answer = compute()
        if len(self._answers) >= self._limit:
            for old in list(self._answers)[: self._limit // 2]:
                self._answers.pop(old, None)
        self._answers[key] = answer
        return answer

    def clear(self) -> None:
        self._answers.clear()


@contextmanager
def _timestamps() -> Iterator[None]:
    """botocore parses every timestamp of every response (`parse_timestamp`, dateutil for
    text), and moto's serializer formats every one it sends (`parse_to_aware_datetime`, then
    the protocol's format): both are pure functions of the value (a datetime is immutable;
    equal aware datetimes are the same instant, which is all either reads). Keys carry the
    value's type, so 1, 1.0 and "1" (and a frozen clock's FakeDatetime) stay apart."""
    from botocore import parsers
    from moto.core import serialize

    original_parse = parsers.DEFAULT_TIMESTAMP_PARSER  # read by each parser's __init__
    serializer_cls: Any = serialize.TimestampSerializer
    original_convert = serializer_cls._convert_timestamp_to_str
    parsed, converted = _Memo(), _Memo()

    def parse(value: Any) -> Any:
        return parsed.get((type(value), value), lambda: original_parse(value))

    def convert(self: Any, value: Any, timestamp_format: str) -> Any:
        key = (type(self), type(value), value, timestamp_format)
        return converted.get(key, lambda: original_convert(self, value, timestamp_format))

    try:
        with (
            mock.patch.object(parsers, "DEFAULT_TIMESTAMP_PARSER", parse),
            mock.patch.object(serializer_cls, "_convert_timestamp_to_str", convert),
        ):
            yield
    finally:
        parsed.clear()
        converted.clear()


@contextmanager
def _user_agent_components() -> Iterator[None]:
    """botocore rebuilds the User-Agent header for every request, sanitising each of its
    components character by character (`sanitize_user_agent_string_component`, a pure
    function of its two arguments)."""
    from botocore import useragent

    sanitize = lru_cache(maxsize=4096)(useragent.sanitize_user_agent_string_component)
    try:
        with mock.patch.object(useragent, "sanitize_user_agent_string_component", sanitize):
            yield
    finally:
        sanitize.cache_clear()


@contextmanager
def _user_agents() -> Iterator[None]:
    """botocore builds the User-Agent header twice for every request (`to_string`: some twenty
    component objects, each turned to text twice). All of it but the feature list is a pure
    function of the client's platform, session and config fields, so those parts are kept by
    the fields they read, built by botocore's own methods; the feature list (the request's
    context) is built afresh each time. A subclass, a legacy `user_agent` override or a
    `modify_components` customization is built botocore's whole way."""
    from botocore import useragent

    ua_cls: Any = useragent.UserAgentString
    original = ua_cls.to_string
    default_modify = useragent.modify_components
    if getattr(default_modify, "__module__", None) != "botocore.useragent":
        yield  # botocore customizes the components: nothing to keep
        return
    parts = _Memo(limit=256)

    def texts(components: list[Any]) -> tuple[str, ...]:
        return tuple(text for text in (c.to_string() for c in components) if text)

    def head(ua: Any) -> tuple[str, ...]:
        return texts(
            [
                *ua._build_sdk_metadata(),
                useragent.RawStringUserAgentComponent("ua/2.1"),
                *ua._build_os_metadata(),
                *ua._build_architecture_metadata(),
                *ua._build_language_metadata(),
                *ua._build_execution_env_metadata(),
            ]
        )

    def tail(ua: Any) -> tuple[str, ...]:
        return texts([*ua._build_config_metadata(), *ua._build_app_id(), *ua._build_extra()])

    def to_string(self: Any) -> Any:
        config = self._client_config
        if type(self) is not ua_cls or useragent.modify_components is not default_modify:
            return original(self)
        if (
            config
            and (
                config._supplied_user_agent
                if hasattr(config, "_supplied_user_agent")
                else config.user_agent
            )
            is not None
        ):
            return original(self)  # the legacy string
        head_key = (
            "head",
            self._session_user_agent_name,
            self._session_user_agent_version,
            self._crt_version,
            self._platform_name,
            self._platform_version,
            self._platform_machine,
            self._python_version,
            self._python_implementation,
            self._execution_env,
        )
        retries = config.retries if config else None
        tail_key = (
            "tail",
            bool(config),
            bool(retries),
            retries.get("mode") if retries else None,
            config.endpoint_discovery_enabled if retries else None,
            config.user_agent_appid if config else None,
            self._session_user_agent_extra,
            config.user_agent_extra if config else None,
        )
        features = texts(self._build_feature_metadata())
        return " ".join(
            (
                *parts.get(head_key, lambda: head(self)),
                *features,
                *parts.get(tail_key, lambda: tail(self)),
            )
        )

    try:
        with mock.patch.object(ua_cls, "to_string", to_string):
            yield
    finally:
        parts.clear()


UNVERIFIED_SIGNATURE = "0" * 64
"""What the runtime writes where SigV4's signature goes: nothing in the emulated account
verifies a signature (IAM resolves the caller from the access key in the credential scope,
local_runtime/iam/enforcement.py), so computing one only costs time."""


@contextmanager
def _signatures() -> Iterator[None]:
    """botocore signs every request with SigV4 through the CRT (a canonical request, a
    payload hash, four HMACs). The runtime's IAM reads only the credential scope (access key,
    date, region, service) and moto reads the region and key from it too, so the request
    gets the same headers (`X-Amz-Date`, `X-Amz-Security-Token`, `Authorization` with that
    scope) without the arithmetic. Anything but a plain header-signed request (S3's signer,
    presigned URLs, an unsigned or streaming payload) is signed as botocore signs it."""
    from botocore.crt import auth
    from botocore.exceptions import NoCredentialsError

    crt_auth: Any = auth  # get_current_datetime: what the CRT signer dates requests with
    signer_cls: Any = crt_auth.CrtSigV4Auth
    original = signer_cls.add_auth

    def add_auth(self: Any, request: Any) -> None:
        if (
            type(self) is not signer_cls
            or self._is_streaming_checksum_payload(request)
            or not self._should_sha256_sign_payload(request)
            or self._get_existing_sha256(request)
        ):
            original(self, request)
            return
        if self.credentials is None:
            raise NoCredentialsError()
        stamp = crt_auth.get_current_datetime(remove_tzinfo=False).strftime("%Y%m%dT%H%M%SZ")
        self._modify_request_before_signing(request)
        headers = request.headers
        headers["X-Amz-Date"] = stamp
        if self.credentials.token:
            headers["X-Amz-Security-Token"] = self.credentials.token
        scope = f"{stamp[:8]}/{self._region_name}/{self._service_name}/aws4_request"
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.credentials.access_key}/{scope},"
            f" SignedHeaders=host;x-amz-date, Signature={UNVERIFIED_SIGNATURE}"
        )

    with mock.patch.object(signer_cls, "add_auth", add_auth):
        yield


@contextmanager
def _routes() -> Iterator[None]:
    """moto finds the service of every request by trying each service's URL patterns in turn
    (compiling each of the service's own URL patterns again on every request). Which handler
    a URL reaches never changes in a run, so it is found once per URL, by moto's own search
    (`_route`), and kept as the handler's class and name, read again at each call (a test may
    patch it). Everything after the lookup is moto's: the normalized request, the recorder,
    the dispatch, the error handling."""
    from moto.core import botocore_stubber
    from moto.moto_api import recorder
    from werkzeug.exceptions import HTTPException

    stubber: Any = botocore_stubber  # the names moto's process_request uses, where it uses them

    stubber_cls: Any = botocore_stubber.BotocoreStubber
    original = stubber_cls.process_request
    routes = _Memo(limit=4096)

    def process_request(self: Any, request: Any) -> Any:
        parsed_url, _ = stubber.get_equivalent_url_in_aws_domain(request.url)
        clean_url = f"{parsed_url.scheme}://{parsed_url.netloc}{parsed_url.path}"
        route = routes.get(clean_url, lambda: _route(clean_url))
        if route is None:  # passed through, refused, unmatched or not a class's handler
            return original(self, request)
        handler = getattr(*route)
        normalized_request = stubber.normalize_request(request)
        try:
            recorder._record_request(normalized_request)
            status, headers, body = handler(
                normalized_request, normalized_request.raw_url, normalized_request.headers
            )
        except HTTPException as e:
            status, headers, body = e.code, e.get_headers(), e.get_body()
        return status, headers, body

    try:
        with mock.patch.object(stubber_cls, "process_request", process_request):
            yield
    finally:
        routes.clear()


def _route(clean_url: str) -> tuple[type, str] | None:
    """The (class, name) of the handler moto's BotocoreStubber.process_request would call for
    the URL, found as it finds it; None where it would not call a class's handler (the URL
    passes through, its service is not allowed, nothing matches)."""
    import re

    import moto.backends as backends
    from moto.core import botocore_stubber
    from moto.core.base_backend import BackendDict
    from moto.core.models import DEFAULT_ACCOUNT_ID

    stubber: Any = botocore_stubber

    if stubber.passthrough_url(clean_url):
        return None
    for service, pattern in stubber.backend_index.backend_url_patterns:
        if not pattern.match(clean_url):
            continue
        if stubber.passthrough_service(service) or not stubber.service_whitelisted(service):
            return None
        backend_dict = backends.get_backend(service)
        if isinstance(backend_dict, BackendDict):
            if "us-east-1" in backend_dict[DEFAULT_ACCOUNT_ID]:
                backend = backend_dict[DEFAULT_ACCOUNT_ID]["us-east-1"]
            else:
                backend = backend_dict[DEFAULT_ACCOUNT_ID]["aws"]
        else:
            backend = backend_dict["global"]
        for url, handler in backend.urls.items():
            if re.compile(url).match(clean_url):
                owner = getattr(handler, "__self__", None)
                name = getattr(handler, "__name__", None)
                if (
                    isinstance(owner, type)
                    and isinstance(name, str)
                    and getattr(owner, name) == handler
                ):
                    return owner, name
                return None
        return None  # moto would go on to the next service's patterns: let it
    return None


_NEWLINE = ("\r", "\n")


@contextmanager
def _requests() -> Iterator[None]:
    """moto turns every botocore request into a werkzeug Request through werkzeug's test
    EnvironBuilder (`Request.from_primitives`), which builds a header object, a form parser and
    an environ through a dozen properties. `wsgi_environ` writes the same environ directly, key
    for key (the unit tests compare the two on every protocol the product uses); a request the
    direct path does not cover (a streamed, form-encoded or multipart body, a header value
    werkzeug refuses) is built by werkzeug as before."""
    from moto.core import request as moto_request

    request_cls: Any = moto_request.Request
    original = request_cls.from_primitives.__func__
    uris = _Memo(limit=4096)

    def from_primitives(cls: Any, method: str, url: str, headers: Any, body: Any = None) -> Any:
        environ = wsgi_environ(method, url, headers, body, uris)
        if environ is None or cls is not request_cls:
            return original(cls, method, url, headers, body)
        return cls(environ)

    try:
        with mock.patch.object(request_cls, "from_primitives", classmethod(from_primitives)):
            yield
    finally:
        uris.clear()


def wsgi_environ(
    method: str, url: str, headers: Any, body: Any, uris: _Memo | None = None
) -> dict[str, Any] | None:
    """The environ `moto.core.request.Request.from_primitives` builds for this request (through
    werkzeug's EnvironBuilder), or None where this does not follow it (then werkzeug builds it).
    """
    import sys
    from io import BytesIO
    from urllib.parse import unquote, urlparse, urlsplit

    from moto.core.request import (
        PRESERVED_HEADER_NAMES_ENVIRON_KEY,
        environ_key_for_header,
        should_preserve_original_header_name,
    )
    from werkzeug.urls import iri_to_uri

    memo = uris or _Memo(limit=16)
    if not isinstance(body, bytes | str | None):
        return None  # a stream or a chunked wrapper: read by moto's own path
    items: list[tuple[str, str]] = []
    for key, value in headers.items():
        if key.lower() in ["transfer-encoding"]:
            continue
        value = value.decode("utf-8") if isinstance(value, bytes) else value
        if not isinstance(key, str) or not isinstance(value, str):
            return None
        if _NEWLINE[0] in value or _NEWLINE[1] in value:
            return None  # werkzeug refuses it: let it
        items.append((key, value))
    parsed = urlparse(url)
    path = parsed.path
    if "?" in path:
        return None
    data = body.encode() if isinstance(body, str) else (body or b"")

    def lookup(name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in items if k.lower() == lowered), None)

    content_type = lookup("Content-Type")
    if data:
        input_stream: Any = BytesIO(data)
        content_length: int | None = len(data)
    else:
        mimetype = content_type.partition(";")[0].strip() if content_type else None
        if mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            return None
        input_stream = BytesIO()
        try:
            declared = lookup("Content-Length")
            content_length = None if declared is None else int(declared)
        except ValueError:
            content_length = None
    base_url = memo.get(("base", parsed.scheme, parsed.netloc), lambda: _iri(parsed, iri_to_uri))
    scheme, host, script_root = base_url
    if scheme is None:
        return None
    uri_path = memo.get(("path", path), lambda: iri_to_uri(urlsplit(path).path))
    server_name, sep, port = host.partition(":")
    server_port = 443 if scheme == "https" else 80
    if sep:
        with suppress(ValueError):
            server_port = int(port)

    def encode(text: str) -> str:  # werkzeug's _wsgi_encoding_dance
        return text.encode().decode("latin1")

    raw_uri = encode(path)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": encode(unquote(script_root)),
        "PATH_INFO": encode(unquote(uri_path)),
        "QUERY_STRING": encode(parsed.query),
        "REQUEST_URI": raw_uri,
        "RAW_URI": raw_uri,
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port),
        "HTTP_HOST": host,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": input_stream,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    if content_length is not None:
        environ["CONTENT_LENGTH"] = str(content_length)
    combined: dict[str, list[str]] = {}
    for key, value in items:
        if key.lower() in ("content-type", "content-length"):
            continue
        combined.setdefault(f"HTTP_{key.upper().replace('-', '_')}", []).append(value)
    for key, values in combined.items():
        environ[key] = ", ".join(values)
    environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = {
        environ_key_for_header(key): key
        for key, _ in items
        if should_preserve_original_header_name(key)
    }
    environ.setdefault("CONTENT_LENGTH", "0")
    return environ


def _iri(parsed: Any, iri_to_uri: Callable[[str], str]) -> tuple[str | None, str, str]:
    """(scheme, host, script root) of the request's base URL as EnvironBuilder splits it;
    scheme None where it would refuse the URL."""
    from urllib.parse import urlsplit

    scheme, netloc, script_root, query, anchor = urlsplit(
        iri_to_uri(f"{parsed.scheme}://{parsed.netloc}")
    )
    if query or anchor:
        return None, "", ""
    return scheme, netloc, script_root.rstrip("/")


_ATOMIC = frozenset({str, int, float, bool, type(None)})
"""Types `copy.deepcopy` returns as they are (immutable: their copy is themselves)."""

_INTERPRETER_MODULES = (
    "moto.stepfunctions.parser.asl.eval.states",
    "moto.stepfunctions.parser.asl.eval.environment",
    "moto.stepfunctions.parser.asl.component.common.string.string_expression",
    "moto.stepfunctions.parser.asl.component.common.path.result_path",
    "moto.stepfunctions.parser.asl.component.state.exec.execute_state",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service",
)
"""The ASL interpreter's modules that deep-copy a state's JSON on every step (its input,
its result, every string expression it evaluates, each frame's stack and program state)."""


def json_deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """`copy.deepcopy(value, memo)`, answered directly for plain dicts, lists and immutable
    scalars (the JSON an execution carries), and by `copy.deepcopy` for anything else, with
    the same memo: a dict or list met twice is copied once and shared, as deepcopy shares
    it, and a cycle is copied as a cycle."""
    if type(value) in _ATOMIC:
        return value
    return _copied(value, {} if memo is None else memo)


def _copied(value: Any, memo: dict[int, Any]) -> Any:
    """deepcopy's walk for a non-scalar (scalars are taken as they are inline, without a call:
    most of a state's JSON is leaves)."""
    cls = type(value)
    if cls is dict:
        found = memo.get(id(value), memo)
        if found is not memo:
            return found
        copied_dict: dict[Any, Any] = {}
        memo[id(value)] = copied_dict
        _kept_alive(value, memo)
        atomic = _ATOMIC
        for key, item in value.items():
            copied_dict[key if type(key) in atomic else _copied(key, memo)] = (
                item if type(item) in atomic else _copied(item, memo)
            )
        return copied_dict
    if cls is list:
        found = memo.get(id(value), memo)
        if found is not memo:
            return found
        copied_list: list[Any] = []
        memo[id(value)] = copied_list
        _kept_alive(value, memo)
        atomic = _ATOMIC
        append = copied_list.append  # one by one, as deepcopy fills it (a cycle sees it so)
        for item in value:
            append(item if type(item) in atomic else _copied(item, memo))
        return copied_list
    if cls in _ATOMIC:
        return value
    return copy.deepcopy(value, memo)


def _kept_alive(value: Any, memo: dict[int, Any]) -> None:
    """deepcopy's `_keep_alive`: the original stays referenced from the memo while it is in
    use, so no object made during the copy can take its id."""
    kept = memo.get(id(memo))
    if kept is None:
        memo[id(memo)] = [value]
    else:
        kept.append(value)


@contextmanager
def _interpreter_copies() -> Iterator[None]:
    """moto's ASL interpreter deep-copies the execution's JSON on every step through
    `copy.deepcopy`, whose generic dispatch (a memo lookup, a type table, a reduce protocol
    check) is most of its cost for plain dicts and lists. Its modules see `json_deepcopy`
    instead: the same copy, built directly (anything but a plain dict, list or scalar still
    goes through `copy.deepcopy`)."""
    import importlib

    copy_module = SimpleNamespace(**{k: getattr(copy, k) for k in copy.__all__})
    copy_module.deepcopy = json_deepcopy
    with ExitStack() as stack:
        for name in _INTERPRETER_MODULES:
            module = importlib.import_module(name)
            if getattr(module, "copy", None) is copy:
                stack.enter_context(mock.patch.object(module, "copy", copy_module))
        yield


_RANDBELOW: Any = getattr(random.Random, "_randbelow_with_getrandbits")  # noqa: B009 (private)


def random_string(rng: random.Random, pool: str, length: int) -> str:
    """`"".join([rng.choice(pool) for i in range(length)])` drawing the same bits from the
    generator in the same order (`choice` is `pool[rng._randbelow(len(pool))]`, which draws
    `len(pool).bit_length()` bits until they fall below `len(pool)`), without two Python
    calls per character."""
    size = len(pool)
    if not size:
        raise IndexError("Cannot choose from an empty sequence")
    bits, getrandbits = size.bit_length(), rng.getrandbits
    chars = []
    for _ in range(length):
        r = getrandbits(bits)
        while r >= size:
            r = getrandbits(bits)
        chars.append(pool[r])
    return "".join(chars)


@contextmanager
def _request_ids() -> Iterator[None]:
    """moto names every response with a 52-character request id from its seeded generator
    (`get_random_string`: `random.choice` per character, three Python calls each). The same
    characters are drawn from the same generator, in one loop; a generator whose `choice`,
    `_randbelow` or `getrandbits` is not `random.Random`'s draws moto's way."""
    from moto.moto_api._internal.moto_random import MotoRandom

    random_cls: Any = MotoRandom
    original = random_cls.get_random_string

    def get_random_string(
        self: Any, length: int = 20, include_digits: bool = True, lower_case: bool = False
    ) -> str:
        cls = type(self)
        if (
            cls.choice is not random.Random.choice
            or getattr(cls, "_randbelow", None) is not _RANDBELOW
            or cls.getrandbits is not random.Random.getrandbits
        ):
            return original(self, length, include_digits, lower_case)  # type: ignore[no-any-return]
        pool = string.ascii_letters + (string.digits if include_digits else "")
        random_str = random_string(self, pool, length)
        return random_str.lower() if lower_case else random_str

    with mock.patch.object(random_cls, "get_random_string", get_random_string):
        yield


@contextmanager
def _action_names() -> Iterator[None]:
    """moto turns every request's action name into the handler method's name character by
    character (`camelcase_to_underscores`, a pure function of the string); the answer is kept
    per name (a few dozen in a run)."""
    from moto.core import responses

    responses_module: Any = responses
    original = responses_module.camelcase_to_underscores
    names = _Memo(limit=4096)

    def camelcase_to_underscores(argument: Any) -> Any:
        if type(argument) is not str:
            return original(argument)
        return names.get(argument, lambda: original(argument))

    try:
        with mock.patch.object(
            responses_module, "camelcase_to_underscores", camelcase_to_underscores
        ):
            yield
    finally:
        names.clear()


@contextmanager
def _request_urls() -> Iterator[None]:
    """werkzeug rebuilds each request's root URL (moto reads `url_root` for every request)
    with `get_current_url`: quoting and IRI-decoding a pure function of the scheme, host, root
    path, path and query string. The answer is kept per argument tuple."""
    from werkzeug.sansio import request as sansio_request

    module: Any = sansio_request
    original = module.get_current_url
    urls = _Memo(limit=4096)

    def get_current_url(
        scheme: str,
        host: str,
        root_path: str | None = None,
        path: str | None = None,
        query_string: bytes | None = None,
    ) -> Any:
        key = (scheme, host, root_path, path, query_string)
        if any(type(part) not in (str, bytes, type(None)) for part in key):
            return original(scheme, host, root_path, path, query_string)
        return urls.get(key, lambda: original(scheme, host, root_path, path, query_string))

    try:
        with mock.patch.object(module, "get_current_url", get_current_url):
            yield
    finally:
        urls.clear()
