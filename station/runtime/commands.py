"""Commands from the trainer console, run on the station's own thread between frames."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from station.alerts.policy import Alert
from station.events import FAULTS

if TYPE_CHECKING:
    from station.runtime.station import Station

log = logging.getLogger(__name__)


def run_commands(station: Station, poller: Any, now: float) -> None:
    for command in poller.poll():
        try:
            ok, message = _run(station, command.name, dict(command.args), now)
        except Exception as exc:  # a bad request from the console must not stop the station
            log.exception("console command %s", command.name)
            ok, message = False, f"{type(exc).__name__}: {exc}"
        poller.reply(command, ok, message)


def _run(station: Station, name: str, args: dict[str, Any], now: float) -> tuple[bool, str]:
    if name == "beep":
        fault = str(args.get("fault", FAULTS[0]))
        if fault not in FAULTS:
            return False, f"unknown fault {fault!r}"
        if station.outputs.buzzer is None:
            return False, station.outputs.problem or "no buzzer configured"
        station.outputs.start(Alert(now, fault, "fault"), now)
        return True, f"beeping the {fault} pattern"
    return False, f"{name} is not supported by this station yet"
