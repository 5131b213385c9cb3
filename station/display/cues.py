"""Coaching cues, written from the fixes in the seed text (../shared/seed/jump-rope-back-pain.txt).

Each fault has a short *cue* for the active screen (read in a glance between jumps, so a few
words) and a longer *tip* for the summary (read standing still). Where the seed gives no "Fix it"
paragraph (arms) the cue follows the mistake's own explanation: hands far from the body leave
less slack in the rope, so keep them close.
"""

from __future__ import annotations

from collections.abc import Iterable

from station.display.viewmodel import Cue, Light
from station.events import FAULTS

CUES: dict[str, str] = {
    # "keeping your shoulders back and away from your ears"
    "shoulders": "Shoulders down, away from your ears",
    # "a straight line from your head to your toes", pelvis neutral
    "back": "Stand tall: one straight line, head to toe",
    # "absorb the force of your body through the balls of your feet"
    "landing": "Land softly on the balls of your feet",
    # "the further you extend your elbows and hands from your body, the less slack"
    "arms": "Elbows in, hands close to your hips",
    # "Trust your timing and judgment without looking down"
    "head": "Eyes up - trust your timing",
}

TIPS: dict[str, str] = {
    "shoulders": "Keep your shoulders back and away from your ears, shoulder blades engaged. "
    "Trust that you will clear the rope - if you do not, try a longer rope.",
    "back": "Keep your body in one straight line from head to toe, pelvis neutral - "
    "nothing sticking forward or back.",
    "landing": "Absorb each landing on the balls of your feet, then drive off them into the "
    "next jump. Heels slapping the ground sends the shock up into your back.",
    "arms": "Keep your elbows and hands close to your body: arms held far out shorten the rope "
    "and pull you into a hunch.",
    "head": "Look ahead, not at the rope: trust your timing. Looking down strains your neck "
    "and upper back.",
}

GOOD_SESSION_TIP = "Great form - keep it up!"

# Among lights in the same state, the one named first is the one to fix first. Landing leads:
# the seed names hard landings as the likeliest cause of lower-back pain.
PRIORITY: tuple[str, ...] = ("landing", "back", "shoulders", "arms", "head")
assert sorted(PRIORITY) == sorted(FAULTS)

_SEVERITY = {"fault": 2, "warn": 1, "ok": 0, "unknown": 0}


def worst_fault(lights: Iterable[Light]) -> str | None:
    """The fault to coach now: the most severe light (fault before warn), ties by PRIORITY;
    None when nothing is at warn or fault."""
    ranked = [
        (-_SEVERITY[light.state], PRIORITY.index(light.fault))
        for light in lights
        if _SEVERITY[light.state] > 0
    ]
    return PRIORITY[min(ranked)[1]] if ranked else None


def cue_for(lights: Iterable[Light]) -> Cue | None:
    """The one cue for the worst current fault, or None when all is well."""
    fault = worst_fault(lights)
    return Cue(fault, CUES[fault]) if fault else None


def tip_for(fault: str | None) -> Cue | None:
    """The summary's one tip for the fault that mattered most (e.g. SessionSummary.top_fault)."""
    return Cue(fault, TIPS[fault]) if fault else None
