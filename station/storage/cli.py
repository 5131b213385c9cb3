"""`station sessions`: export the session log."""

from station.cli import not_yet_built

register = not_yet_built("sessions", "export the session log")
