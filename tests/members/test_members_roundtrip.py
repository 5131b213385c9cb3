"""The take-home round trip, end to end and real: a simulated session ends on a real Station
→ the summary frame as drawn holds a QR code → OpenCV decodes a URL → Debian's Chromium at
phone size opens it on the console's server and shows the session's count → after the link's
validity the same URL gives the clear "this link has expired" page. Then "keep my history",
the history page, and the member deleting it.

`STATION_UPDATE_SCREENSHOTS=1` also writes the pages' screenshots to docs/members/.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pygame
import pytest
from conftest import REPO, require_tool
from members_helpers import (
    CHROMIUM_FLAGS,
    PHONE,
    decode_all,
    free_port,
    make_station,
    pages_stored,
    served,
)

from station.console.app import create_app
from station.display.render import Renderer
from station.members.store import MemberStore
from station.runtime.loop import run_fast
from station.runtime.station import Station

pytest.importorskip("playwright")
from playwright.sync_api import expect, sync_playwright

VALID_H = 0.25


class Calendar:
    """The station's and the console's wall clock (Unix time), moved on by the test: the link
    expires when this calendar says so, whatever the machine's load."""

    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module", autouse=True)
def _pygame() -> Iterator[None]:
    pygame.display.init()
    pygame.font.init()
    yield
    pygame.quit()


def summary_frame(station: Station, now: float, size: tuple[int, int]) -> np.ndarray:
    surface, _report = Renderer().render_offscreen(station.view(now), size)
    return np.ascontiguousarray(pygame.surfarray.array3d(surface).transpose(1, 0, 2))


def test_qr_on_the_summary_opens_the_session_page_until_it_expires(tmp_path: Path) -> None:
    chromium = require_tool("chromium")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    calendar = Calendar()
    site = f'[members]\nbase_url = "{base}"\nlink_valid_h = {VALID_H}\n'
    station, hardware, _desk = make_station(tmp_path, site, wall=calendar)
    frames: list[np.ndarray] = []

    def on_frame(st: Station, now: float) -> None:
        if st.session.phase == "summary" and not frames:
            frames.append(summary_frame(st, now, (1920, 1080)))

    shots = tmp_path / "shots"
    shots.mkdir()
    app = create_app(tmp_path / "station.toml", tmp_path / "state", wall=calendar)
    with served(app, port), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_context(viewport=PHONE, device_scale_factor=1).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sources = [s for s in (hardware.open_mat(), hardware.open_camera()) if s is not None]
        run_fast(station, sources, fps=30.0, on_frame=on_frame)
        pages_stored(station)  # the members consumer has stored the page
        assert station.sessions_done == 1 and frames
        jumps = station.summaries[0]["jumps"]
        assert jumps > 0
        (url,) = decode_all(frames[0])
        assert url.startswith(f"{base}/m/")
        page.goto(url)
        expect(page.locator("#count")).to_have_text(str(jumps))
        expect(page.locator("svg.chart")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(shots / "session-390x844.png"), full_page=True)
        # A second before its validity ends the link still works; then it expires by
        # itself: the same URL, a clear page, not an error.
        shown_at = calendar.t
        calendar.t = shown_at + VALID_H * 3600 - 1
        page.goto(url)
        expect(page.locator("#count")).to_have_text(str(jumps))
        calendar.t = shown_at + VALID_H * 3600 + 1
        response = page.goto(url)
        expect(page.locator("#gone")).to_have_text("This link has expired")
        assert response is not None and response.status == 410
        page.screenshot(path=str(shots / "expired-390x844.png"), full_page=True)
        assert errors == []
        browser.close()
    _update_docs(shots)


def test_keep_my_history_then_delete_it(tmp_path: Path) -> None:
    chromium = require_tool("chromium")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    station, hardware, desk = make_station(tmp_path, f'[members]\nbase_url = "{base}"\n')
    sources = [s for s in (hardware.open_mat(), hardware.open_camera()) if s is not None]
    run_fast(station, sources, fps=30.0)
    assert desk.take_home is not None
    url = desk.take_home.url
    shots = tmp_path / "shots"
    shots.mkdir()
    with served(create_app(tmp_path / "station.toml", tmp_path / "state"), port), \
            sync_playwright() as p:  # fmt: skip
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_context(viewport=PHONE, device_scale_factor=1).new_page()
        page.goto(url)
        page.click("#keep")
        expect(page).to_have_url(re.compile(rf"{base}/h/[A-Za-z0-9_-]{{22}}\?new=1"))
        expect(page.locator("#n-sessions")).to_have_text("1")
        history = page.url.split("?")[0]
        code = history.rsplit("/", 1)[1]
        assert decode_all(_screenshot_rgb(page)) == [history]  # the saved code reads back
        # Eight weeks of sessions with the code: progress charts over the weeks.
        with MemberStore.in_state_dir(tmp_path / "state") as store:
            (first,) = store.history(code) or []
            for week in range(1, 8):
                when = time.time() - (8 - week) * 7 * 86400
                level = 0.3 + 0.1 * week  # a member getting better over the weeks
                seconds = {f: s * (2 - level) for f, s in first["fault_seconds"].items()}
                later = dict(first, started_at=when, jumps=round(first["jumps"] * level),
                             best_streak=round(first["best_streak"] * level),
                             fault_seconds=seconds)  # fmt: skip
                store.add_page(later, now=when, valid_s=3600, code=code)
        page.goto(history)
        expect(page.locator("#n-sessions")).to_have_text("8")
        expect(page.locator("svg.chart")).to_have_count(4)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(shots / "history-390x844.png"), full_page=True)
        # Replayed "keep": no second code.
        page.goto(url)
        expect(page.get_by_text("This session is in your history.")).to_be_visible()
        with MemberStore.in_state_dir(tmp_path / "state") as store:
            assert len(store.codes()) == 1
        # Deleting needs the box ticked; then page and data are gone.
        page.goto(history)
        page.click("#delete")
        expect(page.locator("#n-sessions")).to_have_text("8")
        page.check("#confirm")
        page.click("#delete")
        expect(page.locator("#gone")).to_have_text("Your history is deleted")
        response = page.goto(history)
        assert response is not None and response.status == 404
        browser.close()
    with MemberStore.in_state_dir(tmp_path / "state") as store:
        assert store.codes() == [] and store.history(code) is None
    _update_docs(shots)


def _screenshot_rgb(page: object) -> np.ndarray:
    import cv2

    png = page.screenshot(full_page=True)  # type: ignore[attr-defined]
    bgr = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _update_docs(shots: Path) -> None:
    if os.environ.get("STATION_UPDATE_SCREENSHOTS"):
        target = REPO / "docs" / "members"
        target.mkdir(parents=True, exist_ok=True)
        for shot in shots.iterdir():
            shutil.copy(shot, target / shot.name)
