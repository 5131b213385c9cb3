"""Offline analysis of a video or landmark track with the live station's own code.

Each PoseFrame goes through the same :class:`~station.camcount.counter.CameraJumpCounter` and
the same posture judge (station.posture) as on the station; only the source differs (every
frame of a file instead of the newest camera frame).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from station.camcount.counter import CameraJump, CameraJumpCounter
from station.config.loader import Config
from station.events import FAULTS, NUM_LANDMARKS, PoseFrame
from station.pose.find_jumper import WHOLE_PICTURE, JumperSearch, find_jumper
from station.pose.framing import counting_trust
from station.pose.jumper import JumperPicker, anchor_point
from station.pose.track import LandmarkTrack, load_track, save_track
from station.posture import PostureJudge, faults_json, summarise
from station.posture.placement import guess_placement

Progress = Callable[[int, int], None]
TRACK_SUFFIXES = (".npz",)


class AnalysisError(RuntimeError):
    """The input cannot be analysed (unreadable file); the message says why."""


@dataclass
class Analysis:
    input: str
    fps: float
    width: int
    height: int
    frames: int = 0
    pose_frames: int = 0
    duration_s: float = 0.0
    jumps: list[CameraJump] = field(default_factory=list)
    faults: dict[str, dict[str, Any]] = field(default_factory=dict)
    inference_s: float | None = None
    analysis_s: float = 0.0
    placement: str = ""  # the camera placement the posture lights were judged for
    jumper: dict[str, Any] = field(default_factory=dict)  # where the jumper was looked for
    baseline: dict[str, Any] = field(default_factory=lambda: {"source": "population"})
    counting: dict[str, Any] = field(default_factory=dict)  # can the count be trusted?
    # The picture's static black fill (bars, padding, a vignette); None for a track.
    picture: dict[str, Any] = field(default_factory=lambda: {"masked_fraction": None})

    @property
    def cadence_per_min(self) -> float:
        """Jumps per minute while jumping (first to last jump)."""
        if len(self.jumps) < 2:
            return 0.0
        span = self.jumps[-1].t - self.jumps[0].t
        return 60.0 * (len(self.jumps) - 1) / span if span > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        n = max(self.frames, 1)
        return {
            "input": self.input,
            "fps": round(self.fps, 3),
            "frames": self.frames,
            "pose_frames": self.pose_frames,
            "duration_s": round(self.duration_s, 3),
            "jumps": len(self.jumps),
            "jump_times_s": [round(j.t, 3) for j in self.jumps],
            "cadence_per_min": round(self.cadence_per_min, 1),
            "faults": self.faults,
            "jumper": self.jumper,
            "baseline": self.baseline,
            "counting": self.counting,
            "picture": self.picture,
            "timing": {
                "inference_ms_per_frame": None
                if self.inference_s is None
                else round(1000.0 * self.inference_s / n, 3),
                "analysis_ms_per_frame": round(1000.0 * self.analysis_s / n, 4),
            },
        }


def unknown_faults(duration_s: float) -> dict[str, dict[str, Any]]:
    """Every light unknown for the whole recording (no posture judge available)."""
    return {
        f: {"fault_s": 0.0, "warn_s": 0.0, "unknown_s": round(duration_s, 3), "episodes": []}
        for f in FAULTS
    }


class PostureAdapter:
    """The posture judge, as the live station runs it, plus the lights it gave per frame.

    The baseline comes from the recording's first stretch of standing upright and still (the
    live station's calibration asks for one; a video may never show one), else from the
    population defaults (station.posture.baseline)."""

    def __init__(
        self, config: Config, placement: str, frames: list[PoseFrame], baseline: bool = True
    ) -> None:
        from station.posture.agreement import RecordingBaseline, recording_baseline

        self.judged: list[Any] = []
        self.judge = PostureJudge(config, placement=placement)
        self.baseline = RecordingBaseline("population")
        if baseline and frames:
            self.baseline = recording_baseline(self.judge, frames, frames[0].t)

    def update(self, frame: PoseFrame) -> Any:
        current = self.judge.update(frame)
        self.judged.append(current)
        return current

    def faults(self, duration_s: float, t0: float) -> dict[str, dict[str, Any]]:
        if not self.judged:
            return unknown_faults(duration_s)
        return dict(faults_json(summarise(self.judged, end_t=t0 + duration_s, t0=t0)))


def pick_placement(requested: str, frames: list[PoseFrame], config: Config) -> str:
    """'auto': guessed from the shoulders' apparent width (a recorded video may come from
    any angle); otherwise as asked. Falls back to camera.placement without a pose."""
    if requested != "auto":
        return requested
    return guess_placement(frames) or str(config["camera"]["placement"])


def jumper_region(path: Path, config: Config, roi: Sequence[float] | None) -> JumperSearch:
    """Where the model looks for the jumper: `roi` when given (``--roi``), else the config's
    ``camera.roi`` when it is narrower than the whole picture, else found in the video
    (station.pose.find_jumper: the person who keeps moving)."""
    if roi is not None:
        return JumperSearch(tuple(float(v) for v in roi), "given")  # type: ignore[arg-type]
    configured = tuple(float(v) for v in config["camera"]["roi"])
    if configured != WHOLE_PICTURE:
        return JumperSearch(configured, "given")  # type: ignore[arg-type]
    return find_jumper(path)


def _infer(
    path: Path,
    config: Config,
    analysis: Analysis,
    progress: Progress | None,
    workers: int | None,
    roi: Sequence[float] | None = None,
) -> list[PoseFrame]:
    """Real inference on every frame of the video (see station.pose.extract), on the part of
    the picture where the jumper is. Landmarks on the picture's static black fill (bars,
    padding, a vignette: station.pose.picture) come back with visibility 0: the model
    guesses them, often pinned to the mask's edge with full visibility."""
    from station.camera.video import VideoError
    from station.pose.backends import PoseModelMissing, open_backend
    from station.pose.extract import infer_video

    search = jumper_region(path, config, roi)
    analysis.jumper = search.as_json()
    try:
        result = infer_video(
            path,
            lambda: open_backend(config["pose"]),
            search.model_roi,
            progress,
            workers,
        )
    except (VideoError, PoseModelMissing) as exc:
        raise AnalysisError(str(exc)) from exc
    analysis.fps = result.info.fps
    analysis.width, analysis.height = result.info.width, result.info.height
    analysis.inference_s = result.inference_s
    mask = result.black.mask()
    analysis.picture = mask.as_json()
    return mask.hide(result.frames)


def _inside(frames: list[PoseFrame], roi: Sequence[float]) -> list[PoseFrame]:
    """Frames whose person stands (feet, else hips) inside `roi`; the others lose their pose."""
    from dataclasses import replace

    picker = JumperPicker(roi)
    kept = []
    for frame in frames:
        point = None if frame.lm is None else anchor_point(frame.lm)
        inside = point is not None and picker.inside(point)
        kept.append(frame if inside else replace(frame, lm=None, world=None))
    return kept


def _pictures(path: Path) -> Iterator[Any]:
    """The video's pictures again, in order, for the annotated copy."""
    from station.camera.video import VideoReader

    with VideoReader(path) as reader:
        for _i, _t, rgb in reader:
            yield rgb


def analyze(
    input_path: str | Path,
    config: Config,
    *,
    progress: Progress | None = None,
    annotate: str | Path | None = None,
    save_track_to: str | Path | None = None,
    baseline: bool = True,
    workers: int | None = None,
    placement: str = "auto",
    roi: Sequence[float] | None = None,
) -> Analysis:
    """Count jumps and judge posture in a video or a landmark track (.npz). `roi` (x0, y0,
    x1, y1, fractions of the picture) says where the jumper is; None: found in the video."""
    path = Path(input_path)
    if not path.exists():
        raise AnalysisError(f"{path}: no such file")
    # Outputs are checked before inference: minutes of work must not end in "is a directory".
    for option, out in (("--save-track", save_track_to), ("--annotate", annotate)):
        if out is not None:
            _check_output(option, Path(out))
    analysis = Analysis(input=str(path), fps=0.0, width=0, height=0)
    frames: list[PoseFrame]
    pictures: Iterator[Any] | None = None
    if path.suffix.lower() in TRACK_SUFFIXES:
        if annotate is not None:
            raise AnalysisError("--annotate needs a video input (a track has no pictures)")
        try:
            track = load_track(path)
        except ValueError as exc:
            raise AnalysisError(str(exc)) from exc
        analysis.fps, analysis.width, analysis.height = track.fps, track.width, track.height
        if track.width <= 0 or track.height <= 0:
            raise AnalysisError(
                f"{path}: the track's picture is {track.width}x{track.height} pixels; width "
                "and height must be positive (a damaged or hand-made track?)"
            )
        frames = list(track.frames())
        if roi is not None:  # a track has no pictures: keep the pose only when inside `roi`
            frames = _inside(frames, roi)
        analysis.jumper = JumperSearch(
            WHOLE_PICTURE if roi is None else tuple(roi),  # type: ignore[arg-type]
            "whole picture" if roi is None else "given",
        ).as_json()
    else:
        # Inference fills the progress bar; analysis afterwards takes a tiny fraction of it.
        frames = _infer(path, config, analysis, progress, workers, roi)
        if annotate is not None:
            pictures = _pictures(path)
    if not frames:
        raise AnalysisError(f"{path}: no frames")

    counter = CameraJumpCounter()
    analysis.counting = counting_trust(frames, float(config["pose"]["min_visibility"]))
    analysis.placement = pick_placement(placement, frames, config)
    posture = PostureAdapter(config, analysis.placement, frames, baseline)
    analysis.baseline = posture.baseline.as_json()
    writer = (
        Annotator(annotate, analysis.fps, analysis.width, analysis.height)
        if annotate is not None
        else None
    )
    for frame in frames:
        start = time.perf_counter()
        counter.update(frame)
        lights = posture.update(frame)
        analysis.analysis_s += time.perf_counter() - start
        analysis.pose_frames += frame.lm is not None
        if writer is not None and pictures is not None:
            rgb = next(pictures, None)
            if rgb is not None:
                writer.write(rgb, frame, counter.count, lights)
    counter.finish()
    if writer is not None:
        writer.close()
    analysis.frames = len(frames)
    t_first, t_last = frames[0].t, frames[-1].t
    origin = t_first
    analysis.duration_s = t_last - origin + 1.0 / analysis.fps
    analysis.jumps = [CameraJump(j.t - origin, j.style, j.double) for j in counter.jumps]
    analysis.faults = posture.faults(analysis.duration_s, origin)
    if save_track_to is not None:
        save_track(
            LandmarkTrack.from_frames(frames, analysis.fps, analysis.width, analysis.height),
            save_track_to,
        )
    return analysis


def _check_output(option: str, out: Path) -> None:
    """An output path the analysis will be able to write at the end, or AnalysisError now."""
    if out.is_dir():
        raise AnalysisError(f"{option} {out}: is a folder; give a file name (e.g. clip.npz)")
    folder = out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # save_track makes missing folders: check the first that exists
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise AnalysisError(f"{option} {out}: cannot write in {folder}")


# -- annotated video ---------------------------------------------------------------------
SKELETON = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (27, 29), (29, 31), (27, 31), (24, 26), (26, 28), (28, 30),
    (30, 32), (28, 32), (0, 11), (0, 12),
)  # fmt: skip
LIGHT_BGR = {
    "ok": (60, 180, 60),
    "warn": (0, 190, 255),
    "fault": (40, 40, 230),
    "unknown": (128, 128, 128),
}


class Annotator:
    """Writes the video with skeleton, the five lights and the count drawn on."""

    def __init__(self, path: str | Path, fps: float, width: int, height: int) -> None:
        import cv2

        self._cv2: Any = cv2
        fourcc = cv2.VideoWriter.fourcc(*"mp4v")
        self._writer: Any = cv2.VideoWriter(str(path), fourcc, fps, (width, height))
        if not self._writer.isOpened():
            raise AnalysisError(f"{path}: cannot write a video here")

    def write(self, rgb: Any, frame: PoseFrame, count: int, lights: Any) -> None:
        cv2 = self._cv2
        img = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        h, w = img.shape[:2]
        if frame.lm is not None and np.isfinite(frame.lm[:, :2]).all():
            pts = (frame.lm[:, :2] * (w, h)).astype(int)
            for a, b in SKELETON:
                if a < NUM_LANDMARKS and b < NUM_LANDMARKS:
                    cv2.line(img, tuple(pts[a]), tuple(pts[b]), (255, 255, 255), 2)
            for p in pts:
                cv2.circle(img, tuple(p), 3, (0, 200, 255), -1)
        # Lights down the left edge, the count top right: fits portrait clips too.
        states = lights.states() if lights is not None else {}
        for k, fault in enumerate(FAULTS):
            state = states.get(fault, "unknown")
            y = 22 + 28 * k
            cv2.circle(img, (18, y), 10, LIGHT_BGR.get(state, LIGHT_BGR["unknown"]), -1)
            cv2.putText(img, fault, (34, y + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3)
            cv2.putText(img, fault, (34, y + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
        text = str(count)
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 1.4, 3)
        cv2.rectangle(img, (w - tw - 20, 6), (w - 6, th + 22), (0, 0, 0), -1)
        cv2.putText(
            img, text, (w - tw - 13, th + 14), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (255, 255, 255), 3
        )
        self._writer.write(img)

    def close(self) -> None:
        self._writer.release()


def progress_bar(stream: Any = None) -> Progress | None:
    """A one-line progress bar on stderr, only when stderr is a terminal."""
    out = stream or sys.stderr
    if not out.isatty():
        return None
    last = [-1]

    def show(done: int, total: int) -> None:
        if total > 0:
            pct = min(100, int(100 * done / total))
            if pct == last[0] and done != total:
                return
            last[0] = pct
            bar = "#" * (pct // 4)
            out.write(f"\ranalysing [{bar:<25}] {pct:3d}% {done}/{total} frames")
        else:
            out.write(f"\ranalysing {done} frames")
        out.flush()

    return show
