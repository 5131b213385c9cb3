"""The station's side of members: what the runtime calls, on the thread that owns the session.

* On the **idle** screen, every :data:`SCAN_PERIOD_S` the newest camera picture is searched for
  a personal code (OpenCV's QR detector); nothing is scanned in any other phase, so a session
  in progress costs nothing and a code shown mid-session is ignored. A known code is greeted
  ("welcome back") for :data:`WELCOME_HOLD_S`: the next person to step on in that time is
  taken to be the member, and their session is linked to the code. A go on the mat that ends
  without a jump was no session: the greeting comes back, but only for :data:`RETURN_S` from
  then (the member stepping straight back on), not for the rest of the hold: whoever steps on
  later may be anyone, and a member's history must hold only their own sessions (they show
  the code again, which takes half a second, rather than find a stranger's session there).
* When a session ends its statistics become a page behind a new take-home token; the summary
  screen shows that URL as a QR code at once, and the page is handed over to the ``members``
  session consumer, which stores it in its own thread (:mod:`station.members.pages`): this
  thread never writes the members' database.

Pure logic apart from the store and the reader it is given: time comes from the caller.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from station.members.pages import FinishedPage, Handover
from station.members.qr import QrMatrix, QrReader, make_matrix
from station.members.settings import MembersSettings
from station.members.store import MemberStore, page_summary
from station.members.tokens import code_from_qr, new_token, session_url

log = logging.getLogger(__name__)

SCAN_PERIOD_S = 0.5
"""Two looks a second: a member holding a code up is seen within half a second, and the
detector's cost is spread thin (see `station bench members`)."""

WELCOME_HOLD_S = 30.0
"""A greeted code waits this long for its member to step on (pocket the phone, pick up the
rope); then it is forgotten. Short, because whoever steps on in this time is linked: the
member who walks away instead must not hand their greeting to the next person."""

RETURN_S = 10.0
"""A greeted member who stepped on and off without a jump is greeted again this long from
when the station saw them go (the session dropped), to step straight back on."""


@dataclass(frozen=True)
class TakeHome:
    """The summary screen's QR code: the session page's URL and its symbol."""

    url: str
    matrix: QrMatrix


class MemberDesk:
    def __init__(
        self,
        store: MemberStore,
        settings: MembersSettings,
        *,
        reader: QrReader | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.settings = settings
        self.wall = wall
        self._reader = reader
        self._next_scan = float("-inf")
        self._greeted: str | None = None  # a personal code waiting for its session
        self._greeted_until = 0.0  # ...until this time (the caller's clock)
        self._session_code: str | None = None  # the code the running session is linked to
        self.take_home: TakeHome | None = None  # the last finished session's link
        self.handover = Handover()  # pages for the consumer thread to store
        self.scans = 0
        self.scan_s = 0.0  # CPU seconds spent scanning (the benchmark reads it)

    @classmethod
    def in_state_dir(cls, state_dir: str | Path, settings: MembersSettings) -> MemberDesk:
        return cls(MemberStore.in_state_dir(state_dir), settings)

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    @property
    def greeting(self) -> bool:
        """True while a personal code is greeted on the idle screen."""
        return self._greeted is not None

    # --- idle: reading personal codes ---------------------------------------------------------

    def idle_tick(self, now: float, picture: Callable[[], NDArray[np.uint8] | None]) -> None:
        """On the idle screen, once per frame; `picture` gives the camera's newest image."""
        self.take_home = None
        self._forget_if_due(now)
        if not self.enabled or now < self._next_scan:
            return
        self._next_scan = now + SCAN_PERIOD_S
        try:
            image = picture()
            code = self._scan(image) if image is not None else None
            known = code is not None and self.store.code_known(code)
        except Exception:  # a broken picture or database costs the greeting, not the station
            log.exception("members: reading a personal code failed")
            return
        if known:
            if code != self._greeted:
                log.info("members: welcome back (a personal code)")
            self._greeted, self._greeted_until = code, now + WELCOME_HOLD_S

    def _forget_if_due(self, now: float) -> None:
        if self._greeted is not None and now > self._greeted_until:
            log.info("members: a greeted code had no session; forgotten")
            self._greeted = None

    def _scan(self, image: NDArray[np.uint8]) -> str | None:
        if self._reader is None:
            self._reader = QrReader()
        start = time.thread_time()
        try:
            texts = self._reader.read(image)
        finally:
            self.scan_s += time.thread_time() - start
            self.scans += 1
        for text in texts:
            code = code_from_qr(text)
            if code is not None:
                return code
        return None

    # --- a session's life ---------------------------------------------------------------------

    def session_started(self, now: float) -> None:
        """Calibration began at `now`: a code still greeted (its time not up: checked here
        too, as the idle screen may not have ticked since) belongs to this session. The last
        session's link stays: its summary may still be on the screen (until this session's
        first jump), and the member it belongs to may be standing here to scan it."""
        self._forget_if_due(now)
        self._session_code, self._greeted = self._greeted, None

    def session_dropped(self, now: float) -> None:
        """The session ended at `now` without a jump: it was no session, so it took no link.
        A code greeted for it is greeted again for :data:`RETURN_S`: the member who stepped
        off without jumping and straight back on keeps the link; someone stepping on after
        that is not taken for them."""
        if self._session_code is not None:
            self._greeted, self._session_code = self._session_code, None
            self._greeted_until = now + RETURN_S

    def session_ended(
        self, summary: Any, started_at: float, session_id: int | None
    ) -> TakeHome | None:
        """The session's take-home link, shown at once; its page (linked to the greeted code,
        if any) is handed over for the ``members`` consumer to store, keyed by the session
        log's row `session_id`. None when disabled, or when the session could not be logged
        (no row: the consumers never hear of it, so a link would lead nowhere)."""
        code, self._session_code = self._session_code, None
        self.take_home = None  # never the previous session's link under this summary
        if not self.enabled:
            return None
        if session_id is None:
            log.warning("members: the session was not logged; no take-home link")
            return None
        token = new_token()
        self.handover.put(
            FinishedPage(
                session_id=session_id,
                token=token,
                code=code,
                page=page_summary(summary, started_at),
                shown_at=self.wall(),
                valid_s=self.settings.link_valid_s,
            )
        )
        url = session_url(self.settings.base_url, token)
        self.take_home = TakeHome(url, make_matrix(url))
        return self.take_home

    def configure(self, settings: MembersSettings) -> None:
        self.settings = settings

    def close(self) -> None:
        self.store.close()
