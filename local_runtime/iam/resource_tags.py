"""The tags of the resource a request acts on, as IAM reads them for `aws:ResourceTag/<key>` and
a service's own `<service>:ResourceTag/<key>` condition keys, from the emulated services.

IAM documents the keys (IAM User Guide, "AWS global condition context keys", aws:ResourceTag):
the key is in the request context when the resource the request acts on carries the tag; "Key
names are not case-sensitive. This means that if you specify "aws:ResourceTag/TagKey1": "Value1"
in the condition element of your policy, then the condition matches a resource tag key named
either TagKey1 or tagkey1, but not both"; values are compared as the operator says (StringEquals:
case-sensitive). Which of two tags differing only in case IAM reads is not documented ("the key
name matches both tags, but only one value matches. This can result in unexpected condition
failures"): the runtime refuses such a request rather than guess. EC2 also defines
`ec2:ResourceTag/<key>`, SageMaker `sagemaker:ResourceTag/<key>` (Service Authorization
Reference: both on the instance, notebook-instance, app, space and domain resource types).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from local_runtime.iam.context import Context, Unevaluable

TagReader = Callable[[str, str, str], dict[str, str] | None]
"""(account, region, the ARN's resource id after `<type>/`) -> the resource's tags, or None
when there is no such resource (then no tag key is in the request context)."""

_READERS: dict[tuple[str, str], TagReader] = {}
_TAGGED_SERVICES = frozenset({"ec2", "sagemaker"})
"""Services whose resource tags this runtime reads; a resource-tag condition on any other
service's request refuses it (Unevaluable) rather than guess."""


def register(service: str, resource_type: str, reader: TagReader) -> None:
    """Let IAM read the tags of `arn:...:<service>:...:<resource_type>/<id>` resources with
    `reader` (an emulator that keeps resources outside moto's backends registers its own)."""
    _READERS[(service, resource_type)] = reader


def resource_tags(arn: str) -> dict[str, str] | None:
    """The tags on the resource the ARN names; None when it does not exist. Raises Unevaluable
    when the runtime cannot read that kind of resource's tags."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        raise Unevaluable(f"resource tags of {arn!r}")
    service, region, account, resource = parts[2], parts[3], parts[4], parts[5]
    kind, _, name = resource.partition("/")
    reader = _READERS.get((service, kind))
    if reader is None:
        raise Unevaluable(f"resource tags of {service} {kind} resources")
    return reader(account, region, name)


class ResourceContext(Context):
    """The request context for one (action, resource) check: the call's keys, plus the tags of
    that resource under `aws:ResourceTag/...` and `<service>:ResourceTag/...`."""

    def __init__(self, base: Context, action: str, resource: str | None) -> None:
        self._base = base
        self._service = action.split(":", 1)[0].lower()
        self._resource = resource

    def get(self, key: str) -> list[str] | None:
        prefix, slash, tag_key = key.partition("/")
        owner, _, name = prefix.lower().partition(":")
        if not slash or name != "resourcetag":
            return self._base.get(key)
        if owner not in ("aws", self._service):
            return None  # another service's key: never in this service's request context
        if self._service not in _TAGGED_SERVICES or self._resource is None:
            raise Unevaluable(f"condition key {key}")
        if self._resource == "*":
            return None  # the action names no resource, so no resource's tags are in context
        tags = resource_tags(self._resource)
        if tags is None:
            return None
        matching = [value for k, value in tags.items() if k.casefold() == tag_key.casefold()]
        if len(matching) > 1:
            raise Unevaluable(
                f"condition key {key}: {self._resource} has tags that differ only in case"
            )
        return matching or None


def _tag_list(tags: Any) -> dict[str, str]:
    """`[{"Key": k, "Value": v}, ...]` (SageMaker's form) as a dict."""
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags or [] if isinstance(t, dict)}


def _ec2_instance(account: str, region: str, instance_id: str) -> dict[str, str] | None:
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account][region]
    if backend.get_instance_by_id(instance_id) is None:
        return None
    return dict(backend.tags.get(instance_id, {}))


def _sagemaker_notebook(account: str, region: str, name: str) -> dict[str, str] | None:
    """The notebook instance whose name is `name` in any case: its ARN is lower case."""
    from moto.sagemaker.models import sagemaker_backends

    backend = sagemaker_backends[account][region]
    found = [nb for key, nb in backend.notebook_instances.items() if key.lower() == name.lower()]
    if len(found) > 1:
        raise Unevaluable(f"resource tags of notebook-instance/{name}: two names differ in case")
    return _tag_list(found[0].tags) if found else None


def _sagemaker_domain(account: str, region: str, domain_id: str) -> dict[str, str] | None:
    from moto.sagemaker.models import sagemaker_backends

    domain = sagemaker_backends[account][region].domains.get(domain_id)
    return None if domain is None else _tag_list(domain.tags)


register("ec2", "instance", _ec2_instance)
register("sagemaker", "notebook-instance", _sagemaker_notebook)
register("sagemaker", "domain", _sagemaker_domain)
