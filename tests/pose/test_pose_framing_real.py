"""The framing judgment on real MediaPipe output: a shared clip as filmed, and cropped like
`nofeet` (station.camcount.transforms: the bottom third cut off, a camera aimed too high), where
the model extrapolates the feet below the picture and the camera count falls to about half
(docs/counting.md). The pictures are transformed in memory or in a temporary folder, never
the repository; the test skips cleanly without ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from station.camcount.transforms import TRANSFORMS, write_variant
from station.config.loader import load_config
from station.events import PoseFrame
from station.pose.framing import FramingMonitor

CLIP = "hb_alternating_01.mp4"  # a jumper filmed head to toe, feet at 0.72 of the height
LIVE_FRAMES = 30  # 1 s of the clip's 30 frames/s: the window judges from its 4th frame


def pictures(path: Path, count: int, crop: bool) -> list[Any]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    out = []
    while len(out) < count:
        ok, bgr = cap.read()
        if not ok:
            break
        if crop:
            reframe = TRANSFORMS["nofeet"].reframe
            assert reframe is not None
            bgr = reframe(np.asarray(bgr, dtype=np.uint8), {})
        out.append(np.ascontiguousarray(bgr[:, :, ::-1]))
    cap.release()
    assert len(out) == count
    return out


def live_flags(rgb: list[Any], fps: float = 30.0) -> list[bool]:
    """What the live station's monitor says frame by frame, on the backend the station runs."""
    from station.pose.backends import open_backend

    config = load_config()
    backend = open_backend(config["pose"])
    monitor = FramingMonitor(float(config["pose"]["min_visibility"]))
    flags = []
    try:
        for i, picture in enumerate(rgb):
            found = backend.detect(picture, i / fps)
            lm = found[0].lm if found else None
            h, w = picture.shape[:2]
            flags.append(monitor.update(PoseFrame(i / fps, lm, None, w, h, i)).feet_out)
    finally:
        backend.close()
    return flags


def test_live_monitor_flags_the_cropped_clip_and_not_the_original(shared_data: Path) -> None:
    clip = shared_data / "jumprope" / CLIP
    cropped = live_flags(pictures(clip, LIVE_FRAMES, crop=True))
    onset = cropped.index(True)
    assert onset <= 10, cropped  # a third of a second in: the window has its first frames
    assert all(cropped[onset:]), cropped  # and it holds
    assert not any(live_flags(pictures(clip, LIVE_FRAMES, crop=False)))


def test_diag_reports_the_framing_from_a_file(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from station.cli import main

    clip = write_variant(shared_data / "jumprope" / CLIP, tmp_path / CLIP, TRANSFORMS["nofeet"])
    main(["diag", "--json", "--simulate", "mat,gpio", "--framing-from", str(clip)])
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    framing = checks["camera framing"]
    assert framing["status"] == "warn" and framing["required"] is False
    assert "feet are out of the picture in" in framing["summary"]
    assert "aim the camera lower" in framing["fix"]
    main(["diag", "--json", "--simulate", "mat,gpio", "--framing-from", str(tmp_path / "no")])
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["camera framing"]["status"] == "fail"
    assert "no such file" in checks["camera framing"]["summary"]
