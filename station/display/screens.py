"""The names of the kiosk's screens, in one place for `station screenshot --screen`, the display
benchmark and the demo views (:func:`station.display.demo.demo_view` builds one for each). A
module of its own so that `station --help` and the benchmark import neither numpy nor pygame."""

from __future__ import annotations

SCREENS: tuple[str, ...] = (
    "idle",
    "calibrating",
    "active",
    "active-live",
    "summary",
    "degraded",
    "degraded-mat",
    "feet-out",
)
"""What `station screenshot --screen` accepts: the five screens of the issue plus the active
screen with the live view, the mat-unavailable variant of the degraded banners, and the
camera-counted screen whose camera cannot see the feet (station.pose.framing)."""
