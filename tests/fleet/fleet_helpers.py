"""Small MQTT helpers for the fleet tests (a logged-in client, a collecting subscriber)."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from station.fleet import wire


def connect(
    broker: Any,
    user: str,
    *,
    protocol: int = mqtt.MQTTv311,
    client_id: str = "",
    clean_session: bool | None = None,
    timeout_s: float = 5.0,
) -> mqtt.Client:
    """A client logged in as `user` (its password from the broker's list), loop running."""
    kwargs: dict[str, Any] = {"client_id": client_id, "protocol": protocol}
    if protocol != mqtt.MQTTv5:
        kwargs["clean_session"] = True if clean_session is None else clean_session
    client = mqtt.Client(CallbackAPIVersion.VERSION2, **kwargs)
    client.username_pw_set(user, broker.users[user])
    connected = threading.Event()
    client.on_connect = lambda _c, _u, _f, reason, _p: connected.set()
    client.connect(broker.host, broker.port, keepalive=10)
    client.loop_start()
    assert connected.wait(timeout_s), f"{user} could not connect"
    return client


class Collector:
    """A recorder-like subscriber: a persistent QoS 1 session (nothing queued for it is lost
    while it is away), every message kept in arrival order."""

    def __init__(self, broker: Any, topic_filter: str, *, user: str = "recorder") -> None:
        self.messages: list[tuple[str, dict[str, Any], bool]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"collector-{id(self)}", clean_session=False
        )
        self.client.username_pw_set(user, broker.users[user])
        self.client.on_connect = lambda c, _u, _f, _r, _p: c.subscribe(topic_filter, qos=1)
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.1, 0.5)  # type: ignore[arg-type]
        self.client.connect(broker.host, broker.port, keepalive=5)
        self.client.loop_start()

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, wire.decode(message.payload), message.retain))

    def of(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [p for t, p, _r in self.messages if wire.parse_topic(t)[2] == kind]

    def session_uuids(self) -> list[str]:
        """Every session message's uuid, duplicates included, in arrival order."""
        return [p["uuid"] for p in self.of("session")]

    def wait_for(self, condition: Callable[[], bool], timeout_s: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.05)
        return condition()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def make_certificates(folder: Path, name: str = "gym-ca") -> dict[str, Path]:
    """A CA (the gym's) and a broker certificate for 127.0.0.1 signed by it (openssl)."""
    folder.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    paths = {k: folder / f for k, f in
             (("ca", "ca.crt"), ("ca_key", "ca.key"), ("cert", "broker.crt"),
              ("key", "broker.key"), ("csr", "broker.csr"), ("ext", "san.ext"))}  # fmt: skip
    paths["ext"].write_text("subjectAltName=IP:127.0.0.1\n")
    for command in (
        ["req", "-x509", *ec, "-keyout", paths["ca_key"], "-out", paths["ca"], "-days", "2",
         "-subj", f"/CN={name}"],
        ["req", *ec, "-keyout", paths["key"], "-out", paths["csr"], "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", paths["csr"], "-CA", paths["ca"], "-CAkey", paths["ca_key"],
         "-CAcreateserial", "-out", paths["cert"], "-days", "2", "-extfile", paths["ext"]],
    ):  # fmt: skip
        subprocess.run(["openssl", *map(str, command)], check=True, capture_output=True)
    return paths
