"""Resource kinds: one module each, registered on import."""

from __future__ import annotations

from idle_reaper.kinds import glue  # noqa: F401  (registers the kind)
from idle_reaper.kinds.base import ResourceKind
from idle_reaper.kinds.registry import all_kinds, identify, kind_named

__all__ = ["ResourceKind", "all_kinds", "identify", "kind_named"]
