"""The session log: one SQLite row per member's session, checkpointed while it runs.

SQLite in WAL mode with ``synchronous=FULL``: every checkpoint is a committed, fsynced
transaction, so a power cut loses at most the time since the last checkpoint (the runtime calls
:meth:`SessionLog.checkpoint` every ``session.checkpoint_s``), and a reader (``station
sessions``, the console's History page) never blocks the station.

What is stored is statistics only: times, counts, cadence, per-fault seconds and onsets,
landing figures. No images and no identity, ever: the only free-text values accepted are the
few known labels (which sensor counted, which fault mattered most); any other string, bytes or
array in a summary is refused.

Lifecycle of a row: ``open`` (begun, checkpointed) → ``finished`` (summary written). A row
still ``open`` when the station starts again was cut short (power cut, crash); the runtime
calls :meth:`SessionLog.close_interrupted` at start-up, which marks it ``interrupted`` and
keeps its last checkpoint, so it stays visible as such.

The log is also the **outbox** of every session consumer (:mod:`station.storage.outbox`):
each row carries a random ``uuid`` (the session's idempotency key wherever it is sent), and
``session_deliveries`` holds one mark per (session, consumer) once that consumer has it for
good (the uplink: on the broker's PUBACK). :meth:`SessionLog.undelivered` is a consumer's
backlog, oldest first.

A row is offered as a session (:meth:`SessionLog.sessions`, :meth:`SessionLog.undelivered`:
the console's History and export, ``station sessions``, the uplink, the members' pages) only
once it has a jump, by the one rule of :func:`station.session.model.counts_as_session`. Rows
of 0 jumps (written by older versions for someone who stood and left, or a session begun at
its first jump and cut off before its first checkpoint) stay in the file, untouched, and
:meth:`SessionLog.get` still reads them by id.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from station.events import FAULTS
from station.session.model import SESSION_MIN_JUMPS
from station.storage.paths import SESSIONS_DB

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
"""PRAGMA user_version of a current database. Bump it and add a step to _MIGRATIONS."""

STATUSES = ("open", "finished", "interrupted")
FINAL_STATUSES = ("finished", "interrupted")
"""A row in one of these will not change again: a consumer may take it."""


def counted_sql(alias: str = "") -> str:
    """:func:`station.session.model.counts_as_session` as an SQL condition on a sessions row,
    its column qualified by the table's `alias` in a query that names one (``counted_sql("s")``
    for ``FROM sessions s``), so no caller glues a prefix onto a condition it does not own
    (tests/storage/test_session_log.py holds the two to the same answers, both ways)."""
    if alias and not alias.isidentifier():
        raise ValueError(f"not an SQL table alias: {alias!r}")
    column = f"{alias}.jumps" if alias else "jumps"
    return f"({column} >= {int(SESSION_MIN_JUMPS)})"


# A version-4 UUID made by SQLite itself, for the rows logged before uuids existed.
_SQL_UUID4 = (
    "lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "
    "substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) "
    "|| substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))"
)

# The member's body weight, kept in `detail` when a weighing mat was fitted: newtons, one
# standard error and how it was found ("impulse-momentum", "quiet standing", ...).
_WEIGHT_KEYS = ("body_weight_n", "body_weight_sd_n", "body_weight_source")

# Whether the camera saw the feet (station.pose.framing), kept in `detail` when a camera was
# fitted: the share of frames with a pose that had the feet in the picture, and whether the
# camera's count could be trusted (a camera-counted session without it is a guess).
_FRAMING_KEYS = ("camera_feet_in_picture", "camera_count_trusted")

# Per fault the camera judged, whether the member's own standing baseline was in force (true)
# or the population default (false: no calibration, or the feet out of the picture then).
_POSTURE_KEYS = ("posture_baseline_own",)

# Summary keys stored in their own columns (the rest of the summary goes to `detail` as JSON).
_NUMERIC_COLUMNS = (
    "duration_s",
    "jumps",
    "doubles",
    "misses",
    "best_streak",
    "cadence_avg_per_min",
    "cadence_peak_per_min",
    "landings",
    "landing_peak_bw_mean",
    "landing_peak_bw_max",
    "landing_rate_bw_s_mean",
    "hard_landings",
)
_LABEL_KEYS = {"count_source": ("mat", "camera"), "top_fault": FAULTS}
"""String values with a column of their own, and what they may be."""

_DETAIL_LABEL_KEYS = {
    "body_weight_source": ("impulse-momentum", "quiet standing", "short quiet standing"),
}
"""String values kept only in `detail`. With _LABEL_KEYS, the only strings a summary may
carry (statistics only: nothing that could hold a name)."""

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE sessions (
        id                      INTEGER PRIMARY KEY,
        started_at              REAL NOT NULL,      -- Unix time (UTC seconds)
        ended_at                REAL,               -- NULL until finished
        checkpointed_at         REAL,               -- Unix time of the last checkpoint
        status                  TEXT NOT NULL DEFAULT 'open'
                                CHECK (status IN ('open', 'finished', 'interrupted')),
        count_source            TEXT,
        duration_s              REAL NOT NULL DEFAULT 0,
        jumps                   INTEGER NOT NULL DEFAULT 0,
        doubles                 INTEGER,
        misses                  INTEGER,
        best_streak             INTEGER,
        cadence_avg_per_min     REAL,
        cadence_peak_per_min    REAL,
        landings                INTEGER,
        landing_peak_bw_mean    REAL,
        landing_peak_bw_max     REAL,
        landing_rate_bw_s_mean  REAL,
        hard_landings           INTEGER,
        top_fault               TEXT,
        detail                  TEXT NOT NULL DEFAULT '{}'  -- the whole summary as JSON
    );
    CREATE INDEX sessions_started ON sessions (started_at);
    CREATE TABLE session_faults (
        session_id    INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        fault         TEXT NOT NULL,
        seconds       REAL NOT NULL DEFAULT 0,      -- time at 'fault'
        warn_seconds  REAL NOT NULL DEFAULT 0,      -- time at 'warn'
        onsets        TEXT NOT NULL DEFAULT '[]',   -- JSON list: seconds since session start
        PRIMARY KEY (session_id, fault)
    );
    """,
    2: f"""
    ALTER TABLE sessions ADD COLUMN uuid TEXT;      -- the idempotency key wherever it is sent
    UPDATE sessions SET uuid = {_SQL_UUID4} WHERE uuid IS NULL;
    CREATE UNIQUE INDEX sessions_uuid ON sessions (uuid);
    CREATE INDEX sessions_open ON sessions (id) WHERE status = 'open';
    CREATE TABLE session_deliveries (               -- the outbox's marks
        session_id    INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        consumer      TEXT NOT NULL,                -- e.g. 'uplink'
        delivered_at  REAL NOT NULL,                -- Unix time the consumer confirmed it
        PRIMARY KEY (session_id, consumer)
    );
    """,
}


class HasToDict(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


Summary = Mapping[str, Any] | HasToDict
"""A :class:`station.session.model.SessionSummary` or its ``to_dict()`` (or a subset of it)."""


class UnsafeSummary(ValueError):
    """A summary carried something the log must never store (free text, bytes, an image)."""


@dataclass(frozen=True)
class SessionRecord:
    id: int
    started_at: float
    ended_at: float | None
    checkpointed_at: float | None
    status: str
    jumps: int
    duration_s: float
    columns: Mapping[str, Any]
    faults: Mapping[str, Mapping[str, Any]]  # fault -> {seconds, warn_seconds, onsets}
    detail: Mapping[str, Any]
    uuid: str = ""
    """The session's idempotency key (kept out of to_dict: statistics only there)."""

    @property
    def day(self) -> date:
        return datetime.fromtimestamp(self.started_at).date()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, as `station sessions --json` prints it."""
        return {
            "id": self.id,
            "status": self.status,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "last_checkpoint_at": _iso(self.checkpointed_at),
            **{k: self.columns.get(k) for k in ("count_source", *_NUMERIC_COLUMNS, "top_fault")},
            "faults": {f: dict(v) for f, v in self.faults.items()},
            "cadence_series": self.detail.get("cadence_series", []),
            **{
                k: self.detail[k]
                for k in (*_WEIGHT_KEYS, *_FRAMING_KEYS, *_POSTURE_KEYS)
                if k in self.detail
            },
        }

    def csv_row(self) -> dict[str, Any]:
        """One flat row: the columns plus, per fault, seconds, warn seconds and onset count."""
        row: dict[str, Any] = {
            k: v for k, v in self.to_dict().items() if k not in ("faults", "cadence_series")
        }
        for fault in FAULTS:
            info = self.faults.get(fault, {})
            row[f"{fault}_fault_s"] = info.get("seconds", 0.0)
            row[f"{fault}_warn_s"] = info.get("warn_seconds", 0.0)
            row[f"{fault}_onsets"] = len(info.get("onsets", []))
        # only the CSV's columns: a detail such as the member's weight stays out of the export
        return {k: row.get(k) for k in csv_fields()}


def csv_fields() -> tuple[str, ...]:
    """The CSV export's columns: three per registered fault (station.faults)."""
    return (
        "id",
        "status",
        "started_at",
        "ended_at",
        "last_checkpoint_at",
        "count_source",
        *_NUMERIC_COLUMNS,
        "top_fault",
        *(f"{f}_{what}" for f in FAULTS for what in ("fault_s", "warn_s", "onsets")),
    )


def __getattr__(name: str) -> tuple[str, ...]:
    # `from station.storage.sessions import CSV_FIELDS` reads the faults registered when it runs
    if name == "CSV_FIELDS":
        return csv_fields()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class SessionLog:
    """The session log in ``STATE_DIR/sessions.sqlite3``. One instance per thread that uses it
    (sqlite3 connections are not shared across threads); the runtime's session thread owns
    the writer, readers open their own."""

    def __init__(self, path: str | Path, *, wall: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._wall = wall
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._switch_to_wal(timeout_s=10.0)
        # FULL: each checkpoint is on the card before checkpoint() returns (power-cut safe).
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def _switch_to_wal(self, timeout_s: float) -> None:
        # Switching the journal mode fails at once with "database is locked" while another
        # connection is creating or writing the file: SQLite does not call the busy handler
        # for it. Every reader opening the log beside the kiosk would then die at start-up.
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    @classmethod
    def in_state_dir(cls, state_dir: str | Path, **kwargs: Any) -> SessionLog:
        return cls(Path(state_dir) / SESSIONS_DB, **kwargs)

    # --- schema --------------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path} has schema version {version}, newer than this station knows "
                f"({SCHEMA_VERSION}); update the station software"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self._transaction():
                if self.schema_version >= target:
                    continue  # another process (the uplink, the console) migrated it first
                for statement in _statements(_MIGRATIONS[target]):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {target}")
            log.info("session log %s migrated to schema version %d", self.path, target)

    def _transaction(self) -> AbstractContextManager[None]:
        return immediate_transaction(self._db)

    # --- writing (the runtime) -----------------------------------------------------------------

    def begin(self, *, started_at: float | None = None, count_source: str = "mat") -> int:
        """A session started; returns its id. `started_at` is Unix time (default: now)."""
        _check_label("count_source", count_source)
        started = self._wall() if started_at is None else started_at
        with self._transaction():
            cur = self._db.execute(
                "INSERT INTO sessions (started_at, checkpointed_at, count_source, uuid) "
                "VALUES (?, ?, ?, ?)",
                (started, started, count_source, str(uuid.uuid4())),
            )
            session_id = cur.lastrowid
            assert session_id is not None
            self._db.executemany(
                "INSERT INTO session_faults (session_id, fault) VALUES (?, ?)",
                [(session_id, f) for f in FAULTS],
            )
        return int(session_id)

    def checkpoint(self, session_id: int, snapshot: Summary, *, at: float | None = None) -> None:
        """Save the running statistics of an open session (same shape as the summary)."""
        self._write(session_id, snapshot, status="open", at=at, ended_at=None)

    def finish(self, session_id: int, summary: Summary, *, ended_at: float | None = None) -> None:
        """The session ended: store its final summary. `ended_at` is Unix time (default: now)."""
        end = self._wall() if ended_at is None else ended_at
        self._write(session_id, summary, status="finished", at=end, ended_at=end)

    def close_interrupted(self) -> list[int]:
        """Mark sessions left open by a previous run (power cut, crash) as interrupted; their
        last checkpoint stays as their record. Call once at start-up; returns their ids."""
        with self._transaction():
            ids = [r[0] for r in self._db.execute("SELECT id FROM sessions WHERE status='open'")]
            self._db.execute("UPDATE sessions SET status='interrupted' WHERE status='open'")
        for session_id in ids:
            log.warning("session %d was cut short; keeping its last checkpoint", session_id)
        return ids

    def _write(
        self,
        session_id: int,
        summary: Summary,
        *,
        status: str,
        at: float | None,
        ended_at: float | None,
    ) -> None:
        data = _plain_summary(summary)
        now = self._wall() if at is None else at
        columns = {k: data[k] for k in (*_NUMERIC_COLUMNS, *_LABEL_KEYS) if k in data}
        detail = {
            k: v
            for k, v in data.items()
            if k not in ("fault_seconds", "fault_warn_seconds", "fault_onsets")
        }
        assignments = ", ".join(f"{k} = :{k}" for k in columns)
        params = {**columns, "id": session_id, "now": now, "status": status, "ended": ended_at}
        with self._transaction():
            row = self._db.execute(
                "SELECT status FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
            if row is None:
                raise KeyError(f"no session {session_id} in {self.path}")
            if row["status"] == "finished":
                raise ValueError(f"session {session_id} is already finished")
            self._db.execute(
                "UPDATE sessions SET checkpointed_at = :now, status = :status, "
                "ended_at = :ended, detail = :detail"
                + (f", {assignments}" if assignments else "")
                + " WHERE id = :id",
                {**params, "detail": json.dumps(detail)},
            )
            for fault in FAULTS:
                self._db.execute(
                    "UPDATE session_faults SET seconds = ?, warn_seconds = ?, onsets = ? "
                    "WHERE session_id = ? AND fault = ?",
                    (
                        float(data.get("fault_seconds", {}).get(fault, 0.0)),
                        float(data.get("fault_warn_seconds", {}).get(fault, 0.0)),
                        json.dumps(list(data.get("fault_onsets", {}).get(fault, []))),
                        session_id,
                        fault,
                    ),
                )

    # --- reading -------------------------------------------------------------------------------

    def sessions(
        self,
        *,
        since: date | datetime | None = None,
        until: date | datetime | None = None,
        every_row: bool = False,
    ) -> list[SessionRecord]:
        """Sessions started on or after `since` (a local date or datetime), oldest first;
        only rows that count as a session (a jump: :func:`counted_sql`), or with `every_row`
        the rows of no jump too (what the file holds: for checks that nothing else is
        written, never to offer)."""
        where, params = ([] if every_row else [counted_sql()]), []
        if since is not None:
            where.append("started_at >= ?")
            params.append(_timestamp(since))
        if until is not None:
            where.append("started_at < ?")
            params.append(_timestamp(until))
        sql = "SELECT * FROM sessions" + (f" WHERE {' AND '.join(where)}" if where else "")
        rows = self._db.execute(sql + " ORDER BY started_at, id", params).fetchall()
        return self._records(rows)

    def _records(self, rows: list[sqlite3.Row]) -> list[SessionRecord]:
        faults: dict[int, dict[str, dict[str, Any]]] = {}
        if rows:
            marks = ",".join("?" * len(rows))
            for f in self._db.execute(
                f"SELECT * FROM session_faults WHERE session_id IN ({marks})",
                [r["id"] for r in rows],
            ):
                faults.setdefault(f["session_id"], {})[f["fault"]] = {
                    "seconds": f["seconds"],
                    "warn_seconds": f["warn_seconds"],
                    "onsets": json.loads(f["onsets"]),
                }
        return [_record(r, faults.get(r["id"], {})) for r in rows]

    def get(self, session_id: int) -> SessionRecord | None:
        """One session by id (one indexed read: the station calls this at every session end,
        so it must not grow with the log)."""
        rows = self._db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchall()
        records = self._records(rows)
        return records[0] if records else None

    # --- the outbox ----------------------------------------------------------------------------

    def undelivered(
        self, consumer: str, *, after_id: int = 0, limit: int = 100
    ) -> list[SessionRecord]:
        """Finished or interrupted sessions that `consumer` has not confirmed, oldest first
        (the order they happened), from id `after_id` on; at most `limit` of them. Rows of no
        jump are never offered (nor marked: a consumer's cursor passes them by)."""
        rows = self._db.execute(
            f"SELECT * FROM sessions s WHERE s.status IN (?, ?) AND {counted_sql('s')} "
            "AND s.id > ? AND NOT EXISTS "
            "(SELECT 1 FROM session_deliveries d WHERE d.session_id = s.id AND d.consumer = ?) "
            "ORDER BY s.id LIMIT ?",
            (*FINAL_STATUSES, after_id, consumer, limit),
        ).fetchall()
        return self._records(rows)

    def final_through(self) -> int:
        """The highest id up to which every session is final (finished or interrupted): a
        consumer whose backlog is empty from its cursor may move its cursor here, so its next
        look at the outbox reads only new rows, however long the log (two index lookups)."""
        row = self._db.execute("SELECT MIN(id) FROM sessions WHERE status = 'open'").fetchone()
        if row[0] is not None:
            return int(row[0]) - 1
        return int(self._db.execute("SELECT COALESCE(MAX(id), 0) FROM sessions").fetchone()[0])

    def mark_delivered(self, consumer: str, session_id: int, *, at: float | None = None) -> None:
        """`consumer` has this session for good; marking twice is harmless."""
        with self._transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO session_deliveries (session_id, consumer, delivered_at) "
                "VALUES (?, ?, ?)",
                (session_id, consumer, self._wall() if at is None else at),
            )

    def delivered_ids(self, consumer: str) -> list[int]:
        """The sessions `consumer` has confirmed, in order (for tests and `station sessions`)."""
        rows = self._db.execute(
            "SELECT session_id FROM session_deliveries WHERE consumer = ? ORDER BY session_id",
            (consumer,),
        )
        return [int(r[0]) for r in rows]

    def open_session_uuid(self) -> str | None:
        """The uuid of the session running now (live progress names it), None between them."""
        row = self._db.execute(
            "SELECT uuid FROM sessions WHERE status = 'open' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return None if row is None else str(row[0])

    def jumps_since(self, since: date | datetime) -> int:
        """Jumps counted in the sessions started since `since` (a local date: today's)."""
        row = self._db.execute(
            "SELECT COALESCE(SUM(jumps), 0) FROM sessions WHERE started_at >= ?",
            (_timestamp(since),),
        ).fetchone()
        return int(row[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SessionLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


# --- helpers ------------------------------------------------------------------------------------


@contextmanager
def immediate_transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction that takes the write lock at once (so two writers never both read
    and then fail to upgrade), rolled back on any error. Shared with the members' database."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _check_label(key: str, value: Any) -> None:
    allowed = _LABEL_KEYS.get(key) or _DETAIL_LABEL_KEYS[key]
    if value is not None and value not in allowed:
        raise UnsafeSummary(f"{key} = {value!r}: expected one of {', '.join(allowed)}")


def _plain_summary(summary: Summary) -> dict[str, Any]:
    """The summary as a plain dict, after making sure it holds statistics only."""
    if hasattr(summary, "to_dict"):
        data = summary.to_dict()
        series = getattr(summary, "cadence_series", None)  # to_dict() leaves it out
        if series is not None and "cadence_series" not in data:
            data["cadence_series"] = [[round(t, 3), round(c, 2)] for t, c in series]
    else:
        data = dict(summary)
    for key, value in data.items():
        if key in _LABEL_KEYS or key in _DETAIL_LABEL_KEYS:
            _check_label(key, value)
        else:
            _check_numbers(key, value)
    return data


def _check_numbers(path: str, value: Any, depth: int = 0) -> None:
    """Numbers, booleans and None, possibly in lists or fault-keyed tables: nothing that could
    carry a name or a picture."""
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnsafeSummary(f"{path} = {value!r}: not a finite number")
        return
    if depth < 3 and isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_numbers(f"{path}[{i}]", item, depth + 1)
        return
    if depth < 2 and isinstance(value, Mapping):
        for k, item in value.items():
            if k not in FAULTS:
                raise UnsafeSummary(f"{path}.{k}: only fault names may key a table")
            _check_numbers(f"{path}.{k}", item, depth + 1)
        return
    raise UnsafeSummary(f"{path}: {type(value).__name__} values are never stored (statistics only)")


def _record(row: sqlite3.Row, faults: dict[str, dict[str, Any]]) -> SessionRecord:
    columns = {k: row[k] for k in ("count_source", *_NUMERIC_COLUMNS, "top_fault")}
    return SessionRecord(
        id=row["id"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        checkpointed_at=row["checkpointed_at"],
        status=row["status"],
        jumps=row["jumps"],
        duration_s=row["duration_s"],
        columns=columns,
        faults={f: faults[f] for f in FAULTS if f in faults},
        detail=json.loads(row["detail"]),
        uuid=row["uuid"] or "",
    )


def _timestamp(when: date | datetime) -> float:
    if isinstance(when, datetime):
        return when.timestamp()
    return datetime(when.year, when.month, when.day).timestamp()  # local midnight


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
