"""The lifecycle scripts that publish the SageMaker activity signal: what the publisher works out
from the Jupyter server's answers, how it publishes, that it never stops on an error, that it
runs on Python 3.8 with the standard library, and that each OnStart script carries exactly the
publisher's source and starts it without blocking."""

from __future__ import annotations

import ast
import base64
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from idle_reaper.kinds import activity_signal
from tests.conftest import ROOT

LIFECYCLE = ROOT / "lifecycle"
PUBLISHER = LIFECYCLE / "activity_signal_publisher.py"
SCRIPTS = [LIFECYCLE / "notebook-on-start.sh", LIFECYCLE / "studio-on-start.sh"]
MARKER = "IDLE_REAPER_PUBLISHER"
NOTEBOOK_ARN = "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/frank-analysis"
APP_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:app/d-abc123/grace-space/JupyterLab/default"
NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("activity_signal_publisher", PUBLISHER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pub = _load()


def jupyter(moment: datetime) -> str:
    """A time as Jupyter's REST API writes it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def kernel(state: str, last: datetime) -> dict[str, Any]:
    return {"id": "k", "name": "python3", "execution_state": state, "last_activity": jupyter(last)}


# -- what to publish ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-03-02T09:15:30.123456Z", datetime(2026, 3, 2, 9, 15, 30, 123456, tzinfo=UTC)),
        ("2026-03-02T09:15:30Z", datetime(2026, 3, 2, 9, 15, 30, tzinfo=UTC)),
        ("2026-03-02T09:15:30.5+00:00", datetime(2026, 3, 2, 9, 15, 30, 500000, tzinfo=UTC)),
        ("2026-03-02T11:15:30+02:00", datetime(2026, 3, 2, 9, 15, 30, tzinfo=UTC)),
        ("2026-03-02T04:15:30-0500", datetime(2026, 3, 2, 9, 15, 30, tzinfo=UTC)),
        ("2026-03-02T09:15:30.123456789Z", datetime(2026, 3, 2, 9, 15, 30, 123456, tzinfo=UTC)),
        ("2026-03-02T09:15:30", datetime(2026, 3, 2, 9, 15, 30, tzinfo=UTC)),
    ],
)
def test_jupyter_times_are_read_as_utc(text: str, moment: datetime) -> None:
    assert pub.parse_time(text) == moment


@pytest.mark.parametrize(
    "text", ["2026-02-30T09:00:00Z", "yesterday", "", None, 17, "2026-03-02 09:15:30Z"]
)
def test_what_is_not_a_time_is_none(text: Any) -> None:
    assert pub.parse_time(text) is None


def test_a_busy_kernel_makes_the_last_activity_now() -> None:
    kernels = [kernel("idle", NOW - timedelta(hours=1)), kernel("busy", NOW - timedelta(hours=2))]

    assert pub.last_activity(kernels, [], NOW, START) == NOW


@pytest.mark.parametrize("state", ["starting", "restarting", "autorestarting", None, "BUSY"])
def test_a_kernel_in_a_state_not_known_to_be_idle_counts_as_work(state: Any) -> None:
    entry = kernel("idle", START)
    entry["execution_state"] = state

    assert pub.last_activity([entry], [], NOW, START) == NOW


@pytest.mark.parametrize("load", [0.5, 0.51, 1.0, 7.9])
def test_a_loaded_cpu_with_no_busy_kernel_makes_the_last_activity_now(load: float) -> None:
    """`!nohup python train.py &`, a job in a terminal, a thread: no kernel is busy, the
    load average says a program works."""
    kernels = [kernel("idle", NOW - timedelta(hours=1))]

    assert pub.last_activity(kernels, [], NOW, START, load) == NOW


@pytest.mark.parametrize("load", [0.0, 0.12, 0.49])
def test_a_low_load_leaves_the_last_activity_to_the_kernels(load: float) -> None:
    kernels = [kernel("idle", NOW - timedelta(hours=1))]

    assert pub.last_activity(kernels, [], NOW, START, load) == NOW - timedelta(hours=1)


def test_an_unknown_load_counts_as_work() -> None:
    """When in doubt, do not stop."""
    assert pub.last_activity([kernel("idle", START)], [], NOW, START, None) == NOW


def test_the_load_is_the_one_minute_load_average(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pub.os, "getloadavg", lambda: (0.75, 0.25, 0.125))
    assert pub.load() == 0.75

    def unavailable() -> tuple[float, float, float]:
        raise OSError("Load averages are unobtainable")

    monkeypatch.setattr(pub.os, "getloadavg", unavailable)
    assert pub.load() is None


def test_the_load_threshold_is_documented_with_what_still_escapes() -> None:
    text = PUBLISHER.read_text()

    assert pub.LOAD_WORKING == 0.5
    assert "42 s" in text  # 60 s x ln 2: how fast one busy CPU crosses it, either way
    assert "Unseen" in text and "under half a CPU" in text


def test_idle_kernels_and_terminals_give_the_latest_of_their_activity() -> None:
    kernels = [kernel("idle", NOW - timedelta(minutes=50)), kernel("dead", START)]
    terminals = [{"name": "1", "last_activity": jupyter(NOW - timedelta(minutes=20))}]

    assert pub.last_activity(kernels, terminals, NOW, START) == NOW - timedelta(minutes=20)


def test_with_nothing_running_the_previous_value_is_kept() -> None:
    previous = NOW - timedelta(minutes=7)

    assert pub.last_activity([], [], NOW, previous) == previous
    assert pub.last_activity([], [{"last_activity": "garbage"}, 7], NOW, previous) == previous


def test_a_kernel_shut_down_never_moves_the_last_activity_back() -> None:
    previous = NOW - timedelta(minutes=2)  # published while a kernel was busy
    older = [kernel("idle", NOW - timedelta(hours=1))]

    assert pub.last_activity(older, [], NOW, previous) == previous


def test_an_activity_in_the_future_is_now() -> None:
    ahead = [kernel("idle", NOW + timedelta(days=1))]

    assert pub.last_activity(ahead, [], NOW, START) == NOW


def test_the_tags_are_the_ones_inspect_reads() -> None:
    last = NOW - timedelta(minutes=12, microseconds=5)

    payload = pub.tags(last, NOW)
    read = activity_signal.read_signal(
        {t["Key"]: t["Value"] for t in payload}, START, NOW + timedelta(seconds=30)
    )

    assert payload == [
        {"Key": "idle-reaper:last-activity", "Value": "2026-03-02T11:47:59Z"},
        {"Key": "idle-reaper:heartbeat", "Value": "2026-03-02T12:00:00Z"},
    ]
    assert read.last_activity_at == datetime(2026, 3, 2, 11, 47, 59, tzinfo=UTC)
    assert pub.LAST_ACTIVITY_TAG == activity_signal.LAST_ACTIVITY_TAG
    assert pub.HEARTBEAT_TAG == activity_signal.HEARTBEAT_TAG
    assert pub.PUBLISH_SECONDS == activity_signal.PUBLISH_MINUTES * 60


# -- where to ask, what to tag ------------------------------------------------------------
@pytest.mark.parametrize(
    ("metadata", "server"),
    [
        (
            {"ResourceArn": NOTEBOOK_ARN, "ResourceName": "Frank-Analysis"},
            "https://localhost:8443/",
        ),
        ({"AppType": "JupyterLab"}, "http://127.0.0.1:8888/jupyterlab/default/"),
        ({"AppType": "KernelGateway"}, "http://127.0.0.1:8888/"),
        ({"AppType": "CodeEditor"}, None),
        ({"AppType": "JupyterServer"}, None),
        ({"AppType": 3}, None),
    ],
)
def test_the_server_depends_on_what_runs_here(metadata: dict[str, Any], server: Any) -> None:
    assert pub.server_for(metadata) == server


@pytest.mark.parametrize("arn", [NOTEBOOK_ARN, APP_ARN])
def test_the_resources_own_arn_is_taken_from_its_metadata(arn: str) -> None:
    assert pub.resource_arn({"ResourceArn": arn}) == arn


@pytest.mark.parametrize(
    "arn",
    [
        None,
        "",
        "arn:aws:sagemaker:us-east-1:123456789012:endpoint/x",
        "arn:aws:s3:::bucket",
        NOTEBOOK_ARN + " --tags x",
        NOTEBOOK_ARN + "\n",
    ],
)
def test_a_metadata_file_without_a_sagemaker_arn_is_refused(arn: Any) -> None:
    with pytest.raises(ValueError, match="ResourceArn"):
        pub.resource_arn({"ResourceArn": arn})


def test_the_cli_call_tags_in_the_resources_region() -> None:
    payload = pub.tags(NOW, NOW)

    command = pub.cli_command("/usr/bin/aws", APP_ARN, payload)

    assert command[:7] == [
        "/usr/bin/aws",
        "sagemaker",
        "add-tags",
        "--region",
        "eu-west-1",
        "--resource-arn",
        APP_ARN,
    ]
    assert command[7] == "--tags" and json.loads(command[8]) == payload


class FakeBoto3:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def client(self, service: str, region_name: str) -> FakeBoto3:
        self.calls.append(("client", {"service": service, "region": region_name}))
        return self

    def add_tags(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("add_tags", kwargs))
        return {}


def test_with_boto3_one_add_tags_call_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeBoto3()
    monkeypatch.setattr(pub, "boto3", fake)
    payload = pub.tags(NOW, NOW)

    pub.publish(NOTEBOOK_ARN, payload)

    assert fake.calls == [
        ("client", {"service": "sagemaker", "region": "us-east-1"}),
        ("add_tags", {"ResourceArn": NOTEBOOK_ARN, "Tags": payload}),
    ]


def fake_cli(folder: Path, exit_code: int = 0) -> Path:
    """An `aws` that writes its arguments, one a line, where the test can read them."""
    script = folder / "aws"
    script.write_text(
        f'#!/bin/sh\nfor a in "$@"; do echo "$a"; done > "{folder}/args"\n'
        f'echo "An error occurred (AccessDeniedException)" >&2\nexit {exit_code}\n'
    )
    script.chmod(0o755)
    return script


def test_without_boto3_the_aws_cli_is_called(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(pub, "boto3", None)
    fake_cli(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    payload = pub.tags(NOW, NOW)

    pub.publish(APP_ARN, payload)

    args = (tmp_path / "args").read_text().splitlines()
    assert args[:6] == ["sagemaker", "add-tags", "--region", "eu-west-1", "--resource-arn", APP_ARN]
    assert json.loads(args[7]) == payload


def test_a_refused_cli_call_is_an_error_with_its_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(pub, "boto3", None)
    fake_cli(tmp_path, exit_code=254)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")

    with pytest.raises(RuntimeError, match="AccessDeniedException"):
        pub.publish(APP_ARN, pub.tags(NOW, NOW))


def test_with_neither_boto3_nor_the_cli_publishing_fails_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pub, "boto3", None)
    monkeypatch.setattr(pub.shutil, "which", lambda _name: None)

    with pytest.raises(RuntimeError, match="neither boto3 nor the AWS CLI"):
        pub.publish(APP_ARN, pub.tags(NOW, NOW))


# -- asking a real (loopback) Jupyter server ------------------------------------------------
class Jupyter(BaseHTTPRequestHandler):
    """/base/api/kernels answers; /base/api/terminals is 404 unless terminals are given."""

    kernels: list[Any] = []
    terminals: list[Any] | None = None

    def do_GET(self) -> None:
        if self.path == "/base/api/kernels":
            self._answer(200, self.kernels)
        elif self.path == "/base/api/terminals" and self.terminals is not None:
            self._answer(200, self.terminals)
        else:
            self._answer(404, {"message": "Not Found"})

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Jupyter)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/base/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        Jupyter.kernels, Jupyter.terminals = [], None


def test_one_check_asks_the_server_and_publishes_what_it_saw(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    last = datetime.now(UTC) - timedelta(minutes=9)
    Jupyter.kernels = [kernel("idle", last)]
    Jupyter.terminals = [{"name": "1", "last_activity": jupyter(last - timedelta(minutes=1))}]
    published: list[Any] = []
    monkeypatch.setattr(pub, "publish", lambda arn, payload: published.append((arn, payload)))
    monkeypatch.setattr(pub, "load", lambda: 0.02)  # not this test machine's own load

    got = pub.check(server, NOTEBOOK_ARN, START)

    assert got == last
    assert published[0][0] == NOTEBOOK_ARN
    assert published[0][1][0] == {"Key": pub.LAST_ACTIVITY_TAG, "Value": pub.stamp(last)}


def test_one_check_with_idle_kernels_but_a_loaded_cpu_publishes_now(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Jupyter.kernels = [kernel("idle", START)]
    published: list[Any] = []
    monkeypatch.setattr(pub, "publish", lambda arn, payload: published.append(payload))
    monkeypatch.setattr(pub.os, "getloadavg", lambda: (1.02, 0.6, 0.3))

    got = pub.check(server, NOTEBOOK_ARN, START)

    sent = {t["Key"]: t["Value"] for t in published[0]}
    assert got > START
    assert sent[pub.LAST_ACTIVITY_TAG] == sent[pub.HEARTBEAT_TAG]


def test_a_server_without_terminals_is_read_from_its_kernels(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Jupyter.kernels = [kernel("busy", START)]
    monkeypatch.setattr(pub, "publish", lambda arn, payload: None)
    before = datetime.now(UTC)

    got = pub.check(server, APP_ARN, START)

    assert got >= before


def test_a_server_that_does_not_answer_publishes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    published: list[Any] = []
    monkeypatch.setattr(pub, "publish", lambda arn, payload: published.append(payload))

    with pytest.raises(OSError):
        pub.check("http://127.0.0.1:9/", NOTEBOOK_ARN, START)
    assert published == []


def test_an_answer_that_is_not_a_list_is_refused(server: str) -> None:
    Jupyter.terminals = {"message": "a proxy's page"}  # type: ignore[assignment]

    with pytest.raises(ValueError, match="not a JSON list"):
        pub.fetch(server + "api/terminals")
    assert pub.fetch(server + "api/nothing", missing_ok=True) == []


# -- the loop never ends on an error ----------------------------------------------------------
def metadata_file(folder: Path, **fields: Any) -> str:
    path = folder / "resource-metadata.json"
    path.write_text(json.dumps(fields))
    return str(path)


def test_every_failure_is_logged_and_tried_again_a_minute_later(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = metadata_file(tmp_path, ResourceArn=NOTEBOOK_ARN)
    previous: list[datetime] = []
    answers: list[Any] = [OSError("connection refused"), NOW]

    def check(server: str, arn: str, last: datetime) -> datetime:
        previous.append(last)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[no-any-return]

    sleeps: list[float] = []
    monkeypatch.setattr(pub, "check", check)
    monkeypatch.setattr(pub.time, "sleep", sleeps.append)

    assert pub.run(path, rounds=2) == 0

    assert "connection refused" in caplog.text
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 60
    assert previous[0] == previous[1]  # a failed check changes nothing


def test_a_missing_metadata_file_is_retried_not_fatal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(pub.time, "sleep", lambda _s: None)

    assert pub.run(str(tmp_path / "absent.json"), rounds=3) == 0
    assert caplog.text.count("not published") == 3


def test_a_code_editor_app_publishes_nothing_and_ends(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = metadata_file(tmp_path, ResourceArn=APP_ARN, AppType="CodeEditor")
    monkeypatch.setattr(pub, "check", lambda *a: pytest.fail("a CodeEditor app has no server"))

    assert pub.run(path, rounds=5) == 0


# -- it runs where it will run ----------------------------------------------------------------
def test_the_publisher_is_python_3_8_syntax_with_the_standard_library_only() -> None:
    tree = ast.parse(PUBLISHER.read_text(), feature_version=(3, 8))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])

    assert imported - set(sys.stdlib_module_names) == {"boto3"}
    optional = [n for n in tree.body if isinstance(n, ast.Try)]
    assert any(isinstance(s, ast.Import) and s.names[0].name == "boto3" for s in optional[0].body)


def _python38() -> str | None:
    found = shutil.which("python3.8")
    candidates = [found] if found else []
    candidates += sorted(str(p) for p in Path("/root/.pyenv/versions").glob("3.8*/bin/python3.8"))
    for candidate in candidates:
        try:
            done = subprocess.run([candidate, "--version"], capture_output=True, timeout=10)
        except OSError:
            continue
        if done.returncode == 0:
            return candidate
    return None


def test_on_python_3_8_one_round_reads_the_server_and_calls_the_cli(
    server: str, tmp_path: Path
) -> None:
    python = _python38()
    if python is None:
        pytest.skip("no Python 3.8 interpreter on this machine (the syntax check above ran)")
    Jupyter.kernels = [kernel("busy", START)]
    fake_cli(tmp_path)
    path = metadata_file(tmp_path, ResourceArn=APP_ARN, AppType="JupyterLab")
    program = (
        "import sys; sys.path.insert(0, sys.argv[1]); import activity_signal_publisher as p; "
        "p.boto3 = None; p.STUDIO_SERVERS['JupyterLab'] = sys.argv[2]; "
        "sys.exit(p.run(sys.argv[3], rounds=1))"
    )
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}

    done = subprocess.run(
        [python, "-c", program, str(LIFECYCLE), server, path],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )

    assert done.returncode == 0, done.stderr
    assert "published last activity" in done.stderr
    args = (tmp_path / "args").read_text().splitlines()
    assert args[:6] == ["sagemaker", "add-tags", "--region", "eu-west-1", "--resource-arn", APP_ARN]
    sent = {t["Key"]: t["Value"] for t in json.loads(args[7])}
    assert sent[pub.LAST_ACTIVITY_TAG] == sent[pub.HEARTBEAT_TAG]  # a busy kernel: now


# -- the OnStart scripts ----------------------------------------------------------------------
def heredoc(script: Path) -> bytes:
    """The body of the script's one `<<'IDLE_REAPER_PUBLISHER'` heredoc, as bytes."""
    text = script.read_bytes()
    opener = f"<<'{MARKER}'\n".encode()
    assert text.count(opener) == 1
    body = text.split(opener, 1)[1]
    end = body.index(f"\n{MARKER}\n".encode())
    return body[: end + 1]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_the_heredoc_is_the_publisher_byte_for_byte(script: Path) -> None:
    assert heredoc(script) == PUBLISHER.read_bytes(), (
        f"copy {PUBLISHER.name} into the heredoc of {script.name}: one source of truth"
    )


CONTENT_LIMIT = 16_384
"""The base64 of a lifecycle script, as both NotebookInstanceLifecycleHook.Content and
StudioLifecycleConfigContent take it: at most 16,384 characters."""
CONTENT_CAP = CONTENT_LIMIT - 512
"""What this project allows itself: room to spare for the next fix."""


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_the_script_fits_a_lifecycle_configuration_with_room_to_spare(script: Path) -> None:
    encoded = base64.b64encode(script.read_bytes())

    assert len(encoded) <= CONTENT_CAP < CONTENT_LIMIT


def header(script: Path) -> str:
    """The script's comments before its first command, as one line: what an administrator
    reads."""
    text = script.read_text()
    return " ".join(line.lstrip("# ") for line in text[: text.index("\nset -u\n")].splitlines())


def statement_of(script: Path) -> dict[str, Any]:
    lines = script.read_text().splitlines()
    start = lines.index("#   {")
    end = lines.index("#   }", start)
    statement: dict[str, Any] = json.loads("\n".join(line[4:] for line in lines[start : end + 1]))
    return statement


ARN = "arn:PARTITION:sagemaker:REGION:ACCOUNT:"
OWN_RESOURCE = {
    "notebook-on-start.sh": ARN + "notebook-instance/NOTEBOOK-NAME",
    "studio-on-start.sh": ARN + "app/DOMAIN-ID/SPACE-NAME/*",
}
"""A notebook's own ARN; the apps of one private space (a space holds one app per type)."""


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_the_script_states_the_exact_policy_statement_the_role_needs(script: Path) -> None:
    statement = statement_of(script)

    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sagemaker:AddTags"
    keys = statement["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"]
    assert keys == [activity_signal.LAST_ACTIVITY_TAG, activity_signal.HEARTBEAT_TAG]
    assert statement["Resource"] == OWN_RESOURCE[script.name]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_the_statement_names_no_partition_and_no_resource_of_anyone_else(script: Path) -> None:
    text = header(script)

    assert "arn:aws:" not in text  # aws-cn and aws-us-gov too: PARTITION, spelt out
    assert "aws, aws-cn, aws-us-gov" in text
    assert "notebook-instance/*" not in text and "app/*" not in text
    assert "lower case" in text  # SageMaker writes the names in ARNs lower case


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_the_script_says_the_two_tags_decide_the_resources_fate(script: Path) -> None:
    """The key condition keeps the role to two keys, not from keeping the resource alive:
    the header must not claim otherwise, and must say what a shared role allows."""
    text = header(script)

    assert "keeps the role from writing any other tag" not in text
    assert "decides the" in text and "whatever the key condition" in text
    assert "for ever (as idle-reaper:exempt does)" in text
    assert ("stopped at the next look" if "notebook" in script.name else "has it deleted") in text
    assert "AmazonSageMakerFullAccess" in text  # a broad grant already writes any tag


def test_the_studio_script_says_a_domain_wide_role_cannot_be_scoped_to_the_caller() -> None:
    """The Service Authorization Reference lists only tag conditions (and sagemaker:TaggingAction)
    as AddTags conditions on an app: no owner condition exists for it."""
    text = header(SCRIPTS[1])

    assert "AddTags has no ownership condition on apps" in text
    assert "tag conditions and sagemaker:TaggingAction only" in text
    assert "with one role for a domain, any user can keep any app alive or have it deleted" in text
    assert "UserSettings.ExecutionRole" in text
    assert "app/${sagemaker:DomainId}/${sagemaker:UserProfileName}/*" in text


def fake_python(folder: Path) -> Path:
    """A `python` that records how it was started, then exits (the version check passes)."""
    script = folder / "fake-python"
    script.write_text(f'#!/bin/sh\necho "$@" >> "{folder}/started"\nexit 0\n')
    script.chmod(0o755)
    return script


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_the_script_writes_the_publisher_and_starts_it_in_the_background(
    script: Path, tmp_path: Path
) -> None:
    target = tmp_path / "idle-reaper"
    env = {
        **os.environ,
        "IDLE_REAPER_DIR": str(target),
        "IDLE_REAPER_PYTHON": str(fake_python(tmp_path)),
    }
    began = time.monotonic()

    done = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, env=env, timeout=30
    )

    assert done.returncode == 0, done.stderr
    assert time.monotonic() - began < 10
    assert (target / "activity_signal_publisher.py").read_bytes() == PUBLISHER.read_bytes()
    started = tmp_path / "started"
    for _ in range(100):  # the background process may take a moment
        if started.exists() and "activity_signal_publisher.py" in started.read_text():
            break
        time.sleep(0.05)
    assert started.read_text().split() == [str(target / "activity_signal_publisher.py")]
    assert "publisher started" in done.stdout


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_the_script_never_fails_the_start(script: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    env = {**os.environ, "IDLE_REAPER_DIR": str(blocked / "sub")}

    done = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, env=env, timeout=30
    )

    assert done.returncode == 0
