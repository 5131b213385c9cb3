"""The station's state as the fleet sees it (the uplink's retained status and its live
progress) follows one rule, station.session.model.in_session: a session that counts (a jump)
on the screen. A summary on the screen, or someone calibrating who has not jumped yet, is idle."""

from __future__ import annotations

import time

import pytest

from station.fleet.uplink import status_payload
from station.session.model import counts_as_session
from station.storage.live import LiveStatus


def _state(phase: str, jumps: int, *, age_s: float = 0.0) -> str:
    now = time.time()
    live = LiveStatus(phase=phase, counts={"jumps": jumps}, timestamp=now - age_s)
    return str(status_payload(live, config_version="v", jumps_today=0, wall=now)["state"])


@pytest.mark.parametrize(
    ("phase", "jumps", "state"),
    [
        ("idle", 0, "idle"),
        ("calibrating", 0, "idle"),  # stepped on from idle, no jump yet: may still be dropped
        ("active", 0, "idle"),  # calibrated, not jumping yet
        ("summary", 0, "idle"),  # a summary, or the next person on it before their first jump
        ("calibrating", 1, "in_session"),  # jumped during calibration: it counts
        ("active", 1, "in_session"),
        ("active", 250, "in_session"),
    ],
)
def test_in_session_once_a_session_on_the_screen_has_a_jump(
    phase: str, jumps: int, state: str
) -> None:
    assert _state(phase, jumps) == state
    on_screen = phase in ("calibrating", "active")
    assert (state == "in_session") == (on_screen and counts_as_session(jumps))


def test_a_stale_live_file_is_offline_whatever_it_says() -> None:
    assert _state("active", 40, age_s=3600.0) == "offline"
