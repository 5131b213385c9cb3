"""The one switch between real and simulated hardware.

:func:`select_hardware` is the only place that decides whether the station talks to real
devices or to the simulator, like gpiozero's pin factory: simulation happens only when asked
(`--simulate` or STATION_SIMULATE=1), never as a silent fallback. On a Pi with a device
missing, the room's opener raises :class:`HardwareMissing` naming the device and the fix.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from station.events import Event

TRUTHY = {"1", "true", "yes", "on"}


class HardwareMissing(RuntimeError):
    """A device the config asks for is not there. `fix` says what to do about it."""

    def __init__(self, device: str, problem: str, fix: str) -> None:
        self.device = device
        self.problem = problem
        self.fix = fix
        super().__init__(f"{device}: {problem}. Fix: {fix}")


class Source(Protocol):
    """Anything that produces timestamped events: a sensor, a camera pipeline, a replay.

    `events()` yields events in time order; a live source blocks until data arrives and ends
    when closed; a replay or simulated source yields as fast as it is consumed (`realtime` is
    False), so a whole session can run faster than real time against a ManualClock.
    """

    name: str
    realtime: bool

    def events(self) -> Iterator[Event]: ...

    def close(self) -> None: ...


def simulation_requested(flag: bool = False) -> bool:
    return flag or os.environ.get("STATION_SIMULATE", "").strip().lower() in TRUTHY


def pi_model(root: Path = Path("/")) -> str | None:
    """'Raspberry Pi 5 Model B Rev 1.0' on a Pi, None elsewhere."""
    try:
        model = (root / "proc/device-tree/model").read_bytes().rstrip(b"\0").decode()
    except OSError:
        return None
    return model if "Raspberry Pi" in model else None


@dataclass
class Hardware:
    """What the station runs on: the pin factory for GPIO outputs and openers for the sources.

    Openers return None when the config says the device is not fitted ('none').
    """

    simulate: bool
    pin_factory: Any
    config: Any  # station.config.loader.Config
    script: Path | None = None
    seed: int = 0
    clock: Any = None  # simulated sources pace themselves against it; None: as fast as read

    def open_mat(self) -> Source | None:
        if self.config["mat"]["sensor"] == "none":
            return None
        if self.simulate:
            from station.sim.sources import simulated_mat

            # Paced live, the script loops (a kiosk demo); replayed fast, it runs once.
            live = self.clock is not None
            return simulated_mat(self.config, self.script, self.seed, clock=self.clock, loop=live)
        from station.mat.sensors import open_mat_sensor

        return open_mat_sensor(self.config["mat"], self.pin_factory)

    def open_camera(self) -> Source | None:
        """A source of PoseFrame events: simulated landmarks, or camera frames through the
        pose backend."""
        if self.config["camera"]["source"] == "none":
            return None
        if self.simulate:
            from station.sim.sources import simulated_pose

            live = self.clock is not None
            return simulated_pose(self.config, self.script, self.seed, clock=self.clock, loop=live)
        from station.camera.sources import open_pose_pipeline

        return open_pose_pipeline(self.config)


def select_hardware(
    config: Any, *, simulate: bool = False, script: Path | None = None, seed: int = 0
) -> Hardware:
    simulate = simulation_requested(simulate)
    return Hardware(simulate, pin_factory(simulate), config, script, seed)


def pin_factory(simulate: bool) -> Any:
    """gpiozero's MockFactory (PWM-capable, for tonal buzzers) when simulating, else lgpio."""
    if simulate:
        from gpiozero.pins.mock import MockFactory, MockPWMPin

        return MockFactory(pin_class=MockPWMPin)
    try:
        from gpiozero.pins.lgpio import LGPIOFactory

        return LGPIOFactory()
    except Exception as exc:  # ImportError off the Pi, OSError without /dev/gpiochip*
        where = pi_model() or "this machine (not a Raspberry Pi)"
        raise HardwareMissing(
            "GPIO",
            f"cannot open the GPIO chip on {where} ({exc})",
            "on a Pi: `sudo apt install python3-lgpio` and add the service user to the 'gpio' "
            "group; elsewhere run with --simulate",
        ) from exc
