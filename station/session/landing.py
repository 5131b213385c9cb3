"""The Landing light from the mat: hard landings judged over a window of jumps.

One hard landing is a slip; a run of them is a habit worth a light. The light follows the share
of warn/hard landings among those in the last `window_s` seconds, and a new state must hold for
the preset's `hold_s` before the light changes, like the camera's lights.
"""

from __future__ import annotations

from collections import deque

from station.events import Landing, LightState

SHARE_TO_LIGHT = 0.5
"""At least half the recent landings at a level puts the light at that level."""


class LandingLight:
    def __init__(self, window_s: float, hold_s: float) -> None:
        self.window_s = window_s
        self.hold_s = hold_s
        self.reset()

    def reset(self) -> None:
        self._recent: deque[tuple[float, bool, bool]] = deque()  # t, warn, hard
        self.state: LightState = "unknown"
        self._candidate: LightState | None = None
        self._candidate_since = 0.0

    def add(self, landing: Landing) -> None:
        self._recent.append((landing.t, landing.warn or landing.hard, landing.hard))

    def update(self, t: float) -> LightState:
        while self._recent and self._recent[0][0] < t - self.window_s:
            self._recent.popleft()
        target = self._target()
        if target == self.state:
            self._candidate = None
        elif target != self._candidate:
            self._candidate, self._candidate_since = target, t
        # Leaving `unknown` is not a change of verdict, so it needs no hold.
        if self._candidate is not None and (
            self.state == "unknown" or t - self._candidate_since >= self.hold_s
        ):
            self.state, self._candidate = self._candidate, None
        return self.state

    def _target(self) -> LightState:
        if len(self._recent) < 2:
            return self.state if self.state != "unknown" or not self._recent else "ok"
        n = len(self._recent)
        hard = sum(1 for _, _, h in self._recent if h) / n
        warn = sum(1 for _, w, _ in self._recent if w) / n
        if hard >= SHARE_TO_LIGHT:
            return "fault"
        if warn >= SHARE_TO_LIGHT:
            return "warn"
        return "ok"
