"""The policy language's wildcards and variables: how a pattern in an Action, a Resource or a
Condition matches, each compiled once to a regular expression."""

from __future__ import annotations

import re
from functools import cache

from local_runtime.iam.context import Context, Unevaluable


def _wildcards(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


@cache
def action_pattern(pattern: str) -> re.Pattern[str]:
    """Actions: `*` and `?` wildcards; prefix and name are case-insensitive."""
    return re.compile(_wildcards(pattern) + r"\Z", re.IGNORECASE | re.DOTALL)


@cache
def like_pattern(pattern: str) -> re.Pattern[str]:
    """StringLike: `*` and `?` wildcards, case-sensitive."""
    return re.compile(_wildcards(pattern) + r"\Z", re.DOTALL)


@cache
def arn_pattern(pattern: str) -> re.Pattern[str]:
    """ARNs, case-sensitive, wildcards within each colon-separated segment; a `*` that ends a
    segment may also match across the colons after it (AWS's documented rule, which is why
    SAM's `function:name*` covers `function:name:alias`, and `*` matches any ARN)."""
    out = []
    for segment in pattern.split(":"):
        text = ""
        for i, c in enumerate(segment):
            if c == "*":
                text += ".*" if i == len(segment) - 1 else "[^:]*"
            elif c == "?":
                text += "[^:]"
            else:
                text += re.escape(c)
        out.append(text)
    return re.compile(":".join(out) + r"\Z", re.DOTALL)


_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def substitute(text: str, context: Context) -> str | None:
    """Policy variables (`${aws:username}`); None when a variable's key is absent (the
    element then matches nothing, as in AWS)."""
    if "${" not in text:
        return text
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        key = match.group(1).strip()
        if key in ("*", "?", "$") or "," in key:
            raise Unevaluable(f"policy variable ${{{key}}}")
        found = context.get(key)
        if found is None:
            missing = True
            return ""
        return found[0]

    out = _VARIABLE.sub(value, text)
    return None if missing else out
