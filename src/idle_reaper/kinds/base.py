"""The one small interface every resource kind implements.

A kind says how to recognise its start event, how to read a resource's state and last
activity, which IAM actions that takes, and which SDK call (run by the state machine,
never by a Lambda) stops it. Adding a kind is one module here plus a rule and a Choice
branch in the template and the ASL.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from idle_reaper.resource import Home, Observation, ResourceRef

if TYPE_CHECKING:
    from idle_reaper.policy import Policy


@dataclass(frozen=True)
class Look:
    """What one inspection gives a kind to read a resource with."""

    client: Callable[[str], Any]
    """boto3 service name -> a client in the resource's own region (moto or fakes in tests)."""
    policy: Policy
    now: datetime

    def settings(self, kind: ResourceKind) -> Any:
        """The kind's own deployed settings (`ResourceKind.settings_from`)."""
        return self.policy.kind_settings.get(kind.name)


@dataclass(frozen=True)
class Sighting:
    """One resource a kind's listing found billing (or about to): what the sweeper claims,
    looks at and starts a watcher for."""

    ref: ResourceRef
    started_at: datetime | None
    """Computed exactly as the kind's observe() computes `Observation.started_at`: the
    sweeper looks the claim up by it, so any difference would start a useless watcher."""


MAX_LIST_PAGES = 1000
"""Pages one listing reads at most: a listing that never stops paginating is a read error,
not a Lambda timeout (1000 pages of 100 is far more resources than one account runs)."""


class ResourceKind(ABC):
    name: ClassVar[str]
    """The kind's name in verdicts, events and scenarios (`glue-session`)."""
    service: ClassVar[str]
    """The boto3 service name its reads go to."""
    idle_minutes_env: ClassVar[str]
    """The environment variable (from a template parameter) with its idle allowance."""
    default_idle_minutes: ClassVar[int]
    enabled_env: ClassVar[str | None] = None
    """The environment variable (from EnableSageMaker, EnableEc2) whose "false" switches the
    kind off: Inspect then judges none of its resources (the stack has no permission to).
    None: always on."""
    read_permissions: ClassVar[tuple[str, ...]]
    """IAM actions the read-only inspect role needs for this kind: exactly these."""
    stop_permissions: ClassVar[tuple[str, ...]]
    """IAM actions only the state machine's role holds, for the stop task."""
    list_permissions: ClassVar[tuple[str, ...]]
    """IAM actions the sweeper's role needs for `running()`: exactly these."""
    stop_resource_arn: ClassVar[str]
    """The ARN pattern (CloudFormation Sub syntax) the stop permission is scoped to."""
    keep_permissions: ClassVar[tuple[str, ...]]
    """The one IAM action the keep function's role holds for this kind: tagging, and only with
    the keep tags (template.yaml KeepFunction, conditioned on aws:TagKeys)."""
    signal_lag: ClassVar[timedelta] = timedelta(0)
    """How late its activity signal reports (Observation.signal_lag): the stop lands this long
    after the deadline."""
    stopping_statuses: ClassVar[frozenset[str]] = frozenset()
    """Statuses a resource is in once a stop has landed (Glue: STOPPING, STOPPED)."""
    stop_unanswered_errors: ClassVar[frozenset[str]] = frozenset()
    """The stop's errors after which it may have landed although no answer came (server
    errors; a timeout always may): the look that follows, finding the resource stopping,
    counts the stop as the watcher's own. A refusal is never one: the resource was already
    stopping, by someone else's hand."""

    def settings_from(self, env: Mapping[str, str]) -> Any:
        """The kind's own settings from the inspect function's environment (EC2's CPU
        threshold, SageMaker's running cap), checked once with the policy: raise PolicyError
        on a bad value. None: the kind has none."""
        return None

    @abstractmethod
    def identify(self, event: Mapping[str, Any]) -> ResourceRef | None:
        """The resource a start event names, or None when the event is not this kind's."""

    @abstractmethod
    def observe(self, ref: ResourceRef, look: Look) -> Observation:
        """Read the resource's current state; raise ResourceReadError when AWS cannot say."""

    @abstractmethod
    def running(self, client: Callable[[str], Any], home: Home) -> Iterator[Sighting]:
        """Every resource of this kind in the stack's home account and region that bills now
        or is about to (across all pages). Items of the listing are hostile: a malformed one
        is skipped, never raised on; a failed call raises ResourceReadError."""

    @abstractmethod
    def write_tags(
        self, ref: ResourceRef, seen: Observation, tags: Mapping[str, str], client: Any
    ) -> None:
        """Add `tags` to the resource with `client` (the kind's service, in the resource's
        region) through `keep_permissions`, the keep function's only write; raise
        botocore's ClientError or BotoCoreError as the service does."""

    def owner(self, ref: ResourceRef, seen: Observation) -> str | None:
        """Who to tell: the `owner` tag, else whoever started it."""
        return seen.tags.get("owner") or principal_name(ref.principal)

    def stop_target(self, ref: ResourceRef) -> dict[str, str] | None:
        """The stop call's parameters, when the id alone is not enough (a Studio app needs its
        domain, space and type): Inspect passes them as `resource.target` for the ASL's stop
        task to read. None: the task reads `resource.id`."""
        return None

    def console_url(self, ref: ResourceRef) -> str | None:
        """Where a person can look at the resource."""
        return None


def api_call_place(event: Mapping[str, Any], detail: Mapping[str, Any]) -> tuple[Any, Any]:
    """Where a CloudTrail API call (as EventBridge delivers it) happened: the record's
    awsRegion and the envelope's account, each from the other side when absent. Unchecked:
    the caller validates both."""
    region = detail.get("awsRegion") if "awsRegion" in detail else event.get("region")
    account = event.get("account") if "account" in event else detail.get("recipientAccountId")
    return region, account


def principal_name(arn: str | None) -> str | None:
    """The person behind a principal ARN: an assumed role's session name (often an email
    address, as SSO sets it) or an IAM user's name; the ARN itself otherwise."""
    if not arn:
        return None
    resource = arn.split(":", 5)[-1]
    if resource.startswith("assumed-role/") and resource.count("/") >= 2:
        return resource.split("/", 2)[2]
    if resource.startswith("user/"):
        return resource.rsplit("/", 1)[-1]
    return arn
