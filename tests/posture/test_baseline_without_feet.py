"""A recording's standing baseline when the feet (or the legs) are out of the picture
(station.posture.baseline): a camera aimed high still shows the member standing tall.

Constructed members (tests/posture/posture_skeleton.py) filmed by a picture cut off at the
bottom; then the real hb_alternating_02, which stands still with the arms out at 7.5-8.5 s,
with its track cut the same way.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from posture_skeleton import JUMPING_OK, STANDING, session

from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.events import LANDMARK, PoseFrame
from station.posture import PostureJudge
from station.posture.agreement import recording_baseline
from station.posture.baseline import stance, standing_stretch

CONFIG = build_config(SCHEMA, [])
KNEES_IN = 0.75  # keep the top 75 % of the constructed picture: ankles out, knees in
TRUNK_ONLY = 0.62  # the top 62 %: knees out too, hips in


def cut_bottom(frame: PoseFrame, keep: float, pin: bool = False) -> PoseFrame:
    """The frame as a camera aimed higher sees it: the picture's top `keep` only. Landmarks
    below it fall outside the picture, or, with `pin`, sit on its bottom edge and stay
    visible, as MediaPipe reports cut-off feet (0.98-1.02 of the height on the real clips)."""
    if frame.lm is None:
        return frame
    lm = np.array(frame.lm, copy=True)
    lm[:, 1] = lm[:, 1] / keep
    if pin:
        below = lm[:, 1] > 1.0
        wobble = 0.02 * np.sin(np.arange(len(lm)) + 10.0 * frame.t)
        lm[below, 1] = 1.0 + wobble[below]
    return replace(frame, lm=lm, height=round(frame.height * keep))


def stand_between_jumps(placement: str = "front", **posture: float) -> list[PoseFrame]:
    """Jump 3 s, stand still 2 s (from 3 s to 5 s), jump 3 s."""
    still = replace(STANDING, **posture)  # type: ignore[arg-type]
    return session(
        placement, [(3.0, JUMPING_OK, True), (2.0, still, False), (3.0, JUMPING_OK, True)]
    )


@pytest.mark.parametrize("placement", ["front", "oblique", "side"])
@pytest.mark.parametrize(
    ("keep", "legs"), [(1.0, "ankle"), (KNEES_IN, "knee"), (TRUNK_ONLY, "trunk")]
)
def test_standing_is_found_from_what_the_picture_shows(
    placement: str, keep: float, legs: str
) -> None:
    frames = [cut_bottom(f, keep) for f in stand_between_jumps(placement)]
    stretch = standing_stretch(frames, 0.5)
    assert stretch is not None, (placement, keep)
    assert stretch.start >= 3.0 and stretch.end <= 5.0 and stretch.legs == legs


@pytest.mark.parametrize("keep", [KNEES_IN, TRUNK_ONLY])
def test_jumping_with_the_feet_out_of_the_picture_is_not_standing(keep: float) -> None:
    """The hips rise with every jump: still hips are what tell standing from jumping."""
    frames = [cut_bottom(f, keep) for f in session("front", [(8.0, JUMPING_OK, True)])]
    assert standing_stretch(frames, 0.5) is None


@pytest.mark.parametrize("placement", ["front", "side"])
def test_a_bow_seen_without_the_legs_is_not_standing(placement: str) -> None:
    """Trunk pitched 35° forward, held still: from the side the trunk leaves the vertical;
    from the front it only looks shorter against the shoulders' width."""
    frames = [cut_bottom(f, TRUNK_ONLY) for f in stand_between_jumps(placement, trunk_pitch_deg=35)]
    assert standing_stretch(frames, 0.5) is None


def test_feet_pinned_to_the_picture_edge_do_not_place_the_legs() -> None:
    """MediaPipe puts cut-off ankles on the picture's edge and calls them visible: they
    wobble there while the member stands still, so the knees are used."""
    frames = [cut_bottom(f, 0.80, pin=True) for f in stand_between_jumps()]
    pinned = frames[35]
    assert pinned.lm is not None and pinned.lm[LANDMARK["left_ankle"], 1] >= 0.97
    here = stance(pinned, 0.5)
    assert here is not None and here.legs == "knee"
    stretch = standing_stretch(frames, 0.5)
    assert stretch is not None and stretch.legs == "knee"


def test_feet_hidden_inside_the_picture_are_not_cut_off() -> None:
    """A kneeling member (the title-card photo of hb_double_1: feet tucked behind, inside the
    picture with visibility about 0.2) looks like a standing one from the knees up: only feet
    cut off by the picture's edge let the knees stand in for them."""

    def tuck(frame: PoseFrame) -> PoseFrame:
        assert frame.lm is not None
        lm = frame.lm.copy()
        for name in ("ankle", "heel", "foot_index"):
            for side in ("left", "right"):
                lm[LANDMARK[f"{side}_{name}"], 3] = 0.2
        return replace(frame, lm=lm)

    frames = [tuck(f) for f in stand_between_jumps()]
    assert stance(frames[35], 0.5) is None
    assert standing_stretch(frames, 0.5) is None


def test_a_baseline_without_the_feet_leaves_back_and_landing_at_the_defaults() -> None:
    """Shoulders and head come from the stretch; the back (trunk against the legs) and the
    landing (heel against toes) cannot, so they keep the population defaults."""
    shrugged = stand_between_jumps("side", shoulder_rise_m=0.03, trunk_pitch_deg=6.0)
    whole = PostureJudge(CONFIG, placement="side")
    assert recording_baseline(whole, shrugged, 0.0).legs == "ankle"
    cut = PostureJudge(CONFIG, placement="side")
    found = recording_baseline(cut, [cut_bottom(f, KNEES_IN) for f in shrugged], 0.0)
    assert found.source == "standing" and found.legs == "knee"
    defaults = PostureJudge(CONFIG, placement="side").baseline
    for fault in ("shoulders", "head"):
        assert cut.baseline[fault] == pytest.approx(whole.baseline[fault], abs=0.02), fault
    assert whole.baseline["back"] != pytest.approx(defaults["back"], abs=1.0)
    for fault in ("back", "landing"):
        assert cut.baseline[fault] == defaults[fault], fault
    assert "legs from the knee" in found.describe()


def real_frames(tracks: dict, clip: str) -> list[PoseFrame]:
    return list(tracks[clip].frames())


@pytest.mark.data
@pytest.mark.parametrize(("keep", "legs"), [(0.85, "knee"), (0.72, "trunk")])
def test_real_member_standing_with_the_feet_cut_off(
    jumprope_tracks: dict, keep: float, legs: str
) -> None:
    """hb_alternating_02 stands still with the arms out at 7.5-8.5 s (knees at 0.79-0.80 of
    the picture's height, hips at 0.66-0.68): the picture's bottom 15 % or 28 % cut off."""
    frames = [cut_bottom(f, keep) for f in real_frames(jumprope_tracks, "hb_alternating_02")]
    stretch = standing_stretch(frames, 0.5)
    assert stretch is not None and stretch.legs == legs
    t0 = frames[0].t
    assert stretch.start - t0 >= 7.0 and stretch.end - t0 <= 9.5


@pytest.mark.data
@pytest.mark.parametrize("clip", ["hb_double_2", "speed_hiro_1", "hb_double_1"])
def test_real_jumping_with_the_feet_cut_off_is_not_standing(
    jumprope_tracks: dict, clip: str
) -> None:
    """Jumping from the first second (hb_double_1: a title card, a bow, then jumping; its
    closing card after 36 s left out) gives no stretch with the legs cut off either."""
    for keep in (0.85, 0.72):
        frames = [cut_bottom(f, keep) for f in real_frames(jumprope_tracks, clip) if f.t < 31.0]
        assert standing_stretch(frames, 0.5) is None, (clip, keep)
