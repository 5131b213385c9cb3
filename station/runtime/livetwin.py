"""The live path's offline twin: real inference on exactly the frames live inference takes.

    python -m station.runtime.livetwin --tracks /work/cache/tracks --cache DIR [--clips A,B]
        [--max-fps 15,8] [--jitter 0.2 --seeds 3] [--perturb N]

At `[pose] max_fps` 15 on a 30 frames/s video, live inference sees every 2nd frame, and
MediaPipe's tracker, following the member from one inferred picture to the next, returns other
landmarks than it does on every frame. The deterministic replay (station.runtime.livereplay)
subsamples landmarks inferred on every frame, so it cannot show that. The twin can:

1. the clip is written as the real-time test plays it (:func:`station.runtime.livevideo.prepare`:
   judged window, still lead-in, Motion JPEG);
2. the frames live inference takes are chosen by the live pipeline's own cap
   (:class:`~station.camera.pacing.InferenceCap` on the frames' capture times k / fps) with a
   model fast enough never to drop one in the mailbox (a quiet machine);
3. only those frames are decoded and go through the live inference code (the backend
   `[pose]` names, one tracker for the whole video, :func:`~station.pose.jumper.detect_jumper`
   with the camera's ROI), in order, as the inference thread would see them;
4. their poses go through the real Station on a ManualClock (:func:`livereplay.replay`).

Everything is deterministic: if the real-time run at the same `max_fps` counts the same, the
live path (threads, capture clock, mailbox, session) adds nothing to what inference on those
frames gives, and what is left is the counter's and the tracker's. The frames of the other
phase (every 2nd frame starting at the second) show how much the choice of half matters.

Inferred poses are cached in DIR (`<clip>-<max_fps>-<phase>.npz`), keyed by nothing but the
name: delete DIR after changing the pose backend or the clips.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from station.events import PoseFrame
from station.pose.track import LandmarkTrack, load_track, save_track
from station.runtime.livereplay import (
    LiveModel,
    Played,
    Replayed,
    inference_schedule,
    played_poses,
    poses_of,
    replay,
)
from station.runtime.livevideo import (
    CI_CLIPS,
    LEAD_IN_S,
    Clip,
    load_clips,
    prepare,
    station_config,
)
from station.runtime.livevideo import Played as PlayedVideo

EXACT = LiveModel(inference_s=0.02, inference_cv=0.0, decode_s=0.0, decode_jitter_s=0.0)
"""A quiet machine's live camera: stamps on the file's time line, inference well within a
frame period, so the cap alone decides which frames are inferred."""


def live_frames(
    n: int, fps: float, max_fps: float, phase: int = 0, jitter: float = 0.0, seed: int = 0
) -> list[int]:
    """The frames (of `n` at `fps`) live inference takes at `max_fps` on a quiet machine;
    `phase` k shifts the capture grid by k frames (the other half at 15 of 30 frames/s);
    `jitter` and `seed`: pose.max_fps_jitter's draws (the live pipeline's seed is 0)."""
    model = capped(max_fps, jitter, seed)
    return [k + phase for k, _t, _d in inference_schedule(n - phase, fps, model)]


def infer_frames(video: Path, frames: Sequence[int], config_text: str) -> LandmarkTrack:
    """Real inference on `frames` of `video` only, in order, with the live pipeline's backend,
    jumper picker and ROI from the station config `config_text`, one tracker throughout.
    The track has a row per frame of the video; frames not inferred have no pose."""
    from station.camera.video import VideoReader
    from station.config.loader import ConfigStore
    from station.pose.backends import open_backend
    from station.pose.jumper import JumperPicker, detect_jumper

    with tempfile.TemporaryDirectory(prefix="station-twin-") as scratch:
        path = Path(scratch) / "station.toml"
        path.write_text(config_text)
        config = ConfigStore(path, required=True).config
    wanted = set(frames)
    backend = open_backend(config["pose"])
    picker = JumperPicker(config["camera"]["roi"])
    out: list[PoseFrame] = []
    try:
        with VideoReader(video) as reader:
            for k, t, rgb in reader:
                chosen = detect_jumper(backend, picker, rgb, t) if k in wanted else None
                h, w = rgb.shape[:2]
                lm = None if chosen is None else chosen.lm
                world = None if chosen is None else chosen.world
                out.append(PoseFrame(t, lm, world, w, h, k))
            info = reader.info
    finally:
        backend.close()
    return LandmarkTrack.from_frames(out, info.fps, info.width, info.height)


@dataclass
class Recorded:
    """What the live camera path delivered for one video: its PoseFrames in order, and the
    frames it skipped (reading behind), capped, and overwrote in the mailbox."""

    frames: list[PoseFrame]
    skipped: int
    capped: int
    overwritten: int

    @property
    def indices(self) -> list[int]:
        return [f.index for f in self.frames]

    @property
    def kept_up(self) -> bool:
        """Only the cap dropped frames: a quiet machine's run, comparable frame by frame."""
        return self.skipped == 0 and self.overwritten == 0


def record_live(video: Path, config_text: str, timeout_s: float = 600.0) -> Recorded:
    """Play `video` through the live camera path in real time, as `station run` opens it
    (:func:`~station.camera.sources.open_pose_pipeline`: the file paced at its own rate, the
    capture thread, the cap, the one-slot mailbox, the inference thread) and keep every
    PoseFrame it delivers. No station: what reaches the main loop, not what it makes of it."""
    import threading
    import time

    from station.camera.sources import PosePipeline, open_pose_pipeline
    from station.config.loader import ConfigStore

    with tempfile.TemporaryDirectory(prefix="station-twin-") as scratch:
        path = Path(scratch) / "station.toml"
        path.write_text(config_text)
        config = ConfigStore(path, required=True).config
    pipeline = open_pose_pipeline(config)
    assert isinstance(pipeline, PosePipeline), "a video file opens the live pipeline"
    frames: list[PoseFrame] = []

    def consume() -> None:
        for event in pipeline.events():
            if isinstance(event, PoseFrame):
                frames.append(event)

    consumer = threading.Thread(target=consume, name="twin-consumer", daemon=True)
    consumer.start()
    deadline = time.monotonic() + timeout_s
    try:
        while not pipeline.finished and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        pipeline.close()
        consumer.join(timeout=5.0)
    return Recorded(frames, pipeline.skipped, pipeline.capped, pipeline.overwritten)


@dataclass(frozen=True)
class TwinRow:
    """One clip's counts at one `max_fps`: truth, the counter on every-frame poses through the
    replay (30/s poses, subsampled), the twin (real inference on the live frames) and the
    twin on the other half of the frames."""

    clip: str
    truth: int
    every_frame: int
    subsampled: int
    twin: int
    twin_other_phase: int
    jittery: tuple[int, ...] = ()  # the twin with pose.max_fps_jitter, one count per seed


def capped(max_fps: float, jitter: float = 0.0, seed: int = 0) -> LiveModel:
    """The quiet machine's live camera (EXACT) at `max_fps` (with pose.max_fps_jitter)."""
    return LiveModel(**{**EXACT.__dict__, "max_fps": max_fps, "jitter": jitter, "seed": seed})


def twin(
    video: PlayedVideo,
    max_fps: float,
    *,
    phase: int = 0,
    jitter: float = 0.0,
    seed: int = 0,
    cache: Path | None = None,
    config_text: str | None = None,
) -> Replayed:
    """The twin of a live run of `video` at `max_fps`: real inference on the frames the cap
    takes (from frame `phase` on; with pose.max_fps_jitter `jitter`, drawn with `seed`), then
    the real Station on them. With `cache`, the inferred poses are kept as `cache` (an .npz
    path) and reused."""
    if cache is not None and cache.is_file():
        track = load_track(cache)
    else:
        config_text = config_text or station_config(
            video.path, video.path.parent, max_fps, False, jitter
        )
        n = round(video.duration_s * video.fps)
        frames = live_frames(n, video.fps, max_fps, phase, jitter, seed)
        track = infer_frames(video.path, frames, config_text)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            save_track(track, cache)
    return replay(shifted(poses_of(track, video.truth_s), phase), capped(max_fps, jitter, seed))


def twin_counts(
    clip: Clip, tracks: Path, cache: Path, max_fps: float, jitter: float = 0.0, seeds: int = 0
) -> TwinRow:
    """One clip's row at `max_fps` (played video and inferences cached in `cache`); with
    `jitter` > 0 also the twin with pose.max_fps_jitter for `seeds` seeds."""
    cache.mkdir(parents=True, exist_ok=True)
    video = prepare(clip, cache / f"{clip.name}.avi")
    stem = f"{clip.name}-{max_fps:g}"

    def jittered_cache(seed: int) -> Path:
        return cache / f"{stem}-j{jitter:g}-s{seed}.npz"

    counts = [
        twin(video, max_fps, phase=phase, cache=cache / f"{stem}-{phase}.npz").jumps
        for phase in (0, 1)
    ]
    jittery = tuple(
        twin(video, max_fps, jitter=jitter, seed=seed, cache=jittered_cache(seed)).jumps
        for seed in range(seeds if jitter > 0 else 0)
    )
    subsampled_poses = played_poses(clip, load_track(tracks / f"{clip.name}.npz"))
    every = replay(subsampled_poses, EXACT).jumps
    sub = replay(subsampled_poses, capped(max_fps)).jumps
    return TwinRow(clip.name, video.truth, every, sub, counts[0], counts[1], jittery)


def perturbed(
    video: PlayedVideo, max_fps: float, draws: int, cache: Path, seed: int = 7
) -> list[tuple[str, int, int]]:
    """How much one frame matters: the twin with a single frame of the jumping changed,
    alternately taken one later (reading fell behind) or left out (the mailbox overwrote it),
    at seeded places. Returns (how, frame, count) per draw; inferences cached in `cache`."""
    n = round(video.duration_s * video.fps)
    base = live_frames(n, video.fps, max_fps)
    jumping = next(i for i, k in enumerate(base) if k >= round(LEAD_IN_S * video.fps))
    rng = np.random.default_rng(seed)
    config_text = station_config(video.path, video.path.parent, max_fps, False)
    out = []
    for draw in range(draws):
        how = ("later", "left out")[draw % 2]
        pos = int(rng.integers(jumping, len(base) - 5))
        frames = list(base)
        if how == "later":
            frames[pos] += 1
        else:
            del frames[pos]
        path = cache / f"{video.path.stem}-{max_fps:g}-{how.replace(' ', '')}-{base[pos]}.npz"
        if path.is_file():
            track = load_track(path)
        else:
            track = infer_frames(video.path, frames, config_text)
            cache.mkdir(parents=True, exist_ok=True)
            save_track(track, path)
        schedule = [(k, k / video.fps, k / video.fps + EXACT.inference_s) for k in frames]
        poses = poses_of(track, video.truth_s)
        out.append((how, base[pos], replay(poses, EXACT, schedule=schedule).jumps))
    return out


def shifted(poses: Played, phase: int) -> Played:
    """`poses` from frame `phase` on (a camera started `phase` frames later, still in the
    lead-in), so the replay's cap, whose grid starts at the first frame, takes that phase."""
    if phase == 0:
        return poses
    return Played(
        poses.lm[phase:],
        poses.world[phase:],
        poses.fps,
        poses.width,
        poses.height,
        tuple(t - phase / poses.fps for t in poses.truth_s),
    )


def summed_error(counts: Sequence[int], truths: Sequence[int]) -> str:
    """Summed |error| over the clips, as a share of the summed truth."""
    error = sum(abs(c - t) for c, t in zip(counts, truths, strict=True))
    return f"{100 * error / sum(truths):.1f} %"


def report(
    clips: Sequence[Clip],
    tracks: Path,
    cache: Path,
    rates: Sequence[float],
    jitter: float = 0.0,
    seeds: int = 3,
) -> str:
    """Per `max_fps`, per clip: truth, replayed 30/s poses (every frame, subsampled), the
    twin on the live frames and on the other half, and with `jitter` the jittery twin."""
    lines = []
    for max_fps in rates:
        jittered = jitter > 0 and max_fps > 0
        extra = f" | twin, jitter {jitter:g} ({seeds} seeds)" if jittered else ""
        lines += [
            f"max_fps {max_fps:g}:",
            "| clip | truth | every frame (30/s poses) | subsampled 30/s poses "
            f"| twin: inference on the live frames | twin, other phase{extra} |",
            "|---|---:|---:|---:|---:|---:|" + ("---:|" if jittered else ""),
        ]
        rows = [
            twin_counts(c, tracks, cache, max_fps, jitter if jittered else 0.0, seeds)
            for c in clips
        ]
        for r in rows:
            cells = [r.truth, r.every_frame, r.subsampled, r.twin, r.twin_other_phase]
            text = " | ".join(str(x) for x in cells)
            if jittered:
                text += f" | {np.mean(r.jittery):.1f} ({min(r.jittery)}–{max(r.jittery)})"
            lines.append(f"| {r.clip} | {text} |")
        truths = [r.truth for r in rows]
        columns = (
            [r.every_frame for r in rows],
            [r.subsampled for r in rows],
            [r.twin for r in rows],
            [r.twin_other_phase for r in rows],
        )
        totals = " | ".join(summed_error(c, truths) for c in columns)
        if jittered:
            per_seed = [
                100 * sum(abs(r.jittery[s] - r.truth) for r in rows) / sum(truths)
                for s in range(seeds)
            ]
            totals += f" | {np.mean(per_seed):.1f} % ({min(per_seed):.1f}–{max(per_seed):.1f})"
        lines += [f"| summed \\|error\\| | {sum(truths)} | {totals} |", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    data = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    parser.add_argument("--data", type=Path, default=data, help="the shared data folder")
    parser.add_argument("--tracks", type=Path, required=True, help="every-frame tracks <clip>.npz")
    parser.add_argument("--cache", type=Path, required=True, help="played videos and twin poses")
    parser.add_argument("--clips", help="comma-separated (default: the CI clips); 'all'")
    parser.add_argument("--max-fps", default="15,8", help="comma-separated caps")
    parser.add_argument("--jitter", type=float, default=0.0, help="also pose.max_fps_jitter")
    parser.add_argument("--seeds", type=int, default=3, help="draws of the jitter")
    parser.add_argument(
        "--perturb", type=int, default=0, help="instead: N draws of one frame changed, per clip"
    )
    args = parser.parse_args(argv)
    names = CI_CLIPS if not args.clips else None if args.clips == "all" else args.clips.split(",")
    clips = load_clips(args.data / "jumprope", names)
    rates = [float(x) for x in args.max_fps.split(",")]
    if args.perturb:
        for clip in clips:
            video = prepare(clip, args.cache / f"{clip.name}.avi")
            base = twin(video, rates[0], cache=args.cache / f"{clip.name}-{rates[0]:g}-0.npz")
            draws = perturbed(video, rates[0], args.perturb, args.cache / "perturbed")
            changed = ", ".join(f"{how} at {k}: {count}" for how, k, count in draws)
            print(f"{clip.name} max_fps {rates[0]:g}: twin {base.jumps}; one frame {changed}")
        return 0
    print(report(clips, args.tracks, args.cache, rates, args.jitter, args.seeds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
