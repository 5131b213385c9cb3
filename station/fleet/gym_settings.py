"""The [fleet] config section: where the gym's side of the fleet (the console's Gym page,
``station fleet``) finds the fleet database and the broker. A station's own link to the broker
is [uplink], the uplink's section."""

from __future__ import annotations

from station.config.schema import Key, Section
from station.fleet.settings import broker_keys, check_broker

_LOGIN = broker_keys(
    broker="MQTT broker for pushing presets",
    username="Broker user of the console/fleet role (may publish config/set).",
    password_file="File holding that user's broker password.",
    tls_ca="CA certificate (PEM) of the gym's broker",
)

SECTION = Section(
    "The gym's view of its stations: the console's Gym page reads the fleet database that "
    "`station fleet record` fills, and pushes presets through the broker. Empty broker: the "
    "Gym page shows the stations but cannot push presets.",
    {
        "db": Key(
            "/var/lib/station/fleet.sqlite3",
            "Fleet database: a SQLite file (one gym) or postgresql://USER@HOST/DB (a chain).",
        ),
        "broker": _LOGIN["broker"],
        "site": Key("", "This gym's site name on the broker (station/v1/<site>/...)."),
        "username": _LOGIN["username"],
        "password_file": _LOGIN["password_file"],
        "tls_ca": _LOGIN["tls_ca"],
    },
    checks=(check_broker,),
)
