"""The gym's (or the chain's) fleet database: every station's sessions, latest status, live
progress and config answer, in ONE SQL schema that SQLite (one gym) and PostgreSQL (a chain)
both run unchanged.

Written by ``station fleet record`` (:mod:`station.fleet.recorder`), read by ``station fleet
status`` and the console's Gym page. Each session is keyed by its uuid, inserted with ``ON
CONFLICT DO NOTHING``: however often the broker redelivers it, it is stored once. Writes are one
transaction per batch, durable before :meth:`FleetStore.write` returns (SQLite WAL with
``synchronous=FULL``; PostgreSQL's default ``synchronous_commit=on``), so the recorder
acknowledges a message only once its row is on disk.

Everything here is portable SQL: ``TEXT``, ``BIGINT``, ``DOUBLE PRECISION``, ``INSERT … ON
CONFLICT``, ``RETURNING`` (SQLite ≥ 3.35, PostgreSQL ≥ 9.5). Times are Unix seconds (UTC).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import sqlite3
import time
import uuid as uuid_module
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from station.events import FAULTS
from station.fleet import wire
from station.storage.sessions import CSV_FIELDS, STATUSES, immediate_transaction

SCHEMA_VERSION = 1

# One text for both engines. `record` is the station's SessionRecord.to_dict() as JSON: the
# columns beside it are copies for querying (per day, per station) without parsing JSON.
SCHEMA = """
CREATE TABLE IF NOT EXISTS fleet_meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fleet_sessions (
    uuid                 TEXT PRIMARY KEY,
    site                 TEXT NOT NULL,
    station_id           TEXT NOT NULL,
    station_session_id   BIGINT,
    status               TEXT NOT NULL,
    started_at           DOUBLE PRECISION NOT NULL,
    ended_at             DOUBLE PRECISION,
    duration_s           DOUBLE PRECISION NOT NULL,
    jumps                BIGINT NOT NULL,
    best_streak          BIGINT,
    cadence_avg_per_min  DOUBLE PRECISION,
    hard_landings        BIGINT,
    count_source         TEXT,
    top_fault            TEXT,
    record               TEXT NOT NULL,
    received_at          DOUBLE PRECISION NOT NULL,
    recorded_at          DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS fleet_sessions_day ON fleet_sessions (started_at, site);
CREATE INDEX IF NOT EXISTS fleet_sessions_station ON fleet_sessions (site, station_id, started_at);
CREATE TABLE IF NOT EXISTS fleet_stations (
    site             TEXT NOT NULL,
    station_id       TEXT NOT NULL,
    status           TEXT,
    status_at        DOUBLE PRECISION,
    live             TEXT,
    live_at          DOUBLE PRECISION,
    config_state     TEXT,
    config_state_at  DOUBLE PRECISION,
    PRIMARY KEY (site, station_id)
);
CREATE TABLE IF NOT EXISTS fleet_rejects (
    id           TEXT PRIMARY KEY,
    topic        TEXT NOT NULL,
    payload      TEXT NOT NULL,
    reason       TEXT NOT NULL,
    received_at  DOUBLE PRECISION NOT NULL
)
"""

_SESSION_COLUMNS = (
    "uuid",
    "site",
    "station_id",
    "station_session_id",
    "status",
    "started_at",
    "ended_at",
    "duration_s",
    "jumps",
    "best_streak",
    "cadence_avg_per_min",
    "hard_landings",
    "count_source",
    "top_fault",
    "record",
    "received_at",
    "recorded_at",
)
_STATION_KINDS = {"status": "status", "live": "live", "config/state": "config_state"}
"""Topic kind -> the fleet_stations column pair (``<col>``, ``<col>_at``) holding its latest."""


class StoreError(RuntimeError):
    """The fleet database cannot be opened or written; the message names it and the cause."""


# --- what the recorder writes -------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRow:
    uuid: str
    site: str
    station_id: str
    record: Mapping[str, Any]
    started_at: float
    received_at: float


@dataclass(frozen=True)
class StationUpdate:
    site: str
    station_id: str
    kind: str  # "status", "live" or "config/state"
    payload: Mapping[str, Any]
    received_at: float


@dataclass(frozen=True)
class Reject:
    topic: str
    payload: bytes
    reason: str
    received_at: float


Item = SessionRow | StationUpdate | Reject | None
"""One parsed message; None for what the recorder does not keep (a config/set)."""


def parse_message(topic: str, payload: bytes, received_at: float) -> Item:
    """A wire-format message as what the store keeps; a :class:`Reject` (kept, with the
    reason) for anything that is not valid version-1 fleet format."""
    try:
        site, station_id, kind = wire.parse_topic(topic)
        if kind == "config/set":
            return None
        data = wire.decode(payload)
        if kind == "session":
            return _session_row(site, station_id, data, received_at)
        return StationUpdate(site, station_id, kind, data, received_at)
    except wire.WireError as exc:
        return Reject(topic, payload, str(exc), received_at)


def _session_row(
    site: str, station_id: str, data: dict[str, Any], received_at: float
) -> SessionRow:
    try:
        key = str(uuid_module.UUID(str(data.get("uuid"))))
    except ValueError:
        raise wire.WireError(f"session uuid {data.get('uuid')!r} is not a UUID") from None
    if (data.get("site"), data.get("station_id")) != (site, station_id):
        raise wire.WireError(
            f"session names {data.get('site')!r}/{data.get('station_id')!r} "
            f"but came on {site}/{station_id}'s topic"
        )
    record = data.get("session")
    if not isinstance(record, dict):
        raise wire.WireError("session: missing the session record object")
    if record.get("status") not in STATUSES:
        raise wire.WireError(f"session status {record.get('status')!r}: expected one of {STATUSES}")
    started = _iso_to_unix(record.get("started_at"), "started_at")
    _iso_to_unix(record.get("ended_at"), "ended_at", optional=True)
    for name in ("jumps", "duration_s"):
        value = record.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wire.WireError(f"session {name} = {value!r}: not a number")
        if not math.isfinite(value) or value < 0:
            raise wire.WireError(f"session {name} = {value!r}: not a finite number ≥ 0")
    return SessionRow(key, site, station_id, record, started, received_at)


def _iso_to_unix(text: Any, name: str, *, optional: bool = False) -> float:
    if text is None and optional:
        return math.nan
    try:
        when = datetime.fromisoformat(str(text))
    except ValueError:
        raise wire.WireError(f"session {name} {text!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise wire.WireError(f"session {name} {text!r} has no time zone")
    return when.timestamp()


# --- the database -------------------------------------------------------------------------------


def is_postgres(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def describe(target: str) -> str:
    """The database for messages: a path, or a URL with any password removed."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", target)


@dataclass
class WriteResult:
    new_sessions: list[str] = field(default_factory=list)
    duplicates: int = 0
    rejects: int = 0


class FleetStore:
    """A connection to the fleet database: a SQLite file path (created if missing) or a
    ``postgresql://`` URL. One per thread."""

    def __init__(self, target: str | Path, *, readonly: bool = False) -> None:
        self.target = str(target)
        self.where = describe(self.target)
        self.postgres = is_postgres(self.target)
        self._db: Any
        try:
            if self.postgres:
                import psycopg

                self._db = psycopg.connect(self.target, autocommit=True, connect_timeout=10)
            else:
                path = Path(self.target)
                if readonly:
                    if not path.exists():
                        raise StoreError(f"no fleet database at {path}")
                    self._db = sqlite3.connect(
                        f"file:{path}?mode=ro", uri=True, timeout=10.0, isolation_level=None
                    )
                else:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    self._db = sqlite3.connect(path, timeout=10.0, isolation_level=None)
                    self._db.execute("PRAGMA journal_mode=WAL")
                    # FULL: a committed batch is on disk before its messages are acknowledged.
                    self._db.execute("PRAGMA synchronous=FULL")
            if not readonly:
                self._create()
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot open the fleet database {self.where}: {_cause(exc)}") from exc

    # --- plumbing -------------------------------------------------------------------------------

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.postgres else text

    def _execute(self, text: str, params: Sequence[Any] = ()) -> Any:
        return self._db.execute(self._sql(text), tuple(params))

    def _fetch(self, text: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of a query; :class:`StoreError` naming the database when it cannot be read."""
        try:
            return list(self._execute(text, params).fetchall())
        except Exception as exc:
            raise StoreError(f"cannot read the fleet database {self.where}: {_cause(exc)}") from exc

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        if self.postgres:
            with self._db.transaction():
                yield
        else:
            with immediate_transaction(self._db):
                yield

    def _create(self) -> None:
        with self._transaction():
            for statement in (s.strip() for s in SCHEMA.split(";")):
                if statement:
                    self._execute(statement)
            row = self._execute(
                "SELECT value FROM fleet_meta WHERE key = 'schema_version'"
            ).fetchone()
            if row is None:
                self._execute(
                    "INSERT INTO fleet_meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.where} has fleet schema version {row[0]}, newer than this "
                    f"software knows ({SCHEMA_VERSION}); update station"
                )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._db.close()

    def __enter__(self) -> FleetStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- writing (the recorder) -----------------------------------------------------------------

    def write(self, items: Iterable[Item], *, now: float | None = None) -> WriteResult:
        """Store a batch in one durable transaction: every session once (a uuid already there
        is left as it is), the newest status/live/config answer per station, rejects kept.
        :class:`StoreError` (and nothing written) when the database cannot take it."""
        result = WriteResult()
        latest: dict[tuple[str, str, str], StationUpdate] = {}
        sessions: list[SessionRow] = []
        rejects: list[Reject] = []
        for item in items:
            if isinstance(item, SessionRow):
                sessions.append(item)
            elif isinstance(item, StationUpdate):
                latest[(item.site, item.station_id, item.kind)] = item  # later wins
            elif isinstance(item, Reject):
                rejects.append(item)
        recorded_at = time.time() if now is None else now
        try:
            with self._transaction():
                result.new_sessions = self._insert_sessions(sessions, recorded_at)
                result.duplicates = len(sessions) - len(result.new_sessions)
                for update in latest.values():
                    self._upsert_station(update)
                for reject in rejects:
                    self._execute(
                        "INSERT INTO fleet_rejects (id, topic, payload, reason, received_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (
                            str(uuid_module.uuid4()),
                            reject.topic,
                            reject.payload.decode("utf-8", "replace"),
                            reject.reason,
                            reject.received_at,
                        ),
                    )
                    result.rejects += 1
        except Exception as exc:
            raise StoreError(
                f"cannot write to the fleet database {self.where}: {_cause(exc)}"
            ) from exc
        return result

    def _insert_sessions(self, rows: list[SessionRow], recorded_at: float) -> list[str]:
        """Insert the rows not there yet; the uuids that were new."""
        if not rows:
            return []
        marks = ", ".join("?" * len(_SESSION_COLUMNS))
        sql = self._sql(
            f"INSERT INTO fleet_sessions ({', '.join(_SESSION_COLUMNS)}) VALUES ({marks}) "
            "ON CONFLICT (uuid) DO NOTHING RETURNING uuid"
        )
        values = [_session_values(row, recorded_at) for row in rows]
        new: list[str] = []
        if self.postgres:  # one round trip for the batch (psycopg's pipelined executemany)
            cur = self._db.cursor()
            cur.executemany(sql, values, returning=True)
            while True:
                found = cur.fetchone()
                if found is not None:
                    new.append(found[0])
                if not cur.nextset():
                    break
        else:
            for value in values:
                found = self._db.execute(sql, value).fetchone()
                if found is not None:
                    new.append(found[0])
        return new

    def _upsert_station(self, update: StationUpdate) -> None:
        col = _STATION_KINDS[update.kind]
        self._execute(
            f"INSERT INTO fleet_stations (site, station_id, {col}, {col}_at) VALUES (?, ?, ?, ?) "
            f"ON CONFLICT (site, station_id) DO UPDATE SET {col} = excluded.{col}, "
            f"{col}_at = excluded.{col}_at",
            (
                update.site,
                update.station_id,
                json.dumps(update.payload, separators=(",", ":")),
                update.received_at,
            ),
        )

    # --- reading (fleet status, the Gym page, tests) --------------------------------------------

    def session_count(self, site: str | None = None) -> int:
        sql, params = "SELECT count(*) FROM fleet_sessions", []
        if site:
            sql, params = sql + " WHERE site = ?", [site]
        return int(self._fetch(sql, params)[0][0])

    def sessions(
        self,
        *,
        site: str | None = None,
        station_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[dict[str, Any]]:
        """Sessions (oldest first) as ``{uuid, site, station_id, recorded_at, session}``."""
        where, params = _where(site=site, station_id=station_id, since=since, until=until)
        rows = self._fetch(
            "SELECT uuid, site, station_id, received_at, recorded_at, record FROM fleet_sessions"
            f"{where} ORDER BY started_at, site, station_id, uuid",
            params,
        )
        return [
            {
                "uuid": r[0],
                "site": r[1],
                "station_id": r[2],
                "received_at": r[3],
                "recorded_at": r[4],
                "session": json.loads(r[5]),
            }
            for r in rows
        ]

    def per_station(
        self, *, site: str | None = None, since: float | None = None, until: float | None = None
    ) -> dict[tuple[str, str], dict[str, float]]:
        """Per station: sessions, jumps and seconds jumped, over the sessions in the range."""
        where, params = _where(site=site, since=since, until=until)
        rows = self._fetch(
            "SELECT site, station_id, count(*), sum(jumps), sum(duration_s) FROM fleet_sessions"
            f"{where} GROUP BY site, station_id",
            params,
        )
        return {
            (r[0], r[1]): {"sessions": int(r[2]), "jumps": int(r[3]), "duration_s": float(r[4])}
            for r in rows
        }

    def stations(self, *, site: str | None = None) -> list[dict[str, Any]]:
        """Every station heard from (by status, live, config answer or a session), with its
        latest status, live progress and config answer (None when never heard)."""
        where, params = _where(site=site)
        known = {
            (r[0], r[1]): r
            for r in self._fetch(
                "SELECT site, station_id, status, status_at, live, live_at, config_state, "
                f"config_state_at FROM fleet_stations{where}",
                params,
            )
        }
        for r in self._fetch(
            f"SELECT DISTINCT site, station_id FROM fleet_sessions{where}", params
        ):
            known.setdefault((r[0], r[1]), (r[0], r[1], None, None, None, None, None, None))
        out = []
        for key in sorted(known):
            r = known[key]
            out.append(
                {
                    "site": r[0],
                    "station_id": r[1],
                    "status": json.loads(r[2]) if r[2] else None,
                    "status_at": r[3],
                    "live": json.loads(r[4]) if r[4] else None,
                    "live_at": r[5],
                    "config_state": json.loads(r[6]) if r[6] else None,
                    "config_state_at": r[7],
                }
            )
        return out

    def recorded_since(self, when: float) -> list[str]:
        """The uuids of sessions recorded at or after Unix time ``when``."""
        rows = self._fetch("SELECT uuid FROM fleet_sessions WHERE recorded_at >= ?", (when,))
        return [r[0] for r in rows]

    def rejects(self) -> list[dict[str, Any]]:
        rows = self._fetch(
            "SELECT topic, payload, reason, received_at FROM fleet_rejects ORDER BY received_at"
        )
        return [{"topic": r[0], "payload": r[1], "reason": r[2], "received_at": r[3]} for r in rows]


def _session_values(row: SessionRow, recorded_at: float) -> tuple[Any, ...]:
    rec = row.record
    ended = _iso_to_unix(rec.get("ended_at"), "ended_at", optional=True)
    return (
        row.uuid,
        row.site,
        row.station_id,
        _int_or_none(rec.get("id")),
        rec["status"],
        row.started_at,
        None if math.isnan(ended) else ended,
        float(rec["duration_s"]),
        int(rec["jumps"]),
        _int_or_none(rec.get("best_streak")),
        _float_or_none(rec.get("cadence_avg_per_min")),
        _int_or_none(rec.get("hard_landings")),
        _label(rec.get("count_source")),
        _label(rec.get("top_fault")),
        json.dumps(rec, separators=(",", ":")),
        row.received_at,
        recorded_at,
    )


def _where(**filters: Any) -> tuple[str, list[Any]]:
    clauses, params = [], []
    for name, value in filters.items():
        if value is None:
            continue
        if name == "since":
            clauses.append("started_at >= ?")
        elif name == "until":
            clauses.append("started_at < ?")
        else:
            clauses.append(f"{name} = ?")
        params.append(value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _cause(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0] if "\n" in text else text


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return int(value)


def _float_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _label(value: Any) -> str | None:
    return value if isinstance(value, str) and len(value) <= 40 else None


# --- day boundaries and CSV ---------------------------------------------------------------------


def day_range(day: date) -> tuple[float, float]:
    """Unix times of the local midnight starting ``day`` and of the next one."""
    start = datetime(day.year, day.month, day.day)
    end = datetime.fromordinal(day.toordinal() + 1)
    return start.timestamp(), end.timestamp()


FLEET_CSV_FIELDS: tuple[str, ...] = ("site", "station_id", "uuid", *CSV_FIELDS)


def csv_row(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One flat CSV row of a stored session (as :meth:`FleetStore.sessions` returns it): the
    station's own columns (as ``station sessions --csv``), prefixed by where it came from."""
    record = entry["session"]
    row: dict[str, Any] = {k: entry[k] for k in ("site", "station_id", "uuid")}
    for name in CSV_FIELDS:
        if name in record and not isinstance(record[name], dict | list):
            row[name] = record[name]
    faults = record.get("faults") or {}
    for fault in FAULTS:
        info = faults.get(fault) or {}
        row[f"{fault}_fault_s"] = info.get("seconds", 0.0)
        row[f"{fault}_warn_s"] = info.get("warn_seconds", 0.0)
        row[f"{fault}_onsets"] = len(info.get("onsets") or [])
    return row
