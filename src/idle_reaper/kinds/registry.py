"""Where kinds declare themselves, so nothing else has to learn their names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from idle_reaper.exceptions import UnknownKindError
from idle_reaper.kinds.base import ResourceKind
from idle_reaper.resource import ResourceRef

_KINDS: dict[str, ResourceKind] = {}
K = TypeVar("K", bound=type[ResourceKind])


def register(cls: K) -> K:
    """Class decorator: make a kind known by its name."""
    _KINDS[cls.name] = cls()
    return cls


def all_kinds() -> list[ResourceKind]:
    return list(_KINDS.values())


def kind_named(name: str) -> ResourceKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise UnknownKindError(f"unknown resource kind {name!r}") from None


def identify(event: Mapping[str, Any]) -> tuple[ResourceKind, ResourceRef] | None:
    """The kind and resource a start event names, if any kind recognises it."""
    for kind in _KINDS.values():
        ref = kind.identify(event)
        if ref is not None:
            return kind, ref
    return None
