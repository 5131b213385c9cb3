"""The live camera path replayed deterministically: a clip's landmark track as the camera.

    python -m station.runtime.livereplay --tracks /work/cache/tracks [--clips A,B] [--seeds N]

The real-time end-to-end test (tests/runtime/test_live_video.py) plays a clip through `station
run` in real time; its figures move with the machine's load. This plays the same thing in
simulated time, on a :class:`~station.clock.ManualClock`, with no threads and no inference:

- the **camera** exposes frame k of the played video (the clip's judged window after a still
  lead-in, as :func:`station.runtime.livevideo.prepare` writes it) at k / fps; the picture is
  ready `decode` later (a modelled, seeded jitter);
- its **timestamp** is its capture time, as :class:`~station.camera.sources.OpenCVGrabber`
  stamps a video file's frames (or, to show what the former code did, the time it was ready);
- **`max_fps`** is applied by the live pipeline's own :class:`~station.camera.pacing.InferenceCap`
  in the capture thread (or, for comparison, by the former rule: wait 1/max_fps of wall time
  after each inference started, then take the newest frame);
- the **one-slot mailbox** hands the inference thread the newest admitted frame whenever it is
  free; **inference** takes a modelled, seeded time (gamma distributed), and its PoseFrame
  carries the track's landmarks for that frame;
- the **station** (the real :class:`~station.runtime.station.Station`: session, camera counter,
  posture judge) drains the delivered PoseFrames and ticks at the display rate, as
  :func:`station.runtime.loop.run_live` does, until the session after the video has ended.

What it cannot model is MediaPipe's tracker seeing fewer frames (at 15/s it follows the member
across two frames' motion): the landmarks are the track's, inferred on every frame. The
real-time test covers that.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from station.camera.pacing import InferenceCap
from station.clock import ManualClock
from station.events import PoseFrame
from station.pose.track import LandmarkTrack, load_track
from station.runtime.livevideo import LEAD_IN_S, Clip, load_clips, station_config


@dataclass(frozen=True)
class LiveModel:
    """How the live machine behaves (seconds). The defaults: this 2-core x86 box, quiet."""

    max_fps: float = 0.0
    inference_s: float = 0.02  # the model's mean time per frame
    inference_cv: float = 0.35  # its spread (coefficient of variation, gamma distributed)
    decode_s: float = 0.004  # capture → picture read and converted, mean …
    decode_jitter_s: float = 0.002  # … plus an exponential jitter of this mean
    pacing: Literal["capture", "wall"] = "capture"  # "wall": the former cap
    wait_overshoot_s: float = 0.001  # "wall" only: a timed wait's mean overshoot
    stamp: Literal["capture", "ready"] = "capture"  # "ready": the former timestamps
    jitter: float = 0.0  # the cap's emulated model time: coefficient of variation
    seed: int = 0


@dataclass(frozen=True)
class Played:
    """The poses of a played video: one row per frame (None: nobody in the picture)."""

    lm: list[np.ndarray | None]
    world: list[np.ndarray | None]
    fps: float
    width: int
    height: int
    truth_s: tuple[float, ...]

    @property
    def truth(self) -> int:
        return len(self.truth_s)

    def away(self, start_s: float, end_s: float) -> Played:
        """The same with nobody in the picture from `start_s` to `end_s` of the video (the
        member stepped out of view); their events there do not count."""
        gone = range(round(start_s * self.fps), round(end_s * self.fps))
        lm = [None if k in gone else x for k, x in enumerate(self.lm)]
        world = [None if k in gone else x for k, x in enumerate(self.world)]
        truth = tuple(t for t in self.truth_s if round(t * self.fps) not in gone)
        return Played(lm, world, self.fps, self.width, self.height, truth)

    def until(self, end_s: float) -> Played:
        """The same video ending at `end_s` (mid-session): its events up to there count."""
        n = round(end_s * self.fps)
        truth = tuple(t for t in self.truth_s if round(t * self.fps) < n)
        return Played(self.lm[:n], self.world[:n], self.fps, self.width, self.height, truth)


def played_poses(
    clip: Clip,
    track: LandmarkTrack,
    *,
    lead_in_s: float = LEAD_IN_S,
    out_of_view: tuple[float, float] | None = None,
) -> Played:
    """The landmarks of the video :func:`station.runtime.livevideo.prepare` writes: the judged
    window after a lead-in holding its first picture still (its pose held), and, with
    `out_of_view` = (start, length) in seconds of the window, nobody for that long."""
    fps = track.fps
    lo, hi = clip.window_s
    first, last = round(lo * fps), min(round(hi * fps), len(track) - 1)
    lead = round(lead_in_s * fps)
    rows = [first] * lead + list(range(first, last + 1))
    gone = (-1, -1)
    if out_of_view is not None:
        gone = (lead + round(out_of_view[0] * fps), lead + round(sum(out_of_view) * fps))
    has_pose = track.has_pose
    lm: list[np.ndarray | None] = []
    world: list[np.ndarray | None] = []
    for k, row in enumerate(rows):
        seen = has_pose[row] and not gone[0] <= k < gone[1]
        lm.append(track.lm[row] if seen else None)
        world.append(track.world[row] if seen and np.isfinite(track.world[row]).all() else None)
    truth = []
    for event in clip.event_frames:
        k = lead + round(event / clip.fps * fps) - first
        if k < len(rows) and not gone[0] <= k < gone[1]:
            truth.append(k / fps)
    return Played(lm, world, fps, track.width, track.height, tuple(truth))


def poses_of(track: LandmarkTrack, truth_s: Sequence[float]) -> Played:
    """A played video's poses from its own landmark track (inference on that very file)."""
    has_pose = track.has_pose
    lm = [track.lm[k] if has_pose[k] else None for k in range(len(track))]
    world = [
        track.world[k] if has_pose[k] and np.isfinite(track.world[k]).all() else None
        for k in range(len(track))
    ]
    return Played(lm, world, track.fps, track.width, track.height, tuple(truth_s))


@dataclass
class Replayed:
    """One replay: the sessions as the station logged them, and the frames inferred."""

    sessions: list[dict[str, object]]
    inferred: list[int] = field(default_factory=list)  # frame numbers, in order
    duration_s: float = 0.0

    @property
    def jumps(self) -> int:
        return sum(int(str(s["jumps"])) for s in self.sessions)

    @property
    def rate(self) -> float:
        return len(self.inferred) / self.duration_s if self.duration_s else 0.0

    def gaps(self) -> dict[int, int]:
        """How often consecutive inferred frames are 1, 2, 3 … frames apart."""
        steps = np.diff(self.inferred)
        return {int(g): int((steps == g).sum()) for g in np.unique(steps)}


def inference_schedule(n: int, fps: float, model: LiveModel) -> list[tuple[int, float, float]]:
    """(frame, timestamp, delivered at) for each frame inference takes, in order: the camera,
    the cap, the one-slot mailbox and the model's time, in simulated time (seeded)."""
    rng = np.random.default_rng(model.seed)
    exposed = np.arange(n) / fps
    ready = exposed + model.decode_s + rng.exponential(model.decode_jitter_s or 1e-12, n)
    ready = np.maximum.accumulate(ready)  # one capture thread: in order
    stamps = exposed if model.stamp == "capture" else ready
    admitted = np.ones(n, dtype=bool)
    if model.pacing == "capture" and model.max_fps > 0:
        cap = InferenceCap(model.max_fps, 1.0 / fps, model.jitter, model.seed)
        admitted = np.array([cap.admits(float(t)) for t in stamps])
    candidates = np.nonzero(admitted)[0]
    shape = 1.0 / model.inference_cv**2 if model.inference_cv > 0 else 0.0
    out: list[tuple[int, float, float]] = []
    free_at, start, last = 0.0, 0.0, -1
    while True:
        if model.pacing == "wall" and model.max_fps > 0 and out:
            # the former cap: wait 1/max_fps after the last inference started, overshooting
            overshoot = rng.exponential(model.wait_overshoot_s or 1e-12)
            free_at = max(free_at, start + 1.0 / model.max_fps + overshoot)
        later = candidates[candidates > last]
        if not len(later):
            break
        waiting = later[ready[later] <= free_at]  # in the mailbox now: the newest wins
        k = int(waiting[-1]) if len(waiting) else int(later[0])
        start = max(free_at, float(ready[k]))
        took = model.inference_s
        if shape > 0:
            took = float(rng.gamma(shape, model.inference_s / shape))
        free_at = start + took
        out.append((k, float(stamps[k]), free_at))
        last = k
    return out


def replay(
    played: Played,
    model: LiveModel,
    *,
    display_fps: float = 30.0,
    schedule: list[tuple[int, float, float]] | None = None,
) -> Replayed:
    """The played video through the live station's camera path and the real Station.
    `schedule`: (frame, timestamp, delivered at) to use instead of the model's."""
    from station.config.loader import ConfigStore
    from station.hardware import select_hardware
    from station.runtime.station import Station

    n = len(played.lm)
    if schedule is None:
        schedule = inference_schedule(n, played.fps, model)
    with tempfile.TemporaryDirectory(prefix="station-replay-") as scratch:
        config = Path(scratch) / "station.toml"
        config.write_text(
            station_config(Path(scratch) / "video.avi", Path(scratch), model.max_fps, False)
        )
        store = ConfigStore(config, required=True)
    hardware = select_hardware(store.config)
    station = Station(store, hardware)
    clock = ManualClock()
    frame_s = 1.0 / display_fps
    video_end = n / played.fps
    pending = iter(schedule)
    next_item = next(pending, None)
    now = 0.0
    while now < video_end + 60.0:
        clock.set(now)
        while next_item is not None and next_item[2] <= now:
            k, t, _delivered = next_item
            station.handle(
                PoseFrame(t, played.lm[k], played.world[k], played.width, played.height, k)
            )
            next_item = next(pending, None)
        station.tick(now)
        if now > video_end and station.session.phase in ("summary", "idle"):
            break
        now += frame_s
    station.shutdown(now)
    return Replayed(list(station.summaries), [k for k, _t, _d in schedule], video_end)


def counter_only(played: Played, step: int = 1, offset: int = 0) -> int:
    """The camera counter alone on every `step`-th frame of the played video, at exact frame
    times (offline, as `python -m station.camcount.evaluate` subsamples), inside the window."""
    from station.camcount.counter import CameraJumpCounter

    counter = CameraJumpCounter()
    for k in range(offset, len(played.lm), step):
        frame = PoseFrame(
            k / played.fps, played.lm[k], played.world[k], played.width, played.height, k
        )
        counter.update(frame)
    counter.finish()
    return counter.count


MODELS: dict[str, LiveModel] = {
    "full rate": LiveModel(),
    "max_fps 15": LiveModel(max_fps=15.0),
    "max_fps 15, former cap": LiveModel(max_fps=15.0, pacing="wall", stamp="ready"),
    "max_fps 8": LiveModel(max_fps=8.0),
    "max_fps 8, former cap": LiveModel(max_fps=8.0, pacing="wall", stamp="ready"),
    # A slow model itself, uncapped, whose time per frame varies by 10 %: what a Pi would
    # take (newest frame after each inference), for comparison with the caps above.
    "model 67 ms ± 10 %": LiveModel(inference_s=1 / 15, inference_cv=0.1),
    "model 125 ms ± 10 %": LiveModel(inference_s=1 / 8, inference_cv=0.1),
}


def report(clips: Sequence[Clip], tracks: Path, seeds: int) -> str:
    """Per clip and model: the live count (mean and range over `seeds` seeded draws of the
    timing jitter) beside the counter alone on every frame and on every 2nd frame."""
    lines = [
        "| clip | truth | counter, every frame | counter, every 2nd (both phases) | "
        + " | ".join(MODELS)
        + " |",
        "|---|---:|---:|---:|" + "---:|" * len(MODELS),
    ]
    totals = {name: [0.0] * seeds for name in MODELS}
    truth_sum = 0
    for clip in clips:
        played = played_poses(clip, load_track(tracks / f"{clip.name}.npz"))
        truth_sum += played.truth
        cells = []
        for name, model in MODELS.items():
            counts = []
            for seed in range(seeds):
                run = replay(played, LiveModel(**{**model.__dict__, "seed": seed}))
                counts.append(run.jumps)
                totals[name][seed] += abs(run.jumps - played.truth)
            cells.append(
                f"{np.mean(counts):.1f} ({min(counts)}–{max(counts)})"
                if seeds > 1
                else str(counts[0])
            )
        halves = f"{counter_only(played, 2, 0)} / {counter_only(played, 2, 1)}"
        lines.append(
            f"| {clip.name} | {played.truth} | {counter_only(played)} | {halves} | "
            + " | ".join(cells)
            + " |"
        )
    lines.append("")
    for name in MODELS:
        errors = [100 * e / truth_sum for e in totals[name]]
        lines.append(
            f"- {name}: summed |error| vs truth {np.mean(errors):.1f} % "
            f"(range {min(errors):.1f}–{max(errors):.1f} % over {seeds} seeds)"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from station.runtime.livevideo import CI_CLIPS

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    data = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    parser.add_argument("--data", type=Path, default=data, help="the shared data folder")
    parser.add_argument("--tracks", type=Path, required=True, help="landmark tracks <clip>.npz")
    parser.add_argument("--clips", help="comma-separated (default: the CI clips); 'all'")
    parser.add_argument("--seeds", type=int, default=5, help="draws of the timing jitter")
    args = parser.parse_args(argv)
    names = CI_CLIPS if not args.clips else None if args.clips == "all" else args.clips.split(",")
    clips = load_clips(args.data / "jumprope", names)
    print(report(clips, args.tracks, args.seeds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
