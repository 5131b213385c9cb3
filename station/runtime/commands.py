"""Commands from the trainer console, run on the station's own thread between frames.

Mat calibration works on what the station measures: `mat_zero` turns the force read on an
empty mat into new zero offsets, `mat_scale` compares a known load with the force read and
rescales. The station only answers with the new values; the console validates and saves them
to the site config and asks for a reload, so the config file stays the one source of truth.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from station.alerts.policy import Alert
from station.events import FAULTS

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
    if name in ("mat_zero", "mat_scale"):
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
    if len(station.live.recent_force) < 20:
        return False, "no mat data yet", {}
    mat = station.config["mat"]
    zones = list(mat["zones"])
    tabled = [z for z in zones if z in mat.get("tables", {})]
    if tabled:
        return False, f"zones {tabled} use a calibration table: run `station mat calibrate`", {}
    force = np.mean(np.asarray(station.live.recent_force), axis=0)
    scales = np.asarray(mat["scale_n_per_count"], dtype=float)
    if name == "mat_zero":
        if station.mat is not None and station.mat.state.on_mat:
            return False, "someone is on the mat: zero it empty", {}
        offsets = np.asarray(mat["offset_counts"], dtype=float) + force / np.maximum(scales, 1e-9)
        values = [round(float(v), 2) for v in offsets]
        return True, "zero offsets from the empty mat", {"config": {"mat.offset_counts": values}}
    known = float(args.get("known_n", 0.0))
    zone = args.get("zone")
    if known <= 0:
        return False, "known_n must be a positive load in newtons", {}
    if zone is not None and zone not in zones:
        return False, f"no zone {zone!r} on this mat (zones: {', '.join(zones)})", {}
    picked = [zones.index(zone)] if zone is not None else list(range(len(zones)))
    measured = float(force[picked].sum())
    if measured < 0.05 * known:
        return False, f"the mat reads {measured:.0f} N: put the load on it first", {}
    factor = known / measured
    scales[picked] = scales[picked] * factor
    values = [round(float(v), 6) for v in scales]
    message = f"scale × {factor:.3f} ({measured:.0f} N read for {known:.0f} N)"
    return True, message, {"config": {"mat.scale_n_per_count": values}}
