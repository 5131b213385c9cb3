"""The [fleet] config section: where the gym's side of the fleet (the console's Gym page,
``station fleet``) finds the fleet database and the broker. A station's own link to the broker
is [uplink], the uplink's section."""

from __future__ import annotations

from station.config.schema import Key, Section
from station.fleet.settings import BROKER_FORMS, check_broker

SECTION = Section(
    "The gym's view of its stations: the console's Gym page reads the fleet database that "
    "`station fleet record` fills, and pushes presets through the broker. Empty broker: the "
    "Gym page shows the stations but cannot push presets.",
    {
        "db": Key(
            "/var/lib/station/fleet.sqlite3",
            "Fleet database: a SQLite file (one gym) or postgresql://USER@HOST/DB (a chain).",
        ),
        "broker": Key("", f"MQTT broker for pushing presets: {BROKER_FORMS}."),
        "site": Key("", "This gym's site name on the broker (station/v1/<site>/...)."),
        "username": Key("", "Broker user of the console/fleet role (may publish config/set)."),
        "password_file": Key("", "File holding that user's broker password."),
        "tls_ca": Key(
            "",
            "CA certificate (PEM) of the gym's broker: connect with TLS. Empty: TLS only with "
            "mqtts://, checked against the system's CAs.",
        ),
    },
    checks=(check_broker,),
)
