"""The console's Mat page against the real station (`station run --simulate --headless` in its
own process): the mat's health as the station judges it, and a multi-point calibration with
known loads, read by the station, fitted with the station's calibration maths and saved to the
site file (audited)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from loopback import served

from station.console import auth
from station.console.app import create_app
from station.storage.live import read_live_status

PASSWORD = "mat-trainer-7"


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    monkeypatch.delenv("STATION_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)
    state, site = tmp_path / "state", tmp_path / "station.toml"
    site.write_text("# the gym's mat\n")
    script = tmp_path / "stand.toml"  # a member who steps on and stands: steady readings
    script.write_text(
        'name = "stand"\n[jumper]\nmass_kg = 80.0\nheight_m = 1.8\n'
        '[[phase]]\nkind = "step_on"\nduration_s = 1.5\n'
        '[[phase]]\nkind = "stand"\nduration_s = 600.0\n'
    )
    env = {k: v for k, v in os.environ.items() if k not in ("STATION_RUNTIME_DIR",
                                                          "RUNTIME_DIRECTORY")}  # fmt: skip
    env["SDL_VIDEODRIVER"] = "dummy"
    with (tmp_path / "station.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "station", "run", "--simulate", str(script), "--headless",
             "--config", str(site), "--state-dir", str(state)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while read_live_status(state) is None:
                assert time.monotonic() < deadline, "the station never published its status"
                time.sleep(0.1)
            yield state, site
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match
    return match.group(1)


def _version(html: str) -> str:
    match = re.search(r'name="version" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_health_and_multi_point_calibration_on_the_mat_page(running: tuple[Path, Path]) -> None:
    state, site = running
    auth.set_password(state, PASSWORD)
    with served(create_app(site, state)) as url, httpx.Client(base_url=url) as client:
        token = _csrf(client.get("/login").text)
        client.post("/login", data={"csrf": token, "password": PASSWORD, "next": "/mat"})
        page = client.get("/mat").text
        token = _csrf(page)
        assert "Not checked yet" in page

        client.post("/mat/health", data={"csrf": token})
        page = client.get("/mat").text
        assert 'id="mat-health"' in page and "<td>left</td>" in page and "<td>right</td>" in page
        assert "the live mat" in page  # judged by the running station

        # until the member stands with both feet: stepping on, the zones still share the
        # weight unevenly and a reading then would not be the ~390 N the expectation assumes
        weight_n = 80.0 * 9.81
        deadline = time.monotonic() + 30
        while not (
            (s := read_live_status(state))
            and abs(s.mat.get("total_n", 0) - weight_n) < 0.03 * weight_n
        ):
            assert time.monotonic() < deadline, "the simulated member never stood on the mat"
            time.sleep(0.1)
        for known in ("300", "600"):  # the member standing stands in for the known loads
            client.post("/mat/fit/read", data={"csrf": token, "zone": "left", "known_n": known})
        page = client.get("/mat").text
        assert page.count("<tr><td>left</td>") == 2, page
        read_n = [
            float(r) for r in re.findall(r"<tr><td>left</td><td>\d+</td><td>([\d.]+)</td>", page)
        ]
        client.post("/mat/fit", data={"csrf": token, "version": _version(page)})
        page = client.get("/mat").text
        assert "Saved to the config file" in page, page
    saved = tomllib.loads(site.read_text())["mat"]
    # one zone (scale 1 N/count before) read twice while the member stood, for 300 and 600 N:
    # the linear model's least squares through zero, from the readings the page showed
    expected = (300 * read_n[0] + 600 * read_n[1]) / (read_n[0] ** 2 + read_n[1] ** 2)
    # each reading is the left zone's share of the member, whatever the sway's phase at the
    # moment it was read (a loaded machine reads it later in the sway): neither foot alone
    assert all(0.2 * weight_n < r < 0.8 * weight_n for r in read_n), (read_n, weight_n)
    assert saved["scale_n_per_count"][0] == pytest.approx(expected, rel=0.01)
    assert saved["scale_n_per_count"][1] == 1.0
    assert site.read_text().startswith("# the gym's mat")
    audit = (state / "console-audit.log").read_text()
    assert "command:mat_fit" in audit and "mat.scale_n_per_count" in audit
