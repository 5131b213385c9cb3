"""Camera-only counting accuracy on the hand-marked jump-rope clips, out of sample.

    python -m station.camcount.evaluate [--data DIR] [--tracks DIR] [--save-tracks DIR]
    python -m station.camcount.evaluate --tracks DIR --sweep-cache CACHE   # LOO with the pairs
    python -m station.camcount.evaluate --sweep [--cache DIR] [--clips A,B] [--transforms X,Y]
    python -m station.camcount.evaluate --tracks DIR --events [--twin-cache TWIN]

For every clip in DIR/jumprope/ground_truth.csv: pose inference over the video (or, with
--tracks, the landmark track DIR/<clip>.npz saved by an earlier run), the camera counter, and
only the jumps inside the annotated window widened by 0.5 s are compared with the hand count.

**Leave one clip out.** The counter's tuned parameters (:data:`CANDIDATES`: each one moved
around its default, one at a time) are chosen on 8 clips (least summed |error| at the clips'
own frame rate plus at every 2nd frame) and the 9th is scored with that choice; the table shows
these out-of-sample counts first (a candidate must beat the defaults by :data:`MIN_GAIN`
jumps on the training clips) and the in-sample figures (the defaults, chosen on all 9
clips) beside them, under every sampling in :data:`SAMPLINGS` (own rate, every 2nd frame,
8 frames/s, frames dropped at uneven intervals as a live camera thread drops them). Exits 1 if
the out-of-sample acceptance limits (summed |error| ≤ 2 % of the summed truth, no clip off by
more than 5 %, at the own rate and every 2nd frame) are not met; 8 frames/s and the live drops
are stated, and the live drops are also summarised over several seeded draws.

With ``--sweep-cache CACHE`` the leave-one-out also trains and scores on every transformed
pair a ``--sweep`` left in CACHE: a fold leaves out a clip *and all its pairs*, chooses on the
other clips' tracks and pairs, and scores the held-out clip's tracks and pairs.

``--sweep`` runs real inference (``station analyze``'s own path: jumper search, crop, pose,
counter) on transformed copies of the clips (station.camcount.transforms) written to the cache
folder, and prints each transformation's count error and posture agreement (see
station.camcount.sweep).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from station.camcount.counter import DEFAULT_PARAMS, CameraJump, CounterParams
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
    event_frames: tuple[int, ...] = ()  # the hand-marked contacts' frames

    @property
    def event_times(self) -> list[float]:
        """The marked contacts in seconds of the clip."""
        return [f / self.fps for f in self.event_frames]


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
                event_frames=tuple(int(f) for f in (row.get("event_frames") or "").split()),
            )
            for row in csv.DictReader(fh)
        ]


def count_track(track: LandmarkTrack, params: CounterParams = DEFAULT_PARAMS) -> list[CameraJump]:
    """Every jump the counter counts over the whole track, as `station analyze` counts."""
    from station.camcount.counter import CameraJumpCounter

    counter = CameraJumpCounter(params)
    for frame in track.frames():
        counter.update(frame)
    counter.finish()
    return counter.jumps


def judged(truth: ClipTruth, jumps: Sequence[CameraJump]) -> list[CameraJump]:
    """The jumps inside the annotated window widened by WINDOW_MARGIN_S."""
    lo, hi = truth.first_event_s - WINDOW_MARGIN_S, truth.last_event_s + WINDOW_MARGIN_S
    return [j for j in jumps if lo <= j.t <= hi]


def score_clip(
    truth: ClipTruth, track: LandmarkTrack, params: CounterParams = DEFAULT_PARAMS
) -> ClipResult:
    inside = judged(truth, count_track(track, params))
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


# -- leave one clip out ------------------------------------------------------------------
# Each tuned parameter, its default and the values tried around it. The rest are physical
# bounds (the fastest contacts anyone makes, how long a pose gap may be), not fitted.
CANDIDATES: dict[str, tuple[float, ...]] = {
    "hysteresis": (0.2, 0.4),
    "min_threshold": (0.01, 0.04),
    "min_swap": (0.03, 0.08),
    "alternate_below": (-0.2, 0.0),
    "style_s": (0.15, 0.6),
    "style_hold_s": (0.0, 1.0),
    "start_gap_s": (0.5, 0.9),
    "min_periodicity": (0.3, 0.7),
    "fill_ratio": (1.4, 1e9),  # 1e9: never fill from the period
    "rhythm_events": (4, 8),  # default 0: no gap filling from the counted rhythm
    "refractory": (0.3, 0.7),
    "cross_rhythm": (0,),  # default 1: the bounce's period confirms the feet's weak one
    "max_torso_step": (0.35, 1e9),  # 1e9: never drop a frame as a failed fit
    "bout_edges": (1,),  # default 0: a bout's first contact and off-rhythm last event as seen
    "opening_fill": (0,),  # default 1: the opening filled once its rhythm is known
    "bounce_paces": (0,),  # default 1: a clear bounce paces feet read at a multiple
}
# A candidate replaces the defaults only if it counts this many jumps fewer wrong on the
# training clips (both frame rates): one jump either way at a bout's start or end is noise.
MIN_GAIN = 3


def subsample(track: LandmarkTrack, step: int) -> LandmarkTrack:
    """Every `step`-th frame (a Pi's frame rate; an approximation: the tracker saw all)."""
    return _frames(track, np.arange(0, len(track), step)) if step > 1 else track


def at_rate(track: LandmarkTrack, fps: float) -> LandmarkTrack:
    """The frames nearest a uniform grid at `fps` (8 frames/s: a Pi 4's inference rate)."""
    index = np.unique(np.round(np.arange(0.0, len(track), track.fps / fps)).astype(int))
    return _frames(track, index[index < len(track)])


LIVE_RATE = 20.0  # inferences a second, as the live station reached on this machine
LIVE_SPREAD = 0.35  # coefficient of variation of one inference's duration


def live_drops(track: LandmarkTrack, seed: int, rate: float = LIVE_RATE) -> LandmarkTrack:
    """The frames a live station infers: the camera delivers every frame, inference takes a
    random time (gamma distributed, mean 1/`rate`, spread LIVE_SPREAD) and then takes the
    newest frame, so the frames in between are dropped at uneven intervals. Seeded."""
    rng = np.random.default_rng(seed)
    shape = 1.0 / LIVE_SPREAD**2
    picked: list[int] = []
    clock = 0.0
    while (i := int(clock * track.fps)) < len(track):
        if not picked or i != picked[-1]:
            picked.append(i)
        clock += float(rng.gamma(shape, 1.0 / (rate * shape)))
    return _frames(track, np.array(picked))


def _frames(track: LandmarkTrack, index: NDArray[np.int_]) -> LandmarkTrack:
    return LandmarkTrack(
        track.t[index], track.lm[index], track.world[index], track.fps, track.width, track.height
    )


# How each clip is sampled (the clip's index seeds the live drops). The parameters are chosen
# on TRAINING_SAMPLINGS; every sampling is reported.
SAMPLINGS: dict[str, Callable[[LandmarkTrack, int], LandmarkTrack]] = {
    "own rate": lambda track, seed: track,
    "every 2nd frame": lambda track, seed: subsample(track, 2),
    "8 frames/s": lambda track, seed: at_rate(track, 8.0),
    f"live drops ≈{LIVE_RATE:g}/s": lambda track, seed: live_drops(track, seed),
}
TRAINING_SAMPLINGS = ("own rate", "every 2nd frame")
JUDGED_SAMPLINGS = ("own rate", "every 2nd frame")  # issue 11's limits; the rest are stated


def candidate_params(base: CounterParams = DEFAULT_PARAMS) -> list[CounterParams]:
    """The defaults first, then each tuned parameter moved to each of its other values."""
    out = [base]
    for name, values in CANDIDATES.items():
        for value in values:
            changes: dict[str, float] = {name: value}
            if name == "alternate_below":  # the style switch keeps its 0.1 hysteresis
                changes["bounce_above"] = value + 0.1
            out.append(replace(base, **changes))  # type: ignore[arg-type]
    return out


@dataclass(frozen=True)
class LeaveOneOut:
    """Per sampling: out-of-sample and in-sample (defaults) results per clip; with sweep
    pairs, the same for every pair."""

    out_of_sample: dict[str, list[ClipResult]]
    in_sample: dict[str, list[ClipResult]]
    chosen: list[dict[str, float]]  # per held-out clip: the parameters that differ from default
    pairs: list[SweepPair] = field(default_factory=list)
    pairs_out_of_sample: list[ClipResult] = field(default_factory=list)
    pairs_in_sample: list[ClipResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(
            summarize(self.out_of_sample[s])[2] for s in JUDGED_SAMPLINGS if s in self.out_of_sample
        )


def leave_one_out(
    truths: Sequence[ClipTruth],
    tracks: Sequence[LandmarkTrack],
    samplings: Sequence[str] = tuple(SAMPLINGS),
    training: Sequence[str] = TRAINING_SAMPLINGS,
    pairs: Sequence[SweepPair] = (),
    candidates: Sequence[CounterParams] | None = None,
) -> LeaveOneOut:
    """Choose the parameters on all clips but one, score that one; for every clip. With
    `pairs` (sweep pairs of the same clips), a fold also trains on the other clips' pairs
    and scores the held-out clip's pairs: it leaves out the clip and all its pairs."""
    candidates = list(candidate_params() if candidates is None else candidates)
    sampled = {
        s: [SAMPLINGS[s](tr, k) for k, tr in enumerate(tracks)] for s in {*samplings, *training}
    }
    # results[c][s][k]: candidate c, sampling s, clip k
    results = [
        {
            s: [score_clip(t, tr, params) for t, tr in zip(truths, sampled[s], strict=True)]
            for s in sampled
        }
        for params in candidates
    ]
    pair_results = [[score_pair(pair, params) for pair in pairs] for params in candidates]
    errors = [
        [(r.truth.clip, r.error) for s in training for r in results[c][s]]
        + [(r.truth.clip, r.error) for r in pair_results[c]]
        for c in range(len(candidates))
    ]
    chosen = choose_per_fold(errors, [t.clip for t in truths])
    fold = {t.clip: best for t, best in zip(truths, chosen, strict=True)}
    out = {s: [results[fold[t.clip]][s][k] for k, t in enumerate(truths)] for s in samplings}
    return LeaveOneOut(
        out,
        {s: results[0][s] for s in samplings},
        [_differences(candidates[best]) for best in chosen],
        list(pairs),
        [pair_results[fold.get(pair.truth.clip, 0)][i] for i, pair in enumerate(pairs)],
        pair_results[0] if pairs else [],
    )


@dataclass(frozen=True)
class SweepPair:
    """One transformed clip's real track from a --sweep cache (the analyze path's inference on
    the transformed video) and its annotated window on the transformed timeline."""

    transform: str
    truth: ClipTruth
    track: LandmarkTrack
    window: tuple[float, float]


def load_sweep_pairs(truths: Sequence[ClipTruth], cache: Path) -> list[SweepPair]:
    """Every pair `--sweep` left in `cache` (<transformation>/<clip>.npz with its .json),
    the untransformed `original` too, in the sweep's order."""
    from station.camcount.sweep import all_transforms, track_path, truth_window

    pairs = []
    for name, transform in all_transforms().items():
        for truth in truths:
            path = track_path(cache, name, truth.clip)
            if path.is_file() and path.with_suffix(".json").is_file():
                window = truth_window(truth, transform)
                pairs.append(SweepPair(name, truth, load_track(path), window))
    return pairs


def score_pair(pair: SweepPair, params: CounterParams = DEFAULT_PARAMS) -> ClipResult:
    """The counter on a pair's track, counted inside its window (times from its first frame,
    as `station analyze` reports them)."""
    from station.camcount.counter import CameraJumpCounter

    counter = CameraJumpCounter(params)
    for frame in pair.track.frames():
        counter.update(frame)
    counter.finish()
    lo, hi = pair.window
    origin = float(pair.track.t[0]) if len(pair.track) else 0.0
    inside = [j for j in counter.jumps if lo <= j.t - origin <= hi]
    return ClipResult(pair.truth, len(inside), sum(1 for j in inside if j.double))


def choose_per_fold(errors: Sequence[Sequence[tuple[str, int]]], clips: Sequence[str]) -> list[int]:
    """Per held-out clip, the candidate with the least summed |error| over every scored item
    (a sampling of a clip's track, a sweep pair) that does not belong to that clip: a fold
    leaves out the clip and all its transformed pairs. errors[c] lists (clip, error) for
    candidate c, in the same order for every candidate; candidate 0 is the defaults, kept
    unless another is better by MIN_GAIN."""

    def training_error(c: int, held_out: str) -> int:
        return sum(abs(e) for clip, e in errors[c] if clip != held_out)

    chosen = []
    for clip in clips:
        best = min(range(len(errors)), key=lambda c: training_error(c, clip))
        if training_error(best, clip) > training_error(0, clip) - MIN_GAIN:
            best = 0
        chosen.append(best)
    return chosen


LIVE_SEEDS = 8


def live_drops_report(truths: Sequence[ClipTruth], tracks: Sequence[LandmarkTrack]) -> str:
    """The defaults under live-like frame drops, over LIVE_SEEDS draws of the drops (one
    draw is a noisy figure: which frames survive decides a contact or two per clip)."""
    lines = []
    for rate in (LIVE_RATE, 15.0):
        totals, worsts = [], []
        for seed in range(LIVE_SEEDS):
            results = [
                score_clip(t, live_drops(tr, seed=1000 * seed + k, rate=rate))
                for k, (t, tr) in enumerate(zip(truths, tracks, strict=True))
            ]
            total, _worst, _ok = summarize(results)
            totals.append(total)
            worsts.append(max(results, key=lambda r: r.relative_error))
        lines.append(
            f"- live drops ≈{rate:g}/s, {LIVE_SEEDS} draws (in sample, defaults): summed "
            f"|error| mean {100 * float(np.mean(totals)):.2f} %, range "
            f"{100 * min(totals):.2f}–{100 * max(totals):.2f} %; worst clip per draw: "
            + ", ".join(f"{w.truth.clip} {w.error:+d}" for w in worsts)
        )
    return "\n".join(lines)


def _differences(params: CounterParams) -> dict[str, float]:
    return {
        f.name: getattr(params, f.name)
        for f in fields(params)
        if getattr(params, f.name) != getattr(DEFAULT_PARAMS, f.name)
    }


def loo_report(truths: Sequence[ClipTruth], loo: LeaveOneOut) -> str:
    samplings = list(loo.out_of_sample)
    head = (
        "| clip | style | truth |"
        + "".join(f" out of sample, {s} | in sample, {s} |" for s in samplings)
        + " chosen on the other clips |"
    )
    lines = [head, "|---|---|---:|" + "---:|---:|" * len(samplings) + "---|"]
    for k, t in enumerate(truths):
        cells = "".join(
            f" {loo.out_of_sample[s][k].counted} ({loo.out_of_sample[s][k].error:+d}) |"
            f" {loo.in_sample[s][k].counted} ({loo.in_sample[s][k].error:+d}) |"
            for s in samplings
        )
        chosen = ", ".join(f"{n}={v:g}" for n, v in loo.chosen[k].items()) or "defaults"
        lines.append(f"| {t.clip} | {t.style} | {t.count} |{cells} {chosen} |")
    lines.append("")
    for s in samplings:
        for label, res in (
            ("out of sample", loo.out_of_sample[s]),
            ("in sample", loo.in_sample[s]),
        ):
            total, worst, ok = summarize(res)
            verdict = ("PASS" if ok else "FAIL") if s in JUDGED_SAMPLINGS else "stated"
            lines.append(
                f"- {label}, {s}: summed |error| {100 * total:.2f} % (limit "
                f"{100 * MAX_TOTAL_ERROR:.0f} %), worst clip {100 * worst:.1f} % (limit "
                f"{100 * MAX_CLIP_ERROR:.0f} %): {verdict}"
            )
    if loo.pairs:
        lines += ["", pairs_report(loo)]
    return "\n".join(lines)


def pairs_report(loo: LeaveOneOut) -> str:
    """Per transformation: the held-out clips' pairs scored with their fold's choice, and
    with the defaults (in sample)."""
    lines = [
        "| transformation | clips | truth | out of sample: summed % (worst clip) | in sample |",
        "|---|---:|---:|---|---|",
    ]
    for name in dict.fromkeys(pair.transform for pair in loo.pairs):
        rows = [i for i, pair in enumerate(loo.pairs) if pair.transform == name]
        cells = []
        for res in (loo.pairs_out_of_sample, loo.pairs_in_sample):
            picked = [res[i] for i in rows]
            total, _worst, _ok = summarize(picked)
            w = max(picked, key=lambda r: r.relative_error)
            cells.append(f"{100 * total:.2f} ({w.truth.clip} {w.error:+d})")
        truth = sum(loo.pairs[i].truth.count for i in rows)
        lines.append(f"| {name} | {len(rows)} | {truth} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


# -- event by event ------------------------------------------------------------------------
# A counted event and a mark are the same contact when, after the clip's offset, they are
# less than this share of the marks' interval apart: nearer to this mark than halfway to the
# next one, so one counted event can never stand for two marks.
EVENT_TOLERANCE = 0.45
EDGE_S = 1.0  # a bout's start and end: its first and last second of marks
PARTS = ("start", "middle", "end")


@dataclass(frozen=True)
class EventMatch:
    """One clip's counted events matched one to one with its marks.

    `offset` (counted minus marked, seconds) is the clip's constant lag: the marks are the
    frames a contact was seen by eye, the counter's events the frames its trigger fired (a
    landing seen on the way down, a swap at the feet's crossing). Missed marks and extra
    events are on the marks' time line (extras less the offset)."""

    offset: float
    matched: list[tuple[float, float]]  # (mark, counted event)
    missed: list[float]
    extra: list[float]
    first: float  # the first and last mark
    last: float

    def part(self, t: float) -> str:
        """Where on the marks' time line `t` lies: the bout's first second, last, or between."""
        if t < self.first + EDGE_S:
            return "start"
        return "end" if t > self.last - EDGE_S else "middle"

    def by_part(self, times: Sequence[float]) -> dict[str, int]:
        out = dict.fromkeys(PARTS, 0)
        for t in times:
            out[self.part(t)] += 1
        return out


def match_events(
    marks: Sequence[float], counted: Sequence[float], tolerance: float = EVENT_TOLERANCE
) -> EventMatch:
    """Match counted event times with marked contact times, one to one.

    The offset is the median, over the marks, of the nearest counted event's lag: robust to
    the misses and extras at a bout's ends, which pair a mark with a neighbour's event. Then
    the closest (mark, event) pairs within `tolerance` × the marks' median interval are
    taken greedily, each mark and event once."""
    marks = sorted(marks)
    counted = sorted(counted)
    if not marks:
        return EventMatch(0.0, [], [], list(counted), 0.0, 0.0)
    first, last = marks[0], marks[-1]
    if not counted:
        return EventMatch(0.0, [], list(marks), [], first, last)
    events = np.array(counted)
    offset = float(np.median([events[np.argmin(np.abs(events - m))] - m for m in marks]))
    interval = float(np.median(np.diff(marks))) if len(marks) > 1 else 2 * EDGE_S
    limit = tolerance * interval
    candidates = sorted(
        (abs(c - offset - m), i, j)
        for i, m in enumerate(marks)
        for j, c in enumerate(counted)
        if abs(c - offset - m) <= limit
    )
    mark_used: set[int] = set()
    event_used: set[int] = set()
    pairs: list[tuple[int, int]] = []  # the pairs the greedy matching chose (they may cross)
    for _distance, i, j in candidates:
        if i not in mark_used and j not in event_used:
            mark_used.add(i)
            event_used.add(j)
            pairs.append((i, j))
    pairs.sort()
    return EventMatch(
        offset,
        [(marks[i], counted[j]) for i, j in pairs],
        [m for i, m in enumerate(marks) if i not in mark_used],
        [c - offset for j, c in enumerate(counted) if j not in event_used],
        first,
        last,
    )


@dataclass(frozen=True)
class EventRow:
    clip: str
    counted: int
    match: EventMatch


def event_rows_tracks(
    truths: Sequence[ClipTruth],
    tracks: Sequence[LandmarkTrack],
    sampling: str,
    params: CounterParams = DEFAULT_PARAMS,
) -> list[EventRow]:
    """Every clip's counted events inside its judged window, matched with its marks."""
    rows = []
    for k, (truth, track) in enumerate(zip(truths, tracks, strict=True)):
        times = [j.t for j in judged(truth, count_track(SAMPLINGS[sampling](track, k), params))]
        rows.append(EventRow(truth.clip, len(times), match_events(truth.event_times, times)))
    return rows


def twin_marks(truth: ClipTruth) -> list[float]:
    """The marks on the time line of the file the live test plays (and the twin infers):
    the judged window after a still lead-in (station.runtime.livevideo.prepare)."""
    from station.runtime.livevideo import LEAD_IN_S

    first = round(max(0.0, truth.first_event_s - WINDOW_MARGIN_S) * truth.fps)
    return [LEAD_IN_S + (f - first) / truth.fps for f in truth.event_frames]


def event_rows_twin(
    truths: Sequence[ClipTruth],
    cache: Path,
    variant: str,
    params: CounterParams = DEFAULT_PARAMS,
) -> list[EventRow]:
    """The clips with the live twin's cached poses `<clip>-<variant>.npz` in `cache` (e.g.
    variant "15-0": max_fps 15, phase 0): every event of the played file, as a session
    counts them (the counter alone, which the twin's Station matches within a contact)."""
    rows = []
    for truth in truths:
        path = cache / f"{truth.clip}-{variant}.npz"
        if path.is_file():
            times = [j.t for j in count_track(load_track(path), params)]
            rows.append(EventRow(truth.clip, len(times), match_events(twin_marks(truth), times)))
    return rows


def twin_variants(cache: Path) -> list[str]:
    """The twin's cached variants in `cache` ("15-0", "15-j0.2-s1", …), in a stable order."""
    found = {p.stem.split("-", 1)[1] for p in cache.glob("*-*.npz")}
    rated = [v for v in found if _is_rate(v.split("-")[0])]  # other files are not the twin's
    return sorted(rated, key=lambda v: (-float(v.split("-")[0]), v))


def _is_rate(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parts(counts: dict[str, int]) -> str:
    return f"{sum(counts.values())} ({' / '.join(str(counts[p]) for p in PARTS)})"


def events_table(rows: Sequence[EventRow], truths: Sequence[ClipTruth] | None = None) -> str:
    """Per clip and summed: matched, missed and extra, each split start / middle / end."""
    lines = [
        "| clip | marks | counted | error | matched | missed (start / middle / end) "
        "| extra (start / middle / end) | offset s |",
        "|---|---:|---:|---:|---:|---|---|---:|",
    ]
    total_missed = dict.fromkeys(PARTS, 0)
    total_extra = dict.fromkeys(PARTS, 0)
    marks = counted = matched = 0
    for r in rows:
        m = r.match
        n_marks = len(m.matched) + len(m.missed)
        missed, extra = m.by_part(m.missed), m.by_part(m.extra)
        for p in PARTS:
            total_missed[p] += missed[p]
            total_extra[p] += extra[p]
        marks, counted, matched = marks + n_marks, counted + r.counted, matched + len(m.matched)
        lines.append(
            f"| {r.clip} | {n_marks} | {r.counted} | {r.counted - n_marks:+d} | {len(m.matched)} "
            f"| {_parts(missed)} | {_parts(extra)} | {m.offset:+.3f} |"
        )
    summed_abs = sum(abs(r.counted - len(r.match.matched) - len(r.match.missed)) for r in rows)
    lines.append(
        f"| **all** | {marks} | {counted} | {summed_abs} (summed abs) | {matched} "
        f"| {_parts(total_missed)} | {_parts(total_extra)} | |"
    )
    return "\n".join(lines)


def events_report(
    truths: Sequence[ClipTruth],
    tracks: Sequence[LandmarkTrack],
    twin_cache: Path | None = None,
    params: CounterParams = DEFAULT_PARAMS,
) -> str:
    """The event-by-event tables: own rate and every 2nd frame over the tracks, and every
    variant of the live twin's cached poses in `twin_cache`."""
    parts = []
    for sampling in TRAINING_SAMPLINGS:
        rows = event_rows_tracks(truths, tracks, sampling, params)
        parts += [f"Events, {sampling}:", events_table(rows), ""]
    if twin_cache is not None:
        for variant in twin_variants(twin_cache):
            rows = event_rows_twin(truths, twin_cache, variant, params)
            if rows:
                parts += [f"Events, live twin {variant} (counter alone):", events_table(rows), ""]
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--tracks", type=Path, help="reuse landmark tracks <clip>.npz from here")
    parser.add_argument("--save-tracks", type=Path, help="keep the tracks inference produced")
    parser.add_argument(
        "--sweep", action="store_true", help="robustness sweep: real inference on transformed clips"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path("/tmp/station-sweep"),
        help="where --sweep writes the transformed clips and their tracks (not the repo)",
    )
    parser.add_argument(
        "--sweep-cache",
        type=Path,
        help="leave one clip out over the tracks AND every sweep pair cached here by --sweep: "
        "a fold leaves out a clip and all its transformed pairs (no inference)",
    )
    parser.add_argument("--clips", help="--sweep only these clips (comma-separated)")
    parser.add_argument(
        "--cached-only",
        action="store_true",
        help="--sweep only the clips already analysed in --cache (re-count, no inference)",
    )
    parser.add_argument("--transforms", help="--sweep only these transformations (comma-separated)")
    parser.add_argument(
        "--no-posture",
        action="store_true",
        help="--sweep without the posture column (saves judging every clip's original at "
        "each level when only filling the cache)",
    )
    parser.add_argument(
        "--events",
        action="store_true",
        help="event by event: match each clip's counted events with its marked contacts and "
        "print matched, missed and extra at the bout's start, middle and end (no leave-one-out)",
    )
    parser.add_argument(
        "--twin-cache",
        type=Path,
        help="with --events: also the live twin's cached poses here "
        "(station.runtime.livetwin --cache), every <clip>-<max_fps>-<variant>.npz",
    )
    args = parser.parse_args(argv)
    truths = read_ground_truth(args.data / "jumprope" / "ground_truth.csv")
    if args.events:
        tracks = [track_for(t, args.data, args.tracks, args.save_tracks) for t in truths]
        print(events_report(truths, tracks, args.twin_cache))
        return 0
    if args.sweep:
        from station.camcount.sweep import main_sweep

        return main_sweep(
            truths,
            args.data,
            args.cache,
            args.clips,
            args.transforms,
            args.cached_only,
            posture=not args.no_posture,
        )
    tracks = [track_for(t, args.data, args.tracks, args.save_tracks) for t in truths]
    print(markdown_table([score_clip(t, tr) for t, tr in zip(truths, tracks, strict=True)]))
    print()
    pairs = load_sweep_pairs(truths, args.sweep_cache) if args.sweep_cache else []
    loo = leave_one_out(truths, tracks, pairs=pairs)
    print(loo_report(truths, loo))
    print()
    print(live_drops_report(truths, tracks))
    return 0 if loo.ok else 1


if __name__ == "__main__":
    sys.exit(main())
