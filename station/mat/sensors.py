"""Mat sensors (placeholder until the mat room lands)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from station.hardware import HardwareMissing, Source


def open_mat_sensor(mat: Mapping[str, Any], pin_factory: Any) -> Source:
    raise HardwareMissing("mat", "not yet built", "run with --simulate")
