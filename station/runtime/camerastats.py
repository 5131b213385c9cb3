"""What the camera really delivered: inference rate, dropped frames, count latency.

Worked out from the PoseFrames alone (pure: no threads, no wall clock), so the same figures come
out of a live run, a replay and a test. Each PoseFrame carries the index of the picture it was
inferred from; a gap between consecutive indices is pictures the camera captured that never
reached the model, because a slow model (or `pose.max_fps`) was still busy with an older one.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field

RATE_WINDOW_S = 5.0
"""The live inference rate is measured over this trailing window: long enough to be steady at
5 frames/s, short enough to show a slowdown within seconds."""

LATENCY_KEPT = 200
"""Count latencies kept for the median (a few minutes of jumping)."""


@dataclass
class CameraStats:
    """Running figures for one period (the whole run, or one member's session)."""

    started_t: float | None = None
    last_t: float | None = None
    inferred: int = 0
    dropped: int = 0
    _last_index: int | None = None
    _window: deque[float] = field(default_factory=deque)  # the last RATE_WINDOW_S of frames
    slowest: float | None = None  # the lowest rate over any RATE_WINDOW_S of the period
    latencies_s: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_KEPT))

    def add_frame(self, t: float, index: int) -> None:
        if self.started_t is None:
            self.started_t = t
        if self._last_index is not None and index > self._last_index:
            self.dropped += index - self._last_index - 1
        # A lower index: the camera was reopened and counts from 0 again; no gap to count.
        self._last_index = index
        self.inferred += 1
        self.last_t = t
        self._window.append(t)
        while self._window[0] <= t - RATE_WINDOW_S:
            self._window.popleft()
        self._track_slowest(t)

    def _track_slowest(self, t: float) -> None:
        """The lowest inference rate over any RATE_WINDOW_S of the period so far: the frames
        in the window ending at each frame, over the window's length (a stall with no frames
        at all lowers it, which a rate over the frames' own span would hide). A mean rate
        hides a stretch where other work took the CPU; the counter there sees fewer frames,
        which costs contacts (docs/camera.md)."""
        assert self.started_t is not None
        if t - self.started_t >= RATE_WINDOW_S:
            rate = len(self._window) / RATE_WINDOW_S
            self.slowest = rate if self.slowest is None else min(self.slowest, rate)

    def add_count_latency(self, seconds: float) -> None:
        """Frame captured → the count it produced on screen."""
        self.latencies_s.append(max(0.0, seconds))

    def rate(self, now: float | None = None) -> float:
        """Inferences per second over the trailing window (or the whole period when shorter)."""
        if not self._window:
            return 0.0
        # The window holds the frames of the RATE_WINDOW_S up to the last one; `now` is never
        # before the last frame (its capture time), so the trailing window ends inside it.
        end = self._window[-1] if now is None else now
        recent = [t for t in self._window if t > end - RATE_WINDOW_S]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(1e-9, recent[-1] - recent[0])

    def mean_rate(self) -> float:
        """Inferences per second over the whole period."""
        if self.started_t is None or self.last_t is None or self.inferred < 2:
            return 0.0
        return (self.inferred - 1) / max(1e-9, self.last_t - self.started_t)

    @property
    def dropped_share(self) -> float:
        total = self.inferred + self.dropped
        return self.dropped / total if total else 0.0

    def latency_ms(self) -> float | None:
        if not self.latencies_s:
            return None
        return 1000.0 * statistics.median(self.latencies_s)

    def figures(self, now: float | None = None) -> dict[str, float | int | None]:
        latency = self.latency_ms()
        return {
            "inference_fps": round(self.rate(now), 2),
            "inference_fps_mean": round(self.mean_rate(), 2),
            "inference_fps_min": None if self.slowest is None else round(self.slowest, 2),
            "frames_inferred": self.inferred,
            "frames_dropped": self.dropped,
            "count_latency_ms": None if latency is None else round(latency, 1),
        }
