"""The buzzer and LEDs: gpiozero devices driven by the main loop's clock.

Beep patterns are played by `tick(now)` from the one thread that owns the session, not by
gpiozero's background threads, so a replay on a ManualClock produces the same pin history as a
real session, and nothing else touches the pins concurrently.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from station.alerts.policy import Alert
from station.events import FAULTS, LightState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    start: float  # seconds after the alert's start
    on: bool
    tone: str | None = None


def beep_pattern(alerts: Mapping[str, Any], alert: Alert) -> list[Step]:
    """On/off steps for one alert: N beeps of beep_s separated by gap_s (one beep at warn)."""
    beeps = alerts[alert.fault]["beeps"] if alert.level == "fault" else 1
    tone = alerts[alert.fault]["tone"]
    steps: list[Step] = []
    t = 0.0
    for _ in range(beeps):
        steps.append(Step(t, True, tone))
        t += alerts["beep_s"]
        steps.append(Step(t, False))
        t += alerts["gap_s"]
    return steps


class AlertOutputs:
    """Owns the GPIO output devices. A device that fails to open is logged and left out: a
    broken buzzer must not stop a member's session."""

    def __init__(self, alerts: Mapping[str, Any], pin_factory: Any) -> None:
        self._cfg = alerts
        self._factory = pin_factory
        self._pattern: list[Step] = []
        self._pattern_start = 0.0
        self.problem: str | None = None
        self.buzzer: Any = None
        self.leds: dict[str, Any] = {}
        self._open()

    def _open(self) -> None:
        if self._factory is None:
            return  # no GPIO needed (see station.hardware.gpio_needs): nothing to open
        from gpiozero import LED, Buzzer, TonalBuzzer

        try:
            if self._cfg["buzzer"] == "active":
                self.buzzer = Buzzer(self._cfg["buzzer_pin"], pin_factory=self._factory)
            elif self._cfg["buzzer"] == "tonal":
                self.buzzer = TonalBuzzer(self._cfg["buzzer_pin"], pin_factory=self._factory)
            leds = self._cfg["leds"]
            names: Sequence[str] = ()
            if leds["mode"] == "per_fault":
                names = FAULTS
            elif leds["mode"] == "traffic":
                names = ("green", "amber", "red")
            for name in names:
                self.leds[name] = LED(leds[f"{name}_pin"], pin_factory=self._factory)
        except Exception as exc:  # GPIO busy, no permission, bad pin
            self.problem = f"alert outputs unavailable: {exc}"
            log.error("%s", self.problem)

    def start(self, alert: Alert, now: float) -> None:
        """Begin an alert's pattern; a newer alert replaces one still playing."""
        if self.buzzer is None:
            return
        self._pattern = beep_pattern(self._cfg, alert)
        self._pattern_start = now
        self.tick(now)

    def tick(self, now: float) -> None:
        """Apply the pattern step due at `now`; called every frame by the main loop."""
        if not self._pattern or self.buzzer is None:
            return
        elapsed = now - self._pattern_start
        due = [s for s in self._pattern if s.start <= elapsed]
        if not due:
            return
        step = due[-1]
        self._apply(step)
        if step is self._pattern[-1]:
            self._pattern = []

    def _apply(self, step: Step) -> None:
        if self._cfg["buzzer"] == "tonal":
            if step.on and step.tone:
                from gpiozero.tones import Tone

                if self.buzzer.tone != Tone(step.tone):
                    self.buzzer.play(Tone(step.tone))
            elif self.buzzer.is_active:
                self.buzzer.stop()
        elif bool(self.buzzer.value) != step.on:
            self.buzzer.value = step.on

    def show_lights(self, lights: Mapping[str, LightState], now: float, active: bool) -> None:
        """LEDs mirror the screen: per fault lit at fault, blinking (2 Hz) at warn; traffic
        light red/amber/green by the worst light. All off outside an active session."""
        if not self.leds:
            return
        blink = int(now * 4) % 2 == 0
        if "green" in self.leds:
            states = [lights.get(f, "unknown") for f in FAULTS]
            worst = "fault" if "fault" in states else "warn" if "warn" in states else "ok"
            for name, lit in (
                ("red", worst == "fault"),
                ("amber", worst == "warn"),
                ("green", worst == "ok"),
            ):
                self._set(name, active and lit)
            return
        for fault in FAULTS:
            state = lights.get(fault, "unknown")
            self._set(fault, active and (state == "fault" or (state == "warn" and blink)))

    def _set(self, name: str, on: bool) -> None:
        led = self.leds[name]
        if bool(led.value) != on:
            led.value = on

    def silence(self) -> None:
        """Stop any sound now (SIGTERM, end of session)."""
        self._pattern = []
        if self.buzzer is not None:
            if self._cfg["buzzer"] == "tonal":
                self.buzzer.stop()
            else:
                self.buzzer.off()

    def close(self) -> None:
        self.silence()
        for dev in [self.buzzer, *self.leds.values()]:
            if dev is not None:
                dev.close()
        self.buzzer = None
        self.leds = {}
