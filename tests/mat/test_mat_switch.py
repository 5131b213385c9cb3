"""Counting from a contact-switch mat: edges through gpiozero's MockFactory into the timing
pipeline; the same sessions and answers as the force mat, without force."""

from __future__ import annotations

import numpy as np
import pytest

from station.clock import ManualClock
from station.events import ContactEdge, Landing, MatPresence
from station.mat.sensors import SwitchSource
from station.mat.switchmat import SwitchPipeline
from station.mat.synth import Jumps, Off, Stand, synthetic_session


def _edges(plan: list, chatter: bool = True) -> tuple[list[ContactEdge], list[float], int]:  # type: ignore[type-arg]
    """What a contact mat would say during a synthetic session: pressed while the total force
    is above 30 N, with 2 ms of contact bounce on every press."""
    t, force, truth = synthetic_session(plan, noise_n=0.0)
    pressed = force.sum(axis=1) > 30.0
    change = np.flatnonzero(np.diff(pressed.astype(int))) + 1
    edges = [ContactEdge(float(t[0]), True)] if pressed[0] else []
    for i in change:
        edges.append(ContactEdge(float(t[i]), bool(pressed[i])))
        if chatter and pressed[i]:
            edges += [
                ContactEdge(float(t[i]) + 0.001, False),
                ContactEdge(float(t[i]) + 0.002, True),
            ]
    return edges, truth.touchdowns, truth.doubles


def _run(edges: list[ContactEdge], end: float) -> tuple[SwitchPipeline, list[object]]:
    pipe = SwitchPipeline()
    events: list[object] = []
    for e in edges:
        events += pipe.feed(e)
    for now in np.arange(edges[-1].t, end, 0.05):
        events += pipe.tick(float(now))
    return pipe, events


@pytest.mark.parametrize(
    "plan",
    [
        [Stand(2), Jumps(30), Stand(1)],
        [Stand(2), Jumps(5), Jumps(6, flight_s=0.42, contact_s=0.22), Jumps(4), Stand(1)],
        [Stand(2), Jumps(10), Stand(1.2), Jumps(12), Stand(1), Off(2)],
        [Stand(2), Jumps(24, style="alternate", flight_s=0.1, contact_s=0.17), Stand(1)],
    ],
)
def test_switch_mat_counts_exactly(plan: list) -> None:  # type: ignore[type-arg]
    edges, touchdowns, doubles = _edges(plan)
    pipe, events = _run(edges, edges[-1].t + 3.0)
    landings = [e for e in events if isinstance(e, Landing)]
    assert len(landings) == len(touchdowns)
    # the switch closes ~2 ms into the landing (when the force passes 30 N)
    assert np.abs(np.array([x.t for x in landings]) - touchdowns).max() <= 0.0035
    assert pipe.state.doubles == doubles
    assert all(x.peak_bw is None and not x.hard for x in landings)


def test_switch_mat_miss_and_stepping_off() -> None:
    edges, _, _ = _edges([Stand(2), Jumps(10), Stand(1.2), Jumps(12), Stand(1), Off(2)])
    pipe, events = _run(edges, edges[-1].t + 3.0)
    st = pipe.state
    assert (st.count, st.misses, st.best_streak, st.on_mat) == (22, 1, 12, False)
    assert [e.on_mat for e in events if isinstance(e, MatPresence)] == [True, False]


def test_switch_source_to_pipeline_through_gpiozero() -> None:
    from gpiozero.pins.mock import MockFactory

    edges, touchdowns, _ = _edges([Stand(1), Jumps(8), Stand(1)], chatter=False)
    factory = MockFactory()
    clock = ManualClock()
    source = SwitchSource(17, factory, bounce_ms=0, clock=clock)
    pin = factory.pin(17)
    for e in edges:
        clock.set(e.t)
        if e.pressed:
            pin.drive_low()  # the mat closes the input to ground
        else:
            pin.drive_high()
    source.close()
    received = [e for e in source.events() if isinstance(e, ContactEdge)]
    assert received == edges
    pipe, _ = _run(received, received[-1].t + 1.0)
    assert pipe.state.count == len(touchdowns) == 8
