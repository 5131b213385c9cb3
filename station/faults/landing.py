"""Hard or heel-first landings: the one fault two sensors judge.

The mat judges it when it measures force (peak and loading rate in body weights, heel-first
contacts; its thresholds are [presets.NAME.landing], station/mat/settings.py, and its light is
station.session.landing.LandingLight). The camera's heel lift at touchdown, from a side or
oblique camera, is the fallback: a contact-switch mat or no mat. `combine` is that rule's one
home.
"""

from collections.abc import Mapping

from station.events import LightState
from station.faults.spec import AlertKeys, FaultSpec, ThresholdKeys
from station.posture.metrics import Metric, foot_lift_deg, lift_change_deg, standing_foot_lift_deg


def mat_over_camera(verdicts: Mapping[str, LightState]) -> LightState:
    """The mat's verdict when a force mat is working, else the camera's."""
    if "mat" in verdicts:
        return verdicts["mat"]
    return verdicts.get("camera", "unknown")


SPEC = FaultSpec(
    name="landing",
    label="Landing",
    metric=Metric(
        fault="landing",
        name="heel lift at touchdown",
        unit="degrees",
        raw_name="heel lift above toes",
        raw_unit="degrees",
        placements=("oblique", "side"),
        higher_is_worse=False,
        default_baseline=0.0,
        baseline_range=(-10.0, 10.0),
        measure=standing_foot_lift_deg,
        compare=lift_change_deg,
    ),
    thresholds=ThresholdKeys(
        section="landing_camera",
        doc="The camera's part of the landing light: heel lift above the toes at touchdown "
        "against the standing baseline (side or oblique camera only). A LOWER value is worse: "
        "flat-footed or heel-first touchdowns.",
        levels={"beginner": (6.0, 0.0), "intermediate": (8.0, 2.0), "advanced": (10.0, 4.0)},
        enabled_doc="Judge heel-first touchdowns from the camera at all.",
        warn_doc="Heel lift at or below this turns the light amber.",
        fault_doc="Heel lift at or below this turns it red.",
        minimum=-30.0,
    ),
    # the seed text: "absorb the force of your body through the balls of your feet"
    cue="Land softly on the balls of your feet",
    tip="Absorb each landing on the balls of your feet, then drive off them into the "
    "next jump. Heels slapping the ground sends the shock up into your back.",
    # Landing leads: the seed names hard landings as the likeliest cause of lower-back pain.
    priority=1,
    alert=AlertKeys(tone="E4", beeps=1, led_pin=13),
    segments=(
        ("left_hip", "left_knee"),
        ("left_knee", "left_ankle"),
        ("right_hip", "right_knee"),
        ("right_knee", "right_ankle"),
        ("left_ankle", "left_heel"),
        ("left_heel", "left_foot_index"),
        ("right_ankle", "right_heel"),
        ("right_heel", "right_foot_index"),
    ),
    sampled="touchdown",
    at_touchdown=foot_lift_deg,
    sensors=("camera", "mat"),
    combine=mat_over_camera,
    # the heel-lift angle means nothing to a member; the landing meter shows the mat's peak
    show_value=False,
)
