"""Shoulders hunched up toward the ears."""

from station.faults.spec import AlertKeys, FaultSpec, ThresholdKeys
from station.posture.metrics import PLACEMENTS, Metric, neck_ratio, shoulder_rise_pct

SPEC = FaultSpec(
    name="shoulders",
    label="Shoulders",
    metric=Metric(
        fault="shoulders",
        name="shoulder rise",
        unit="% of baseline",
        raw_name="ear height above shoulders",
        raw_unit="× torso length",
        placements=PLACEMENTS,
        higher_is_worse=True,
        default_baseline=0.42,
        baseline_range=(0.30, 0.60),
        measure=neck_ratio,
        compare=shoulder_rise_pct,
    ),
    thresholds=ThresholdKeys(
        section="shoulders",
        doc="Shoulders hunched up toward the ears: how much of the baseline ear height above the "
        "shoulders (measured along the trunk) is lost.",
        levels={"beginner": (25.0, 40.0), "intermediate": (20.0, 32.0), "advanced": (15.0, 25.0)},
    ),
    # the seed text: "keeping your shoulders back and away from your ears"
    cue="Shoulders down, away from your ears",
    tip="Keep your shoulders back and away from your ears, shoulder blades engaged. "
    "Trust that you will clear the rope - if you do not, try a longer rope.",
    priority=3,
    alert=AlertKeys(tone="C5", beeps=1, led_pin=5),
    segments=(
        ("left_ear", "left_shoulder"),
        ("right_ear", "right_shoulder"),
        ("left_shoulder", "right_shoulder"),
    ),
)
