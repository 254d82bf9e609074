"""AWS Glue interactive sessions.

No Glue API reports "last activity", so it is derived: busy while any statement is
WAITING, RUNNING or CANCELLING (or in a state we do not know); otherwise idle since the
latest StartedOn or CompletedOn of any statement, or since the session's CreatedOn when it
has run nothing (a statement without CompletedOn is never taken as long finished). A finished
statement with neither time readable (both are optional Longs in Glue's Statement type, and
its API reference does not say which states carry them) did work of unknown age: the activity
is then unreadable, never idle since the creation. Only a READY session bills and may be
stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeGuard

from botocore.exceptions import BotoCoreError, ClientError

from idle_reaper.exceptions import ResourceReadError
from idle_reaper.kinds.base import MAX_LIST_PAGES, Look, ResourceKind, Sighting, api_call_place
from idle_reaper.kinds.registry import register
from idle_reaper.partition import console_host, is_region
from idle_reaper.resource import (
    Home,
    Observation,
    Phase,
    ResourceRef,
    is_account,
    is_resource_id,
    json_object,
    principal_or_none,
)
from idle_reaper.times import from_epoch

PRICE_PER_DPU_HOUR = 0.44
DEFAULT_WORKERS = 5
DPU_PER_WORKER = {"G.025X": 0.25, "G.1X": 1.0, "G.2X": 2.0, "G.4X": 4.0, "G.8X": 8.0, "Z.2X": 2.0}
DEFAULT_IDLE_TIMEOUT_MINUTES = 2880

PHASES: dict[str, Phase] = {
    "PROVISIONING": "starting",
    "READY": "billing",
    "STOPPING": "ended",
    "STOPPED": "ended",
    "TIMEOUT": "ended",
    "FAILED": "ended",
}
LIST_PAGE = 1000
"""Sessions asked for a page of ListSessions: its largest MaxResults (1 to 1000), so an account
whose stopped sessions Glue still lists is swept in as few calls as it can be."""
RUNNING_STATES = frozenset({"PROVISIONING", "READY"})
"""What the sweeper lists: a session that bills now (READY) or is about to (PROVISIONING)."""
DONE_STATES = frozenset({"AVAILABLE", "CANCELLED", "ERROR"})
"""A statement in any other state (WAITING, RUNNING, CANCELLING, one Glue adds later) is work
in progress: the session is never stopped under it."""
MAX_STATEMENT_PAGES = 100
"""ListStatements pages read per look at most (it takes no MaxResults, and boto3 has no
paginator for it): an answer that keeps paginating is a read error (Inspect's retries, then a
counted failure), never a stop. A hundred, not MAX_LIST_PAGES: Inspect runs 30 s, so a
thousand pages would meet the Lambda's timeout before the bound."""


@register
class GlueSession(ResourceKind):
    name = "glue-session"
    service = "glue"
    idle_minutes_env = "GLUE_IDLE_MINUTES"
    default_idle_minutes = 30
    read_permissions = ("glue:GetSession", "glue:ListStatements", "glue:GetTags")
    stop_permissions = ("glue:StopSession",)
    list_permissions = ("glue:ListSessions",)
    stop_resource_arn = "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:session/*"
    keep_permissions = ("glue:TagResource",)
    stopping_statuses = frozenset({"STOPPING", "STOPPED"})
    stop_unanswered_errors = frozenset(
        {"Glue.InternalServiceException", "Glue.OperationTimeoutException"}
    )

    def identify(self, event: Mapping[str, Any]) -> ResourceRef | None:
        """CloudTrail's CreateSession, successful calls only. Every field is checked for its
        type and shape: a hostile or broken event names no resource, it never raises."""
        detail = json_object(event.get("detail"))
        if (
            detail.get("eventSource") != "glue.amazonaws.com"
            or detail.get("eventName") != "CreateSession"
            or detail.get("errorCode")
        ):
            return None
        session = json_object(json_object(detail.get("responseElements")).get("session"))
        request = json_object(detail.get("requestParameters"))
        session_id = session.get("id") if is_resource_id(session.get("id")) else request.get("id")
        region, account = api_call_place(event, detail)
        if not (is_resource_id(session_id) and is_region(region) and is_account(account)):
            return None
        return ResourceRef(
            kind=self.name,
            id=str(session_id),
            region=str(region),
            account=str(account),
            principal=principal_or_none(json_object(detail.get("userIdentity")).get("arn")),
        )

    def observe(self, ref: ResourceRef, look: Look) -> Observation:
        client = look.client(self.service)
        try:
            session = client.get_session(Id=ref.id)["Session"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "EntityNotFoundException":
                return Observation(phase="missing", status="NOT_FOUND")
            raise ResourceReadError(f"GetSession {ref.id}: {exc}") from exc
        except BotoCoreError as exc:
            raise ResourceReadError(f"GetSession {ref.id}: {exc}") from exc

        status = str(session.get("Status", "UNKNOWN"))
        created = from_epoch(session["CreatedOn"])
        arn = session_arn(ref)
        phase = PHASES.get(status, "starting")
        busy, last, undated = False, None, None
        if phase == "billing":
            busy, last, undated = self._activity(client, ref)
        return Observation(
            phase=phase,
            status=status,
            started_at=created,
            last_activity_at=max(last, created) if last else created,
            busy=busy,
            tags=self._tags(client, arn),
            cost_per_hour=cost_per_hour(session),
            arn=arn,
            workers=_workers(session.get("NumberOfWorkers")),
            own_idle_timeout_minutes=int(
                session.get("IdleTimeout") or DEFAULT_IDLE_TIMEOUT_MINUTES
            ),
            unreadable=undated,
        )

    def running(self, client: Callable[[str], Any], home: Home) -> Iterator[Sighting]:
        """READY and PROVISIONING sessions from ListSessions, every page (boto3 has no
        paginator for it). started_at is CreatedOn, read as observe() reads it."""
        glue = client(self.service)
        token: str | None = None
        for _ in range(MAX_LIST_PAGES):
            kwargs: dict[str, Any] = {"MaxResults": LIST_PAGE}
            if token:
                kwargs["NextToken"] = token
            try:
                page = json_object(glue.list_sessions(**kwargs))
            except (ClientError, BotoCoreError) as exc:
                raise ResourceReadError(f"ListSessions: {exc}") from exc
            sessions = page.get("Sessions")
            for session in sessions if isinstance(sessions, list) else []:
                sighting = self._sighting(json_object(session), home)
                if sighting is not None:
                    yield sighting
            next_token = page.get("NextToken")
            if not isinstance(next_token, str) or not next_token:
                return
            token = next_token
        raise ResourceReadError(f"ListSessions: more than {MAX_LIST_PAGES} pages")

    def _sighting(self, session: Mapping[str, Any], home: Home) -> Sighting | None:
        """A listed session that runs, or None for any other (or a malformed item)."""
        session_id, created = session.get("Id"), session.get("CreatedOn")
        status = session.get("Status")
        if (
            not isinstance(status, str)
            or status not in RUNNING_STATES
            or not is_resource_id(session_id)
            or not _is_created(created)
        ):
            return None
        ref = ResourceRef(
            kind=self.name, id=str(session_id), region=home.region, account=home.account
        )
        return Sighting(ref=ref, started_at=from_epoch(created))

    def console_url(self, ref: ResourceRef) -> str | None:
        host = console_host(ref.region)
        if host is None:
            return None
        return f"https://{host}/gluestudio/home?region={ref.region}#/interactive-sessions"

    def write_tags(
        self, ref: ResourceRef, seen: Observation, tags: Mapping[str, str], client: Any
    ) -> None:
        """TagResource on the session's ARN (a map of keys to values, as Glue takes it)."""
        client.tag_resource(ResourceArn=seen.arn or session_arn(ref), TagsToAdd=dict(tags))

    @staticmethod
    def _activity(client: Any, ref: ResourceRef) -> tuple[bool, datetime | None, str | None]:
        """Busy or not, the latest statement time, and why the activity cannot be read (a
        finished statement with no time to date its work), if so."""
        busy, last, undated = False, None, None
        for item in _statements(client, ref.id):
            statement = json_object(item)
            # WAITING, RUNNING, CANCELLING, or a state we do not know: when in doubt, busy.
            if statement.get("State") not in DONE_STATES:
                busy = True
            times = [
                from_epoch(value)
                for value in (statement.get("StartedOn"), statement.get("CompletedOn"))
                if isinstance(value, int | float) and _is_epoch(value)
            ]
            if times:
                moment = max(times)
                last = moment if last is None or moment > last else last
            elif statement.get("State") in DONE_STATES and undated is None:
                shown = statement.get("Id")
                shown = shown if isinstance(shown, int) and not isinstance(shown, bool) else "?"
                undated = (
                    f"statement {shown} is {statement.get('State')} with no StartedOn or "
                    "CompletedOn: when its work ended is not known"
                )
        return busy, last, undated

    @staticmethod
    def _tags(client: Any, arn: str) -> dict[str, str]:
        try:
            return dict(client.get_tags(ResourceArn=arn).get("Tags") or {})
        except (ClientError, BotoCoreError) as exc:
            raise ResourceReadError(f"GetTags {arn}: {exc}") from exc


def _statements(client: Any, session_id: str) -> Iterator[Any]:
    """Every statement of a session, across at most MAX_STATEMENT_PAGES pages (boto3 has no
    paginator for this call). Items are hostile: the caller reads each as a JSON object."""
    token: str | None = None
    for _ in range(MAX_STATEMENT_PAGES):
        kwargs: dict[str, Any] = {"SessionId": session_id}
        if token:
            kwargs["NextToken"] = token
        try:
            page = json_object(client.list_statements(**kwargs))
        except (ClientError, BotoCoreError) as exc:
            raise ResourceReadError(f"ListStatements {session_id}: {exc}") from exc
        statements = page.get("Statements")
        yield from statements if isinstance(statements, list) else []
        next_token = page.get("NextToken")
        if not isinstance(next_token, str) or not next_token:
            return
        token = next_token
    raise ResourceReadError(f"ListStatements {session_id}: more than {MAX_STATEMENT_PAGES} pages")


def session_arn(ref: ResourceRef) -> str:
    """The session's ARN in its own partition (aws, aws-cn, aws-us-gov)."""
    return f"arn:{ref.partition}:glue:{ref.region}:{ref.account}:session/{ref.id}"


MAX_EPOCH_MS = 10**14
"""Epoch milliseconds up to the year 5138: a larger or stranger value is no time at all."""


def _is_epoch(value: object) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < MAX_EPOCH_MS
    )


def _is_created(value: object) -> TypeGuard[datetime | int | float]:
    """A CreatedOn observe() can read: a datetime (boto3 parses Glue's timestamps) or epoch."""
    return isinstance(value, datetime) or _is_epoch(value)


def cost_per_hour(session: Mapping[str, Any]) -> float:
    """DPUs times the DPU-hour price; NumberOfWorkers x WorkerType, else MaxCapacity."""
    workers = session.get("NumberOfWorkers")
    worker_type = session.get("WorkerType")
    if workers and worker_type in DPU_PER_WORKER:
        dpus = float(workers) * DPU_PER_WORKER[str(worker_type)]
    elif session.get("MaxCapacity"):
        dpus = float(session["MaxCapacity"])
    else:
        dpus = float(DEFAULT_WORKERS)
    return dpus * PRICE_PER_DPU_HOUR


def _workers(value: Any) -> int | None:
    """NumberOfWorkers when GetSession gives a whole number (a MaxCapacity session has none)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None
