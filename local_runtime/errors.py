"""The local runtime's errors, in one place."""

from __future__ import annotations


class LocalRuntimeError(Exception):
    """Base class for the local runtime's errors."""


class ScenarioError(LocalRuntimeError):
    """A scenario or event file is invalid; nothing runs."""


class TemplateError(LocalRuntimeError):
    """template.yaml uses something the local runtime cannot deploy."""


class RuntimeFault(LocalRuntimeError):
    """The emulated account stopped making progress (an execution hung, a handler deadlocked)."""
