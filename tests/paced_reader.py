"""Pace an ADC reader's thread to the test that empties its queue.

With a manual clock the reader's thread never waits: it samples as fast as the CPU lets it and
runs ahead of the test's loop. Its bounded queue then drops the oldest events, as it should for a
stuck main loop, and a block, a landing or a status event the test is waiting for can go with
them. A real clock paces the reader; in tests this sleep does, by waiting for the consumer."""

from __future__ import annotations

import time

from station.clock import ManualClock
from station.mat.sensors import AdcReader


class PacedSleep:
    """A reader's sleep that first waits until its queue holds at most `backlog` events."""

    def __init__(self, clock: ManualClock, backlog: int = 100) -> None:
        self.clock = clock
        self.backlog = backlog
        self.reader: AdcReader | None = None  # set once the reader exists

    def __call__(self, seconds: float) -> None:
        while self.reader is not None and self.reader.queue.qsize() > self.backlog:
            time.sleep(0.0005)
        self.clock.sleep(seconds)

    def pace(self, reader: AdcReader) -> AdcReader:
        self.reader = reader
        return reader
