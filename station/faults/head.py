"""Head looking down at the rope."""

from station.faults.spec import AlertKeys, FaultSpec, ThresholdKeys
from station.posture.metrics import (
    HEAD_LOOKING_AHEAD_MAX_DEG,
    PLACEMENTS,
    Metric,
    head_pitch_deg,
    pitch_change_deg,
)

SPEC = FaultSpec(
    name="head",
    label="Head",
    metric=Metric(
        fault="head",
        name="head pitch down",
        unit="degrees",
        raw_name="ear→nose pitch below horizontal",
        raw_unit="degrees",
        placements=PLACEMENTS,
        higher_is_worse=True,
        default_baseline=12.0,
        baseline_range=(-25.0, 25.0),
        measure=head_pitch_deg,
        compare=pitch_change_deg,
        absolute_reference=HEAD_LOOKING_AHEAD_MAX_DEG,
    ),
    thresholds=ThresholdKeys(
        section="head",
        doc="Head looking down at the ground: head pitch down against the baseline.",
        levels={"beginner": (20.0, 30.0), "intermediate": (16.0, 25.0), "advanced": (12.0, 20.0)},
    ),
    # the seed text: "Trust your timing and judgment without looking down"
    cue="Eyes up - trust your timing",
    tip="Look ahead, not at the rope: trust your timing. Looking down strains your neck "
    "and upper back.",
    priority=5,
    alert=AlertKeys(tone="A5", beeps=2, led_pin=26),
    segments=(
        ("nose", "left_eye"),
        ("nose", "right_eye"),
        ("left_eye", "left_ear"),
        ("right_eye", "right_ear"),
    ),
)
