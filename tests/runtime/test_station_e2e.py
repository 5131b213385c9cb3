"""End to end: scripted sessions through the whole station, headless, faster than real time.

The simulator's ground truth (the same schedule that drives the simulated mat and camera) is
the reference; the station only sees the sensor streams.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from station.config.loader import ConfigStore
from station.events import FAULTS
from station.hardware import select_hardware
from station.runtime.loop import run_fast
from station.runtime.station import Station
from station.sim.script import default_script_path
from station.sim.sources import ground_truth
from station.storage.sessions import SessionLog

FPS = 30.0
BUZZER_PIN = 18


@dataclass
class Recording:
    """What the station showed and did, frame by frame, on its own clock."""

    t: list[float] = field(default_factory=list)
    lights: list[dict[str, str]] = field(default_factory=list)
    buzzer: list[int] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    banners: list[tuple[str, ...]] = field(default_factory=list)
    count_source: list[str] = field(default_factory=list)

    def frame(self, station: Station, now: float) -> None:
        self.t.append(now)
        self.lights.append(dict(station.live.lights))
        self.buzzer.append(int(station.outputs.buzzer.value) if station.outputs.buzzer else 0)
        self.phases.append(station.session.phase)
        self.banners.append(tuple(b.kind for b in station.view(now).banners))
        self.count_source.append(station.counting_source)

    def between(self, t0: float, t1: float) -> list[int]:
        return [i for i, t in enumerate(self.t) if t0 <= t < t1]


def script_with(tmp_path: Path, extra: str) -> Path:
    """The packaged default script plus extra TOML (outages, settings)."""
    path = tmp_path / "script.toml"
    path.write_text(default_script_path().read_text() + "\n" + extra)
    return path


def run_station(
    tmp_path: Path,
    script: Path | None = None,
    site: str = "",
    between_events: Callable[[Station, float], None] | None = None,
) -> tuple[Station, Recording, SessionLog]:
    site_file = tmp_path / "station.toml"
    site_file.write_text(site)
    store = ConfigStore(site_file)
    assert store.problem is None, store.problem
    hardware = select_hardware(store.config, simulate=True, script=script, seed=3)
    log = SessionLog.in_state_dir(tmp_path / "state")
    station = Station(store, hardware, session_log=log)
    recording = Recording()

    def on_frame(st: Station, now: float) -> None:
        recording.frame(st, now)
        if between_events is not None:
            between_events(st, now)

    sources = [s for s in (hardware.open_mat(), hardware.open_camera()) if s is not None]
    run_fast(station, sources, fps=FPS, on_frame=on_frame)
    return station, recording, log


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Station, Recording, Path]:
    tmp = tmp_path_factory.mktemp("default")
    station, recording, _ = run_station(tmp)
    return station, recording, tmp


def test_scripted_session_counts_exactly_and_is_logged(default_run: Any) -> None:
    station, _, tmp = default_run
    truth = ground_truth(None, 3)
    assert truth.duration_s >= 60
    (summary,) = station.summaries
    assert summary["jumps"] == truth.jump_count
    assert summary["status"] == "finished" and summary["count_source"] == "mat"
    # the row really is in SQLite, with the same figures
    with sqlite3.connect(tmp / "state" / "sessions.sqlite3") as db:
        rows = db.execute("SELECT jumps, status FROM sessions").fetchall()
    assert rows == [(truth.jump_count, "finished")]


def test_each_fault_lights_inside_its_episode_only(default_run: Any) -> None:
    station, rec, _ = default_run
    truth = ground_truth(None, 3)
    cfg = station.config
    window = cfg["posture"]["window_s"]
    for fault in FAULTS:
        hold = cfg["presets"][cfg["posture"]["preset"]][fault]["hold_s"]
        lag = window + hold + 0.5  # judged over a window, then held before it changes
        (episode,) = truth.episodes(fault)
        inside = rec.between(episode.start_s + lag, episode.end_s)
        assert inside and all(rec.lights[i][fault] == "fault" for i in inside), fault
        # outside the episode (allowing the lag at both ends) the light is never red
        active = [i for i, p in enumerate(rec.phases) if p == "active"]
        outside = [i for i in active if not (episode.start_s <= rec.t[i] < episode.end_s + lag)]
        reds = [rec.t[i] for i in outside if rec.lights[i][fault] == "fault"]
        assert not reds, f"{fault} red outside its episode at {reds[:5]}"


def test_buzzer_sounds_once_per_onset_with_the_configured_pattern(default_run: Any) -> None:
    station, rec, _ = default_run
    alerts = station.config["alerts"]
    # rising edges of the buzzer pin, grouped into alerts (beeps of one alert are < 1 s apart)
    rises = [rec.t[i] for i in range(1, len(rec.t)) if rec.buzzer[i] and not rec.buzzer[i - 1]]
    groups: list[list[float]] = []
    for t in rises:
        if groups and t - groups[-1][-1] < 1.0:
            groups[-1].append(t)
        else:
            groups.append([t])
    truth = ground_truth(None, 3)
    expected = [e.name for e in sorted(truth.faults, key=lambda e: e.start_s)]
    assert [len(g) for g in groups] == [alerts[f]["beeps"] for f in expected]
    for fault, group in zip(expected, groups, strict=True):
        (episode,) = truth.episodes(fault)
        assert episode.start_s <= group[0] < episode.end_s, fault
    # each beep lasts beep_s (to a frame) and the pin is quiet between alerts
    on_frames = sum(rec.buzzer)
    total_beeps = sum(len(g) for g in groups)
    assert on_frames == pytest.approx(total_beeps * alerts["beep_s"] * FPS, abs=total_beeps)


def test_buzzer_cooldown_silences_a_fault_that_comes_back(tmp_path: Path) -> None:
    extra = """
[[fault]]
name = "head"
start_s = 67.0
end_s = 70.0
"""
    # head faults 57-65 and again 67-70: the second onset falls inside a 15 s cooldown
    station, rec, _ = run_station(
        tmp_path, script_with(tmp_path, extra), site="[alerts]\ncooldown_s = 15.0\n"
    )
    rises = [rec.t[i] for i in range(1, len(rec.t)) if rec.buzzer[i] and not rec.buzzer[i - 1]]
    head_beeps = [t for t in rises if 57.0 <= t < 72.0]
    assert len(head_beeps) == station.config["alerts"]["head"]["beeps"]
    assert station.summaries[0]["faults"]["head"]["onsets"][1:]  # the light did come back
    # with no cooldown it sounds again
    (tmp_path / "b").mkdir()
    _, rec2, _ = run_station(
        tmp_path / "b", script_with(tmp_path, extra), site="[alerts]\ncooldown_s = 0.0\n"
    )
    rises2 = [rec2.t[i] for i in range(1, len(rec2.t)) if rec2.buzzer[i] and not rec2.buzzer[i - 1]]
    assert len([t for t in rises2 if 57.0 <= t < 72.0]) == 2 * len(head_beeps)


def test_camera_outage_degrades_and_recovers(tmp_path: Path) -> None:
    extra = '[[outage]]\ndevice = "camera"\nstart_s = 20.0\nend_s = 40.0\n'
    script = script_with(tmp_path, extra)
    station, rec, _ = run_station(tmp_path, script)
    truth = ground_truth(script, 3)
    assert station.summaries[0]["jumps"] == truth.jump_count  # the mat kept counting
    during = rec.between(20.5, 40.0)
    assert all("camera" in rec.banners[i] for i in during)
    assert all(rec.lights[i][f] == "unknown" for i in during for f in FAULTS if f != "landing")
    after = rec.between(45.0, 55.0)
    assert all("camera" not in rec.banners[i] for i in after)
    assert all(rec.lights[i]["shoulders"] != "unknown" for i in after)


def test_mat_outage_hands_counting_to_the_camera(tmp_path: Path) -> None:
    extra = '[[outage]]\ndevice = "mat"\nstart_s = 20.0\nend_s = 40.0\n'
    script = script_with(tmp_path, extra)
    station, rec, _ = run_station(tmp_path, script)
    truth = ground_truth(script, 3)
    during = rec.between(20.5, 40.0)
    assert all(rec.count_source[i] == "camera" and "mat" in rec.banners[i] for i in during)
    assert all(rec.count_source[i] == "mat" for i in rec.between(41.0, 80.0))
    (summary,) = station.summaries  # one session: the outage did not end it
    # the mat counts exactly outside the outage; the camera counts the 20 s inside it
    assert abs(summary["jumps"] - truth.jump_count) <= 2


def test_bad_config_reload_keeps_last_good_and_shows_notice(tmp_path: Path) -> None:
    site = tmp_path / "station.toml"
    events: list[tuple[float, bool, str | None, float]] = []

    def edit(station: Station, now: float) -> None:
        if not events and now >= 30.0:
            site.write_text("[alerts]\ncooldown_s = -5\n")
            events.append(
                (
                    now,
                    station.reload(),
                    station.config_notice,
                    station.config["alerts"]["cooldown_s"],
                )
            )
        elif len(events) == 1 and now >= 50.0:
            site.write_text("[alerts]\ncooldown_s = 20.0\n")
            events.append(
                (
                    now,
                    station.reload(),
                    station.config_notice,
                    station.config["alerts"]["cooldown_s"],
                )
            )

    station, _, _ = run_station(tmp_path, site="[alerts]\ncooldown_s = 12.0\n", between_events=edit)
    bad, good = events
    assert bad[1] is False and bad[3] == 12.0
    assert bad[2] is not None and "alerts.cooldown_s" in bad[2]
    assert good[1] is True and good[2] is None and good[3] == 20.0
    # the member's session went on through both reloads, counted exactly
    assert station.summaries[0]["jumps"] == ground_truth(None, 3).jump_count


def test_checkpoints_while_active(tmp_path: Path) -> None:
    """A power cut loses at most the checkpoint interval: the open row never lags the
    station by more than checkpoint_s worth of jumps."""
    lags: list[int] = []

    def watch(station: Station, now: float) -> None:
        stats = station.session.stats
        if station.session.phase != "active" or stats is None or round(now * FPS) % 15:
            return
        if not station.session.counts:  # no jump yet: no session, no row
            assert station.session_log.sessions(every_row=True) == []
            return
        (record,) = [r for r in station.session_log.sessions() if r.status == "open"]
        lags.append(stats.jumps - record.jumps)

    run_station(tmp_path, site="[session]\ncheckpoint_s = 2.0\n", between_events=watch)
    assert len(lags) > 100
    # 2 s at 120 jumps/min is 4 jumps; one more for a jump landing on the checkpoint frame
    assert min(lags) >= 0 and max(lags) <= 5


def test_the_member_s_body_weight_is_logged_with_its_source(default_run: Any) -> None:
    """The session log keeps the simulated member's weight (impulse-momentum over the stay),
    its uncertainty and its source; within 1 % of the script's mass."""
    from station.sim.sources import resolve_script

    station, _, tmp = default_run
    (summary,) = station.summaries
    true_n = resolve_script(None).mass_kg * 9.80665
    assert summary["body_weight_source"] in ("impulse-momentum", "quiet standing")
    assert abs(summary["body_weight_n"] - true_n) <= 0.01 * true_n, (summary, true_n)
    assert summary["body_weight_sd_n"] is None or summary["body_weight_sd_n"] >= 0
    record = SessionLog.in_state_dir(tmp / "state").get(summary["id"])
    assert record is not None and record.detail["body_weight_n"] == summary["body_weight_n"]
