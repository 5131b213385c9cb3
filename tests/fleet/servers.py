"""The recorder's test tools: stations that publish version-1 wire messages with a real MQTT
client, and `station fleet record` in its own process.

The servers' fixtures (`broker`, `postgres_cluster`, `pg_url`) live in tests/fleet/conftest.py
with the uplink's, on the one Mosquitto class."""

from __future__ import annotations

import contextlib
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from station.events import FAULTS
from station.fleet import wire
from station.fleet.store import FleetStore
from station.storage.sessions import SessionLog

SITE = "gym-north"
DAY_START = 1_780_000_000.0  # a fixed morning, so summaries are reproducible


# --- stations' own session logs -----------------------------------------------------------------


@dataclass
class StationDay:
    """One station's day: its real session log (SQLite, as the station keeps it) and the
    session messages it would send."""

    station_id: str
    messages: list[tuple[str, bytes]] = field(default_factory=list)
    uuids: list[str] = field(default_factory=list)
    jumps: int = 0
    duration_s: float = 0.0


def station_day(folder: Path, station_id: str, sessions: int, seed: int) -> StationDay:
    """A day of sessions written through the station's real SessionLog, read back as the
    station would send them (SessionRecord.to_dict()), keyed by a uuid each."""
    rng = random.Random(seed)
    day = StationDay(station_id)
    t = DAY_START
    with SessionLog.in_state_dir(folder / station_id) as log:
        for _ in range(sessions):
            t += rng.uniform(300, 1500)
            duration = rng.uniform(30, 600)
            sid = log.begin(started_at=t)
            jumps = int(duration * rng.uniform(1.5, 2.8))
            log.finish(
                sid,
                {
                    "duration_s": duration,
                    "jumps": jumps,
                    "best_streak": rng.randint(5, max(6, jumps)),
                    "cadence_avg_per_min": 60 * jumps / duration,
                    "fault_seconds": {f: rng.uniform(0, 10) for f in FAULTS},
                    "fault_onsets": {f: [rng.uniform(0, duration)] for f in FAULTS[:2]},
                    "count_source": "mat",
                    "top_fault": rng.choice(FAULTS),
                    "cadence_series": [[k * 5.0, 120.0] for k in range(5)],
                },
                ended_at=t + duration,
            )
            t += duration
        records = log.sessions()
    for record in records:
        key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{SITE}/{station_id}/{record.id}"))
        payload = {"uuid": key, "site": SITE, "station_id": station_id, "session": record.to_dict()}
        day.messages.append((wire.topic(SITE, station_id, "session"), wire.encode(payload)))
        day.uuids.append(key)
        day.jumps += record.jumps
        day.duration_s += record.duration_s
    return day


# --- stations on the wire -----------------------------------------------------------------------


class StationClient:
    """A station's MQTT side as the uplink behaves: persistent session, QoS 1, a session
    counts as sent only on its PUBACK (paho resends un-acknowledged ones after a reconnect)."""

    def __init__(self, port: int, station_id: str) -> None:
        self.station_id = station_id
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"test-station-{station_id}",
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        self.client.max_inflight_messages_set(20)
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.will_set(
            wire.topic(SITE, station_id, "status"),
            wire.encode({"state": "offline"}),
            qos=1,
            retain=True,
        )
        self.unacked: set[int] = set()
        self.acked: set[int] = set()
        self._lock = threading.Lock()
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()

    def _on_publish(self, _c: Any, _u: Any, mid: int, _reason: Any, _props: Any) -> None:
        with self._lock:
            self.acked.add(mid)

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        # While the broker is away paho keeps the message (rc "not connected") and sends it
        # after reconnecting, as the uplink's outbox does.
        # (Our lock is never held while calling paho: its network thread holds paho's lock
        # when it calls _on_publish.)
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
            raise AssertionError("paho refused to queue a message")
        if qos:
            with self._lock:
                self.unacked.add(info.mid)

    def status(self, state: str, **extra: Any) -> None:
        payload = {
            "state": state,
            "at": "2026-05-28T09:00:00+00:00",
            "devices": {"mat": "simulated", "camera": "simulated"},
            "config_version": "v1",
            "software_version": "0.1.0",
            "jumps_today": 0,
            **extra,
        }
        self.publish(wire.topic(SITE, self.station_id, "status"), wire.encode(payload), retain=True)

    def wait_all_acked(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                left = self.unacked - self.acked
            if not left:
                return
            assert time.monotonic() < deadline, f"{self.station_id}: {len(left)} not acknowledged"
            time.sleep(0.05)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# --- the recorder in its own process ------------------------------------------------------------


class RecorderProcess:
    def __init__(
        self, tmp: Path, port: int, db: str, *, site: str | None = SITE, extra: tuple[str, ...] = ()
    ) -> None:
        self.log_path = tmp / f"recorder-{uuid.uuid4().hex[:6]}.log"
        args = [sys.executable, "-m", "station", "-v", "fleet", "record",
                "--broker", f"127.0.0.1:{port}", "--db", db]  # fmt: skip
        if site:
            args += ["--site", site]
        args += extra
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_connected(self, count: int = 1, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.log().count("connected to") < count:
            assert self.proc.poll() is None, f"recorder exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"recorder did not connect:\n{self.log()}"
            time.sleep(0.05)

    def handled(self) -> tuple[int, int]:
        """(sessions stored, duplicates ignored) by this process so far, as it logs them
        after each committed batch holding sessions (station.fleet.recorder)."""
        found = re.findall(r"this run: (\d+) stored, (\d+) duplicates", self.log())
        return (int(found[-1][0]), int(found[-1][1])) if found else (0, 0)

    def wait_handled(
        self, stored: int, duplicates: int = 0, timeout_s: float = 120.0
    ) -> tuple[int, int]:
        """Wait until this process has stored at least `stored` sessions and ignored at least
        `duplicates` copies: an observable point, where a fixed sleep only hoped to be late
        enough (the timeout only stops a hang)."""
        deadline = time.monotonic() + timeout_s
        while not (self.handled()[0] >= stored and self.handled()[1] >= duplicates):
            assert self.proc.poll() is None, f"recorder exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"recorder handled {self.handled()}:\n{self.log()}"
            time.sleep(0.05)
        return self.handled()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)


def wait_sessions(db: str, count: int, timeout_s: float = 120.0) -> int:
    deadline = time.monotonic() + timeout_s
    seen = -1
    while time.monotonic() < deadline:
        try:
            with FleetStore(db, readonly=not db.startswith("postgres")) as store:
                seen = store.session_count()
        except Exception:
            seen = -1
        if seen >= count:
            return seen
        time.sleep(0.1)
    return seen


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    """Poll an observable condition; the timeout only stops a hang, far beyond its usual time."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def stations_held(db: str, site: str | None = SITE) -> list[dict[str, Any]]:
    """The fleet database's stations as the recorder has them so far ([] before it exists)."""
    try:
        with FleetStore(db, readonly=not db.startswith("postgres")) as store:
            return store.stations(site=site)
    except Exception:
        return []


def fill(folder: Path) -> None:
    """Fill the file system of `folder` to the last byte."""
    with (folder / "ballast").open("wb", buffering=0) as fh:
        for block in (65536, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    fh.write(b"\0" * block)
