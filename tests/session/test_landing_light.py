from __future__ import annotations

from station.events import Landing
from station.session.landing import LandingLight


def landing(t: float, *, warn: bool = False, hard: bool = False) -> Landing:
    return Landing(t, None, 0.3, 0.2, 3.0, 50.0, 0.02, hard=hard, warn=warn)


def test_landing_light_needs_a_habit_not_a_slip_and_holds() -> None:
    light = LandingLight(window_s=2.0, hold_s=1.0)
    assert light.update(0.0) == "unknown"
    states = {}
    for i in range(40):  # 2 landings/s for 20 s; hard from 5 s to 10 s, one slip at 15 s
        t = i * 0.5
        light.add(landing(t, hard=5.0 <= t < 10.0 or t == 15.0))
        states[t] = light.update(t)
    assert states[1.0] == "ok"
    assert states[5.5] == "ok"  # within the hold time
    assert states[7.0] == "fault"
    assert states[9.5] == "fault"
    assert states[12.5] == "ok"
    assert all(states[t] == "ok" for t in (15.0, 15.5, 16.0, 17.0))


def test_warn_level_from_warn_landings() -> None:
    light = LandingLight(window_s=2.0, hold_s=0.0)
    for i in range(10):
        light.add(landing(i * 0.5, warn=True))
        state = light.update(i * 0.5)
    assert state == "warn"
