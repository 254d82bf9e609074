"""Benchmark fixtures, not the product: the five ways of stopping idle Glue sessions that
`make bench` compares on one workload (local_runtime.glue_week).

Each strategy is template.yaml with parameters and, for the three alternatives that are not
the product, an amendment applied as the local runtime reads the template (`stack.load`):

- glue-timeout: Glue's own IdleTimeout only, i.e. the stack deployed with KillSwitch=on (no
  start rule, no sweeper: nothing is ever watched).
- fixed-wait: the watcher's definition replaced by fixed-wait.asl.json (a Wait of the
  allowance, then StopSession), started by the product's own start rule; no sweeper.
- hourly-sweep: KillSwitch=on plus a scheduled function (glue_idleness.sweep) that every 60
  minutes lists the sessions and stops those idle past the allowance: a policy engine.
- polling: the watcher's definition replaced by polling.asl.json (Wait 5 minutes, a look
  function, Choice, loop), started by the product's own start rule; no sweeper.
- reaper: template.yaml as it deploys (its sweeper every 15 minutes included).

Every strategy is given the same allowance (the template's GlueIdleMinutes default): the fixed
wait is that many minutes, the sweep and the polling loop stop past that much idle time. The
template file itself is never changed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from local_runtime.stack import Amendment

HERE = Path(__file__).resolve().parent
CODE_URI = "local_runtime/strategies/"
"""The fixture functions' code, relative to template.yaml's folder (the repository root)."""
WATCHER = "WatcherStateMachine"
POLL_SECONDS = 300
SWEEP_SCHEDULE = "rate(60 minutes)"


@dataclass(frozen=True)
class Strategy:
    key: str
    title: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    amendment: Callable[[dict[str, Any], int], None] | None = None
    """(SAM template as read, allowance in minutes): edits the template in place."""

    def amend(self, allowance_minutes: int) -> Amendment | None:
        """The template edit for `allowance_minutes`, or None: template.yaml as it is."""
        if self.amendment is None:
            return None
        return partial(_apply, self.amendment, allowance_minutes)


def _apply(edit: Callable[[dict[str, Any], int], None], minutes: int, sam: dict[str, Any]) -> None:
    edit(sam, minutes)


def _definition(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((HERE / name).read_text())
    return loaded


def _replace_watcher(sam: dict[str, Any], definition: dict[str, Any]) -> dict[str, Any]:
    """Swap the watcher's ASL for `definition` (inline); its role, rule and substitutions stay."""
    props: dict[str, Any] = sam["Resources"][WATCHER]["Properties"]
    props.pop("DefinitionUri", None)
    props["Definition"] = definition
    return props


def _fixed_wait(sam: dict[str, Any], minutes: int) -> None:
    definition = _definition("fixed-wait.asl.json")
    definition["States"]["WaitFixedTime"]["Seconds"] = minutes * 60
    _replace_watcher(sam, definition)


def _session_arns() -> dict[str, Any]:
    return {"Fn::Sub": "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:session/*"}


def _fixture_function(
    handler: str, statements: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """A function of the fixtures' code with the template's Globals (runtime, memory, arch)."""
    return {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Description": f"Benchmark fixture ({handler}), not the product.",
            "CodeUri": CODE_URI,
            "Handler": handler,
            "Environment": {"Variables": {"IDLE_MINUTES": {"Ref": "GlueIdleMinutes"}}},
            "Policies": [{"Version": "2012-10-17", "Statement": statements}],
            **extra,
        },
    }


def _polling(sam: dict[str, Any], minutes: int) -> None:
    definition = _definition("polling.asl.json")
    definition["States"]["WaitFiveMinutes"]["Seconds"] = POLL_SECONDS
    props = _replace_watcher(sam, definition)
    props["DefinitionSubstitutions"]["LookFunctionArn"] = {"Fn::GetAtt": ["LookFunction", "Arn"]}
    props["Policies"] = [
        *copy.deepcopy(props["Policies"]),
        {"LambdaInvokePolicy": {"FunctionName": {"Ref": "LookFunction"}}},
    ]
    sam["Resources"]["LookFunction"] = _fixture_function(
        "glue_idleness.look",
        [
            {
                "Effect": "Allow",
                "Action": ["glue:GetSession", "glue:ListStatements"],
                "Resource": _session_arns(),
            }
        ],
    )


def _hourly_sweep(sam: dict[str, Any], minutes: int) -> None:
    sam["Resources"]["PolicyEngineFunction"] = _fixture_function(
        "glue_idleness.sweep",
        [
            {"Effect": "Allow", "Action": ["glue:ListSessions"], "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": ["glue:GetSession", "glue:ListStatements", "glue:StopSession"],
                "Resource": _session_arns(),
            },
        ],
        Timeout=300,
        Events={"Hourly": {"Type": "Schedule", "Properties": {"Schedule": SWEEP_SCHEDULE}}},
    )


STRATEGIES: tuple[Strategy, ...] = (
    Strategy("glue-timeout", "Glue's own idle timeout only", {"KillSwitch": "on"}),
    Strategy("fixed-wait", "Fixed wait, then stop", {"SweepMinutes": "0"}, _fixed_wait),
    Strategy("hourly-sweep", "Hourly sweep (policy engine)", {"KillSwitch": "on"}, _hourly_sweep),
    Strategy("polling", "Polling watcher (every 5 min)", {"SweepMinutes": "0"}, _polling),
    Strategy("reaper", "idle-reaper"),
)


MAX_FIXED_WAIT_MINUTES = 2880
"""Glue's own default IdleTimeout: a fixed wait longer than that never stops anything."""


def fixed_wait(minutes: int) -> Strategy:
    """The fixed wait with a wait of its own instead of the allowance (`--fixed-waits`): how far
    a longer wait goes towards no false stops, and what it bills while idle for it. False stops
    are still judged against the allowance every strategy is given."""
    if not 1 <= minutes <= MAX_FIXED_WAIT_MINUTES:
        raise ValueError(
            f"a fixed wait of {minutes} minutes is outside 1 to {MAX_FIXED_WAIT_MINUTES}"
        )

    def amendment(sam: dict[str, Any], _allowance: int) -> None:
        _fixed_wait(sam, minutes)

    return Strategy(
        f"fixed-wait-{minutes}",
        f"Fixed wait of {minutes} min, then stop",
        {"SweepMinutes": "0"},
        amendment,
    )


def reaper_warning(minutes: int) -> Strategy:
    """The reaper deployed with WarningMinutes of its own (`--warning-minutes`): the warning
    costs 4 state transitions, and while a statement runs the watcher looks again every
    GlueIdleMinutes - WarningMinutes, so the setting is what its own cost turns on. The
    template's AllowedValues and Rules judge the value, as CloudFormation would."""
    return Strategy(
        f"reaper-warning-{minutes}",
        f"idle-reaper, WarningMinutes {minutes}",
        {"WarningMinutes": str(minutes)},
    )


def named(key: str) -> Strategy:
    for strategy in STRATEGIES:
        if strategy.key == key:
            return strategy
    raise KeyError(key)
