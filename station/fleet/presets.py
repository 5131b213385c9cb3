"""Pushing a config change to one station, a group or a whole site: one retained ``config/set``
per addressed topic (``<site>/all`` for the site), each carrying the same ``change_id``, so
every station's ``config/state`` answer can be matched to it. A station that is offline gets
the retained message when it returns. The station validates the layer with its config schema
and applies all of it or none (the uplink's side)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from station.fleet import wire

if TYPE_CHECKING:
    from station.fleet.recorder import Broker

PUBACK_TIMEOUT_S = 10.0


class PushError(RuntimeError):
    """The broker could not be reached or did not acknowledge; nothing can be assumed sent."""


def preset_layer(name: str, preset: Mapping[str, Any]) -> dict[str, Any]:
    """A config layer that makes preset ``name`` (its thresholds included, so a station that
    never had it gets it) the one in force."""
    return {"presets": {name: dict(preset)}, "posture": {"preset": name}}


def targets_topics(site: str, targets: Sequence[str]) -> list[str]:
    """``config/set`` topics for ``targets``: station ids, or ``["all"]`` for the site."""
    if not targets:
        raise wire.WireError("no station addressed")
    if list(targets) == [wire.ALL]:
        return [wire.topic(site, wire.ALL, "config/set")]
    return [wire.topic(site, wire.check_name("station id", t), "config/set") for t in targets]


def push(broker: Broker, site: str, targets: Sequence[str], layer: Mapping[str, Any]) -> str:
    """Publish ``layer`` retained, QoS 1, to each target's ``config/set``; returns the change
    id once the broker acknowledged every one (:class:`PushError` otherwise)."""
    import paho.mqtt.client as mqtt

    topics = targets_topics(site, targets)
    change_id = str(uuid.uuid4())
    # issued_at (beyond v1's change_id and layer): a station that comes back to both a
    # retained site-wide and a retained per-station change can apply the newer one last.
    issued_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    payload = wire.encode({"change_id": change_id, "layer": dict(layer), "issued_at": issued_at})
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"station-console-{change_id[:8]}",
        protocol=mqtt.MQTTv311,
    )
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set(ca_certs=str(broker.tls_ca) if broker.tls_ca else None)
    connected = threading.Event()
    refused: list[str] = []

    def on_connect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            refused.append(str(reason))
        connected.set()

    client.on_connect = on_connect
    try:
        client.connect(broker.host, broker.port, keepalive=30)
    except OSError as exc:
        raise PushError(f"cannot reach the broker {broker.host}:{broker.port}: {exc}") from None
    client.loop_start()
    try:
        if not connected.wait(PUBACK_TIMEOUT_S) or refused:
            raise PushError(
                f"the broker refused the console: {refused[0] if refused else 'timeout'}"
            )
        infos = [client.publish(t, payload, qos=1, retain=True) for t in topics]
        for info in infos:
            info.wait_for_publish(PUBACK_TIMEOUT_S)
            if not info.is_published():
                raise PushError("the broker did not acknowledge the change")
    finally:
        client.disconnect()
        client.loop_stop()
    return change_id
