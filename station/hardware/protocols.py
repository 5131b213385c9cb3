"""What the station's devices promise, in a leaf module: the rooms' device adapters (mat
sensors, camera sources, the simulator) import these without importing the hardware switch
(station.hardware), which imports them in turn."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from station.events import Event


class HardwareMissing(RuntimeError):
    """A device the config asks for is not there. `fix` says what to do about it."""

    def __init__(self, device: str, problem: str, fix: str) -> None:
        self.device = device
        self.problem = problem
        self.fix = fix
        super().__init__(f"{device}: {problem}. Fix: {fix}")


class Source(Protocol):
    """Anything that produces timestamped events: a sensor, a camera pipeline, a replay.

    `events()` yields events in time order; a live source blocks until data arrives and ends
    when closed; a replay or simulated source yields as fast as it is consumed (`realtime` is
    False), so a whole session can run faster than real time against a ManualClock.
    """

    name: str
    realtime: bool

    def events(self) -> Iterator[Event]: ...

    def close(self) -> None: ...
