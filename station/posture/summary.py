"""Per-fault totals over a judged recording: the "faults" part of `station analyze --json`.

Each judged frame's light state holds from its timestamp until the next frame's; the last
frame holds for the median frame interval (or until `end_t` when given).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from station.events import FAULTS, LightState
from station.posture.judge import Lights


@dataclass
class FaultSummary:
    """Seconds spent in each state, and the fault episodes as (start_s, end_s)."""

    ok_s: float = 0.0
    warn_s: float = 0.0
    fault_s: float = 0.0
    unknown_s: float = 0.0
    episodes: list[tuple[float, float]] = field(default_factory=list)

    @property
    def total_s(self) -> float:
        return self.ok_s + self.warn_s + self.fault_s + self.unknown_s

    def share(self, state: LightState) -> float:
        """Fraction of the time in `state` (0 when nothing was judged)."""
        total = self.total_s
        return getattr(self, f"{state}_s") / total if total > 0 else 0.0

    def as_json(self, ndigits: int = 3) -> dict[str, Any]:
        return {
            "fault_s": round(self.fault_s, ndigits),
            "warn_s": round(self.warn_s, ndigits),
            "unknown_s": round(self.unknown_s, ndigits),
            "episodes": [[round(a, ndigits), round(b, ndigits)] for a, b in self.episodes],
        }


def summarise(
    judged: Iterable[Lights], *, end_t: float | None = None, t0: float | None = None
) -> dict[str, FaultSummary]:
    """fault -> FaultSummary over a sequence of `PostureJudge.update` results (time order).

    Times in the episodes are relative to `t0` (default: the first frame's time)."""
    frames = list(judged)
    out = {f: FaultSummary() for f in FAULTS}
    if not frames:
        return out
    ts = np.array([f.t for f in frames], dtype=np.float64)
    origin = float(ts[0]) if t0 is None else t0
    step = float(np.median(np.diff(ts))) if len(ts) > 1 else 0.0
    ends = np.append(ts[1:], end_t if end_t is not None else ts[-1] + step)
    for fault in FAULTS:
        summary = out[fault]
        open_since: float | None = None
        for lights, start, end in zip(frames, ts, ends, strict=True):
            state = lights.lights[fault].state if fault in lights.lights else "unknown"
            span = max(0.0, float(end - start))
            setattr(summary, f"{state}_s", getattr(summary, f"{state}_s") + span)
            if state == "fault" and open_since is None:
                open_since = float(start)
            elif state != "fault" and open_since is not None:
                summary.episodes.append((open_since - origin, float(start) - origin))
                open_since = None
        if open_since is not None:
            summary.episodes.append((open_since - origin, float(ends[-1]) - origin))
    return out


def faults_json(summaries: dict[str, FaultSummary]) -> dict[str, dict[str, Any]]:
    """The `faults` object of `station analyze --json`."""
    return {fault: summaries[fault].as_json() for fault in FAULTS}
