"""What the people in a scenario do in the emulated account: start a resource (and its start
event reaches EventBridge, on time, late, twice or not at all), run work in it, stop it
themselves. What each of those is for a kind is its emulator's (local_runtime.emulators)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from local_runtime.emulators import emulator_for
from local_runtime.errors import ScenarioError
from local_runtime.runtime import Account
from local_runtime.scenario import KeepSpec, ResourceSpec, Scenario
from local_runtime.slack_app import ClickRecord


def schedule(account: Account, scenario: Scenario, spec: ResourceSpec) -> None:
    """Put everything this resource's user does on the clock."""
    clock = account.clock
    emulator = account.emulators[spec.kind]
    created = scenario.start + spec.at
    if created < clock.now():
        raise ScenarioError(
            f"{spec.id}: starts at {created.isoformat()}, before the run's clock"
            f" ({clock.now().isoformat()}): run the scenario from its origin"
            " (runtime.running(..., origin=scenario.origin))"
        )
    clock.at(created, partial(start, account, spec))
    emulator.schedule(scenario.start, spec)
    if spec.stop_by_user is not None:
        clock.at(scenario.start + spec.stop_by_user, partial(emulator.user_stop, spec.id))


def schedule_keep(account: Account, scenario: Scenario, keep: KeepSpec) -> None:
    """Put a press of a Keep button on the clock."""
    if account.slack_app is None or account.http_api is None:
        raise ScenarioError(
            "keep: the scenario's parameters set SlackSigningSecretArn themselves, so the"
            " runtime plays no Slack app to click with; leave it to the runtime"
        )
    spec = next(s for s in scenario.resources if s.id == keep.resource)
    account.clock.at(scenario.start + keep.at, partial(press, account, spec, keep))


def press(account: Account, spec: ResourceSpec, keep: KeepSpec) -> ClickRecord:
    """The person presses the button of the last warning Slack shows for the resource."""
    app, api = account.slack_app, account.http_api
    if app is None or api is None:  # schedule_keep refuses such a scenario before it runs
        raise ScenarioError("keep: no Slack app or HTTP API in this run")
    app.learn(account.slack.requests)
    record = ClickRecord(
        account.clock.now(),
        keep.resource,
        keep.choice,
        keep.by,
        team=keep.team,
        forged=keep.forged,
        stale=keep.stale,
    )
    return app.click(api.url, account.emulators[spec.kind].resource_id(spec), record)


def start(account: Account, spec: ResourceSpec) -> None:
    """Start the resource now, through its kind's API."""
    account.emulators[spec.kind].start(account, spec, partial(_deliver, account, spec))


def _deliver(account: Account, spec: ResourceSpec, event: dict[str, Any]) -> None:
    """The start event the resource caused, as the scenario says it reaches EventBridge (a
    recorded one, for a replay, in its place). One that reaches EventBridge before the stack
    is deployed goes nowhere: no rule existed yet to match it (only a sweep finds the
    resource)."""
    if spec.event == "missed":
        return
    event = spec.start_event or event
    if spec.event == "late" and spec.event_delay is not None:
        # The service recorded it now; EventBridge delivers the record later.
        account.clock.at(account.clock.now() + spec.event_delay, partial(_arrive, account, event))
        return
    for _ in range(2 if spec.event == "duplicate" else 1):
        _arrive(account, event)


def _arrive(account: Account, event: dict[str, Any]) -> None:
    if account.deployed_at is not None:
        account.bus.put(event)


def spec_from_start_event(event: Mapping[str, Any]) -> ResourceSpec | None:
    """The resource a recorded start event created, to create again in the emulated account;
    None when no kind's start event it is."""
    from idle_reaper.kinds import identify

    found = identify(event)
    if found is None:
        return None
    kind, ref = found
    emulator = emulator_for(kind.name)
    if emulator is None:
        raise ScenarioError(f"the local runtime has no emulator for kind {kind.name!r}")
    return emulator.spec_from_start_event(event, ref)
