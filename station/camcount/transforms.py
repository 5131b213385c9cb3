"""Picture and timing transformations of a real clip, for robustness sweeps (OpenCV only).

Each :class:`Transform` writes a new video from a shared clip and says how the clip's hand
marks map onto it (time scale, time offset), so the same ground truth judges the transformed
clip. Used by ``python -m station.camcount.evaluate --sweep`` and the tests in tests/camcount.
Transformed clips go to a cache folder outside the repository (the clips are not ours).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

Picture = NDArray[np.uint8]  # BGR, as OpenCV reads and writes it
TITLE_CARD_S = 2.0


@dataclass(frozen=True)
class Transform:
    """A named transformation. `keep(i)` says whether input frame i is written; `paint`
    draws on each kept picture. The output runs at `fps_factor` × the input frame rate and
    its time t_out = t_in × `time_scale` + `offset_s` (a title card shifts everything)."""

    name: str
    description: str
    frame_step: float = 1.0  # keep every n-th frame (1.15: drop frames to speed up 15 %)
    fps_factor: float = 1.0  # output fps / input fps
    height: int | None = None  # rescale to this many pixels high
    paint: Callable[[Picture, dict[str, Any]], Picture] | None = None
    title_card_s: float = 0.0
    # Changes the picture's size or framing (a crop, a zoom-out), before `height` and `paint`;
    # every frame of a clip must come out the same size.
    reframe: Callable[[Picture, dict[str, Any]], Picture] | None = None

    @property
    def time_scale(self) -> float:
        """Output seconds per input second."""
        return 1.0 / (self.frame_step * self.fps_factor)

    def keeps(self, i: int) -> bool:
        """Is input frame i written? (frames round(k × frame_step), k = 0, 1, 2 …)"""
        if self.frame_step == 1.0:
            return True
        k = np.ceil((i - 0.5) / self.frame_step)
        return bool(round(k * self.frame_step) == i)


# -- painters ----------------------------------------------------------------------------
def _logo(img: Picture, _ctx: dict[str, Any]) -> Picture:
    """An opaque station logo in the top-right corner (a broadcaster's bug)."""
    import cv2

    h, w = img.shape[:2]
    bw, bh = max(40, w // 6), max(20, h // 10)
    x0, y0 = w - bw - w // 40, h // 40
    cv2.rectangle(img, (x0, y0), (x0 + bw, y0 + bh), (30, 120, 230), -1)
    cv2.circle(img, (x0 + bh // 2, y0 + bh // 2), bh // 3, (255, 255, 255), -1)
    cv2.putText(
        img, "TV", (x0 + bh, y0 + 3 * bh // 4), cv2.FONT_HERSHEY_SIMPLEX, bh / 40, (255,) * 3, 2
    )
    return img


def _scoreboard(img: Picture, _ctx: dict[str, Any]) -> Picture:
    """A dark scoreboard band across the top eighth of the picture, with text."""
    import cv2

    h, w = img.shape[:2]
    band = max(16, h // 8)
    img[:band] = (img[:band] * 0.2).astype(np.uint8)
    cv2.putText(
        img,
        "HEAT 3  LANE 2  00:27  187",
        (w // 30, 2 * band // 3),
        cv2.FONT_HERSHEY_SIMPLEX,
        band / 45,
        (255, 255, 255),
        2,
    )
    return img


def _vignette(img: Picture, ctx: dict[str, Any]) -> Picture:
    """Black outside a circle inscribed in the picture (the mask some phone apps add)."""
    import cv2

    mask = ctx.get("vignette")
    if mask is None or mask.shape[:2] != img.shape[:2]:
        h, w = img.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w]
        r = 0.5 * min(w, h)
        dist = np.hypot(xx - w / 2, yy - h / 2)
        # A soft 3 % edge, as real masks have.
        soft = np.clip((r - dist) / (0.03 * r), 0.0, 1.0)
        mask = np.repeat((255 * soft).astype(np.uint8)[:, :, None], 3, axis=2)
        ctx["vignette"] = mask
    out: Picture = np.asarray(cv2.multiply(img, mask, scale=1.0 / 255.0), dtype=np.uint8)
    return out


def _bystander(img: Picture, ctx: dict[str, Any]) -> Picture:
    """A still picture of another person pasted in, standing, on the side of the picture
    away from the jumper (ctx['bystander'] = (patch, x0, y0), prepared by the sweep)."""
    patch, x0, y0 = ctx["bystander"]
    ph, pw = patch.shape[:2]
    img[y0 : y0 + ph, x0 : x0 + pw] = patch
    return img


# -- footage we have not seen (docs/counting.md "Stress beyond the sweep") --------------------
TILT_DEG = 8.0  # a phone propped up slightly crooked
DIM_GAMMA, DIM_GAIN, DIM_FLOOR, DIM_NOISE = 1.6, 0.45, 12.0, 7.0  # a dim gym, pushed ISO
PORTRAIT = 9 / 16  # width / height of a phone held upright
WIDE_ZOOM = 0.5  # the jumper at half the size, in a wider shot
FEET_CUT = 0.15  # share of the picture cut off at the bottom: the feet of 2 clips of 9
NO_FEET_CUT = 1 / 3  # … and a third: every clip's feet (median 0.70–0.89 of the height)


def _mirror(img: Picture, _ctx: dict[str, Any]) -> Picture:
    """Left and right swapped (a front camera's selfie view)."""
    import cv2

    return np.asarray(cv2.flip(img, 1), dtype=np.uint8)


def _tilt(img: Picture, _ctx: dict[str, Any]) -> Picture:
    """Turned TILT_DEG about the centre (a camera propped up crooked); black corners."""
    import cv2

    h, w = img.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), TILT_DEG, 1.0)
    return np.asarray(cv2.warpAffine(img, turn, (w, h), borderValue=(0, 0, 0)), dtype=np.uint8)


def _dim(img: Picture, ctx: dict[str, Any]) -> Picture:
    """Dim, flat gym lighting: darker mid-tones (gamma), contrast squeezed into a narrow
    band above a raised black level, and the sensor noise a phone adds when it pushes the
    gain (Gaussian, new every frame, seeded so the clip is the same every time)."""
    lut = ctx.get("dim_lut")
    if lut is None:
        x = np.arange(256, dtype=np.float64) / 255.0
        lut = DIM_FLOOR + 255.0 * DIM_GAIN * x**DIM_GAMMA
        ctx["dim_lut"] = lut
    rng = ctx.setdefault("dim_rng", np.random.default_rng(11))
    noisy = lut[img] + rng.normal(0.0, DIM_NOISE, img.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _blur(img: Picture, ctx: dict[str, Any]) -> Picture:
    """Motion blur of a long exposure (a phone in dim light exposes the whole 1/30 s): each
    picture is the mean of this frame and the one before, so limbs and rope smear."""
    previous = ctx.get("blur_previous")
    ctx["blur_previous"] = img.copy()
    if previous is None or previous.shape != img.shape:
        return img
    mean = (img.astype(np.uint16) + previous.astype(np.uint16) + 1) // 2
    return mean.astype(np.uint8)


def _portrait(img: Picture, ctx: dict[str, Any]) -> Picture:
    """A phone held upright: a 9:16 slice of the picture, full height, centred on the jumper
    (ctx['centre_x'], a fraction of the width, as whoever films keeps them in the middle;
    the picture's centre without it). A picture already that narrow is kept."""
    h, w = img.shape[:2]
    cw = min(w, round(h * PORTRAIT / 2) * 2)
    centre = float(ctx.get("centre_x", 0.5)) * w
    x0 = int(np.clip(round(centre - cw / 2), 0, w - cw))
    return np.ascontiguousarray(img[:, x0 : x0 + cw])


def _wide(img: Picture, ctx: dict[str, Any]) -> Picture:
    """A wider shot: the picture shrunk to WIDE_ZOOM of its size in the middle of a plain
    wall (the first frame's mean colour), so the jumper is small."""
    import cv2

    h, w = img.shape[:2]
    small = cv2.resize(
        img, (round(w * WIDE_ZOOM), round(h * WIDE_ZOOM)), interpolation=cv2.INTER_AREA
    )
    colour = ctx.setdefault("wide_colour", img.reshape(-1, 3).mean(axis=0).astype(np.uint8))
    canvas = np.empty_like(img)
    canvas[:] = colour
    sh, sw = small.shape[:2]
    y0, x0 = (h - sh) // 2, (w - sw) // 2
    canvas[y0 : y0 + sh, x0 : x0 + sw] = small
    return canvas


def _cut_bottom(share: float) -> Callable[[Picture, dict[str, Any]], Picture]:
    """The bottom `share` of the picture cut off (a camera aimed too high: no feet)."""

    def cut(img: Picture, _ctx: dict[str, Any]) -> Picture:
        h = img.shape[0]
        return np.ascontiguousarray(img[: h - round(share * h / 2) * 2])

    return cut


TRANSFORMS: dict[str, Transform] = {
    t.name: t
    for t in (
        Transform("every2", "every 2nd frame (half the frame rate)", 2.0, 0.5),
        Transform("every3", "every 3rd frame (a third of the frame rate)", 3.0, 1.0 / 3.0),
        Transform("h360", "downscaled to 360 px high", height=360),
        Transform("fast15", "sped up 15 % by dropping frames", frame_step=1.15),
        Transform("logo", "a static logo in a corner", paint=_logo),
        Transform("scoreboard", "a scoreboard band across the top", paint=_scoreboard),
        Transform("vignette", "a circular vignette", paint=_vignette),
        Transform("bystander", "a second person pasted in, standing still", paint=_bystander),
        Transform("title", f"a {TITLE_CARD_S:g} s title card in front", title_card_s=TITLE_CARD_S),
        Transform(
            "title+vignette",
            "a title card, then the clip through a circular vignette",
            paint=_vignette,
            title_card_s=TITLE_CARD_S,
        ),
        Transform("mirror", "mirrored left to right (a selfie camera)", paint=_mirror),
        Transform("tilt8", f"the camera tilted {TILT_DEG:g} degrees", paint=_tilt),
        Transform("dim", "dim, low-contrast gym lighting with sensor noise", paint=_dim),
        Transform("blur", "motion blur of a 1/30 s exposure (two frames blended)", paint=_blur),
        Transform("portrait", "a 9:16 portrait phone video, on the jumper", reframe=_portrait),
        Transform("wide", f"a wide shot: the picture at x{WIDE_ZOOM:g} on a wall", reframe=_wide),
        Transform(
            "feetcut", f"the bottom {100 * FEET_CUT:g} % cut off", reframe=_cut_bottom(FEET_CUT)
        ),
        Transform("nofeet", "the bottom third cut off (no feet)", reframe=_cut_bottom(NO_FEET_CUT)),
    )
}


def title_card(width: int, height: int) -> Picture:
    import cv2

    card = np.full((height, width, 3), (60, 20, 10), dtype=np.uint8)
    scale = height / 300
    for k, line in enumerate(("JUMP ROPE", "FREESTYLE FINALS")):
        cv2.putText(
            card,
            line,
            (width // 10, height // 3 + k * int(60 * scale)),
            cv2.FONT_HERSHEY_SIMPLEX,
            1.2 * scale,
            (255, 255, 255),
            2,
        )
    return card


def write_variant(
    src: Path, out: Path, transform: Transform, ctx: dict[str, Any] | None = None
) -> Path:
    """Write `src` transformed to `out` (mp4v); returns `out`. Reuses an existing `out`."""
    import cv2

    if out.is_file() and out.stat().st_size > 0:
        return out
    ctx = {} if ctx is None else ctx
    cap = cv2.VideoCapture(str(src))
    if not cap.isOpened():
        raise FileNotFoundError(f"{src}: cannot open")
    fps = float(cap.get(cv2.CAP_PROP_FPS))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.stem + ".part" + out.suffix)
    out_fps = fps * transform.fps_factor
    writer: Any = None
    size = (0, 0)
    i = 0
    while True:
        ok, read = cap.read()
        if not ok:
            break
        if transform.keeps(i):
            img: Picture = np.asarray(read, dtype=np.uint8)
            if transform.reframe is not None:
                img = transform.reframe(img, ctx)
            if writer is None:
                size = _output_size(img.shape[1], img.shape[0], transform)
                writer = cv2.VideoWriter(
                    str(partial), cv2.VideoWriter.fourcc(*"mp4v"), out_fps, size
                )
                for _ in range(round(transform.title_card_s * out_fps)):
                    writer.write(title_card(*size))
            if (img.shape[1], img.shape[0]) != size:
                img = np.asarray(cv2.resize(img, size, interpolation=cv2.INTER_AREA), np.uint8)
            if transform.paint is not None:
                img = transform.paint(img, ctx)
            writer.write(img)
        i += 1
    cap.release()
    if writer is None:
        raise FileNotFoundError(f"{src}: no frames")
    writer.release()
    partial.replace(out)
    return out


def _output_size(width: int, height: int, transform: Transform) -> tuple[int, int]:
    """(width, height) written: `transform.height` high when given, the width kept even."""
    if transform.height is None:
        return width, height
    return round(width * transform.height / height / 2) * 2, transform.height
