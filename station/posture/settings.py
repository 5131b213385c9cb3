"""The [posture] config section and the camera-judged thresholds of each preset.

Each camera fault (shoulders, back, arms, head) has a table per preset; `landing_camera` holds
the camera's part of the landing judgement (heel-first touchdowns seen by a side or oblique
camera). The mat's own landing thresholds live in station/mat/settings.py.
"""

from collections.abc import Mapping

from station.config.schema import Key, Section

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

# fault -> (doc, unit, {preset: (warn, fault)}); a higher metric is worse.
_FAULTS: dict[str, tuple[str, str, dict[str, tuple[float, float]]]] = {
    "shoulders": (
        "Shoulders hunched up toward the ears: how much of the baseline ear height above the "
        "shoulders (measured along the trunk) is lost.",
        "% of baseline",
        {"beginner": (25.0, 40.0), "intermediate": (20.0, 32.0), "advanced": (15.0, 25.0)},
    ),
    "back": (
        "Back arched or piked: change of the trunk-to-leg angle (head-to-toe line) from the "
        "baseline.",
        "degrees",
        {"beginner": (12.0, 18.0), "intermediate": (9.0, 14.0), "advanced": (7.0, 11.0)},
    ),
    "arms": (
        "Arms extended too far from the body: the farther wrist's distance from the trunk axis "
        "over torso length (absolute, not against the baseline). 1.0 is a wrist about a forearm "
        "length out from the side of the trunk: the elbow has left the body.",
        "× torso length",
        {"beginner": (1.0, 1.1), "intermediate": (0.9, 1.0), "advanced": (0.85, 0.95)},
    ),
    "head": (
        "Head looking down at the ground: head pitch down against the baseline.",
        "degrees",
        {"beginner": (20.0, 30.0), "intermediate": (16.0, 25.0), "advanced": (12.0, 20.0)},
    ),
}

# preset -> (warn, fault): heel lift above toes at touchdown, against the baseline; LOWER is worse.
_LANDING_CAMERA: dict[str, tuple[float, float]] = {
    "beginner": (6.0, 0.0),
    "intermediate": (8.0, 2.0),
    "advanced": (10.0, 4.0),
}

_HOLD_DOC = "The new reading must hold this long before the light changes."


def _higher_is_worse(s: Mapping[str, float]) -> list[tuple[str, str]]:
    return [("fault", "must be ≥ warn")] if s["fault"] < s["warn"] else []


def _lower_is_worse(s: Mapping[str, float]) -> list[tuple[str, str]]:
    if s["fault"] > s["warn"]:
        return [("fault", "must be ≤ warn (a lower heel lift is worse)")]
    return []


def posture_thresholds(preset: str) -> Mapping[str, Section]:
    out: dict[str, Section] = {}
    for fault, (doc, unit, levels) in _FAULTS.items():
        warn, fault_level = levels.get(preset, levels["intermediate"])
        out[fault] = Section(
            doc,
            {
                "enabled": Key(True, "Judge this fault at all."),
                "warn": Key(warn, "Level that turns the light amber.", unit, min=0.0),
                "fault": Key(fault_level, "Level that turns the light red.", unit, min=0.0),
                "hold_s": Key(1.0, _HOLD_DOC, "s", min=0.0, max=30.0),
            },
            checks=(_higher_is_worse,),
        )
    warn, fault_level = _LANDING_CAMERA.get(preset, _LANDING_CAMERA["intermediate"])
    out["landing_camera"] = Section(
        "The camera's part of the landing light: heel lift above the toes at touchdown against "
        "the standing baseline (side or oblique camera only). A LOWER value is worse: flat-footed "
        "or heel-first touchdowns.",
        {
            "enabled": Key(True, "Judge heel-first touchdowns from the camera at all."),
            "warn": Key(
                warn, "Heel lift at or below this turns the light amber.", "degrees", min=-30.0
            ),
            "fault": Key(
                fault_level, "Heel lift at or below this turns it red.", "degrees", min=-30.0
            ),
            "hold_s": Key(1.0, _HOLD_DOC, "s", min=0.0, max=30.0),
        },
        checks=(_lower_is_worse,),
    )
    return out
