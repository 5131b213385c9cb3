"""Real footage through the live station, in real time: the end-to-end harness.

A hand-marked clip is cut to its judged window (the ground truth's first event - 0.5 s to its
last + 0.5 s), preceded by a lead-in (its first picture held still, as a member stands on the
spot before jumping: a camera-counted session starts only after a second in view) and written
to a scratch file. That file is the camera: `station run --headless` plays it at its
own frame rate with `[camera] source = "opencv"`, no mat, and the buzzer on simulated pins, with
`[pose] max_fps` as asked. When the video ends the camera goes quiet, the member is seen
leaving and the session ends; its record is read back from the session log. `station analyze`
on the same file gives the offline count to compare with.

Used by tests/runtime/test_live_video.py and `station bench live-video`. Nothing here is
timing-sensitive except the figures it reports: pass/fail is decided on counts.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

WINDOW_MARGIN_S = 0.5
"""The ground truth judges a count inside [first event - 0.5 s, last event + 0.5 s]."""

JPEG_QUALITY = 95

LEAD_IN_S = 3.0
"""Held still before the jumping: one second in view starts the session, then calibration."""

CI_CLIPS = ("quva_rope_beach", "hb_alternating_02", "speed_hiro_1", "speed_jp_2")
"""The clips the test suite plays at `max_fps` 15 and 8: the shortest of each style family
(two-foot, alternate-foot, speed-step; ~45 s of video in all). At full rate it plays all nine
(the criterion is summed over the shared clips); every clip runs at every rate with
STATION_LIVE_CLIPS=all and in `station bench live-video`."""


@dataclass(frozen=True)
class Clip:
    name: str
    path: Path
    style: str
    fps: float
    event_frames: tuple[int, ...]

    @property
    def window_s(self) -> tuple[float, float]:
        times = [f / self.fps for f in self.event_frames]
        return max(0.0, times[0] - WINDOW_MARGIN_S), times[-1] + WINDOW_MARGIN_S


def load_clips(folder: Path, names: Sequence[str] | None = None) -> list[Clip]:
    """The hand-marked clips in `folder` (ground_truth.csv), optionally only `names`."""
    clips = []
    with (folder / "ground_truth.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            if names is not None and row["clip"] not in names:
                continue
            frames = tuple(int(x) for x in row["event_frames"].split())
            clips.append(
                Clip(row["clip"], folder / row["file"], row["style"], float(row["fps"]), frames)
            )
    return clips


@dataclass(frozen=True)
class Played:
    """A scratch video made from a clip, and what a member really did in it."""

    path: Path
    fps: float
    truth_s: tuple[float, ...]  # every counted event, seconds into this file
    duration_s: float
    out_of_view_s: tuple[float, float] | None = None

    @property
    def truth(self) -> int:
        return len(self.truth_s)


def prepare(
    clip: Clip,
    out: Path,
    *,
    lead_in_s: float = LEAD_IN_S,
    out_of_view: tuple[float, float] | None = None,
    until_s: float | None = None,
) -> Played:
    """Write the clip's judged window after a still lead-in to `out` (Motion JPEG .avi).

    `out_of_view` = (start, length) in seconds of the window: for that long the member is gone
    (the picture replaced by the empty scene's average colour) and their events do not count.
    `until_s`: the video stops this long into the window, whatever the member is doing.
    """
    import cv2

    lo, hi = clip.window_s
    if until_s is not None:
        hi = min(hi, lo + until_s)
    cap = cv2.VideoCapture(str(clip.path))
    if not cap.isOpened():
        raise FileNotFoundError(f"{clip.path}: cannot open")
    fps = float(cap.get(cv2.CAP_PROP_FPS)) or clip.fps
    first, last = round(lo * fps), round(hi * fps)
    frames: list[Any] = []  # BGR uint8 pictures
    index = 0
    while index <= last:
        ok, bgr = cap.read()
        if not ok:
            break
        if index >= first:
            frames.append(bgr)
        index += 1
    cap.release()
    if not frames:
        raise ValueError(f"{clip.path}: no frames in {lo:.2f}-{hi:.2f} s")
    lead = round(lead_in_s * fps)
    gone: tuple[int, int] | None = None
    if out_of_view is not None:
        start, length = out_of_view
        gone = (round(start * fps), round((start + length) * fps))
        empty = np.full_like(frames[0], frames[0].mean(axis=(0, 1)).astype(np.uint8))
        frames = [empty if gone[0] <= i < gone[1] else f for i, f in enumerate(frames)]
    height, width = frames[0].shape[:2]
    out.parent.mkdir(parents=True, exist_ok=True)
    # Motion JPEG at high quality: a tenth of FFV1's decoding cost, so the camera thread takes
    # little CPU from inference, as a real camera does. Live and analyze read the same file.
    # Written beside and renamed into place: a reader of an earlier copy (another run on the
    # same cache) never sees a half-written file.
    partial = out.with_name(f"{out.stem}.{os.getpid()}.part{out.suffix}")
    fourcc = cv2.VideoWriter.fourcc(*"MJPG")
    writer = cv2.VideoWriter(str(partial), fourcc, fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"{out}: OpenCV cannot write Motion JPEG video here")
    writer.set(cv2.VIDEOWRITER_PROP_QUALITY, JPEG_QUALITY)
    for bgr in [frames[0]] * lead + frames:
        writer.write(bgr)
    writer.release()
    os.replace(partial, out)
    truth = []
    for event in clip.event_frames:
        i = round(event / clip.fps * fps) - first  # frame index inside the window
        if (gone is not None and gone[0] <= i < gone[1]) or i >= len(frames):
            continue
        truth.append((lead + i) / fps)
    return Played(out, fps, tuple(truth), (lead + len(frames)) / fps, out_of_view)


@dataclass
class LiveRun:
    """One live run: the sessions as logged, and how the run went."""

    sessions: list[dict[str, Any]]
    wall_s: float
    exit_code: int
    stderr: str
    live: dict[str, Any] = field(default_factory=dict)  # the last live status seen

    @property
    def jumps(self) -> int:
        return sum(int(s["jumps"]) for s in self.sessions)

    def camera(self, key: str) -> float | None:
        """A camera figure of the (longest) session's log record, e.g. 'inference_fps'."""
        if not self.sessions:
            return None
        longest = max(self.sessions, key=lambda s: s["duration_s"])
        value = longest["detail"].get(f"camera_{key}")
        return None if value is None else float(value)


def station_config(
    video: Path, state_dir: Path, max_fps: float, alerts: bool = True, jitter: float = 0.0
) -> str:
    """The site config of a station whose camera is `video`: no mat, inference capped at
    `max_fps` (0: uncapped; `jitter`: pose.max_fps_jitter), and a buzzer that needs GPIO
    (run with `--simulate gpio`), or with `alerts` False none at all (then no GPIO is
    needed)."""
    return "\n".join(
        [
            "[camera]",
            'source = "opencv"',
            f"device = {json.dumps(str(video))}",
            "[mat]",
            'sensor = "none"',
            "[alerts]",
            f"enabled = {json.dumps(alerts)}",
            'buzzer = "active"',
            "[pose]",
            f"max_fps = {float(max_fps)}",
            f"max_fps_jitter = {float(jitter)}",
            "[display]",
            "live_view = false",
            "[storage]",
            f"state_dir = {json.dumps(str(state_dir))}",
            "",
        ]
    )


def run_live(
    played: Played,
    work: Path,
    *,
    max_fps: float = 0.0,
    jitter: float = 0.0,
    extra_args: Sequence[str] = ("--simulate", "gpio"),
    alerts: bool = True,
    timeout_s: float | None = None,
) -> LiveRun:
    """`station run --headless` on `played` until its session has been logged (or the video
    plus a margin has passed since the camera started), then SIGTERM, as systemd stops the
    kiosk. `timeout_s` bounds the whole run (start-up on a loaded machine included)."""
    from station.storage.paths import LIVE_STATUS
    from station.storage.sessions import SessionLog

    state = work / "state"
    state.mkdir(parents=True, exist_ok=True)
    config = work / "station.toml"
    config.write_text(station_config(played.path, state, max_fps, alerts, jitter))
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATION_")}
    env["STATION_RUNTIME_DIR"] = str(state / "run")
    env.setdefault("SDL_VIDEODRIVER", "dummy")
    cmd = [sys.executable, "-m", "station", "run", "--headless", "--config", str(config)]
    cmd += [*extra_args, "--state-dir", str(state)]
    # the video, then end_after_off_s of quiet before the summary, counted from the moment
    # the camera runs (loading Python and the model can take a minute on a loaded machine)
    margin = played.duration_s + 60.0
    limit = timeout_s if timeout_s is not None else played.duration_s + 600.0
    camera_since: float | None = None
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    live: dict[str, Any] = {}
    status = state / "run" / LIVE_STATUS
    video_over = False
    try:
        while proc.poll() is None and time.monotonic() - started < limit:
            time.sleep(0.25)
            try:
                live = json.loads(status.read_text())
            except (OSError, ValueError):
                continue
            if camera_since is None and live.get("camera", {}).get("frames_inferred"):
                camera_since = time.monotonic()
            if camera_since is None:
                continue
            # The session is logged once the summary shows; idle well after the video has
            # played means none started.
            if live.get("phase") == "summary":
                break
            playing = time.monotonic() - camera_since
            video_over = video_over or playing > played.duration_s
            if playing > margin or (
                video_over and live.get("phase") == "idle" and playing > played.duration_s + 15
            ):
                break
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            _, stderr = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
    wall = time.monotonic() - started
    with SessionLog.in_state_dir(state) as log:
        records = log.sessions()
        sessions = [
            {**r.to_dict(), "detail": dict(r.detail)} for r in records if r.status == "finished"
        ]
    return LiveRun(sessions, wall, proc.returncode, stderr, live)


def analyze_count(played: Played) -> int:
    """`station analyze` on the same file: every frame inferred, offline."""
    from station.analysis.analyze import analyze
    from station.config.loader import build_config
    from station.config.sections import SCHEMA

    return len(analyze(played.path, build_config(SCHEMA, [])).jumps)
