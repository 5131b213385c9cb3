"""The main loop: the one thread that owns the screen and the session.

Two ways to drive the same :class:`~station.runtime.station.Station`:

* :func:`run_live` — real time. Each source runs in a :class:`ThreadedFeed`; every frame the
  loop drains the queue, ticks the station, draws, pets the systemd watchdog, publishes the
  live status and polls the console's commands. SIGHUP reloads the config, SIGTERM saves the
  session and stops.
* :func:`run_fast` — as fast as the CPU allows, on a ManualClock: sources are merged by
  timestamp and the station is ticked at the display rate in between, exactly as live.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from station.clock import Clock, ManualClock
from station.events import Event
from station.hardware import Source
from station.runtime.feeds import Opener, ThreadedFeed, merged_events
from station.runtime.station import Station

log = logging.getLogger(__name__)

MAX_EVENTS_PER_FRAME = 5000
"""Bounds one frame's work: a flood of events must not starve the screen or the watchdog."""

READY_WAIT_S = 30.0
"""READY=1 waits this long at most for the devices to open (station.service allows 120 s to
start); past it the station says it is up without them, naming each one still missing."""


class Readiness:
    """When to tell systemd READY=1: once every device's opener has answered (open, or not
    fitted), or after `wait_s`, naming the devices still missing and why. The main loop runs
    (screen, watchdog) while it waits, and says what it waits for in a STATUS line each time
    that changes (`systemctl status station` shows "starting: waiting for camera")."""

    def __init__(self, feeds: list[ThreadedFeed], notifier: Any, deadline: float) -> None:
        self.feeds = feeds
        self.notifier = notifier
        self.deadline = deadline
        self.sent = False
        self.waiting_for: tuple[str, ...] = ()
        """The devices READY=1 waits for, as last said in STATUS."""

    def check(self, now: float) -> None:
        if self.sent:
            return
        missing = [f for f in self.feeds if not f.settled.is_set()]
        if missing and now < self.deadline:
            self._say_waiting(tuple(f.device for f in missing))
            return
        self.sent = True
        if missing:
            why = "; ".join(f"{f.device} ({f.last_error or 'still opening'})" for f in missing)
            log.warning("ready without every device: still missing %s", why)
            status = f"station running; still missing: {why}"
        else:
            status = "station running: devices open"
        if self.notifier is not None:
            self.notifier.ready(status)

    def _say_waiting(self, devices: tuple[str, ...]) -> None:
        if devices == self.waiting_for:
            return
        self.waiting_for = devices
        if self.notifier is not None:
            self.notifier.status("starting: waiting for " + ", ".join(devices))


@dataclass
class Signals:
    """Flags set by signal handlers and read by the loop (handlers do nothing else)."""

    reload: threading.Event
    stop: threading.Event

    @classmethod
    def install(cls) -> Signals:
        flags = cls(threading.Event(), threading.Event())
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGHUP, lambda *_: flags.reload.set())
            signal.signal(signal.SIGTERM, lambda *_: flags.stop.set())
            signal.signal(signal.SIGINT, lambda *_: flags.stop.set())
        return flags


def run_fast(
    station: Station,
    sources: list[Source],
    *,
    fps: float,
    clock: ManualClock | None = None,
    on_frame: Callable[[Station, float], None] | None = None,
    settle_s: float | None = None,
    until_s: float | None = None,
) -> None:
    """Replay `sources` through the station as fast as possible.

    After the data ends the station keeps ticking (nobody on the mat, no pose) until the session
    in progress has ended, so a scripted session always reaches its summary.
    """
    clock = clock or ManualClock()
    frame = 1.0 / fps
    next_tick = clock.now()

    def tick_until(t: float) -> None:
        nonlocal next_tick
        while next_tick <= t:
            clock.set(next_tick)
            station.tick(next_tick)
            if on_frame is not None:
                on_frame(station, next_tick)
            next_tick += frame

    for event in merged_events(sources):
        if until_s is not None and event.t > until_s:
            break  # stopped early: the sensors have not gone quiet
        tick_until(event.t)
        station.handle(event)
    else:
        station.end_of_data(next_tick)
    settle = settle_s if settle_s is not None else _settle_time(station)
    end = next_tick + settle
    while next_tick <= end and station.session.phase in ("calibrating", "active"):
        tick_until(next_tick)
    tick_until(next_tick)


def _settle_time(station: Station) -> float:
    session = station.config["session"]
    return float(session["end_after_off_s"] + session["calibrate_s"] * 2 + 2.0)


def run_live(
    station: Station,
    openers: Iterable[tuple[str, Opener]],
    clock: Clock,
    *,
    fps: float,
    display: Any = None,
    notifier: Any = None,
    live_writer: Any = None,
    commands: Any = None,
    signals: Signals | None = None,
    frames: int | None = None,
    ready_wait_s: float = READY_WAIT_S,
) -> None:
    """Run until SIGTERM/SIGINT, a developer's quit key, or `frames` frames (tests)."""
    signals = signals or Signals.install()
    events: queue.Queue[Event] = queue.Queue()
    feeds = [ThreadedFeed(name, opener, events, clock) for name, opener in openers]
    for feed in feeds:
        feed.start()
        if feed.device == "camera":
            station.camera_picture = _newest_picture(feed)
    readiness = Readiness(feeds, notifier, clock.now() + ready_wait_s)
    frame = 1.0 / fps
    next_frame = clock.now()
    count = 0
    try:
        while not signals.stop.is_set() and (frames is None or count < frames):
            if signals.reload.is_set():
                signals.reload.clear()
                announce = notifier is not None and readiness.sent  # not before the first READY
                if announce:
                    notifier.reloading()
                ok = station.reload()
                log.info("reload on SIGHUP: %s", "applied" if ok else "rejected")
                if announce:
                    notifier.ready("config reloaded" if ok else "config rejected: last good kept")
            now = _drain(station, events, clock)
            readiness.check(now)
            station.tick(now)
            if display is not None:
                display.draw(station.view(now))
                if display.poll_events():
                    break
            if notifier is not None and readiness.sent:
                # the watchdog's pings start with READY=1 (systemd arms it then, not before)
                notifier.ping_if_due(now)
            if live_writer is not None:
                from station.runtime.status import live_status

                live_writer.publish(live_status(station, now), now)
            if commands is not None:
                from station.runtime.commands import run_commands

                run_commands(station, commands, now)
            count += 1
            next_frame += frame
            delay = next_frame - clock.now()
            if delay > 0:
                clock.sleep(delay)
            else:
                next_frame = clock.now()  # fell behind: do not try to catch up with a burst
    finally:
        if notifier is not None:
            notifier.stopping()
        for feed in feeds:
            feed.stop()
        station.shutdown(clock.now())
        if live_writer is not None:
            live_writer.remove()


def _newest_picture(feed: ThreadedFeed) -> Callable[[], Any]:
    return lambda: getattr(feed.source, "latest_image", None)


def _drain(station: Station, events: queue.Queue[Event], clock: Clock) -> float:
    for _ in range(MAX_EVENTS_PER_FRAME):
        try:
            event = events.get_nowait()
        except queue.Empty:
            break
        try:
            station.handle(event)
        except Exception:  # bad input from one device must not stop the station
            log.exception("dropping %s after an error", type(event).__name__)
    return clock.now()
