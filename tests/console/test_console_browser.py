"""The console in a real headless Chromium (Debian's, driven by Playwright; never a downloaded
browser): log in, change a threshold, see it saved and the station reloaded, log out; every page
renders at phone size without script errors.

`STATION_UPDATE_SCREENSHOTS=1 pytest tests/console/test_console_browser.py` also refreshes the
screenshots in docs/console/.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import REPO, require_tool
from console_helpers import CHROMIUM_FLAGS, PASSWORD, FakeStation, make_site, served

from station.console import auth
from station.console.app import create_app
from station.events import FAULTS
from station.storage.live import Command, LiveStatus, snapshot_path
from station.storage.sessions import SessionLog

pytest.importorskip("playwright")
from playwright.sync_api import Browser, Page, expect, sync_playwright

PHONE = {"width": 390, "height": 844}

STAND_IN = """
import signal, sys, time
from station.storage.live import write_pid_file
signal.signal(signal.SIGHUP, lambda *_: print("SIGHUP", flush=True))
write_pid_file(sys.argv[1])
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = require_tool("chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield b
        b.close()


def new_page(browser: Browser, url: str) -> tuple[Page, list[str]]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, base_url=url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Script errors only: a 400 for a rejected form is the page working as meant.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    return page, errors


def log_in(page: Page) -> None:
    page.goto("/thresholds")
    expect(page).to_have_url("/login?next=/thresholds")
    page.fill("#password", PASSWORD)
    page.click("button:text('Log in')")
    expect(page).to_have_url("/thresholds")


def test_log_in_change_a_threshold_see_it_saved_and_reloaded_log_out(
    browser: Browser, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    site = make_site(tmp_path)
    auth.set_password(state, PASSWORD)
    station = subprocess.Popen(
        [sys.executable, "-c", STAND_IN, str(state)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert station.stdout is not None and station.stdout.readline().strip() == "ready"
        with served(create_app(site, state)) as url:
            page, errors = new_page(browser, url)
            log_in(page)
            page.click("#fault-back summary")  # each light is a section: open Back
            warn = page.locator('input[name="presets.intermediate.back.warn"]')
            expect(warn).to_have_value("12")
            warn.fill("13.5")
            page.click("button:text('Save “intermediate”')")
            expect(page.locator(".flash")).to_contain_text("presets.intermediate.back.warn = 13.5")
            expect(page.locator(".flash")).to_contain_text("The station is reloading")
            # Saved: the file on disk, comments and all.
            text = site.read_text()
            assert tomllib.loads(text)["presets"]["intermediate"]["back"]["warn"] == 13.5
            assert "# Trainers asked for a softer back threshold." in text
            # Reloaded: the station's process got SIGHUP.
            assert station.stdout.readline().strip() == "SIGHUP"
            expect(warn).to_have_value("13.5")
            # An out-of-range value: a clear error next to the field, nothing written.
            page.click("#fault-back summary")
            page.locator('input[name="presets.intermediate.back.hold_s"]').fill("99")
            page.click("button:text('Save “intermediate”')")
            expect(page.locator(".banner")).to_contain_text("Nothing was saved")
            expect(page.locator(".has-error .error")).to_contain_text("too large")
            assert site.read_text() == text
            # Log out: back to the login page, and the pages are closed again.
            page.click("button:text('Log out')")
            expect(page).to_have_url("/login")
            expect(page.locator(".flash")).to_have_text("Logged out.")
            page.goto("/thresholds")
            expect(page).to_have_url("/login?next=/thresholds")
            assert errors == []
    finally:
        station.kill()
        station.wait()


# --- every page, at phone size ------------------------------------------------------------------


def _fake_jpeg() -> bytes:
    """A drawn stand-in for a camera frame (no real photo in tests or docs)."""
    import cv2
    import numpy as np

    img = np.full((480, 640, 3), (200, 205, 210), np.uint8)
    cv2.rectangle(img, (0, 330), (640, 480), (150, 140, 130), -1)  # floor
    cv2.rectangle(img, (210, 360), (430, 430), (60, 60, 60), -1)  # the mat
    cv2.circle(img, (320, 130), 22, (90, 90, 90), -1)  # a stick figure
    for a, b in (((320, 152), (320, 260)), ((320, 180), (270, 240)), ((320, 180), (370, 240)),
                 ((320, 260), (295, 380)), ((320, 260), (345, 380))):  # fmt: skip
        cv2.line(img, a, b, (90, 90, 90), 9)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return bytes(buf)


METRICS = {"shoulders": (14.0, 20.0, 32.0, "% of baseline"), "back": (19.5, 12.0, 18.0,
           "degrees"), "arms": (0.5, 0.65, 0.85, "× torso length"),
           "head": (17.0, 16.0, 25.0, "degrees"), "landing": (5.0, 8.0, 2.0, "degrees"),
           "landing_peak_bw": (3.8, 3.5, 5.0, "× BW"),
           "landing_rate_bw_s": (44.0, 60.0, 120.0, "BW/s")}  # fmt: skip


def busy_status(beat: int) -> LiveStatus:
    """A member mid-session: counts going up, the mat's force moving a little."""
    return LiveStatus(
        phase="active",
        preset="intermediate",
        lights={
            "shoulders": "ok",
            "back": "fault",
            "landing": "warn",
            "arms": "ok",
            "head": "warn",
        },
        metrics={
            f: {"value": v, "warn": w, "fault": fl, "unit": u}
            for f, (v, w, fl, u) in METRICS.items()
        },
        mat={
            "zones": ["left", "right"],
            "force_n": [380.0 + beat % 7, 402.0 - beat % 5],
            "total_n": 782.0,
            "calibrated": True,
        },
        counts={"jumps": 140 + beat, "streak": 37, "cadence_per_min": 124.0},
    )


def snapshot_station(state: Path) -> FakeStation:
    """The busy station, answering a snapshot command with a picture of the room."""
    jpeg = _fake_jpeg()

    def on_command(cmd: Command) -> None:
        if cmd.name == "snapshot":
            snapshot_path().parent.mkdir(parents=True, exist_ok=True)
            snapshot_path().write_bytes(jpeg)

    return FakeStation(state, busy_status, on_command=on_command)


def _fill_history(state: Path) -> None:
    noon = datetime.now().replace(hour=12, minute=0, second=0, microsecond=0)
    with SessionLog.in_state_dir(state) as db:
        for day in range(14):
            for k in range((day * 7) % 5 + 1):
                start = (noon - timedelta(days=day, minutes=40 * k)).timestamp()
                sid = db.begin(started_at=start)
                jumps = 150 + 37 * ((day + k) % 6)
                faults = {f: float((day + i * k) % 4) * 3 for i, f in enumerate(FAULTS)}
                db.finish(sid, {"jumps": jumps, "duration_s": jumps / 2.2, "best_streak": 40,
                                "fault_seconds": faults,
                                "top_fault": max(faults, key=lambda f: faults[f])},
                          ended_at=start + jumps / 2.2)  # fmt: skip


def test_every_page_renders_at_phone_size(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATION_RUNTIME_DIR", str(tmp_path / "ram"))
    state = tmp_path / "state"
    site = make_site(tmp_path)
    shots = tmp_path / "shots"
    shots.mkdir()
    _fill_history(state)
    with served(create_app(site, state)) as url, snapshot_station(state):
        page, errors = new_page(browser, url)
        page.goto("/login")
        expect(page.locator(".banner")).to_contain_text("set-password")
        page.screenshot(path=str(shots / "disabled.png"), full_page=True)
        auth.set_password(state, PASSWORD)
        page.goto("/login")
        page.screenshot(path=str(shots / "login.png"), full_page=True)
        log_in(page)
        page.click("#fault-back summary")  # one light open, one change not saved yet
        page.locator('input[name="presets.intermediate.back.warn"]').fill("11")
        expect(page.locator("#unsaved")).to_contain_text("1 unsaved change: back warn")
        # what the phone's screen shows: the save bar stays at its bottom
        page.screenshot(path=str(shots / "thresholds.png"))

        page.goto("/live")
        expect(page.locator('[data-light="back"]')).to_have_class("light fault")  # via SSE
        expect(page.locator('[data-value="back"]')).to_have_text("19.50 degrees")
        expect(page.locator("#live-counts")).to_contain_text("jumps")
        page.screenshot(path=str(shots / "live.png"), full_page=True)
        # Moving a slider saves the threshold (the station would then reload).
        page.eval_on_selector(
            'input[data-key="presets.intermediate.head.fault"]',
            "el => { el.value = 22; el.dispatchEvent(new Event('change')); }",
        )
        expect(page.locator("#save-state")).to_contain_text("saved")
        assert tomllib.loads(site.read_text())["presets"]["intermediate"]["head"]["fault"] == 22
        # A login that ended meanwhile (a new password logs everyone out): the slider says it
        # was not saved and why, instead of failing silently.
        auth.set_password(state, PASSWORD)
        page.eval_on_selector(
            'input[data-key="presets.intermediate.head.fault"]',
            "el => { el.value = 24; el.dispatchEvent(new Event('change')); }",
        )
        expect(page.locator("#save-problem")).to_contain_text("login has ended")
        assert tomllib.loads(site.read_text())["presets"]["intermediate"]["head"]["fault"] == 22
        log_in(page)

        page.goto("/alerts")
        page.screenshot(path=str(shots / "alerts.png"), full_page=True)
        page.click("button:text('Beep now')")
        expect(page.locator(".flash")).to_have_text("Test beep: done.")

        page.goto("/mat")
        expect(page.locator("#mat-total")).to_have_text("782")
        page.screenshot(path=str(shots / "mat.png"), full_page=True)

        page.goto("/camera")
        page.click("#snapshot-button")
        expect(page.locator("#snapshot")).to_have_attribute("src", re.compile("^blob:"))
        page.wait_for_function("document.getElementById('snapshot').naturalWidth > 0")
        box = page.locator("#roi-frame").bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.7)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.92, steps=5)
        page.mouse.up()
        expect(page.locator('input[name="camera.roi"]')).to_have_value(
            re.compile(r"^0\.3\d*, 0\.7\d*, 0\.7\d*, 0\.9")
        )
        page.screenshot(path=str(shots / "camera.png"), full_page=True)
        page.click("button:text('Save camera')")
        expect(page.locator(".flash")).to_contain_text("camera.roi")
        roi = tomllib.loads(site.read_text())["camera"]["roi"]
        assert roi[0] == pytest.approx(0.3, abs=0.01) and roi[3] == pytest.approx(0.92, abs=0.01)
        assert not snapshot_path().exists()

        page.goto("/history")
        expect(page.locator("svg.chart rect")).to_have_count(14)
        page.screenshot(path=str(shots / "history.png"), full_page=True)
        with page.expect_download() as download:
            page.click("text=Download CSV")
        csv_path = tmp_path / "sessions.csv"
        download.value.save_as(csv_path)
        assert csv_path.read_text().startswith("id,status,started_at")
        assert errors == []

    if os.environ.get("STATION_UPDATE_SCREENSHOTS"):
        target = REPO / "docs" / "console"
        target.mkdir(parents=True, exist_ok=True)
        for shot in shots.iterdir():
            shutil.copy(shot, target / shot.name)
