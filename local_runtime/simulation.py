"""Run a scenario through the real system and report what the reaper did."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TextIO

from idle_reaper.times import to_iso
from local_runtime import actors, faults, stack
from local_runtime.runtime import Account, running
from local_runtime.scenario import Scenario, human
from local_runtime.summary import scenario_names, summarize
from local_runtime.timeline import Timeline


class Progress:
    """Tells a person on stderr how far a long run has come (every 10% of virtual time)."""

    def __init__(self, scenario: Scenario, account: Account, out: TextIO = sys.stderr) -> None:
        self.start, self.span = scenario.start, scenario.until.total_seconds() or 1
        self.account, self.out, self.shown = account, out, 0

    def __call__(self, now: datetime) -> None:
        done = int((now - self.start).total_seconds() / self.span * 10)
        if done > self.shown:
            self.shown = done
            started = len(self.account.bus.started)
            self.out.write(
                f"[simulate] {done * 10:3d}%  {to_iso(now)}  watchers started: {started}\n"
            )
            self.out.flush()


def simulate(
    scenario: Scenario,
    out: TextIO = sys.stdout,
    progress: TextIO | None = sys.stderr,
    stop_when: Callable[[Account], bool] | None = None,
    inspect: Callable[[Account], None] | None = None,
    prepare: Callable[[Account], None] | None = None,
    amend: stack.Amendment | None = None,
) -> dict[str, Any]:
    """Run the scenario; write the timeline to `out`; return the summary. `inspect` sees the
    emulated account before it is torn down (tests check invariants there); `prepare` sees it
    before the clock runs (tests schedule their own changes there: a policy paused, resumed);
    `amend` edits the template before it is deployed (`stack.load`: the benchmark's
    alternative strategies)."""
    with (
        running(
            scenario.start,
            scenario.parameters,
            channels=scenario.channels,
            origin=scenario.origin,
            region=scenario.region or stack.REGION,
            account=scenario.account or stack.ACCOUNT,
            policy=scenario.policy,
            amend=amend,
        ) as account,
        faults.injected(account, scenario) as injector,
    ):
        # faults first: one due at the moment a resource starts is armed before it starts
        account.bus.deliveries = scenario.deliveries
        timeline = Timeline(
            account.clock,
            out,
            multi_day=scenario.until > timedelta(days=1),
            names=scenario_names(account, scenario),
        )
        for emulator in account.emulators.values():
            timeline.follow(emulator)
        account.bus.listeners.append(timeline.on_bus)
        params = " ".join(f"{k}={v}" for k, v in account.stack.parameters.items())
        span = human(scenario.until)
        out.write(f"# {scenario.name}: {to_iso(scenario.start)} for {span} ({params})\n")
        for spec in scenario.resources:
            actors.schedule(account, scenario, spec)
        for keep in scenario.keeps:
            actors.schedule_keep(account, scenario, keep)
        if account.slack_app is not None:
            account.slack_app.listeners.append(timeline.on_click)
        for event in scenario.events:
            account.clock.at(scenario.start, partial(account.bus.put, event))
        if prepare is not None:
            prepare(account)
        tick = Progress(scenario, account, progress) if progress else None
        account.clock.run_until(
            scenario.end,
            on_advance=tick,
            stop_when=(lambda: stop_when(account)) if stop_when else None,
        )
        end = min(account.clock.now(), scenario.end)
        if tick is not None:
            tick(scenario.end)
        if inspect is not None:
            inspect(account)
        summary = summarize(scenario, account, end)
        if scenario.faults:
            summary["summary"]["faults"] = injector.log
        return summary
