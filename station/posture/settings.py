"""The [posture] config section and the camera-judged thresholds of each preset.

Each fault (station.faults) has a camera table per preset; the landing's is `landing_camera`
(heel-first touchdowns seen by a side or oblique camera), since the mat's own landing
thresholds, in station/mat/settings.py, are `landing`.
"""

from collections.abc import Mapping

from station.config.schema import Key, Section
from station.faults.registry import specs

SECTION = Section(
    "Posture judging from the camera (metrics and formulas: docs/posture.md).",
    {
        "preset": Key(
            "intermediate",
            "The threshold preset in force: 'beginner', "
            "'intermediate', 'advanced' or the name of a trainer's [presets.NAME].",
        ),
        "window_s": Key(
            2.0,
            "Each light is judged on the median of its metric over this many seconds "
            "(several jumps), so one odd frame cannot light it.",
            "s",
            min=0.5,
            max=10.0,
        ),
        "baseline_s": Key(
            2.0,
            "Standing-tall time at the start used as the member's own baseline.",
            "s",
            min=0.5,
            max=10.0,
        ),
        "hysteresis": Key(
            0.25,
            "A lit light goes back down only once its metric is this fraction of the gap "
            "between the warn and fault levels below the level that lit it (stops flicker).",
            min=0.0,
            max=1.0,
        ),
        "unknown_after_s": Key(
            1.0,
            "A light reads 'unknown' when its metric could not be measured (nobody in view, "
            "landmarks hidden) for this long.",
            "s",
            min=0.1,
            max=10.0,
        ),
        "min_samples": Key(
            3,
            "Measurements needed inside the window before a light is judged at all.",
            min=1,
            max=100,
        ),
    },
)

_HOLD_DOC = "The new reading must hold this long before the light changes."


def _higher_is_worse(s: Mapping[str, float]) -> list[tuple[str, str]]:
    return [("fault", "must be ≥ warn")] if s["fault"] < s["warn"] else []


def _lower_is_worse(s: Mapping[str, float]) -> list[tuple[str, str]]:
    if s["fault"] > s["warn"]:
        return [("fault", "must be ≤ warn (a lower value is worse)")]
    return []


def posture_thresholds(preset: str) -> Mapping[str, Section]:
    """Each registered fault's camera thresholds in this preset (their defaults and texts are
    in the fault's spec, station/faults/<name>.py)."""
    out: dict[str, Section] = {}
    for spec in specs():
        keys = spec.thresholds
        warn, fault_level = keys.defaults(preset)
        unit = spec.metric.unit
        out[keys.section] = Section(
            keys.doc,
            {
                "enabled": Key(True, keys.enabled_doc),
                "warn": Key(warn, keys.warn_doc, unit, min=keys.minimum),
                "fault": Key(fault_level, keys.fault_doc, unit, min=keys.minimum),
                "hold_s": Key(1.0, _HOLD_DOC, "s", min=0.0, max=30.0),
            },
            checks=(_higher_is_worse,) if spec.metric.higher_is_worse else (_lower_is_worse,),
        )
    return out
