"""The console on a trainer's phone: quick live sliders, a login that ends mid-form, the long
thresholds page, the mat's calibration buttons, and meters drawn the right way round.

API tests through the real server (uvicorn on loopback, real files), and the same paths in
Debian's headless Chromium at a phone's viewport (390×844).
"""

from __future__ import annotations

import re
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import require_tool
from console_helpers import (
    CHROMIUM_FLAGS,
    PASSWORD,
    SITE_TEXT,
    FakeStation,
    csrf_of,
    login,
    make_site,
    served,
    version_of,
)

from station import faults
from station.console import auth
from station.console.app import create_app
from station.console.sitefile import SiteConfigFile
from station.mat.settings import LANDING_GAUGES
from station.storage.live import LiveStatus

PHONE = {"width": 390, "height": 844}


def toml(site: Path) -> dict[str, Any]:
    return tomllib.loads(site.read_text())


def on_disk_version(site: Path) -> str:
    return SiteConfigFile.version_of(site.read_bytes())


def phone_station(state: Path, metrics: dict[str, tuple[float, float, float]]) -> FakeStation:
    """The station as the phone sees it: active, every metric at fault, 20 beats a second."""
    status = LiveStatus(
        phase="active",
        preset="intermediate",
        lights={f: "unknown" for f in faults.FAULTS},
        metrics={
            f: {"value": v, "warn": w, "fault": fl, "unit": "", "state": "fault"}
            for f, (v, w, fl) in metrics.items()
        },
        mat={"zones": ["left", "right"], "force_n": [0.0, 0.0], "total_n": 0.0},
    )
    return FakeStation(state, lambda _beat: status, period_s=0.05)


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STATION_RUNTIME_DIR", str(tmp_path / "ram"))
    folder = tmp_path / "state"
    auth.set_password(folder, PASSWORD)
    return folder


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_site(tmp_path)


@pytest.fixture
def client(site: Path, state: Path) -> Iterator[httpx.Client]:
    app = create_app(site, state, command_timeout_s=10.0)
    with served(app) as url, httpx.Client(base_url=url, follow_redirects=False, timeout=30) as c:
        yield c


def set_threshold(c: httpx.Client, token: str, key: str, value: str, version: str) -> Any:
    return c.post("/api/set", headers={"X-CSRF-Token": token},
                  json={"key": key, "value": value, "version": version})  # fmt: skip


# --- API -----------------------------------------------------------------------------------------


def test_chained_slider_saves_each_send_the_version_the_last_one_returned(
    client: httpx.Client, site: Path
) -> None:
    token = login(client)
    version = version_of(client.get("/thresholds").text)
    first = set_threshold(client, token, "presets.intermediate.head.warn", "18", version)
    assert first.status_code == 200
    # The version of the file this save wrote, nothing else.
    assert first.json()["version"] == on_disk_version(site) != version
    second = set_threshold(
        client, token, "presets.intermediate.head.fault", "27", first.json()["version"]
    )
    assert second.status_code == 200
    head = toml(site)["presets"]["intermediate"]["head"]
    assert (head["warn"], head["fault"]) == (18.0, 27.0)
    # Someone else saves in between: a real conflict, refused, with the values now in force.
    site.write_text(site.read_text().replace("fault = 27.0", "fault = 30.0"))
    before = site.read_text()
    third = set_threshold(
        client, token, "presets.intermediate.head.warn", "20", second.json()["version"]
    )
    assert third.status_code == 409
    reply = third.json()
    assert reply["conflict"] is True and "changed by someone else" in reply["message"]
    assert reply["changed"] == ["presets.intermediate.head.fault"]
    assert reply["values"]["presets.intermediate.head.fault"] == 30.0
    assert reply["values"]["presets.intermediate.head.warn"] == 18.0
    assert reply["version"] == on_disk_version(site)
    assert site.read_text() == before


def test_a_value_out_of_range_from_a_slider_sends_back_the_value_in_force(
    client: httpx.Client, site: Path
) -> None:
    token = login(client)
    version = version_of(client.get("/thresholds").text)
    reply = set_threshold(client, token, "presets.intermediate.back.hold_s", "99", version)
    assert reply.status_code == 400 and "too large" in reply.json()["message"]
    assert reply.json()["conflict"] is False
    assert reply.json()["values"]["presets.intermediate.back.warn"] == 12.0
    assert site.read_text() == SITE_TEXT


def test_a_form_sent_after_the_login_ended_says_so_and_offers_a_login(
    client: httpx.Client, site: Path, state: Path
) -> None:
    login(client)
    form = client.get("/thresholds?preset=beginner").text
    data = {"csrf": csrf_of(form), "version": version_of(form), "preset": "beginner",
            "presets.beginner.back.warn": "7"}  # fmt: skip
    referer = f"{client.base_url}/thresholds?preset=beginner"
    auth.set_password(state, PASSWORD)  # a new password ends every login
    refused = client.post("/thresholds", data=data, headers={"Referer": referer})
    assert refused.status_code == 401
    assert "Nothing was saved." in refused.text and "Your login has ended" in refused.text
    assert 'name="next" value="/thresholds?preset=beginner"' in refused.text
    assert site.read_text() == SITE_TEXT
    # A mistyped password keeps the way back; the right one goes there.
    token = csrf_of(refused.text)
    wrong = client.post("/login", data={"csrf": token, "password": "nope",
                                        "next": "/thresholds?preset=beginner"})  # fmt: skip
    assert 'name="next" value="/thresholds?preset=beginner"' in wrong.text
    again = client.post("/login", data={"csrf": csrf_of(wrong.text), "password": PASSWORD,
                                        "next": "/thresholds?preset=beginner"})  # fmt: skip
    assert again.status_code == 303 and again.headers["location"] == "/thresholds?preset=beginner"
    # Another site's Referer is never a way back; a script asking for JSON gets JSON.
    client.post("/logout", data={"csrf": csrf_of(client.get("/thresholds").text)})
    foreign = client.post("/thresholds", data=data, headers={"Referer": "https://evil.example/x"})
    assert 'name="next" value="/"' in foreign.text
    as_json = client.post("/mat/zero", data=data, headers={"Accept": "application/json"})
    assert as_json.status_code == 401 and as_json.json()["login"] is True
    assert "Your login has ended" in as_json.json()["message"]
    for sneaky in ("/\\evil.example", "/\\\\evil.example/x"):
        token = csrf_of(client.get("/login").text)
        back = client.post("/login", data={"csrf": token, "password": PASSWORD, "next": sneaky})
        assert back.headers["location"] == "/thresholds", sneaky


def test_a_second_calibration_while_one_runs_is_refused_with_409(
    client: httpx.Client, site: Path, state: Path
) -> None:
    token = login(client)
    version = version_of(client.get("/mat").text)
    as_json = {"Accept": "application/json", "X-CSRF-Token": token}
    with phone_station(state, {}) as station:
        station.hold = {"mat_zero"}
        station.replies["mat_zero"] = (
            True, "zero offsets from the empty mat", {"config": {"mat.offset_counts": [12.5, 9.0]}}
        )  # fmt: skip
        first: dict[str, httpx.Response] = {}
        runner = threading.Thread(
            target=lambda: first.update(
                r=client.post("/mat/zero", data={"version": version}, headers=as_json)
            )
        )
        runner.start()
        deadline = time.monotonic() + 10
        while "mat_zero" not in station.received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert station.received == ["mat_zero"]
        busy = client.post("/mat/scale", data={"version": version, "known_n": "196"},
                           headers=as_json)  # fmt: skip
        assert busy.status_code == 409
        assert busy.json()["ok"] is False and "still running" in busy.json()["message"]
        page = client.post("/mat/zero", data={"csrf": token, "version": version})  # no script
        assert page.status_code == 409 and "still running" in page.text
        station.release.set()
        runner.join()
        assert station.received == ["mat_zero"]  # the refused ones never reached the station
        reply = first["r"]
        assert reply.status_code == 200 and reply.json()["ok"] and reply.json()["saved"]
        assert reply.json()["version"] == on_disk_version(site)
        assert toml(site)["mat"]["offset_counts"] == [12.5, 9.0]
        # Done: the next one runs.
        station.replies["mat_scale"] = (False, "the mat reads 0 N: put the load on it first", {})
        after = client.post("/mat/scale", data={"version": reply.json()["version"],
                                                "known_n": "196"}, headers=as_json)  # fmt: skip
        assert after.status_code == 200 and after.json()["ok"] is False
        assert "put the load on it first" in after.json()["message"]


def test_every_meter_is_drawn_in_the_direction_the_fault_registry_gives(
    client: httpx.Client,
) -> None:
    login(client)
    page = client.get("/live").text
    sections = dict(re.findall(r'data-fault="(\w+)">(.*?)</section>', page, re.S))
    for spec in faults.specs():
        section = sections[spec.thresholds.section]
        worse = "higher" if spec.metric.higher_is_worse else "lower"
        assert f'data-meter="{spec.name}" data-worse="{worse}"' in section, spec.name
        assert f'data-light="{spec.name}"' in section
    assert not faults.registry.spec("landing").metric.higher_is_worse  # the case the review found
    # The mat's landing levels share the light, and meter the mat's last landing.
    assert 'data-light="landing"' in sections["landing"]
    for gauge in LANDING_GAUGES:
        assert f'data-meter="{gauge.metric}" data-worse="higher"' in sections["landing"]


def test_each_light_is_a_section_and_each_field_shows_its_unit_and_range(
    client: httpx.Client,
) -> None:
    login(client)
    page = client.get("/thresholds").text
    for fault in ("shoulders", "back", "landing_camera", "arms", "head", "landing"):
        assert re.search(rf'<details class="card group" id="fault-{fault}">', page), fault
    back_warn = page[page.index('data-field="presets.intermediate.back.warn"') :]
    back_warn = back_warn[: back_warn.index("</div>\n</div>") if "</div>\n</div>" in back_warn
                          else 2000]  # fmt: skip
    assert '<span class="suffix">degrees</span>' in back_warn
    assert "Allowed: a number ≥ 0 degrees." in back_warn
    assert "Allowed: a number from 0 to 30 s." in page
    assert 'class="savebar"' in page and "No unsaved changes." in page
    # A refused save opens the section holding the error.
    form = {"csrf": csrf_of(page), "version": version_of(page), "preset": "intermediate",
            "presets.intermediate.head.hold_s": "99"}  # fmt: skip
    refused = client.post("/thresholds", data=form).text
    assert '<details class="card group" id="fault-head" open>' in refused
    assert '<details class="card group" id="fault-back">' in refused


# --- in Chromium, at phone size ----------------------------------------------------------------

pytest.importorskip("playwright")
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = require_tool("chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def phone(browser: Browser, site: Path, state: Path) -> Iterator[tuple[Page, list[str]]]:
    with served(create_app(site, state, command_timeout_s=10.0)) as url:
        # reduced motion: the meters' width transition is off, so a bar measured right after
        # its value arrives is at its final width (on a quiet machine it was mid-animation)
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=1, base_url=url, reduced_motion="reduce"
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error"
                and not m.text.startswith("Failed to load resource") else None)  # fmt: skip
        log_in(page, "/thresholds")
        yield page, errors
        context.close()


def log_in(page: Page, path: str) -> None:
    page.goto(path)
    page.fill("#password", PASSWORD)
    page.click("button:text('Log in')")
    expect(page).to_have_url(path)


def move(page: Page, key: str, value: float) -> str:
    """JavaScript that lets go of one slider at `value`."""
    return (
        f"document.querySelector('input[data-key=\"{key}\"]').value = {value};"
        f"document.querySelector('input[data-key=\"{key}\"]')"
        ".dispatchEvent(new Event('change'));"
    )


def test_phone_two_quick_sliders_both_save_and_a_real_conflict_reloads_the_value(
    phone: tuple[Page, list[str]], site: Path, state: Path
) -> None:
    page, errors = phone
    # Landing from the camera: heel lift 1° is below its fault level 2° (LOWER is worse).
    # The mat's last landing: 5.5 × body weight is past its fault level 5.0 (HIGHER is worse).
    metrics = {
        "landing": (1.0, 8.0, 2.0),
        "back": (19.5, 12.0, 18.0),
        "head": (10.0, 16.0, 25.0),
        "landing_peak_bw": (5.5, 3.5, 5.0),
        "landing_rate_bw_s": (30.0, 60.0, 120.0),
    }
    with phone_station(state, metrics):
        page.goto("/live")
        expect(page.locator("#live-state")).to_contain_text("Station: active")
        for fault, worse in (("landing", True), ("back", True), ("head", False),
                             ("landing_peak_bw", True), ("landing_rate_bw_s", False)):  # fmt: skip
            meter = page.locator(f'[data-meter="{fault}"]')
            page.wait_for_function(
                f"document.querySelector('[data-bar=\"{fault}\"]').style.width !== ''"
            )
            bar, mark = meter.locator(".bar").bounding_box(), meter.locator(".mark.fault")
            box = mark.bounding_box()
            assert bar is not None and box is not None
            # a value at fault fills past the fault mark, toward "worse"; one below warn does not
            assert (bar["x"] + bar["width"] > box["x"]) is worse, fault
        # Two sliders let go within a few milliseconds: both saved, in order.
        page.evaluate(move(page, "presets.intermediate.head.warn", 18)
                      + move(page, "presets.intermediate.head.fault", 27))  # fmt: skip
        expect(page.locator("#save-state")).to_contain_text("head.fault: saved")
        head = toml(site)["presets"]["intermediate"]["head"]
        assert (head["warn"], head["fault"]) == (18, 27)
        expect(page.locator("#save-problem")).to_be_hidden()
        # Another trainer changes head.fault meanwhile: the next move is refused, says so,
        # and the sliders show the values in force.
        site.write_text(site.read_text().replace("fault = 27", "fault = 30"))
        page.evaluate(move(page, "presets.intermediate.head.warn", 20))
        problem = page.locator("#save-problem")
        expect(problem).to_be_visible()
        expect(problem).to_contain_text("NOT saved")
        expect(problem).to_contain_text("changed by someone else")
        fault_slider = page.locator('input[data-key="presets.intermediate.head.fault"]')
        expect(fault_slider).to_have_value("30")
        expect(page.locator('input[data-key="presets.intermediate.head.warn"]')).to_have_value("18")
        assert toml(site)["presets"]["intermediate"]["head"]["warn"] == 18
        # Moved again, now on the current file: saved, the refusal cleared.
        page.evaluate(move(page, "presets.intermediate.head.warn", 20))
        expect(page.locator("#save-state")).to_contain_text("head.warn: saved")
        expect(problem).to_be_hidden()
        head = toml(site)["presets"]["intermediate"]["head"]
        assert (head["warn"], head["fault"]) == (20, 30)
    assert errors == []


def test_phone_thresholds_page_is_short_saves_from_a_sticky_bar_and_keeps_a_draft(
    phone: tuple[Page, list[str]], site: Path, state: Path
) -> None:
    page, errors = phone
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 2 * PHONE["height"], height  # it was ~4,300 px with every field open
    bar = page.locator("#savebar")
    expect(bar).to_contain_text("No unsaved changes.")
    page.click("#fault-back summary")
    page.click("#fault-head summary")
    warn = page.locator('input[name="presets.intermediate.back.warn"]')
    expect(page.locator('[data-field="presets.intermediate.back.warn"] .suffix')).to_have_text(
        "degrees"
    )
    expect(page.locator('[data-field="presets.intermediate.back.warn"] .allowed')).to_be_visible()
    warn.fill("13.5")
    page.locator('input[name="presets.intermediate.head.fault"]').fill("27")
    expect(bar).to_contain_text("2 unsaved changes")
    expect(page.locator("#fault-back .changed-count")).to_have_text("1 changed")
    # Scrolled anywhere, the save bar stays on screen.
    for selector in ("#fault-shoulders", "#fault-head"):
        page.locator(selector).scroll_into_view_if_needed()
        box = bar.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
    # The login ends (a new password) before Save; meanwhile someone changes head.fault.
    auth.set_password(state, PASSWORD)
    page.click("button:text('Save “intermediate”')")
    expect(page.locator("#login-ended")).to_contain_text("Nothing was saved.")
    expect(page.locator("#draft-note")).to_be_visible()
    assert site.read_text() == SITE_TEXT
    site.write_text(SITE_TEXT + "\n[presets.intermediate.head]\nfault = 26.0\n")
    page.fill("#password", PASSWORD)
    page.click("button:text('Log in')")
    expect(page).to_have_url("/thresholds")
    restored = page.locator("#draft-restored")
    expect(restored).to_contain_text("NOT saved yet")
    expect(restored).to_contain_text("presets.intermediate.head.fault is now 26")
    expect(warn).to_have_value("13.5")
    expect(page.locator('input[name="presets.intermediate.head.fault"]')).to_have_value("26")
    expect(bar).to_contain_text("1 unsaved change")
    assert "13.5" not in site.read_text()
    page.click("button:text('Save “intermediate”')")
    expect(page.locator(".flash")).to_contain_text("presets.intermediate.back.warn = 13.5")
    saved = toml(site)["presets"]["intermediate"]
    assert (saved["back"]["warn"], saved["head"]["fault"]) == (13.5, 26.0)
    # Saved: the draft is gone, nothing comes back on the next visit.
    page.goto("/thresholds")
    expect(page.locator("#draft-restored")).to_have_count(0)
    assert errors == []


def test_phone_mat_zero_shows_progress_and_result_and_ignores_a_double_tap(
    phone: tuple[Page, list[str]], site: Path, state: Path
) -> None:
    page, errors = phone
    with phone_station(state, {}) as station:
        station.hold = {"mat_zero"}
        station.replies["mat_zero"] = (
            True, "zero offsets from the empty mat", {"config": {"mat.offset_counts": [12.5, 9.0]}}
        )  # fmt: skip
        station.replies["mat_scale"] = (False, "the mat reads 0 N: put the load on it first", {})
        page.goto("/mat")
        posts: list[str] = []  # what the page itself sent, whatever the server made of it
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        button = page.locator("#mat-zero button")
        button.click()
        progress = page.locator("#mat-zero .progress")
        expect(progress).to_contain_text("Zeroing the mat… waiting for the station")
        expect(button).to_be_disabled()
        expect(page.locator("#mat-scale button")).to_be_disabled()
        page.evaluate("document.getElementById('mat-zero').requestSubmit()")  # a second tap
        # The page took it and refused it (its guard returns before any request is made);
        # only then is the first one let finish, so the station can have seen only one.
        expect(page.locator("#mat-zero")).to_have_attribute("data-refused-taps", "1")
        station.release.set()
        expect(progress).to_contain_text("Saved to the config file.")
        expect(button).to_be_enabled()
        expect(page.locator("#mat-config")).to_contain_text("12.5, 9")
        assert station.received == ["mat_zero"]
        assert [u for u in posts if u.endswith("/mat/zero")] == [f"{page.url}/zero"]
        assert toml(site)["mat"]["offset_counts"] == [12.5, 9.0]
        # The station's refusal is shown as such.
        page.fill("#known", "196")
        page.click("#mat-scale button")
        failed = page.locator("#mat-scale .progress.failed")
        expect(failed).to_contain_text("Mat scale failed: the mat reads 0 N")
    assert errors == []
