"""The [alerts] config section: buzzers and LEDs on GPIO."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from station.config.schema import Key, Section
from station.events import FAULTS
from station.faults.registry import specs
from station.faults.spec import FaultSpec

QUIET_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def _fault_section(spec: FaultSpec) -> Section:
    """A fault's alert; its defaults (a distinct tone per fault for a passive piezo, whose
    default range in TonalBuzzer is A3..A5) are in its spec, station/faults/<name>.py."""
    return Section(
        f"The alert for the {spec.name} light.",
        {
            "enabled": Key(True, "Sound this fault at all."),
            "beeps": Key(spec.alert.beeps, "Number of beeps on the fault's onset.", min=1, max=5),
            "tone": Key(
                spec.alert.tone, "Note for a tonal piezo, e.g. 'A4' (A3 to A5).", choices=_NOTES
            ),
        },
    )


_NOTES = tuple(
    f"{n}{o}"
    for o in (3, 4, 5)
    for n in ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    if not (o == 3 and n in ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#"))
    and not (o == 5 and n in ("A#", "B"))
)


def _check_quiet_hours(section: Mapping[str, Any]) -> list[tuple[str, str]]:
    bad = [r for r in section["quiet_hours"] if not QUIET_RANGE.match(r)]
    return [("quiet_hours", f"{r!r} is not HH:MM-HH:MM (24-hour)") for r in bad]


def _check_pins(section: Mapping[str, Any]) -> list[tuple[str, str]]:
    used: dict[int, str] = {}
    if section["buzzer"] != "none":
        used[section["buzzer_pin"]] = "buzzer_pin"
    leds = section["leds"]
    names = {
        "none": [],
        "per_fault": [f"{f}_pin" for f in FAULTS],
        "traffic": ["green_pin", "amber_pin", "red_pin"],
    }[leds["mode"]]
    errors = []
    for name in names:
        pin = leds[name]
        if pin in used:
            errors.append((f"leds.{name}", f"= {pin}: GPIO{pin} is already {used[pin]}"))
        used[pin] = f"leds.{name}"
    return errors


def _leds() -> Section:
    return Section(
        "Optional LEDs: one per fault (lit at fault, blinking at warn) or one traffic light.",
        {
            "mode": Key(
                "none",
                "'none', 'per_fault' (one LED per fault) or 'traffic' (green/amber/red).",
                choices=("none", "per_fault", "traffic"),
            ),
            **{
                f"{s.name}_pin": Key(
                    s.alert.led_pin,
                    f"BCM pin of the {s.name} LED (mode = 'per_fault').",
                    min=0,
                    max=27,
                )
                for s in specs()
            },
            "green_pin": Key(22, "BCM pin of the green LED (mode = 'traffic').", min=0, max=27),
            "amber_pin": Key(23, "BCM pin of the amber LED (mode = 'traffic').", min=0, max=27),
            "red_pin": Key(24, "BCM pin of the red LED (mode = 'traffic').", min=0, max=27),
        },
    )


def section() -> Section:
    """The [alerts] section for the faults registered now (station.faults)."""
    return Section(
        "Buzzers and LEDs that signal a fault's onset. Alerts sound only while a session is active "
        "(never during calibration or the summary).",
        {
            "enabled": Key(True, "Sound alerts at all (LEDs follow the lights regardless)."),
            "buzzer": Key(
                "active",
                "'active' buzzer (one pitch), 'tonal' passive piezo (a tone per fault) or 'none'.",
                choices=("active", "tonal", "none"),
            ),
            "buzzer_pin": Key(18, "BCM GPIO pin driving the buzzer's transistor.", min=0, max=27),
            "beep_s": Key(0.15, "Length of one beep.", "s", min=0.02, max=2.0),
            "gap_s": Key(0.1, "Silence between beeps of one alert.", "s", min=0.02, max=2.0),
            "on_warn": Key(False, "Also sound (one short beep) when a light turns amber."),
            "cooldown_s": Key(
                10.0,
                "The same fault does not sound again within this time.",
                "s",
                min=0.0,
                max=600.0,
            ),
            "global_cooldown_s": Key(
                3.0, "No alert of any kind within this time of the last.", "s", min=0.0, max=600.0
            ),
            "quiet_hours": Key(
                [],
                'Local times with no sound, as "HH:MM-HH:MM" strings; a range '
                'may cross midnight ("22:00-06:00").',
                item=str,
                max_len=8,
            ),
            **{s.name: _fault_section(s) for s in specs()},
            "leds": _leds(),
        },
        checks=(_check_quiet_hours, _check_pins),
    )
