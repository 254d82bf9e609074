"""When a delivery must be over: a moment on an injectable clock.

Apart from idle_reaper.slack so that the notify function can pass its deadline around
without importing slack_sdk, which it needs only when a Slack webhook is configured.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    """The moment, on `clock`, by which a delivery must be over, retries and waits included.
    The clock and the sleep are injectable, so a test runs a whole retry budget in no time."""

    at: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def after(
        cls,
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Deadline:
        return cls(clock() + seconds, clock, sleep)

    def remaining(self) -> float:
        return self.at - self.clock()


NO_DEADLINE = Deadline(math.inf)
"""Only the retry counts bound the delivery (a caller that is not a Lambda function)."""
