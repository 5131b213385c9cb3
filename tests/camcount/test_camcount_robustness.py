"""Counting on transformed copies of the shared clips, with real inference through
`station analyze`'s own path (jumper search, crop, MediaPipe, counter): one test per failure
class of issue 11 and a few picture/timing changes. The transformed clips are written to a
temporary folder, never to the repository. The full sweep (every transformation × every clip)
is `python -m station.camcount.evaluate --sweep`; CI runs the subset below (≈ 2,800 frames of
inference), chosen so that each class and each kind of change (timing, overlay, a second
person, a title card) is covered once on the shortest clip that shows it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import SHARED_DATA

from station.camcount.evaluate import MAX_CLIP_ERROR, ClipTruth, read_ground_truth
from station.camcount.sweep import ORIGINAL, SweepResult, run_one
from station.camcount.transforms import TRANSFORMS


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh folder; STATION_SWEEP_CACHE reuses the analyses an earlier sweep kept there
    (a developer's shortcut, never set in CI)."""
    kept = os.environ.get("STATION_SWEEP_CACHE")
    return Path(kept) if kept else tmp_path_factory.mktemp("sweep")


def truth_of(clip: str) -> ClipTruth:
    csv = SHARED_DATA / "jumprope" / "ground_truth.csv"
    if not csv.is_file():
        pytest.skip(f"jump-rope clips not found at {csv.parent}")
    return next(t for t in read_ground_truth(csv) if t.clip == clip)


def analysed(clip: str, transform: str, cache: Path) -> SweepResult:
    from station.config.loader import load_config

    chosen = ORIGINAL if transform == ORIGINAL.name else TRANSFORMS[transform]
    return run_one(truth_of(clip), chosen, SHARED_DATA, cache, load_config())


def assert_within(result: SweepResult, limit: float = MAX_CLIP_ERROR) -> None:
    assert abs(result.error) <= limit * result.truth, (
        f"{result.transform} {result.clip}: {result.counted} counted, {result.truth} true"
    )


def test_class1_fast_double_unders_through_a_circular_mask_after_a_title_card(
    cache: Path,
) -> None:
    """hb_double_1: 3.4 double-unders a second (8.7 frames a jump), a 2 s title card added in
    front and the picture cut to a circle."""
    result = analysed("hb_double_1", "title+vignette", cache)
    assert_within(result)


def test_class2_side_view_speed_step_trunk_flexed(jumprope_tracks: dict[str, object]) -> None:
    """speed_jp_2: speed-step from the side, trunk flexed over the rope, the legs crossing in
    the picture (the left/right labels swap). At the clip's own frame rate."""
    from station.camcount.evaluate import score_clip

    result = score_clip(truth_of("speed_jp_2"), jumprope_tracks["speed_jp_2"])  # type: ignore[arg-type]
    assert result.relative_error <= MAX_CLIP_ERROR, (result.counted, result.truth.count)


def test_class3_a_bystander_standing_beside_the_jumper(cache: Path) -> None:
    """speed_hiro_1 with a still person pasted in on the far side: the jumper is found by
    their motion, the model looks only at them, and the count holds."""
    result = analysed("speed_hiro_1", "bystander", cache)
    assert result.jumper["how"] == "auto"
    x0 = result.jumper["roi"][0]
    assert x0 - 0.1 > 0.27  # the bystander (left edge, ≤ 1/4 of the width) is outside the crop
    assert_within(result)


def test_class3_competition_hall_with_judges(cache: Path) -> None:
    """speed_swe_1 as filmed: a competition hall, judges standing beside the jumper."""
    result = analysed("speed_swe_1", "original", cache)
    assert result.jumper["how"] == "auto"
    assert_within(result)


@pytest.mark.parametrize(
    ("clip", "transform"),
    [("hb_alternating_01", "every2"), ("quva_rope_beach", "fast15")],
)
def test_frame_rate_and_speed_changes(clip: str, transform: str, cache: Path) -> None:
    """Half the frame rate (alternate-foot), and a clip sped up 15 % by dropping frames (a
    two-foot jumper the camera pans after)."""
    assert_within(analysed(clip, transform, cache))
