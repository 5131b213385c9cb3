"""The members' database: session pages behind take-home links, personal codes and their
histories. SQLite (WAL) in ``STATE_DIR/members.sqlite3``, beside the session log but apart from
it: the session log stays anonymous, and deleting a code here deletes all that was ever
linked to it.

Tables (tokens and codes only as SHA-256, see :mod:`station.members.tokens`):

* ``pages``: one per finished session shown on the summary screen: its statistics, until
  ``expires_at``; after that only the token's digest stays (for a clear "this link has
  expired" page) for :data:`EXPIRED_NOTICE_DAYS`, then the row goes.
* ``codes``: personal codes, with when they were made and last used.
* ``history``: a copy of each session's statistics per code, deleted with the code (on the
  member's request, a trainer's, or after ``members.keep_days`` without a session).

Statistics only: :func:`page_summary` builds the stored record from known numeric fields of a
session summary, so there is no way for a picture, a name or free text to get in.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from station.events import FAULTS
from station.members.tokens import digest, new_token, well_formed
from station.storage.sessions import immediate_transaction

MEMBERS_DB = "members.sqlite3"
EXPIRED_NOTICE_DAYS = 30
"""How long an expired link still gets "this link has expired" rather than "not found"."""

DAY_S = 86400.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    token_hash  TEXT PRIMARY KEY,
    created_at  REAL NOT NULL,          -- Unix time
    expires_at  REAL NOT NULL,
    code_hash   TEXT,                   -- set once the member keeps it in a history
    summary     TEXT                    -- JSON statistics, NULL once expired
);
CREATE TABLE IF NOT EXISTS codes (
    code_hash        TEXT PRIMARY KEY,
    created_at       REAL NOT NULL,
    last_session_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    id          INTEGER PRIMARY KEY,
    code_hash   TEXT NOT NULL REFERENCES codes (code_hash) ON DELETE CASCADE,
    started_at  REAL NOT NULL,
    summary     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_code ON history (code_hash, started_at);
"""

_NUMBERS = (
    "duration_s",
    "jumps",
    "best_streak",
    "cadence_avg_per_min",
    "cadence_peak_per_min",
)


def page_summary(summary: Any, started_at: float) -> dict[str, Any]:
    """The statistics a member's page shows, from a SessionSummary (or anything with its
    fields): numbers, the cadence series, seconds per fault and two known labels."""
    out: dict[str, Any] = {"started_at": float(started_at)}
    for name in _NUMBERS:
        out[name] = float(getattr(summary, name))
    out["jumps"] = int(summary.jumps)
    out["best_streak"] = int(summary.best_streak)
    out["cadence_series"] = [
        [round(float(t), 2), round(float(c), 1)] for t, c in summary.cadence_series
    ]
    seconds = summary.fault_seconds
    out["fault_seconds"] = {f: round(float(seconds.get(f, 0.0)), 2) for f in FAULTS}
    top = summary.top_fault
    out["top_fault"] = top if top in FAULTS else None
    out["count_source"] = "camera" if summary.count_source == "camera" else "mat"
    return out


@dataclass(frozen=True)
class PageLookup:
    """What a take-home link leads to: a live page, an expired one, or nothing known."""

    state: Literal["ok", "expired", "unknown"]
    summary: Mapping[str, Any] | None = None
    kept: bool = False
    expires_at: float = 0.0


@dataclass(frozen=True)
class CodeInfo:
    """One personal code as a trainer sees it: no code, only its digest's first characters."""

    code_hash: str
    created_at: float
    last_session_at: float
    sessions: int

    @property
    def short(self) -> str:
        return self.code_hash[:10]


class MemberStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA synchronous=FULL")
        with self._transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)

    @classmethod
    def in_state_dir(cls, state_dir: str | Path) -> MemberStore:
        return cls(Path(state_dir) / MEMBERS_DB)

    def _transaction(self) -> AbstractContextManager[None]:
        return immediate_transaction(self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> MemberStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- session pages ------------------------------------------------------------------------

    def add_page(
        self,
        summary: Mapping[str, Any],
        *,
        now: float,
        valid_s: float,
        code: str | None = None,
        token: str | None = None,
    ) -> str:
        """Store one session's page; returns its token (a new one unless `token` is given:
        the one already shown on the summary screen). With `code` (a personal code shown on
        the idle screen) the session also goes into that code's history. Storing the same
        token again changes nothing (a consumer retrying after a crash adds no second page
        or history entry)."""
        token = new_token() if token is None else token
        if not well_formed(token):
            raise ValueError("a page's token must be 22 URL-safe characters")
        text = json.dumps(summary)
        code_hash = digest(code) if code is not None else None
        with self._transaction():
            if code_hash is not None and not self._code_known(code_hash):
                code_hash = None  # deleted between the greeting and the session's end
            added = self._db.execute(
                "INSERT OR IGNORE INTO pages (token_hash, created_at, expires_at, code_hash, "
                "summary) VALUES (?, ?, ?, ?, ?)",
                (digest(token), now, now + valid_s, code_hash, text),
            ).rowcount
            if added and code_hash is not None:
                self._add_history(code_hash, summary, now)
        return token

    def page(self, token: str, *, now: float) -> PageLookup:
        if not well_formed(token):
            return PageLookup("unknown")
        row = self._db.execute(
            "SELECT expires_at, code_hash, summary FROM pages WHERE token_hash = ?",
            (digest(token),),
        ).fetchone()
        if row is None:
            return PageLookup("unknown")
        if now >= row["expires_at"] or row["summary"] is None:
            return PageLookup("expired", expires_at=row["expires_at"])
        return PageLookup(
            "ok", json.loads(row["summary"]), row["code_hash"] is not None, row["expires_at"]
        )

    def keep(self, token: str, *, now: float) -> tuple[PageLookup, str | None]:
        """ "Keep my history" on a session's page: a new personal code holding this session.
        Returns the page as it was and the code, or None when the page is not live or is
        already kept (a replayed request makes no second code)."""
        lookup = self.page(token, now=now)
        if lookup.state != "ok" or lookup.kept:
            return lookup, None
        assert lookup.summary is not None
        code = new_token()
        code_hash = digest(code)
        with self._transaction():
            cur = self._db.execute(
                "UPDATE pages SET code_hash = ? WHERE token_hash = ? AND code_hash IS NULL",
                (code_hash, digest(token)),
            )
            if cur.rowcount != 1:  # a concurrent keep won
                return lookup, None
            self._db.execute(
                "INSERT INTO codes (code_hash, created_at, last_session_at) VALUES (?, ?, ?)",
                (code_hash, now, now),
            )
            self._add_history(code_hash, lookup.summary, now)
        return lookup, code

    # --- personal codes -----------------------------------------------------------------------

    def code_known(self, code: str) -> bool:
        return well_formed(code) and self._code_known(digest(code))

    def _code_known(self, code_hash: str) -> bool:
        row = self._db.execute("SELECT 1 FROM codes WHERE code_hash = ?", (code_hash,))
        return row.fetchone() is not None

    def _add_history(self, code_hash: str, summary: Mapping[str, Any], now: float) -> None:
        started = float(summary.get("started_at", now))
        self._db.execute(
            "INSERT INTO history (code_hash, started_at, summary) VALUES (?, ?, ?)",
            (code_hash, started, json.dumps(summary)),
        )
        self._db.execute(
            "UPDATE codes SET last_session_at = max(last_session_at, ?) WHERE code_hash = ?",
            (now, code_hash),
        )

    def history(self, code: str) -> list[dict[str, Any]] | None:
        """The code's sessions, oldest first; None for an unknown (or deleted) code."""
        if not self.code_known(code):
            return None
        rows = self._db.execute(
            "SELECT summary FROM history WHERE code_hash = ? ORDER BY started_at, id",
            (digest(code),),
        ).fetchall()
        return [json.loads(r["summary"]) for r in rows]

    def delete_code(self, code: str) -> bool:
        """The member's own deletion (they hold the code)."""
        return well_formed(code) and self.delete_code_hash(digest(code))

    def delete_code_hash(self, code_hash: str) -> bool:
        """A trainer's deletion (they see only digests). The history goes with the code, and
        the pages linked to it forget the link."""
        with self._transaction():
            self._db.execute("UPDATE pages SET code_hash = NULL WHERE code_hash = ?", (code_hash,))
            cur = self._db.execute("DELETE FROM codes WHERE code_hash = ?", (code_hash,))
        return cur.rowcount == 1

    def codes(self) -> list[CodeInfo]:
        rows = self._db.execute(
            "SELECT c.code_hash, c.created_at, c.last_session_at, count(h.id) AS n "
            "FROM codes c LEFT JOIN history h ON h.code_hash = c.code_hash "
            "GROUP BY c.code_hash ORDER BY c.last_session_at DESC"
        ).fetchall()
        return [CodeInfo(r[0], r[1], r[2], r[3]) for r in rows]

    # --- retention ----------------------------------------------------------------------------

    def purge(self, *, now: float, keep_days: float) -> tuple[int, int]:
        """Expired pages lose their statistics (and go entirely after EXPIRED_NOTICE_DAYS);
        codes unused for `keep_days` go with their history. Returns (pages, codes) removed."""
        with self._transaction():
            self._db.execute(
                "UPDATE pages SET summary = NULL WHERE expires_at <= ? AND summary IS NOT NULL",
                (now,),
            )
            pages = self._db.execute(
                "DELETE FROM pages WHERE expires_at <= ?", (now - EXPIRED_NOTICE_DAYS * DAY_S,)
            ).rowcount
            stale = now - keep_days * DAY_S
            self._db.execute(
                "UPDATE pages SET code_hash = NULL WHERE code_hash IN "
                "(SELECT code_hash FROM codes WHERE last_session_at < ?)",
                (stale,),
            )
            codes = self._db.execute(
                "DELETE FROM codes WHERE last_session_at < ?", (stale,)
            ).rowcount
        return pages, codes
