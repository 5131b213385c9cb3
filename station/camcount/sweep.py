"""Robustness sweep: real inference on transformed copies of the hand-marked clips.

    python -m station.camcount.evaluate --sweep [--cache DIR] [--clips A,B] [--transforms X,Y]

Each transformation (station.camcount.transforms) is written with OpenCV to
``CACHE/<transform>/<clip>.mp4`` and analysed exactly as ``station analyze`` does it (jumper
search, crop, MediaPipe pose on every frame, the camera counter); the hand marks are mapped
onto the new timeline (title card, speed-up) and the count inside the annotated window is
compared with them. The landmark track and the jumper search are cached as ``<clip>.npz`` and
``<clip>.json`` next to the clip, so a second run (or a changed counter) only re-counts;
delete the folder to start again. Nothing is written inside the repository.

The posture lights are judged on the same cached tracks (:func:`add_posture`), as ``station
analyze`` judges them (placement guessed, baseline from a standing stretch or the population
defaults), and compared with the per-second labels by eye (tests/posture/labels) mapped onto
the transformed timeline: out of sample (each light's level chosen, by
station.posture.agreement.best_scale as the headline does, on the originals of every other
labelled clip in the cache, whichever clips this run sweeps) with the shipped levels beside
it. The labelled clips without a count (the ``nogt_*`` ones) join the posture part only
(``posture_only`` rows, :func:`run_posture_only`). Both the count and the posture need only
the cached tracks, so ``--cached-only`` gives both.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from station.camcount.evaluate import (
    MAX_CLIP_ERROR,
    WINDOW_MARGIN_S,
    ClipTruth,
)
from station.camcount.transforms import TRANSFORMS, Transform, write_variant
from station.config.loader import Config
from station.events import PoseFrame
from station.posture.agreement import (
    LIGHTS,
    SCALES,
    ClipRun,
    Labels,
    RecordingBaseline,
    Score,
    best_scale,
    judge_frames,
    per_second,
    read_labels,
    score,
    trainer_cell,
)

MAX_SWEEP_ERROR = 0.05  # summed |error| per transformation
MIN_POSTURE_AGREEMENT = 0.90  # per light, out of sample (issue 11's limit on the clips)
BYSTANDER_SOURCE = "nogt_side_view.mp4"  # a person standing still at its first frame
ORIGINAL = Transform("original", "the clip as it is (the analyze path, jumper search on)")
LABELS = Path(__file__).resolve().parents[2] / "tests" / "posture" / "labels"


@dataclass(frozen=True)
class PostureAgreement:
    """The lights on one transformed clip against the labels by eye (per light, over the
    labelled seconds that are not "can't tell")."""

    placement: str
    baseline: RecordingBaseline  # on the transformed clip's timeline
    out_of_sample: dict[str, Score]  # levels chosen on the other clips' originals
    shipped: dict[str, Score]  # the shipped levels (the preset's)


@dataclass(frozen=True)
class SweepResult:
    transform: str
    clip: str
    truth: int
    counted: int
    jumper: dict[str, Any]
    posture: PostureAgreement | None = None
    posture_only: bool = False  # a labelled clip without a count (truth and counted are 0)

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
    if transform.name in ("bystander", "portrait") and not out.is_file():
        import cv2

        from station.pose.find_jumper import find_jumper

        cap = cv2.VideoCapture(str(src))
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        cap.release()
        roi = find_jumper(src).roi
        # The bystander stands away from the jumper; a portrait frame is held on them.
        ctx["bystander"] = bystander_patch(data, w, h, 0.5 * (roi[0] + roi[2]))
        ctx["centre_x"] = 0.5 * (roi[0] + roi[2])
    return write_variant(src, out, transform, ctx)


def all_transforms() -> dict[str, Transform]:
    return {ORIGINAL.name: ORIGINAL, **TRANSFORMS}


def track_path(cache: Path, transform: str, clip: str) -> Path:
    return cache / transform / f"{clip}.npz"


def judge_on_labels(
    frames: Sequence[PoseFrame],
    labels: Labels,
    transform: Transform,
    config: Config,
    scales: Sequence[float] = (1.0,),
) -> tuple[dict[float, dict[str, Score]], str, RecordingBaseline]:
    """Judge a (transformed) clip's frames as `station analyze` does, at each level scale,
    and score each light against the labels mapped onto the clip's timeline:
    (scale -> light -> score, placement, baseline)."""
    from station.analysis.analyze import pick_placement

    placement = pick_placement("auto", list(frames), config)
    scores: dict[float, dict[str, Score]] = {}
    baseline = RecordingBaseline("population")
    for scale in scales:
        judged, baseline, _ = judge_frames(frames, config, placement, scale)
        verdicts = per_second(judged, frames[0].t, transform.time_scale, transform.title_card_s)
        scores[scale] = {light: score(verdicts[light], labels[light]) for light in LIGHTS}
    return scores, placement, baseline


def posture_agreement(
    transform: Transform,
    frames: Sequence[PoseFrame],
    labels: Labels,
    config: Config,
    levels: dict[str, float] | None = None,
) -> PostureAgreement:
    """One clip's lights against its labels; `levels` (light -> scale of its fault level,
    chosen without this clip) gives the out-of-sample figure, None the shipped levels."""
    chosen = levels or {light: 1.0 for light in LIGHTS}
    scales = sorted({1.0, *chosen.values()})
    scores, placement, baseline = judge_on_labels(frames, labels, transform, config, scales)
    return PostureAgreement(
        placement,
        baseline,
        {light: scores[chosen[light]][light] for light in LIGHTS},
        scores[1.0],
    )


def _frames(track: Path) -> list[PoseFrame]:
    from station.pose.track import load_track

    return list(load_track(track).frames())


def labelled_originals(cache: Path, config: Config, labels_dir: Path = LABELS) -> list[ClipRun]:
    """Every labelled clip whose original is in the cache, judged at every level of the grid:
    what the levels are chosen on (the same set whichever clips a run sweeps)."""
    runs = []
    for csv_path in sorted(labels_dir.glob("*.csv")):
        track = track_path(cache, ORIGINAL.name, csv_path.stem)
        if track.is_file():
            labels = read_labels(csv_path)
            scores, placement, baseline = judge_on_labels(
                _frames(track), labels, ORIGINAL, config, SCALES
            )
            runs.append(ClipRun(csv_path.stem, placement, baseline, scores))
    return runs


def held_out_levels(originals: Sequence[ClipRun], clip: str) -> dict[str, float]:
    """Each light's level for `clip`, chosen on the other clips' originals only."""
    others = [run for run in originals if run.clip != clip]
    return {light: best_scale(others, light, SCALES) for light in LIGHTS}


def add_posture(
    results: Sequence[SweepResult],
    cache: Path,
    config: Config,
    labels_dir: Path = LABELS,
    originals: Sequence[ClipRun] | None = None,
) -> list[SweepResult]:
    """Each result with its posture agreement, from the cached tracks only (no inference).
    Out of sample: for each clip, every light's level is chosen (best_scale over
    station.posture.agreement's grid) on the originals of *every other* labelled clip in the
    cache (`originals`, default :func:`labelled_originals`), not only those of this run, and
    the transformed clip is scored with it. Clips without labels (or without `labels_dir`)
    keep `posture` None."""
    if originals is None:
        originals = labelled_originals(cache, config, labels_dir)
    levels: dict[str, dict[str, float]] = {}
    transforms = all_transforms()
    out = []
    for r in results:
        track = track_path(cache, r.transform, r.clip)
        csv_path = labels_dir / f"{r.clip}.csv"
        if not csv_path.is_file() or not track.is_file():
            out.append(r)
            continue
        if r.clip not in levels:
            levels[r.clip] = held_out_levels(originals, r.clip)
        agreement = posture_agreement(
            transforms[r.transform], _frames(track), read_labels(csv_path), config, levels[r.clip]
        )
        out.append(replace(r, posture=agreement))
    return out


def level_summary(originals: Sequence[ClipRun]) -> str:
    """The levels (× the preset's) chosen on all the labelled originals (in sample) and how
    often each was chosen over the folds (out of sample)."""
    parts = []
    for light in LIGHTS:
        folds: dict[float, int] = {}
        for run in originals:
            level = held_out_levels(originals, run.clip)[light]
            folds[level] = folds.get(level, 0) + 1
        in_folds = ", ".join(f"×{k:g} in {n}" for k, n in sorted(folds.items()))
        parts.append(f"{light} ×{best_scale(originals, light, SCALES):g} ({in_folds})")
    return (
        f"posture levels chosen on all {len(originals)} labelled originals in the cache (in "
        f"sample), and in the folds: " + "; ".join(parts)
    )


def run_posture_only(
    clip: str, transform: Transform, data: Path, cache: Path, config: Config, cached_only: bool
) -> SweepResult | None:
    """A labelled clip without a count (``nogt_*``) through the same path as :func:`run_one`
    (transformed video, jumper search, crop, pose), for the posture part only: None when
    `cached_only` and it is not cached."""
    from station.analysis.analyze import analyze

    track = track_path(cache, transform.name, clip)
    summary = track.with_suffix(".json")
    if not (track.is_file() and summary.is_file()):
        if cached_only:
            return None
        stub = ClipTruth(clip, f"{clip}.mp4", "", 0.0, 0, 0.0, 0.0)
        video = variant(stub, transform, data, cache)
        track.parent.mkdir(parents=True, exist_ok=True)
        result = analyze(video, config, baseline=True, save_track_to=track)
        summary.write_text(json.dumps({"jumper": result.jumper}))
    jumper = json.loads(summary.read_text())["jumper"]
    return SweepResult(transform.name, clip, 0, 0, jumper, posture_only=True)


def posture_only_clips(truths: Sequence[ClipTruth], labels_dir: Path = LABELS) -> list[str]:
    """Labelled clips without a count truth (the posture part of the sweep takes them too)."""
    counted = {t.clip for t in truths}
    return [p.stem for p in sorted(labels_dir.glob("*.csv")) if p.stem not in counted]


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
    lo, hi = truth_window(truth, transform)
    counted = sum(1 for j in result.jumps if lo <= j.t <= hi)
    return SweepResult(transform.name, truth.clip, truth.count, counted, jumper)


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


def _pooled(rows: Sequence[SweepResult], light: str, shipped: bool = False) -> Score:
    pooled = Score()
    for r in rows:
        if r.posture is not None:
            pooled.add((r.posture.shipped if shipped else r.posture.out_of_sample)[light])
    return pooled


def _pct(s: Score) -> str:
    return f"{100 * s.share:.1f} % ({s.agree}/{s.total})" if s.total else "n/a"


def lowest_light(rows: Sequence[SweepResult], shipped: bool = False) -> tuple[str, Score] | None:
    """The light with the least agreement over `rows` (None without posture)."""
    pooled = [(light, _pooled(rows, light, shipped)) for light in LIGHTS]
    pooled = [(light, s) for light, s in pooled if s.total]
    return min(pooled, key=lambda p: p[1].share) if pooled else None


def pair_table(results: Sequence[SweepResult]) -> str:
    """One row per transformation × clip: the count and each light's agreement (out of
    sample, agreeing / labelled seconds)."""
    lines = [
        "| transformation | clip | truth | counted | error | jumper | placement | baseline | "
        + " | ".join(LIGHTS)
        + " |",
        "|---|---|---:|---:|---:|---|---|---|" + "---:|" * len(LIGHTS),
    ]
    for r in results:
        if r.posture is None:
            posture = ["", "", *(["n/a"] * len(LIGHTS))]
        else:
            where = r.posture.baseline.describe()
            cells = [f"{s.agree}/{s.total}" if s.total else "–" for s in
                     (r.posture.out_of_sample[light] for light in LIGHTS)]  # fmt: skip
            posture = [r.posture.placement, where, *cells]
        count = "– | – | –" if r.posture_only else f"{r.truth} | {r.counted} | {r.error:+d}"
        lines.append(
            f"| {r.transform} | {r.clip} | {count} | "
            f"{r.jumper.get('how', '')} | " + " | ".join(posture) + " |"
        )
    return "\n".join(lines)


def sweep_table(results: Sequence[SweepResult]) -> str:
    """One row per transformation: the summed count error and each light's agreement over
    its clips (out of sample), the lowest light at the shipped levels beside it."""
    names = list(dict.fromkeys(r.transform for r in results))
    lines = [
        "| transformation | clips | truth | counted | summed abs error | summed % | worst clip | "
        + " | ".join(LIGHTS)
        + " | lowest light, shipped levels |",
        "|---|---:|---:|---:|---:|---:|---|" + "---:|" * len(LIGHTS) + "---|",
    ]
    for name in names:
        rows = [r for r in results if r.transform == name]
        lights = [_pct(_pooled(rows, light)) for light in LIGHTS]
        low = lowest_light(rows, shipped=True)
        counted = [r for r in rows if not r.posture_only]
        extra = len(rows) - len(counted)
        clips = f"{len(counted)} + {extra}" if extra else f"{len(counted)}"
        if counted:
            worst = max(counted, key=lambda r: abs(r.error) / r.truth)
            count = (
                f"{sum(r.truth for r in counted)} | {sum(r.counted for r in counted)} | "
                f"{sum(abs(r.error) for r in counted)} | {100 * summed_error(counted):.2f} | "
                f"{worst.clip} {worst.error:+d} ({100 * abs(worst.error) / worst.truth:.1f} %)"
            )
        else:
            count = "– | – | – | – | –"
        lines.append(
            f"| {name} | {clips} | {count} | "
            + " | ".join(lights)
            + f" | {'n/a' if low is None else low[0] + ' ' + _pct(low[1])} |"
        )
    return "\n".join(lines)


def trainer_sweep_table(results: Sequence[SweepResult]) -> str:
    """One row per transformation: each light as a trainer reads it (out of sample, pooled
    over the clips): right when it decided, the share it said "can't tell" (unknown), and
    its wrong faults (lit on seconds labelled ok). The main table counts unknown as a miss."""
    names = list(dict.fromkeys(r.transform for r in results))
    lines = [
        "| transformation | " + " | ".join(LIGHTS) + " |",
        "|---|" + "---:|" * len(LIGHTS),
    ]
    for name in names:
        rows = [r for r in results if r.transform == name]
        cells = [trainer_cell(_pooled(rows, light)) for light in LIGHTS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main_sweep(
    truths: Sequence[ClipTruth],
    data: Path,
    cache: Path,
    clips: str | None,
    transforms: str | None,
    cached_only: bool = False,
    posture: bool = True,
) -> int:
    """Run (or re-count) the sweep and print both tables; exit 1 when a transformation's
    summed count error exceeds MAX_SWEEP_ERROR or a light's out-of-sample agreement under
    one falls below MIN_POSTURE_AGREEMENT."""
    from station.config.loader import load_config

    chosen_truths = [t for t in truths if clips is None or t.clip in clips.split(",")]
    available = all_transforms()
    names = list(available) if transforms is None else transforms.split(",")
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"unknown transformation(s) {unknown}; known: {list(available)}", file=sys.stderr)
        return 2
    config = load_config()
    results = sweep(chosen_truths, [available[n] for n in names], data, cache, config, cached_only)
    if posture:
        results += [
            r
            for n in names
            for clip in posture_only_clips(truths)
            if clips is None or clip in clips.split(",")
            if (r := run_posture_only(clip, available[n], data, cache, config, cached_only))
        ]
    if not results:
        print(f"nothing analysed in {cache} for these clips and transformations", file=sys.stderr)
        return 2
    if posture:
        originals = labelled_originals(cache, config)
        results = add_posture(results, cache, config, originals=originals)
        print(level_summary(originals))
    names = [n for n in names if any(r.transform == n for r in results)]
    print(pair_table(results))
    print()
    print(sweep_table(results))
    print(
        '\nposture: agreeing / labelled seconds (not "can\'t tell"), out of sample (each '
        "light's level chosen on the other labelled clips' originals in the cache); clips "
        '"9 + 2": with a count + posture only; unknown counts as a miss'
    )
    if posture:
        print()
        print(trainer_sweep_table(results))
        print(
            "\nposture as a trainer reads it (same seconds, out of sample): right when the light "
            'decided (ok or fault) · share of seconds it said "can\'t tell" (unknown) · wrong '
            "faults (lit on seconds labelled ok)"
        )
    counted = [r for r in results if not r.posture_only]
    worst_sweep = max(
        (summed_error([r for r in counted if r.transform == n]) for n in names), default=0.0
    )
    count_ok = worst_sweep <= MAX_SWEEP_ERROR
    print(
        f"\nWorst transformation: summed |error| {100 * worst_sweep:.2f} % "
        f"(limit {100 * MAX_SWEEP_ERROR:.0f} %; per clip the counting limit is "
        f"{100 * MAX_CLIP_ERROR:.0f} %): {'PASS' if count_ok else 'FAIL'}"
    )
    lows = [
        (n, low)
        for n in names
        if (low := lowest_light([r for r in results if r.transform == n])) is not None
    ]
    posture_ok = True
    if lows:
        name, (light, s) = min(lows, key=lambda p: p[1][1].share)
        posture_ok = s.share >= MIN_POSTURE_AGREEMENT
        print(
            f"Lowest light over the transformations: {light} under {name}, {_pct(s)} out of "
            f"sample (limit {100 * MIN_POSTURE_AGREEMENT:.0f} %): "
            f"{'PASS' if posture_ok else 'FAIL'}"
        )
    return 0 if count_ok and posture_ok else 1
