"""The request context a policy is evaluated against: who calls, and the condition keys AWS
would set for the call (an absent key is decided as AWS decides it, an unknown one refuses)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Caller:
    """Who a request comes from, as the request context describes them."""

    arn: str
    """What AWS names in a refusal: the user, or `sts::...:assumed-role/<role>/<session>`."""
    principal_arn: str
    """aws:PrincipalArn: the user, or the role (not the session)."""
    account: str
    kind: str  # "User" or "AssumedRole"
    name: str  # the user's or the role's name
    userid: str
    session_policy: str | None = None


class Unevaluable(Exception):
    """A Condition needs a request-context key this runtime cannot know: it refuses the call
    rather than guess (AWS would know the value; a guess could pass what AWS refuses)."""


KNOWN_ABSENT = frozenset(
    k.lower()
    for k in (
        "aws:SourceArn",
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:CalledVia",
        "aws:CalledViaFirst",
        "aws:CalledViaLast",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:VpcSourceIp",
        "aws:SourceVpcArn",
        "aws:SourceIdentity",
        "aws:FederatedProvider",
        "aws:MultiFactorAuthAge",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalServiceName",
        "aws:PrincipalServiceNamesList",
        "aws:ResourceOrgID",
        "aws:ResourceOrgPaths",
        "aws:Ec2InstanceSourceVpc",
        "aws:Ec2InstanceSourcePrivateIPv4",
    )
)
"""Keys AWS leaves out of a request a user or a role session makes directly (no service on
its behalf, no VPC endpoint, no organization): a condition on them is decided as AWS decides a
missing key, not refused as unknown."""


@dataclass
class Context:
    """The request context: keys (lower-case) to values; absent keys are known to be absent."""

    values: dict[str, list[str]]
    absent: frozenset[str] = KNOWN_ABSENT
    request_tags_known: bool = False
    """The request's tags were read (requests.request_tags): an aws:RequestTag/<key> it does
    not pass is absent, not unknown."""

    def get(self, key: str) -> list[str] | None:
        lowered = key.lower()
        if lowered in self.values:
            return self.values[lowered]
        if lowered in self.absent or lowered.startswith("aws:principaltag/"):
            return None
        if self.request_tags_known and lowered.startswith("aws:requesttag/"):
            return None
        raise Unevaluable(f"condition key {key}")


class LazyContext(Context):
    """Built on first use: most statements have no Condition, and most calls need none."""

    def __init__(self, build: Callable[[], Context]) -> None:
        self._build: Callable[[], Context] | None = build

    def get(self, key: str) -> list[str] | None:
        if self._build is not None:
            built, self._build = self._build(), None
            self.values, self.absent = built.values, built.absent
            self.request_tags_known = built.request_tags_known
        return super().get(key)


def request_context(
    caller: Caller,
    region: str,
    now: datetime,
    tags: dict[str, str],
    request_tags: dict[str, str] | None = None,
    service_keys: Mapping[str, list[str]] | None = None,
) -> Context:
    """The keys AWS sets for a call the caller makes directly, `tags` being its principal's,
    `request_tags` those the request passes (None: the runtime does not read this operation's)
    and `service_keys` the service's own it sets for this request (a PutEvents entry's
    events:source and events:detail-type: requests.put_events_entries).
    aws:TagKeys lists the keys as written; aws:RequestTag/<key> is matched whatever the case of
    the key in the policy (IAM: condition key names are not case-sensitive)."""
    values = {
        "aws:principalarn": caller.principal_arn,
        "aws:principalaccount": caller.account,
        "aws:principaltype": caller.kind,
        "aws:userid": caller.userid,
        "aws:requestedregion": region,
        "aws:currenttime": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:epochtime": str(int(now.timestamp())),
        "aws:securetransport": "true",
        "aws:resourceaccount": caller.account,
        "aws:viaawsservice": "false",
        "aws:principalisawsservice": "false",
    }
    absent = set(KNOWN_ABSENT)
    if caller.kind == "User":
        values["aws:username"] = caller.name
        absent |= {"aws:tokenissuetime", "aws:multifactorauthpresent"}
    else:
        values["aws:multifactorauthpresent"] = "false"
        absent.add("aws:username")
    out = {k: [v] for k, v in values.items()}
    for key, value in tags.items():
        out[f"aws:principaltag/{key.lower()}"] = [value]
    if request_tags:
        out["aws:tagkeys"] = list(request_tags)
        for key, value in request_tags.items():
            out[f"aws:requesttag/{key.lower()}"] = [value]
    elif request_tags is not None:
        absent.add("aws:tagkeys")  # a request that passes no tags has no aws:TagKeys
    for key, found in (service_keys or {}).items():
        out[key.lower()] = list(found)
    return Context(out, frozenset(absent), request_tags_known=request_tags is not None)
