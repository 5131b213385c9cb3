"""The Display the runtime drives, `station screenshot`, and the coaching cues."""

from __future__ import annotations

from pathlib import Path

import pygame
import pytest
from conftest import REPO

from station.cli import main
from station.display.app import Display, is_quit_key, prepare_environment
from station.display.cues import CUES, TIPS, cue_for, tip_for, worst_fault
from station.display.demo import demo_view
from station.display.viewmodel import Light, lights_from_states
from station.events import FAULTS
from station.hardware import HardwareMissing

SEED = REPO.parent / "shared" / "seed" / "jump-rope-back-pain.txt"


def _key(key: int, mod: int = 0) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=mod))


def test_windowed_display_draws_and_quits_on_escape() -> None:
    display = Display()
    display.open({"fullscreen": True, "width": 640, "height": 400}, windowed=True)
    try:
        assert display.size == (640, 400)
        assert not display.kiosk
        report = display.draw(demo_view("active"))
        assert report.text("count").text == "137"
        screen = pygame.display.get_surface()
        assert screen is not None
        assert screen.get_at(report.text("count").rect.center)[:3] != (0, 0, 0)
        assert display.poll_events() is False
        _key(pygame.K_ESCAPE)
        assert display.poll_events() is True
        _key(pygame.K_q, pygame.KMOD_LCTRL)
        assert display.poll_events() is True
    finally:
        display.close()


def test_kiosk_hides_the_cursor_and_ignores_stray_keys() -> None:
    display = Display()
    display.open({"fullscreen": True, "width": 800, "height": 480, "hide_cursor": True})
    try:
        assert display.kiosk
        assert pygame.mouse.get_visible() is False
        display.draw(demo_view("idle"))
        _key(pygame.K_ESCAPE)
        _key(pygame.K_q, pygame.KMOD_LCTRL)
        pygame.event.post(pygame.event.Event(pygame.QUIT))
        assert display.poll_events() is False
        _key(pygame.K_q, pygame.KMOD_LCTRL | pygame.KMOD_LSHIFT)
        assert display.poll_events() is True
    finally:
        display.close()


def test_a_screen_that_cannot_open_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "kmsdrm")  # this machine has no /dev/dri
    with pytest.raises(HardwareMissing) as caught:
        Display().open({"fullscreen": True})
    assert caught.value.device == "display"
    assert "kmsdrm" in caught.value.problem
    assert "video, render and input" in caught.value.fix


def test_quit_keys() -> None:
    ctrl, shift = pygame.KMOD_LCTRL, pygame.KMOD_LSHIFT
    assert is_quit_key(pygame.K_ESCAPE, 0, kiosk=False)
    assert not is_quit_key(pygame.K_ESCAPE, 0, kiosk=True)
    assert not is_quit_key(pygame.K_q, 0, kiosk=False)
    assert is_quit_key(pygame.K_q, ctrl | shift, kiosk=True)


def test_console_without_desktop_uses_kmsdrm() -> None:
    env: dict[str, str] = {}
    assert prepare_environment(windowed=False, env=env) == "kmsdrm"
    assert env["SDL_VIDEODRIVER"] == "kmsdrm"
    assert prepare_environment(windowed=False, env={"DISPLAY": ":0"}) is None
    assert prepare_environment(windowed=True, env={}) is None
    assert prepare_environment(windowed=False, env={"SDL_VIDEODRIVER": "dummy"}) == "dummy"


def test_screenshot_command_writes_a_png(tmp_path: Path) -> None:
    out = tmp_path / "shots" / "summary.png"
    assert main(["screenshot", "--screen", "summary", "--size", "480x800", "--out", str(out)]) == 0
    assert pygame.image.load(str(out)).get_size() == (480, 800)


def test_screenshot_rejects_a_bad_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["screenshot", "--screen", "idle", "--size", "big", "--out", str(tmp_path / "x.png")]
    assert main(args) == 2
    assert "WIDTHxHEIGHT" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_cue_is_for_the_worst_fault() -> None:
    assert worst_fault(lights_from_states({})) is None
    states = {"head": "fault", "shoulders": "warn", "landing": "warn"}
    assert worst_fault(lights_from_states(states)) == "head"  # fault beats warn
    assert worst_fault(lights_from_states({"arms": "warn", "landing": "warn"})) == "landing"
    cue = cue_for([Light("back", "fault")] + [Light(f, "ok") for f in FAULTS if f != "back"])
    assert cue is not None and cue.fault == "back" and cue.text == CUES["back"]
    assert tip_for(None) is None


def test_cues_come_from_the_seed_text() -> None:
    if not SEED.is_file():
        pytest.skip(f"seed text not found at {SEED}")
    seed = SEED.read_text().lower()
    # The phrase each cue or tip is written from, as the seed words it.
    sources = {
        "shoulders": "away from your ears",
        "back": "straight line from your head to your toes",
        "landing": "balls of your feet",
        "arms": "extend your elbows and hands from your body",
        "head": "trust your timing",
    }
    for fault, phrase in sources.items():
        assert phrase in seed, fault
        words = [w for w in phrase.split() if len(w) >= 4]
        text = (CUES[fault] + " " + TIPS[fault]).lower()
        assert any(w in text for w in words), fault
    assert set(CUES) == set(TIPS) == set(FAULTS)


def test_summary_view_from_a_session_summary() -> None:
    from station.display.viewmodel import summary_view
    from station.session.model import SessionSummary

    summary = SessionSummary(
        duration_s=100.0,
        jumps=250,
        doubles=0,
        best_streak=80,
        misses=2,
        cadence_avg_per_min=150.0,
        cadence_peak_per_min=170.0,
        cadence_series=((1.0, 140.0), (2.0, 150.0)),
        fault_seconds={"back": 25.0, "head": 150.0},
        fault_warn_seconds={},
        fault_onsets={},
        landings=250,
        landing_peak_bw_mean=2.0,
        landing_peak_bw_max=3.0,
        landing_rate_bw_s_mean=None,
        hard_landings=3,
        count_source="mat",
        top_fault="back",
    )
    view = summary_view(summary, tip_for(summary.top_fault), returns_in_s=9.0)
    shares = dict(view.fault_share)
    assert list(shares) == list(FAULTS)
    assert shares["back"] == 0.25 and shares["shoulders"] == 0.0
    assert shares["head"] == 1.0  # clamped: never more than the whole session
    assert view.total == 250 and view.tip is not None and view.tip.fault == "back"


def test_bench_runs_every_screen() -> None:
    from station.display.bench import SCREENS as BENCH_SCREENS
    from station.display.bench import measure
    from station.display.cli import SCREENS as CLI_SCREENS
    from station.display.demo import SCREENS as DEMO_SCREENS

    assert BENCH_SCREENS == DEMO_SCREENS == CLI_SCREENS
    for screen in BENCH_SCREENS:
        wall, cpu = measure(screen, (320, 240), frames=3, warmup=1)
        assert len(wall) == len(cpu) == 3 and all(t > 0 for t in wall + cpu)
