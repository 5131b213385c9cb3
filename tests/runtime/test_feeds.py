from __future__ import annotations

import queue
from collections.abc import Iterator

from station.clock import MonotonicClock
from station.events import ContactEdge, DeviceStatus, Event
from station.runtime.feeds import ThreadedFeed, merged_events


class ListSource:
    """A replay source at the hardware edge: yields given events, optionally then fails."""

    realtime = False

    def __init__(self, name: str, events: list[Event], fail: str | None = None) -> None:
        self.name = name
        self._events = events
        self._fail = fail
        self.closed = False

    def events(self) -> Iterator[Event]:
        yield from self._events
        if self._fail:
            raise OSError(self._fail)

    def close(self) -> None:
        self.closed = True


def test_merged_events_are_in_time_order_and_failures_become_status() -> None:
    a = ListSource("mat", [ContactEdge(0.1, True), ContactEdge(0.5, False)], fail="SPI gone")
    b = ListSource("camera", [ContactEdge(0.2, True), ContactEdge(0.9, False)])
    events = list(merged_events([a, b]))
    assert [e.t for e in events] == [0.1, 0.2, 0.5, 0.5, 0.9]
    status = events[3]
    assert isinstance(status, DeviceStatus)
    assert (status.device, status.ok, status.message) == ("mat", False, "SPI gone")


def test_threaded_feed_reports_failure_and_reopens() -> None:
    out: queue.Queue[Event] = queue.Queue()
    opened: list[ListSource] = []

    def opener() -> ListSource:
        source = ListSource("mat", [ContactEdge(float(len(opened)), True)], fail="unplugged")
        opened.append(source)
        return source

    feed = ThreadedFeed("mat", opener, out, MonotonicClock(), retry_s=0.01, max_retry_s=0.02)
    feed.start()
    seen: list[Event] = []
    while len([e for e in seen if isinstance(e, DeviceStatus) and not e.ok]) < 2:
        seen.append(out.get(timeout=5))
    feed.stop()
    statuses = [(e.ok, e.message) for e in seen if isinstance(e, DeviceStatus)]
    assert statuses[:4] == [
        (True, "running"),
        (False, "unplugged"),
        (True, "running"),
        (False, "unplugged"),
    ]
    assert len(opened) >= 2 and all(s.closed for s in opened)
    assert [e.t for e in seen if isinstance(e, ContactEdge)][:2] == [0.0, 1.0]


def test_threaded_feed_for_absent_device_ends_quietly() -> None:
    out: queue.Queue[Event] = queue.Queue()
    feed = ThreadedFeed("camera", lambda: None, out, MonotonicClock())
    feed.start()
    feed.stop()
    assert out.empty()
