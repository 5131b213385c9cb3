"""`station console`: the trainers' web console."""

from station.cli import not_yet_built

register = not_yet_built("console", "the trainers' web console")
