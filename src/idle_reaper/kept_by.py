"""Who kept a resource from Slack: the `idle-reaper:kept-by` tag, written in the same call as
the `idle-reaper:keep-until` it explains.

The watcher needs no new state for it: Inspect already reads every tag and every reaper event
carries them, so the next warning or the stop can say "kept until 10:30 by alice@example.com"
from the event alone. The tag names the keep-until it was written with; once someone sets
another keep-until (the CLI, the console), the old kept-by no longer matches and is not shown.
The value is informational only: nothing is decided on it, and it is escaped like any tag.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from idle_reaper.policy import KEEP_UNTIL_TAG

KEPT_BY_TAG = "idle-reaper:kept-by"
WHO_LIMIT = 200
_SEPARATOR = " until "
_UNSAFE = re.compile(r"[^A-Za-z0-9_.:/=+\-@]")
"""What SageMaker's tag values may not hold (its pattern: letters, numbers, spaces and
`_ . : / = + - @`; Glue and EC2 take any UTF-8), less spaces and non-ASCII letters: the
separator is a space, and the value stays readable in any console."""


def kept_by_value(who: str, until: str) -> str:
    """The tag's value: `<who> until <keep-until>`, where `who` keeps only the characters every
    kind's tag values accept (SageMaker's are the strictest; at most 256 characters)."""
    safe = _UNSAFE.sub("_", who)[:WHO_LIMIT] or "unknown"
    return f"{safe}{_SEPARATOR}{until}"


def kept_by(tags: Mapping[str, str]) -> str | None:
    """Who set the resource's current keep-until from Slack; None when nobody did (or the
    keep-until was set another way since)."""
    raw, until = tags.get(KEPT_BY_TAG), tags.get(KEEP_UNTIL_TAG)
    if not raw or not until:
        return None
    who, found, kept_until = raw.rpartition(_SEPARATOR)
    if not found or not who or kept_until.strip() != until.strip():
        return None
    return who


__all__ = ["KEPT_BY_TAG", "kept_by", "kept_by_value"]
