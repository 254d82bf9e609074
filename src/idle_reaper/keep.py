"""Keep it running: a verified click on a warning's Keep button, turned into the resource's
`idle-reaper:keep-until` tag, or into a polite answer that changes nothing.

The click is only a request. Its button names a resource, but the value is hostile
(keep_choices.py), so before anything is written the resource is read again from AWS, its
owner is taken from its own `owner` tag or, failing that, from the last warning the watcher put
on the audit trail (the only record of who started a Glue session or a Studio app), and the
policy is applied as Inspect applies it. Then:

- only the owner (the clicker's Slack email, compared case-insensitively) or an admin (a Slack
  user id in KeepAdminSlackUserIds) may keep; not the owner when the `owner` tag names someone
  else than the warning did (a tag rewritten between the warning and the click);
- a resource that stopped or ended, that belongs to another run than the warning's, that was
  never warned, or that lies outside this stack changes nothing;
- a keep past the policy's maximum (MaxIdleMinutes of idleness, a rule's
  tags.max_idle_minutes or max_running_minutes) or one a rule refuses (tags.keep_until:
  false) changes nothing: the answer says how far it may go;
- a click that would not move the current keep-until later by at least DOUBLE_CLICK (a double
  click, a replayed request, a second person pressing the same button) writes nothing and
  publishes nothing.

Otherwise one tagging call writes the keep-until and the kept-by tag together (the keep
function's only write on a resource), and one `kept` event goes on the reaper bus for the audit
trail. Two clicks handled at the same moment (a fast double click reaches two Lambda
invocations) may both pass the tag check and both write the tag (the same keep-until, or a
minute apart: harmless); the event is published only by the one that claims the keep first
(keep_claims.py), so the audit trail records it once. The watcher sees the tag at its next
look: the keep-until is the one mechanism, so a click, the CLI and the console all mean the same
thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from idle_reaper.audit import AuditRecord, pk_of
from idle_reaper.exceptions import KeepError, ResourceReadError
from idle_reaper.inspection import describe
from idle_reaper.keep_choices import ButtonValue, Choice, choice_of
from idle_reaper.keep_claims import DOUBLE_CLICK
from idle_reaper.kept_by import KEPT_BY_TAG, kept_by, kept_by_value
from idle_reaper.kinds import kind_named
from idle_reaper.kinds.base import Look, ResourceKind
from idle_reaper.policy import KEEP_UNTIL_TAG, Policy
from idle_reaper.resource import Home, Observation, ResourceRef
from idle_reaper.slack_interaction import Click
from idle_reaper.times import to_iso

KEPT = "kept"
EVENT_SOURCE = "idle-reaper"

Outcome = Literal["kept", "already", "refused", "ignored", "failed"]


@dataclass(frozen=True)
class Answer:
    """What a click came to, and what the clicker is told (plain text: escaped when shown)."""

    outcome: Outcome
    text: str
    resource_id: str | None = None
    until: datetime | None = None
    who: str | None = None
    """Who kept it (the clicker, or whoever kept it before a double click)."""
    error: str | None = None
    """For `failed`: what went wrong, for the logs (never shown to the clicker)."""


@dataclass(frozen=True)
class Clicker:
    user_id: str
    email: str | None
    admin: bool

    @property
    def who(self) -> str:
        """How the keep is signed: the Slack profile's email, else the Slack user id."""
        return self.email or f"slack:{self.user_id}"


@dataclass(frozen=True)
class Keeper:
    """Everything a keep reads and writes, injected (moto or fakes in tests)."""

    client_for: Callable[[str, str], Any]
    """(boto3 service, region) -> client."""
    policy: Policy
    home: Home
    admins: frozenset[str]
    email_of: Callable[[str, str | None], str | None] | None
    """(Slack user id, the click's user.team_id) -> confirmed email of a member of the app's own
    organization (slack_users.py: auth.test, users.info); None when no bot token is configured.
    Raises KeepError when Slack cannot say."""
    last_warning: Callable[[ResourceKind, ResourceRef], AuditRecord | None]
    """The newest warning the audit trail holds for a resource."""
    publish: Callable[[dict[str, Any]], None]
    """Put one event (an EventBridge PutEvents entry) on the reaper bus; raises on failure."""
    claim: Callable[[str, datetime], bool]
    """(the resource's audit key, the keep-until) -> whether this click is the first to keep
    it that far (keep_claims.py); False: another click just did."""
    now: datetime


def keep(click: Click, keeper: Keeper) -> Answer:
    """Decide and carry out one click; never raises on what the click says (only `failed`,
    with the error, when AWS or Slack could not be asked or written to)."""
    choice = choice_of(click.action_id)
    if choice is None:
        return Answer("ignored", "")
    value = ButtonValue.parse(click.value)
    if value is None:
        return Answer("refused", "This button names no resource idle-reaper watches.")
    try:
        return _keep(click, choice, value, keeper)
    except (KeepError, ResourceReadError) as exc:
        return Answer(
            "failed",
            f"idle-reaper could not keep {value.ref.id} just now: nothing was changed. Try "
            "again in a minute, or tag it by hand.",
            resource_id=value.ref.id,
            error=str(exc),
        )


def _keep(click: Click, choice: Choice, value: ButtonValue, keeper: Keeper) -> Answer:
    ref = value.ref
    name = ref.id
    kind = kind_named(ref.kind)
    if ref.kind in keeper.policy.disabled_kinds:
        return _refused(name, f"watching {ref.kind} is switched off in this stack")
    if not keeper.home.owns(ref):
        return _refused(name, "it is in another account or region than this idle-reaper")
    client = keeper.client_for(kind.service, ref.region)
    look = Look(lambda service: keeper.client_for(service, ref.region), keeper.policy, keeper.now)
    seen = kind.observe(ref, look)
    if seen.phase in ("missing", "ended"):
        return Answer(
            "refused",
            f"Too late: {name} was already stopped or has ended ({seen.status}). Nothing was "
            "changed.",
            resource_id=name,
        )
    if _other_run(value.started_at, seen.started_at):
        return _refused(name, "that warning was for an earlier run of it")
    warned = keeper.last_warning(kind, ref)
    if warned is None:
        return _refused(name, "idle-reaper has no warning on record for it")
    tagged, warned_owner = kind.owner(replace(ref, principal=None), seen), _known(warned.owner)
    owner = tagged or warned_owner
    clicker = _clicker(click, keeper)
    if not clicker.admin and not _same_person(clicker.email, owner):
        return Answer(
            "refused",
            f"Only the owner of {name} ({owner or 'unknown'}) or an idle-reaper admin can keep "
            "it. Nothing was changed.",
            resource_id=name,
        )
    if not clicker.admin and _owner_changed(tagged, warned_owner):
        return _refused(
            name,
            f"its owner tag changed since the warning (the warning named {warned_owner}): an "
            "idle-reaper admin can keep it, or its owner from the next warning",
        )
    if seen.unwatchable is not None and seen.running_cap_minutes is None:
        return _refused(name, f"idle-reaper does not stop it ({seen.unwatchable[:200]})")
    own = keeper.policy.for_resource(kind.name, seen.tags, ref.account)
    if own.is_exempt(seen.tags):
        return _refused(name, f"it is exempt ({own.exempt_reason(seen.tags)}): it is not stopped")
    requested = choice.until(click.clicked_at)
    if requested <= keeper.now:
        return _refused(name, "that moment has already passed")
    idle_since = _idle_since(seen, keeper.now)
    allowed, note = own.keep_until({KEEP_UNTIL_TAG: to_iso(requested)}, idle_since, seen.started_at)
    if allowed is None:
        return _refused(name, f"the policy does not allow it ({note})")
    if note is not None:  # capped: past the policy's maximum
        why = note.split(" capped at ", 1)[-1]
        return Answer(
            "refused",
            f"{choice.label} would go past the policy's maximum ({why}): {name} can be kept "
            f"until {_clock(allowed)} at most. Nothing was changed; tag it "
            f"{KEEP_UNTIL_TAG} by hand for less.",
            resource_id=name,
        )
    current, _ = own.keep_until(seen.tags, idle_since, seen.started_at)
    if current is not None and current >= requested - DOUBLE_CLICK:
        return Answer(
            "already",
            f"{name} is already kept until {_clock(current)}"
            + (f" by {who}." if (who := kept_by(seen.tags)) else "."),
            resource_id=name,
            until=current,
            who=who,
        )
    until = to_iso(requested)
    tags = {KEEP_UNTIL_TAG: until, KEPT_BY_TAG: kept_by_value(clicker.who, until)}
    try:
        kind.write_tags(ref, seen, tags, client)
    except (ClientError, BotoCoreError) as exc:
        raise KeepError(f"tagging {name}: {exc}") from exc
    if not keeper.claim(pk_of(kind.name, ref.account, ref.region, ref.id), requested):
        return Answer(
            "already",
            f"{name} was kept a moment ago by another click.",
            resource_id=name,
            until=requested,
        )
    keeper.publish(
        _kept_event(kind, ref, seen, owner, clicker, click, choice, requested, keeper.now)
    )
    return Answer(
        "kept",
        f"Kept until {_clock(requested)} by {clicker.who}.",
        resource_id=name,
        until=requested,
        who=clicker.who,
    )


def _refused(name: str, why: str) -> Answer:
    return Answer("refused", f"{name} cannot be kept: {why}. Nothing was changed.", name)


def _clicker(click: Click, keeper: Keeper) -> Clicker:
    """An admin is one by Slack user id alone (Slack signs the id): their email only signs the
    keep, so Slack failing to give it changes nothing but the signature. Anyone else is who
    their confirmed email says, if they belong to the app's organization."""
    user_id, lookup = click.user_id, keeper.email_of
    team = click.user_team_id or click.team_id
    if user_id in keeper.admins:
        try:
            email = lookup(user_id, team) if lookup else None
        except KeepError:
            email = None
        return Clicker(user_id, email, admin=True)
    return Clicker(user_id, lookup(user_id, team) if lookup else None, admin=False)


def _same_person(email: str | None, owner: str | None) -> bool:
    """The clicker's Slack email is the owner's (an address, compared as people write them:
    case aside); an owner that is no address (an IAM user, a role) matches nobody."""
    if not email or not owner or "@" not in owner:
        return False
    return _address(email) == _address(owner)


def _address(text: str) -> str:
    """An address as compared: ASCII letters in lower case, anything else as written (Unicode
    case folding would make distinct addresses equal: `ß` and `ss`)."""
    return "".join(c.lower() if c.isascii() else c for c in text.strip())


def _owner_changed(tagged: str | None, warned: str | None) -> bool:
    """The owner tag now names someone else than the owner the warning recorded: whoever may
    write the tag could otherwise make themselves the owner between the warning and the
    click. Only a tag that differs counts (no tag now: the warning's owner stands)."""
    if tagged is None or warned is None:
        return False
    return _address(tagged) != _address(warned)


def _other_run(warned: datetime | None, seen: datetime | None) -> bool:
    """The warning was for a run that began at another time than the resource's current one
    (a notebook stopped and started again since): a second apart is another run."""
    return warned is not None and seen is not None and abs(seen - warned) >= timedelta(seconds=1)


def _known(owner: str | None) -> str | None:
    return owner if owner and owner != "unknown" else None


def _idle_since(seen: Observation, now: datetime) -> datetime:
    """Where the idle period the keep is measured against began (as the verdict counts it);
    now while work runs, so a busy resource may be kept up to the maximum from now."""
    if seen.busy:
        return now
    return seen.last_activity_at or seen.started_at or now


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M UTC on %Y-%m-%d")


def _kept_event(
    kind: ResourceKind,
    ref: ResourceRef,
    seen: Observation,
    owner: str | None,
    clicker: Clicker,
    click: Click,
    choice: Choice,
    until: datetime,
    now: datetime,
) -> dict[str, Any]:
    """The `kept` event (a PutEvents entry, the bus name added by the caller)."""
    resource = {**describe(kind, ref, seen), "owner": owner}
    origin = "/".join(x for x in (click.team_id, click.channel_id) if x) or "unknown"
    detail = {
        "at": to_iso(now),
        "resource": resource,
        "keep": {
            "until": to_iso(until),
            "previous": seen.tags.get(KEEP_UNTIL_TAG, "")[:64] or None,
            "by": clicker.who,
            "slack_user": clicker.user_id,
            "admin": clicker.admin,
            "choice": choice.name,
            "from": f"slack:{origin}",
        },
    }
    return {"Source": EVENT_SOURCE, "DetailType": KEPT, "Detail": json.dumps(detail)}


__all__ = ["Answer", "Keeper", "keep"]
