"""`station analyze` on real footage through a circular vignette (station.camcount.transforms):
the side-view jumper's head and feet are behind the mask while jumping; MediaPipe squeezes
them against the circle with full visibility, which made an upright jumper read as hunched.
With the picture's black fill found, those landmarks are not visible: the lights that need
them say "unknown", not a fault."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from station.analysis.analyze import analyze
from station.camcount.transforms import TRANSFORMS
from station.config.loader import load_config
from station.events import LANDMARK
from station.pose.track import load_track

EXCERPT_S = 6.0  # standing, then jumping with the head behind the mask (from about 1.7 s)


def vignette_excerpt(src: Path, out: Path, seconds: float) -> Path:
    import cv2

    cap = cv2.VideoCapture(str(src))
    fps = float(cap.get(cv2.CAP_PROP_FPS))
    paint = TRANSFORMS["vignette"].paint
    assert paint is not None
    writer = None
    ctx: dict = {}
    for _ in range(round(seconds * fps)):
        ok, bgr = cap.read()
        if not ok:
            break
        img = paint(np.asarray(bgr, dtype=np.uint8), ctx)
        if writer is None:
            size = (img.shape[1], img.shape[0])
            writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
        writer.write(img)
    cap.release()
    assert writer is not None
    writer.release()
    return out


def test_side_view_through_a_vignette_reads_unknown_not_hunched(
    shared_data: Path, tmp_path: Path
) -> None:
    clip = vignette_excerpt(
        shared_data / "jumprope" / "nogt_side_view.mp4", tmp_path / "vignette.mp4", EXCERPT_S
    )
    track_file = tmp_path / "track.npz"
    result = analyze(clip, load_config(), save_track_to=track_file, workers=1).as_json()
    # 202×360 portrait: the inscribed circle leaves 1 - π·101²/(202·360) = 56 % black.
    assert abs(result["picture"]["masked_fraction"] - 0.56) < 0.03
    shoulders = result["faults"]["shoulders"]
    assert shoulders["fault_s"] == 0.0 and shoulders["warn_s"] == 0.0
    assert shoulders["unknown_s"] > 0.5 * EXCERPT_S
    # The saved track is what was judged: ears hidden in most jumping frames.
    track = load_track(track_file)
    ears = track.lm[:, [LANDMARK["left_ear"], LANDMARK["right_ear"]], 3]
    jumping = track.t >= 2.0
    assert np.mean(np.nan_to_num(ears[jumping], nan=0.0).max(axis=1) == 0.0) > 0.5
