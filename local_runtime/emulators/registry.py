"""Where emulators declare themselves, as the product's kinds do (idle_reaper.kinds.registry).

Every module in this package is imported the first time anyone asks, so a new kind is one new
module here and no edit anywhere else in the runtime.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from local_runtime.emulators.base import Emulator

E = TypeVar("E", bound="type[Emulator]")
_EMULATORS: dict[str, type[Emulator]] = {}
_NOT_KINDS = frozenset({"base", "registry"})
_loaded = False


def register(cls: E) -> E:
    """Class decorator: make an emulator known by its kind's name."""
    if cls.kind in _EMULATORS and _EMULATORS[cls.kind] is not cls:
        raise ValueError(f"two emulators for kind {cls.kind!r}")
    _EMULATORS[cls.kind] = cls
    return cls


def all_emulators() -> list[type[Emulator]]:
    """Every registered emulator, in a fixed order (by module, then registration)."""
    _load()
    return list(_EMULATORS.values())


def emulator_for(kind: str) -> type[Emulator] | None:
    """The emulator of a kind; None when the runtime cannot emulate it."""
    _load()
    return _EMULATORS.get(kind)


def _load() -> None:
    """Import every module of the package once (each registers its emulators). Late, not at
    import: the emulators import the scenario parser, which looks kinds up here."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    package = importlib.import_module(__package__ or "local_runtime.emulators")
    for module in sorted(m.name for m in pkgutil.iter_modules(package.__path__)):
        if module not in _NOT_KINDS:
            importlib.import_module(f"{package.__name__}.{module}")
