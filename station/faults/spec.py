"""What the station knows about one fault, in one place (see station.faults.registry)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from station.events import LightState
    from station.posture.body import Body
    from station.posture.metrics import Metric

Sensor = Literal["camera", "mat"]
Sampling = Literal["continuous", "touchdown"]


def camera_only(verdicts: Mapping[str, LightState]) -> LightState:
    """The usual combination: the camera's verdict, unknown without one."""
    return verdicts.get("camera", "unknown")


@dataclass(frozen=True)
class ThresholdKeys:
    """The camera thresholds of one fault inside each preset ([presets.NAME.<section>])."""

    section: str
    doc: str
    levels: Mapping[str, tuple[float, float]]
    """preset -> (warn, fault) defaults; a trainer's own preset takes 'intermediate'."""
    enabled_doc: str = "Judge this fault at all."
    warn_doc: str = "Level that turns the light amber."
    fault_doc: str = "Level that turns the light red."
    minimum: float = 0.0

    def defaults(self, preset: str) -> tuple[float, float]:
        return self.levels.get(preset, self.levels["intermediate"])


@dataclass(frozen=True)
class AlertKeys:
    """The defaults of the fault's [alerts.<name>] table and its LED."""

    tone: str  # a note for a tonal piezo, A3..A5
    beeps: int  # beeps at the fault's onset
    led_pin: int  # BCM pin of its LED in leds.mode = "per_fault"


@dataclass(frozen=True)
class FaultSpec:
    """One fault: how it is measured and judged, shown, sounded, logged and simulated.

    `metric` is the camera's measurement (station.posture.metrics.Metric). With `sampled` =
    "touchdown" the judged samples are taken only at each foot's touchdown, from
    `at_touchdown(body, placement, side)` (raw units, like the metric's), the worst of the feet
    landing in a frame; `metric.measure` is then the standing quantity for the baseline.
    `sensors` lists who can judge it and `combine` turns their verdicts (sensor -> light state,
    only the sensors working now) into the light."""

    name: str
    label: str
    metric: Metric
    thresholds: ThresholdKeys
    cue: str
    """A few words for the active screen, read in a glance between jumps."""
    tip: str
    """The summary's longer advice, read standing still."""
    priority: int
    """Among lights in the same state, the lowest priority is coached first."""
    alert: AlertKeys
    segments: tuple[tuple[str, str], ...]
    """Skeleton segments (landmark name pairs) drawn in this fault's light colour."""
    sampled: Sampling = "continuous"
    at_touchdown: Callable[[Body, str, str], float] | None = None
    sensors: tuple[Sensor, ...] = ("camera",)
    combine: Callable[[Mapping[str, LightState]], LightState] = camera_only
    show_value: bool = True
    """The light prints its camera metric's value (off where another sensor judges it)."""
    simulate: Callable[[NDArray[np.float64], float], None] | None = None
    """The simulator's deformation for a fault the body does not model itself: called with the
    33×3 body-frame points (metres, y up, z the way the member faces) and the fault's weight
    0..1, after the whole body is posed; it moves the points in place."""

    def __post_init__(self) -> None:
        if self.metric.fault != self.name:
            raise ValueError(f"{self.name}: its metric is for {self.metric.fault!r}")
        if self.sampled == "touchdown" and self.at_touchdown is None:
            raise ValueError(f"{self.name}: sampled at touchdown needs at_touchdown")
        if not self.sensors or "camera" not in self.sensors:
            raise ValueError(f"{self.name}: the camera must be among its sensors")
