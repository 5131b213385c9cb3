"""Camera-only counting accuracy on the hand-marked jump-rope clips.

    python -m station.camcount.evaluate [--data DIR] [--tracks DIR] [--save-tracks DIR]

For every clip in DIR/jumprope/ground_truth.csv: pose inference over the video (or, with
--tracks, the landmark track DIR/<clip>.npz saved by an earlier run), the camera counter with
its one default parameter set, and only the jumps inside the annotated window widened by
0.5 s are compared with the hand count. Prints the Markdown table published in
docs/counting.md; exits 1 if the acceptance limits (summed |error| ≤ 2 % of the summed truth,
no clip off by more than 5 %) are not met.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from station.camcount.counter import DEFAULT_PARAMS, CounterParams
from station.pose.track import LandmarkTrack, load_track

WINDOW_MARGIN_S = 0.5
MAX_TOTAL_ERROR = 0.02
MAX_CLIP_ERROR = 0.05
DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@dataclass(frozen=True)
class ClipTruth:
    clip: str
    file: str
    style: str
    fps: float
    count: int
    first_event_s: float
    last_event_s: float


@dataclass(frozen=True)
class ClipResult:
    truth: ClipTruth
    counted: int
    doubles: int

    @property
    def error(self) -> int:
        return self.counted - self.truth.count

    @property
    def relative_error(self) -> float:
        return abs(self.error) / self.truth.count


def read_ground_truth(path: Path) -> list[ClipTruth]:
    with path.open(newline="") as fh:
        return [
            ClipTruth(
                clip=row["clip"],
                file=row["file"],
                style=row["style"],
                fps=float(row["fps"]),
                count=int(row["gt_count"]),
                first_event_s=float(row["first_event_s"]),
                last_event_s=float(row["last_event_s"]),
            )
            for row in csv.DictReader(fh)
        ]


def score_clip(
    truth: ClipTruth, track: LandmarkTrack, params: CounterParams = DEFAULT_PARAMS
) -> ClipResult:
    from station.camcount.counter import CameraJumpCounter

    counter = CameraJumpCounter(params)
    for frame in track.frames():
        counter.update(frame)
    counter.finish()
    lo, hi = truth.first_event_s - WINDOW_MARGIN_S, truth.last_event_s + WINDOW_MARGIN_S
    inside = [j for j in counter.jumps if lo <= j.t <= hi]
    return ClipResult(truth, len(inside), sum(1 for j in inside if j.double))


def summarize(results: Sequence[ClipResult]) -> tuple[float, float, bool]:
    """(summed |error| / summed truth, worst clip's relative error, limits met)."""
    total_truth = sum(r.truth.count for r in results)
    total_error = sum(abs(r.error) for r in results)
    total = total_error / total_truth if total_truth else 0.0
    worst = max((r.relative_error for r in results), default=0.0)
    return total, worst, total <= MAX_TOTAL_ERROR and worst <= MAX_CLIP_ERROR


def markdown_table(results: Sequence[ClipResult]) -> str:
    lines = [
        "| clip | style | truth | counted | error | error % | marked double |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.truth.clip} | {r.truth.style} | {r.truth.count} | {r.counted} | "
            f"{r.error:+d} | {100 * r.relative_error:.1f} | {r.doubles} |"
        )
    total, worst, ok = summarize(results)
    truth = sum(r.truth.count for r in results)
    counted = sum(r.counted for r in results)
    errors = sum(abs(r.error) for r in results)
    lines.append(
        f"| **all** | | {truth} | {counted} | {errors} (summed abs) | {100 * total:.2f} | |"
    )
    lines.append("")
    lines.append(
        f"Summed |error| {100 * total:.2f} % (limit {100 * MAX_TOTAL_ERROR:.0f} %), worst clip "
        f"{100 * worst:.1f} % (limit {100 * MAX_CLIP_ERROR:.0f} %), accuracy "
        f"{100 * (1 - total):.1f} %: {'PASS' if ok else 'FAIL'}"
    )
    return "\n".join(lines)


def track_for(
    truth: ClipTruth, data: Path, tracks: Path | None, save: Path | None
) -> LandmarkTrack:
    if tracks is not None:
        return load_track(tracks / f"{truth.clip}.npz")
    from station.pose.extract import extract_track
    from station.pose.track import save_track

    track = extract_track(data / "jumprope" / truth.file).track
    if save is not None:
        save_track(track, save / f"{truth.clip}.npz")
    return track


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--tracks", type=Path, help="reuse landmark tracks <clip>.npz from here")
    parser.add_argument("--save-tracks", type=Path, help="keep the tracks inference produced")
    args = parser.parse_args(argv)
    truths = read_ground_truth(args.data / "jumprope" / "ground_truth.csv")
    results = [
        score_clip(t, track_for(t, args.data, args.tracks, args.save_tracks)) for t in truths
    ]
    print(markdown_table(results))
    return 0 if summarize(results)[2] else 1


if __name__ == "__main__":
    sys.exit(main())
