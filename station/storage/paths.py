"""Where the station keeps its state, shared by the station and the console process.

Both processes must agree on these paths without talking to each other, so they are derived
only from the config ([storage] state_dir) and the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_STATE_DIR = Path("/var/lib/station")
DEFAULT_VOLATILE_DIR = Path("/dev/shm/station")

SESSIONS_DB = "sessions.sqlite3"
LIVE_STATUS = "live.json"
COMMANDS_DIR = "commands"
RESULTS_DIR = "results"
PID_FILE = "station.pid"


def state_dir(configured: str | os.PathLike[str] | None = None) -> Path:
    """STATION_STATE_DIR beats `configured` (the config's storage.state_dir, e.g.
    ``state_dir(cfg.get("storage.state_dir"))``) beats /var/lib/station."""
    env = os.environ.get("STATION_STATE_DIR")
    if env:
        return Path(env)
    if configured:
        return Path(configured)
    return DEFAULT_STATE_DIR


def runtime_dir(state: str | os.PathLike[str]) -> Path:
    """Where the station and the console exchange live files (status, commands, pid file).

    The RAM directory when one is given (STATION_RUNTIME_DIR, or systemd's RUNTIME_DIRECTORY:
    /run/station under both units), so a status rewritten several times a second never wears
    the SD card and a pid file never outlives a reboot; else the state directory itself."""
    for name in ("STATION_RUNTIME_DIR", "RUNTIME_DIRECTORY"):
        value = os.environ.get(name)
        if value:
            return Path(value.split(":")[0])
    return Path(state)


def volatile_dir() -> Path:
    """A RAM-backed directory for things that must never reach the SD card (camera snapshots).

    STATION_RUNTIME_DIR, else systemd's RUNTIME_DIRECTORY (/run/station under the unit), else
    /dev/shm/station. Both the station and the console resolve the same path."""
    for name in ("STATION_RUNTIME_DIR", "RUNTIME_DIRECTORY"):
        value = os.environ.get(name)
        if value:
            return Path(value.split(":")[0])
    return DEFAULT_VOLATILE_DIR
