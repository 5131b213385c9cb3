"""The [console] config section: the trainers' web console."""

from station.config.schema import Key, Section

SECTION = Section(
    "The trainers' web console (its own process: `station console`).",
    {
        "bind": Key("0.0.0.0", "Address to listen on."),
        "port": Key(8080, "TCP port.", min=1, max=65535),
        "session_hours": Key(8.0, "A trainer's login lasts this long.", "h", min=0.1, max=168.0),
    },
)
