"""`station run`: run the station (the kiosk, or --simulate)."""

from station.cli import not_yet_built

register = not_yet_built("run", "run the station (the kiosk, or --simulate)")
