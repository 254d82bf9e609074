"""idle-reaper's domain code: what a resource is, when it is idle, what to do about it.

Shipped to every function as a Lambda layer; handlers stay thin and call into here.
`inspect`, `Policy` and `Verdict` load on first use: the notify and audit functions import
submodules of this package, and need none of the inspection machinery at cold start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from idle_reaper.exceptions import ReaperError

if TYPE_CHECKING:
    from idle_reaper.inspection import inspect
    from idle_reaper.policy import Policy
    from idle_reaper.verdict import Verdict

__all__ = ["Policy", "ReaperError", "Verdict", "inspect"]

_LAZY = {
    "inspect": "idle_reaper.inspection",
    "Policy": "idle_reaper.policy",
    "Verdict": "idle_reaper.verdict",
}


def __getattr__(name: str) -> Any:
    """PEP 562: the first `from idle_reaper import Policy` (say) imports its module."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
