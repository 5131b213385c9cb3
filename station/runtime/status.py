"""The live status the trainer console reads: what the station measures right now."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from station.faults.registry import specs as fault_specs
from station.mat.settings import landing_gauges
from station.storage.live import LiveStatus

if TYPE_CHECKING:
    from station.runtime.station import Station


def live_status(station: Station, now: float) -> LiveStatus:
    session = station.session
    stats = session.stats
    return LiveStatus(
        # what the screen shows: the summary stays up over a new session until its first jump
        phase=session.screen(now),
        lights=dict(station.live.lights),
        metrics=_metrics(station),
        mat=_mat(station),
        counts={
            "jumps": stats.jumps if stats else 0,
            "streak": stats.streak if stats else 0,
            "cadence_per_min": round(session.cadence(now), 1),
            "elapsed_s": round(session.elapsed(now), 1),
            "count_source": station.counting_source,
            # the camera's own count of this member's jumps: a cross-check of the mat's
            "camera_jumps": station.camera_counter.count,
        },
        devices=dict(station.status_lines()),
        device_roles={r.device: r.state for r in station.roles},
        camera=_camera(station, now),
        preset=str(station.config["posture"]["preset"]),
        config_problem=station.config_notice,
    )


def _camera(station: Station, now: float) -> dict[str, Any]:
    if not station.devices["camera"].fitted:
        return {}
    figures: dict[str, Any] = dict(station.camera_stats.figures(now))
    figures["max_fps"] = float(station.config["pose"]["max_fps"])
    # the live framing judgment (the screen's "feet out of view" banner) and the share of the
    # current (or last) session's frames with the feet in the picture
    figures["framing"] = station.live.framing.as_json()
    share = station.framing.period_share()
    figures["session_feet_in_picture"] = None if share is None else round(share, 3)
    return figures


def _metrics(station: Station) -> dict[str, dict[str, Any]]:
    posture = station.live.posture
    metrics: dict[str, dict[str, Any]] = {}
    if posture is not None:
        metrics = {
            fault: {
                "value": light.value,
                "warn": light.warn,
                "fault": light.fault_level,
                "unit": light.unit,
                "state": light.state,
                "reason": light.reason,
            }
            for fault, light in posture.lights.items()
        }
    if station.mat_working and station.mat_weighs:
        # each fault the mat judges (its spec names the mat): its last landing's figures
        # against the preset's [presets.NAME.<fault>] levels
        preset = station.config["presets"][station.config["posture"]["preset"]]
        for spec in fault_specs():
            if "mat" in spec.sensors:
                state = station.live.lights.get(spec.name, "unknown")
                metrics.update(landing_gauges(station.live.last_landing, preset[spec.name], state))
    return metrics


def _mat(station: Station) -> dict[str, Any]:
    force = station.live.last_force
    return {
        "zones": list(force),
        "force_n": [round(v, 1) for v in force.values()],
        "total_n": round(sum(force.values()), 1),
        "body_weight_n": None if station.mat is None else station.mat.state.body_weight_n,
        "calibrated": True,
    }
