from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from station.alerts.outputs import AlertOutputs, beep_pattern
from station.alerts.policy import Alert, AlertPolicy, in_quiet_hours
from station.config.loader import ConfigInvalid, build_config
from station.config.sections import SCHEMA

NOON = dt.time(12, 0)
OK = {f: "ok" for f in ("shoulders", "back", "landing", "arms", "head")}


def alerts_cfg(**overrides: Any) -> Any:
    return build_config(SCHEMA, [("test", {"alerts": overrides})])["alerts"]


def lights(**states: str) -> dict[str, str]:
    return {**OK, **states}


def test_onset_only_not_continuous() -> None:
    policy = AlertPolicy(alerts_cfg(cooldown_s=0.0, global_cooldown_s=0.0))
    fired = []
    for i in range(100):
        t = i * 0.1
        state = lights(head="fault") if 2.0 <= t < 5.0 else lights()
        fired += policy.decide(t, state, session_active=True, wall_time=NOON)
    assert [(a.fault, a.t) for a in fired] == [("head", pytest.approx(2.0))]


def test_per_fault_and_global_cooldowns() -> None:
    policy = AlertPolicy(alerts_cfg(cooldown_s=10.0, global_cooldown_s=3.0))
    seq = [
        (0.0, lights(head="fault")),
        (1.0, lights()),
        (2.0, lights(head="fault")),
        (2.5, lights(head="fault", arms="fault")),
        (4.0, lights(arms="ok")),
        (5.0, lights(arms="fault")),
        (11.0, lights()),
        (12.0, lights(head="fault")),
    ]
    fired = []
    for t, state in seq:
        fired += policy.decide(t, state, session_active=True, wall_time=NOON)
    # head at 0; head again at 2 (per-fault cooldown); arms at 2.5 (global cooldown);
    # arms at 5 fires (3 s after head); head at 12 fires (> 10 s after the first).
    assert [(a.fault, a.t) for a in fired] == [("head", 0.0), ("arms", 5.0), ("head", 12.0)]


def test_silent_outside_active_session_quiet_hours_and_disabled() -> None:
    policy = AlertPolicy(alerts_cfg(quiet_hours=["22:00-06:30"]))
    assert policy.decide(0, lights(back="fault"), session_active=False, wall_time=NOON) == []
    policy.reset()
    assert (
        policy.decide(1, lights(back="fault"), session_active=True, wall_time=dt.time(23, 15)) == []
    )
    policy.reset()
    assert policy.decide(2, lights(back="fault"), session_active=True, wall_time=NOON)
    off = AlertPolicy(alerts_cfg(enabled=False))
    assert off.decide(0, lights(back="fault"), session_active=True, wall_time=NOON) == []
    no_back = AlertPolicy(alerts_cfg(back={"enabled": False}))
    assert no_back.decide(0, lights(back="fault"), session_active=True, wall_time=NOON) == []


@pytest.mark.parametrize(
    ("ranges", "time", "quiet"),
    [
        (["22:00-06:00"], dt.time(23, 0), True),
        (["22:00-06:00"], dt.time(5, 59), True),
        (["22:00-06:00"], dt.time(6, 0), False),
        (["12:00-13:00"], dt.time(12, 30), True),
        (["12:00-13:00"], dt.time(13, 0), False),
        ([], dt.time(3, 0), False),
    ],
)
def test_quiet_hours(ranges: list[str], time: dt.time, quiet: bool) -> None:
    assert in_quiet_hours(ranges, time) is quiet


def test_quiet_hours_validated() -> None:
    with pytest.raises(ConfigInvalid, match=r"alerts.quiet_hours: '25:00-06:00'"):
        build_config(SCHEMA, [("t", {"alerts": {"quiet_hours": ["25:00-06:00"]}})])
    with pytest.raises(
        ConfigInvalid, match=r"alerts.leds.red_pin = 18: GPIO18 is already buzzer_pin"
    ):
        build_config(SCHEMA, [("t", {"alerts": {"leds": {"mode": "traffic", "red_pin": 18}}})])


def pin_values(factory: MockFactory, pin: int) -> list[float]:
    states = [s.state for s in factory.pin(pin).states]
    # drop consecutive repeats: the history of changes
    return [s for i, s in enumerate(states) if i == 0 or s != states[i - 1]]


def play(outputs: AlertOutputs, alert: Alert, until: float, step: float = 1 / 30) -> None:
    outputs.start(alert, alert.t)
    t = alert.t
    while t < until:
        t += step
        outputs.tick(t)


def test_active_buzzer_pin_history_follows_pattern() -> None:
    factory = MockFactory()
    cfg = alerts_cfg(beep_s=0.1, gap_s=0.1, arms={"beeps": 3})
    outputs = AlertOutputs(cfg, factory)
    play(outputs, Alert(5.0, "arms", "fault"), until=6.0)
    assert pin_values(factory, 18) == [0, 1, 0, 1, 0, 1, 0]
    assert [s.on for s in beep_pattern(cfg, Alert(0, "arms", "fault"))] == [True, False] * 3
    outputs.close()


def test_tonal_buzzer_plays_the_fault_tone() -> None:
    factory = MockFactory(pin_class=MockPWMPin)
    cfg = alerts_cfg(buzzer="tonal", head={"beeps": 2, "tone": "A5"})
    outputs = AlertOutputs(cfg, factory)
    frequencies = []
    outputs.start(Alert(0.0, "head", "fault"), 0.0)
    t = 0.0
    while t < 1.0:
        frequencies.append(outputs.buzzer.tone.frequency if outputs.buzzer.tone else None)
        t += 0.01
        outputs.tick(t)
    played = [f for i, f in enumerate(frequencies) if i == 0 or f != frequencies[i - 1]]
    assert played == [pytest.approx(880.0), None, pytest.approx(880.0), None]
    outputs.close()


def test_traffic_leds_follow_worst_light() -> None:
    factory = MockFactory()
    outputs = AlertOutputs(alerts_cfg(leds={"mode": "traffic"}), factory)
    outputs.show_lights(lights(), 0.0, active=True)
    outputs.show_lights(lights(arms="warn"), 1.0, active=True)
    outputs.show_lights(lights(arms="fault"), 2.0, active=True)
    outputs.show_lights(lights(arms="fault"), 3.0, active=False)
    assert pin_values(factory, 22) == [0, 1, 0]  # green
    assert pin_values(factory, 23) == [0, 1, 0]  # amber
    assert pin_values(factory, 24) == [0, 1, 0]  # red
    outputs.close()


def test_busy_pin_degrades_instead_of_crashing() -> None:
    from gpiozero import LED

    factory = MockFactory()
    squatter = LED(18, pin_factory=factory)
    outputs = AlertOutputs(alerts_cfg(), factory)
    assert outputs.problem is not None and "alert outputs unavailable" in outputs.problem
    outputs.start(Alert(0.0, "head", "fault"), 0.0)  # no crash, no sound
    outputs.tick(1.0)
    squatter.close()
