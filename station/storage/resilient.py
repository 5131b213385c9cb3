"""The session log as the running station uses it: a broken disk degrades, never crashes.

A read-only, full or damaged state folder must not stop a member's session: the station keeps
counting and coaching, and the screen carries a trainer notice ("sessions are not being saved:
…") until the log works again. :class:`ResilientLog` wraps :class:`SessionLog` so that every
storage failure becomes that notice instead of an exception:

- at start, a log SQLite cannot read (not a database, malformed) is moved aside as
  ``sessions.sqlite3.damaged-<time>`` with a clear message, and a fresh log is started;
- free space is checked before each checkpoint, so a filling card stops the writes cleanly
  (the last checkpoint is kept) instead of failing half-way;
- writes are retried at each later checkpoint, so the log resumes by itself when space is freed
  (a session begun while it failed stays unsaved; nothing already saved is touched).
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from station.storage.paths import SESSIONS_DB
from station.storage.sessions import SessionLog, SessionRecord, Summary

log = logging.getLogger(__name__)

MIN_FREE_BYTES = 5 * 1024 * 1024
"""A checkpoint is a few kB; below 5 MiB free the card is full for our purposes (SQLite also
needs room for its WAL, and the rest of the system for its journal)."""

_STORAGE_ERRORS = (sqlite3.Error, OSError)


def is_damaged(exc: BaseException) -> bool:
    """A database SQLite cannot read (as opposed to one it cannot write: read-only, full)."""
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return True
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


def describe(exc: BaseException, state_dir: Path) -> str:
    """Cause and fix in a trainer's or technician's words."""
    text = str(exc).lower()
    errno_name = getattr(exc, "errno", None)
    if "readonly" in text or "read-only" in text or errno_name in (30, 13) or _read_only(state_dir):
        return f"{state_dir} is read-only (check the card's mount and the folder's owner)"
    if "full" in text or errno_name == 28:
        return f"the disk holding {state_dir} is full (free some space)"
    if is_damaged(exc):
        return f"the session log in {state_dir} is damaged ({exc})"
    return f"{state_dir}: {exc}"


def _read_only(folder: Path) -> bool:
    """A read-only mount (what the kernel makes of a card with errors), or no write access."""
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        return False
    return folder.is_dir() and not os.access(folder, os.W_OK)


def move_aside(path: Path, wall: float | None = None) -> Path:
    """Rename a damaged database (and its WAL and shared-memory files) out of the way."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(wall))
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            os.replace(part, Path(f"{target}{suffix}"))
    return target


def open_checked(path: Path) -> SessionLog:
    """Open the log and check it is sound (PRAGMA quick_check); raises on any problem."""
    db = SessionLog(path)
    try:
        row = db._db.execute("PRAGMA quick_check").fetchone()
        if row is None or row[0] != "ok":
            raise sqlite3.DatabaseError(f"database disk image is malformed ({row and row[0]})")
    except BaseException:
        db.close()
        raise
    return db


class ResilientLog:
    """SessionLog's writer API, never raising a storage error; `problem` says what is wrong
    (None while sessions are being saved)."""

    def __init__(self, state_dir: str | Path, *, min_free_bytes: int = MIN_FREE_BYTES) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / SESSIONS_DB
        self.min_free_bytes = min_free_bytes
        self.problem: str | None = None
        self.moved_aside: Path | None = None
        self._db: SessionLog | None = None
        self._open()

    @property
    def notice(self) -> str | None:
        return f"Sessions are not being saved: {self.problem}" if self.problem else None

    def _open(self) -> bool:
        try:
            self._db = open_checked(self.path)
        except _STORAGE_ERRORS as exc:
            if not is_damaged(exc):
                return self._fail(exc)
            try:
                self.moved_aside = move_aside(self.path)
                log.error(
                    "the session log %s is damaged (%s): moved aside as %s; starting a fresh log",
                    self.path, exc, self.moved_aside,
                )  # fmt: skip
                self._db = open_checked(self.path)
            except _STORAGE_ERRORS as again:
                return self._fail(again)
        self._ok()
        return True

    def _ok(self) -> None:
        if self.problem is not None:
            log.warning("session log works again: sessions are being saved")
        self.problem = None

    def _fail(self, exc: BaseException) -> bool:
        problem = describe(exc, self.state_dir)
        if problem != self.problem:
            log.error("sessions are not being saved: %s", problem)
        self.problem = problem
        return False

    def _space_ok(self) -> bool:
        try:
            free = shutil.disk_usage(self.state_dir).free
        except OSError as exc:
            return self._fail(exc)
        if free < self.min_free_bytes:
            problem = f"the disk holding {self.state_dir} is full ({free // 1024} kB free)"
            if problem != self.problem:
                log.error("sessions are not being saved: %s", problem)
            self.problem = problem
            return False
        return True

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self._db is None and not self._open():
            return None
        assert self._db is not None
        try:
            result = getattr(self._db, method)(*args, **kwargs)
        except _STORAGE_ERRORS as exc:
            self._fail(exc)
            # A fresh connection next time: SQLite may keep a failed write's state, and a
            # damaged file is then moved aside and a fresh log started.
            self.close()
            return None
        except KeyError as exc:  # the session's row went with a damaged log
            self.problem = f"this session's record was lost with a damaged log ({exc})"
            log.error("sessions are not being saved: %s", self.problem)
            return None
        self._ok()
        return result

    # --- the runtime's API ---------------------------------------------------------------

    def close_interrupted(self) -> list[int]:
        return self._call("close_interrupted") or []

    def begin(self, **kwargs: Any) -> int | None:
        if not self._space_ok():
            return None
        result = self._call("begin", **kwargs)
        return None if result is None else int(result)

    def checkpoint(self, session_id: int, snapshot: Summary, **kwargs: Any) -> None:
        if self._space_ok():
            self._call("checkpoint", session_id, snapshot, **kwargs)

    def finish(self, session_id: int, summary: Summary, **kwargs: Any) -> None:
        # No space check: the final summary is small, and worth one more try.
        self._call("finish", session_id, summary, **kwargs)

    def get(self, session_id: int) -> SessionRecord | None:
        result = self._call("get", session_id)
        return result if isinstance(result, SessionRecord) else None

    def close(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except _STORAGE_ERRORS as exc:
                log.warning("closing the session log: %s", exc)
            self._db = None


def diagnose(state_dir: Path) -> tuple[str, str] | None:
    """Why sessions could not be saved in `state_dir`, and the fix; None if they can.
    Read-only: it never changes the folder (a write probe is created and removed)."""
    if not state_dir.exists():
        return None  # made at the first start (install.sh creates it)
    probe = state_dir / f".write-probe-{os.getpid()}"
    try:
        probe.write_bytes(b"x")
        probe.unlink()
    except OSError as exc:
        if exc.errno == 28:
            return (f"the disk holding {state_dir} is full", "free space on the SD card")
        return (
            f"{state_dir} is not writable ({exc.strerror})",
            f"`sudo chown -R station: {state_dir}`; if `mount` shows the card read-only, the "
            "kernel found errors on it: back up the log and replace the card",
        )
    try:
        free = shutil.disk_usage(state_dir).free
    except OSError as exc:
        return (f"cannot tell the free space of {state_dir}: {exc.strerror}", "check the card")
    if free < MIN_FREE_BYTES:
        return (f"the disk holding {state_dir} is full ({free // 1024} kB free)",
                "free space on the SD card")  # fmt: skip
    db = state_dir / SESSIONS_DB
    if db.exists():
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                row = conn.execute("PRAGMA quick_check").fetchone()
            conn.close()
            if row is None or row[0] != "ok":
                raise sqlite3.DatabaseError(str(row and row[0]))
        except sqlite3.Error as exc:
            return (
                f"the session log {db} is damaged ({exc})",
                "restart the station (`sudo systemctl restart station`): it moves the damaged "
                "log aside and starts a fresh one",
            )
    return None
