"""`station screenshot`: render a screen to a PNG."""

from station.cli import not_yet_built

register = not_yet_built("screenshot", "render a screen to a PNG")
