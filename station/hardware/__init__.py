"""The one switch between real and simulated hardware.

:func:`select_hardware` is the only place that decides whether the station talks to real
devices or to the simulator, like gpiozero's pin factory: simulation happens only when asked
(`--simulate` or STATION_SIMULATE=1 for everything; `--simulate mat,gpio` or
STATION_SIMULATE=mat,gpio for some devices, the others real), never as a silent fallback. GPIO
is opened only when something needs it. On a Pi with a device missing, the room's opener
raises :class:`HardwareMissing` naming the device and the fix.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from station.clock import Clock
from station.hardware.protocols import HardwareMissing, Source
from station.mat.settings import MatSettings

if TYPE_CHECKING:
    from station.config.loader import Config

__all__ = ["HardwareMissing", "Source"]  # re-exported: defined in station.hardware.protocols

log = logging.getLogger(__name__)

TRUTHY = {"1", "true", "yes", "on"}
FALSY = {"0", "false", "no", "off"}


DEVICES = ("mat", "camera", "gpio")
"""What can be simulated one by one: `--simulate mat,gpio` simulates those two and opens the
rest from the config."""


def parse_devices(value: str) -> frozenset[str] | None:
    """ "mat,gpio" -> {"mat", "gpio"}; "all" -> every device; None when `value` is not a list
    of device names (then it is a simulator script's path)."""
    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    if not names or any(n not in (*DEVICES, "all") for n in names):
        return None
    return frozenset(DEVICES) if "all" in names else frozenset(names)


def simulated_devices(flag: bool | Iterable[str] = False) -> frozenset[str]:
    """The devices to simulate: `flag` True means all of them, an iterable names them; the
    environment (STATION_SIMULATE=1, or a list such as STATION_SIMULATE=mat,camera) adds to it.
    Unknown names raise ValueError: a typo must not silently leave a device real."""
    chosen: set[str] = set()
    if flag is True:
        chosen.update(DEVICES)
    elif flag is not False:
        names = set(flag)
        unknown = names - set(DEVICES)
        if unknown:
            raise ValueError(f"cannot simulate {sorted(unknown)}: choose from {', '.join(DEVICES)}")
        chosen.update(names)
    env = os.environ.get("STATION_SIMULATE", "").strip().lower()
    if env in TRUTHY:
        chosen.update(DEVICES)
    elif env and env not in FALSY:
        listed = parse_devices(env)
        if listed is None:
            raise ValueError(
                f"STATION_SIMULATE={env!r}: expected 1/0 or a list of {', '.join(DEVICES)}"
            )
        chosen.update(listed)
    return frozenset(chosen)


def simulation_requested(flag: bool = False) -> bool:
    """Everything simulated (`--simulate` alone, or STATION_SIMULATE=1)."""
    return simulated_devices(flag) == frozenset(DEVICES)


def pi_model(root: Path = Path("/")) -> str | None:
    """'Raspberry Pi 5 Model B Rev 1.0' on a Pi, None elsewhere."""
    try:
        model = (root / "proc/device-tree/model").read_bytes().rstrip(b"\0").decode()
    except OSError:
        return None
    return model if "Raspberry Pi" in model else None


def gpio_needs(config: Config) -> list[str]:
    """What needs GPIO pins under `config` (empty: no GPIO chip is opened at all, so the
    station runs on a laptop or a mini PC with a USB camera and no mat)."""
    alerts = config["alerts"]
    needs = []
    if alerts["enabled"] and alerts["buzzer"] != "none":
        needs.append(f"the {alerts['buzzer']} buzzer on GPIO{alerts['buzzer_pin']}")
    if alerts["leds"]["mode"] != "none":
        needs.append(f"the {alerts['leds']['mode'].replace('_', '-')} LEDs")
    mat = MatSettings.from_config(config)
    if mat.sensor == "switch":
        needs.append(f"the contact-switch mat on GPIO{mat.switch_pin}")
    return needs


@dataclass(frozen=True)
class DeviceRole:
    """How the station gets one device: 'real', 'simulated' or 'absent', and in words."""

    device: str
    state: str
    detail: str

    def __str__(self) -> str:
        return f"{self.device}: {self.state} ({self.detail})"


def device_roles(config: Config, simulated: Iterable[str] = ()) -> list[DeviceRole]:
    """Which devices are real, simulated or absent under `config`: what the screen, the log
    and `station diag` report."""
    sim = frozenset(simulated)
    mat = MatSettings.from_config(config).sensor
    cam = config["camera"]
    roles = []
    if mat == "none":
        roles.append(DeviceRole("mat", "absent", "mat.sensor = 'none'"))
    elif "mat" in sim:
        roles.append(DeviceRole("mat", "simulated", "the simulated member"))
    else:
        roles.append(DeviceRole("mat", "real", f"mat.sensor = {mat!r}"))
    if cam["source"] == "none":
        roles.append(DeviceRole("camera", "absent", "camera.source = 'none'"))
    elif "camera" in sim:
        roles.append(DeviceRole("camera", "simulated", "the simulated member's skeleton"))
    else:
        roles.append(DeviceRole("camera", "real", _camera_words(cam)))
    needs = gpio_needs(config)
    if "gpio" in sim:
        roles.append(DeviceRole("gpio", "simulated", "gpiozero MockFactory pins"))
    elif not needs:
        roles.append(DeviceRole("gpio", "absent", "nothing needs it: no buzzer sounding, no LEDs"))
    else:
        roles.append(DeviceRole("gpio", "real", "for " + ", ".join(needs)))
    return roles


def _camera_words(cam: Mapping[str, Any]) -> str:
    source, device = cam["source"], str(cam["device"])
    if source == "opencv":
        if Path(device).is_file():
            return f"video file {Path(device).name}, played in real time"
        return f"OpenCV camera {device}"
    if source == "track":
        return f"landmark track {Path(device).name}"
    return "Pi camera (picamera2)"


@dataclass
class Hardware:
    """What the station runs on: the pin factory for GPIO outputs and openers for the sources.

    `simulated` names the devices that come from the simulator; the others are real. The pin
    factory is None when no GPIO is needed (nothing opened). Openers return None when the config
    says the device is not fitted ('none').
    """

    simulated: frozenset[str]
    pin_factory: Any
    config: Config
    script: Path | None = None
    seed: int = 0
    clock: Clock | None = None  # live sources stamp and pace against it; None: as fast as read

    @property
    def simulate(self) -> bool:
        """Anything simulated: a live run then counts time from 0, as the script does."""
        return bool(self.simulated & {"mat", "camera"})

    def roles(self, config: Config | None = None) -> list[DeviceRole]:
        return device_roles(config or self.config, self.simulated)

    def gpio_for(self, config: Config) -> Any:
        """The pin factory for `config` after a reload: opened now if the new config is the
        first to need GPIO; None (logged) when it cannot be, so a reload never stops the
        station."""
        if self.pin_factory is None and gpio_needs(config):
            try:
                self.pin_factory = pin_factory(False)
            except HardwareMissing as exc:
                log.error("%s", exc)
        return self.pin_factory

    def open_mat(self) -> Source | None:
        mat = MatSettings.from_config(self.config)
        if mat.sensor == "none":
            return None
        if "mat" in self.simulated:
            from station.sim.sources import simulated_mat

            # Paced live, the script loops (a kiosk demo); replayed fast, it runs once.
            live = self.clock is not None
            return simulated_mat(self.config, self.script, self.seed, clock=self.clock, loop=live)
        from station.mat.sensors import open_mat_sensor

        return open_mat_sensor(mat, self.pin_factory, clock=self.clock)

    def open_camera(self) -> Source | None:
        """A source of PoseFrame events: simulated landmarks, or camera frames through the
        pose backend."""
        if self.config["camera"]["source"] == "none":
            return None
        if "camera" in self.simulated:
            from station.sim.sources import simulated_pose

            live = self.clock is not None
            return simulated_pose(self.config, self.script, self.seed, clock=self.clock, loop=live)
        from station.camera.sources import open_pose_pipeline

        return open_pose_pipeline(self.config, self.clock)


def select_hardware(
    config: Config,
    *,
    simulate: bool | Iterable[str] = False,
    script: Path | None = None,
    seed: int = 0,
) -> Hardware:
    """`simulate`: True for every device, or the names of those to simulate (plus any the
    environment names). GPIO is opened only when something needs it; on a Pi with it
    missing this raises HardwareMissing naming the fix."""
    simulated = simulated_devices(simulate)
    factory = None
    if "gpio" in simulated:
        factory = pin_factory(True)
    elif gpio_needs(config):
        factory = pin_factory(False)
    return Hardware(simulated, factory, config, script, seed)


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
            "group; elsewhere run with --simulate gpio, or set [alerts] buzzer = 'none' "
            "(or enabled = false) and [alerts.leds] mode = 'none'",
        ) from exc
