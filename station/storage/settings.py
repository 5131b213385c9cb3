"""The [storage] config section."""

from station.config.schema import Key, Section

SECTION = Section(
    "Where the station keeps its session log (no images, no identities).",
    {
        "state_dir": Key(
            "/var/lib/station",
            "State directory: the session log (sessions.sqlite3), the console's password hash, "
            "cookie secret and audit log. STATION_STATE_DIR overrides it. Live files shared "
            "with the console (live.json, commands, station.pid) go to STATION_RUNTIME_DIR "
            "(/run/station under systemd) when set, else here.",
        ),
    },
)
