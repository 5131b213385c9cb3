"""Can the camera see what it needs? The framing judgment, one home for `station analyze`, the
live station and `station diag`.

Pure: plain functions and a small running window over PoseFrames, time taken from the frames
and the caller (no wall clock), so a whole clip, a live camera and a test give the same answer.

The one check, and why it is the one: the camera counter reads the feet (bounce: the lowest
foot; alternation: left minus right). With both feet out of the picture (a camera aimed too
high, a member standing too close) MediaPipe extrapolates them below the edge, still calling
them visible, and the count came out about half the truth on 7 of 9 clips (docs/counting.md
"Stress beyond the sweep", `nofeet`: summed error 40.8 %, `speed_hiro_1` 34/78); the front
view's back light needs the ankles too (`nofeet` back 64.6 % against 91.7 %, docs/counting.md).
Checks that no measured failure supports are left out: the head was never cut off in any
stress run, and a small jumper (`wide`) failed on one clip of nine while smaller torsos counted
right on others (docs/counting.md "Feet out of view, live").
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from station.camcount.counter import LEFT_FOOT, RIGHT_FOOT
from station.events import PoseFrame

FEET = tuple(LEFT_FOOT + RIGHT_FOOT)
"""Both ankles, heels and toes: exactly what the camera counter reads."""

MIN_FEET_IN_PICTURE = 0.5
"""The feet inside the picture and visible in fewer than this share of the frames with a pose:
the camera count is not trusted. Not fitted: the shared clips' originals have 0.84-0.99 and
`nofeet` 0.00-0.08 (docs/counting.md), so anywhere between splits them; half says "the counter
saw the feet in most frames"."""

CLEAR_SHARE = 0.75
"""Live hysteresis: once flagged, the feet must be in view in this share of the window before
the flag clears, so a member near the edge does not make the banner blink."""

WINDOW_S = 2.0
"""The live judgment's trailing window: several jumps (a jump is 0.3-0.5 s), so one tucked
foot or a missed frame does not decide it; 10 frames at a Pi 4's 5 frames/s."""

MIN_WINDOW_FRAMES = 4
"""Frames with a pose the window needs before it judges anything (a member just stepping in)."""


def feet_in_picture(lm: NDArray[np.float64] | None, min_visibility: float) -> bool:
    """Both feet (ankles, heels, toes) inside the picture and visible in this one pose."""
    if lm is None or feet_outside_picture(lm):
        return False
    visibility = np.asarray(lm, dtype=np.float64)[list(FEET), 3]
    with np.errstate(invalid="ignore"):
        return bool((visibility >= min_visibility).all())


def feet_outside_picture(lm: NDArray[np.float64] | None) -> bool:
    """A foot landmark beyond the picture's edge (or not placed at all): the feet are out of
    the picture, not merely unseen in it (hidden, dark, a person too small for the model)."""
    if lm is None:
        return False
    feet = np.asarray(lm, dtype=np.float64)[list(FEET), :2]
    with np.errstate(invalid="ignore"):
        return not bool(((feet >= 0.0) & (feet <= 1.0)).all())


def feet_in_picture_share(frames: Iterable[PoseFrame], min_visibility: float) -> float | None:
    """Share of the frames with a pose whose feet are in the picture; None without a pose."""
    seen = [feet_in_picture(f.lm, min_visibility) for f in frames if f.lm is not None]
    return float(np.mean(seen)) if seen else None


def counting_trust(frames: Iterable[PoseFrame], min_visibility: float) -> dict[str, Any]:
    """A whole clip's verdict: {"feet_in_picture": share or None, "trusted": bool, "why":
    the reason when not} (`station analyze`'s "counting")."""
    return trust_from_share(feet_in_picture_share(frames, min_visibility))


def trust_from_share(share: float | None) -> dict[str, Any]:
    """The verdict of :func:`counting_trust` from a share already tallied (a live session)."""
    if share is None:
        return {"feet_in_picture": None, "trusted": False, "why": "no pose in any frame"}
    out: dict[str, Any] = {"feet_in_picture": round(share, 3), "trusted": True}
    if share < MIN_FEET_IN_PICTURE:
        out["trusted"] = False
        out["why"] = (
            f"the feet are out of the picture (or hidden) in {100 * (1 - share):.0f} % of the "
            "frames with a pose; the camera counter needs them, so the count is a guess"
        )
    return out


@dataclass(frozen=True)
class Framing:
    """The live judgment now. `feet_out`: the feet have been out of the picture for most of
    the window (with hysteresis); `feet_in_share`: the window's share, None when nobody has
    been in view long enough to judge."""

    feet_out: bool = False
    feet_in_share: float | None = None

    def as_json(self) -> dict[str, Any]:
        share = None if self.feet_in_share is None else round(self.feet_in_share, 2)
        return {"feet_out": self.feet_out, "feet_in_picture": share}


class FramingMonitor:
    """The running judgment over the last WINDOW_S of PoseFrames, plus a tally for a period
    (one member's session) that gives the same figure :func:`counting_trust` gives a clip."""

    def __init__(self, min_visibility: float, window_s: float = WINDOW_S) -> None:
        self.min_visibility = min_visibility
        self.window_s = window_s
        self._window: deque[tuple[float, bool]] = deque()
        self._feet_out = False
        self.posed = 0  # frames with a pose in the tallied period
        self.feet_in = 0  # … of which with the feet in the picture

    def update(self, frame: PoseFrame, tally: bool = True) -> Framing:
        """Add one frame (a frame without a pose adds nothing: nobody to judge); `tally`:
        it belongs to the tallied period (a member's session, not a passer-by after it)."""
        if frame.lm is not None:
            inside = feet_in_picture(frame.lm, self.min_visibility)
            self._window.append((frame.t, inside))
            if tally:
                self.posed += 1
                self.feet_in += inside
        return self.judge(frame.t)

    def judge(self, now: float) -> Framing:
        """The judgment at `now`: frames older than the window are forgotten, so a member who
        left (no pose any more) leaves no flag behind."""
        while self._window and self._window[0][0] <= now - self.window_s:
            self._window.popleft()
        if not self._window:
            self._feet_out = False  # nobody in view for a whole window: nothing to flag
            return Framing()
        if len(self._window) < MIN_WINDOW_FRAMES:
            # Too few frames to judge anew (a slow or loaded camera): keep the verdict, or
            # at under ~2 frames/s the banner would blink on and off with every frame.
            return Framing(self._feet_out, None)
        share = sum(inside for _, inside in self._window) / len(self._window)
        if self._feet_out:
            self._feet_out = share < CLEAR_SHARE
        else:
            self._feet_out = share < MIN_FEET_IN_PICTURE
        return Framing(self._feet_out, share)

    def period_share(self) -> float | None:
        """Share of the tallied period's frames with a pose whose feet were in the picture."""
        return self.feet_in / self.posed if self.posed else None

    def start_period(self) -> None:
        """A new member: the tally starts again (the running window keeps going)."""
        self.posed = self.feet_in = 0
