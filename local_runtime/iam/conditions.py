"""A statement's Condition block, decided with AWS's documented logic (operators, `...IfExists`,
`Null`, negation, `ForAllValues`/`ForAnyValue`) against the request context."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from local_runtime.iam.context import Context, Unevaluable
from local_runtime.iam.patterns import arn_pattern, like_pattern, substitute


def _date(text: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ip(actual: str, expected: str) -> bool:
    return ipaddress.ip_address(actual) in ipaddress.ip_network(expected, strict=False)


def _arn(actual: str, expected: str) -> bool:
    return arn_pattern(expected).match(actual) is not None


_MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda a, e: a == e,
    "StringEqualsIgnoreCase": lambda a, e: a.casefold() == e.casefold(),
    "StringLike": lambda a, e: like_pattern(e).match(a) is not None,
    "NumericEquals": lambda a, e: float(a) == float(e),
    "NumericLessThan": lambda a, e: float(a) < float(e),
    "NumericLessThanEquals": lambda a, e: float(a) <= float(e),
    "NumericGreaterThan": lambda a, e: float(a) > float(e),
    "NumericGreaterThanEquals": lambda a, e: float(a) >= float(e),
    "DateEquals": lambda a, e: _date(a) == _date(e),
    "DateLessThan": lambda a, e: _date(a) < _date(e),
    "DateLessThanEquals": lambda a, e: _date(a) <= _date(e),
    "DateGreaterThan": lambda a, e: _date(a) > _date(e),
    "DateGreaterThanEquals": lambda a, e: _date(a) >= _date(e),
    "Bool": lambda a, e: a.lower() == e.lower(),
    "BinaryEquals": lambda a, e: a == e,
    "IpAddress": _ip,
    "ArnEquals": _arn,
    "ArnLike": _arn,
}
_NEGATION_OF = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NotIpAddress": "IpAddress",
}
"""Each negated operator, and the operator it negates."""
_VARIABLES_ALLOWED = ("String", "Arn")


def conditions_hold(block: dict[str, Any], context: Context, variables: bool = True) -> bool:
    """AWS's Condition logic: operators AND, keys AND, a key's values OR (NOR when negated); a
    key missing from the request makes a condition false, true when negated, `...IfExists`
    true, and `Null` tests presence; `ForAllValues`/`ForAnyValue` qualify multivalued keys."""
    for operator, pairs in block.items():
        qualifier, _, base = operator.rpartition(":")
        if_exists = base.endswith("IfExists") and base != "IfExists"
        if if_exists:
            base = base.removesuffix("IfExists")
        for key, expected in dict(pairs).items():
            wanted = [
                str(v).lower() if isinstance(v, bool) else str(v)
                for v in (expected if isinstance(expected, list) else [expected])
            ]
            actual = context.get(key)
            if base == "Null":
                if (actual is None) != (wanted[0].lower() == "true"):
                    return False
                continue
            negated = base in _NEGATION_OF
            matcher = _MATCHERS.get(_NEGATION_OF.get(base, base))
            if matcher is None:
                raise Unevaluable(f"condition operator {operator}")
            if actual is None:
                if if_exists or negated or qualifier == "ForAllValues":
                    continue
                return False
            if variables and base.startswith(_VARIABLES_ALLOWED):
                resolved = [substitute(w, context) for w in wanted]
                wanted = [w for w in resolved if w is not None]

            hits = [any(matcher(v, w) for w in wanted) != negated for v in actual]
            every = qualifier == "ForAllValues" or (negated and qualifier != "ForAnyValue")
            if not (all(hits) if every else any(hits)):
                return False
    return True
