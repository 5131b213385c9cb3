"""Home Assistant MQTT discovery for the fleet: for each station, a "state" sensor (idle, in
session, offline) and a "jumps today" sensor, both read by Home Assistant straight from the
station's retained ``status`` topic. The recorder publishes the (retained) discovery configs
the first time it hears a station's status, when started with ``--home-assistant``.

See https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery for the format."""

from __future__ import annotations

import json
from typing import Any

from station.fleet import wire

DEFAULT_PREFIX = "homeassistant"


def discovery_messages(
    site: str, station_id: str, prefix: str = DEFAULT_PREFIX
) -> list[tuple[str, bytes]]:
    """(topic, payload) of each discovery config for one station."""
    node = f"station_{site}_{station_id}".replace("-", "_")
    status = wire.topic(site, station_id, "status")
    device = {
        "identifiers": [node],
        "name": f"Jump station {station_id}",
        "manufacturer": "station",
        "model": "jump-rope coaching station",
        "suggested_area": site,
    }
    availability = {
        "availability_topic": status,
        "availability_template": "{{ 'offline' if value_json.state == 'offline' else 'online' }}",
        "payload_available": "online",
        "payload_not_available": "offline",
    }
    sensors: dict[str, dict[str, Any]] = {
        "state": {
            "name": "State",
            "value_template": "{{ value_json.state }}",
            "icon": "mdi:jump-rope",
        },
        "jumps_today": {
            "name": "Jumps today",
            "value_template": "{{ value_json.jumps_today | default(0) }}",
            "unit_of_measurement": "jumps",
            "state_class": "measurement",
            "icon": "mdi:counter",
            **availability,
        },
    }
    out = []
    for key, sensor in sensors.items():
        config = {"unique_id": f"{node}_{key}", "state_topic": status, "device": device, **sensor}
        out.append((f"{prefix}/sensor/{node}/{key}/config", json.dumps(config).encode()))
    return out
