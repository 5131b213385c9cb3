"""Coaching cues: which fault to coach now, and its words.

Each fault's spec (station/faults/<name>.py) holds a short *cue* for the active screen (read in
a glance between jumps, so a few words) and a longer *tip* for the summary (read standing
still), written from the fixes in the seed text (../shared/seed/jump-rope-back-pain.txt), and
its priority among lights in the same state.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from station.display.viewmodel import Cue, Light
from station.events import FAULTS
from station.faults.registry import spec, specs


class _Texts(Mapping[str, str]):
    """fault -> one of its spec's texts, read from the fault registry when used."""

    def __init__(self, field: str) -> None:
        self._field = field

    def __getitem__(self, fault: str) -> str:
        return str(getattr(spec(fault), self._field))

    def __iter__(self) -> Iterator[str]:
        return iter(FAULTS)

    def __len__(self) -> int:
        return len(FAULTS)


CUES: Mapping[str, str] = _Texts("cue")
"""fault -> its cue for the active screen (station/faults/<name>.py)."""
TIPS: Mapping[str, str] = _Texts("tip")
"""fault -> its tip for the summary."""

GOOD_SESSION_TIP = "Great form - keep it up!"


def priority() -> tuple[str, ...]:
    """The faults, the one to fix first first (each spec's `priority`; ties keep screen order)."""
    return tuple(s.name for s in sorted(specs(), key=lambda s: s.priority))


_SEVERITY = {"fault": 2, "warn": 1, "ok": 0, "unknown": 0}


def worst_fault(lights: Iterable[Light]) -> str | None:
    """The fault to coach now: the most severe light (fault before warn), ties by priority;
    None when nothing is at warn or fault."""
    order = priority()
    ranked = [
        (-_SEVERITY[light.state], order.index(light.fault))
        for light in lights
        if _SEVERITY[light.state] > 0
    ]
    return order[min(ranked)[1]] if ranked else None


def cue_for(lights: Iterable[Light]) -> Cue | None:
    """The one cue for the worst current fault, or None when all is well."""
    fault = worst_fault(lights)
    return Cue(fault, CUES[fault]) if fault else None


def tip_for(fault: str | None) -> Cue | None:
    """The summary's one tip for the fault that mattered most (e.g. SessionSummary.top_fault)."""
    return Cue(fault, TIPS[fault]) if fault else None
