"""Which captured frames inference takes when `[pose] max_fps` caps it: pure, on capture times.

A slow model that needs exactly 1/max_fps per frame, fed by a camera, takes frames in a steady
pattern: at 30 frames/s and a 15/s model every 2nd frame, at 8/s every 4th or 3rd frame in a
fixed rhythm. An earlier cap waited 1/max_fps of *wall time* after each inference started and
then took whatever frame was newest. Its waits overshoot by a millisecond or more and a frame's
arrival jitters with its decoding, so every decision was a race between two frames: the gaps
came out 1, 2 or 3 frames in an irregular mix, the rate below the cap, and on the fast
speed-step clip `speed_jp_2` the live count at 15/s lost about a sixth of the contacts that the
same counter finds on every 2nd frame (`python -m station.runtime.livereplay`, docs/camera.md).

:class:`InferenceCap` decides on the frames' own capture times instead (the camera's clock, not
the inference thread's), keeping a grid of due times 1/max_fps apart: a frame is taken when it
is the first one on or after its due time, less half a frame period (so a frame a hair early
through timestamp jitter still counts). Without jitter the pattern is exactly that of the
steady slow model; the cap never drifts below its rate, and a slower machine (inference longer
than 1/max_fps) still drops frames in the mailbox as before.

A real Pi's model does not keep a grid: its time per frame varies with the picture (a fresh
person detection costs more than tracking) and with the other threads on the same cores, so it
takes the newest frame whenever it is done, at irregular gaps. A steady 8/s sampling a
7 contacts/s speed-step aliases (the same phase of each step, again and again), which an
irregular one does not. With `jitter` > 0 the cap emulates that model: after each frame taken
the next is due one model time later, drawn from a gamma distribution of mean 1/max_fps and
coefficient of variation `jitter`, from a seeded generator (a run is repeatable); there is no
grid then, and the average rate is still max_fps (the half-frame slack offsets the wait for the
next frame).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class InferenceCap:
    """Feed every captured frame's time to :meth:`admits`, in order; True: infer it.

    `frame_period_s` is the camera's frame period when known (a video file's); otherwise it
    is learnt from the spacing of the frames offered (the shortest seen recently). `jitter`:
    the emulated model's time per frame varies by this coefficient of variation (0: steady),
    drawn with `seed`."""

    max_fps: float
    frame_period_s: float = 0.0
    jitter: float = 0.0
    seed: int = 0
    _rng: np.random.Generator = field(init=False, repr=False)
    _due: float | None = None
    _last_t: float | None = None
    _spacing: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"max_fps jitter {self.jitter} is not a coefficient in [0, 1]")
        self._rng = np.random.default_rng(self.seed)

    @property
    def period_s(self) -> float:
        return 1.0 / self.max_fps if self.max_fps > 0 else 0.0

    def admits(self, t: float) -> bool:
        frame = self._frame_period(t)
        period = self.period_s
        if period <= 0:
            return True
        slack = 0.5 * frame + 1e-6  # a frame exactly half a frame early: taken
        if self._due is not None and t < self._due - slack:
            return False
        if self.jitter > 0:
            shape = 1.0 / self.jitter**2  # gamma: mean 1, coefficient of variation `jitter`
            self._due = t + period * float(self._rng.gamma(shape, 1.0 / shape))
            return True
        due = t if self._due is None else self._due
        # The next due time is one cap period on, on the grid (no drift); if this frame came
        # later than that (the camera stalled, or the cap is below the camera's own rate by
        # less than a frame), the grid starts again from this frame.
        self._due = due + period
        if t >= self._due - slack:
            self._due = t + period
        return True

    def _frame_period(self, t: float) -> float:
        if self.frame_period_s > 0:
            return self.frame_period_s
        if self._last_t is not None and t > self._last_t:
            gap = t - self._last_t
            # the shortest recent spacing, relaxed slowly upward (a camera's rate may drop)
            self._spacing = gap if self._spacing <= 0 else min(gap, 1.05 * self._spacing)
        self._last_t = t
        return self._spacing
