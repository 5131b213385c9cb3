"""The [uplink] config section: this station's link to the gym's MQTT broker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from station.config.schema import Key, Section
from station.fleet import wire

SCHEMES = {"mqtt": 1883, "mqtts": 8883}


def parse_broker(url: str) -> tuple[str, int, bool]:
    """``mqtt://host[:port]`` or ``mqtts://host[:port]`` → (host, port, tls); ValueError
    naming what is wrong otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"{url!r}: expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
    if not parts.hostname:
        raise ValueError(f"{url!r}: no host name")
    if parts.path not in ("", "/") or parts.query or parts.username:
        raise ValueError(f"{url!r}: only a scheme, a host and a port (credentials: username, "
                         "password_file)")  # fmt: skip
    try:
        port = parts.port or SCHEMES[parts.scheme]
    except ValueError:
        raise ValueError(f"{url!r}: the port is not a number from 1 to 65535") from None
    return parts.hostname, port, parts.scheme == "mqtts"


def _complete_when_enabled(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if data["broker"]:
        try:
            parse_broker(data["broker"])
        except ValueError as exc:
            errors.append(("broker", f"= {exc}"))
    for key, what in (("site", "site"), ("station_id", "station id")):
        if data[key]:
            try:
                wire.check_name(what, data[key])
            except wire.WireError as exc:
                errors.append((key, f"= {exc}"))
    if data["enabled"]:
        for key in ("broker", "site", "station_id"):
            if not data[key]:
                errors.append((key, "must be set when uplink.enabled = true"))
    return errors


SECTION = Section(
    "The gym's MQTT broker (`station uplink`, its own process and unit): finished sessions, "
    "status and live progress go up; presets pushed from the gym's console come down. "
    "Topics and payloads: docs/fleet.md.",
    {
        "enabled": Key(False, "Run the uplink (station-uplink.service exits at once when false)."),
        "broker": Key(
            "",
            "The broker: mqtt://HOST[:PORT] (1883) or mqtts://HOST[:PORT] (TLS, 8883).",
        ),
        "site": Key("", "The gym's id in topic names: lower-case letters, digits, - and _."),
        "station_id": Key(
            "",
            "This station's id in topic names (unique in the site; with the shipped ACL it is "
            "also its broker username).",
        ),
        "username": Key("", "Broker username. Empty: the station id."),
        "password_file": Key(
            "",
            "File holding the broker password (first line), readable by the station user "
            "only. Empty: no password.",
        ),
        "tls_ca": Key(
            "",
            "The gym's CA certificate (PEM) for mqtts://. Empty: the system's CAs.",
        ),
        "live_hz": Key(
            1.0,
            "Live progress (jumps, elapsed) during a session, messages per second; 0: none.",
            "Hz",
            min=0.0,
            max=2.0,
        ),
    },
    checks=(_complete_when_enabled,),
)
