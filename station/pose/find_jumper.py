"""Find the jumper in a recorded video with several people in the picture (`station analyze`).

On the station the trainer's ``camera.roi`` says where the mat is. A foreign video has no such
box: judges, other jumpers and spectators stand in the picture, and MediaPipe's single-person
model latches onto whoever it detects first. The jumper is the one who keeps moving (rope,
legs, a body bouncing up and down periodically); bystanders stand or walk.

Method (OpenCV only, no model download): frame differencing on small grey pictures over the
first seconds of the clip. Each pixel's *motion share* is the fraction of frames where it
changed; a jumper's legs and rope change in most frames, a person standing in almost none, a
passer-by only while passing. Scene cuts (most of the picture changing at once) are skipped.
The connected areas of high motion share (each a person's moving parts, joined) are scored by
their motion times how periodic their vertical motion is (normalised autocorrelation at a
jump's period, 0.12–0.8 s); the best one's core (the columns, then rows, that hold most of its
motion, so a shaking horizon or a moving shadow joined to it does not widen it), padded, is
the jumper's region; the model then looks at those columns from top to bottom
(:attr:`JumperSearch.model_roi`). When nothing stands out (motion all over, or none) the whole
picture is used.

Cost: decoding the first :data:`SEARCH_S` seconds once more plus a few array operations per
frame; `station bench analyze` prints it against bare inference.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

SEARCH_S = 12.0  # seconds of video searched (from the start)
SEARCH_WIDTH = 160  # pixels across of the grey pictures compared
CHANGE_LEVEL = 12  # grey levels: a pixel "changed" above this (noise and compression below)
CUT_SHARE = 0.5  # more than this share of the picture changing at once: a scene cut
MIN_SHARE = 0.05  # a pixel belongs to a mover when it changes in this share of frames …
RELATIVE_SHARE = 0.2  # … and in at least this fraction of the busiest pixel's share
JOIN_X, JOIN_Y = 0.05, 0.08  # moving pixels this close (× picture size) are one person
MAX_AREA = 0.6  # a "mover" larger than this share of the picture: no one stands out
PAD_X, PAD_TOP, PAD_BOTTOM = 0.35, 0.25, 0.12  # widen the moving area, × its own size
WHOLE_PICTURE = (0.0, 0.0, 1.0, 1.0)


@dataclass(frozen=True)
class JumperSearch:
    roi: tuple[float, float, float, float]  # x0, y0, x1, y1, fractions of the picture
    how: str  # "auto", "given" or "whole picture"
    search_s: float = 0.0  # wall time the search took

    @property
    def model_roi(self) -> tuple[float, float, float, float]:
        """The region handed to the pose model and jumper picker. A box found by motion keeps
        only its columns (full height): people beside each other are told apart from left to
        right, and a jumper whose feet or head barely moved must not be cut off."""
        if self.how != "auto":
            return self.roi
        return self.roi[0], 0.0, self.roi[2], 1.0

    def as_json(self) -> dict[str, Any]:
        return {"roi": [round(v, 4) for v in self.roi], "how": self.how}


def parse_roi(text: str) -> tuple[float, float, float, float]:
    """'x0,y0,x1,y1' in fractions of the picture; ValueError with the reason otherwise."""
    parts = text.split(",")
    if len(parts) != 4:
        raise ValueError(f"--roi needs four numbers x0,y0,x1,y1, got {text!r}")
    try:
        x0, y0, x1, y1 = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"--roi needs four numbers x0,y0,x1,y1, got {text!r}") from None
    if not (0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0):
        raise ValueError(f"--roi {text}: needs 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1 (fractions)")
    return x0, y0, x1, y1


def motion_frames(video: Path, seconds: float = SEARCH_S) -> tuple[NDArray[np.bool_], float]:
    """Changed-pixel masks [n, h, w] between consecutive small grey pictures (scene cuts
    dropped), and the frame rate."""
    import cv2

    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        return np.zeros((0, 1, 1), dtype=bool), 0.0
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 30.0)
    masks: list[NDArray[np.bool_]] = []
    previous: NDArray[np.int16] | None = None
    size: tuple[int, int] | None = None
    for _ in range(int(seconds * fps)):
        ok, bgr = cap.read()
        if not ok:
            break
        if size is None:
            h, w = bgr.shape[:2]
            size = (SEARCH_WIDTH, max(8, round(h * SEARCH_WIDTH / w)))
        grey = cv2.cvtColor(cv2.resize(bgr, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
        current = grey.astype(np.int16)
        if previous is not None:
            changed = np.abs(current - previous) > CHANGE_LEVEL
            if changed.mean() < CUT_SHARE:
                masks.append(changed)
        previous = current
    cap.release()
    if not masks:
        return np.zeros((0, 1, 1), dtype=bool), fps
    return np.stack(masks), fps


def periodicity(series: NDArray[np.float64], fps: float) -> float:
    """Highest normalised autocorrelation of `series` at lags of a jump (0.12–0.8 s), 0–1."""
    x = series - series.mean()
    energy = float(np.dot(x, x))
    lo, hi = max(1, round(0.12 * fps)), round(0.8 * fps)
    if energy <= 0 or len(x) < 2 * hi:
        return 0.0
    best = 0.0
    for lag in range(lo, hi + 1):
        best = max(best, float(np.dot(x[:-lag], x[lag:])) / energy)
    return max(0.0, best)


def _core(profile: NDArray[np.float64], share: float) -> tuple[int, int]:
    """The contiguous run of `profile` above `share` × its peak that holds the peak."""
    peak = int(np.argmax(profile))
    above = profile >= share * profile[peak]
    lo, hi = peak, peak
    while lo > 0 and above[lo - 1]:
        lo -= 1
    while hi + 1 < len(profile) and above[hi + 1]:
        hi += 1
    return lo, hi


def _body_box(weights: NDArray[np.float64]) -> tuple[int, int, int, int]:
    """x, y, width, height of where a mover's motion is concentrated: a body's columns hold
    far more motion than a thin line joined to it (a horizon shaking, a shadow, the rope's
    far end), so columns below a fifth of the busiest one are left out, then rows likewise."""
    x0, x1 = _core(weights.sum(axis=0), 0.2)
    y0, y1 = _core(weights[:, x0 : x1 + 1].sum(axis=1), 0.1)
    return x0, y0, x1 - x0 + 1, y1 - y0 + 1


def find_jumper(video: Path, seconds: float = SEARCH_S) -> JumperSearch:
    """The region of the person jumping, or the whole picture when nobody stands out."""
    import time

    import cv2

    started = time.perf_counter()
    masks, fps = motion_frames(video, seconds)
    whole = JumperSearch(WHOLE_PICTURE, "whole picture")
    if len(masks) < max(10, fps):
        return JumperSearch(whole.roi, whole.how, time.perf_counter() - started)
    share = masks.mean(axis=0)
    share = cv2.GaussianBlur(share.astype(np.float32), (5, 5), 0)
    level = max(MIN_SHARE, RELATIVE_SHARE * float(share.max()))
    moving = (share >= level).astype(np.uint8)
    h, w = share.shape
    # Hands, hips and feet move most; the parts between less: join them into one person.
    kernel = np.ones((max(1, round(JOIN_Y * h)), max(1, round(JOIN_X * w))), np.uint8)
    joined = cv2.dilate(moving, kernel)
    n, labels, _stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    rows = np.arange(h, dtype=np.float64)
    best: tuple[float, tuple[int, int, int, int]] | None = None
    for k in range(1, n):
        region = (labels == k) & (moving > 0)
        if region.sum() < 4:
            continue
        x, y, bw, bh = _body_box(np.where(region, share, 0.0))
        motion = float(share[region].sum())
        # Vertical centre of the changes inside the region's box, frame by frame.
        box = masks[:, y : y + bh, x : x + bw]
        counts = box.sum(axis=(1, 2)).astype(np.float64)
        centre = (box.sum(axis=2) @ rows[y : y + bh]) / np.maximum(counts, 1.0)
        score = motion * (0.5 + periodicity(centre, fps))
        if best is None or score > best[0]:
            best = (score, (x, y, bw, bh))
    if best is None:
        return JumperSearch(whole.roi, whole.how, time.perf_counter() - started)
    x, y, bw, bh = best[1]
    x0 = max(0.0, (x - PAD_X * bw) / w)
    x1 = min(1.0, (x + bw + PAD_X * bw) / w)
    y0 = max(0.0, (y - PAD_TOP * bh) / h)
    y1 = min(1.0, (y + bh + PAD_BOTTOM * bh) / h)
    elapsed = time.perf_counter() - started
    if (x1 - x0) * (y1 - y0) > MAX_AREA:
        return JumperSearch(whole.roi, whole.how, elapsed)
    return JumperSearch((x0, y0, x1, y1), "auto", elapsed)
