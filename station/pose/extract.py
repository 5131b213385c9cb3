"""Run pose inference over a whole video file, every frame, and keep the landmarks.

Offline only (the live camera uses :mod:`station.camera.sources`, where the newest frame
wins). To use more than one core, the video is cut into ``workers`` contiguous segments, each
decoded and inferred by its own thread with its own pose graph (the graph computes in
MediaPipe's own native threads; the Python thread only feeds it and waits). Each segment
starts with a fresh person detection, exactly as after a tracking loss; every frame still
goes through the model. Two segments only help when a second core is free.

Usage (scratch extraction of many clips)::

    python -m station.pose.extract OUT_DIR VIDEO [VIDEO ...]

writes OUT_DIR/<clip>.npz for each video (see :mod:`station.pose.track`).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from station.camera.video import VideoError, VideoInfo, VideoReader
from station.events import PoseFrame
from station.pose.backends import LegacyPoseBackend, PoseBackend
from station.pose.jumper import FULL_FRAME, JumperPicker, detect_jumper
from station.pose.picture import BlackAccumulator
from station.pose.track import LandmarkTrack, save_track

Progress = Callable[[int, int], None]
BackendFactory = Callable[[], PoseBackend]


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


@dataclass
class VideoInference:
    info: VideoInfo
    frames: list[PoseFrame] = field(default_factory=list)
    inference_s: float = 0.0  # summed time inside the backends (all threads)
    wall_s: float = 0.0
    # Which pixels stayed black (station.pose.picture), from the frames decoded anyway.
    black: BlackAccumulator = field(default_factory=BlackAccumulator)

    @property
    def track(self) -> LandmarkTrack:
        return LandmarkTrack.from_frames(
            self.frames, self.info.fps, self.info.width, self.info.height
        )


@dataclass
class _Segment:
    start: int
    stop: int | None  # None: to the end of the file
    frames: list[PoseFrame] = field(default_factory=list)
    inference_s: float = 0.0
    error: BaseException | None = None
    black: BlackAccumulator = field(default_factory=BlackAccumulator)


def infer_video(
    video: str | Path,
    make_backend: BackendFactory = LegacyPoseBackend,
    roi: Sequence[float] = FULL_FRAME,
    progress: Progress | None = None,
    workers: int | None = None,
) -> VideoInference:
    """PoseFrames for every frame of `video` (lm None where the jumper is not found).

    Raises VideoError for a file that cannot be opened or decoded."""
    started = time.perf_counter()
    with VideoReader(video) as probe:
        info = probe.info
    workers = max(1, workers or default_workers())
    if info.frame_count < 60 * workers:  # not worth a second graph
        workers = 1
    bounds = [info.frame_count * k // workers for k in range(workers)]
    segments = [
        _Segment(bounds[k], bounds[k + 1] if k + 1 < workers else None) for k in range(workers)
    ]
    done = [0]
    lock = threading.Lock()

    def tick() -> None:
        if progress is not None:
            with lock:
                done[0] += 1
                progress(done[0], info.frame_count)

    threads = [
        threading.Thread(
            target=_run_segment,
            args=(video, seg, make_backend, roi, tick),
            name=f"pose-segment-{k}",
            daemon=True,
        )
        for k, seg in enumerate(segments)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = VideoInference(info)
    for seg in segments:
        if seg.error is not None:
            raise seg.error
        result.frames.extend(seg.frames)
        result.inference_s += seg.inference_s
        result.black.merge(seg.black)
    if not result.frames:
        raise VideoError(f"{video}: no frame could be decoded (truncated or damaged)")
    result.wall_s = time.perf_counter() - started
    return result


def _run_segment(
    video: str | Path,
    seg: _Segment,
    make_backend: BackendFactory,
    roi: Sequence[float],
    tick: Callable[[], None],
) -> None:
    try:
        backend = make_backend()
        picker = JumperPicker(roi)
        with VideoReader(video) as reader:
            if reader.skip(seg.start) < seg.start:
                return  # the file ends before this segment (claimed length was wrong)
            try:
                for i, t, rgb in reader:
                    if seg.stop is not None and i >= seg.stop:
                        break
                    start = time.perf_counter()
                    chosen = detect_jumper(backend, picker, rgb, t)
                    spent = time.perf_counter() - start
                    seg.inference_s += spent
                    seg.frames.append(
                        PoseFrame(
                            t=t,
                            lm=None if chosen is None else chosen.lm,
                            world=None if chosen is None else chosen.world,
                            width=rgb.shape[1],
                            height=rgb.shape[0],
                            index=i,
                            inference_ms=1000.0 * spent,
                        )
                    )
                    seg.black.add(rgb, i)
                    tick()
            except VideoError:
                if not seg.frames and seg.start == 0:
                    raise
            finally:
                backend.close()
    except BaseException as exc:  # handed to the caller's thread
        seg.error = exc


@dataclass
class Extraction:
    track: LandmarkTrack
    inference_s: float  # summed wall time inside the backend


def extract_track(
    video: str | Path,
    make_backend: BackendFactory = LegacyPoseBackend,
    roi: Sequence[float] = FULL_FRAME,
    progress: Progress | None = None,
    workers: int | None = None,
) -> Extraction:
    """Every frame of `video` through the pose model, as a landmark track."""
    result = infer_video(video, make_backend, roi, progress, workers)
    return Extraction(result.track, result.inference_s)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("videos", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for video in args.videos:
        result = extract_track(video)
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
