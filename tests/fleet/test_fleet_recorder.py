"""`station fleet record` in its own process against a real Mosquitto (and a real PostgreSQL):
a busy day of 20 stations, the broker killed mid-day, the recorder stopped mid-day, a full disk.
Every session is stored exactly once and the per-station summaries match the stations' own
session logs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from servers import (
    SITE,
    RecorderProcess,
    StationClient,
    StationDay,
    fill,
    station_day,
    stations_held,
    wait_sessions,
    wait_until,
)
from tmpfs_mount import can_mount, tmpfs

from station.fleet import wire
from station.fleet.store import FleetStore
from station.fleet.testbed import Mosquitto

STATIONS = 20
PER_STATION = 30  # a busy station's day: a session every 15-30 minutes over ~12 hours


@pytest.fixture(scope="module")
def busy_day(tmp_path_factory: pytest.TempPathFactory) -> list[StationDay]:
    folder = tmp_path_factory.mktemp("stations")
    return [station_day(folder, f"st-{i:02d}", PER_STATION, seed=i) for i in range(STATIONS)]


def check_recorded(db: str, days: list[StationDay]) -> None:
    """Every session exactly once, and each station's count, jumps and time as in its log."""
    with FleetStore(db, readonly=not db.startswith("postgres")) as store:
        stored = store.sessions()
        totals = store.per_station(site=SITE)
    uuids = [s["uuid"] for s in stored]
    expected = {u for d in days for u in d.uuids}
    assert len(uuids) == len(set(uuids)) == len(expected), "a session missing or doubled"
    assert set(uuids) == expected
    for d in days:
        mine = totals[(SITE, d.station_id)]
        assert mine["sessions"] == len(d.uuids)
        assert mine["jumps"] == d.jumps
        assert mine["duration_s"] == pytest.approx(d.duration_s)


def publish_days(port: int, days: list[StationDay], part: slice) -> list[StationClient]:
    clients = [StationClient(port, d.station_id) for d in days]
    for client, d in zip(clients, days, strict=True):
        client.status("in_session")
        for topic, payload in d.messages[part]:
            client.publish(topic, payload)
        client.publish(
            wire.topic(SITE, d.station_id, "live"),
            wire.encode({"session_uuid": d.uuids[0], "jumps": 42, "elapsed_s": 20.0}),
            qos=0,
        )
    return clients


def close_all(clients: list[StationClient]) -> None:
    for c in clients:
        c.wait_all_acked()
        c.close()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_busy_day_every_session_exactly_once(
    engine: str,
    broker: Mosquitto,
    busy_day: list[StationDay],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    db = (
        str(tmp_path / "fleet.sqlite3") if engine == "sqlite" else request.getfixturevalue("pg_url")
    )
    recorder = RecorderProcess(tmp_path, broker.port, db)
    recorder.wait_connected()
    clients = publish_days(broker.port, busy_day, slice(None))
    # Some sessions sent twice, as an uplink does when a PUBACK is lost.
    for c, d in zip(clients[:5], busy_day[:5], strict=True):
        for topic, payload in d.messages[:3]:
            c.publish(topic, payload)
    close_all(clients)
    total = STATIONS * PER_STATION
    # Each station's resent copies follow its originals: the recorder stores every session
    # once and counts each copy as held (more copies only if the broker redelivered after a
    # dropped connection).
    stored, duplicates = recorder.wait_handled(total, 15)
    assert stored == total and duplicates >= 15, recorder.log()
    assert wait_sessions(db, total) == total, recorder.log()
    # The live updates are QoS 0, in no order with the sessions: wait until each is held.
    wait_until(
        lambda: sum(bool(s["live"]) for s in stations_held(db)) == STATIONS, "every live update"
    )
    assert recorder.stop() == 0, recorder.log()
    check_recorded(db, busy_day)
    with FleetStore(db, readonly=engine == "sqlite") as store:
        stations = store.stations(site=SITE)
    assert len(stations) == STATIONS
    assert all(s["status"]["state"] == "in_session" for s in stations)
    assert all(s["live"]["jumps"] == 42 for s in stations)
    assert "Traceback" not in recorder.log()


def test_broker_killed_mid_day_nothing_lost_or_doubled(
    broker: Mosquitto,
    busy_day: list[StationDay],
    tmp_path: Path,
) -> None:
    """SIGKILL, not a graceful stop: the broker comes back with its last saved state (the
    recorder's persistent session and subscriptions, saved once it had subscribed), the
    stations resend what was not acknowledged, the recorder stores it once.

    The kill comes once the recorder holds the morning: what a crashed broker had
    acknowledged to a station but neither saved nor handed on is lost (docs/fleet-recorder.md,
    "A broker crash"), so killing it at a moment picked by a sleep would test the machine's
    load, not the recorder."""
    db = str(tmp_path / "fleet.sqlite3")
    recorder = RecorderProcess(tmp_path, broker.port, db)
    recorder.wait_connected()
    broker.save()  # the broker's periodic autosave, made deterministic
    days = busy_day[:10]
    clients = publish_days(broker.port, days, slice(0, PER_STATION // 2))
    recorder.wait_handled(len(days) * (PER_STATION // 2))
    broker.kill()
    wait_until(lambda: not any(c.client.is_connected() for c in clients), "stations see it down")
    for c, d in zip(clients, days, strict=True):  # published while the broker is down
        for topic, payload in d.messages[PER_STATION // 2 :]:
            c.publish(topic, payload)
    broker.start()
    close_all(clients)
    total = len(days) * PER_STATION
    assert wait_sessions(db, total) == total, recorder.log()
    assert recorder.stop() == 0, recorder.log()
    check_recorded(db, days)
    assert recorder.log().count("connected to") >= 2  # it did lose the broker, and came back


def test_recorder_stopped_mid_day_gets_the_backlog_once(
    broker: Mosquitto,
    busy_day: list[StationDay],
    tmp_path: Path,
) -> None:
    """The recorder SIGKILLed mid-stream: what it had not acknowledged, and everything sent
    while it was down, arrives when it starts again (its persistent session)."""
    db = str(tmp_path / "fleet.sqlite3")
    days = busy_day[10:]
    recorder = RecorderProcess(tmp_path, broker.port, db)
    recorder.wait_connected()
    clients = publish_days(broker.port, days, slice(0, PER_STATION // 2))
    recorder.wait_handled(1)  # mid-stream: storing, the rest on its way or in the broker
    recorder.proc.kill()
    recorder.proc.wait(10)
    for c, d in zip(clients, days, strict=True):
        for topic, payload in d.messages[PER_STATION // 2 :]:
            c.publish(topic, payload)
    close_all(clients)  # all acknowledged by the broker while no recorder runs
    again = RecorderProcess(tmp_path, broker.port, db)
    total = len(days) * PER_STATION
    assert wait_sessions(db, total) == total, again.log()
    assert again.stop() == 0, again.log()
    assert "resumed session" in again.log()
    check_recorded(db, days)


def test_recorder_full_disk_clear_error_then_nothing_lost(
    broker: Mosquitto,
    busy_day: list[StationDay],
    tmp_path: Path,
) -> None:
    """The recorder's database on a real tmpfs filled to the last byte: it stops with the
    cause and acknowledges nothing it did not store; with space again, everything arrives."""
    if not can_mount():
        pytest.skip("needs root with CAP_SYS_ADMIN to mount a tmpfs")
    days = busy_day[:4]
    with tmpfs(tmp_path / "disk", "2m") as disk:
        db = str(disk / "fleet.sqlite3")
        recorder = RecorderProcess(tmp_path, broker.port, db)
        recorder.wait_connected()
        clients = publish_days(broker.port, days, slice(0, 5))
        assert wait_sessions(db, 20) == 20
        fill(disk)
        for c, d in zip(clients, days, strict=True):
            for topic, payload in d.messages[5:]:
                c.publish(topic, payload)
        close_all(clients)  # the broker holds them for the recorder
        code = recorder.proc.wait(60)
        log = recorder.log()
        assert code == 1, log
        assert "disk is full" in log and "Nothing unstored was acknowledged" in log, log
        assert "Traceback" not in log
        (disk / "ballast").unlink()
        again = RecorderProcess(tmp_path, broker.port, db)
        total = len(days) * PER_STATION
        assert wait_sessions(db, total) == total, again.log()
        assert again.stop() == 0, again.log()
        check_recorded(db, days)


def test_fleet_status_shows_every_station(tmp_path: Path, busy_day: list[StationDay]) -> None:
    from station.fleet.store import parse_message

    db = tmp_path / "fleet.sqlite3"
    days = busy_day[:3]
    with FleetStore(db) as store:
        store.write([parse_message(t, p, 1.0) for d in days for t, p in d.messages])
        store.write(
            [
                parse_message(
                    wire.topic(SITE, "st-00", "status"),
                    wire.encode({"state": "in_session", "devices": {"mat": "failed"}}),
                    time.time(),
                ),
                parse_message(
                    wire.topic(SITE, "st-00", "live"), wire.encode({"jumps": 77}), time.time()
                ),
            ]
        )
    out = subprocess.run(
        [sys.executable, "-m", "station", "fleet", "status", "--db", str(db), "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = {r["station_id"]: r for r in json.loads(out.stdout)}
    assert set(rows) == {"st-00", "st-01", "st-02"}
    assert rows["st-00"]["state"] == "in_session" and rows["st-00"]["live_jumps"] == 77
    assert rows["st-01"]["state"] == "unknown" and rows["st-01"]["live_jumps"] is None
    table = subprocess.run(
        [sys.executable, "-m", "station", "fleet", "status", "--db", str(db)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "mat FAILED" in table and "st-02" in table


def test_simulated_stations_sessions_arrive_as_their_logs_hold_them(
    broker: Mosquitto,
    tmp_path: Path,
) -> None:
    """Three stations run for real (`station run --simulate SCRIPT --fast --json`, each its own
    session log); what they logged, sent in the wire format, is what the recorder holds."""
    from station.storage.sessions import SessionLog

    scripts = Path(__file__).resolve().parents[2] / "station" / "sim" / "scripts"
    runs = {}
    for i, script in enumerate(["alternate_foot", "double_under", "misses_heels"]):
        state = tmp_path / f"sim-{i}"
        runs[f"sim-{i}"] = (
            state,
            subprocess.Popen(
                [sys.executable, "-m", "station", "run", "--simulate",
                 str(scripts / f"{script}.toml"), "--fast", "--json", "--state-dir", str(state)],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            ),
        )  # fmt: skip
    db = str(tmp_path / "fleet.sqlite3")
    recorder = RecorderProcess(tmp_path, broker.port, db)
    recorder.wait_connected()
    expected = {}
    for station_id, (state, proc) in runs.items():
        out, _ = proc.communicate(timeout=180)
        assert proc.returncode == 0
        printed = json.loads(out)
        with SessionLog.in_state_dir(state) as log:
            logged = [r.to_dict() for r in log.sessions()]
        assert printed == logged and logged  # --json prints the log
        client = StationClient(broker.port, station_id)
        for record in logged:
            key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{SITE}/{station_id}/{record['id']}"))
            body = {"uuid": key, "site": SITE, "station_id": station_id, "session": record}
            client.publish(wire.topic(SITE, station_id, "session"), wire.encode(body))
        close_all([client])
        expected[station_id] = logged
    total = sum(len(v) for v in expected.values())
    assert wait_sessions(db, total) == total, recorder.log()
    assert recorder.stop() == 0
    with FleetStore(db, readonly=True) as store:
        for station_id, logged in expected.items():
            held = [s["session"] for s in store.sessions(station_id=station_id)]
            assert held == logged


def test_home_assistant_discovery_for_each_station(
    broker: Mosquitto,
    tmp_path: Path,
) -> None:
    """With --home-assistant the recorder announces, retained, a state and a jumps-today
    sensor per station heard; their templates (Jinja2, as Home Assistant renders them) read
    the station's own status payload."""
    import jinja2
    import paho.mqtt.client as mqtt

    recorder = RecorderProcess(
        tmp_path, broker.port, str(tmp_path / "fleet.sqlite3"), extra=("--home-assistant",)
    )
    recorder.wait_connected()
    clients = [StationClient(broker.port, f"st-{i}") for i in range(2)]
    for c in clients:
        c.status("in_session", jumps_today=321)
    close_all(clients)
    configs: dict[str, dict[str, object]] = {}

    def on_message(_c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        configs[message.topic] = json.loads(message.payload)

    deadline = time.monotonic() + 20
    while len(configs) < 4 and time.monotonic() < deadline:
        sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)  # a fresh look at what is retained
        sub.on_message = on_message
        sub.connect("127.0.0.1", broker.port)
        sub.subscribe("homeassistant/#")
        sub.loop_start()
        time.sleep(0.5)
        sub.disconnect()
        sub.loop_stop()
    assert recorder.stop() == 0
    assert sorted(configs) == [
        f"homeassistant/sensor/station_gym_north_st_{i}/{key}/config"
        for i in range(2)
        for key in ("jumps_today", "state")
    ]
    status = {"state": "in_session", "jumps_today": 321}
    rendered = {
        topic.rsplit("/", 2)[1]: jinja2.Template(str(c["value_template"])).render(value_json=status)
        for topic, c in configs.items()
        if "st_0" in topic
    }
    assert rendered == {"state": "in_session", "jumps_today": "321"}
    assert all(
        c["state_topic"] == wire.topic(SITE, "st-0", "status")
        for t, c in configs.items()
        if "st_0" in t
    )


STATION_THAT_DIES = """
import sys, time
import paho.mqtt.client as mqtt
from station.fleet import wire
site, sid, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=sid)
c.will_set(wire.topic(site, sid, "status"), wire.encode({"state": "offline"}), 1, True)
c.connect("127.0.0.1", port, keepalive=5)
c.loop_start()
up = wire.encode({"state": "idle"})
c.publish(wire.topic(site, sid, "status"), up, 1, True).wait_for_publish()
print("up", flush=True)
time.sleep(600)
"""


def test_a_station_that_dies_shows_offline(
    broker: Mosquitto,
    tmp_path: Path,
) -> None:
    """A station process SIGKILLed: the broker publishes its last will, the recorder keeps it
    as the station's status, and `station fleet status` says offline."""
    db = str(tmp_path / "fleet.sqlite3")
    recorder = RecorderProcess(tmp_path, broker.port, db)
    recorder.wait_connected()
    station = subprocess.Popen(
        [sys.executable, "-c", STATION_THAT_DIES, SITE, "st-09", str(broker.port)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert station.stdout is not None and station.stdout.readline().strip() == "up"

    def state() -> str | None:
        try:
            with FleetStore(db, readonly=True) as store:
                rows = store.stations()
        except Exception:
            return None
        return rows[0]["status"]["state"] if rows and rows[0]["status"] else None

    deadline = time.monotonic() + 20
    while state() != "idle" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert state() == "idle"
    station.kill()
    station.wait(10)
    deadline = time.monotonic() + 30  # the broker notices the dead socket at once
    while state() != "offline" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert recorder.stop() == 0
    assert state() == "offline"
    out = subprocess.run(
        [sys.executable, "-m", "station", "fleet", "status", "--db", db],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert re.search(r"st-09\s+offline", out), out
