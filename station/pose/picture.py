"""Static black regions of a video's picture: letterbox or pillarbox bars, a portrait video
padded to landscape, the circle of a vignette mask (`station analyze`).

MediaPipe does not know that part of the picture is a mask: a head cut off by a vignette's
circle still gets ears, with visibility 1.0, pinned to the circle's edge, and an upright jumper
reads as hunched. The pixels show it: a mask is black in every frame. So while the video is
decoded for inference anyway, each sampled frame's brightest channel is compared with
:data:`BLACK_LEVEL` at a reduced size (:class:`BlackAccumulator`, a few hundred microseconds a
frame); at the end :func:`static_black` keeps the regions that are

- black without a break for at least :data:`MIN_RUN` of the sampled frames: a mask has no
  reason to break, a title card in front (or a closing card) breaks it once, at one end;
  a dark backdrop that the jumper's arms or rope cross breaks it again and again,
- a fill, not a scene: on average (over its black frames) at most :data:`FILL_LEVEL` grey
  levels, and flat (mean step between neighbouring pixels of that average picture at most
  :data:`MAX_TEXTURE`).
  An encoder keeps a black fill within a few levels of 0; the darkest parts of a real scene,
  even a dim gym, sit above the sensor's black level with texture and noise,
- touching the picture's border (bars, padding and vignettes all do; a dark object inside
  the scene does not) and at least :data:`MIN_REGION` of the picture, after a morphological
  opening that removes isolated dark pixels.

Landmarks on such a region, or near enough that the body part they stand for reaches into it
(:meth:`PictureMask.hide`), get visibility 0: the posture judge and the counter's trust check
then treat them as not visible, so a light reads "unknown" rather than a fault the model made
up. "Near enough" is the part's own half-size: a body part whose true place is behind the
mask is not extrapolated there, MediaPipe squeezes it into the visible picture against the
mask's edge (measured on a vignette of nogt_side_view: the ears' true place 1.1–1.3 circle
radii from the centre while jumping; through the vignette they sit at 0.85–0.95 with
visibility 1.0, ear to shoulder a third of its true length, and the Shoulders light reads a
hunch). The half-sizes are body proportions against the trunk (shoulders to hips):
:data:`HEAD_HALF` for the face's landmarks (a head is about half a trunk long),
:data:`LIMB_HALF` for the joints. Landmarks outside the picture are already left out by
station.posture.body (``IMAGE_MARGIN``) and by the counting trust check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from station.events import PoseFrame

SAMPLE_WIDTH = 320  # pixels across (at most) of the pictures compared
SAMPLE_EVERY = 4  # every this many frames is sampled (a static mask needs few)
BLACK_LEVEL = 24  # brightest channel at most this (of 255): black in that frame
MIN_RUN = 0.5  # black without a break for at least this share of the sampled frames …
FILL_LEVEL = 8.0  # … whose time-averaged brightness is at most this, on average …
MAX_TEXTURE = 1.5  # … and whose mean step between neighbouring pixels is at most this
MIN_REGION = 0.01  # share of the picture: smaller black regions are ignored
OPENING = 0.02  # × the picture's shorter side: dark specks smaller than this are not masks
HEAD_HALF = 0.25  # × trunk length: a face landmark this close to the mask may be cut off
LIMB_HALF = 0.08  # × trunk length: a joint's half-thickness
FACE = range(0, 11)  # nose, eyes, ears, mouth (MediaPipe pose landmarks 0-10)
SHOULDERS, HIPS = (11, 12), (23, 24)


@dataclass
class BlackRuns:
    """Per pixel of a reduced picture, over a stretch of sampled frames: how many were black,
    their brightness summed, the longest unbroken run of black ones, the run up to the last
    sample and the run from the first."""

    black: NDArray[np.int32]
    total: NDArray[np.int32]  # 255 × 8 M samples fit
    longest: NDArray[np.int32]
    run: NDArray[np.int32]
    lead: NDArray[np.int32]

    @classmethod
    def zeros(cls, shape: tuple[int, ...]) -> BlackRuns:
        return cls(*(np.zeros(shape, dtype=np.int32) for _ in range(5)))

    def copy(self) -> BlackRuns:
        return BlackRuns(
            self.black.copy(),
            self.total.copy(),
            self.longest.copy(),
            self.run.copy(),
            self.lead.copy(),
        )


class BlackAccumulator:
    """Per pixel of a reduced picture: the frames where it is black, its brightness summed
    over those frames, and its longest unbroken run of black frames. One per decoding thread
    (each a contiguous stretch of the video); :meth:`merge` joins them in time order."""

    def __init__(self) -> None:
        self.runs: BlackRuns | None = None  # from the first sampled frame on
        self.samples = 0
        self.width = 0
        self.height = 0
        self.step = 1

    def add(self, rgb: NDArray[np.uint8], index: int = 0) -> None:
        """One decoded frame (H×W×3); only every :data:`SAMPLE_EVERY`-th index is used."""
        if index % SAMPLE_EVERY:
            return
        height, width = rgb.shape[:2]
        if self.samples == 0:
            self.width, self.height = width, height
            self.step = max(1, math.ceil(width / SAMPLE_WIDTH))
        elif (width, height) != (self.width, self.height):
            return  # a stream changing size mid-way: keep the first size's statistics
        bright = brightest_channel(rgb, self.step)
        black = bright <= BLACK_LEVEL
        if self.runs is None:
            self.runs = BlackRuns.zeros(bright.shape)
        r = self.runs
        unbroken = r.lead == self.samples  # black in every sample so far
        r.black += black
        r.total += np.where(black, bright, 0)  # a title card must not brighten the fill
        r.run = (r.run + 1) * black
        np.maximum(r.longest, r.run, out=r.longest)
        r.lead += unbroken & black
        self.samples += 1

    def merge(self, later: BlackAccumulator) -> None:
        """Join the statistics of the stretch of video that follows this one."""
        if later.runs is None:
            return
        if self.runs is None:
            self.runs = later.runs.copy()
            self.width, self.height, self.step = later.width, later.height, later.step
            self.samples = later.samples
            return
        r, after = self.runs, later.runs
        if after.black.shape != r.black.shape:
            return
        r.longest = np.maximum(np.maximum(r.longest, after.longest), r.run + after.lead)
        r.lead = np.where(r.lead == self.samples, r.lead + after.lead, r.lead)
        r.run = np.where(after.run == later.samples, r.run + after.run, after.run)
        r.black += after.black
        r.total += after.total
        self.samples += later.samples

    def mask(self) -> PictureMask:
        if self.runs is None or not self.samples:
            return PictureMask.none()
        run_share = self.runs.longest / self.samples
        mean = self.runs.total / np.maximum(self.runs.black, 1)
        return PictureMask(static_black(run_share, mean), self.width, self.height, self.step)


def brightest_channel(rgb: NDArray[np.uint8], step: int) -> NDArray[np.uint8]:
    """Every `step`-th pixel's brightest channel (OpenCV: a tenth of numpy's max(axis=2))."""
    import cv2

    height, width = rgb.shape[:2]
    size = (math.ceil(width / step), math.ceil(height / step))
    small = rgb if step == 1 else cv2.resize(rgb, size, interpolation=cv2.INTER_NEAREST)
    red, green, blue = cv2.split(small)
    return np.asarray(cv2.max(cv2.max(red, green), blue), dtype=np.uint8)


def static_black(run_share: NDArray[np.float64], mean: NDArray[np.float64]) -> NDArray[np.bool_]:
    """The static black fill of a picture, from each pixel's longest unbroken run of black
    frames (a share of the sampled frames) and its mean brightness in its black frames (both
    H×W); see the module's docstring."""
    import cv2

    h, w = run_share.shape
    side = max(3, 2 * round(OPENING * min(h, w) / 2) + 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    static = (run_share >= MIN_RUN).astype(np.uint8)
    candidate = cv2.morphologyEx(static, cv2.MORPH_OPEN, kernel)
    # The step between neighbouring pixels of the averaged picture: ~0 on a fill.
    mean32 = mean.astype(np.float32)
    step = np.zeros_like(mean32)
    step[:, 1:] += np.abs(np.diff(mean32, axis=1))
    step[1:, :] += np.abs(np.diff(mean32, axis=0))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=8)
    out = np.zeros((h, w), dtype=bool)
    for k in range(1, n):
        x, y, bw, bh, area = (int(v) for v in stats[k])
        if area < MIN_REGION * h * w:
            continue
        if not (x == 0 or y == 0 or x + bw == w or y + bh == h):
            continue  # a dark thing inside the scene, not a mask of the picture
        region = labels == k
        if float(mean[region].mean()) > FILL_LEVEL:
            continue
        # The region's inside (its own edge is where the picture begins: steps are large).
        inner = cv2.erode(region.astype(np.uint8), kernel) > 0
        if inner.any() and float(step[inner].mean()) > MAX_TEXTURE:
            continue
        out |= region
    return out


@dataclass(frozen=True)
class PictureMask:
    """Where the picture is a static black fill: `black` on a grid of every `step`-th pixel
    of a `width`×`height` picture."""

    black: NDArray[np.bool_]
    width: int
    height: int
    step: int
    # Distance of every grid cell to the nearest black one, in picture pixels (computed once).
    distance: NDArray[np.float32] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        import cv2

        clear = (~self.black).astype(np.uint8)
        if self.black.any():
            dist = cv2.distanceTransform(clear, cv2.DIST_L2, 5) * float(self.step)
        else:
            dist = np.full(self.black.shape, np.inf, dtype=np.float32)
        object.__setattr__(self, "distance", np.asarray(dist, dtype=np.float32))

    @classmethod
    def none(cls) -> PictureMask:
        return cls(np.zeros((1, 1), dtype=bool), 1, 1, 1)

    @property
    def masked_fraction(self) -> float:
        return float(self.black.mean())

    def to_mask(
        self, xy: NDArray[np.float64], reach_px: float | NDArray[np.float64] = 0.0
    ) -> NDArray[np.bool_]:
        """For normalised points [N×2] (x, y): on the black fill or within `reach_px` picture
        pixels of it. Points outside the picture or not finite: False (the judge and the
        trust check handle those)."""
        xy = np.asarray(xy, dtype=np.float64)
        finite = np.isfinite(xy).all(axis=1)
        safe = np.where(finite[:, None], xy, -1.0)
        col = np.floor(safe[:, 0] * self.width / self.step).astype(np.int64)
        row = np.floor(safe[:, 1] * self.height / self.step).astype(np.int64)
        rows, cols = self.black.shape
        inside = finite & (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
        out = np.zeros(len(xy), dtype=bool)
        reach = np.broadcast_to(np.asarray(reach_px, dtype=np.float64), (len(xy),))
        out[inside] = self.distance[row[inside], col[inside]] <= reach[inside]
        return out

    def reach_px(self, lm: NDArray[np.float64]) -> NDArray[np.float64]:
        """Each landmark's half-size in picture pixels, from the trunk's length in this
        frame (0 when the trunk is not seen: then only landmarks on the fill are hidden)."""
        px = lm[:, :2] * (self.width, self.height)
        trunk = float(np.linalg.norm(px[list(SHOULDERS)].mean(0) - px[list(HIPS)].mean(0)))
        reach = np.full(len(lm), LIMB_HALF * trunk)
        reach[list(FACE)] = HEAD_HALF * trunk
        return reach if np.isfinite(trunk) else np.zeros(len(lm))

    def hide(self, frames: Sequence[PoseFrame]) -> list[PoseFrame]:
        """The frames with every landmark inside the black fill made invisible
        (visibility 0; positions kept)."""
        if not self.black.any():
            return list(frames)
        out = []
        for frame in frames:
            if frame.lm is None:
                out.append(frame)
                continue
            lm = np.asarray(frame.lm, dtype=np.float64)
            hidden = self.to_mask(lm[:, :2], self.reach_px(lm))
            if not hidden.any():
                out.append(frame)
                continue
            lm = lm.copy()
            lm[hidden, 3] = 0.0
            out.append(replace(frame, lm=lm))
        return out

    def as_json(self) -> dict[str, float]:
        return {"masked_fraction": round(self.masked_fraction, 4)}
