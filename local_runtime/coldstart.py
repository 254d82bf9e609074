"""Cold start and size of every Lambda function in template.yaml, measured on this machine.

The functions, their handlers, code folders, runtime, architecture, environment and layers
are read from the template (nothing is listed here). Each layer is built twice the way
`sam build` lays it out (its ContentUri, plus its requirements.txt installed under python/):
once for the Lambda platform, to weigh it (zipped and unzipped, per package), and once for
this machine's interpreter, to import each handler from. Imports run in fresh interpreters
that see only what Lambda puts on sys.path (the function's code, then the layer), with the
function's environment and Lambda's own variables (LAMBDA_TASK_ROOT turns the Powertools
Tracer on, as deployed), under `-X importtime`.

Two variants per handler: "as deployed", with no bytecode anywhere (sam build unpacks
wheels, which hold none, and /var/task and /opt are read-only, so every cold start compiles
every module it imports), and "precompiled", with .pyc beside every module (what shipping
compiled bytecode would buy). Local CPython on this CPU, not Lambda's Firecracker microVM:
the figures rank and compare; they are not Lambda's INIT durations.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from local_runtime.errors import LocalRuntimeError, TemplateError

ROOT = Path(__file__).resolve().parent.parent
MAX_RUNS = 100
MIB = 1024 * 1024
UNZIPPED_LIMIT_BYTES = 262_144_000
"""250 MB: "The maximum size for a .zip deployment package for Lambda is 250 MB (unzipped).
Note that this limit applies to the combined size of all the files you upload, including any
Lambda layers." (AWS Lambda Developer Guide, "Deploy Python Lambda functions with .zip file
archives"; CloudFormation's error for it reads "Unzipped size must be smaller than 262144000
bytes".)"""
DIRECT_UPLOAD_LIMIT_BYTES = 50 * MIB
"""A .zip under 50 MB can be uploaded directly; larger ones go through S3 first (same guide)."""
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
"""pip's --platform for each Lambda architecture (same guide, "Working with built
distributions (wheels)")."""
SDK = frozenset({"boto3", "botocore"})
"""In every Python runtime already ("The Lambda Python runtimes include the AWS SDK for Python
(Boto3) and its dependencies", same guide); a layer's copy takes precedence over it."""
NOTABLE = ("slack_sdk", "aws_xray_sdk", "boto3", "botocore", "jmespath", "urllib3")
"""Third-party packages whose presence in a handler's imports the report always states."""

_HANDLER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")
_RUNTIME = re.compile(r"python(3)\.(\d{1,2})")
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)\s*$")
_LAYER_ARN_NAME = re.compile(r":layer:([A-Za-z0-9_-]{1,140}):\d+$")
_DIST_INFO = re.compile(r"(?P<name>[^/]+)-(?P<version>[^-/]+)\.dist-info$")
_NAME_NORMAL = re.compile(r"[-_.]+")

BOOTSTRAP = """\
import sys
task, module, attr, *layers = sys.argv[1:]
sys.path[:0] = [task, *layers]
before = set(sys.modules)
__import__(module)
handler = getattr(sys.modules[module], attr)
if not callable(handler):
    raise SystemExit(3)
sys.stdout.write("\\n".join(sorted(set(sys.modules) - before)))
"""
"""Runs in the fresh interpreter: Lambda's search order (/var/task, then the layers' python/),
the handler imported and looked up, then the modules its import added on stdout. __import__, not
importlib.import_module: only the import statement's path prints the module's own
`-X importtime` line (import_module's pure-Python path prints its imports but not itself)."""


@dataclass(frozen=True)
class LayerSpec:
    """A layer as `sam build` makes it: ContentUri copied under python/, its requirements
    installed beside it for BuildMethod's Python and BuildArchitecture."""

    logical_id: str
    name: str
    content_dir: Path
    python_version: str
    architecture: str

    @property
    def requirements(self) -> Path | None:
        path = self.content_dir / "requirements.txt"
        return path if path.is_file() else None


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    handler: str
    code_dir: Path
    python_version: str
    architecture: str
    memory_mb: int
    environment: Mapping[str, str]
    layers: tuple[str, ...]
    """Logical ids of the template's layers this function uses."""

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass(frozen=True)
class ImportRun:
    """One fresh interpreter's import of a handler, read from `-X importtime`."""

    cumulative_us: int
    self_us: Mapping[str, int]
    """Every module -X importtime printed under the handler's import (itself included) -> its
    own time. A module imported through importlib.import_module prints no line of its own:
    its time counts in its importer's."""
    wall_s: float
    cpu_s: float = 0.0
    """The interpreter's user plus system CPU time: what contention on this machine's shared
    cores inflates least."""


@dataclass
class Package:
    name: str
    version: str
    files: list[str] = field(default_factory=list)
    unzipped: int = 0
    zipped: int = 0


def read_template(template: Path) -> tuple[list[FunctionSpec], list[LayerSpec]]:
    """Every function and layer in the template, as deployed with the default parameters.
    The folders they name must lie under the template's own folder."""
    from local_runtime import stack

    root = template.resolve().parent

    layers = _layers(stack.read(template), template.parent, root)
    by_name = {layer.name: layer.logical_id for layer in layers}
    deployed = stack.load(template)
    functions = []
    for logical, res in sorted(deployed.of_type("AWS::Lambda::Function").items()):
        props = res["Properties"]
        handler = _text(props.get("Handler"), f"{logical}: Handler")
        if not _HANDLER.fullmatch(handler):
            raise TemplateError(f"{logical}: Handler {handler[:60]!r} is not module.function")
        code_dir = _inside(deployed.code_dirs[logical], root, f"{logical}: CodeUri")
        (arch,) = props.get("Architectures") or ["x86_64"]
        env = (props.get("Environment") or {}).get("Variables") or {}
        used = []
        for arn in props.get("Layers") or []:
            match = _LAYER_ARN_NAME.search(_text(arn, f"{logical}: Layers"))
            if match is None or match.group(1) not in by_name:
                raise TemplateError(f"{logical}: layer {str(arn)[:80]!r} is not in the template")
            used.append(by_name[match.group(1)])
        functions.append(
            FunctionSpec(
                logical_id=logical,
                handler=handler,
                code_dir=code_dir,
                python_version=_python_version(props.get("Runtime"), logical),
                architecture=_architecture(arch, logical),
                memory_mb=int(props.get("MemorySize") or 128),
                environment={
                    _text(k, f"{logical}: variable"): _text(v, f"{logical}: {k}")
                    for k, v in env.items()
                },
                layers=tuple(used),
            )
        )
    return functions, layers


def _layers(sam: Mapping[str, Any], base: Path, root: Path) -> list[LayerSpec]:
    found = []
    for logical, res in sorted((sam.get("Resources") or {}).items()):
        if res.get("Type") != "AWS::Serverless::LayerVersion":
            continue
        props, meta = res.get("Properties") or {}, res.get("Metadata") or {}
        content = _text(props.get("ContentUri"), f"{logical}: ContentUri")
        runtimes = props.get("CompatibleRuntimes") or []
        arches = props.get("CompatibleArchitectures") or ["x86_64"]
        found.append(
            LayerSpec(
                logical_id=logical,
                name=str(props.get("LayerName") or logical),
                content_dir=_inside(base / content, root, f"{logical}: ContentUri"),
                python_version=_python_version(
                    meta["BuildMethod"]
                    if _RUNTIME.fullmatch(str(meta.get("BuildMethod")))
                    else (runtimes[0] if runtimes else None),
                    logical,
                ),
                architecture=_architecture(meta.get("BuildArchitecture") or arches[0], logical),
            )
        )
    return found


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or "\0" in value:
        raise TemplateError(f"{what}: expected a string, found {str(value)[:60]!r}")
    return value


def _inside(path: Path, root: Path, what: str) -> Path:
    """A folder the template names must be one of the repository's own."""
    resolved = path.resolve()
    if not resolved.is_dir() or not resolved.is_relative_to(root.resolve()):
        raise TemplateError(f"{what}: {str(path)[:80]!r} is not a folder of this repository")
    return resolved


def _python_version(runtime: Any, logical: str) -> str:
    match = _RUNTIME.fullmatch(str(runtime))
    if match is None:
        raise TemplateError(f"{logical}: runtime {str(runtime)[:40]!r} is not a Python runtime")
    return f"{match.group(1)}.{match.group(2)}"


def _architecture(value: Any, logical: str) -> str:
    if value not in PLATFORMS:
        raise TemplateError(f"{logical}: architecture {str(value)[:40]!r} is not arm64 or x86_64")
    return str(value)


# --- building what Lambda would hold --------------------------------------------------------


def build_layer(
    layer: LayerSpec, into: Path, python_version: str, platform_tag: str | None
) -> Path:
    """ContentUri under python/ (no bytecode), its requirements installed beside it from
    wheels only, without compiling: what `sam build` produces. `platform_tag` None = this
    machine's."""
    target = into / "python"
    shutil.copytree(layer.content_dir, target, ignore=_no_bytecode)
    if layer.requirements is not None:
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            python_version,
            "--target",
            str(target),
            "-r",
            str(layer.requirements),
        ]
        if platform_tag is not None:
            command[4:4] = ["--platform", platform_tag]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = " ".join(done.stderr.split())[-400:]
            raise LocalRuntimeError(f"pip could not install {layer.requirements}: {tail}")
    return target


def _no_bytecode(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n == "__pycache__" or n.endswith(".pyc")}


def zipped_size(folder: Path, arcroot: Path, into: Path) -> tuple[int, dict[str, int]]:
    """The size of a deflated zip of `folder` (paths relative to `arcroot`, as sam packages
    them) and each file's compressed size."""
    per_file: dict[str, int] = {}
    with zipfile.ZipFile(into, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(arcroot).as_posix())
        for info in archive.infolist():
            per_file[info.filename] = info.compress_size
    return into.stat().st_size, per_file


def tree_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def packages_in(target: Path, own: Iterable[str]) -> dict[str, Package]:
    """The layer's files by what put them there: each installed distribution (its RECORD),
    the layer's own content, and anything else as "(other)"."""
    owner: dict[str, str] = {}
    packages: dict[str, Package] = {}
    for info in sorted(target.glob("*.dist-info")):
        match = _DIST_INFO.match(info.name)
        if match is None:
            continue
        name = _normal(match.group("name"))
        packages[name] = Package(name=name, version=match.group("version"))
        record = info / "RECORD"
        lines = record.read_text(encoding="utf-8").splitlines() if record.is_file() else []
        for line in lines:
            rel = line.split(",", 1)[0]
            if rel and (target / rel).resolve().is_relative_to(target.resolve()):
                owner[Path(rel).as_posix()] = name
    own_names = set(own)
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        rel = path.relative_to(target).as_posix()
        in_content = rel.split("/")[0] in own_names
        name = owner.get(rel) or ("(layer content)" if in_content else "(other)")
        package = packages.setdefault(name, Package(name=name, version=""))
        package.files.append(rel)
        package.unzipped += path.stat().st_size
    return packages


def _normal(name: str) -> str:
    return _NAME_NORMAL.sub("-", name).lower()


def sdk_share(target: Path, roots: Sequence[str], python_version: str, arch: str) -> set[str]:
    """The distributions in the layer only because the SDK is pinned there: everything
    installed minus what the other requirements need when boto3 and botocore come from the
    runtime instead (the walk stops at them)."""
    from packaging.requirements import InvalidRequirement, Requirement

    env = {
        "python_version": python_version,
        "python_full_version": f"{python_version}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": "aarch64" if arch == "arm64" else "x86_64",
        "extra": "",
    }
    requires: dict[str, list[str]] = {}
    for dist in metadata.distributions(path=[str(target)]):
        deps = []
        for text in dist.requires or []:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            if req.marker is None or req.marker.evaluate(env):
                deps.append(_normal(req.name))
        requires[_normal(dist.metadata["Name"])] = deps
    needed: set[str] = set()
    todo = [_normal(r) for r in roots if _normal(r) not in SDK]
    while todo:
        name = todo.pop()
        if name in needed or name in SDK:
            continue
        needed.add(name)
        todo.extend(requires.get(name, []))
    return set(requires) - needed


def requirement_names(requirements: Path | None) -> list[str]:
    if requirements is None:
        return []
    names = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].strip()
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", text)
        if match and not text.startswith("-"):
            names.append(match.group(0))
    return names


# --- importing handlers ---------------------------------------------------------------------


def lambda_environment(fn: FunctionSpec, task: Path) -> dict[str, str]:
    """The function's own variables plus those Lambda sets for a Python function; nothing of
    this shell's (no credentials, no PYTHON* settings) reaches the interpreter."""
    region = fn.environment.get("HOME_REGION") or "us-east-1"
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        **fn.environment,
        "LAMBDA_TASK_ROOT": str(task),
        "_HANDLER": fn.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{fn.python_version}",
        "AWS_LAMBDA_FUNCTION_NAME": f"idle-reaper-{fn.logical_id}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }


def import_once(
    python: str,
    fn: FunctionSpec,
    task: Path,
    layers: Sequence[Path],
    compiled: bool,
) -> tuple[ImportRun, list[str]]:
    """One fresh interpreter imports the handler; its `-X importtime` lines and the modules
    it ended with. Not compiled: -B, so nothing is cached between runs (as on Lambda)."""
    command = [python, "-I", "-S", "-X", "importtime"]
    if not compiled:
        command.append("-B")
    command += ["-c", BOOTSTRAP, str(task), fn.module, fn.attribute, *map(str, layers)]
    started, used = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        command,
        cwd=task,
        env=lambda_environment(fn, task),
        capture_output=True,
        text=True,
        check=False,
    )
    wall, now = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        tail = " ".join(done.stderr.split())[-400:]
        raise LocalRuntimeError(f"{fn.logical_id}: importing {fn.handler} failed: {tail}")
    cpu = now.ru_utime - used.ru_utime + now.ru_stime - used.ru_stime
    run = parse_importtime(done.stderr, fn.module, wall)
    return replace(run, cpu_s=cpu), done.stdout.split("\n")


def parse_importtime(stderr: str, module: str, wall_s: float = 0.0) -> ImportRun:
    """The handler module's own line and every line nested under it. `-X importtime` prints
    a module after everything it imported, indented two spaces per level, so the handler's
    imports are the lines between the previous top-level line and its own."""
    pending: dict[str, int] = {}
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match is None:
            continue
        self_us, cumulative, indent, name = match.groups()
        pending[name] = pending.get(name, 0) + int(self_us)
        if indent == "":
            if name == module:
                return ImportRun(int(cumulative), dict(pending), wall_s)
            pending = {}
    raise LocalRuntimeError(f"-X importtime printed no line for {module!r}")


def _bare_interpreter(python: str, runs: int) -> float:
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([python, "-I", "-S", "-B", "-c", "pass"], env={}, check=True)
        walls.append(time.perf_counter() - started)
    return statistics.median(walls)


# --- the whole measurement ------------------------------------------------------------------


@dataclass
class Variant:
    runs: list[ImportRun] = field(default_factory=list)

    def median_ms(self) -> float:
        return statistics.median(r.cumulative_us for r in self.runs) / 1000

    def wall_ms(self) -> float:
        return statistics.median(r.wall_s for r in self.runs) * 1000

    def cpu_ms(self) -> float:
        return statistics.median(r.cpu_s for r in self.runs) * 1000

    def by_package(self, classify: Callable[[str], str]) -> dict[str, float]:
        """Median over runs of each group's summed own time, in ms."""
        groups: dict[str, list[float]] = defaultdict(list)
        names = {classify(m) for r in self.runs for m in r.self_us}
        for run in self.runs:
            totals: dict[str, int] = defaultdict(int)
            for mod, us in run.self_us.items():
                totals[classify(mod)] += us
            for name in names:
                groups[name].append(totals.get(name, 0) / 1000)
        return {k: statistics.median(v) for k, v in groups.items()}


def measure(
    template: Path, runs: int, python: str, work: Path, progress: TextIO | None
) -> dict[str, Any]:
    def say(text: str) -> None:
        if progress is not None:
            print(f"[coldstart] {text}", file=progress, flush=True)

    functions, layers = read_template(template)
    version = subprocess.run(
        [python, "-I", "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    sizes: dict[str, Any] = {"layers": {}, "functions": {}}
    host_layers: dict[str, Path] = {}
    for layer in layers:
        tag = PLATFORMS[layer.architecture]
        say(f"{layer.logical_id}: building for Lambda (python{layer.python_version}, {tag})")
        target = build_layer(layer, work / "lambda" / layer.logical_id, layer.python_version, tag)
        sizes["layers"][layer.logical_id] = _layer_sizes(layer, target, work)
        say(f"{layer.logical_id}: building for this machine (python{version}) to import from")
        host_layers[layer.logical_id] = build_layer(
            layer, work / "host" / layer.logical_id, version, None
        )
    tasks: dict[str, Path] = {}
    for fn in functions:
        task = work / "task" / fn.logical_id
        shutil.copytree(fn.code_dir, task, ignore=_no_bytecode)
        tasks[fn.logical_id] = task
        unzipped = tree_size(task)
        zipped, _ = zipped_size(task, task, work / f"{fn.logical_id}.zip")
        with_layers = unzipped + sum(sizes["layers"][lg]["unzipped"] for lg in fn.layers)
        sizes["functions"][fn.logical_id] = {
            "code_uri": str(fn.code_dir.relative_to(template.resolve().parent)),
            "unzipped": unzipped,
            "zipped": zipped,
            "with_layers_unzipped": with_layers,
            "share_of_250mb_limit": with_layers / UNZIPPED_LIMIT_BYTES,
        }
    variants = {(fn.logical_id, c): Variant() for fn in functions for c in (False, True)}
    modules: dict[str, list[str]] = {}
    say(f"compiling copies of the layers and functions with {python}")
    compiled_layers = {
        lg: _compiled_copy(path, python, work / "compiled-layer" / lg / "python")
        for lg, path in host_layers.items()
    }
    compiled_tasks = {
        fn: _compiled_copy(path, python, work / "compiled-task" / fn) for fn, path in tasks.items()
    }
    for n in range(runs):
        say(f"run {n + 1} of {runs}: {len(functions)} handlers, as deployed and precompiled")
        for fn in functions:
            for compiled in (False, True):
                task = (compiled_tasks if compiled else tasks)[fn.logical_id]
                built = compiled_layers if compiled else host_layers
                run, mods = import_once(python, fn, task, [built[lg] for lg in fn.layers], compiled)
                variants[(fn.logical_id, compiled)].runs.append(run)
                modules[fn.logical_id] = mods
    own = {p.name for layer in layers for p in layer.content_dir.iterdir() if p.is_dir()}
    bare = _bare_interpreter(python, runs)
    result: dict[str, Any] = {
        "machine": _machine(python),
        "date": datetime.now(UTC).date().isoformat(),
        "runs": runs,
        "bare_interpreter_ms": round(bare * 1000, 1),
        "sizes": sizes,
        "handlers": {},
    }
    for fn in functions:
        deployed, precompiled = variants[(fn.logical_id, False)], variants[(fn.logical_id, True)]
        imported = modules[fn.logical_id]
        classify = _classifier(fn.module, own, [host_layers[lg] for lg in fn.layers])
        groups = deployed.by_package(classify)
        result["handlers"][fn.logical_id] = {
            "handler": fn.handler,
            "import_ms_as_deployed": round(deployed.median_ms(), 1),
            "import_ms_precompiled": round(precompiled.median_ms(), 1),
            "wall_ms_as_deployed": round(deployed.wall_ms(), 1),
            "wall_ms_precompiled": round(precompiled.wall_ms(), 1),
            "cpu_ms_as_deployed": round(deployed.cpu_ms(), 1),
            "cpu_ms_precompiled": round(precompiled.cpu_ms(), 1),
            "modules_imported": len(imported),
            "ours": sorted(m for m in imported if m == fn.module or m.split(".")[0] in own),
            "third_party": sorted(
                {m.split(".")[0] for m in imported if classify(m) != "stdlib"} - own - {fn.module}
            ),
            "notable": {name: name in modules[fn.logical_id] for name in NOTABLE},
            "ms_by_package_as_deployed": dict(
                sorted(((k, round(v, 1)) for k, v in groups.items()), key=lambda kv: -kv[1])
            ),
        }
    return result


def _layer_sizes(layer: LayerSpec, target: Path, work: Path) -> dict[str, Any]:
    zipped, per_file = zipped_size(target, target.parent, work / f"{layer.logical_id}.zip")
    own = [p.name for p in layer.content_dir.iterdir()]
    packages = packages_in(target, own)
    for package in packages.values():
        package.zipped = sum(per_file.get(f"python/{f}", 0) for f in package.files)
    roots = requirement_names(layer.requirements)
    sdk = sdk_share(target, roots, layer.python_version, layer.architecture)
    unzipped = tree_size(target)
    return {
        "python": layer.python_version,
        "platform": PLATFORMS[layer.architecture],
        "unzipped": unzipped,
        "zipped": zipped,
        "packages": {
            p.name: {"version": p.version, "unzipped": p.unzipped, "zipped": p.zipped}
            for p in sorted(packages.values(), key=lambda p: -p.unzipped)
        },
        "sdk_only": sorted(sdk),
        "sdk_unzipped": sum(packages[n].unzipped for n in sdk if n in packages),
        "sdk_zipped": sum(packages[n].zipped for n in sdk if n in packages),
    }


def _compiled_copy(folder: Path, python: str, copy: Path) -> Path:
    """A copy of `folder` with bytecode for `python` beside every module."""
    shutil.copytree(folder, copy)
    subprocess.run(
        [python, "-I", "-S", "-m", "compileall", "-q", "-j", "0", str(copy)],
        capture_output=True,
        check=False,  # a module that does not compile (a test fixture) just stays source
    )
    return copy


def _classifier(module: str, own: set[str], layers: Sequence[Path]) -> Callable[[str], str]:
    """Group a module under what shipped it: the handler, our layer package (per module), a
    third-party distribution's top-level name, or the standard library."""
    third = {p.name.split(".")[0] for layer in layers for p in layer.iterdir()}

    def classify(name: str) -> str:
        top = name.split(".")[0]
        if name == module:
            return name
        if top in own:
            return ".".join(name.split(".")[:2])
        return top if top in third else "stdlib"

    return classify


def _machine(python: str) -> dict[str, str]:
    info = subprocess.run(
        [
            python,
            "-I",
            "-S",
            "-c",
            "import platform; print(platform.python_implementation(), platform.python_version())",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": str(os.cpu_count()),
        "processor": _cpu_model(),
        "python": " ".join(info),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# --- the report -----------------------------------------------------------------------------


def report(result: Mapping[str, Any]) -> str:
    """The measurement as Markdown, for BENCHMARKS.md."""
    m = result["machine"]
    lines = [
        f"Measured {result['date']} on {m['platform']} ({m['processor']}, {m['cpus']} CPUs),"
        f" {m['python']}; median of {result['runs']} fresh interpreters per figure."
        f" A bare interpreter (`python -I -S -c pass`) takes {result['bare_interpreter_ms']} ms.",
        "",
        "| function | handler import, as deployed (no .pyc) | precompiled (.pyc) |"
        " process CPU, as deployed | precompiled | modules imported | slack_sdk | aws_xray_sdk |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, h in result["handlers"].items():
        notable = h["notable"]
        lines.append(
            f"| {name} | {h['import_ms_as_deployed']} ms | {h['import_ms_precompiled']} ms"
            f" | {h['cpu_ms_as_deployed']} ms | {h['cpu_ms_precompiled']} ms"
            f" | {h['modules_imported']}"
            f" | {'yes' if notable['slack_sdk'] else 'no'}"
            f" | {'yes' if notable['aws_xray_sdk'] else 'no'} |"
        )
    for name, h in result["handlers"].items():
        top = list(h["ms_by_package_as_deployed"].items())[:8]
        lines += [
            "",
            f"{name}: own time by package, as deployed: "
            + ", ".join(f"{k} {v} ms" for k, v in top),
            f"{name}: our modules: " + ", ".join(h["ours"]),
            f"{name}: third-party packages: " + ", ".join(h["third_party"]),
        ]
    lines += ["", "| artefact | unzipped | zipped | note |", "|---|---|---|---|"]
    for name, layer in result["sizes"]["layers"].items():
        lines.append(
            f"| layer {name} (python{layer['python']}, {layer['platform']}) |"
            f" {_mib(layer['unzipped'])} | {_mib(layer['zipped'])} | |"
        )
    for name, fn in result["sizes"]["functions"].items():
        lines.append(
            f"| function {name} ({fn['code_uri']}) | {fn['unzipped']:,} B | {fn['zipped']:,} B"
            f" | with its layers {_mib(fn['with_layers_unzipped'])} unzipped,"
            f" {fn['share_of_250mb_limit']:.0%} of the 250 MB limit |"
        )
    for name, layer in result["sizes"]["layers"].items():
        lines += [
            "",
            f"Layer {name}, largest packages:",
            "",
            "| package | version | unzipped | zipped | share of the layer (unzipped) |",
            "|---|---|---|---|---|",
        ]
        for pkg, p in list(layer["packages"].items())[:10]:
            lines.append(
                f"| {pkg} | {p['version']} | {_mib(p['unzipped'])} | {_mib(p['zipped'])}"
                f" | {p['unzipped'] / layer['unzipped']:.1%} |"
            )
        lines += [
            "",
            f"In the layer only because the SDK is pinned there ({', '.join(layer['sdk_only'])}):"
            f" {_mib(layer['sdk_unzipped'])} unzipped, {_mib(layer['sdk_zipped'])} zipped"
            f" ({layer['sdk_unzipped'] / layer['unzipped']:.0%} of the layer unzipped).",
        ]
    return "\n".join(lines) + "\n"


def _mib(size: int) -> str:
    return f"{size / MIB:.2f} MiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_runtime.coldstart", description=__doc__)
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per figure")
    parser.add_argument(
        "--python", default=sys.executable, help="the interpreter to import with (default: this)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--keep", type=Path, default=None, help="build here and keep it")
    args = parser.parse_args(argv)
    try:
        if not 1 <= args.runs <= MAX_RUNS:
            raise LocalRuntimeError(f"--runs: {args.runs} is outside 1 to {MAX_RUNS}")
        python = shutil.which(args.python) or args.python
        if not Path(python).is_file():
            raise LocalRuntimeError(f"--python: {args.python[:80]!r} is not an interpreter")
        if args.keep is not None:
            if args.keep.exists():
                raise LocalRuntimeError(f"--keep: {args.keep} exists; name a new folder")
            result = measure(args.template, args.runs, python, args.keep, sys.stderr)
        else:
            with tempfile.TemporaryDirectory(prefix="coldstart-") as work:
                result = measure(args.template, args.runs, python, Path(work), sys.stderr)
    except (LocalRuntimeError, OSError, subprocess.CalledProcessError) as exc:
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    sys.stdout.write(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
