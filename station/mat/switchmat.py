"""Jump timing from a contact-switch mat: pure code on ContactEdge events.

A switch mat knows only "pressed" and "released", so it counts and times jumps (take-off,
touchdown, flight and contact times, double-unders, streaks, misses, stepping off) but cannot
weigh or judge landings: those fields stay None and no landing is ever hard. The filters are
the force pipeline's, on edge times: a release shorter than ``min_flight_s`` is a double
contact (or switch bounce), a press shorter than ``min_contact_s`` a glitch. Arriving on an
empty mat is stepping on, never a landing: without force there is no impact to tell a drop
landing from a step.

Call :meth:`SwitchPipeline.tick` with the clock now and then (the runtime's frame loop does):
stops and stepping off are decided by time passing, not by an edge.
"""

from __future__ import annotations

import math

from station.events import ContactEdge, Event, Landing, MatPresence
from station.mat.pipeline import MatState, PipelineParams, Tally


class SwitchPipeline:
    def __init__(self, params: PipelineParams | None = None) -> None:
        self.p = params or PipelineParams()
        self.state = MatState(zone_status={"switch": "ok"})
        self._tally = Tally(self.state, self.p.cadence_window_s)
        self._pressed_t: float | None = None  # a press not yet confirmed as a contact
        self._gap_t: float | None = None  # a release during that press (bounce?)
        self._released_t: float | None = None  # a release not yet confirmed as a take-off
        self._ground = False
        self._td: float | None = None  # touchdown of the contact in progress
        self._td_takeoff: float | None = None  # the take-off before it (None: arrival)
        self._is_landing = False
        self._takeoff_t: float | None = None
        self._last_t = -math.inf
        self._events: list[Event] = []

    def update_params(self, params: PipelineParams) -> None:
        """New thresholds for what comes next, keeping the session."""
        self.p = params
        self._tally.window = params.cadence_window_s

    def feed(self, edge: ContactEdge) -> list[Event]:
        self._events = []
        if edge.t < self._last_t:
            return self._events  # out of order: ignore (gpiozero callbacks are serialised)
        self._advance(edge.t)
        self._last_t = edge.t
        if edge.pressed:
            self._press(edge.t)
        else:
            self._release(edge.t)
        return self._events

    def tick(self, now: float) -> list[Event]:
        self._events = []
        if now >= self._last_t:
            self._advance(now)
        return self._events

    def _press(self, t: float) -> None:
        if self._ground:
            if self._released_t is not None and t - self._released_t < self.p.min_flight_s:
                self._released_t = None  # a double contact: the contact goes on
            return
        if self._pressed_t is not None and self._gap_t is not None:
            self._gap_t = None  # contact bounce: the contact began at the first press
            return
        self._pressed_t = t

    def _release(self, t: float) -> None:
        if self._ground:
            self._released_t = t
        elif self._pressed_t is not None:
            self._gap_t = t  # a glitch, unless pressed again within min_flight_s

    def _advance(self, now: float) -> None:
        """Confirm what enough time has passed to confirm, in time order."""
        p = self.p
        if (
            self._ground
            and self._released_t is not None
            and now - self._released_t >= p.min_flight_s
        ):
            self._takeoff(self._released_t)
        if self._gap_t is not None and now - self._gap_t >= p.min_flight_s:
            self._pressed_t = self._gap_t = None  # it was a glitch
        if (
            not self._ground
            and self._pressed_t is not None
            and self._gap_t is None
            and now - self._pressed_t >= p.min_contact_s
        ):
            self._touchdown(self._pressed_t)
        if self._ground and self._td is not None and now - self._td >= p.stop_contact_s:
            self._close(None)
        if (
            not self._ground
            and self.state.on_mat
            and self._takeoff_t is not None
            and self._pressed_t is None
            and now - self._takeoff_t >= p.step_off_s
        ):
            self.state.on_mat = False
            self._tally.end_presence()
            self._takeoff_t = None
            self._events.append(MatPresence(now, False, None))

    def _touchdown(self, t: float) -> None:
        self._pressed_t = None
        self._ground = True
        arriving = not self.state.on_mat
        if arriving:
            self.state.on_mat = True
            self._events.append(MatPresence(t, True, None))
        self._td = t
        self._td_takeoff = None if arriving else self._takeoff_t
        self._is_landing = not arriving

    def _takeoff(self, t: float) -> None:
        self._released_t = None
        self._ground = False
        if self._td is not None:
            self._close(t)
        self._takeoff_t = t

    def _close(self, takeoff: float | None) -> None:
        td, self._td = self._td, None
        assert td is not None
        if not self._is_landing:
            self._tally.break_streak(stop=False)
            return
        flight = td - self._td_takeoff if self._td_takeoff is not None else None
        double = flight is not None and flight >= self.p.double_under_flight_s
        self._tally.landing(td, double, False)
        landing = Landing(
            t=td,
            takeoff_s=self._td_takeoff,
            flight_s=flight,
            contact_s=None if takeoff is None else takeoff - td,
            peak_bw=None,
            loading_rate_bw_s=None,
            time_to_peak_s=None,
            double_under=double,
            stopped=takeoff is None,
            count=self.state.count,
        )
        self.state.last_landing = landing
        self._events.append(landing)
        if takeoff is None:
            self._tally.break_streak(stop=True)
