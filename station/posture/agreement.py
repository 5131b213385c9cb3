"""Per-second agreement of the camera lights with posture labelled by eye, in and out of sample.

Labels (tests/posture/labels/<clip>.csv, rules in docs/posture.md): one row per second of a
clip, `ok`, `fault` or `?` (can't tell) for shoulders, back, arms and head. The judge's verdict
for a second is the state it showed for most of that second, with warn counted as not lit
(`ok`); `unknown` for most of a labelled second is a disagreement.

The tuned parameter is each light's fault level (its warn level scaled with it). Out of sample:
for each clip, the level is chosen on the other clips (:func:`best_scale`) and that clip is
scored with it (leave one clip out). In sample: chosen on all clips.

The choice keeps the shipped level (argued physically, docs/posture.md) unless another level
agrees better on the clips by more than chance. The independent cases are the clips, not the
seconds: a held posture fills 10-30 seconds with one verdict, and a level that flips it moves
them all together. So the evidence is a paired sign-flip (randomisation) test over the clips:
each clip's gain in agreeing seconds against the shipped level, and the share of the 2^n
sign flips of those gains whose sum reaches the observed one. A level whose gain comes from
one or two clips (p >= 1/4) never wins; it needs gains on at least five clips and no losses
to reach p < 0.05.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from station.config.loader import Config
from station.events import PoseFrame
from station.posture.baseline import MIN_STANDING_S, standing_stretch, without_feet
from station.posture.judge import Lights, PostureJudge
from station.posture.placement import guess_placement

LIGHTS: tuple[str, ...] = ("shoulders", "back", "arms", "head")
SCALES: tuple[float, ...] = (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.4, 1.6)
"""Fault (and warn) levels tried, as multiples of the preset's."""
SHIPPED = 1.0
"""The preset's own level: kept unless another one is better by more than chance."""
MAX_P = 0.05
"""One-sided p-value a level's gain over the shipped one must stay under (sign-flip test)."""
Labels = dict[str, dict[int, str]]  # light -> second -> ok | fault | ?


def read_labels(path: Path) -> Labels:
    out: Labels = {light: {} for light in LIGHTS}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            second = int(row["second"])
            for light in LIGHTS:
                value = row[light].strip()
                if value not in ("ok", "fault", "?"):
                    raise ValueError(f"{path}: second {second}, {light}: {value!r}")
                out[light][second] = value
    return out


@dataclass(frozen=True)
class RecordingBaseline:
    """Where a recording's baseline came from: `standing` (from_s..to_s) or `population`."""

    source: str
    from_s: float | None = None
    to_s: float | None = None
    legs: str = "ankle"
    """What the standing stretch judged the legs on (station.posture.baseline.LEG_GAUGES):
    "ankle", or "knee" / "trunk" with the feet out of the picture (then the back and landing
    baselines are the population defaults)."""

    def describe(self) -> str:
        if self.from_s is None or self.to_s is None:
            return self.source
        legs = "" if self.legs == "ankle" else f", legs from the {self.legs}"
        return f"{self.source} {self.from_s:.1f}–{self.to_s:.1f} s{legs}"

    def as_json(self) -> dict[str, Any]:
        # `legs` says whether the back and landing baselines are the member's own ("ankle")
        # or the population's (feet out of the picture); None when nothing stood.
        legs = self.legs if self.source == "standing" else None
        return {
            "source": self.source,
            "from_s": _round(self.from_s),
            "to_s": _round(self.to_s),
            "legs": legs,
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def recording_baseline(
    judge: PostureJudge, frames: Sequence[PoseFrame], t0: float
) -> RecordingBaseline:
    """Give `judge` the baseline of a recording: from its first standing stretch when it has
    one, else the population defaults. Times are relative to `t0`."""
    s = judge.settings
    stretch = standing_stretch(frames, s.min_visibility, min(MIN_STANDING_S, s.baseline_s))
    if stretch is None:
        return RecordingBaseline("population")
    start, end, legs = stretch
    during = (f for f in frames if start <= f.t <= end)
    # Without the ankles judged, the metrics that need the feet keep the population defaults.
    judge.measure_baseline(during if legs == "ankle" else map(without_feet, during))
    return RecordingBaseline("standing", start - t0, end - t0, legs)


def judge_frames(
    frames: Sequence[PoseFrame], config: Config, placement: str | None = None, scale: float = 1.0
) -> tuple[list[Lights], RecordingBaseline, str]:
    """Judge a recording as `station analyze` does; `scale` multiplies every light's levels."""
    chosen = placement or guess_placement(frames) or "front"
    judge = PostureJudge(config, placement=chosen)
    if scale != 1.0:
        levels = {
            f: replace(th, warn=th.warn * scale, fault=th.fault * scale) if f in LIGHTS else th
            for f, th in judge.settings.thresholds.items()
        }
        judge.settings = replace(judge.settings, thresholds=levels)
    baseline = recording_baseline(judge, frames, frames[0].t if frames else 0.0)
    return [judge.update(f) for f in frames], baseline, chosen


def per_second(
    judged: Sequence[Lights], t0: float, time_scale: float = 1.0, offset_s: float = 0.0
) -> dict[str, dict[int, str]]:
    """light -> second -> the state shown for most of that second (warn counts as ok).

    Seconds are those of the labelled clip. A transformed copy of it (the robustness sweep,
    station.camcount.transforms) runs on its own timeline, t = t_clip × `time_scale` +
    `offset_s` (a title card in front shifts it, dropped frames compress it); its frames are
    mapped back, so a labelled second is judged on whatever the copy shows of it (a title
    card's frames fall before second 0 and judge no labelled second)."""
    out: dict[str, dict[int, str]] = {light: {} for light in LIGHTS}
    if not judged:
        return out
    ts = (np.array([j.t for j in judged]) - t0 - offset_s) / time_scale
    step = float(np.median(np.diff(ts))) if len(ts) > 1 else 0.0
    ends = np.append(ts[1:], ts[-1] + step)
    for light in LIGHTS:
        time_in: dict[int, dict[str, float]] = {}
        for j, a, b in zip(judged, ts, ends, strict=True):
            state = j[light].state
            state = "ok" if state == "warn" else state
            second = math.floor(a)  # not int(): -0.5 (a title card) is not second 0
            time_in.setdefault(second, {}).setdefault(state, 0.0)
            time_in[second][state] += float(b - a)
        out[light] = {s: max(d, key=lambda k: d[k]) for s, d in time_in.items()}
    return out


@dataclass
class Score:
    """One light's agreement over labelled seconds that are not `?`.

    `share` (agree / total) is the headline figure, comparable with every earlier one: a
    second the light read unknown counts as a miss. What a trainer needs is split out beside
    it: how often the light is right when it decides (`decided_share`, unknown seconds left
    out), how often it says it cannot tell (`unknown_share`) and how often it lights on a
    member doing it right (`wrong_fault`), a different failure from missing a fault."""

    agree: int = 0
    total: int = 0
    unknown: int = 0
    """Labelled seconds the light read unknown ("can't tell") for most of the second."""
    wrong_fault: int = 0
    """Seconds labelled ok that the light showed as fault (a false alarm)."""
    missed_fault: int = 0
    """Seconds labelled fault that the light showed as ok (warn counts as ok)."""

    def add(self, other: Score) -> None:
        self.agree += other.agree
        self.total += other.total
        self.unknown += other.unknown
        self.wrong_fault += other.wrong_fault
        self.missed_fault += other.missed_fault

    @property
    def share(self) -> float:
        return self.agree / self.total if self.total else float("nan")

    @property
    def decided(self) -> int:
        """Labelled seconds the light showed ok or fault (not unknown)."""
        return self.total - self.unknown

    @property
    def decided_share(self) -> float:
        return self.agree / self.decided if self.decided else float("nan")

    @property
    def unknown_share(self) -> float:
        return self.unknown / self.total if self.total else float("nan")


def score(verdicts: Mapping[int, str], labels: Mapping[int, str]) -> Score:
    """Agreement over the labelled seconds that are not `?` (unknown and missing verdicts
    count as unknown)."""
    s = Score()
    for second, label in labels.items():
        if label == "?":
            continue
        verdict = verdicts.get(second, "unknown")
        s.total += 1
        s.agree += verdict == label
        s.unknown += verdict == "unknown"
        s.wrong_fault += label == "ok" and verdict == "fault"
        s.missed_fault += label == "fault" and verdict == "ok"
    return s


def trainer_cells(s: Score) -> list[str]:
    """A score as a trainer reads it: right when decided, can't tell, wrong faults, missed."""
    if not s.total:
        return ["n/a"] * 4
    decided = f"{100 * s.decided_share:.1f} % ({s.agree}/{s.decided})" if s.decided else "– (0/0)"
    return [
        decided,
        f"{100 * s.unknown_share:.1f} % ({s.unknown}/{s.total})",
        f"{s.wrong_fault}",
        f"{s.missed_fault}",
    ]


def trainer_cell(s: Score) -> str:
    """The trainer's split in one table cell: right when decided, can't tell, wrong faults."""
    if not s.total:
        return "n/a"
    decided = f"{100 * s.decided_share:.1f} %" if s.decided else "–"
    return f"{decided} · {100 * s.unknown_share:.0f} % ? · {s.wrong_fault} wrong"


TRAINER_HEADER = "right when decided | can't tell | wrong faults | missed faults"


@dataclass
class ClipRun:
    clip: str
    placement: str
    baseline: RecordingBaseline
    scores: dict[float, dict[str, Score]]  # scale -> light -> score


def run_clip(
    clip: str, frames: Sequence[PoseFrame], labels: Labels, config: Config, scales: Iterable[float]
) -> ClipRun:
    scores: dict[float, dict[str, Score]] = {}
    placement, baseline = "", RecordingBaseline("population")
    for scale in scales:
        judged, baseline, placement = judge_frames(frames, config, scale=scale)
        verdicts = per_second(judged, frames[0].t)
        scores[scale] = {light: score(verdicts[light], labels[light]) for light in LIGHTS}
    return ClipRun(clip, placement, baseline, scores)


def clip_gains(runs: Sequence[ClipRun], light: str, scale: float) -> list[int]:
    """Per clip, the agreeing seconds at `scale` minus those at the shipped level."""
    return [r.scores[scale][light].agree - r.scores[SHIPPED][light].agree for r in runs]


def sign_flip_p(gains: Sequence[int]) -> float:
    """One-sided p-value of a summed gain under "no level is better" (each clip's gain as
    likely negative as positive): the share of the 2^n sign flips whose sum is at least the
    observed one. Clips without a change drop out; exact up to 16 changed clips, else the
    normal approximation."""
    moved = [abs(g) for g in gains if g]
    observed = sum(g for g in gains if g)
    if not moved:
        return 1.0
    if len(moved) > 16:
        z = observed / math.sqrt(sum(g * g for g in moved))
        return 0.5 * math.erfc(z / math.sqrt(2.0))
    sums = np.zeros(1)
    for g in moved:
        sums = np.concatenate([sums + g, sums - g])
    return float(np.mean(sums >= observed))


def best_scale(runs: Sequence[ClipRun], light: str, scales: Sequence[float]) -> float:
    """The level to use for `light`, chosen on `runs`: the shipped one unless another gains
    more agreeing seconds with a sign-flip p-value under MAX_P (the clips as the independent
    cases); among those, the largest gain, ties to the level nearest the shipped one."""
    if SHIPPED not in scales or not runs:
        return SHIPPED
    best, best_gain = SHIPPED, 0
    for scale in sorted(scales, key=lambda s: abs(s - SHIPPED)):
        gains = clip_gains(runs, light, scale)
        if sum(gains) > best_gain and sign_flip_p(gains) < MAX_P:
            best, best_gain = scale, sum(gains)
    return best


def argmax_scale(runs: Sequence[ClipRun], light: str, scales: Sequence[float]) -> float:
    """The earlier rule, kept for comparison: the most agreeing seconds over `runs`, ties to
    the level nearest the shipped one (one clip's held posture can decide it)."""

    def total(scale: float) -> tuple[float, float]:
        s = Score()
        for r in runs:
            s.add(r.scores[scale][light])
        return (s.agree, -abs(scale - SHIPPED))

    return max(scales, key=total) if runs else SHIPPED


LEVEL_CHOICES: dict[str, Callable[[Sequence[ClipRun], str, Sequence[float]], float]] = {
    "evidence": best_scale,
    "argmax": argmax_scale,
}


@dataclass
class Report:
    out_of_sample: dict[str, Score]
    in_sample: dict[str, Score]
    shipped: dict[str, Score]
    chosen: dict[str, float]  # light -> scale chosen on all clips
    per_clip: dict[str, dict[str, Score]]  # clip -> light -> out-of-sample score
    runs: list[ClipRun]
    fold_levels: dict[str, dict[str, float]]  # held-out clip -> light -> scale it was scored at
    choose: str = "evidence"


def leave_one_clip_out(
    runs: Sequence[ClipRun], scales: Sequence[float], choose: str = "evidence"
) -> Report:
    """Each clip scored at the levels chosen on the others (`choose`: LEVEL_CHOICES)."""
    pick = LEVEL_CHOICES[choose]
    oos = {light: Score() for light in LIGHTS}
    ins = {light: Score() for light in LIGHTS}
    shipped = {light: Score() for light in LIGHTS}
    per_clip: dict[str, dict[str, Score]] = {}
    fold_levels: dict[str, dict[str, float]] = {}
    chosen = {light: pick(runs, light, scales) for light in LIGHTS}
    for held in runs:
        others = [r for r in runs if r is not held]
        per_clip[held.clip] = {}
        fold_levels[held.clip] = {}
        for light in LIGHTS:
            scale = fold_levels[held.clip][light] = pick(others, light, scales)
            per_clip[held.clip][light] = held.scores[scale][light]
            oos[light].add(held.scores[scale][light])
            ins[light].add(held.scores[chosen[light]][light])
            if 1.0 in held.scores:
                shipped[light].add(held.scores[1.0][light])
    return Report(oos, ins, shipped, chosen, per_clip, list(runs), fold_levels, choose)


def fold_level_counts(report: Report, light: str) -> str:
    """How often each level was chosen over the folds, e.g. "×1 in 10, ×0.6 in 1"."""
    counts: dict[float, int] = {}
    for levels in report.fold_levels.values():
        counts[levels[light]] = counts.get(levels[light], 0) + 1
    return ", ".join(f"×{k:g} in {n}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def trainer_table(scores: Mapping[str, Score], first: str) -> list[str]:
    """Per light: the headline agreement (unknown counted as a miss), then the trainer's
    split (:func:`trainer_cells`); `first` names the first column."""
    head = f"| {first} | agreement (unknown = miss) | {TRAINER_HEADER} |"
    lines = [head, "| --- " * (2 + TRAINER_HEADER.count("|") + 1) + "|"]
    for light in LIGHTS:
        s = scores[light]
        headline = f"{100 * s.share:.1f} % ({s.agree}/{s.total})" if s.total else "n/a"
        lines.append(f"| {light} | {headline} | " + " | ".join(trainer_cells(s)) + " |")
    return lines


def format_report(report: Report, compare: Report | None = None) -> str:
    """The headline table (out of sample, in sample, shipped levels, the level chosen on all
    clips and in the folds), then one row per clip; `compare` adds another level choice's
    out-of-sample and in-sample figures (the same runs)."""

    def pct(s: Score) -> str:
        return f"{100 * s.share:5.1f} % ({s.agree}/{s.total})"

    extra = f" {compare.choose}: out / in sample |" if compare else ""
    lines = [
        f"| light | out of sample ({report.choose}) | in sample | shipped levels | level × | "
        f"levels in the folds |{extra}",
        "| --- | --- | --- | --- | --- | --- |" + (" --- |" if compare else ""),
    ]
    for light in LIGHTS:
        more = (
            f" {pct(compare.out_of_sample[light])} / {pct(compare.in_sample[light])} |"
            if compare
            else ""
        )
        lines.append(
            f"| {light} | {pct(report.out_of_sample[light])} | {pct(report.in_sample[light])} "
            f"| {pct(report.shipped[light])} | {report.chosen[light]:g} "
            f"| {fold_level_counts(report, light)} |{more}"
        )
    lines += ["", *trainer_table(report.out_of_sample, "light")]
    lines += ["", "| clip | placement | baseline | " + " | ".join(LIGHTS) + " |"]
    lines.append("|" + " --- |" * (3 + len(LIGHTS)))
    for run in report.runs:
        where = run.baseline.describe()
        cells = [
            f"{s.agree}/{s.total}" if s.total else "–"
            for s in (report.per_clip[run.clip][light] for light in LIGHTS)
        ]
        lines.append(f"| {run.clip} | {run.placement} | {where} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
