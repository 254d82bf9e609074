"""The readable account of a run, one line per thing that happened, as it happens."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any, TextIO

from idle_reaper.keep_choices import CHOICES
from local_runtime.bus import Published, Started
from local_runtime.clock import VirtualClock
from local_runtime.emulators import Emulator
from local_runtime.slack_app import ClickRecord


class Timeline:
    def __init__(
        self,
        clock: VirtualClock,
        out: TextIO = sys.stdout,
        multi_day: bool = False,
        names: dict[str, str] | None = None,
    ) -> None:
        self.clock = clock
        self.out = out
        self.multi_day = multi_day
        self.names = names or {}
        """The scenario's id of a resource by the id AWS gave it (an EC2 instance id)."""

    def line(self, resource: str, text: str, at: datetime | None = None) -> None:
        moment = at or self.clock.now()
        stamp = moment.strftime("%m-%d %H:%M:%S" if self.multi_day else "%H:%M:%S")
        self.out.write(f"{stamp}  {self.names.get(resource, resource):<20} {text}\n")

    def follow(self, emulator: Emulator) -> None:
        """A line for each change in the emulator's resources, in its own words."""

        def on_change(resource_id: str, what: str, text: str) -> None:
            self.line(resource_id, emulator.narrate(what, text))

        emulator.listeners.append(on_change)

    def on_bus(self, what: str, data: Any) -> None:
        if isinstance(data, Started):
            self.line(data.resource_id or "?", "start event delivered: watcher started")
        elif isinstance(data, Published) and data.detail_type == "kept":
            resource, keep = data.detail.get("resource") or {}, data.detail.get("keep") or {}
            self.line(
                resource.get("id", "?"),
                f"KEPT until {keep.get('until')} by {keep.get('by')} ({keep.get('from')})",
            )
        elif isinstance(data, Published):
            resource = data.detail.get("resource") or {}
            verdict = data.detail.get("verdict") or {}
            reason = verdict.get("reason") or (data.detail.get("error") or {}).get("Cause", "")
            extra = ""
            if data.detail_type == "warning" and verdict.get("deadline"):
                extra = f" (stops at {verdict['deadline']})"
            self.line(resource.get("id", "?"), f"{data.detail_type.upper()}: {reason}{extra}")
        elif what == "unmatched":
            detail = data.get("detail") or {}
            name = detail.get("eventName") or data.get("detail-type")
            error = f" (failed: {detail['errorCode']})" if detail.get("errorCode") else ""
            self.line("-", f"{data.get('source')} {name}{error} matched no rule: nothing to watch")
        elif what == "dead-letter":
            arn, _event, reason = data
            self.line("-", f"event dead-lettered for {arn.split(':')[-1]}: {reason}")

    def on_click(self, click: ClickRecord) -> None:
        """A Keep button pressed in Slack, and what the clicker read."""
        how = " (forged signature)" if click.forged else " (stale signature)" if click.stale else ""
        label = CHOICES[click.choice].label
        if click.status is None:
            self.line(click.resource, f"{label!r} pressed by {click.by}: no such button to press")
            return
        answer = f": {click.answer}" if click.answer else ""
        self.line(
            click.resource, f"{label!r} pressed by {click.by}{how}: HTTP {click.status}{answer}"
        )
