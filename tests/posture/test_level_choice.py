"""How each light's level is chosen on labelled clips (station.posture.agreement.best_scale):
the shipped level unless another one wins on the clips by more than chance. Plain numbers,
no video: the real clips' figures are `python -m station.posture.evaluate --labels`."""

from __future__ import annotations

import pytest

from station.posture.agreement import (
    LIGHTS,
    SCALES,
    ClipRun,
    RecordingBaseline,
    Score,
    argmax_scale,
    best_scale,
    leave_one_clip_out,
    sign_flip_p,
)


def run(clip: str, agree: dict[float, int], total: int = 30) -> ClipRun:
    """A clip whose every light agrees `agree[scale]` of `total` seconds (the shipped count
    at the scales not given)."""
    base = agree.get(1.0, total - 2)
    scores = {
        scale: {light: Score(agree.get(scale, base), total) for light in LIGHTS} for scale in SCALES
    }
    return ClipRun(clip, "front", RecordingBaseline("population"), scores)


def test_sign_flip_p_is_exact_over_the_changed_clips() -> None:
    assert sign_flip_p([]) == 1.0
    assert sign_flip_p([0, 0]) == 1.0
    assert sign_flip_p([12]) == pytest.approx(0.5)  # one clip: a coin toss, however many seconds
    assert sign_flip_p([1, 1, 1, 1, 1]) == pytest.approx(1 / 32)
    assert sign_flip_p([1, 1, 1, 1]) == pytest.approx(1 / 16)
    assert sign_flip_p([3, -1, 0]) == pytest.approx(1 / 2)  # flips of (3, -1): 4 2 -2 -4 vs 2
    assert sign_flip_p([1] * 20) < 1e-4  # normal approximation beyond 16 clips


def test_a_held_posture_on_one_clip_does_not_move_the_level() -> None:
    """One clip's 12 held seconds flip at ×1.25: the most agreeing seconds over the clips
    (argmax), but one clip is one case. The shipped level stays; the earlier rule moved."""
    runs = [run("held", {1.25: 28, 1.0: 16})] + [
        run(f"c{k}", {1.25: 27, 1.0: 28}) for k in range(4)
    ]
    assert argmax_scale(runs, "shoulders", SCALES) == 1.25
    assert best_scale(runs, "shoulders", SCALES) == 1.0


def test_a_level_better_on_many_clips_wins() -> None:
    """×0.9 gains a second or more on each of six clips and loses none: p = 1/64."""
    runs = [run(f"c{k}", {0.9: 29 + k % 2, 1.0: 28}) for k in range(6)]
    runs.append(run("same", {0.9: 28, 1.0: 28}))
    assert best_scale(runs, "back", SCALES) == 0.9


def test_without_the_shipped_level_or_clips_the_shipped_level_is_kept() -> None:
    assert best_scale([], "head", SCALES) == 1.0
    assert argmax_scale([], "head", SCALES) == 1.0


def test_leave_one_clip_out_records_the_level_of_every_fold() -> None:
    """The held-posture clip scored out of sample at the shipped level (16/30) under the
    evidence rule; under argmax the other four folds choose ×1.25 on its strength."""
    runs = [run("held", {1.25: 28, 1.0: 16})] + [
        run(f"c{k}", {1.25: 27, 1.0: 28}) for k in range(4)
    ]
    evidence = leave_one_clip_out(runs, SCALES, "evidence")
    argmax = leave_one_clip_out(runs, SCALES, "argmax")
    assert {levels["arms"] for levels in evidence.fold_levels.values()} == {1.0}
    assert evidence.out_of_sample["arms"].agree == 16 + 4 * 28
    assert [argmax.fold_levels[f"c{k}"]["arms"] for k in range(4)] == [1.25] * 4
    assert argmax.fold_levels["held"]["arms"] == 1.0
    assert argmax.out_of_sample["arms"].agree == 16 + 4 * 27
