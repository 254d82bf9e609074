"""idle-reaper's domain code: what a resource is, when it is idle, what to do about it.

Shipped to every function as a Lambda layer; handlers stay thin and call into here.
"""

from __future__ import annotations

from idle_reaper.exceptions import ReaperError
from idle_reaper.inspection import inspect
from idle_reaper.policy import Policy
from idle_reaper.verdict import Verdict

__all__ = ["Policy", "ReaperError", "Verdict", "inspect"]
