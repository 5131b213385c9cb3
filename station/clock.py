"""Injectable clocks.

Everything that needs "now" takes a :class:`Clock`, so a whole session can be replayed from
recorded or simulated data faster than real time: the runtime uses :class:`MonotonicClock`,
tests and `--fast` runs use :class:`ManualClock` and advance it to each event's timestamp.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic time line (the origin is arbitrary)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` on this clock's time line."""
        ...


class MonotonicClock:
    """The real clock: `time.monotonic`, immune to wall-clock steps (NTP, DST)."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ManualClock:
    """A clock that only moves when told to; `sleep` advances it instantly."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"cannot move a clock backwards by {seconds} s")
        with self._lock:
            self._now += seconds

    def set(self, t: float) -> None:
        """Move to `t`; never backwards, so replayed events stay monotonic."""
        with self._lock:
            if t < self._now:
                raise ValueError(f"cannot move a clock back from {self._now} to {t}")
            self._now = t


class OffsetClock:
    """Monotonic time counted from the moment it was made: a live simulation's timeline starts
    at 0 like its script, so simulated events need no re-stamping."""

    def __init__(self) -> None:
        self._origin = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._origin

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
