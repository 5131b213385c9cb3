"""The sweep's posture column: the lights judged on a transformed clip against the labels by
eye mapped onto its timeline (station.camcount.sweep.add_posture, station.posture.agreement).

The data tests build a sweep cache from the session's real tracks (`jumprope_tracks`) the way
the transformations change a timeline — a 2 s title card in front (frames without a pose),
every 2nd frame, 15 % faster by dropping frames — and run the sweep on it with
``cached_only`` (no inference of their own; the transformed *videos* with real inference are
`python -m station.camcount.evaluate --sweep`, docs/counting.md). Classes 4 and 6 of issue 11
(a head down from the first second, hands far out) are checked on the transformed timelines.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED_DATA

from station.camcount.evaluate import ClipTruth, read_ground_truth
from station.camcount.sweep import (
    ORIGINAL,
    SweepResult,
    add_posture,
    held_out_levels,
    labelled_originals,
    level_summary,
    pair_table,
    posture_only_clips,
    run_posture_only,
    sweep,
    sweep_table,
)
from station.camcount.transforms import TITLE_CARD_S, TRANSFORMS, Transform
from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.posture.agreement import LIGHTS, judge_frames, per_second
from station.posture.judge import Light, Lights

CONFIG = build_config(SCHEMA, [])
CLIPS = ("hb_alternating_01", "hb_alternating_02", "speed_hiro_1")


def lights_at(t: float, state: str) -> Lights:
    light = Light("head", state, None, None, None, 0.0, 0.0, "", True, t)  # type: ignore[arg-type]
    return Lights(t, {name: light for name in LIGHTS}, "none", "front", True)


def test_per_second_maps_a_transformed_timeline_back_to_the_labelled_seconds() -> None:
    """A 2 s title card (unknown) before a clip sped up 15 %: the clip's second 2 is fault,
    the others ok. Mapped back, second 0 is ok (the card's last second is not second 0) and
    second 2 is fault; without the mapping the seconds would be off by the card and drift."""
    scale, offset, fps = 1 / 1.15, TITLE_CARD_S, 30.0
    judged = [lights_at(k / fps, "unknown") for k in range(int(offset * fps))]
    for k in range(int(6 * scale * fps)):
        t_clip = k / fps / scale
        judged.append(lights_at(offset + k / fps, "fault" if 2 <= t_clip < 3 else "ok"))
    verdicts = per_second(judged, 0.0, scale, offset)["head"]
    assert [verdicts[s] for s in range(6)] == ["ok", "ok", "fault", "ok", "ok", "ok"]
    assert verdicts[-1] == "unknown" and verdicts[-2] == "unknown"  # the card, before second 0
    unmapped = per_second(judged, 0.0)["head"]
    assert unmapped[2] != "fault" or unmapped[0] != "ok"


# -- a sweep cache made from the real tracks ---------------------------------------------
def transformed(track, transform: Transform):  # type: ignore[no-untyped-def]
    """The track as the transformed video's timeline has it: frames kept by the
    transformation (the tracker saw all of them: an approximation of real inference on the
    video), then shifted behind a title card of frames without a pose."""
    from station.pose.track import LandmarkTrack

    keep = np.array([i for i in range(len(track)) if transform.keeps(i)])
    t = track.t[keep] * transform.time_scale
    lm, world = track.lm[keep], track.world[keep]
    card = round(transform.title_card_s * track.fps * transform.fps_factor)
    if card:
        step = 1.0 / (track.fps * transform.fps_factor)
        t = np.concatenate([np.arange(card) * step, t + transform.title_card_s])
        lm = np.concatenate([np.full((card, *lm.shape[1:]), np.nan), lm])
        world = np.concatenate([np.full((card, *world.shape[1:]), np.nan), world])
    return LandmarkTrack(t, lm, world, track.fps * transform.fps_factor, track.width, track.height)


@pytest.fixture(scope="module")
def sweep_cache(jumprope_tracks: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from station.pose.track import save_track

    cache = tmp_path_factory.mktemp("sweep")
    for transform in [ORIGINAL if name == "original" else TRANSFORMS[name] for name in CHOSEN]:
        for clip in CLIPS:
            save_track(transformed(jumprope_tracks[clip], transform), cache / transform.name
                       / f"{clip}.npz")  # fmt: skip
            (cache / transform.name / f"{clip}.json").write_text(
                json.dumps({"jumper": {"how": "whole picture"}})
            )
    return cache


CHOSEN = ("original", "title", "every2", "fast15")


@pytest.fixture(scope="module")
def swept(sweep_cache: Path) -> list[SweepResult]:
    truths = [t for t in ground_truth() if t.clip in CLIPS]
    chosen = [ORIGINAL if name == "original" else TRANSFORMS[name] for name in CHOSEN]
    results = sweep(truths, chosen, SHARED_DATA, sweep_cache, CONFIG, cached_only=True)
    return add_posture(results, sweep_cache, CONFIG)


def ground_truth() -> list[ClipTruth]:
    return read_ground_truth(SHARED_DATA / "jumprope" / "ground_truth.csv")


def result(results: Sequence[SweepResult], transform: str, clip: str) -> SweepResult:
    return next(r for r in results if r.transform == transform and r.clip == clip)


@pytest.mark.data
def test_cached_sweep_has_a_posture_column(swept: list[SweepResult]) -> None:
    assert len(swept) == 4 * len(CLIPS)
    for r in swept:
        assert r.posture is not None, (r.transform, r.clip)
        for light in LIGHTS:
            assert r.posture.out_of_sample[light].total >= 3, (r.transform, r.clip, light)
    table = sweep_table(swept)
    assert "n/a" not in table and "| title | 3 |" in table
    assert len(pair_table(swept).splitlines()) == 2 + len(swept)


@pytest.mark.data
def test_a_title_card_shifts_the_baseline_and_changes_no_verdict(
    swept: list[SweepResult],
) -> None:
    """hb_alternating_02 stands still at 7.5-8.5 s: behind the card the baseline is taken
    there, 2 s later, and every light agrees with the labels exactly as on the original."""
    original = result(swept, "original", "hb_alternating_02").posture
    titled = result(swept, "title", "hb_alternating_02").posture
    assert original is not None and titled is not None
    assert original.baseline.source == titled.baseline.source == "standing"
    assert titled.baseline.from_s == pytest.approx(original.baseline.from_s + TITLE_CARD_S)  # type: ignore[operator]
    for clip in CLIPS:
        a, b = result(swept, "original", clip).posture, result(swept, "title", clip).posture
        assert a is not None and b is not None
        assert a.shipped == b.shipped, clip


def verdicts(track, transform: Transform) -> dict[str, dict[int, str]]:  # type: ignore[no-untyped-def]
    from station.analysis.analyze import pick_placement

    frames = list(track.frames())
    judged, _, _ = judge_frames(frames, CONFIG, pick_placement("auto", frames, CONFIG))
    return per_second(judged, frames[0].t, transform.time_scale, transform.title_card_s)


@pytest.mark.data
@pytest.mark.parametrize("name", ["title", "every2", "fast15"])
def test_class4_and_class6_hold_on_transformed_timelines(jumprope_tracks: dict, name: str) -> None:
    """Class 4: hb_alternating_01 looks at the floor from the first second (standing, then
    jumping) until it walks up to the camera at 6 s; class 6: speed_hiro_1 turns the rope
    with the hands far out all along. Behind a title card, at every 2nd frame and 15 %
    faster, head and arms are fault in every labelled second from second 1 (the window and
    hold take 1-2 s of the transformed clip to settle after the first pose)."""
    transform = TRANSFORMS[name]
    head = verdicts(transformed(jumprope_tracks["hb_alternating_01"], transform), transform)
    assert [head["head"][s] for s in range(1, 6)] == ["fault"] * 5, head["head"]
    arms = verdicts(transformed(jumprope_tracks["speed_hiro_1"], transform), transform)
    assert [arms["arms"][s] for s in range(2, 11)] == ["fault"] * 9, arms["arms"]
    assert arms["arms"][1] == "fault" or name == "fast15"  # 1.15 s of the clip to settle


@pytest.mark.data
def test_levels_are_chosen_on_every_labelled_original_whichever_clips_are_swept(
    sweep_cache: Path, swept: list[SweepResult]
) -> None:
    """`--clips A` scores A at the levels a full run gives it: they are chosen on the
    originals of every other labelled clip in the cache, not only the ones swept."""
    originals = labelled_originals(sweep_cache, CONFIG)
    assert sorted(run.clip for run in originals) == sorted(CLIPS)
    for clip in CLIPS:
        alone = add_posture([r for r in swept if r.clip == clip], sweep_cache, CONFIG)
        assert [r.posture for r in alone] == [r.posture for r in swept if r.clip == clip]
        levels = held_out_levels(originals, clip)
        others = [run for run in originals if run.clip != clip]
        assert levels == held_out_levels(others, clip)  # the clip itself never counts
    # three clips cannot outvote the shipped levels (a sign-flip p of 1/8 at best)
    assert "shoulders ×1 (×1 in 3)" in level_summary(originals)


@pytest.mark.data
def test_a_labelled_clip_without_a_count_joins_the_posture_part(
    sweep_cache: Path, swept: list[SweepResult], tmp_path: Path
) -> None:
    """nogt_hb_alternating_04 has labels but no count: real inference through the analyze
    path (jumper search, crop, pose) gives a posture-only row, scored against its labels and
    left out of the count columns."""
    truths = ground_truth()
    assert "nogt_hb_alternating_04" in posture_only_clips(truths)
    assert not set(posture_only_clips(truths)) & {t.clip for t in truths}
    assert run_posture_only("nogt_hb_alternating_04", ORIGINAL, SHARED_DATA, tmp_path, CONFIG,
                            cached_only=True) is None  # fmt: skip
    row = run_posture_only(
        "nogt_hb_alternating_04", ORIGINAL, SHARED_DATA, tmp_path, CONFIG, cached_only=False
    )
    assert row is not None and row.posture_only
    for f in (sweep_cache / "original").iterdir():  # the nine clips' originals beside it
        (tmp_path / "original" / f.name).write_bytes(f.read_bytes())
    [scored] = add_posture([row], tmp_path, CONFIG)
    assert scored.posture is not None
    for light in LIGHTS:  # 5 labelled seconds, upright jumping: ok, as on full-picture tracks
        assert scored.posture.out_of_sample[light].total == 5, light
        assert scored.posture.out_of_sample[light].agree >= 4, (light, scored.posture)
    rows = [r for r in swept if r.transform == "original"] + [scored]
    table = sweep_table(rows)
    line = next(x for x in table.splitlines() if x.startswith("| original |"))
    counted = [r for r in rows if not r.posture_only]
    assert line.startswith(f"| original | {len(counted)} + 1 | {sum(r.truth for r in counted)} |")
    assert "| nogt_hb_alternating_04 | – | – | – |" in pair_table(rows)
