"""Simulated sources for the hardware switch (placeholder until the simulator lands)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from station.hardware import HardwareMissing, Source


def simulated_mat(config: Any, script: Path | None, seed: int) -> Source:
    raise HardwareMissing("simulated mat", "not yet built", "wait for the simulator")


def simulated_pose(config: Any, script: Path | None, seed: int) -> Source:
    raise HardwareMissing("simulated camera", "not yet built", "wait for the simulator")
