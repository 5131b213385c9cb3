"""``station fleet record``: the gym's (or the chain's) subscriber that writes every station's
sessions, status, live progress and config answers into the fleet database
(:mod:`station.fleet.store`).

Nothing is acknowledged before it is stored. The recorder connects with a fixed client id and
``clean_session=False`` (a persistent MQTT session), subscribes with QoS 1 and acknowledges
each message by hand (paho's ``manual_ack``) only after the transaction holding it has
committed. So:

- the recorder stopped, crashed or killed: the broker keeps what it had not acknowledged, and
  keeps queueing new sessions for this client id, and sends both when it reconnects;
- the database unwritable (full disk, read-only, PostgreSQL down): the batch is rolled back,
  nothing of it is acknowledged, the recorder says why and exits with status 1 (systemd
  restarts it later); the broker redelivers on the next connection;
- a message delivered twice (a redelivery after a lost PUBACK, a broker restart): the session's
  uuid is the table's primary key, the second copy is ignored.

Limits (see docs/fleet-recorder.md): the broker holds a persistent session's backlog only up
to its ``max_queued_messages`` (Mosquitto's default is 1000, and it then DROPS QoS 1 messages:
the shipped broker config lifts it), and a broker that crashes (SIGKILL, power cut) loses what
it acknowledged to a station but had not yet saved to its persistence file or handed to the
recorder; a graceful broker stop saves it.

Messages are handed from paho's network thread to one writer thread, which stores whatever
has arrived since its last commit in one transaction (batches grow with the load, without a
timer adding latency), then acknowledges them in the order they arrived.
"""

from __future__ import annotations

import logging
import queue
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.fleet import wire
from station.fleet.settings import parse_broker
from station.fleet.store import FleetStore, Reject, StationUpdate, StoreError, parse_message

log = logging.getLogger("station.fleet.recorder")

BATCH_MAX = 500
KEEPALIVE_S = 30


@dataclass(frozen=True)
class Broker:
    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls_ca: Path | None = None
    tls: bool = False
    """TLS: with ``tls_ca`` (the gym's CA) or, for ``mqtts://`` without one, the system's CAs."""

    @classmethod
    def parse(
        cls,
        text: str,
        *,
        username: str | None = None,
        password: str | None = None,
        tls_ca: Path | None = None,
    ) -> Broker:
        """A broker address in any of :data:`~station.fleet.settings.BROKER_FORMS` (the one
        parser, :func:`~station.fleet.settings.parse_broker`) with its credentials."""
        address = parse_broker(text, tls_ca=tls_ca is not None)
        return cls(address.host, address.port, username, password, tls_ca, address.tls)


@dataclass(frozen=True)
class Incoming:
    topic: str
    payload: bytes
    qos: int
    mid: int
    generation: int
    received_at: float


def client_id_for(site: str | None) -> str:
    """The fixed client id that names the recorder's persistent session on the broker."""
    return f"station-recorder-{site or 'all'}"


def subscriptions(site: str | None) -> list[str]:
    """Every kind the recorder keeps, from one site or every site."""
    if site is None:
        return [f"{wire.ROOT}/+/+/{kind}" for kind in ("session", "status", "live", "config/state")]
    return [wire.site_filter(site, kind) for kind in ("session", "status", "live", "config/state")]


class Recorder:
    """One subscriber writing into one :class:`FleetStore`. :meth:`run` blocks until
    :meth:`stop` is called (or the store fails); it returns 0, or 1 after a store failure."""

    def __init__(
        self,
        store_target: str,
        broker: Broker,
        *,
        site: str | None = None,
        client_id: str | None = None,
        on_stored: Callable[[int], None] | None = None,
        home_assistant: str | None = None,
    ) -> None:
        if site is not None:
            wire.check_name("site", site)
        self.store_target = store_target
        self.broker = broker
        self.site = site
        self.client_id = client_id or client_id_for(site)
        self.on_stored = on_stored
        self.home_assistant = home_assistant
        self._announced: set[tuple[str, str]] = set()
        self.failure: StoreError | None = None
        self.stored_sessions = 0
        self.duplicates = 0
        self.rejects = 0
        self._queue: queue.Queue[Incoming] = queue.Queue()
        self._stop = threading.Event()
        self._generation = 0
        self._ack_lock = threading.Lock()
        self._connected = threading.Event()
        self._client = self._make_client()

    # --- MQTT -----------------------------------------------------------------------------------

    def _make_client(self) -> Any:
        import paho.mqtt.client as mqtt

        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            ca = str(self.broker.tls_ca) if self.broker.tls_ca else None
            client.tls_set(ca_certs=ca, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.on_connect_fail = self._on_connect_fail
        return client

    def _bump_generation(self) -> None:
        # Acks are per connection: a packet id acknowledged on a later connection could name
        # another message, so what arrived on an earlier one is never acknowledged (the broker
        # redelivers it, and the uuid keeps it stored once).
        with self._ack_lock:
            self._generation += 1

    def _on_connect(
        self, client: Any, _userdata: Any, flags: Any, reason: Any, _props: Any
    ) -> None:
        self._bump_generation()
        if reason.is_failure:
            log.error(
                "broker %s:%d refused the recorder: %s", self.broker.host, self.broker.port, reason
            )
            return
        log.info(
            "connected to %s:%d as %s (%s session)",
            self.broker.host,
            self.broker.port,
            self.client_id,
            "resumed" if flags.session_present else "new",
        )
        client.subscribe([(f, 1) for f in subscriptions(self.site)])
        self._connected.set()

    def _on_subscribe(
        self, _client: Any, _userdata: Any, _mid: int, reasons: list[Any], _props: Any
    ) -> None:
        # Sessions published before the broker grants the first subscription are not queued
        # for a recorder that has never connected: this line says from when nothing is missed.
        filters = subscriptions(self.site)
        refused = [f for f, r in zip(filters, reasons, strict=False) if r.is_failure]
        if refused:
            log.error("the broker refused the recorder's subscription to %s", ", ".join(refused))
        else:
            log.info("subscribed to %s", ", ".join(filters))

    def _on_disconnect(self, _c: Any, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self._bump_generation()
        self._connected.clear()
        if not self._stop.is_set():
            log.warning("lost the broker (%s); reconnecting", reason)

    def _on_connect_fail(self, _client: Any, _userdata: Any) -> None:
        log.warning("cannot reach the broker %s:%d; retrying", self.broker.host, self.broker.port)

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        self._queue.put(
            Incoming(
                message.topic,
                bytes(message.payload),
                message.qos,
                message.mid,
                self._generation,
                time.time(),
            )
        )

    def _ack(self, batch: list[Incoming]) -> None:
        with self._ack_lock:
            for m in batch:
                if m.qos and m.generation == self._generation:
                    self._client.ack(m.mid, m.qos)

    def _announce(self, site: str, station_id: str) -> None:
        """Home Assistant discovery for a station heard for the first time (by this process)."""
        if self.home_assistant is None or (site, station_id) in self._announced:
            return
        from station.fleet.homeassistant import discovery_messages

        for topic, payload in discovery_messages(site, station_id, self.home_assistant):
            self._client.publish(topic, payload, qos=1, retain=True)
        self._announced.add((site, station_id))

    # --- running --------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def run(self) -> int:
        try:
            store = FleetStore(self.store_target)
        except StoreError as exc:
            self.failure = exc
            log.error("%s", exc)
            return 1
        try:
            self._client.connect_async(self.broker.host, self.broker.port, keepalive=KEEPALIVE_S)
        except (OSError, socket.gaierror, ValueError) as exc:
            store.close()
            log.error("broker %s:%d: %s", self.broker.host, self.broker.port, exc)
            return 1
        self._client.loop_start()
        try:
            self._write_loop(store)
        finally:
            self._stop.set()  # also after a store failure: the disconnect is ours, not lost
            self._client.disconnect()
            self._client.loop_stop()
            store.close()
        if self.failure is not None:
            log.error(
                "%s. Nothing unstored was acknowledged: the broker keeps it for client id %s "
                "and sends it when the recorder reconnects.",
                self.failure,
                self.client_id,
            )
            return 1
        return 0

    def _write_loop(self, store: FleetStore) -> None:
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            while len(batch) < BATCH_MAX:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            items = [parse_message(m.topic, m.payload, m.received_at) for m in batch]
            try:
                result = store.write(items)
            except StoreError as exc:
                self.failure = exc
                return
            self._ack(batch)
            self.stored_sessions += len(result.new_sessions)
            self.duplicates += result.duplicates
            self.rejects += result.rejects
            if result.new_sessions or result.duplicates:
                # A line per batch holding sessions (not per live update): what an operator
                # reads to see sessions arriving, and what a test waits on instead of a sleep.
                log.info(
                    "stored %d new sessions, %d already held (this run: %d stored, %d duplicates)",
                    len(result.new_sessions),
                    result.duplicates,
                    self.stored_sessions,
                    self.duplicates,
                )
            for item in items:
                if isinstance(item, Reject):
                    log.warning("kept a rejected message from %s: %s", item.topic, item.reason)
                elif isinstance(item, StationUpdate) and item.kind == "status":
                    self._announce(item.site, item.station_id)
            if self.on_stored is not None and result.new_sessions:
                self.on_stored(len(result.new_sessions))
