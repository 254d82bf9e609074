"""`make coldstart`'s reading: the template's functions and layers, `-X importtime` lines, and
which layer packages are there only for the pinned SDK. No pip, no timing: those are the
benchmark's, not the tests'."""

from __future__ import annotations

from pathlib import Path

import pytest

from local_runtime.coldstart import packages_in, parse_importtime, read_template, sdk_share
from local_runtime.errors import LocalRuntimeError, TemplateError
from tests.conftest import ROOT

IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       120 |        120 | _io
import time:        50 |        300 |   json.decoder
import time:       400 |        700 | json
import time:        30 |         30 |     idle_reaper.exceptions
import time:        70 |        100 |   idle_reaper
import time:        20 |         20 |     json.scanner
import time:        10 |         30 |   other
import time:      1000 |       1130 | app
import time:       999 |        999 | after
"""


def test_the_handlers_imports_are_the_lines_nested_under_it() -> None:
    run = parse_importtime(IMPORTTIME, "app", wall_s=0.5)
    assert run.cumulative_us == 1130
    assert run.self_us == {
        "idle_reaper.exceptions": 30,
        "idle_reaper": 70,
        "json.scanner": 20,
        "other": 10,
        "app": 1000,
    }  # _io, json and `after` were imported by someone else, before or after
    assert run.wall_s == 0.5


def test_no_line_for_the_handler_is_an_error() -> None:
    with pytest.raises(LocalRuntimeError, match="no line for 'handler'"):
        parse_importtime(IMPORTTIME, "handler")


def test_functions_and_layers_come_from_the_template() -> None:
    functions, layers = read_template(ROOT / "template.yaml")
    assert {f.logical_id: f.code_dir.name for f in functions} == {
        "AuditFunction": "audit",
        "InspectFunction": "inspect",
        "NotifyFunction": "notify",
        "SweepFunction": "sweep",
    }
    assert {(f.module, f.attribute, f.python_version, f.architecture) for f in functions} == {
        ("app", "handler", "3.13", "arm64")
    }
    assert all(f.layers == ("DomainLayer",) for f in functions)
    (layer,) = layers
    assert (layer.logical_id, layer.content_dir, layer.python_version, layer.architecture) == (
        "DomainLayer",
        ROOT / "src",
        "3.13",
        "arm64",
    )
    assert layer.requirements == ROOT / "src" / "requirements.txt"
    inspect = next(f for f in functions if f.logical_id == "InspectFunction")
    assert inspect.environment["GLUE_IDLE_MINUTES"] == "30"  # resolved from the parameter


def _template(tmp_path: Path, handler: str, code_uri: str) -> Path:
    (tmp_path / "fn").mkdir()
    path = tmp_path / "template.yaml"
    path.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        f"      Handler: {handler!r}\n"
        "      Runtime: python3.13\n"
        f"      CodeUri: {code_uri}\n"
    )
    return path


def test_a_code_folder_outside_the_templates_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="not a folder of this repository"):
        read_template(_template(tmp_path, "app.handler", "../"))


def test_a_handler_that_is_not_module_dot_function_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"is not module\.function"):
        read_template(_template(tmp_path, "app.handler; rm -rf /", "fn/"))


def _dist(
    target: Path, name: str, version: str, requires: list[str], files: dict[str, int]
) -> None:
    info = target / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + "".join(f"Requires-Dist: {r}\n" for r in requires)
    )
    for rel, size in files.items():
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        (target / rel).write_bytes(b"x" * size)
    record = [f"{rel},," for rel in files] + [f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(record) + "\n")


def test_the_sdk_share_is_what_only_the_sdk_pins_brought(tmp_path: Path) -> None:
    target = tmp_path / "python"
    _dist(target, "tools", "1", ["jmespath"], {"tools/__init__.py": 10})
    _dist(target, "xray", "1", ["botocore>=1", "wrapt"], {"xray/__init__.py": 20})
    _dist(target, "boto3", "1", ["botocore", "jmespath", "s3transfer"], {"boto3/x.py": 300})
    _dist(
        target,
        "botocore",
        "1",
        ["jmespath", "urllib3", "python-dateutil", 'awscrt==1; extra == "crt"'],
        {"botocore/data.json": 5000},
    )
    _dist(target, "s3transfer", "1", ["botocore"], {"s3transfer/x.py": 40})
    _dist(target, "jmespath", "1", [], {"jmespath/x.py": 5})
    _dist(target, "urllib3", "1", ['brotli; extra == "brotli"'], {"urllib3/x.py": 7})
    _dist(target, "python-dateutil", "1", ["six>=1.5"], {"dateutil/x.py": 9})
    _dist(target, "six", "1", [], {"six.py": 3})
    _dist(target, "wrapt", "1", ['typing; python_version < "3.5"'], {"wrapt/x.py": 11})
    (target / "idle_reaper").mkdir()
    (target / "idle_reaper" / "kinds.py").write_bytes(b"k" * 13)

    roots = ["tools", "xray", "boto3", "botocore"]
    assert sdk_share(target, roots, "3.13", "arm64") == {
        "boto3",
        "botocore",
        "s3transfer",
        "urllib3",
        "python-dateutil",
        "six",
    }  # jmespath stays (tools needs it), wrapt stays (xray needs it)
    packages = packages_in(target, ["idle_reaper"])
    assert packages["botocore"].unzipped > 5000  # its data, plus its METADATA and RECORD
    assert "dateutil/x.py" in packages["python-dateutil"].files  # by RECORD, not by its name
    assert packages["(layer content)"].unzipped == 13
    assert "(other)" not in packages
