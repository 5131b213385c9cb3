"""The [storage] config section."""

from station.config.schema import Key, Section

SECTION = Section(
    "Where the station keeps its session log (no images, no identities).",
    {
        "state_dir": Key(
            "/var/lib/station",
            "State directory; the session log is "
            "sessions.sqlite3 inside it. STATION_STATE_DIR overrides it.",
        ),
    },
)
