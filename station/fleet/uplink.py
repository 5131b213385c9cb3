"""`station uplink`: this station's link to the gym's MQTT broker, in its own process.

It is a session consumer of the outbox (:mod:`station.storage.outbox`) that lives in its own
process and systemd unit (``station-uplink.service``, the one unit with network sockets): the
kiosk never waits for the network, and the network never sees the kiosk's devices.

- **Sessions**: each finished session in the log is published QoS 1 on ``…/session`` in the
  order they happened, with its uuid as idempotency key; it is marked delivered in the log only
  on the broker's PUBACK. Unacknowledged sessions stay in the log, so a broker outage, a power
  cut, a reboot or a SIGKILL only delays them: they are sent again, oldest first (a recorder
  stores each uuid once). At most :data:`WINDOW` are in flight, so a backlog of any size costs
  the same memory.
- **Status**: retained on ``…/status`` whenever it changes; the last will (retained) says
  ``offline`` when the uplink vanishes without a goodbye.
- **Live progress**: QoS 0 on ``…/live`` at ``uplink.live_hz`` during a session.
- **Config push**: ``config/set`` for this station or ``all`` is validated with the site
  config's schema, written by the console's atomic, audited writer and the kiosk is reloaded,
  like a save on the console; the answer (new version, or every error with its key path) goes
  retained to ``…/config/state``. Each change is applied once (its ``change_id`` is kept), so a
  retained change is applied by a station that was offline when it was sent, and not again.
  A change carrying ``issued_at`` older than the last change applied is skipped (retained
  ``all`` and per-station changes reach a returning station in either order).

Everything runs on one thread except paho's network loop, which only queues what it receives.
"""

from __future__ import annotations

import argparse
import json
import logging
import queue
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from station import __version__
from station.config.loader import Config, ConfigInvalid
from station.config.schema import ConfigError, Section, validate_layer
from station.fleet import wire
from station.fleet.settings import parse_broker, read_password
from station.storage.live import LiveStatus, read_live_status, request_reload
from station.storage.sessions import SessionLog, SessionRecord

if TYPE_CHECKING:
    from station.console.sitefile import SiteConfigFile

log = logging.getLogger(__name__)

CONSUMER = "uplink"
"""The uplink's delivery mark in the session log."""

WINDOW = 20
"""Sessions published and awaiting their PUBACK at once (paho's in-flight limit as well)."""

TICK_S = 0.1
"""The main loop's period: how soon a new session, an ack or a config change is handled."""

RETRY_S = 2.0
"""After a failed step (the session log busy, full or damaged) the uplink waits this long."""

LIVE_STALE_S = 10.0
"""live.json older than this: the kiosk is not running (the status says so)."""

ANSWERED_KEPT = 200
"""How many answered change ids are remembered (in the state folder) against re-applying."""

STATE_FILE = "uplink-state.json"

NOT_PUSHABLE = ("uplink",)
"""Sections a config/set may not touch: a push that rewrites [uplink] could cut the station off
the fleet for good. They are edited on the station itself."""

EXIT_USAGE = 2
EXIT_DISABLED = 1
"""--check: the uplink is disabled (systemd's ExecCondition then skips the unit quietly)."""
EXIT_CONDITION_FAILED = 255
"""--check: the config is broken (ExecCondition's 255 marks the unit failed: it shows)."""


class UplinkError(Exception):
    """The uplink cannot start; the message says what to fix."""


@dataclass(frozen=True)
class UplinkSettings:
    host: str
    port: int
    tls: bool
    site: str
    station_id: str
    username: str
    password: str | None
    tls_ca: str | None
    live_hz: float

    @classmethod
    def from_config(cls, config: Config) -> UplinkSettings:
        section = config["uplink"]
        address = parse_broker(section["broker"], tls_ca=bool(section["tls_ca"]))
        try:
            password = read_password(section["password_file"], "uplink.password_file")
        except ValueError as exc:
            raise UplinkError(str(exc)) from None
        return cls(
            host=address.host,
            port=address.port,
            tls=address.tls,
            site=section["site"],
            station_id=section["station_id"],
            username=section["username"] or section["station_id"],
            password=password,
            tls_ca=section["tls_ca"] or None,
            live_hz=float(section["live_hz"]),
        )

    def topic(self, kind: str, station_id: str | None = None) -> str:
        return wire.topic(self.site, station_id or self.station_id, kind)


# --- config push ----------------------------------------------------------------------------


def apply_config_set(
    payload: Mapping[str, Any],
    site_file: SiteConfigFile,
    schema: Section,
    *,
    address: str,
    reload: Callable[[], object],
) -> dict[str, Any]:
    """Validate and apply one ``config/set`` layer all at once, or not at all; the
    ``config/state`` answer. `site_file` is the console's
    :class:`~station.console.sitefile.SiteConfigFile` (the same atomic, audited writer)."""
    change_id = payload.get("change_id")
    layer = payload.get("layer")
    source = "config/set"
    errors: list[ConfigError] = []
    if not isinstance(change_id, str) or not 0 < len(change_id) <= 100:
        errors.append(ConfigError("change_id", "expected a string of 1-100 characters", source))
    if "issued_at" in payload and issued_at(payload) is None:
        errors.append(ConfigError("issued_at", "expected an ISO 8601 time with its zone", source))
    if not isinstance(layer, Mapping) or not layer:
        errors.append(ConfigError("layer", "expected a non-empty table of settings", source))
    else:
        errors.extend(validate_layer(layer, schema, source))
        refusal = (
            "not settable from the fleet (it could cut the station off); edit it on the station"
        )
        errors.extend(ConfigError(name, refusal, source) for name in layer if name in NOT_PUSHABLE)
    if not errors:
        assert isinstance(layer, Mapping)
        errors = _save(site_file, dict(_flatten(layer)), address, str(change_id), reload)
    return {
        "config_version": site_file.version(),
        "change_id": change_id if isinstance(change_id, str) else None,
        "ok": not errors,
        "errors": [{"key": e.path, "message": e.message} for e in errors],
    }


def issued_at(payload: Mapping[str, Any]) -> datetime | None:
    """A change's optional ``issued_at`` (wire.py), as an aware datetime; None when absent or
    not an ISO 8601 time with a zone (a change without it is applied in arrival order)."""
    text = payload.get("issued_at")
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def _save(
    site_file: SiteConfigFile,
    changes: dict[str, Any],
    address: str,
    change_id: str,
    reload: Callable[[], object],
) -> list[ConfigError]:
    from station.console.sitefile import ConcurrentEdit

    for _attempt in range(3):  # a console save in between: read the new version, try again
        try:
            applied = site_file.save(
                changes, site_file.version(), address=address, page=f"fleet {change_id}"
            )
        except ConcurrentEdit:
            continue
        except ConfigInvalid as exc:
            return list(exc.errors)
        except KeyError as exc:
            return [ConfigError(str(exc.args[0]), "unknown key", "config/set")]
        if applied:
            reload()
        return []
    return [ConfigError("", "the config file kept changing under us; try again", "config/set")]


def _flatten(layer: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in layer.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


# --- status ---------------------------------------------------------------------------------


def status_payload(
    live: LiveStatus | None, *, config_version: str, jumps_today: int, wall: float
) -> dict[str, Any]:
    """The retained status from the kiosk's live.json; a kiosk that is not running (no file,
    or a stale one) is reported offline with the reason, the uplink itself being up."""
    body: dict[str, Any] = {
        "at": _iso(wall),
        "config_version": config_version,
        "software_version": __version__,
        "jumps_today": jumps_today,
    }
    if live is None or live.age_s(lambda: wall) > LIVE_STALE_S:
        return {**body, "state": "offline", "reason": "the station program is not running",
                "devices": {}}  # fmt: skip
    devices = {
        device: "failed" if live.devices.get(device, "ok") != "ok" else role
        for device, role in live.device_roles.items()
    }
    state = "in_session" if live.in_session else "idle"
    return {**body, "state": state, "devices": devices}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


# --- the process ----------------------------------------------------------------------------


class Uplink:
    """The uplink's loop: call :meth:`run` with a stop event (SIGTERM sets it)."""

    def __init__(
        self,
        settings: UplinkSettings,
        *,
        state_dir: Path,
        site_file: SiteConfigFile,
        schema: Section,
        wall: Callable[[], float] = time.time,
    ) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.settings = settings
        self.state_dir = state_dir
        self.site_file = site_file
        self.schema = schema
        self.wall = wall
        self._log: SessionLog | None = None  # opened by the first step, in the thread that uses it
        self._answered, self._last_answer, self._applied_issued_at = self._load_state()
        self._acks: queue.Queue[int] = queue.Queue()
        self._incoming: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._connected = threading.Event()
        self._just_connected = threading.Event()
        # connection attempts that failed (refused, unreachable, a TLS handshake rejected):
        # what a test or `-v` watches instead of waiting a fixed time for nothing to happen
        self.connect_failures = 0
        self.config_sets_handled = 0  # config/set messages dealt with, whatever the outcome
        # mid -> the session it carries. Registered on this thread as soon as publish()
        # returns, and acks are only read on this thread, so no ack can come "too early".
        self._in_flight: dict[int, SessionRecord] = {}
        self._cursor = 0  # the newest session id handed to the client
        self._last_status: dict[str, Any] | None = None
        self._next_status = 0.0
        self._next_live = 0.0
        s = settings
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"station-{s.site}-{s.station_id}",
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        if s.username:
            self.client.username_pw_set(s.username, s.password)
        if s.tls:
            self.client.tls_set(ca_certs=s.tls_ca)
        self.client.will_set(
            s.topic("status"), wire.encode({"state": "offline"}), qos=1, retain=True
        )
        self.client.max_inflight_messages_set(WINDOW)
        self.client.reconnect_delay_set(1, 30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_connect_fail = self._on_connect_fail
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message

    # paho's network thread: only flags and queues ---------------------------------------

    def _on_connect(self, client: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("broker %s:%d refused us: %s", self.settings.host, self.settings.port, reason)
            return
        log.info("connected to %s:%d", self.settings.host, self.settings.port)
        for station_id in (self.settings.station_id, wire.ALL):
            client.subscribe(self.settings.topic("config/set", station_id), qos=1)
        self._connected.set()
        self._just_connected.set()

    def _on_connect_fail(self, _c: Any, _u: Any) -> None:
        self.connect_failures += 1  # only paho's thread writes it
        log.debug("cannot reach the broker %s:%d (attempt %d failed); retrying",
                  self.settings.host, self.settings.port, self.connect_failures)  # fmt: skip

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if self._connected.is_set():
            log.warning("disconnected from the broker (%s); sessions wait in the log", reason)
        self._connected.clear()

    def _on_publish(self, _c: Any, _u: Any, mid: int, _reason: Any, _p: Any) -> None:
        self._acks.put(mid)

    def _on_message(self, _c: Any, _u: Any, message: Any) -> None:
        self._incoming.put((message.topic, message.payload))

    # the uplink's own thread --------------------------------------------------------------

    @property
    def log(self) -> SessionLog:
        # opened on first use inside a step, so a log the kiosk holds locked at start-up is
        # retried like any other busy step instead of ending the thread
        if self._log is None:
            self._log = SessionLog.in_state_dir(self.state_dir)
        return self._log

    def run(self, stop: threading.Event) -> None:
        s = self.settings
        self.client.connect_async(s.host, s.port, keepalive=30)
        self.client.loop_start()
        try:
            while not stop.is_set():
                try:
                    self.step()
                except (sqlite3.Error, OSError):
                    # a busy, full or damaged log: nothing is marked, so nothing is lost;
                    # try again shortly rather than die (systemd would only restart us)
                    log.exception("uplink step failed; retrying")
                    stop.wait(RETRY_S)
                stop.wait(TICK_S)
        finally:
            if self._connected.is_set():
                # a clean goodbye: the will is not sent, so say it ourselves
                info = self.client.publish(
                    s.topic("status"), wire.encode({"state": "offline"}), qos=1, retain=True
                )
                info.wait_for_publish(2.0)
            self.client.disconnect()
            self.client.loop_stop()
            if self._log is not None:
                self._log.close()
                self._log = None

    def step(self) -> None:
        """One pass: acks, config pushes, status, live progress, new sessions."""
        self._mark_acked()
        if self._just_connected.is_set():
            self._just_connected.clear()
            self._last_status = None  # a broker that restarted may have lost it: send again
            if self._last_answer is not None:
                self._publish_retained("config/state", self._last_answer)
        while not self._incoming.empty():
            self._handle_config_set(*self._incoming.get())
            self.config_sets_handled += 1
        now = self.wall()
        if now >= self._next_status or self._last_status is None:
            self._next_status = now + 1.0
            self._publish_status(now)
        self._publish_live(now)
        if self._connected.is_set():
            self._publish_sessions()

    def _mark_acked(self) -> None:
        while True:
            try:
                mid = self._acks.get_nowait()
            except queue.Empty:
                return
            record = self._in_flight.pop(mid, None)
            if record is None:
                continue  # a status, live or config/state message
            self.log.mark_delivered(CONSUMER, record.id)
            log.info("session %s delivered", record.uuid)

    def _publish_sessions(self) -> None:
        room = WINDOW - len(self._in_flight)
        if room <= 0:
            return
        s = self.settings
        records = self.log.undelivered(CONSUMER, after_id=self._cursor, limit=room)
        if not records:
            # nothing new: every later row is open, so start there next time (a long log is
            # then never scanned again, only its new rows)
            self._cursor = max(self._cursor, self.log.final_through())
        for record in records:
            payload = {"uuid": record.uuid, "site": s.site, "station_id": s.station_id,
                       "session": record.to_dict()}  # fmt: skip
            info = self.client.publish(s.topic("session"), wire.encode(payload), qos=1)
            self._in_flight[info.mid] = record
            self._cursor = record.id
            log.info("session %s published (id %d)", record.uuid, record.id)

    def _publish_status(self, now: float) -> None:
        live = read_live_status(self.state_dir)
        today = date.fromtimestamp(now)
        status = status_payload(
            live,
            config_version=self.site_file.version(),
            jumps_today=self.log.jumps_since(today),
            wall=now,
        )
        comparable = {k: v for k, v in status.items() if k != "at"}
        if self._last_status == comparable or not self._connected.is_set():
            return
        self._publish_retained("status", status)
        self._last_status = comparable

    def _publish_live(self, now: float) -> None:
        hz = self.settings.live_hz
        if hz <= 0 or now < self._next_live or not self._connected.is_set():
            return
        self._next_live = now + 1.0 / hz
        live = read_live_status(self.state_dir)
        if live is None or not live.in_session or live.age_s(lambda: now) > LIVE_STALE_S:
            return
        payload = {
            "session_uuid": self.log.open_session_uuid(),
            "jumps": int(live.counts.get("jumps", 0)),
            "elapsed_s": float(live.counts.get("elapsed_s", 0.0)),
            "at": _iso(now),
        }
        self.client.publish(self.settings.topic("live"), wire.encode(payload), qos=0)

    def _publish_retained(self, kind: str, payload: dict[str, Any]) -> None:
        self.client.publish(self.settings.topic(kind), wire.encode(payload), qos=1, retain=True)

    def _handle_config_set(self, topic: str, data: bytes) -> None:
        try:
            wire.parse_topic(topic)
            payload = wire.decode(data)
        except wire.WireError as exc:
            log.error("ignoring a config/set on %s: %s", topic, exc)
            return
        change_id = payload.get("change_id")
        if isinstance(change_id, str) and change_id in self._answered:
            return  # applied before (a retained change seen again on reconnect)
        issued = issued_at(payload)
        last = self._applied_issued_at
        if issued is not None and last is not None and issued < last:
            # a retained `all` and a per-station change arrive in either order: the older
            # one must not undo the newer. Not answered: config/state keeps the newer.
            log.info("config/set %s skipped: issued before the change applied last",
                     change_id)  # fmt: skip
            if isinstance(change_id, str):
                self._answered.append(change_id)
                del self._answered[:-ANSWERED_KEPT]
            self._save_state()
            return
        answer = apply_config_set(
            payload,
            self.site_file,
            self.schema,
            address=f"mqtt {topic}",
            reload=lambda: request_reload(self.state_dir),
        )
        if answer["ok"]:
            log.info("config/set %s applied: version %s", change_id, answer["config_version"])
            if issued is not None:
                self._applied_issued_at = issued
        else:
            log.warning("config/set %s rejected: %s", change_id, answer["errors"])
        if isinstance(change_id, str):
            self._answered.append(change_id)
            del self._answered[:-ANSWERED_KEPT]
        self._last_answer = answer
        self._save_state()
        self._publish_retained("config/state", answer)
        self._last_status = None  # the config version changed: status again

    def _load_state(self) -> tuple[list[str], dict[str, Any] | None, datetime | None]:
        try:
            data = json.loads((self.state_dir / STATE_FILE).read_text())
            applied = issued_at({"issued_at": data.get("applied_issued_at")})
            return list(data["answered"]), data.get("last_answer"), applied
        except (OSError, ValueError, KeyError, TypeError):
            return [], None, None

    def _save_state(self) -> None:
        from station.storage.files import atomic_write_text

        applied = self._applied_issued_at
        body = {
            "answered": self._answered,
            "last_answer": self._last_answer,
            "applied_issued_at": applied.isoformat() if applied else None,
        }
        try:
            atomic_write_text(self.state_dir / STATE_FILE, json.dumps(body), fsync=True)
        except OSError as exc:
            log.error("cannot save %s: %s", STATE_FILE, exc)


# --- the command ----------------------------------------------------------------------------


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "uplink",
        help="send sessions and status to the gym's MQTT broker, take its config pushes",
        description="The station's link to the gym's MQTT broker ([uplink]; docs/fleet.md): "
        "publishes every finished session from the session log (QoS 1, oldest first, marked "
        "sent on PUBACK), a retained status with an 'offline' last will and live progress; "
        "applies config/set pushes with the site config's schema and answers on "
        "config/state. Runs until SIGTERM; survives broker outages.",
        epilog="Exit status: 0 stopped (or [uplink] enabled = false), 2 a bad config or "
        "password file (each error with its key path); with --check 0/1/255, see there.",
    )
    p.add_argument("--config", metavar="PATH", help="site config (default: $STATION_CONFIG or "
                   "/etc/station/station.toml)")  # fmt: skip
    p.add_argument("--state-dir", metavar="DIR", help="the session log's folder (default: "
                   "$STATION_STATE_DIR, else storage.state_dir)")  # fmt: skip
    p.add_argument(
        "--check",
        action="store_true",
        help="only check: exit 0 if [uplink] is enabled and complete, 1 if disabled, 255 if "
        "the config is broken (station-uplink.service's ExecCondition: a disabled uplink is "
        "skipped, a broken one fails visibly)",
    )
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    from station.config.loader import load_config_or_report, site_config_path
    from station.config.sections import SCHEMA
    from station.console.sitefile import SiteConfigFile
    from station.storage.paths import state_dir as default_state_dir

    config = load_config_or_report(args.config)
    if config is None:
        return EXIT_CONDITION_FAILED if args.check else EXIT_USAGE
    if not config["uplink"]["enabled"]:
        print("station uplink: [uplink] enabled = false; nothing to do", file=sys.stderr)
        return EXIT_DISABLED if args.check else 0
    try:
        settings = UplinkSettings.from_config(config)
    except UplinkError as exc:
        print(f"station uplink: {exc}", file=sys.stderr)
        return EXIT_CONDITION_FAILED if args.check else EXIT_USAGE
    if args.check:
        return 0
    state = Path(args.state_dir) if args.state_dir else default_state_dir(
        config["storage"]["state_dir"]
    )  # fmt: skip
    path = site_config_path(args.config)
    uplink = Uplink(
        settings,
        state_dir=state,
        site_file=SiteConfigFile(path, SCHEMA, state),
        schema=SCHEMA,
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    log.info("uplink to %s:%d as %s/%s", settings.host, settings.port, settings.site,
             settings.station_id)  # fmt: skip
    uplink.run(stop)
    return 0
