"""The sweep's transformations (station.camcount.transforms) on a small synthetic clip: frame
counts, timing and the hand marks mapped onto the new timeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from station.camcount.evaluate import ClipTruth
from station.camcount.sweep import truth_window
from station.camcount.transforms import TITLE_CARD_S, TRANSFORMS, write_variant


def source(tmp_path: Path, n: int = 60, fps: float = 30.0) -> Path:
    import cv2

    path = tmp_path / "src.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (320, 240))
    for i in range(n):
        img = np.full((240, 320, 3), 100, dtype=np.uint8)
        cv2.circle(img, (160, 120 + (i % 10)), 20, (0, 0, 255), -1)
        writer.write(img)
    writer.release()
    return path


def frames_and_fps(path: Path) -> tuple[int, float, int]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    n, fps, h = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), cap.get(cv2.CAP_PROP_FPS), cap.get(4)
    cap.release()
    return n, fps, int(h)


@pytest.mark.parametrize(
    ("name", "frames", "fps"),
    [
        ("every2", 30, 15.0),
        ("every3", 20, 10.0),
        ("fast15", 52, 30.0),
        ("title", 60 + round(TITLE_CARD_S * 30), 30.0),
        ("logo", 60, 30.0),
    ],
)
def test_frame_count_and_rate(tmp_path: Path, name: str, frames: int, fps: float) -> None:
    out = write_variant(source(tmp_path), tmp_path / f"{name}.mp4", TRANSFORMS[name])
    n, got_fps, _h = frames_and_fps(out)
    assert n == frames and got_fps == pytest.approx(fps, rel=1e-3)


def test_downscale_and_vignette(tmp_path: Path) -> None:
    import cv2

    out = write_variant(source(tmp_path), tmp_path / "h.mp4", TRANSFORMS["h360"])
    assert frames_and_fps(out)[2] == 360
    out = write_variant(source(tmp_path), tmp_path / "v.mp4", TRANSFORMS["vignette"])
    ok, img = cv2.VideoCapture(str(out)).read()
    assert ok and img[2, 2].max() < 10 and img[120, 160, 2] > 150  # corner black, centre kept


def test_truth_window_follows_the_timeline() -> None:
    truth = ClipTruth("c", "c.mp4", "two-foot", 30.0, 10, 1.0, 5.0)
    assert truth_window(truth, TRANSFORMS["every2"]) == pytest.approx((0.5, 5.5))
    assert truth_window(truth, TRANSFORMS["fast15"]) == pytest.approx((0.5 / 1.15, 5.5 / 1.15))
    assert truth_window(truth, TRANSFORMS["title"]) == pytest.approx((2.5, 7.5))
