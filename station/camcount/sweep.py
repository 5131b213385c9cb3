"""Robustness sweep: real inference on transformed copies of the hand-marked clips.

    python -m station.camcount.evaluate --sweep [--cache DIR] [--clips A,B] [--transforms X,Y]

Each transformation (station.camcount.transforms) is written with OpenCV to
``CACHE/<transform>/<clip>.mp4`` and analysed exactly as ``station analyze`` does it (jumper
search, crop, MediaPipe pose on every frame, the camera counter); the hand marks are mapped
onto the new timeline (title card, speed-up) and the count inside the annotated window is
compared with them. The landmark track and the jumper search are cached as ``<clip>.npz`` and
``<clip>.json`` next to the clip, so a second run (or a changed counter) only re-counts;
delete the folder to start again. Nothing is written inside the repository.

The posture developer's agreement figure plugs in through :func:`posture_agreement`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from station.camcount.evaluate import (
    MAX_CLIP_ERROR,
    WINDOW_MARGIN_S,
    ClipTruth,
)
from station.camcount.transforms import TRANSFORMS, Transform, write_variant
from station.config.loader import Config

MAX_SWEEP_ERROR = 0.05  # summed |error| per transformation
BYSTANDER_SOURCE = "nogt_side_view.mp4"  # a person standing still at its first frame
ORIGINAL = Transform("original", "the clip as it is (the analyze path, jumper search on)")


@dataclass(frozen=True)
class SweepResult:
    transform: str
    clip: str
    truth: int
    counted: int
    jumper: dict[str, Any]
    posture_agreement: float | None = None

    @property
    def error(self) -> int:
        return self.counted - self.truth


def truth_window(truth: ClipTruth, transform: Transform) -> tuple[float, float]:
    """The annotated window (widened by the margin) on the transformed clip's timeline."""
    scale, offset = transform.time_scale, transform.title_card_s
    return (
        (truth.first_event_s - WINDOW_MARGIN_S) * scale + offset,
        (truth.last_event_s + WINDOW_MARGIN_S) * scale + offset,
    )


def bystander_patch(data: Path, width: int, height: int, jumper_x: float) -> tuple[Any, int, int]:
    """A still picture of another person (first frame of BYSTANDER_SOURCE), scaled to 70 % of
    the picture's height (at most a quarter of its width), standing on the side of the picture
    away from the jumper: (patch BGR, x0, y0)."""
    import cv2

    cap = cv2.VideoCapture(str(data / "jumprope" / BYSTANDER_SOURCE))
    ok, still = cap.read()
    cap.release()
    if not ok:
        raise FileNotFoundError(f"{data / 'jumprope' / BYSTANDER_SOURCE}: cannot read")
    sh, sw = still.shape[:2]
    ph = round(0.7 * height)
    pw = round(sw * ph / sh)
    if pw > width // 4:
        pw = width // 4
        ph = round(sh * pw / sw)
    patch = cv2.resize(still, (pw, ph), interpolation=cv2.INTER_AREA)
    x0 = width // 50 if jumper_x > 0.5 else width - pw - width // 50
    y0 = height - ph - height // 40
    return patch, x0, y0


def variant(truth: ClipTruth, transform: Transform, data: Path, cache: Path) -> Path:
    """The transformed clip (written once, then reused)."""
    src = data / "jumprope" / truth.file
    if transform.name == ORIGINAL.name:
        return src
    ctx: dict[str, Any] = {}
    out = cache / transform.name / f"{truth.clip}.mp4"
    if transform.name == "bystander" and not out.is_file():
        import cv2

        from station.pose.find_jumper import find_jumper

        cap = cv2.VideoCapture(str(src))
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        cap.release()
        roi = find_jumper(src).roi
        ctx["bystander"] = bystander_patch(data, w, h, 0.5 * (roi[0] + roi[2]))
    return write_variant(src, out, transform, ctx)


def posture_agreement(transform: Transform, truth: ClipTruth, analysis: Any) -> float | None:
    """Hook for the posture lights' agreement with the per-second labels on this clip (the
    posture work of issue 11 provides the labels); None until they exist."""
    del transform, truth, analysis
    return None


def run_one(
    truth: ClipTruth, transform: Transform, data: Path, cache: Path, config: Config
) -> SweepResult:
    """Analyse one transformed clip. Its landmark track and jumper search are cached, so a
    second run (or a changed counter) re-counts without inference."""
    from station.analysis.analyze import analyze

    track = cache / transform.name / f"{truth.clip}.npz"
    summary = track.with_suffix(".json")
    if track.is_file() and summary.is_file():
        saved = json.loads(summary.read_text())
        result = analyze(track, config, baseline=True)
        jumper = saved["jumper"]
    else:
        clip = variant(truth, transform, data, cache)
        track.parent.mkdir(parents=True, exist_ok=True)
        result = analyze(clip, config, baseline=True, save_track_to=track)
        jumper = result.jumper
        summary.write_text(json.dumps({"jumper": jumper}))
    agreement = posture_agreement(transform, truth, result)
    lo, hi = truth_window(truth, transform)
    counted = sum(1 for j in result.jumps if lo <= j.t <= hi)
    return SweepResult(transform.name, truth.clip, truth.count, counted, jumper, agreement)


def sweep(
    truths: Sequence[ClipTruth],
    transforms: Sequence[Transform],
    data: Path,
    cache: Path,
    config: Config | None = None,
    cached_only: bool = False,
) -> list[SweepResult]:
    from station.config.loader import load_config

    config = load_config() if config is None else config
    results = []
    for transform in transforms:
        for truth in truths:
            if cached_only and not (cache / transform.name / f"{truth.clip}.json").is_file():
                continue
            results.append(run_one(truth, transform, data, cache, config))
            r = results[-1]
            print(
                f"  {transform.name:15s} {truth.clip:18s} {r.counted:4d} / {r.truth:4d} "
                f"({r.error:+d})  jumper {r.jumper['how']}",
                file=sys.stderr,
                flush=True,
            )
    return results


def summed_error(results: Sequence[SweepResult]) -> float:
    truth = sum(r.truth for r in results)
    return sum(abs(r.error) for r in results) / truth if truth else 0.0


def sweep_table(results: Sequence[SweepResult]) -> str:
    names = list(dict.fromkeys(r.transform for r in results))
    lines = [
        "| transformation | truth | counted | summed abs error | summed % | worst clip | "
        "posture agreement |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for name in names:
        rows = [r for r in results if r.transform == name]
        worst = max(rows, key=lambda r: abs(r.error) / r.truth)
        agreements = [r.posture_agreement for r in rows if r.posture_agreement is not None]
        posture = f"{100 * float(np.mean(agreements)):.0f} %" if agreements else "n/a"
        lines.append(
            f"| {name} | {sum(r.truth for r in rows)} | {sum(r.counted for r in rows)} | "
            f"{sum(abs(r.error) for r in rows)} | {100 * summed_error(rows):.2f} | "
            f"{worst.clip} {worst.error:+d} ({100 * abs(worst.error) / worst.truth:.1f} %) | "
            f"{posture} |"
        )
    return "\n".join(lines)


def main_sweep(
    truths: Sequence[ClipTruth],
    data: Path,
    cache: Path,
    clips: str | None,
    transforms: str | None,
    cached_only: bool = False,
) -> int:
    chosen_truths = [t for t in truths if clips is None or t.clip in clips.split(",")]
    available = {ORIGINAL.name: ORIGINAL, **TRANSFORMS}
    names = list(available) if transforms is None else transforms.split(",")
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"unknown transformation(s) {unknown}; known: {list(available)}", file=sys.stderr)
        return 2
    results = sweep(chosen_truths, [available[n] for n in names], data, cache, None, cached_only)
    names = [n for n in names if any(r.transform == n for r in results)]
    print(sweep_table(results))
    worst_sweep = max(summed_error([r for r in results if r.transform == n]) for n in names)
    ok = worst_sweep <= MAX_SWEEP_ERROR
    print(
        f"\nWorst transformation: summed |error| {100 * worst_sweep:.2f} % "
        f"(limit {100 * MAX_SWEEP_ERROR:.0f} %; per clip the counting limit is "
        f"{100 * MAX_CLIP_ERROR:.0f} %): {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1
