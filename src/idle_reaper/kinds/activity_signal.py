"""The activity signal idle-reaper's lifecycle configurations publish on a SageMaker notebook
instance or Studio app, and how Inspect reads it.

No AWS API reports kernel activity from outside, so a script on the instance asks the Jupyter
server for its kernels and terminals every PUBLISH_MINUTES and writes two tags in one AddTags
call: when it last saw work (`idle-reaper:last-activity`, the check itself while a kernel is
busy or the 1-minute load average is 0.5 or more) and when it checked (`idle-reaper:heartbeat`).
Tags cost nothing; a custom metric would cost about $0.30 per instance-month plus its
PutMetricData requests.

Whoever may write these two tags decides the resource's fate: a last activity kept at "now"
keeps it running (as `idle-reaper:exempt` does), a fresh heartbeat with an old last activity
gets it stopped. The lifecycle scripts' headers say how to grant AddTags on the resource's own
ARN only, and why a Studio domain's shared execution role cannot be scoped that way.

The signal is trusted only while it is fresh: a missing heartbeat is "no signal yet" for the
first minutes after a start, then "no signal" (the watch ends exempt, unless a running cap is
set); a late heartbeat is never read as idleness.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from idle_reaper.resource import Observation
from idle_reaper.times import from_iso_second

LAST_ACTIVITY_TAG = "idle-reaper:last-activity"
HEARTBEAT_TAG = "idle-reaper:heartbeat"
PUBLISH_MINUTES = 1
"""How often the lifecycle script publishes (on the minute: it sleeps to the next whole one)."""
HEARTBEAT_LAG = timedelta(minutes=PUBLISH_MINUTES + 1)
"""The SageMaker kinds' `signal_lag`: the look that stops comes this long after the deadline,
when a heartbeat at or after the deadline is due, and the stop needs one (else the activity is
unreadable for now). The heartbeat is the check's own time: the minute's tick plus the two
local Jupyter requests (10 s timeout each in the script, so at most 20 s), and the tag is
readable once its AddTags returns; the extra minute covers both, and a later one only delays
the stop by RECHECK_MINUTES, never stops on a guess. So what the reaper cannot see is work
begun after the deadline the warning announced."""
FIRST_SIGNAL_GRACE = timedelta(minutes=10)
"""After a start, how long the script has to publish its first heartbeat (the server starts,
then the script) before the resource counts as having no signal."""
LATE_AFTER = timedelta(minutes=5)
"""A heartbeat older than this is late: the activity cannot be read now; look again."""
LOST_AFTER = timedelta(minutes=60)
"""A heartbeat older than this means the script stopped: the resource has no signal."""
CLOCK_SKEW = timedelta(minutes=2)
"""How far in the future a published time may be (the instance's clock) before it is refused."""
RECHECK_MINUTES = 2
"""While the signal is late or not yet there: look again this soon."""

ATTACH = "attach idle-reaper's lifecycle configuration (README: SageMaker activity signal)"


@dataclass(frozen=True)
class Signal:
    """What the tags say: the last activity, or why it cannot be read (now, or ever)."""

    last_activity_at: datetime | None = None
    unreadable: str | None = None
    """The signal is late or not there yet: never idle, look again RECHECK_MINUTES later."""
    unwatchable: str | None = None
    """There is no signal: the resource cannot be judged idle."""
    reported_until: datetime | None = None
    """The heartbeat the reading comes from: activity begun after it is not in it yet."""

    def applied_to(self, seen: Observation, lag: timedelta) -> Observation:
        """The observation once this reading is in (a readable one: no unwatchable signal):
        unreadable for now, or idle since its last activity as far as its heartbeat reports."""
        if self.unreadable is not None:
            return replace(seen, unreadable=self.unreadable, recheck_minutes=RECHECK_MINUTES)
        return replace(
            seen,
            last_activity_at=self.last_activity_at,
            reported_until=self.reported_until,
            signal_lag=lag,
            recheck_minutes=RECHECK_MINUTES,
        )


def read_signal(tags: Mapping[str, str], started_at: datetime, now: datetime) -> Signal:
    """Read the two tags of a resource that started at `started_at`. Tag values are written
    by anyone allowed to tag the resource: a value that is not a plain UTC time, lies in the
    future or predates the start counts as no value."""
    heartbeat = _moment(tags.get(HEARTBEAT_TAG), now)
    if heartbeat is None or heartbeat < started_at:  # none, or left over from an earlier run
        if now - started_at < FIRST_SIGNAL_GRACE:
            return Signal(unreadable="no activity signal yet: waiting for its first heartbeat")
        return Signal(unwatchable=f"no activity signal: {ATTACH}")
    age = now - heartbeat
    if age > LOST_AFTER:
        return Signal(
            unwatchable=f"the activity signal stopped at {_iso(heartbeat)}: {ATTACH} again"
        )
    if age > LATE_AFTER:
        return Signal(unreadable=f"the activity signal is late (last heartbeat {_iso(heartbeat)})")
    last = _moment(tags.get(LAST_ACTIVITY_TAG), now)
    if last is None or last > heartbeat + CLOCK_SKEW:
        return Signal(
            unreadable=f"the {LAST_ACTIVITY_TAG} tag is not a UTC time before its heartbeat"
        )
    return Signal(last_activity_at=max(last, started_at), reported_until=heartbeat)


def _moment(value: str | None, now: datetime) -> datetime | None:
    """A `YYYY-MM-DDThh:mm:ssZ` time no later than now plus the clock skew, else None."""
    moment = from_iso_second(value)
    return moment if moment is not None and moment <= now + CLOCK_SKEW else None


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
