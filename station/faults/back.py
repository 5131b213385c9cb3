"""Back arched or piked: the head-to-toe line bent at the hips."""

from station.faults.spec import AlertKeys, FaultSpec, ThresholdKeys
from station.posture.metrics import PLACEMENTS, Metric, bend_change_deg, body_line_bend_deg

SPEC = FaultSpec(
    name="back",
    label="Back",
    metric=Metric(
        fault="back",
        name="body-line bend",
        unit="degrees",
        raw_name="trunk-to-leg angle (+ piked, − arched)",
        raw_unit="degrees",
        placements=PLACEMENTS,
        higher_is_worse=True,
        default_baseline=0.0,
        baseline_range=(-8.0, 8.0),
        measure=body_line_bend_deg,
        compare=bend_change_deg,
    ),
    thresholds=ThresholdKeys(
        section="back",
        doc="Back arched or piked: change of the trunk-to-leg angle (head-to-toe line) from the "
        "baseline.",
        levels={"beginner": (12.0, 18.0), "intermediate": (9.0, 14.0), "advanced": (7.0, 11.0)},
    ),
    # the seed text: "a straight line from your head to your toes", pelvis neutral
    cue="Stand tall: one straight line, head to toe",
    tip="Keep your body in one straight line from head to toe, pelvis neutral - "
    "nothing sticking forward or back.",
    priority=2,
    alert=AlertKeys(tone="A4", beeps=2, led_pin=6),
    segments=(
        ("left_shoulder", "left_hip"),
        ("right_shoulder", "right_hip"),
        ("left_hip", "right_hip"),
    ),
)
