"""`station bench members`: what reading personal codes costs the station.

* **idle**: the member desk ticked at the display's rate for a stretch of idle screen, fed the
  camera's newest picture at the camera's rate (``[camera] width×height@fps``; frames of a real
  jump-rope clip in ../shared/data when present, else a synthetic room), with a personal code
  held up in a third of the frames. Its CPU time (this thread's, so other jobs on the machine
  do not count) over the simulated time is the share of one core spent scanning. Target ≤ 5 %.
* **session**: the simulator's default session through the real Station with a member desk;
  pictures taken for scanning outside the idle screen. Target: none.
"""

from __future__ import annotations

import functools
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from station.bench import Benchmark, Figure

DISPLAY_FPS = 30.0


def _frames(width: int, height: int, count: int) -> list[NDArray[np.uint8]]:
    """Camera-size RGB pictures of a real clip (or a synthetic room without the data)."""
    import cv2

    from station.analysis.bench import shared_data

    clip = shared_data() / "jumprope" / "hb_alternating_01.mp4"
    frames: list[NDArray[np.uint8]] = []
    cap = cv2.VideoCapture(str(clip)) if clip.is_file() else None
    while cap is not None and len(frames) < count:
        ok, bgr = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(cv2.resize(bgr, (width, height)), cv2.COLOR_BGR2RGB)
        frames.append(np.asarray(rgb, dtype=np.uint8))
    if cap is not None:
        cap.release()
    if not frames:
        from station.display.demo import demo_live

        rng = np.random.default_rng(0)
        base = demo_live(width, height).image.astype(np.int16)
        frames = [
            np.clip(base + rng.integers(-6, 7, base.shape), 0, 255).astype(np.uint8)
            for _ in range(count)
        ]
    return frames


def held_up(frame: NDArray[np.uint8], text: str) -> NDArray[np.uint8]:
    """`frame` with a phone screen showing `text`'s QR code, as a member holds it up close to
    the camera: about a quarter of the picture's height (2 pixels per module at 480 lines),
    off centre."""
    from station.members.qr import make_matrix, matrix_image

    matrix = make_matrix(text)
    module = max(2, frame.shape[0] // 4 // matrix.size)
    code = matrix_image(matrix, module)
    out = frame.copy()
    y, x = frame.shape[0] // 3, frame.shape[1] // 2
    out[y : y + code.shape[0], x : x + code.shape[1]] = code[:, :, None]
    return out


def idle(quick: bool) -> list[Figure]:
    from station.config.loader import build_config
    from station.config.sections import SCHEMA
    from station.members.desk import MemberDesk
    from station.members.settings import MembersSettings
    from station.members.store import MemberStore
    from station.members.tokens import history_url

    config = build_config(SCHEMA, [])
    cam = config["camera"]
    width, height, cam_fps = int(cam["width"]), int(cam["height"]), float(cam["fps"])
    seconds = 10.0 if quick else 60.0
    with tempfile.TemporaryDirectory() as scratch:
        store = MemberStore(Path(scratch) / "members.sqlite3")
        _lookup, code = store.keep(_page(store), now=time.time())
        assert code is not None
        frames = _frames(width, height, 90)
        url = history_url(config["members"]["base_url"], code)
        frames = [held_up(f, url) if i % 3 == 0 else f for i, f in enumerate(frames)]
        desk = MemberDesk(store, MembersSettings.from_config(config))
        now = 0.0
        cpu = 0.0
        greeted = 0
        while now < seconds:
            frame = frames[int(now * cam_fps) % len(frames)]
            start = time.thread_time()
            desk.idle_tick(now, functools.partial(_same, frame))
            cpu += time.thread_time() - start
            greeted += desk.greeting  # a greeted code is still looked for: scanning goes on
            now += 1.0 / DISPLAY_FPS
        per_scan = _per_scan(frames)
        store.close()
    share = 100.0 * cpu / seconds
    return [
        Figure("idle scanning, share of one core", share, "%", "≤ 5", share <= 5.0),
        Figure("scans per second", desk.scans / seconds, "1/s"),
        Figure("one scan, no code in view (median)", per_scan[0], "ms"),
        Figure("one scan, a code held up (median)", per_scan[1], "ms"),
        Figure("camera", float(cam_fps), f"fps at {width}x{height}"),
        Figure("code held up, greeted", float(greeted > 0), "1 = yes", "1", greeted > 0),
    ]


def _same(frame: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return frame


def _page(store: Any) -> str:
    """A stored session page to make a personal code from."""
    summary = {"started_at": time.time(), "jumps": 100, "duration_s": 60.0, "best_streak": 50,
               "cadence_avg_per_min": 100.0, "cadence_peak_per_min": 110.0,
               "cadence_series": [], "fault_seconds": {}, "top_fault": None,
               "count_source": "mat"}  # fmt: skip
    return str(store.add_page(summary, now=time.time(), valid_s=60.0))


def _per_scan(frames: list[NDArray[np.uint8]]) -> tuple[float, float]:
    from station.members.qr import QrReader

    reader = QrReader()
    times: dict[bool, list[float]] = {False: [], True: []}
    for i, frame in enumerate(frames[:30]):
        start = time.thread_time()
        reader.read(frame)
        times[i % 3 == 0].append(1000.0 * (time.thread_time() - start))
    return statistics.median(times[False]), statistics.median(times[True])


def session(quick: bool) -> list[Figure]:
    from station.config.loader import ConfigStore
    from station.hardware import select_hardware
    from station.members.desk import MemberDesk
    from station.members.settings import MembersSettings
    from station.runtime.loop import run_fast
    from station.runtime.station import Station

    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        site = tmp / "station.toml"
        site.write_text("")
        store = ConfigStore(site)
        hardware = select_hardware(store.config, simulate=True)
        desk = MemberDesk.in_state_dir(tmp, MembersSettings.from_config(store.config))
        station = Station(store, hardware, members=desk)
        frame = _frames(
            int(store.config["camera"]["width"]), int(store.config["camera"]["height"]), 1
        )[0]
        taken: dict[str, int] = {}

        def picture() -> NDArray[np.uint8]:
            phase = station.session.phase
            taken[phase] = taken.get(phase, 0) + 1
            return frame

        station.camera_picture = picture
        sources = [s for s in (hardware.open_mat(), hardware.open_camera()) if s is not None]
        run_fast(station, sources, fps=DISPLAY_FPS)
        desk.close()
    outside = sum(n for phase, n in taken.items() if phase != "idle")
    return [
        Figure("pictures scanned outside idle", float(outside), "", "0", outside == 0),
        Figure("pictures scanned on idle", float(taken.get("idle", 0)), ""),
        Figure("sessions", float(station.sessions_done), ""),
    ]


BENCHMARKS = [Benchmark("members-idle", idle), Benchmark("members-session", session)]
