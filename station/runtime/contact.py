"""Counting from a contact-switch mat: timing only, no force.

A jump is a release followed by a press after at least MIN_FLIGHT_S in the air (shorter gaps
are contact bounce or a foot shuffling). The member is on the mat while pressed, and until
STEP_OFF_S after the last release: between jumps the switch is open most of the time.
"""

from __future__ import annotations

from station.events import ContactEdge

MIN_FLIGHT_S = 0.05
STEP_OFF_S = 1.0


class ContactCounter:
    def __init__(self) -> None:
        self.pressed = False
        self._released_t: float | None = None
        self.count = 0

    def edge(self, edge: ContactEdge) -> float | None:
        """Feed one edge; returns the touchdown time when it completed a jump."""
        jump: float | None = None
        if edge.pressed and not self.pressed:
            if self._released_t is not None and edge.t - self._released_t >= MIN_FLIGHT_S:
                self.count += 1
                jump = edge.t
        elif not edge.pressed and self.pressed:
            self._released_t = edge.t
        self.pressed = edge.pressed
        return jump

    def on_mat(self, now: float) -> bool:
        if self.pressed:
            return True
        return self._released_t is not None and now - self._released_t < STEP_OFF_S
