"""A virtual clock that every component shares, and the scheduler that drives it.

freezegun holds the time for everything (handlers, moto's timestamps, the interpreter), and
the clock only moves when every execution is parked: sleeping in a Wait state or a Retry
backoff, or finished. Executions tell the clock when they park and wake (hooks, not polling),
so advancing costs nothing per idle execution and a simulated week runs in minutes.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun import freeze_time

from local_runtime.errors import RuntimeFault

SETTLE_TIMEOUT_SECONDS = 120.0
"""Real seconds the account may stay busy before the runtime calls it hung."""


class Baton:
    """One execution runs at a time, in the order they became runnable (FIFO), so a run is
    deterministic and moto's backends never see two executions interleave."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: collections.deque[object] = collections.deque()
        self._held = False

    def acquire(self) -> None:
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
            self._cond.wait_for(lambda: not self._held and self._queue[0] is ticket)
            self._queue.popleft()
            self._held = True

    def release(self) -> None:
        with self._cond:
            self._held = False
            self._cond.notify_all()


class VirtualClock:
    def __init__(self, start: datetime) -> None:
        self.baton = Baton()
        self._freezer: Any = freeze_time(start.astimezone(UTC).replace(tzinfo=None))
        self._factory: Any = None
        self._queue: list[tuple[datetime, int, Callable[[], object]]] = []
        self._recurring: set[int] = set()
        """Queue entries (by order number) that are a schedule's next tick, not pending work."""
        self._order = itertools.count()
        self._busy = 0
        self._cond = threading.Condition()
        self._sleepers: list[threading.Event] = []
        self.closed = False

    def start(self) -> None:
        self._factory = self._freezer.start()

    def stop(self) -> None:
        """Release every sleeper and give time back to the real clock."""
        with self._cond:
            self.closed = True
            sleepers, self._sleepers = self._sleepers, []
        for sleeper in sleepers:
            sleeper.set()
        self._freezer.stop()

    def now(self) -> datetime:
        return datetime.now(UTC)

    # -- scheduling -------------------------------------------------------------------------
    def at(self, when: datetime, action: Callable[[], object], *, recurring: bool = False) -> None:
        """Run action (on the driver's thread) when the clock reaches `when`. A `recurring`
        action is a periodic schedule's next tick: it runs like any other, but it is not work
        a run waits for (`next_due` skips it), or a replay would never end."""
        with self._cond:
            order = next(self._order)
            if recurring:
                self._recurring.add(order)
            heapq.heappush(self._queue, (when.astimezone(UTC), order, action))

    def next_due(self) -> datetime | None:
        """When the next pending work is due (periodic schedule ticks aside); None: none."""
        with self._cond:
            if self._queue and self._queue[0][1] not in self._recurring:
                return self._queue[0][0]
            return min((w for w, o, _ in self._queue if o not in self._recurring), default=None)

    def run_until(
        self,
        end: datetime,
        on_advance: Callable[[datetime], None] | None = None,
        stop_when: Callable[[], bool] | None = None,
    ) -> None:
        """Run everything due up to `end`, in time order, one step at a time; stop early
        (the clock stays where it is) once `stop_when` says so."""
        self.settle()
        while True:
            if stop_when is not None and stop_when():
                return
            with self._cond:
                if not self._queue or self._queue[0][0] > end:
                    break
                when, order, action = heapq.heappop(self._queue)
                self._recurring.discard(order)
            if when > self.now():
                self._factory.move_to(when.replace(tzinfo=None))
                if on_advance:
                    on_advance(when)
            action()
            self.settle()
        if stop_when is not None and stop_when():
            return
        if end > self.now():
            self._factory.move_to(end.astimezone(UTC).replace(tzinfo=None))

    # -- busy accounting (called from execution threads) -------------------------------------
    def enter(self) -> None:
        with self._cond:
            self._busy += 1

    def leave(self) -> None:
        with self._cond:
            self._busy -= 1
            self._cond.notify_all()

    def settle(self) -> None:
        """Block until nothing runs: every execution parked or done."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._busy == 0, SETTLE_TIMEOUT_SECONDS):
                raise RuntimeFault(
                    f"{self._busy} execution(s) still running after {SETTLE_TIMEOUT_SECONDS:.0f}s"
                )

    def sleep_until(self, when: datetime) -> None:
        """Park the calling execution thread until the virtual clock reaches `when`."""
        wake = threading.Event()

        def resume() -> None:
            self.enter()
            wake.set()

        with self._cond:
            if self.closed:
                return
            self._sleepers.append(wake)
        self.at(when, resume)
        self.baton.release()
        self.leave()
        wake.wait()
        self.baton.acquire()
        with self._cond:
            if wake in self._sleepers:
                self._sleepers.remove(wake)

    def sleep(self, seconds: float) -> None:
        self.sleep_until(self.now() + timedelta(seconds=max(0.0, seconds)))
