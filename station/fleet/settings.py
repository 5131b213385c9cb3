"""The [uplink] config section: this station's link to the gym's MQTT broker; and the one home
of a broker login's keys (:func:`broker_keys`, :func:`check_broker`, :func:`read_password`),
which [fleet] (gym_settings.py) declares too."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from station.config.schema import Key, Section
from station.fleet import wire

SCHEMES = {"mqtt": 1883, "mqtts": 8883}

BROKER_FORMS = (
    "mqtt://HOST[:PORT] (1883), mqtts://HOST[:PORT] (TLS, 8883), or a bare HOST or HOST:PORT "
    "(TLS, and 8883, when a tls_ca is set)"
)
"""The broker address forms, for [uplink] broker, [fleet] broker and --broker alike."""


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool


def parse_broker(text: str, *, tls_ca: bool = False) -> BrokerAddress:
    """The one parser of a broker address (uplink, recorder, console, ``station fleet``):
    ``mqtt://HOST[:PORT]``, ``mqtts://HOST[:PORT]``, ``HOST`` or ``HOST:PORT``. TLS when the
    scheme is mqtts or a CA is given (``tls_ca``); the default port is then 8883, else 1883.
    ValueError naming what is wrong otherwise."""
    scheme = text.partition("://")[0] if "://" in text else ""
    if scheme and scheme not in SCHEMES:
        raise ValueError(f"{text!r}: expected {BROKER_FORMS}")
    parts = urlsplit(text if scheme else f"mqtt://{text}")
    if not parts.hostname:
        raise ValueError(f"{text!r}: no host name")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{text!r}: only a scheme, a host and a port (credentials: username, "
                         "password_file)")  # fmt: skip
    tls = scheme == "mqtts" or tls_ca
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port is None:
        port = SCHEMES["mqtts"] if tls else SCHEMES["mqtt"]
    if not 1 <= port <= 65535:
        raise ValueError(f"{text!r}: the port is not a number from 1 to 65535")
    return BrokerAddress(parts.hostname, port, tls)


def check_broker(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A section's ``broker`` key, when set, in one of :data:`BROKER_FORMS`."""
    if not data["broker"]:
        return []
    try:
        parse_broker(data["broker"], tls_ca=bool(data["tls_ca"]))
    except ValueError as exc:
        return [("broker", f"= {exc}")]
    return []


TLS_RULE = "connect with TLS. Empty: TLS only with mqtts://, checked against the system's CAs."


def broker_keys(*, broker: str, username: str, password_file: str, tls_ca: str) -> dict[str, Key]:
    """The keys of a login to the gym's broker, declared once for each section that has one
    ([uplink]: a station's own; [fleet]: the gym console's and `station fleet`'s). The section
    says in its own words whose broker and login they are; the address forms and the TLS rule
    are said here, :func:`check_broker` checks the address and :func:`read_password` reads the
    password file the same way for both."""
    return {
        "broker": Key("", f"{broker}: {BROKER_FORMS}."),
        "username": Key("", username),
        "password_file": Key("", password_file),
        "tls_ca": Key("", f"{tls_ca}: {TLS_RULE}"),
    }


def read_password(path: str, key: str) -> str | None:
    """The password in a password file: its first line, stripped (None when no file is set).
    ValueError naming `key` (the key path, or the option) when it cannot be read."""
    if not path:
        return None
    try:
        lines = Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{key} {path}: cannot read it ({exc})") from None
    return lines[0].strip() if lines else ""


def _complete_when_enabled(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    errors = check_broker(data)
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


_LOGIN = broker_keys(
    broker="The gym's broker",
    username="Broker username. Empty: the station id.",
    password_file="File holding the broker password (first line), readable by the station user "
    "only. Empty: no password.",
    tls_ca="The gym's CA certificate (PEM)",
)

SECTION = Section(
    "The gym's MQTT broker (`station uplink`, its own process and unit): finished sessions, "
    "status and live progress go up; presets pushed from the gym's console come down. "
    "Topics and payloads: docs/fleet.md.",
    {
        "enabled": Key(False, "Run the uplink (station-uplink.service exits at once when false)."),
        "broker": _LOGIN["broker"],
        "site": Key("", "The gym's id in topic names: lower-case letters, digits, - and _."),
        "station_id": Key(
            "",
            "This station's id in topic names (unique in the site; with the shipped ACL it is "
            "also its broker username).",
        ),
        "username": _LOGIN["username"],
        "password_file": _LOGIN["password_file"],
        "tls_ca": _LOGIN["tls_ca"],
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
