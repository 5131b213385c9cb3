"""Body weight from impulse-momentum: the member's own motion fixes the scale.

Newton: the mat's force F(t) = m·(g + a(t)). Over any stretch that starts and ends with the
centre of mass (CoM) at the same velocity, the mean force is exactly m·g, the body weight; and
the CoM of someone who stays on the mat cannot drift away, so twice integrated the force is
m·g·t²/2 plus a bounded wobble. Two kinds of evidence follow, both linear in the unknowns
(body weight W, the initial momentum p, the initial position q):

* **flight apexes** (exact): a jump's flight is ballistic, so half-way between take-off and
  touchdown the CoM is at rest. The impulse up to an apex is W·t + p (a *velocity row*,
  standard error ``APEX_SD_M_S``: timing within a millisecond or two, and a touchdown a little
  lower than the take-off).
* **standing** (approximate): while the member stands, sways, rocks or shifts weight between
  feet, the CoM stays within a few centimetres, so the double integral of the force is
  W·t²/2 + p·t + q (a *position row* per chunk of standing, standard error ``STAND_SD_M``).

A weighted least-squares fit of W, p and q to the rows of the last ``WINDOW_S`` (so slow
sensor drift is followed rather than averaged in) gives the weight and its uncertainty. Sway
that makes the mean of a short quiet stretch wrong by several per cent (the force wanders
±5 % at 0.3-1 Hz) is a bounded position wobble here, and averages out over a few seconds;
rope jumping gives an exact apex every cycle.

Pure code on exact sums of the samples (index time, as the pipeline keeps them).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

G = 9.81

APEX_SD_M_S = 0.03
"""Standard error of "the CoM is at rest half-way through a flight" (m/s): ±1.5 ms of timing
at each end (0.015 m/s each), and a landing CoM up to ~3 cm lower than at take-off."""

STAND_SD_M = 0.05
"""A priori spread of the CoM's height while standing (m): sway, rocking and settling stay
within a few centimetres (a ±5 % force sway at 1 Hz moves the CoM ±1.2 cm; at 0.3 Hz ±14 cm,
which the residuals then show and the uncertainty grows accordingly)."""

WINDOW_S = 30.0
"""The fit uses the rows of this last stretch of the stay: long enough to average sway out,
short enough to follow a sensor's slow gain drift (FSR creep) instead of smearing it."""

STAND_BAND = 0.3
"""A chunk of ground contact is standing when its mean is within this share of the weight
(jump contacts average 1.5-2.5 body weights; stepping on and off, well under)."""

STEP_OFF_GUARD_S = 2.0
"""When the member steps off, the rows of this last stretch before the mat emptied are dropped:
stepping off puts part of the weight on the floor for up to a second or two, which the mat
does not see and would read as the member falling."""


BLOCK_S = 2.0
"""The honest uncertainty is a delete-a-block jackknife over blocks of this many seconds of
rows: longer than a standing member's slow wobble (sway at 0.3-1 Hz, a squat held for a
second), so blocks are nearly independent where the rows within one are not."""

MIN_BLOCKS = 5
"""A short stay is cut into at least this many blocks (a jackknife of two blocks says little)."""


_Rows = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]
"""A fit's weighted design matrix, right-hand side and each row's time (s)."""


@dataclass(frozen=True)
class WeightEstimate:
    newtons: float
    uncertainty_n: float  # one standard error
    source: str  # "impulse-momentum" (or the pipeline's "quiet standing")
    apexes: int
    standing_s: float


class ImpulseWeight:
    """Rows for one stay on the mat; `estimate()` fits them."""

    def __init__(self, rate_hz: float, chunk_s: float) -> None:
        self.rate = rate_hz
        self.chunk_s = chunk_s
        self._g0: int | None = None  # reference sample: where the stay began
        self._c0 = 0.0  # the running sums there
        self._cc0 = 0.0
        # (g, kind, value): kind 0 = position row (value cum2), 1 = velocity row (value cum)
        self._rows: deque[tuple[float, int, float]] = deque()
        self._cached: WeightEstimate | None = None
        self._dirty = False
        self._last_fit: _Rows | None = None  # the rows of the cached estimate's fit

    def reset(self, g0: int | None = None, cum: float = 0.0, cum2: float = 0.0) -> None:
        """A new stay from sample `g0` (None: no stay), with the running sums there."""
        self._g0, self._c0, self._cc0 = g0, cum, cum2
        self._rows.clear()
        self._cached = None
        self._last_fit = None
        self._dirty = False

    @property
    def rows(self) -> int:
        return len(self._rows)

    def add_standing(self, g: int, cum: float, cum2: float) -> None:
        """Chunk ending before sample `g` was standing. `cum` = Σ F over samples < g, `cum2` =
        Σ_{k≤g} cum(k) (exact running sums, newtons × samples)."""
        if self._g0 is None:
            return
        # position relative to the reference: cum2(g) - cum2(g0) - cum(g0)·(g - g0)
        self._rows.append((g, 0, (cum2 - self._cc0) - self._c0 * (g - self._g0_int)))
        self._trim(g)

    def add_apex(self, g: float, cum: float) -> None:
        """The CoM was at rest at (fractional) sample `g`; `cum` = Σ F before it."""
        if self._g0 is None:
            return
        self._rows.append((g, 1, cum - self._c0))
        self._trim(g)

    def drop_after(self, g: float) -> None:
        """Forget rows after sample `g` (stepping off: see STEP_OFF_GUARD_S)."""
        kept = [r for r in self._rows if r[0] <= g]
        if len(kept) >= 3:
            self._rows = deque(kept)
            self._dirty = True

    def estimate(self) -> WeightEstimate | None:
        if not self._dirty:
            return self._cached
        self._dirty = False
        self._cached = self._fit()
        return self._cached

    # ------------------------------------------------------------------

    @property
    def _g0_int(self) -> int:
        assert self._g0 is not None
        return self._g0

    def _trim(self, g: float) -> None:
        self._dirty = True
        keep = int(WINDOW_S * self.rate)
        while self._rows and self._rows[0][0] < g - keep:
            self._rows.popleft()

    def _fit(self) -> WeightEstimate | None:
        rows = list(self._rows)
        n_pos = sum(1 for r in rows if r[1] == 0)
        n_vel = len(rows) - n_pos
        if n_pos < 3 and n_vel < 2:
            return None
        rate = self.rate
        g0 = self._g0_int
        # Unknowns W (N), p (N·s), q (N·s²); time u in seconds from the reference. Each row is
        # divided by its a-priori standard error (m·σ; the mass m is common to all rows), so
        # residuals divided by the fitted mass are in standard errors.
        a = np.empty((len(rows), 3))
        b = np.empty(len(rows))
        for i, (g, kind, value) in enumerate(rows):
            u = (g - g0) / rate
            if kind == 0:
                a[i] = (u * u / 2 + u / (2 * rate), u, 1.0)
                a[i] /= STAND_SD_M
                b[i] = value / (rate * rate * STAND_SD_M)
            else:
                a[i] = (u / APEX_SD_M_S, 1.0 / APEX_SD_M_S, 0.0)
                b[i] = value / (rate * APEX_SD_M_S)
        sol, _, rank, _ = np.linalg.lstsq(a, b, rcond=None)
        w = float(sol[0])
        if not math.isfinite(w) or w <= 0 or rank < 2:
            return None
        mass = w / G
        resid = (b - a @ sol) / mass
        dof = len(b) - rank
        s2 = float(resid @ resid) / dof if dof > 0 else 1.0
        cov = np.linalg.pinv(a.T @ a)
        sd = mass * math.sqrt(max(0.0, float(cov[0, 0])) * max(1.0, s2))
        self._last_fit = (a, b, np.fromiter((r[0] for r in rows), np.float64, len(rows)) / rate)
        return WeightEstimate(w, sd, "impulse-momentum", n_vel, n_pos * self.chunk_s)

    def honest(self) -> WeightEstimate | None:
        """The estimate with an honest uncertainty: the larger of the fit's own standard error
        (which treats every row as independent) and a delete-a-block jackknife's
        (:func:`block_jackknife_sd`). Computed on demand, for what is reported (a stay's
        final weight, the session log); the pipeline's own choices use the fit's."""
        est = self.estimate()
        if est is None or self._last_fit is None:
            return est
        jack = block_jackknife_sd(*self._last_fit)
        if math.isnan(jack) or jack <= est.uncertainty_n:
            return est
        return replace(est, uncertainty_n=jack)


def block_jackknife_sd(
    a: NDArray[np.float64], b: NDArray[np.float64], times_s: NDArray[np.float64]
) -> float:
    """The weight's standard error by a delete-a-block jackknife: the rows cut into blocks of
    BLOCK_S, the fit redone without each block in turn (from the normal equations, so each
    refit is a 3×3 solve), and the spread of those fits. Rows within a block are correlated
    (the CoM of a standing member wanders slowly, and all of a stretch's position rows then
    err together), which the fit's own standard error ignores: on a member who held a squat
    before jumping it was 8× too small. NaN when fewer than 3 blocks can be left out."""
    span = float(times_s[-1] - times_s[0]) if len(times_s) else 0.0
    length = max(min(BLOCK_S, span / MIN_BLOCKS), 1e-9)
    block = np.floor((times_s - times_s[0]) / length).astype(np.int64)
    ata = a.T @ a
    atb = a.T @ b
    needed = np.linalg.matrix_rank(ata)  # 2 when there are flights only (no position)
    fits = []
    for k in np.unique(block):
        rows = block == k
        ak, bk = a[rows], b[rows]
        m = ata - ak.T @ ak
        if np.linalg.matrix_rank(m) < needed:
            continue  # without this block the rest cannot fix the unknowns
        fits.append(float(np.linalg.lstsq(m, atb - ak.T @ bk, rcond=None)[0][0]))
    n = len(fits)
    if n < 3:
        return math.nan
    spread = np.asarray(fits) - np.mean(fits)
    return math.sqrt((n - 1) / n * float(spread @ spread))
