from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame

from station.config.loader import ConfigStore
from station.display.render import Renderer
from station.display.viewmodel import ActiveView
from station.hardware import select_hardware
from station.runtime.loop import run_fast
from station.runtime.station import Station


def active_station(tmp_path: Path, site: str) -> Station:
    (tmp_path / "station.toml").write_text(site)
    store = ConfigStore(tmp_path / "station.toml")
    hardware = select_hardware(store.config, simulate=True)
    station = Station(store, hardware)
    sources = [s for s in (hardware.open_mat(), hardware.open_camera()) if s]
    run_fast(station, sources, fps=30, until_s=12.0, settle_s=0.0)
    assert station.session.phase == "active"
    return station


def test_live_view_shows_the_skeleton_when_configured(tmp_path: Path) -> None:
    station = active_station(tmp_path, "[display]\nlive_view = true\n")
    screen = station.view(12.0).screen
    assert isinstance(screen, ActiveView) and screen.live is not None
    assert screen.live.landmarks is not None and np.isfinite(screen.live.landmarks).all()
    # the simulator has no pictures: the skeleton is drawn on a dark frame of the camera's size
    assert screen.live.image.shape == (480, 640, 3) and not screen.live.image.any()
    # and it renders: some skeleton pixels differ from the same screen without it
    renderer = Renderer()
    with_live, _ = renderer.render_offscreen(station.view(12.0), (1280, 720))
    station.config = ConfigStore(tmp_path / "absent.toml").config  # live_view off
    without, _ = renderer.render_offscreen(station.view(12.0), (1280, 720))
    assert pygame.image.tobytes(with_live, "RGB") != pygame.image.tobytes(without, "RGB")


def test_no_live_view_by_default(tmp_path: Path) -> None:
    station = active_station(tmp_path, "")
    screen = station.view(12.0).screen
    assert isinstance(screen, ActiveView) and screen.live is None
