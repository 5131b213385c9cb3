from __future__ import annotations

from station.events import ContactEdge, Landing
from station.runtime.contact import ContactCounter
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


def test_contact_counter_counts_flights_not_bounce() -> None:
    counter = ContactCounter()
    edges = [
        (0.0, True),
        (1.0, False),
        (1.3, True),
        (1.32, False),
        (1.34, True),  # bounce
        (1.5, False),
        (1.8, True),
        (2.0, False),
    ]
    jumps = [counter.edge(ContactEdge(t, p)) for t, p in edges]
    assert [j for j in jumps if j is not None] == [1.3, 1.8]
    assert counter.on_mat(2.5) and not counter.on_mat(3.1)
