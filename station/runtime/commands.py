"""Commands from the trainer console, run on the station's own thread between frames.

Mat calibration works on what the station measures, with the maths of
station.mat.calibration (the one home of it, shared with `station mat calibrate`): `mat_zero`
turns the force read on an empty mat into new zero offsets (exact for every sensor model),
`mat_scale` compares a known load with the force read and rescales, `mat_read` reports what
each zone reads now (a step of the console's multi-point calibration) and `mat_fit` fits a
zone's model afresh from several known loads and their readings. The station only answers
with the new values; the console validates and saves them
to the site config and asks for a reload, so the config file stays the one source of truth.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from station.alerts.policy import Alert
from station.events import FAULTS
from station.mat.calibration import refit_from_readings, rescaled, zeroed_offsets
from station.mat.health import health_from_force
from station.mat.settings import MatSettings

if TYPE_CHECKING:
    from station.runtime.station import Station

log = logging.getLogger(__name__)

Reply = tuple[bool, str, dict[str, Any]]


def run_commands(station: Station, poller: Any, now: float) -> None:
    for command in poller.poll():
        try:
            ok, message, data = _run(station, command.name, dict(command.args), now)
        except Exception as exc:  # a bad request from the console must not stop the station
            log.exception("console command %s", command.name)
            ok, message, data = False, f"{type(exc).__name__}: {exc}", {}
        poller.reply(command, ok, message, data)


def _run(station: Station, name: str, args: dict[str, Any], now: float) -> Reply:
    if name == "beep":
        return _beep(station, args, now)
    if name in ("mat_zero", "mat_scale", "mat_read", "mat_fit", "mat_health"):
        return _calibrate(station, name, args)
    if name == "snapshot":
        return _snapshot(station)
    return False, f"{name} is not supported by this station yet", {}


def _snapshot(station: Station) -> Reply:
    """One JPEG of what the camera sees, for placing the camera and drawing the mat's region;
    it goes to RAM for the console, which deletes it once shown (never stored)."""
    import cv2

    from station.storage.live import write_snapshot

    rgb = station.camera_picture()
    if rgb is None:
        why = "the camera is not working" if not station.camera_working else "no picture yet"
        if "camera" in station.hardware.simulated:
            why = "the simulated camera has no pictures"
        return False, why, {}
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        return False, "could not encode the picture", {}
    write_snapshot(jpeg.tobytes())
    height, width = rgb.shape[:2]
    return True, f"snapshot {width}×{height}", {"width": width, "height": height}


def _beep(station: Station, args: dict[str, Any], now: float) -> Reply:
    fault = str(args.get("fault", FAULTS[0]))
    if fault not in FAULTS:
        return False, f"unknown fault {fault!r}", {}
    if station.outputs.buzzer is None:
        return False, station.outputs.problem or "no buzzer configured", {}
    station.outputs.start(Alert(now, fault, "fault"), now)
    return True, f"beeping the {fault} pattern", {}


def _calibrate(station: Station, name: str, args: dict[str, Any]) -> Reply:
    if not (station.mat_working and station.mat_weighs):
        return False, "no working force mat", {}
    mat = MatSettings.from_config(station.config)
    if name == "mat_health":
        return _health(station, mat)
    if len(station.live.recent_force) < 20:
        return False, "no mat data yet", {}
    zones = list(mat.zones)
    tabled = [z for z in zones if z in mat.tables]
    if tabled:
        return False, f"zones {tabled} use a calibration table: run `station mat calibrate`", {}
    force = np.mean(np.asarray(station.live.recent_force), axis=0)
    if name == "mat_read":
        readings = {z: round(float(f), 1) for z, f in zip(zones, force, strict=True)}
        return True, "what each zone reads now", {"force_n": readings}
    if name == "mat_zero":
        if station.mat is not None and station.mat.state.on_mat:
            return False, "someone is on the mat: zero it empty", {}
        values = zeroed_offsets(mat, force)
        return True, "zero offsets from the empty mat", {"config": {"mat.offset_counts": values}}
    zone = args.get("zone")
    if zone is not None and zone not in zones:
        return False, f"no zone {zone!r} on this mat (zones: {', '.join(zones)})", {}
    if name == "mat_fit":
        return _fit(mat, zones, zone, args)
    known = float(args.get("known_n", 0.0))
    if known <= 0:
        return False, "known_n must be a positive load in newtons", {}
    picked = [zones.index(zone)] if zone is not None else list(range(len(zones)))
    if float(force[picked].sum()) < 0.05 * known:
        return False, f"the mat reads {force[picked].sum():.0f} N: put the load on it first", {}
    values, factor, measured = rescaled(mat, known, force, picked)
    message = f"scale × {factor:.3f} ({measured:.0f} N read for {known:.0f} N)"
    return True, message, {"config": {"mat.scale_n_per_count": values}}


def _health(station: Station, mat: MatSettings) -> Reply:
    """The mat's health (station.mat.health) from the last half second, if the mat is empty,
    and the pipeline's verdict on each zone: what the console's Mat page shows."""
    assert station.mat is not None
    state = station.mat.state
    recent = np.asarray(station.live.recent_force) if station.live.recent_force else None
    empty = None if state.on_mat or recent is None or len(recent) < 20 else recent
    health = health_from_force(list(mat.zones), empty, state.zone_status, mat.floor_n)
    return True, health.summary(), {"health": health.to_dict()}


def _fit(mat: MatSettings, zones: list[str], zone: Any, args: dict[str, Any]) -> Reply:
    """A zone's model fitted afresh from known loads and what the zone read under each."""
    if zone is None:
        return False, "name the zone the loads were on", {}
    loads = np.asarray(args.get("loads_n", []), dtype=float)
    readings = np.asarray(args.get("readings_n", []), dtype=float)
    if len(loads) != len(readings) or len(loads) == 0 or (loads <= 0).any():
        return False, "give one positive known load per reading", {}
    z = zones.index(zone)
    try:  # the readings are already freed of the FSR's creep by the live calibration
        scale, exponent = refit_from_readings(mat, z, loads, readings, held_s=0.0)
    except ValueError as exc:
        return False, str(exc), {}
    scales = list(mat.scale_n_per_count)
    scales[z] = round(scale, 6)
    changes: dict[str, Any] = {"mat.scale_n_per_count": scales}
    fitted = f"{scale:.4f} N/count"
    if mat.model == "fsr":
        exponents = list(mat.exponent)
        exponents[z] = round(exponent, 5)
        changes["mat.exponent"] = exponents
        fitted = f"{scale:.1f} N × x^{exponent:.3f}"
    return True, f"{zone}: {len(loads)} loads → {fitted}", {"config": changes}
