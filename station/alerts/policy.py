"""When to sound an alert: pure logic on light states and time.

A buzzer that sounds for as long as a fault lasts is nagging, and members stop listening. So an
alert marks a fault's *onset* (its light turning red), each fault has its own cooldown, and a
global cooldown spaces alerts of different faults. Nothing sounds outside an active session or
in the site's quiet hours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from station.events import FAULTS, LightState


@dataclass(frozen=True)
class Alert:
    t: float
    fault: str
    level: LightState  # "fault", or "warn" when alerts.on_warn is set


def in_quiet_hours(ranges: tuple[str, ...] | list[str], now: dt.time) -> bool:
    """True if `now` falls in any "HH:MM-HH:MM" range; ranges may wrap past midnight."""
    minute = now.hour * 60 + now.minute
    for text in ranges:
        start_s, end_s = text.split("-")
        start = int(start_s[:2]) * 60 + int(start_s[3:])
        end = int(end_s[:2]) * 60 + int(end_s[3:])
        inside = start <= minute < end if start <= end else (minute >= start or minute < end)
        if inside:
            return True
    return False


class AlertPolicy:
    def __init__(self, alerts: Mapping[str, Any]) -> None:
        self.configure(alerts)
        self._previous: dict[str, LightState] = {f: "unknown" for f in FAULTS}
        self._last_by_fault: dict[str, float] = {}
        self._last_any: float | None = None

    def configure(self, alerts: Mapping[str, Any]) -> None:
        """Apply a reloaded [alerts] section; cooldown history is kept."""
        self._cfg = alerts

    def reset(self) -> None:
        """A new session: every light starts unknown, so a fault present from the start counts
        as an onset. Cooldowns carry over so a restart does not beep twice in a row."""
        self._previous = {f: "unknown" for f in FAULTS}

    def decide(
        self,
        t: float,
        lights: Mapping[str, LightState],
        *,
        session_active: bool,
        wall_time: dt.time,
    ) -> list[Alert]:
        onsets = self._onsets(lights)
        if not (session_active and self._cfg["enabled"] and self._cfg["buzzer"] != "none"):
            return []
        if in_quiet_hours(self._cfg["quiet_hours"], wall_time):
            return []
        # Red before amber, then the screen's order: the most serious onset wins the slot.
        onsets.sort(key=lambda a: (a.level != "fault", FAULTS.index(a.fault)))
        out: list[Alert] = []
        for fault, level in ((a.fault, a.level) for a in onsets):
            if not self._cfg[fault]["enabled"]:
                continue
            if level == "warn" and not self._cfg["on_warn"]:
                continue
            if not self._cooled_down(t, fault):
                continue
            self._last_by_fault[fault] = t
            self._last_any = t
            out.append(Alert(t, fault, level))
        return out

    def _onsets(self, lights: Mapping[str, LightState]) -> list[Alert]:
        onsets: list[Alert] = []
        for fault in FAULTS:
            now = lights.get(fault, "unknown")
            before = self._previous[fault]
            worse = (now == "fault" and before != "fault") or (
                now == "warn" and before in ("ok", "unknown")
            )
            if worse:
                onsets.append(Alert(0.0, fault, now))
            self._previous[fault] = now
        return onsets

    def _cooled_down(self, t: float, fault: str) -> bool:
        last = self._last_by_fault.get(fault)
        if last is not None and t - last < self._cfg["cooldown_s"]:
            return False
        return self._last_any is None or t - self._last_any >= self._cfg["global_cooldown_s"]
