"""Every error idle-reaper raises, in one place.

Step Functions matches a Lambda error by its class name, so these names are part of the
watcher's contract (statemachine/watcher.asl.json retries ResourceReadError).
"""

from __future__ import annotations


class ReaperError(Exception):
    """Base class for idle-reaper's own errors."""


class ResourceReadError(ReaperError):
    """Reading a resource's state from AWS failed (throttled, denied, or unavailable)."""


class PolicyError(ReaperError):
    """The deployed policy settings are invalid (a bad parameter value)."""


class UnknownRegionError(ReaperError, ValueError):
    """A region name no AWS partition knows (from a hostile or broken event)."""


class UnknownKindError(ReaperError):
    """A resource reference names a kind idle-reaper does not know."""


class DeliveryError(ReaperError):
    """A notification could not be delivered yet (throttled, server error, timeout): retry it."""


class SlackSecretError(ReaperError):
    """The Slack webhook secret holds no URL: the deployment is misconfigured (its value is
    never repeated in the error)."""


class NotificationsFailedError(ReaperError):
    """At least one channel failed transiently; raised after every channel was tried, so the
    invocation is retried (and finally dead-lettered) without holding the others back."""


class MalformedEventError(ReaperError):
    """A reaper event that cannot be read at all: fail, so it ends in the dead-letter queue."""


class AuditRecordError(MalformedEventError):
    """An event cannot be put on the record (not a reaper event, no usable time): it is
    dead-lettered for a person to look at rather than recorded wrong."""


class ReportError(ReaperError):
    """The report cannot be made from what it was given (bad option, missing table)."""


class KeepError(ReaperError):
    """A keep from Slack could not be carried out (the tag write or the kept event failed):
    the clicker is told, and the keep function fails so its error alarm fires."""


class InteractionError(ReaperError):
    """A request to the Slack interactivity endpoint, correctly signed, that is no interaction
    idle-reaper can read (no payload, not JSON, not a block action): answered 400."""


class ClaimReadError(ReaperError):
    """A read of many claims at once failed on its keys or its answer: the sweeper reads them
    again one by one, so only a claim that cannot be read is left unjudged (never taken as
    free)."""


class SweepError(ReaperError):
    """At least one kind could not be listed (or one resource looked at, or one watcher
    started); raised after every other kind was swept, so the sweeper's error alarm fires. It
    carries the sweep's report, so the handler still logs what every kind did."""

    def __init__(self, message: str, report: object = None) -> None:
        super().__init__(message)
        self.report = report
