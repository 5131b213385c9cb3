"""Run pose inference over a whole video and keep the landmarks as a track.

Usage (scratch extraction of many clips)::

    python -m station.pose.extract OUT_DIR VIDEO [VIDEO ...]

writes OUT_DIR/<clip>.npz for each video (see :mod:`station.pose.track`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from station.camera.video import VideoReader
from station.events import NUM_LANDMARKS
from station.pose.backends import LegacyPoseBackend, PoseBackend
from station.pose.jumper import FULL_FRAME, JumperPicker
from station.pose.track import LandmarkTrack, save_track

Progress = Callable[[int, int], None]


@dataclass
class Extraction:
    track: LandmarkTrack
    inference_s: float  # summed wall time inside the backend


def extract_track(
    video: str | Path,
    backend: PoseBackend,
    roi: Sequence[float] = FULL_FRAME,
    progress: Progress | None = None,
) -> Extraction:
    """Every frame of `video` through `backend`; frames without the jumper are NaN rows."""
    picker = JumperPicker(roi)
    with VideoReader(video) as reader:
        info = reader.info
        ts: list[float] = []
        lms: list[np.ndarray] = []
        worlds: list[np.ndarray] = []
        nan_lm = np.full((NUM_LANDMARKS, 4), np.nan)
        nan_world = np.full((NUM_LANDMARKS, 3), np.nan)
        inference_s = 0.0
        for i, t, rgb in reader:
            start = time.perf_counter()
            candidates = backend.detect(rgb, t)
            inference_s += time.perf_counter() - start
            chosen = picker.pick(candidates)
            ts.append(t)
            lms.append(chosen.lm if chosen is not None else nan_lm)
            worlds.append(
                chosen.world if chosen is not None and chosen.world is not None else nan_world
            )
            if progress is not None:
                progress(i + 1, info.frame_count)
    track = LandmarkTrack(
        t=np.asarray(ts, dtype=np.float64),
        lm=np.stack(lms) if lms else np.empty((0, NUM_LANDMARKS, 4)),
        world=np.stack(worlds) if worlds else np.empty((0, NUM_LANDMARKS, 3)),
        fps=info.fps,
        width=info.width,
        height=info.height,
    )
    return Extraction(track, inference_s)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("videos", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for video in args.videos:
        backend = LegacyPoseBackend()
        try:
            result = extract_track(video, backend)
        finally:
            backend.close()
        out = args.out_dir / f"{video.stem}.npz"
        partial = out.with_name(out.name + ".part")  # readers never see a half-written file
        save_track(result.track, partial)
        partial.replace(out)
        n = len(result.track)
        print(
            f"{out}: {n} frames, {int(result.track.has_pose.sum())} with pose, "
            f"{1000 * result.inference_s / max(n, 1):.1f} ms/frame inference",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
