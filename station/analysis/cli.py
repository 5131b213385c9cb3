"""`station analyze`: count jumps and judge posture in a video or landmark track."""

from station.cli import not_yet_built

register = not_yet_built("analyze", "count jumps and judge posture in a video or landmark track")
