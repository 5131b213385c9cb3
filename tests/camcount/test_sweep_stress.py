"""The stress transformations beyond the sweep (station.camcount.transforms: mirror, tilt,
dim light, motion blur, portrait, wide shot, feet cut off) on a small synthetic clip: what
each does to the picture, and that the timeline (so the hand marks) is unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from station.camcount.evaluate import ClipTruth
from station.camcount.sweep import truth_window
from station.camcount.transforms import (
    FEET_CUT,
    NO_FEET_CUT,
    PORTRAIT,
    TRANSFORMS,
    WIDE_ZOOM,
    write_variant,
)

STRESS = ("mirror", "tilt8", "dim", "blur", "portrait", "wide", "feetcut", "nofeet")


def source(tmp_path: Path, n: int = 20) -> Path:
    """320×240, grey, a red disc left of centre moving down 2 px a frame, a white bar at the
    bottom (where feet would be)."""
    import cv2

    path = tmp_path / "src.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 30.0, (320, 240))
    for i in range(n):
        img = np.full((240, 320, 3), 128, dtype=np.uint8)
        cv2.circle(img, (100, 100 + 2 * i), 20, (0, 0, 255), -1)
        img[225:] = 255
        writer.write(img)
    writer.release()
    return path


def pictures(path: Path) -> list[np.ndarray]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        out.append(img)
    cap.release()
    return out


@pytest.mark.parametrize("name", STRESS)
def test_same_timeline_every_frame_kept(tmp_path: Path, name: str) -> None:
    out = write_variant(source(tmp_path), tmp_path / f"{name}.mp4", TRANSFORMS[name])
    assert len(pictures(out)) == 20
    truth = ClipTruth("c", "c.mp4", "two-foot", 30.0, 10, 1.0, 5.0)
    assert truth_window(truth, TRANSFORMS[name]) == pytest.approx((0.5, 5.5))


def test_what_each_does_to_the_picture(tmp_path: Path) -> None:
    src = source(tmp_path)
    first = {name: pictures(write_variant(src, tmp_path / f"{name}.mp4", TRANSFORMS[name]))[0]
             for name in STRESS}  # fmt: skip
    assert first["mirror"][100, 220, 2] > 200 and first["mirror"][100, 100, 2] < 180
    assert first["tilt8"][2, 2].max() < 15 and first["tilt8"][120, 160].min() > 100
    dim = first["dim"].astype(float)
    assert dim[:200].mean() < 80 and dim[225:].mean() - dim[150:200, 200:].mean() < 130
    assert first["portrait"].shape[:2] == (240, round(240 * PORTRAIT / 2) * 2)
    assert first["feetcut"].shape[:2] == (240 - round(FEET_CUT * 240 / 2) * 2, 320)
    assert first["feetcut"][-3:].mean() < 200  # the white bar is gone
    assert first["nofeet"].shape[:2] == (240 - round(NO_FEET_CUT * 240 / 2) * 2, 320)
    wide = first["wide"]
    assert wide.shape[:2] == (240, 320) and wide[10, 10].max() < 200  # the wall, not the bar
    assert wide[int(120 + 115 * WIDE_ZOOM), 160].min() > 200  # the bar, shrunk to the middle


def test_portrait_holds_the_jumper(tmp_path: Path) -> None:
    """The 9:16 slice is centred on ctx['centre_x'] (the jumper), clamped to the picture."""
    out = write_variant(
        source(tmp_path), tmp_path / "p.mp4", TRANSFORMS["portrait"], {"centre_x": 100 / 320}
    )
    img = pictures(out)[0]
    x = img.shape[1] // 2
    assert img[100, x, 2] > 200 and img[100, x, 0] < 80  # the disc in the middle


def test_blur_blends_consecutive_frames(tmp_path: Path) -> None:
    """Where the moving disc covers a pixel in frame 10 but not in frame 9, the blurred frame
    shows half of each; a still area is kept."""
    src = source(tmp_path)
    sharp = pictures(src)
    blurred = pictures(write_variant(src, tmp_path / "b.mp4", TRANSFORMS["blur"]))
    row = 139  # the disc's bottom edge: 138 in frame 9, 140 in frame 10
    assert sharp[10][row, 100, 0] < 30 and sharp[9][row, 100, 0] > 100
    assert 40 < blurred[10][row, 100, 0] < 100  # blue: 0 (red disc) blended with 128 (grey)
    assert abs(int(blurred[10][5, 300, 1]) - int(sharp[10][5, 300, 1])) < 6
