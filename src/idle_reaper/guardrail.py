"""Guardrails: what a resource must be when it is first watched, whatever its activity.

The controls AWS's own Glue sample enforces at creation (a maximum number of workers, a
maximum idle timeout, required tags), checked on the facts a kind observes. Off unless the
policy document sets them.
"""

from __future__ import annotations

import unicodedata

from idle_reaper.policy_document import Guardrails
from idle_reaper.resource import Observation


def breaches(guardrails: Guardrails | None, seen: Observation) -> list[str]:
    """What the resource breaches, in words its owner can act on; empty when nothing."""
    if guardrails is None:
        return []
    found: list[str] = []
    most = guardrails.max_workers
    if most is not None and seen.workers is not None and seen.workers > most:
        found.append(f"{seen.workers} workers, more than the {most} allowed")
    longest = guardrails.max_idle_timeout_minutes
    own = seen.own_idle_timeout_minutes
    if longest is not None and own is not None and own > longest:
        found.append(f"its own idle timeout is {own} minutes, more than the {longest} allowed")
    missing = [key for key in guardrails.required_tags if _blank(seen.tags.get(key, ""))]
    if missing:
        found.append(
            "missing the required tag"
            + ("s " if len(missing) > 1 else " ")
            + ", ".join(repr(key[:64]) for key in missing)
        )
    return found


_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")
"""Hangul fillers: letters by category, blank to the eye."""


def _blank(value: str) -> bool:
    """Nothing a person could read: spaces, and invisible format characters (zero-width space,
    word joiner, byte-order mark) or fillers that `str.strip()` keeps."""
    return all(ch.isspace() or ch in _FILLERS or unicodedata.category(ch) == "Cf" for ch in value)
