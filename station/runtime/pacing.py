"""Playing a replay or simulated source at the speed of life (for `station run --simulate`)."""

from __future__ import annotations

from collections.abc import Iterator

from station.clock import Clock
from station.events import Event
from station.hardware import Source


class Paced:
    """Wraps a non-realtime source: each event is released when the clock reaches its time,
    so the live station sees it exactly as it would see a real sensor."""

    realtime = True

    def __init__(self, source: Source, clock: Clock) -> None:
        self.name = source.name
        self._source = source
        self._clock = clock
        self._closed = False

    def events(self) -> Iterator[Event]:
        for event in self._source.events():
            while not self._closed:
                wait = event.t - self._clock.now()
                if wait <= 0:
                    break
                self._clock.sleep(min(wait, 0.05))  # wake often enough to notice close()
            if self._closed:
                return
            yield event

    def close(self) -> None:
        self._closed = True
        self._source.close()
