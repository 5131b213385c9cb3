"""The [console] config section (the trainers' web console), and :class:`ConsoleSettings`,
the same section unpacked into typed fields for the code that serves it."""

from __future__ import annotations

from dataclasses import dataclass

from station.config.loader import Config
from station.config.schema import Key, Section

SECTION = Section(
    "The trainers' web console (its own process: `station console`).",
    {
        "bind": Key("0.0.0.0", "Address to listen on."),
        "port": Key(8080, "TCP port.", min=1, max=65535),
        "session_hours": Key(8.0, "A trainer's login lasts this long.", "h", min=0.1, max=168.0),
        "tls_certificate": Key(
            "/etc/station/console.crt",
            "HTTPS certificate (PEM), made by install.sh for the station's name. Empty: plain "
            "HTTP (only on a network you trust: passwords and cookies travel in clear).",
        ),
        "tls_key": Key("/etc/station/console.key", "The certificate's private key (PEM)."),
        "max_connections": Key(
            200,
            "Connections open at once; one more closes the oldest idle one (no request in "
            "progress), so a flood of idle connections neither exhausts the console's files "
            "nor locks a trainer out.",
            min=10,
            max=5000,
        ),
        "request_head_s": Key(
            10.0,
            "A connection must send its request within this long of opening (or of its last "
            "answer), else it is closed: slow-loris connections cannot pile up.",
            "s",
            min=1.0,
            max=120.0,
        ),
        "keepalive_s": Key(
            5.0,
            "An idle keep-alive connection is closed after this long.",
            "s",
            min=1.0,
            max=120.0,
        ),
    },
)


@dataclass(frozen=True)
class ConsoleSettings:
    """[console], typed: one field per key of SECTION (a test keeps them the same)."""

    bind: str
    port: int
    session_hours: float
    tls_certificate: str
    tls_key: str
    max_connections: int
    request_head_s: float
    keepalive_s: float

    @classmethod
    def from_config(cls, config: Config) -> ConsoleSettings:
        section = config["console"]
        return cls(
            bind=str(section["bind"]),
            port=int(section["port"]),
            session_hours=float(section["session_hours"]),
            tls_certificate=str(section["tls_certificate"]),
            tls_key=str(section["tls_key"]),
            max_connections=int(section["max_connections"]),
            request_head_s=float(section["request_head_s"]),
            keepalive_s=float(section["keepalive_s"]),
        )
