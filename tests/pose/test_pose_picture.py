"""The static black fill of a picture (station.pose.picture): bars, padding and a vignette are
found; a dim, textured scene and a dark thing inside the scene are not; landmarks on the fill
(or squeezed against it) lose their visibility."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray

from station.events import LANDMARK, NUM_LANDMARKS, PoseFrame
from station.pose.picture import BlackAccumulator, PictureMask

H, W, N = 240, 320, 48
rng = np.random.default_rng(7)


def scene(frames: int = N, low: int = 60, high: int = 200, noise: float = 4.0) -> list[NDArray]:
    """A textured scene (values low..high) with a bright figure moving up and down, and
    sensor noise on every frame."""
    texture = rng.integers(low, high + 1, size=(H // 4, W // 4, 3)).astype(np.float32)
    texture = np.repeat(np.repeat(texture, 4, axis=0), 4, axis=1)
    out = []
    for k in range(frames):
        img = texture + noise * rng.standard_normal((H, W, 3), dtype=np.float32)
        top = 80 + round(20 * math.sin(2 * math.pi * k / 8))
        img[top : top + 100, 140:180] = 220.0
        out.append(np.clip(img, 0, 255).astype(np.uint8))
    return out


def found(frames: list[NDArray]) -> PictureMask:
    acc = BlackAccumulator()
    for i, img in enumerate(frames):
        acc.add(img, i)
    return acc.mask()


def vignette(img: NDArray) -> NDArray:
    """Black outside the inscribed circle, a soft 3 % edge (as station.camcount.transforms)."""
    yy, xx = np.mgrid[0:H, 0:W]
    r = 0.5 * min(W, H)
    soft = np.clip((r - np.hypot(xx - W / 2, yy - H / 2)) / (0.03 * r), 0.0, 1.0)
    return (img * soft[:, :, None]).astype(np.uint8)


def test_vignette_is_found() -> None:
    mask = found([vignette(img) for img in scene()])
    outside_circle = 1.0 - math.pi * (0.5 * H) ** 2 / (H * W)
    assert mask.masked_fraction == pytest.approx(outside_circle, abs=0.03)
    r = 0.5 * H
    centre = np.array([W / 2, H / 2])
    corner = np.array([1.0, -1.0]) / math.sqrt(2.0)  # toward the top right corner
    at = np.array([centre + 1.1 * r * corner, centre + 0.8 * r * corner, centre]) / (W, H)
    assert mask.to_mask(at).tolist() == [True, False, False]


@pytest.mark.parametrize(
    ("bars", "share"),
    [
        ("letterbox", 0.25),  # a wide video in a taller frame: bars top and bottom
        ("pillarbox", 0.3),  # a portrait video padded to landscape: bars left and right
    ],
)
def test_bars_are_found(bars: str, share: float) -> None:
    frames = scene()
    for img in frames:
        if bars == "letterbox":
            img[: round(share / 2 * H)] = 0
            img[H - round(share / 2 * H) :] = 0
        else:
            img[:, : round(share / 2 * W)] = 0
            img[:, W - round(share / 2 * W) :] = 0
    mask = found(frames)
    assert mask.masked_fraction == pytest.approx(share, abs=0.02)
    inside = np.array([[0.5, 0.5]])
    edge = np.array([[0.02, 0.02], [0.98, 0.98]])
    assert not mask.to_mask(inside).any()
    assert mask.to_mask(edge).all()


def test_a_title_card_does_not_hide_the_bars() -> None:
    frames = scene()
    for img in frames:
        img[:, :48] = 0
    for img in frames[: N // 3]:  # a bright title card over the whole picture, a third long
        img[:] = 200
    assert found(frames).masked_fraction == pytest.approx(48 / W, abs=0.02)


def test_where_the_jumper_keeps_crossing_a_black_backdrop_is_not_masked() -> None:
    frames = scene()
    for k, img in enumerate(frames):
        img[:, :64] = 0  # a black backdrop at the side, flat, touching the border …
        if k % 12 == 0:
            img[100:140, :64] = 220  # … crossed by an arm or the rope now and then
    mask = found(frames)
    crossed, never = np.array([[32 / W, 120 / H]]), np.array([[32 / W, 30 / H]])
    assert not mask.to_mask(crossed).any()
    assert mask.to_mask(never).all()  # nothing was ever seen there: nothing to judge


def test_threads_joined_in_time_order_see_the_same_runs() -> None:
    frames = scene()
    for k, img in enumerate(frames):
        img[:, :64] = 0
        if k in (8, 36):  # breaks the backdrop's run: longest 27 frames of 48
            img[100:140, :64] = 220
    whole = BlackAccumulator()
    first, second = BlackAccumulator(), BlackAccumulator()
    for i, img in enumerate(frames):
        whole.add(img, i)
        (first if i < 20 else second).add(img, i)
    first.merge(second)
    assert first.runs is not None and whole.runs is not None
    np.testing.assert_array_equal(first.runs.longest, whole.runs.longest)
    np.testing.assert_array_equal(first.runs.black, whole.runs.black)
    assert first.mask().masked_fraction == whole.mask().masked_fraction > 0.15


def test_dim_textured_background_is_not_a_mask() -> None:
    # A dim gym: dark texture (2-30 of 255), pushed-ISO noise; most pixels are "black" in
    # most frames, but it is a scene, not a fill.
    assert found(scene(low=2, high=30, noise=4.0)).masked_fraction == 0.0
    # Dark and nearly flat, but above the black level on average (a dark wall, sensor noise).
    assert found(scene(low=12, high=16, noise=5.0)).masked_fraction == 0.0


def test_a_black_thing_inside_the_scene_is_not_a_mask() -> None:
    frames = scene()
    for img in frames:
        img[20:120, 20:100] = 0  # a black curtain that does not touch the picture's border
    assert found(frames).masked_fraction == 0.0


def test_no_frames_and_a_plain_scene_mask_nothing() -> None:
    assert BlackAccumulator().mask().masked_fraction == 0.0
    assert found(scene(frames=8)).masked_fraction == 0.0


def pose(points: dict[str, tuple[float, float]]) -> NDArray:
    lm = np.full((NUM_LANDMARKS, 4), np.nan)
    for name, (x, y) in points.items():
        lm[LANDMARK[name]] = (x, y, 0.0, 1.0)
    return lm


def test_landmarks_on_or_against_the_mask_lose_their_visibility() -> None:
    frames = scene()
    for img in frames:
        img[: H // 4] = 0  # the top quarter is a black band
    mask = found(frames)
    # Trunk 80 px (shoulders at y 120, hips at 200); the ears 10 px below the band's edge,
    # squeezed against it: the head (half a trunk long) reaches into the band.
    lm = pose(
        {
            "left_ear": (0.5, (H / 4 + 10) / H),
            "right_ear": (0.52, (H / 4 + 10) / H),
            "nose": (0.51, 0.1),  # on the band
            "left_shoulder": (0.45, 120 / H),
            "right_shoulder": (0.55, 120 / H),
            "left_hip": (0.47, 200 / H),
            "right_hip": (0.53, 200 / H),
            "left_wrist": (0.3, (H / 4 + 10) / H),  # a hand 10 px below: a joint's half-size less
        }
    )
    frame = PoseFrame(t=0.0, lm=lm, world=None, width=W, height=H)
    empty = PoseFrame(t=0.1, lm=None, world=None, width=W, height=H)
    hidden, nobody = mask.hide([frame, empty])
    assert nobody is empty
    assert hidden.lm is not None
    vis = {name: hidden.lm[LANDMARK[name], 3] for name in ("left_ear", "right_ear", "nose")}
    assert vis == {"left_ear": 0.0, "right_ear": 0.0, "nose": 0.0}
    for name in ("left_shoulder", "right_shoulder", "left_hip", "right_hip", "left_wrist"):
        assert hidden.lm[LANDMARK[name], 3] == 1.0, name
    np.testing.assert_array_equal(hidden.lm[:, :3], lm[:, :3])  # positions kept
    assert lm[LANDMARK["nose"], 3] == 1.0  # the input frame is not changed


def test_without_a_mask_frames_pass_unchanged() -> None:
    mask = found(scene(frames=8))
    lm = pose({"nose": (0.01, 0.01), "left_hip": (0.5, 0.5)})
    frame = PoseFrame(t=0.0, lm=lm, world=None, width=W, height=H)
    assert mask.hide([frame]) == [frame]
