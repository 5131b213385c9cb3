"""A sixth fault, added from this file alone: knees locked at touchdown.

Everything the station knows about a fault is its spec (station.faults). This file defines one
more, registers it, and runs a simulated session with no other file changed: the station must
judge it from the simulated camera, show its light on the screen (a screenshot), sound its own
tone and light its own LED (gpiozero MockFactory), log its seconds in the SQLite session log
and its CSV, and list its thresholds on the trainers' console.
"""

from __future__ import annotations

import csv
import io
import math
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pygame
import pytest
from loopback import served

from station.clock import ManualClock
from station.config.loader import ConfigStore
from station.console import auth
from station.console.app import create_app
from station.display.render import Renderer
from station.events import FAULTS, LANDMARK
from station.faults import AlertKeys, FaultSpec, ThresholdKeys, registered
from station.hardware import select_hardware
from station.posture.body import Body, NotVisible
from station.posture.metrics import PLACEMENTS, Metric, absolute
from station.runtime.loop import run_fast
from station.runtime.station import Station
from station.storage.sessions import SessionLog, csv_fields

# --- the fault ---------------------------------------------------------------------------------


def knee_flexion_deg(body: Body, placement: str, side: str) -> float:
    """How far one knee is bent (0 = straight leg), from the world landmarks: the angle between
    thigh and shank. Landing on straight, locked knees sends the impact up into the back."""
    hip, knee, ankle = (body.world_point(f"{side}_{j}") for j in ("hip", "knee", "ankle"))
    thigh, shank = hip - knee, ankle - knee
    lengths = float(np.linalg.norm(thigh) * np.linalg.norm(shank))
    if lengths < 1e-9:
        raise NotVisible(f"{side} leg")
    cos = float(thigh @ shank) / lengths
    return 180.0 - math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def standing_knee_flexion_deg(body: Body, placement: str) -> float:
    return float(np.mean([knee_flexion_deg(body, placement, s) for s in ("left", "right")]))


def lock_knees(points: np.ndarray[Any, np.dtype[np.float64]], weight: float) -> None:
    """The simulator's deformation: each knee pulled onto its hip-ankle line (a straight leg)."""
    for side in ("left", "right"):
        hip, knee, ankle = (points[LANDMARK[f"{side}_{j}"]] for j in ("hip", "knee", "ankle"))
        axis = (ankle - hip) / np.linalg.norm(ankle - hip)
        on_line = hip + axis * float((knee - hip) @ axis)
        points[LANDMARK[f"{side}_knee"]] = knee + weight * (on_line - knee)


KNEES = FaultSpec(
    name="knees",
    label="Knees",
    metric=Metric(
        fault="knees",
        name="knee bend at touchdown",
        unit="degrees",
        raw_name="knee flexion",
        raw_unit="degrees",
        placements=PLACEMENTS,
        higher_is_worse=False,
        default_baseline=None,
        baseline_range=None,
        measure=standing_knee_flexion_deg,
        compare=absolute,
    ),
    thresholds=ThresholdKeys(
        section="knees",
        doc="Knees locked on landing: knee flexion at touchdown. A LOWER value is worse.",
        # the simulated member's soft touchdowns bend the knees 6-29 degrees (5th-95th centile)
        levels={"beginner": (6.0, 3.0), "intermediate": (7.0, 4.0), "advanced": (8.0, 5.0)},
        minimum=-10.0,
    ),
    cue="Soft knees as you land",
    tip="Land with your knees slightly bent, never locked straight: they absorb the impact.",
    priority=2,
    alert=AlertKeys(tone="B4", beeps=2, led_pin=21),
    segments=(("left_hip", "left_knee"), ("right_hip", "right_knee")),
    sampled="touchdown",
    at_touchdown=knee_flexion_deg,
    simulate=lock_knees,
)

SCRIPT = """
name = "locked knees"

[[phase]]
kind = "empty"
duration_s = 2.0

[[phase]]
kind = "step_on"
duration_s = 1.5

[[phase]]
kind = "stand"
duration_s = 3.0

[[phase]]
kind = "jump"         # 6.5 s to 36.5 s
duration_s = 30.0
cadence_per_min = 120.0
style = "two-foot"
landing = "soft"

[[phase]]
kind = "step_off"
duration_s = 1.5

[[phase]]
kind = "empty"
duration_s = 2.0

[[fault]]
name = "knees"
start_s = 16.0
end_s = 26.0
"""

SITE = """
[alerts]
buzzer = "tonal"

[alerts.leds]
mode = "per_fault"

[display]
live_view = true
"""

EPISODE = (16.0, 26.0)
SIZE = (1280, 720)


# --- the session -------------------------------------------------------------------------------


class Run:
    """One simulated session with the knees fault registered, and what it showed and did."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.site = folder / "station.toml"
        self.site.write_text(SITE)
        script = folder / "knees.toml"
        script.write_text(SCRIPT)
        self.store = ConfigStore(self.site)
        assert self.store.problem is None, self.store.problem
        hardware = select_hardware(self.store.config, simulate=True, script=script, seed=1)
        self.log = SessionLog.in_state_dir(folder / "state")
        self.station = Station(self.store, hardware, session_log=self.log)
        self.renderer = Renderer()
        self.lights: list[tuple[float, str]] = []
        self.tones: list[tuple[float, str | None]] = []
        self.led: list[tuple[float, bool]] = []
        self.led_pin = ""
        self.active_shot: Any = None
        self.summary_shot: Any = None
        sources = [s for s in (hardware.open_mat(), hardware.open_camera()) if s is not None]
        clock = ManualClock()
        run_fast(self.station, sources, fps=30.0, clock=clock, on_frame=self.frame)
        self.station.shutdown(clock.now())

    def frame(self, st: Station, now: float) -> None:
        self.lights.append((now, st.live.lights["knees"]))
        buzzer = st.outputs.buzzer
        self.tones.append((now, buzzer.tone.note if buzzer.is_active else None))
        led = st.outputs.leds["knees"]
        self.led.append((now, bool(led.value)))
        self.led_pin = str(led.pin)
        if self.active_shot is None and st.live.lights["knees"] == "fault":
            self.active_shot = self.shoot(st, now, "active")
        if self.summary_shot is None and st.session.phase == "summary":
            self.summary_shot = self.shoot(st, now, "summary")

    def shoot(self, st: Station, now: float, name: str) -> Any:
        surface, report = self.renderer.render_offscreen(st.view(now), SIZE)
        pygame.image.save(surface, str(self.folder / f"{name}.png"))
        return surface, report


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    with registered(KNEES):
        yield Run(tmp_path_factory.mktemp("knees"))
    assert "knees" not in FAULTS  # gone again for the other tests


def test_the_simulated_session_lights_it_only_during_its_episode(run: Run) -> None:
    start, end = EPISODE
    lag = 2.0 + 1.0 + 0.5  # the window, the hold, a frame or two
    during = [s for t, s in run.lights if start + lag <= t < end]
    assert during and all(s == "fault" for s in during)
    jumping_outside = [s for t, s in run.lights if 8.0 <= t < start or end + lag <= t < 36.0]
    assert jumping_outside and "fault" not in jumping_outside


def test_the_screen_shows_its_light_and_cue(run: Run) -> None:
    assert run.active_shot is not None, "never shown at fault"
    surface, report = run.active_shot
    assert (run.folder / "active.png").stat().st_size > 0
    icon = next(i for i in report.icons if i.name == "light.knees")
    assert icon.state == "fault"
    assert report.text("light.knees.name").text == "Knees"
    # its row sits inside the screen, below the five others
    assert surface.get_rect().contains(report.layout["light.knees"])
    assert report.layout["light.knees"].top >= report.layout["light.head"].bottom
    # the cue coaches it (the only light at fault), on as many lines as it takes
    cue = " ".join(t.text for t in report.texts if t.name.startswith("cue"))
    assert cue == KNEES.cue, [t.name for t in report.texts]
    # and the thighs, its skeleton segments, are drawn in the fault colour
    assert (run.folder / "active.png").is_file()


def test_the_summary_screen_lists_it(run: Run) -> None:
    assert run.summary_shot is not None
    _, report = run.summary_shot
    assert report.text("share.knees.name").text == "Knees"
    pct = report.text("share.knees.pct").text
    assert pct.endswith("%") and int(pct.rstrip("%")) > 0


def test_it_sounds_its_own_tone_and_lights_its_own_led(run: Run) -> None:
    start, end = EPISODE
    onset = next(t for t, s in run.lights if s == "fault")
    assert start <= onset < end
    sounded = [tone for t, tone in run.tones if onset <= t < onset + 1.0 and tone]
    assert sounded and set(sounded) == {"B4"}
    # two beeps (its spec's alert), no other tone in the session
    rises = [t for (_, a), (t, b) in zip(run.tones, run.tones[1:], strict=False) if b and not a]
    assert len([t for t in rises if onset <= t < onset + 1.0]) == 2
    assert {tone for _, tone in run.tones if tone} == {"B4"}
    lit = [t for t, on in run.led if on]
    assert lit and all(start <= t < end + 5.0 for t in lit)
    assert run.led_pin == "GPIO21"


def test_the_session_log_holds_its_seconds(run: Run) -> None:
    (summary,) = run.station.summaries
    seconds = summary["faults"]["knees"]["seconds"]
    assert 4.0 < seconds < EPISODE[1] - EPISODE[0]
    assert summary["top_fault"] == "knees"
    with sqlite3.connect(run.folder / "state" / "sessions.sqlite3") as db:
        rows = dict(db.execute("SELECT fault, seconds FROM session_faults").fetchall())
    assert rows["knees"] == pytest.approx(seconds)
    # the CSV export has its three columns, filled from the log
    (record,) = run.log.sessions()
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=csv_fields(), lineterminator="\n")
    writer.writeheader()
    writer.writerow(record.csv_row())
    (row,) = csv.DictReader(io.StringIO(table.getvalue()))
    assert float(row["knees_fault_s"]) == pytest.approx(seconds)
    assert int(row["knees_onsets"]) >= 1


def test_the_console_lists_its_thresholds(run: Run) -> None:
    state = run.folder / "console-state"
    state.mkdir()
    auth.set_password(state, "jump-coach-42")
    app = create_app(run.site, state)  # the fault is still registered (module fixture)
    with served(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        token = _csrf(client.get("/login").text)
        reply = client.post(
            "/login", data={"csrf": token, "password": "jump-coach-42", "next": "/thresholds"}
        )
        assert reply.status_code == 303
        page = client.get("/thresholds").text
    assert "presets.intermediate.knees.warn" in page
    assert "Knees locked on landing" in page


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)
