"""The [posture] config section and the camera-judged thresholds of each preset."""

from collections.abc import Mapping

from station.config.schema import Key, Section

SECTION = Section(
    "Posture judging from the camera.",
    {
        "preset": Key(
            "intermediate",
            "The threshold preset in force: 'beginner', "
            "'intermediate', 'advanced' or the name of a trainer's [presets.NAME].",
        ),
        "window_s": Key(
            2.0, "Each light is judged over this many seconds of jumping.", "s", min=0.5, max=10.0
        ),
        "baseline_s": Key(
            2.0,
            "Standing-tall time at the start used as the member's own baseline.",
            "s",
            min=0.5,
            max=10.0,
        ),
    },
)

# fault -> (doc, unit, {preset: (warn, fault)})
_FAULTS: dict[str, tuple[str, str, dict[str, tuple[float, float]]]] = {
    "shoulders": (
        "Shoulders hunched up toward the ears: loss of ear-to-shoulder distance "
        "against the member's baseline.",
        "% of baseline",
        {"beginner": (25.0, 40.0), "intermediate": (20.0, 32.0), "advanced": (15.0, 25.0)},
    ),
    "back": (
        "Back arched: the head-shoulder-hip-ankle line bends away from straight, against "
        "the baseline.",
        "degrees",
        {"beginner": (14.0, 22.0), "intermediate": (11.0, 18.0), "advanced": (9.0, 15.0)},
    ),
    "arms": (
        "Arms extended too far from the body: wrist distance from the hip line over torso length.",
        "× torso length",
        {"beginner": (0.75, 0.95), "intermediate": (0.65, 0.85), "advanced": (0.55, 0.75)},
    ),
    "head": (
        "Head looking down at the ground: head pitch down against the baseline.",
        "degrees",
        {"beginner": (20.0, 30.0), "intermediate": (16.0, 25.0), "advanced": (12.0, 20.0)},
    ),
}


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
                "hold_s": Key(
                    1.0,
                    "The level must hold this long before the light changes.",
                    "s",
                    min=0.0,
                    max=30.0,
                ),
            },
            checks=(lambda s: [("fault", "must be ≥ warn")] if s["fault"] < s["warn"] else [],),
        )
    return out
