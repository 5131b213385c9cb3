"""systemd's notify protocol for a `Type=notify` unit with a `WatchdogSec`.

The station tells systemd when it is up (`READY=1`), that its main loop is alive
(`WATCHDOG=1`), what it is doing (`STATUS=…`) and that it is shutting down (`STOPPING=1`).
systemd hands the service a datagram socket in NOTIFY_SOCKET and, with a watchdog, the timeout
in WATCHDOG_USEC; if no `WATCHDOG=1` arrives within it, systemd kills and restarts the service —
that is how a hung main loop is recovered.

Outside systemd (a laptop, tests, `station run --simulate` in a terminal) NOTIFY_SOCKET is
unset and every call is a no-op, so callers never need to ask where they run.

Typical use, from the one thread that owns the main loop::

    notifier = Notifier.from_env()
    ...open the hardware...
    notifier.ready("counting jumps")
    while running:
        ...one frame...
        notifier.ping_if_due(clock.monotonic())
    notifier.stopping()
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Mapping, MutableMapping

log = logging.getLogger(__name__)

PING_FRACTION = 0.5
"""Ping at half the watchdog timeout (systemd's advice), so one slow frame does not kill us."""


class Notifier:
    """Sends notify messages to systemd. Safe to call from any thread; never raises on a
    send failure (a watchdog message lost is better than a crashed kiosk: systemd will notice
    the silence and restart us, which is the point)."""

    def __init__(self, address: str | None, watchdog_s: float | None = None) -> None:
        self.address = address
        self.watchdog_s = watchdog_s
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._last_ping: float | None = None
        self._warned = False
        if address:
            self._sock = _connect(address)

    @classmethod
    def from_env(
        cls, environ: MutableMapping[str, str] | None = None, pid: int | None = None
    ) -> Notifier:
        """Read NOTIFY_SOCKET and WATCHDOG_USEC, then remove them from the environment so a
        child process (a camera helper, a shell-out) cannot talk to systemd in our name."""
        env = os.environ if environ is None else environ
        address = env.pop("NOTIFY_SOCKET", None)
        watchdog_s = watchdog_interval(env, os.getpid() if pid is None else pid)
        env.pop("WATCHDOG_USEC", None)
        env.pop("WATCHDOG_PID", None)
        return cls(address, watchdog_s)

    @property
    def enabled(self) -> bool:
        """True when running under systemd with a usable notify socket."""
        return self._sock is not None

    @property
    def ping_interval_s(self) -> float | None:
        """How often `ping_if_due` pings: half the watchdog timeout, None without a watchdog."""
        return None if self.watchdog_s is None else self.watchdog_s * PING_FRACTION

    def send(self, *fields: str) -> bool:
        """Send `KEY=VALUE` fields as one datagram; True if it went out."""
        if self._sock is None:
            return False
        message = "\n".join(fields).encode("utf-8")
        with self._lock:
            try:
                # Never block the main loop: if systemd is not draining its queue (the
                # default backlog is ten datagrams), drop this message instead.
                self._sock.send(message, socket.MSG_DONTWAIT)
            except OSError as exc:
                if not self._warned:
                    log.warning("systemd notify socket %s: %s", self.address, exc)
                    self._warned = True
                return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """The hardware is up and the station serves members. Call once."""
        return self.send("READY=1", *_status(status))

    def reloading(self) -> bool:
        """A config reload (SIGHUP) has begun; call `ready()` when it is done."""
        return self.send("RELOADING=1")

    def status(self, text: str) -> bool:
        """A one-line status that `systemctl status station` shows."""
        return self.send(*_status(text))

    def ping(self, now: float | None = None) -> bool:
        """Tell the watchdog the main loop is alive. `now` (monotonic seconds) records when."""
        if now is not None:
            self._last_ping = now
        return self.send("WATCHDOG=1")

    def watchdog_due(self, now: float) -> bool:
        """True when the watchdog is on and a ping is due at monotonic time `now`."""
        interval = self.ping_interval_s
        if self._sock is None or interval is None:
            return False
        return self._last_ping is None or now - self._last_ping >= interval

    def ping_if_due(self, now: float) -> bool:
        """Ping if due; call every frame from the main loop. True if a ping went out."""
        if not self.watchdog_due(now):
            return False
        return self.ping(now)

    def stopping(self, status: str | None = None) -> bool:
        """The station is shutting down (SIGTERM); systemd stops expecting watchdog pings."""
        return self.send("STOPPING=1", *_status(status))

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def watchdog_interval(environ: Mapping[str, str], pid: int) -> float | None:
    """The watchdog timeout in seconds from WATCHDOG_USEC, or None when there is none.

    WATCHDOG_PID, when set, names the process the watchdog is meant for; any other process
    (a child that inherited the environment) must not ping."""
    raw = environ.get("WATCHDOG_USEC", "").strip()
    if not raw:
        return None
    owner = environ.get("WATCHDOG_PID", "").strip()
    if owner and owner != str(pid):
        return None
    try:
        usec = int(raw)
    except ValueError:
        log.warning("ignoring WATCHDOG_USEC=%r: not an integer", raw)
        return None
    return usec / 1_000_000 if usec > 0 else None


def _status(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    # One field per datagram line: a newline in the text would start a bogus field.
    return ("STATUS=" + " ".join(text.split()),)


def _connect(address: str) -> socket.socket | None:
    """A datagram socket connected to NOTIFY_SOCKET: a path, or '@name' for Linux's abstract
    namespace. None (logged) if the address is unusable: the station runs on regardless."""
    if address.startswith("@"):
        target = "\0" + address[1:]
    elif address.startswith("/"):
        target = address
    else:
        log.warning("ignoring NOTIFY_SOCKET=%r: not a path or @abstract name", address)
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
    try:
        sock.connect(target)
    except OSError as exc:
        log.warning("cannot reach systemd's notify socket %s: %s", address, exc)
        sock.close()
        return None
    return sock
