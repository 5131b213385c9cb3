"""Getting events from sources to the one thread that owns the session.

Live: each source runs in its own thread (:class:`ThreadedFeed`) and hands timestamped events
over a thread-safe queue; a source that dies is reported as a DeviceStatus event and reopened
with back-off, so a dead sensor degrades the station instead of crashing it.

Fast replay: :func:`merged_events` interleaves non-realtime sources by timestamp in the calling
thread, so tests and `--fast` runs are deterministic and as quick as the CPU allows.
"""

from __future__ import annotations

import heapq
import logging
import queue
import threading
from collections.abc import Callable, Iterator

from station.clock import Clock
from station.events import DeviceStatus, Event
from station.hardware import Source

log = logging.getLogger(__name__)

Opener = Callable[[], Source | None]


class ThreadedFeed:
    """Runs one source in a daemon thread; every event lands in `out`."""

    def __init__(
        self,
        device: str,
        opener: Opener,
        out: queue.Queue[Event],
        clock: Clock,
        *,
        retry_s: float = 2.0,
        max_retry_s: float = 30.0,
    ) -> None:
        self.device = device
        self._opener = opener
        self._out = out
        self._clock = clock
        self._retry_s = retry_s
        self._max_retry_s = max_retry_s
        self._stop = threading.Event()
        self.settled = threading.Event()
        """Set once the opener has answered: the device is open, or not fitted (READY=1 waits
        for this, boundedly)."""
        self.last_error = ""
        self._source: Source | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"feed-{device}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def source(self) -> Source | None:
        """The source open right now (None between a failure and the reopen)."""
        with self._lock:
            return self._source

    def _run(self) -> None:
        delay = self._retry_s
        while not self._stop.is_set():
            started = self._clock.now()
            try:
                source = self._opener()
                if source is None:
                    self.settled.set()
                    return  # not fitted
                with self._lock:
                    self._source = source
                self.settled.set()
                self._report(True, "running")
                for event in source.events():
                    if self._stop.is_set():
                        break
                    self._out.put(event)
                if self._stop.is_set():
                    break
                raise RuntimeError("the source stopped producing data")
            except Exception as exc:  # any failure of a device must only degrade the station
                log.error("%s failed: %s", self.device, exc, exc_info=log.isEnabledFor(10))
                self.last_error = str(exc) or type(exc).__name__
                self._report(False, str(exc) or type(exc).__name__)
            finally:
                self._close_source()
            # Back off, but start again from the short delay after a long healthy run.
            delay = (
                self._retry_s
                if self._clock.now() - started > 60
                else min(delay * 2, self._max_retry_s)
            )
            self._stop.wait(delay)

    def _report(self, ok: bool, message: str) -> None:
        self._out.put(DeviceStatus(self._clock.now(), self.device, ok, message))

    def _close_source(self) -> None:
        with self._lock:
            source, self._source = self._source, None
        if source is not None:
            try:
                source.close()
            except Exception:
                log.exception("closing %s", self.device)

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._close_source()
        if self._thread.is_alive():
            self._thread.join(timeout)


def merged_events(sources: list[Source]) -> Iterator[Event]:
    """All events of non-realtime sources in timestamp order (ties keep source order).

    A source that raises ends with a DeviceStatus(ok=False) at its last timestamp, and the
    others carry on, as they would live.
    """

    def guarded(index: int, source: Source) -> Iterator[tuple[float, int, Event]]:
        last_t = 0.0
        try:
            for event in source.events():
                last_t = event.t
                yield (event.t, index, event)
        except Exception as exc:
            log.error("%s failed: %s", source.name, exc)
            yield (last_t, index, DeviceStatus(last_t, source.name, False, str(exc)))

    streams = [guarded(i, s) for i, s in enumerate(sources)]
    for _t, _i, event in heapq.merge(*streams, key=lambda item: (item[0], item[1])):
        yield event
