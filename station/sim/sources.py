"""Simulated sources for the hardware switch: the mat and the camera's pose, from one model.

`simulated_mat` and `simulated_pose` build the same :class:`JumperModel` from (script, seed),
so the landings the mat feels and the skeleton the camera sees agree exactly; each source then
adds its own seeded sensor noise. Without a clock a source yields as fast as it is consumed
(timestamps from `t0`, default 0); with a clock it is paced in real time against it and its
timestamps sit on the clock's time line (simulation start = the clock's time when `events()`
starts, unless `t0` is given). `loop=True` replays the script forever, for a kiosk demo.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from station.clock import Clock
from station.config.loader import Config
from station.config.schema import ConfigError
from station.events import ContactEdge, DeviceStatus, Event, ForceBlock, PoseFrame
from station.sim.body import Camera, Skeleton
from station.sim.model import GroundTruth, JumperModel
from station.sim.script import Episode, Script, ScriptInvalid, load_script

FloatArray = NDArray[np.float64]
BLOCK_S = 0.005  # a ForceBlock every 5 ms
CHUNK_S = 1.0  # forces are computed a second at a time
SWITCH_ON_BW = 0.15  # a contact-switch mat closes above this load (body weights) ...
SWITCH_OFF_BW = 0.05  # ... and opens below this one
ConfigLike = Config | Mapping[str, Mapping[str, Any]]
"""A station Config, or the same nested mapping (tests, tools)."""


def resolve_script(script: Path | str | Script | None) -> Script:
    """A Script from a path, a Script, or None (the packaged default script)."""
    if isinstance(script, Script):
        return script
    return load_script(Path(script) if script is not None else None)


def ground_truth(script: Path | str | Script | None = None, seed: int = 0) -> GroundTruth:
    """What the simulated sources for (script, seed) will show."""
    return JumperModel(resolve_script(script), seed).truth


def zone_matrix(zones: Sequence[str]) -> FloatArray:
    """4×Z weights from the model's (left heel, left fore, right heel, right fore) to the mat's
    zones, by name: a zone naming 'left'/'right' takes that foot (else both), one naming
    'heel' (or 'fore'/'toe'/'ball'/'front') takes that part of the foot (else all of it)."""
    m = np.zeros((4, len(zones)))
    for z, name in enumerate(zones):
        n = name.lower()
        feet = [0, 1] if "left" in n else [2, 3] if "right" in n else [0, 1, 2, 3]
        if "heel" in n:
            parts = [c for c in feet if c in (0, 2)]
        elif any(w in n for w in ("fore", "toe", "ball", "front")):
            parts = [c for c in feet if c in (1, 3)]
        else:
            parts = feet
        m[parts, z] = 1.0
    # Zones that overlap (e.g. 'left' and 'left_heel') share the load rather than double it.
    cover = m.sum(axis=1, keepdims=True)
    return np.divide(m, cover, out=np.zeros_like(m), where=cover > 0)


class _Paced:
    """Time base shared by the simulated sources: offset and optional real-time pacing."""

    name: str
    realtime: bool

    def __init__(self, name: str, clock: Clock | None, t0: float | None, loop: bool) -> None:
        self.name = name
        self.clock = clock
        self.realtime = clock is not None
        self.loop = loop
        self._t0 = t0
        self._closed = False

    def close(self) -> None:
        self._closed = True

    def _start(self) -> float:
        if self._t0 is not None:
            return self._t0
        return self.clock.now() if self.clock is not None else 0.0

    def _wait_until(self, t: float) -> None:
        if self.clock is not None:
            self.clock.sleep(t - self.clock.now())


def _outage_events(
    device: str, outages: Sequence[Episode], offset: float
) -> list[tuple[float, DeviceStatus]]:
    out = []
    for e in outages:
        if e.name == device:
            msg = f"simulated {device} outage until {e.end_s:g} s"
            out.append((e.start_s, DeviceStatus(e.start_s + offset, device, False, msg)))
            out.append((e.end_s, DeviceStatus(e.end_s + offset, device, True, "back")))
    return sorted(out, key=lambda x: x[0])


class SimulatedMat(_Paced):
    """Force per zone at the config's sample rate, in ForceBlocks of 5 ms (or ContactEdge
    events for a contact-switch mat)."""

    def __init__(
        self,
        model: JumperModel,
        zones: Sequence[str],
        rate_hz: float,
        seed: int,
        *,
        switch: bool = False,
        clock: Clock | None = None,
        t0: float | None = None,
        loop: bool = False,
    ) -> None:
        super().__init__("mat", clock, t0, loop)
        self.model = model
        self.truth = model.truth
        self.zones = tuple(zones)
        self.rate_hz = float(rate_hz)
        self.switch = switch
        self.seed = seed
        self.matrix = zone_matrix(self.zones)
        script = model.script
        self.noise_n = float(script.noise["mat_n"])
        self.outages = [e for e in script.outages if e.name == "mat"]
        self.dead: list[tuple[int, float, float]] = []
        for i, d in enumerate(script.dead_zones):
            # A zone by name, or every zone of a side ('right' kills right_heel, right_fore).
            hit = [d.zone] if d.zone in self.zones else [z for z in self.zones if d.zone in z]
            if not hit:
                known = ", ".join(self.zones)
                raise ScriptInvalid(
                    [
                        ConfigError(
                            f"dead_zone[{i}].zone",
                            f"= {d.zone!r}: not a zone of this mat (mat.zones: {known})",
                            script.source,
                        )
                    ]
                )
            self.dead.extend((self.zones.index(z), d.start_s, d.end_s) for z in hit)

    def samples(
        self, start_s: float, end_s: float, rng: np.random.Generator
    ) -> tuple[FloatArray, FloatArray]:
        """(times, force Z) for samples in [start_s, end_s): the model, noise, dead zones."""
        k0 = math.ceil(start_s * self.rate_hz - 1e-9)
        k1 = math.ceil(end_s * self.rate_hz - 1e-9)
        t = np.arange(k0, k1, dtype=np.float64) / self.rate_hz
        force = self.model.foot_forces(t) @ self.matrix
        for z, a, b in self.dead:
            force[(t >= a) & (t < b), z] = 0.0
        if self.noise_n > 0:
            force += rng.normal(0.0, self.noise_n, force.shape)
        return t, force

    def events(self) -> Iterator[Event]:
        offset = self._start()
        rng = np.random.default_rng([self.seed, 1])
        while not self._closed:
            if self.switch:
                yield from self._edges(offset)
            else:
                yield from self._blocks(offset, rng)
            if not self.loop:
                return
            offset += self.model.script.duration_s

    def _blocks(self, offset: float, rng: np.random.Generator) -> Iterator[Event]:
        statuses = _outage_events("mat", self.outages, offset)
        duration = self.model.script.duration_s
        block_n = max(1, round(BLOCK_S * self.rate_hz))
        chunk = CHUNK_S
        start = 0.0
        while start < duration and not self._closed:
            t, force = self.samples(start, min(start + chunk, duration), rng)
            for i in range(0, len(t), block_n):
                tb, fb = t[i : i + block_n], force[i : i + block_n]
                while statuses and statuses[0][0] <= tb[-1]:
                    yield statuses.pop(0)[1]
                keep = np.ones(len(tb), dtype=bool)
                for e in self.outages:
                    keep &= ~((tb >= e.start_s) & (tb < e.end_s))
                if not keep.any():
                    continue
                block = ForceBlock(
                    float(tb[keep][-1]) + offset, tb[keep] + offset, fb[keep], self.zones
                )
                self._wait_until(block.t)
                if self._closed:
                    return
                yield block
            start += chunk
        for _, status in statuses:
            yield status

    def _edges(self, offset: float) -> Iterator[Event]:
        statuses = _outage_events("mat", self.outages, offset)
        pressed = False
        start, duration = 0.0, self.model.script.duration_s
        while start < duration and not self._closed:
            k0 = math.ceil(start * self.rate_hz - 1e-9)
            k1 = math.ceil(min(start + CHUNK_S, duration) * self.rate_hz - 1e-9)
            t = np.arange(k0, k1, dtype=np.float64) / self.rate_hz
            load = self.model.foot_forces(t).sum(axis=1) / self.model.weight
            for ti, li in zip(t, load, strict=True):
                while statuses and statuses[0][0] <= ti:
                    yield statuses.pop(0)[1]
                if any(e.covers(float(ti)) for e in self.outages):
                    continue
                if (not pressed and li > SWITCH_ON_BW) or (pressed and li < SWITCH_OFF_BW):
                    pressed = not pressed
                    edge = ContactEdge(float(ti) + offset, pressed)
                    self._wait_until(edge.t)
                    yield edge
            start += CHUNK_S
        for _, status in statuses:
            yield status


class SimulatedPose(_Paced):
    """PoseFrames at the script's pose rate (capped at the config's camera.fps)."""

    def __init__(
        self,
        model: JumperModel,
        camera: Mapping[str, Any],
        seed: int,
        *,
        clock: Clock | None = None,
        t0: float | None = None,
        loop: bool = False,
    ) -> None:
        super().__init__("camera", clock, t0, loop)
        self.model = model
        self.truth = model.truth
        script = model.script
        self.camera = Camera.from_config(camera, script.camera)
        self.fps = min(float(script.camera["pose_fps"]), float(camera["fps"]))
        self.skeleton = Skeleton(model)
        self.seed = seed
        self.noise_px = float(script.noise["pose_px"])
        self.noise_m = float(script.noise["pose_m"])
        self.outages = [e for e in script.outages if e.name == "camera"]

    def pose_at(
        self, t: float, rng: np.random.Generator | None = None
    ) -> tuple[FloatArray | None, FloatArray | None]:
        """(lm, world) at simulation time `t`, with noise if `rng` is given; (None, None) when
        nobody is in view."""
        body = self.skeleton.body_points(t)
        if body is None:
            return None, None
        lm, world, in_view = self.camera.observe(*body)
        if not in_view:
            return None, None
        if rng is not None:
            size = np.array([self.camera.width, self.camera.height], dtype=np.float64)
            lm[:, :2] += rng.normal(0.0, self.noise_px, (len(lm), 2)) / size
            world += rng.normal(0.0, self.noise_m, world.shape)
            lm[:, 3] = np.clip(lm[:, 3] + rng.normal(0.0, 0.01, len(lm)), 0.0, 1.0)
        return lm, world

    def events(self) -> Iterator[Event]:
        offset = self._start()
        rng = np.random.default_rng([self.seed, 2])
        index = 0
        while not self._closed:
            yield from self._frames(offset, rng, index)
            if not self.loop:
                return
            offset += self.model.script.duration_s
            index += self._frames_per_pass

    @property
    def _frames_per_pass(self) -> int:
        return math.floor(self.model.script.duration_s * self.fps - 1e-9) + 1

    def _frames(self, offset: float, rng: np.random.Generator, index: int) -> Iterator[Event]:
        statuses = _outage_events("camera", self.outages, offset)
        w, h = self.camera.width, self.camera.height
        for k in range(self._frames_per_pass):
            if self._closed:
                return
            t = k / self.fps
            while statuses and statuses[0][0] <= t:
                yield statuses.pop(0)[1]
            lm, world = self.pose_at(t, rng)  # noise drawn even in outages: stable streams
            if any(e.covers(t) for e in self.outages):
                continue
            frame = PoseFrame(t + offset, lm, world, w, h, index=index + k)
            self._wait_until(frame.t)
            if self._closed:
                return
            yield frame
        for _, status in statuses:
            yield status


def simulated_mat(
    config: ConfigLike,
    script: Path | str | Script | None,
    seed: int,
    *,
    clock: Clock | None = None,
    t0: float | None = None,
    loop: bool = False,
) -> SimulatedMat:
    """The simulated mat for the config's [mat] (zones, sample rate; sensor 'switch' gives
    ContactEdge events). script None = the packaged default script. `clock`: pace in real
    time against it; `t0`: timestamp of the simulation's start; `loop`: replay the script
    forever (each pass starts where the last ended) instead of ending."""
    mat = config["mat"]
    model = JumperModel(resolve_script(script), seed)
    return SimulatedMat(
        model,
        list(mat["zones"]),
        float(mat["sample_rate_hz"]),
        seed,
        switch=mat["sensor"] == "switch",
        clock=clock,
        t0=t0,
        loop=loop,
    )


def simulated_pose(
    config: ConfigLike,
    script: Path | str | Script | None,
    seed: int,
    *,
    clock: Clock | None = None,
    t0: float | None = None,
    loop: bool = False,
) -> SimulatedPose:
    """Simulated pose landmarks for the config's [camera] (size, placement, fps cap); the
    keywords as for :func:`simulated_mat`."""
    model = JumperModel(resolve_script(script), seed)
    return SimulatedPose(model, config["camera"], seed, clock=clock, t0=t0, loop=loop)
