"""The live station tells the member when the camera cannot see their feet.

The packaged simulator session runs through the whole station as fast as the CPU allows; for
part of it the simulated camera is "aimed too high": its picture loses the bottom third, as
`nofeet` does to the real clips (station.camcount.transforms), so every landmark's y is
rescaled to the kept part and the feet fall below the picture, still marked visible as
MediaPipe marks them. The only fake is that camera (the hardware edge); the station, its view
model, its live status and the real SQLite session log are the shipped code.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from station.config.loader import ConfigStore
from station.display.viewmodel import (
    FEET_OUT_CAMERA_COUNTS,
    FEET_OUT_MAT_COUNTS,
    ActiveView,
    CalibratingView,
)
from station.events import Event, PoseFrame
from station.hardware import select_hardware
from station.runtime.loop import run_fast
from station.runtime.station import Station
from station.runtime.status import live_status
from station.storage.sessions import SessionLog

KEEP = 2.0 / 3.0  # `nofeet`: the bottom third of the picture cut off
FPS = 30.0


class AimedHigh:
    """The simulated camera with the bottom third of its picture cut off between `start_s`
    and `end_s` (simulation time)."""

    def __init__(self, camera: Any, start_s: float, end_s: float) -> None:
        self.camera, self.start_s, self.end_s = camera, start_s, end_s
        self.name, self.realtime = camera.name, camera.realtime

    def events(self) -> Iterator[Event]:
        for event in self.camera.events():
            if isinstance(event, PoseFrame) and self.start_s <= event.t < self.end_s:
                event = _crop(event)
            yield event

    def close(self) -> None:
        self.camera.close()


def _crop(frame: PoseFrame) -> PoseFrame:
    height = round(frame.height * KEEP)
    if frame.lm is None:
        return dataclasses.replace(frame, height=height)
    lm = frame.lm.copy()
    lm[:, 1] /= KEEP
    return dataclasses.replace(frame, lm=lm, height=height)


def run(
    tmp_path: Path,
    site: str,
    start_s: float,
    end_s: float,
    also: Callable[[Station, float], None] | None = None,
) -> tuple[Station, list, Any]:
    site_file = tmp_path / "station.toml"
    site_file.write_text(site)
    store = ConfigStore(site_file)
    hardware = select_hardware(store.config, simulate=True)
    session_log = SessionLog.in_state_dir(tmp_path / "state")
    station = Station(store, hardware, session_log=session_log)
    camera = hardware.open_camera()
    assert camera is not None
    sources = [s for s in (hardware.open_mat(), AimedHigh(camera, start_s, end_s)) if s]
    seen: list[tuple[float, str, tuple[Any, ...], dict[str, Any]]] = []

    def look(st: Station, now: float) -> None:
        if also is not None:
            also(st, now)
        if round(now * FPS) % 3 == 0:  # ten looks a second
            view = st.view(now)
            camera_status = live_status(st, now).camera
            seen.append((now, type(view.screen).__name__, view.banners, camera_status))

    run_fast(station, sources, fps=FPS, on_frame=look)
    (row,) = session_log.sessions(every_row=True)
    session_log.close()
    return station, seen, row


def shown(seen: list, banner: Any) -> list[bool]:
    return [banner in banners for _t, _screen, banners, _cam in seen]


@pytest.mark.parametrize(
    ("site", "banner"),
    [("", FEET_OUT_MAT_COUNTS), ('[mat]\nsensor = "none"\n', FEET_OUT_CAMERA_COUNTS)],
    ids=["mat-counts", "camera-counts"],
)
def test_feet_out_of_view_for_most_of_the_session(tmp_path: Path, site: str, banner: Any) -> None:
    station, seen, row = run(tmp_path, site, start_s=10.0, end_s=1e9)  # from 10 s to the end
    on = shown(seen, banner)
    times = [t for t, *_ in seen]
    first = times[on.index(True)]
    assert 10.0 < first <= 10.0 + 2.0, first  # within the live window
    # shown on the member's screens only, and without a gap while the feet stay out
    screens = {screen for (_, screen, _, _), o in zip(seen, on, strict=True) if o}
    assert screens <= {ActiveView.__name__, CalibratingView.__name__}
    flips = sum(a != b for a, b in itertools.pairwise(on))
    assert flips <= 2, flips  # on once, off once (the summary), never blinking
    # "No mat fitted" is folded into the camera-counting banner: one banner, one message
    assert all(len(b) == 1 for (_t, _s, b, _c), o in zip(seen, on, strict=True) if o)
    # live.json says so
    flagged = [cam for (_, _, _, cam), o in zip(seen, on, strict=True) if o]
    assert all(cam["framing"]["feet_out"] for cam in flagged)
    # (a share below the clearing level; None once the recording ended and the last frames
    # age out of the window: too few to judge anew, the verdict is kept until it empties)
    shares = [cam["framing"]["feet_in_picture"] for cam in flagged]
    assert all(s < 0.75 for s in shares if s is not None)
    assert sum(s is not None for s in shares) > 0.9 * len(shares)
    # the session row records a camera count that was not trusted
    assert row.detail["camera_count_trusted"] is False
    assert row.detail["camera_feet_in_picture"] < 0.5
    assert row.to_dict()["camera_count_trusted"] is False
    assert station.summaries[0]["camera_count_trusted"] is False


def test_whole_body_in_view_no_banner_and_trusted(tmp_path: Path) -> None:
    _station, seen, row = run(tmp_path, '[mat]\nsensor = "none"\n', start_s=1e9, end_s=1e9)
    assert not any(shown(seen, FEET_OUT_CAMERA_COUNTS))
    assert any(banners for _t, _s, banners, _c in seen)  # "No mat fitted" while active
    assert row.detail["camera_count_trusted"] is True
    assert row.detail["camera_feet_in_picture"] > 0.9


def test_a_brief_crop_clears_again(tmp_path: Path) -> None:
    """Feet out for 4 s in the middle of the jumping: on within the window, off after it."""
    _station, seen, row = run(tmp_path, "", start_s=12.0, end_s=16.0)
    on = np.array(shown(seen, FEET_OUT_MAT_COUNTS))
    times = np.array([t for t, *_ in seen])
    assert on.any()
    assert 12.0 < times[on].min() <= 14.0 and 16.0 < times[on].max() <= 18.0
    assert np.sum(on[1:] != on[:-1]) == 2  # once on, once off
    assert row.detail["camera_count_trusted"] is True  # most of the session had the feet


def test_session_log_says_which_lights_had_the_members_own_baseline(tmp_path: Path) -> None:
    """The camera aimed high from the start: the member stands tall for the calibration with
    the feet below the picture, so back (trunk against the legs, from the ankles) keeps the
    population default and the log says so; shoulders and head are the member's. A config
    reload mid-session (SIGHUP) carries the member's baseline over and nothing more. With
    the whole body in view every light has the member's own baseline. (Landing is judged
    from the camera only from an oblique or side view, the default is the front; arms are
    judged absolutely, against no baseline.)"""
    (tmp_path / "high").mkdir()
    (tmp_path / "whole").mkdir()
    around_reload: list[dict[str, bool]] = []

    def reload_once(station: Station, now: float) -> None:
        if not around_reload and now >= 30.0 and station.session.phase == "active":
            around_reload.append(station.posture.own_baseline())
            assert station.reload()
            around_reload.append(station.posture.own_baseline())

    _station, _seen, cropped = run(tmp_path / "high", "", 0.0, 1e9, also=reload_once)
    own = cropped.detail["posture_baseline_own"]
    assert own == {"shoulders": True, "back": False, "head": True}
    assert around_reload == [own, own]
    assert cropped.to_dict()["posture_baseline_own"] == own
    _station, _seen, whole = run(tmp_path / "whole", "", start_s=1e9, end_s=1e9)
    assert whole.detail["posture_baseline_own"] == dict.fromkeys(own, True)
