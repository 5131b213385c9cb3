"""Arms held far out from the body."""

from station.faults.spec import AlertKeys, FaultSpec, ThresholdKeys
from station.posture.metrics import PLACEMENTS, Metric, absolute, hand_reach

SPEC = FaultSpec(
    name="arms",
    label="Arms",
    metric=Metric(
        fault="arms",
        name="hand reach",
        unit="× torso length",
        raw_name="hand reach",
        raw_unit="× torso length",
        placements=PLACEMENTS,
        higher_is_worse=True,
        default_baseline=None,
        baseline_range=None,
        measure=hand_reach,
        compare=absolute,
    ),
    thresholds=ThresholdKeys(
        section="arms",
        doc="Arms extended too far from the body: the farther wrist's distance from the trunk "
        "axis over torso length (absolute, not against the baseline). 1.0 is a wrist about a "
        "forearm length out from the side of the trunk: the elbow has left the body.",
        levels={"beginner": (1.0, 1.1), "intermediate": (0.9, 1.0), "advanced": (0.85, 0.95)},
    ),
    # the seed text: "the further you extend your elbows and hands from your body, the less
    # slack"; it gives no "Fix it" paragraph for the arms, so the cue follows that explanation
    cue="Elbows in, hands close to your hips",
    tip="Keep your elbows and hands close to your body: arms held far out shorten the rope "
    "and pull you into a hunch.",
    priority=4,
    alert=AlertKeys(tone="G4", beeps=3, led_pin=19),
    segments=(
        ("left_shoulder", "left_elbow"),
        ("left_elbow", "left_wrist"),
        ("right_shoulder", "right_elbow"),
        ("right_elbow", "right_wrist"),
    ),
)
