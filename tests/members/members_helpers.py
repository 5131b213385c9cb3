"""Helpers for the members' tests (a module, not a conftest, so its name is unique)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from loopback import CHROMIUM_FLAGS as CHROMIUM_FLAGS
from loopback import free_port as free_port  # one copy for every test folder
from loopback import served as served
from numpy.typing import NDArray

from station.config.loader import ConfigStore
from station.hardware import select_hardware
from station.members.desk import MemberDesk
from station.members.settings import MembersSettings
from station.runtime.station import Station
from station.storage.outbox import ConsumerGroup, ConsumerSite, consumers_for
from station.storage.sessions import SessionLog

PHONE = {"width": 390, "height": 844}


def make_station(
    tmp: Path,
    site_text: str,
    *,
    wall: Any = time.time,
    simulate: bool = True,
    script: Path | None = None,
) -> tuple[Station, Any, MemberDesk]:
    """A real Station with its session log and member desk in `tmp/state`."""
    site = tmp / "station.toml"
    site.write_text(site_text)
    store = ConfigStore(site)
    hardware = select_hardware(store.config, simulate=simulate, script=script)
    state = tmp / "state"
    desk = MemberDesk.in_state_dir(state, MembersSettings.from_config(store.config))
    desk.wall = wall
    session_log = SessionLog.in_state_dir(state)
    # the station's registered consumers, as `station run` builds them; they wake only when
    # poked (a test's folder is gone long before a 5 s poll would find it)
    pages = consumers_for(store.config, ConsumerSite(session_log.path, {"members": desk}))
    consumers = ConsumerGroup(session_log.path, pages, poll_s=3600.0)
    station = Station(
        store,
        hardware,
        session_log=session_log,
        consumers=consumers,
        wall=wall,
        members=desk,
    )
    consumers.start()
    return station, hardware, desk


def pages_stored(station: Station) -> None:
    """Wait until the consumers (the members' pages) have taken every logged session."""
    assert station.consumers is not None and station.consumers.drain(30.0)


def room_picture(width: int = 640, height: int = 480, seed: int = 0) -> NDArray[np.uint8]:
    """A drawn stand-in for the camera's view of the gym (no real photo in tests)."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, height)[:, None, None]
    x = np.linspace(0.0, 1.0, width)[None, :, None]
    base = 60 + 70 * (1 - y) + 30 * x + rng.normal(0, 6, (height, width, 3))
    return np.clip(base, 0, 255).astype(np.uint8)


def decode_all(image_rgb: NDArray[np.uint8]) -> list[str]:
    import cv2

    grey = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY)
    text, _points, _ = cv2.QRCodeDetector().detectAndDecode(grey)
    return [text] if text else []
