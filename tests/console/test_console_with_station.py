"""The console against the real station (`station run --simulate --headless` in its own
process): the live page meters the camera's metrics and the mat's landings, a trainer changes
a threshold in Chromium, the station reloads it on SIGHUP and the live status the console
streams back carries the new value."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import require_tool
from console_helpers import CHROMIUM_FLAGS, PASSWORD, served

from station.console import auth
from station.console.app import create_app
from station.storage.live import read_live_status

pytest.importorskip("playwright")
from playwright.sync_api import expect, sync_playwright

SITE = """\
# The gym's station.
[posture]
preset = "intermediate"
"""


def wait_for(what: str, check: Callable[[], Any], timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def station(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    monkeypatch.delenv("STATION_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)
    state, site = tmp_path / "state", tmp_path / "station.toml"
    site.write_text(SITE)
    env = {k: v for k, v in os.environ.items() if k not in ("STATION_RUNTIME_DIR",
                                                          "RUNTIME_DIRECTORY")}  # fmt: skip
    env["SDL_VIDEODRIVER"] = "dummy"
    log = (tmp_path / "station.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "station", "-v", "run", "--simulate", "--headless",
         "--config", str(site), "--state-dir", str(state)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for("the station's first live status", lambda: read_live_status(state))
        yield state, site
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_a_threshold_changed_in_the_browser_reaches_the_running_station(
    station: tuple[Path, Path],
) -> None:
    chromium = require_tool("chromium")
    state, site = station
    auth.set_password(state, PASSWORD)
    before = wait_for(
        "a back metric", lambda: (s := read_live_status(state)) and s.metrics.get("back")
    )
    new_warn = before["warn"] + 1.5
    with served(create_app(site, state)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 390, "height": 844}, base_url=url)
        page.goto("/live")
        page.fill("#password", PASSWORD)
        page.click("button:text('Log in')")
        expect(page).to_have_url("/live")
        # The live page streams what the running station measures.
        expect(page.locator("#live-state")).to_contain_text("preset intermediate")
        expect(page.locator("#live-counts")).to_contain_text("jumps")
        # The mat judges the landing: its last landing's peak force and loading rate are in
        # the live status against the preset's mat levels, and metered in the landing section.
        mat = wait_for(
            "a landing's figures",
            lambda: (
                (s := read_live_status(state))
                and (s.metrics.get("landing_peak_bw") or {}).get("value") is not None
                and s.metrics
            ),
        )
        assert (mat["landing_peak_bw"]["warn"], mat["landing_peak_bw"]["fault"]) == (3.5, 5.0)
        assert mat["landing_rate_bw_s"]["fault"] == 120.0
        landing = page.locator('section[data-fault="landing"]')
        for metric, unit in (("landing_peak_bw", "× BW"), ("landing_rate_bw_s", "BW/s")):
            expect(landing.locator(f'[data-value="{metric}"]')).to_contain_text(unit)
            page.wait_for_function(
                f"document.querySelector('[data-bar=\"{metric}\"]').style.width !== ''"
            )

        page.goto("/thresholds")
        page.click("#fault-back summary")  # each light is a section: open Back
        page.fill('input[name="presets.intermediate.back.warn"]', f"{new_warn:g}")
        page.click("button:text('Save “intermediate”')")
        expect(page.locator(".flash")).to_contain_text("The station is reloading")
        saved = tomllib.loads(site.read_text())
        assert saved["presets"]["intermediate"]["back"]["warn"] == new_warn
        assert site.read_text().startswith("# The gym's station.")

        # The station reloaded: its own live status now judges the back by the new level.
        wait_for(
            "the station to use the new threshold",
            lambda: (
                (s := read_live_status(state)) is not None
                and s.metrics.get("back", {}).get("warn") == new_warn
            ),
        )
        # Switching the preset shows up on the live page, through the station and back.
        page.select_option("#preset-in-force", "beginner")
        page.click("button:text('Use this preset')")
        expect(page.locator(".flash")).to_contain_text("posture.preset = beginner")
        page.goto("/live")
        expect(page.locator("#live-state")).to_contain_text("preset beginner", timeout=30_000)
        browser.close()
    status = read_live_status(state)
    assert status is not None and status.config_problem is None
