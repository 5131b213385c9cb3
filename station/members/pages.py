"""Storing the members' session pages: a session consumer, off the UI thread.

When a session ends, the thread that owns the screen only *hands over* what it showed: the
take-home link's token (drawn as a QR code on the summary at once), the personal code the
session is linked to, if any, and the page's statistics (:class:`FinishedPage`, in a
:class:`Handover`). It never touches the members' database. :class:`MemberPages`, registered
as the ``members`` consumer of the session outbox (:mod:`station.storage.outbox`), runs in its
own thread with its own SQLite connection: offered each finished session from the log, it
stores the page handed over for it and purges what has expired.

A members' database that is busy, locked, full or gone costs nothing on the screen: the
summary and its QR code show as ever, the consumer logs the problem, and the session stays
in its backlog and is offered again with back-off (2 s doubling to 60 s) until it can be
stored; until then the link answers "No such page". Storing a page again is harmless (the
same token), so a crash between storing and marking it delivered makes no duplicate.

What is lost, and why: the hand-over lives in memory (the token is the link's secret and the
code ties sessions to a member, so neither goes into the anonymous session log). A station
stopped while a page is still waiting loses that one page; the session itself is in the log,
and the restarted consumer marks it without a page. Sessions nobody was shown a link for
(members disabled, from before the members existed, interrupted by a power cut) are marked
the same way.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.config.loader import Config
from station.members.settings import MembersSettings
from station.members.store import MemberStore
from station.storage.outbox import ConsumerSite, register_consumer
from station.storage.sessions import SessionRecord

log = logging.getLogger(__name__)

CONSUMER_NAME = "members"

MAX_WAITING = 1000
"""Pages waiting for a members' database that stays broken: beyond this the oldest is dropped
(logged), so a months-long failure cannot grow the station's memory."""


@dataclass(frozen=True)
class FinishedPage:
    """What the summary screen showed for one logged session, for the consumer to store."""

    session_id: int  # the session log's row
    token: str  # the take-home link's secret (the QR code's URL ends with it)
    code: str | None  # the greeted personal code this session belongs to
    page: Mapping[str, Any]  # station.members.store.page_summary(...)
    shown_at: float  # Unix time: the link is valid from here
    valid_s: float


class Handover:
    """Finished pages by session id, from the UI thread to the consumer's thread."""

    def __init__(self, limit: int = MAX_WAITING) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._pages: OrderedDict[int, FinishedPage] = OrderedDict()

    def put(self, page: FinishedPage) -> None:
        with self._lock:
            self._pages[page.session_id] = page
            while len(self._pages) > self.limit:
                dropped, _ = self._pages.popitem(last=False)
                log.error("members: session %d's page waited too long; dropped", dropped)

    def get(self, session_id: int) -> FinishedPage | None:
        with self._lock:
            return self._pages.get(session_id)

    def done(self, session_id: int) -> None:
        with self._lock:
            self._pages.pop(session_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pages)


class MemberPages:
    """The ``members`` session consumer: stores each handed-over page in its own thread."""

    name = CONSUMER_NAME

    def __init__(
        self,
        path: Path,
        handover: Handover,
        settings: Callable[[], MembersSettings],
    ) -> None:
        self.path = path
        self.handover = handover
        self.settings = settings  # read at each delivery: a SIGHUP's new [members] applies
        self._store: MemberStore | None = None
        self.stored = 0

    def deliver(self, session: SessionRecord) -> bool:
        finished = self.handover.get(session.id)
        if finished is None:
            return True  # nobody was shown a link for this session: nothing to store
        try:
            store = self._open()
            store.add_page(
                finished.page,
                now=finished.shown_at,
                valid_s=finished.valid_s,
                code=finished.code,
                token=finished.token,
            )
        except (sqlite3.Error, OSError) as exc:
            # busy, locked, full, read-only, gone: the page waits and is offered again
            log.warning("members: session %d's page not stored yet (%s)", session.id, exc)
            self.close()
            return False
        self.handover.done(session.id)
        self.stored += 1
        self._purge(store, finished.shown_at)
        return True

    def _open(self) -> MemberStore:
        if self._store is None:
            self._store = MemberStore(self.path)
        return self._store

    def _purge(self, store: MemberStore, now: float) -> None:
        """Retention runs after each stored page; failing costs nothing (tried next time)."""
        try:
            store.purge(now=now, keep_days=float(self.settings().keep_days))
        except (sqlite3.Error, OSError) as exc:
            log.warning("members: purging expired pages failed (%s); tried again next time", exc)

    def close(self) -> None:
        if self._store is not None:
            with contextlib.suppress(sqlite3.Error):  # a broken connection is gone anyway
                self._store.close()
            self._store = None


@register_consumer(CONSUMER_NAME)
def member_pages(config: Config, site: ConsumerSite) -> MemberPages | None:
    """Enabled wherever the station has a members' desk (whether [members] enabled is on
    decides, per session, whether anything is handed over)."""
    desk = site.services.get("members")
    if desk is None:
        return None
    return MemberPages(desk.store.path, desk.handover, lambda: desk.settings)
