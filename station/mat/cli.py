"""`station mat`: mat tools: analyze a recording, calibrate, record."""

from station.cli import not_yet_built

register = not_yet_built("mat", "mat tools: analyze a recording, calibrate, record")
