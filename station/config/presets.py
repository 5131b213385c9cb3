"""Threshold presets: the built-in ones and any a trainer saves.

A preset holds, for each of the five faults, that fault's thresholds. The posture room declares
the camera-judged faults and the mat room the landing; this module only assembles them, so each
room stays the one place its thresholds are defined.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from station.config.schema import Key, Section

BUILTIN_PRESETS: tuple[str, ...] = ("beginner", "intermediate", "advanced")

FaultKeys = Callable[[str], Mapping[str, Section]]
"""Given a preset name, the fault sections (fault name → thresholds) one room contributes."""


def presets_section(*contributors: FaultKeys) -> Section:
    def one_preset(name: str) -> Section:
        faults: dict[str, Key | Section] = {}
        for contribute in contributors:
            faults.update(contribute(name))
        return Section(f"The {name!r} preset.", faults)

    return Section(
        "Threshold presets, one table per preset, one sub-table per fault. posture.preset picks "
        "the one in force.",
        {name: one_preset(name) for name in BUILTIN_PRESETS},
        free=one_preset("intermediate"),
        free_doc="A trainer may add presets of their own as [presets.NAME.FAULT] tables; keys "
        "left out take the 'intermediate' values.",
    )
