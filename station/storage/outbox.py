"""Session consumers: whatever is done with a finished session, off the UI thread.

The session thread (the one that owns the screen and pings the watchdog) does exactly one thing
with a finished session: it writes it to the SQLite session log, a committed, fsynced
transaction (:class:`SessionWriter`). That log is the **outbox**. Every other consumer reads it
from there, in its own thread or its own process, and marks each session it has for good
(:meth:`SessionLog.mark_delivered`), so a slow, failing or network-bound consumer can never
hold up a member's screen, and a power cut loses nothing a consumer has not confirmed:

- in another process: the console's History page (reads the log), ``station uplink`` (the
  gym's MQTT broker; marks a session on the broker's PUBACK, :mod:`station.fleet.uplink`);
- in a thread of the station: any consumer registered here with :func:`register_consumer`,
  run by a :class:`ConsumerGroup` that the station pokes after each session it logs.

Adding a consumer is one function in one file::

    @register_consumer("my-export")
    def my_export(config: Config, site: ConsumerSite) -> SessionConsumer | None:
        return MyExport(config["..."]) if ... else None   # None: not enabled here

Its ``deliver(record)`` returns True once the session is safely elsewhere (then it is marked
and never offered again) and False or raises to have it offered again later, in order. The
module must be imported before the station builds its consumers (``station.runtime.cli``
imports the station's own: :mod:`station.members.pages`). `site` says where the outbox is and
lends what the station's own objects hand over (the members' desk hands over the take-home
link it showed). A consumer with a ``close()`` has it called from its own thread at the end.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from station.config.loader import Config
from station.storage.sessions import SessionLog, SessionRecord, Summary

log = logging.getLogger(__name__)


class SessionWriter(Protocol):
    """What the session thread does with a session: log it (:class:`SessionLog`, or the
    :class:`~station.storage.resilient.ResilientLog` that turns a broken disk into a notice)."""

    def begin(self, *, started_at: float | None = ..., count_source: str = ...) -> int | None: ...

    def checkpoint(self, session_id: int, snapshot: Summary) -> None: ...

    def finish(
        self, session_id: int, summary: Summary, *, ended_at: float | None = ...
    ) -> None: ...

    def get(self, session_id: int) -> SessionRecord | None: ...


class SessionConsumer(Protocol):
    """Something done with every finished session, from the outbox, in its own thread."""

    name: str
    """Its delivery mark in the log: stable, unique (e.g. "uplink", "my-export")."""

    def deliver(self, session: SessionRecord) -> bool:
        """True: the session is safely handled (marked, never offered again). False or an
        exception: offered again later, and no later session before it."""
        ...


@dataclass(frozen=True)
class ConsumerSite:
    """Where the station's consumers run: the outbox (the session log's file; a consumer's own
    files go beside it) and what the station lends them by name (e.g. "members": the
    :class:`~station.members.desk.MemberDesk`)."""

    log_path: Path
    services: Mapping[str, Any] = field(default_factory=dict)


ConsumerFactory = Callable[[Config, ConsumerSite], SessionConsumer | None]

CONSUMERS: dict[str, ConsumerFactory] = {}
"""Every in-station consumer by name; its factory returns None where it is not enabled."""


def register_consumer(name: str) -> Callable[[ConsumerFactory], ConsumerFactory]:
    def add(factory: ConsumerFactory) -> ConsumerFactory:
        if name in CONSUMERS and CONSUMERS[name] is not factory:
            raise ValueError(f"a session consumer named {name!r} is already registered")
        CONSUMERS[name] = factory
        return factory

    return add


def consumers_for(config: Config, site: ConsumerSite) -> list[SessionConsumer]:
    """The registered consumers this config enables."""
    made = (factory(config, site) for factory in CONSUMERS.values())
    return [c for c in made if c is not None]


class ConsumerThread:
    """One consumer fed from the outbox in a daemon thread with its own SQLite connection:
    woken by :meth:`poke` (cheap: the station calls it from the UI thread) or every `poll_s`,
    it hands over each undelivered session oldest first and retries a failure with back-off."""

    def __init__(
        self,
        log_path: Path,
        consumer: SessionConsumer,
        *,
        poll_s: float = 5.0,
        retry_s: float = 2.0,
        max_retry_s: float = 60.0,
        batch: int = 50,
    ) -> None:
        self.log_path = log_path
        self.consumer = consumer
        self.poll_s = poll_s
        self.retry_s = retry_s
        self.max_retry_s = max_retry_s
        self.batch = batch
        self._wake = threading.Event()
        self._stop = threading.Event()
        # pokes asked, and the poke count as of the last drain that emptied the backlog
        self._progress = threading.Condition()
        self._asked = 0
        self._served = 0
        self._cursor = 0  # every session up to here is delivered (or will never be offered)
        self._thread = threading.Thread(
            target=self._run, name=f"consumer-{consumer.name}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        with self._progress:
            self._asked += 1
        self._wake.set()

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until a drain begun after the last poke has emptied the backlog."""
        with self._progress:
            return self._progress.wait_for(lambda: self._served >= self._asked, timeout_s)

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        db: SessionLog | None = None
        delay = self.retry_s
        while not self._stop.is_set():
            self._wake.clear()
            with self._progress:
                asked = self._asked
            try:
                if db is None:
                    db = SessionLog(self.log_path)
                done = self._drain(db)
            except Exception:  # a broken consumer or log: retried, never the station's problem
                log.exception("session consumer %s failed; retrying", self.consumer.name)
                done = False
                if db is not None:
                    db.close()
                    db = None
            if done:
                delay = self.retry_s
                with self._progress:
                    self._served = asked
                    self._progress.notify_all()
                wait = self.poll_s
            else:
                wait, delay = delay, min(delay * 2, self.max_retry_s)
            self._wake.wait(wait)
        if db is not None:
            db.close()
        close = getattr(self.consumer, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                log.exception("session consumer %s: closing failed", self.consumer.name)

    def _drain(self, db: SessionLog) -> bool:
        """Hand over the whole backlog; False as soon as a session is refused."""
        while not self._stop.is_set():
            records = db.undelivered(self.consumer.name, after_id=self._cursor, limit=self.batch)
            if not records:
                self._cursor = max(self._cursor, db.final_through())  # only new rows next time
                return True
            for record in records:
                if not self.consumer.deliver(record):
                    log.info("session consumer %s: will retry", self.consumer.name)
                    return False
                db.mark_delivered(self.consumer.name, record.id)
                self._cursor = record.id
        return True


class ConsumerGroup:
    """The station's consumer threads: started with the station, poked after each logged
    session, stopped (after draining, for a replay) with it."""

    def __init__(
        self, log_path: Path, consumers: Iterable[SessionConsumer], *, poll_s: float = 5.0
    ) -> None:
        self.threads = [ConsumerThread(log_path, c, poll_s=poll_s) for c in consumers]

    @classmethod
    def for_config(
        cls, log_path: Path, config: Config, services: Mapping[str, Any] | None = None
    ) -> ConsumerGroup:
        site = ConsumerSite(log_path, dict(services or {}))
        return cls(log_path, consumers_for(config, site))

    def __bool__(self) -> bool:
        return bool(self.threads)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()
            thread.poke()  # a backlog from before a power cut goes first

    def poke(self) -> None:
        for thread in self.threads:
            thread.poke()

    def drain(self, timeout_s: float) -> bool:
        """Poke every thread and wait up to `timeout_s` each for its backlog to empty."""
        self.poke()
        return all([thread.wait_idle(timeout_s) for thread in self.threads])

    def stop(self, *, drain_s: float = 0.0) -> None:
        """Stop every thread, first waiting up to `drain_s` for their backlogs to empty."""
        if drain_s > 0:
            self.drain(drain_s)
        for thread in self.threads:
            thread.stop()
