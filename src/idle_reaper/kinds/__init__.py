"""Resource kinds: one module each, registered on import (every module of this package is
imported here, so a new kind is one new module and no edit anywhere else)."""

from __future__ import annotations

import importlib
import pkgutil

from idle_reaper.kinds.base import ResourceKind
from idle_reaper.kinds.registry import all_kinds, identify, kind_named

_NOT_KINDS = frozenset({"base", "registry"})

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module not in _NOT_KINDS and not _module.startswith("_"):
        importlib.import_module(f"{__name__}.{_module}")

__all__ = ["ResourceKind", "all_kinds", "identify", "kind_named"]
