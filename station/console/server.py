"""Serving the console on an open gym network: connection limits that keep it reachable.

uvicorn's HTTP protocol waits forever for the first byte of a connection, and only starts its
keep-alive timer after a response; a phone that opens a thousand connections and sends nothing
(or drips one header byte every few seconds: a slow loris) would hold every file descriptor
and make the console unreachable. :class:`GuardedH11` adds two rules on top of it:

- a connection must send a complete request head within `head_timeout_s` of being opened (or of
  its previous response ending), and then its body within as long again, else it is closed;
- at most `max_connections` are open at once; a new one beyond that closes the *oldest idle*
  connection (no request in progress) rather than being refused, so a flood of idle
  connections cannot lock out a trainer whose browser sends its request at once.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("station.console.server")

HEAD_TIMEOUT_S = 10.0
"""A trainer's browser sends its request head within milliseconds; 10 s covers bad Wi-Fi."""
FD_HEADROOM = 64
"""File descriptors kept free for the console's own files (config, audit log, session log)."""


class GuardedH11(H11Protocol):
    """H11Protocol with a request-head deadline and a cap on open connections."""

    max_connections = 200
    head_timeout_s = HEAD_TIMEOUT_S
    evicted = 0  # per class: connections closed to make room (for the rate-limited log line)
    _last_eviction_log = 0.0

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._opened_at = time.monotonic()
        self._waiting_for: object = self.cycle
        self._deadline: asyncio.TimerHandle | None = None
        self._arm_head_deadline()
        if len(self.connections) > self.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not None and self.cycle is not before:  # a request head arrived
            self._arm(self._body_expired)  # ... and now its body has as long to follow

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_deadline()

    @property
    def idle(self) -> bool:
        """No request in progress: waiting for (the rest of) a request head."""
        return self.cycle is None or self.cycle.response_complete

    def _arm_head_deadline(self) -> None:
        self._waiting_for = self.cycle  # a new request replaces the cycle object
        self._arm(self._head_expired)

    def _arm(self, expired: Any) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(self.head_timeout_s, expired)

    def _head_expired(self) -> None:
        self._deadline = None
        if self.cycle is self._waiting_for and self.idle and not self.transport.is_closing():
            self.transport.close()

    def _body_expired(self) -> None:
        """A request whose body still dribbles in (a slow-loris POST) is dropped."""
        self._deadline = None
        if self.conn.their_state is h11.SEND_BODY and not self.transport.is_closing():
            self.transport.close()

    def _make_room(self) -> None:
        idle = [c for c in self.connections if c is not self and isinstance(c, GuardedH11)
                and c.idle and not c.transport.is_closing()]  # fmt: skip
        victim: GuardedH11 = min(idle, key=lambda c: c._opened_at) if idle else self
        victim.transport.abort()
        cls = type(self)
        cls.evicted += 1
        now = time.monotonic()
        if now - cls._last_eviction_log >= 60.0:  # one line a minute, never a flood
            cls._last_eviction_log = now
            log.warning(
                "more than %d connections open: closing the oldest idle ones (%d so far)",
                self.max_connections,
                cls.evicted,
            )


def guarded_protocol(max_connections: int, head_timeout_s: float = HEAD_TIMEOUT_S) -> type:
    """A GuardedH11 subclass with these limits (uvicorn takes a protocol class)."""
    return type(
        "StationH11",
        (GuardedH11,),
        {"max_connections": max_connections, "head_timeout_s": head_timeout_s, "evicted": 0},
    )


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's open-file limit toward `wanted` (never above the hard limit);
    returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


BACKLOG = 128
"""Connections the kernel queues for us. asyncio accepts up to this many at once before our
protocol sees any of them, so the file limit must leave room for a full backlog on top of the
connections kept open (the ones evicted are closed a moment later)."""


TLS_HANDSHAKE_FILES = 16384
"""Over HTTPS a connection reaches our protocol only once its TLS handshake is done; until then
(asyncio gives up after 60 s) it holds a file that no rule here can close. The file limit is
raised this high (systemd's default soft limit is 1024, its hard limit far above), so a flood
of half-open connections runs into nothing before its handshakes time out."""


def connection_cap(max_connections: int) -> int:
    """`max_connections`, lowered if the process cannot open that many files plus a backlog
    burst and headroom, after raising the file limit as far as TLS_HANDSHAKE_FILES."""
    soft = raise_fd_limit(max(TLS_HANDSHAKE_FILES, max_connections + 4 * BACKLOG))
    return max(10, min(max_connections, soft - 2 * BACKLOG - FD_HEADROOM))


class _OncePerMinute(logging.Filter):
    """asyncio logs a traceback for every failed accept (out of files): at most one a minute."""

    def __init__(self) -> None:
        super().__init__()
        self._last = -60.0
        self.dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if "out of system resource" not in record.getMessage():
            return True
        now = time.monotonic()
        if now - self._last < 60.0:
            self.dropped += 1
            return False
        self._last = now
        record.exc_info = None  # the message says it; a traceback adds nothing
        record.msg = f"{record.msg} (repeats are logged once a minute; {self.dropped} dropped)"
        return True


def quiet_accept_errors() -> None:
    logging.getLogger("asyncio").addFilter(_OncePerMinute())
