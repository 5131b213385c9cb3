"""Camera sources (placeholder until the camera room lands)."""

from __future__ import annotations

from typing import Any

from station.hardware import HardwareMissing, Source


def open_pose_pipeline(config: Any) -> Source:
    raise HardwareMissing("camera", "not yet built", "run with --simulate")
