"""`station diag`: check each part of the station and print the fix for anything wrong."""

from station.cli import not_yet_built

register = not_yet_built(
    "diag", "check each part of the station and print the fix for anything wrong"
)
