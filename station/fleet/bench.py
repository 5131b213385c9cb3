"""`station bench fleet`: the recorder and the broker, measured for real on the loopback.

Starts a throwaway Mosquitto and PostgreSQL (:mod:`station.fleet.testbed`; Debian's
``mosquitto`` and ``postgresql`` packages) and runs ``station fleet record`` in its own process:

- sessions per second recorded: 20 stations publish a burst of real session messages (a
  SessionRecord.to_dict() from a real session log, ~1.4 KB each) with QoS 1; from the first
  publish until the last row is committed; SQLite and PostgreSQL;
- end-to-end latency, from publish until a reader polling every 5 ms sees the committed
  row, at a steady 100 sessions/s (far above a gym's real rate), p50 and p95; SQLite and PostgreSQL;
- the broker's message rate with 50 stations sending live progress at 2 Hz: messages/s
  delivered to one subscriber, the share lost, and the broker's CPU;
- the uplink's memory (RSS, sampled every 0.25 s) while `station uplink` drains a backlog of
  10,000 sessions from a real session log to the broker: flat is the target.

Everything runs on the one machine (publishers, broker, recorder, database), so the figures are
a floor for a gym's server, and on a shared, loaded machine noisier still.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from station.bench import Benchmark, Figure
from station.fleet import wire
from station.fleet.store import FleetStore
from station.fleet.testbed import Mosquitto, Postgres, postgres_bin

SITE = "bench"
STATIONS = 20
LIVE_STATIONS = 50
LIVE_HZ = 2.0


def _session_template(folder: Path) -> dict[str, Any]:
    from station.events import FAULTS
    from station.storage.sessions import SessionLog

    with SessionLog.in_state_dir(folder) as log:
        sid = log.begin(started_at=1_780_000_000.0)
        log.finish(
            sid,
            {
                "duration_s": 300.0,
                "jumps": 640,
                "best_streak": 120,
                "cadence_avg_per_min": 128.0,
                "fault_seconds": dict.fromkeys(FAULTS, 3.5),
                "fault_onsets": {f: [12.0, 80.5, 201.0] for f in FAULTS},
                "count_source": "mat",
                "top_fault": FAULTS[0],
                "cadence_series": [[k * 5.0, 128.0] for k in range(60)],
            },
            ended_at=1_780_000_300.0,
        )
        return log.sessions()[0].to_dict()


def _payload(template: dict[str, Any], station: str) -> tuple[str, bytes, str]:
    key = str(uuid.uuid4())
    body = {"uuid": key, "site": SITE, "station_id": station, "session": template}
    return wire.topic(SITE, station, "session"), wire.encode(body), key


def _client(port: int, client_id: str) -> Any:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311
    )
    client.max_inflight_messages_set(100)
    client.connect("127.0.0.1", port, keepalive=30)
    client.loop_start()
    return client


def _start_recorder(port: int, db: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "station", "-v", "fleet", "record", "--broker",
             f"127.0.0.1:{port}", "--db", db, "--site", SITE],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while "connected to" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"recorder did not start: {log.read_text()[-1500:]}")
        time.sleep(0.05)
    return proc


def _count(db: str) -> int:
    with FleetStore(db, readonly=not db.startswith("postgres")) as store:
        return store.session_count()


def _wait_count(db: str, count: int, timeout_s: float) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _count(db) >= count:
            return time.perf_counter()
        time.sleep(0.02)
    raise RuntimeError(f"only {_count(db)} of {count} sessions recorded in {timeout_s} s")


def _recorder_run(db: str, quick: bool, folder: Path) -> tuple[float, float, list[float]]:
    """(sessions/s of a burst, the recorder's CPU seconds per session in it, latencies in s
    at a steady rate) through one recorder."""
    template = _session_template(folder / "log")
    with Mosquitto(folder / "broker") as broker:
        recorder = _start_recorder(broker.port, db, folder / "recorder.log")
        try:
            clients = [_client(broker.port, f"bench-st-{i}") for i in range(STATIONS)]
            # Burst: every station publishes its share as fast as paho takes them.
            burst = 400 if quick else 4000
            messages = [_payload(template, f"st-{i % STATIONS}") for i in range(burst)]
            cpu0, t0 = _cpu_s(recorder.pid), time.perf_counter()
            for i, (topic, body, _key) in enumerate(messages):
                clients[i % STATIONS].publish(topic, body, qos=1)
            t1 = _wait_count(db, burst, 300)
            rate = burst / (t1 - t0)
            cpu_per_session = (_cpu_s(recorder.pid) - cpu0) / burst
            # Steady: 100 sessions/s; a reader polls every 5 ms for the rows it can see
            # (committed), so a latency is publish -> row readable, to within ~5 ms.
            steady = 200 if quick else 1000
            sent: dict[str, float] = {}
            seen: dict[str, float] = {}
            done = threading.Event()
            since = time.time()

            def poll() -> None:
                with FleetStore(db, readonly=not db.startswith("postgres")) as store:
                    while not done.is_set():
                        now = time.time()
                        for key in store.recorded_since(since - 1.0):
                            seen.setdefault(key, now)
                        if all(k in seen for k in list(sent)) and len(sent) == steady:
                            return
                        time.sleep(0.005)

            poller = threading.Thread(target=poll, daemon=True)
            poller.start()
            start = time.perf_counter()
            for i in range(steady):
                topic, body, key = _payload(template, f"st-{i % STATIONS}")
                delay = start + i / 100.0 - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                sent[key] = time.time()
                clients[i % STATIONS].publish(topic, body, qos=1)
            poller.join(120)
            done.set()
            latencies = [seen[k] - t for k, t in sent.items() if k in seen]
            if len(latencies) < steady:
                raise RuntimeError(f"only {len(latencies)} of {steady} steady sessions recorded")
            for c in clients:
                c.disconnect()
                c.loop_stop()
        finally:
            recorder.send_signal(signal.SIGTERM)
            recorder.wait(30)
    return rate, cpu_per_session, latencies


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def recorder_figures(quick: bool) -> list[Figure]:
    figures: list[Figure] = []
    engines = ["sqlite"] + (["postgresql"] if postgres_bin() else [])
    with tempfile.TemporaryDirectory() as tmp:
        for engine in engines:
            folder = Path(tmp) / engine
            folder.mkdir()
            if engine == "sqlite":
                rate, cpu, lat = _recorder_run(str(folder / "fleet.sqlite3"), quick, folder)
            else:
                with Postgres() as pg:
                    rate, cpu, lat = _recorder_run(pg.create_database("bench"), quick, folder)
            figures += [
                Figure(f"{engine}: sessions recorded per second (burst)", rate, "/s", "≥ 500",
                       rate >= 500),
                # What the machine's load cannot hide: the recorder's own CPU per session
                # (the database server's is not counted), and the rate one free core gives.
                Figure(f"{engine}: recorder CPU per session", 1000 * cpu, "ms"),
                Figure(f"{engine}: sessions/s per recorder core (1 / CPU per session)",
                       1 / cpu if cpu > 0 else float("inf"), "/s"),
                Figure(f"{engine}: publish-to-row latency p50 (100/s)", 1000 * _pct(lat, 50), "ms"),
                Figure(f"{engine}: publish-to-row latency p95 (100/s)", 1000 * _pct(lat, 95), "ms",
                       "≤ 1000", _pct(lat, 95) <= 1.0),
            ]  # fmt: skip
    return figures


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def live_figures(quick: bool) -> list[Figure]:
    """50 stations at 2 Hz of live progress (QoS 0), one subscriber (the recorder's view)."""
    import paho.mqtt.client as mqtt

    seconds = 5.0 if quick else 20.0
    with tempfile.TemporaryDirectory() as tmp, Mosquitto(Path(tmp) / "broker") as broker:
        received = 0
        lock = threading.Lock()

        def on_message(_c: Any, _u: Any, _m: Any) -> None:
            nonlocal received
            with lock:
                received += 1

        sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-sub")
        sub.on_message = on_message
        sub.connect("127.0.0.1", broker.port)
        sub.subscribe(wire.site_filter(SITE, "live"), qos=0)
        sub.loop_start()
        stations = [_client(broker.port, f"bench-live-{i}") for i in range(LIVE_STATIONS)]
        time.sleep(0.5)
        assert broker.proc is not None
        cpu0, t0 = _cpu_s(broker.proc.pid), time.perf_counter()
        sent, tick = 0, 0
        while time.perf_counter() - t0 < seconds:
            for i, client in enumerate(stations):
                body = {"session_uuid": None, "jumps": tick, "elapsed_s": tick / LIVE_HZ}
                client.publish(wire.topic(SITE, f"st-{i}", "live"), wire.encode(body), qos=0)
                sent += 1
            tick += 1
            time.sleep(max(0.0, t0 + tick / LIVE_HZ - time.perf_counter()))
        time.sleep(0.5)
        elapsed = time.perf_counter() - t0
        cpu = _cpu_s(broker.proc.pid) - cpu0
        for c in [*stations, sub]:
            c.disconnect()
            c.loop_stop()
    with lock:
        got = received
    return [
        Figure("50 stations live at 2 Hz: messages/s delivered", got / elapsed, "/s"),
        Figure("  messages lost", 100.0 * (sent - got) / max(1, sent), "%"),
        Figure("  broker CPU", 100.0 * cpu / elapsed, "% of a core"),
    ]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _backlog(state: Path, sessions: int) -> None:
    """``sessions`` finished sessions in a real session log, as a station offline for weeks
    would hold them."""
    from station.storage.sessions import SessionLog

    with SessionLog.in_state_dir(state) as log:
        for i in range(sessions):
            start = 1_780_000_000.0 + 600 * i
            sid = log.begin(started_at=start)
            log.finish(sid, {"jumps": 300 + i % 200, "duration_s": 150.0}, ended_at=start + 150)


def uplink_memory_figures(quick: bool) -> list[Figure]:
    """`station uplink` (its own process) drains a 10,000-session backlog to a real Mosquitto;
    its RSS is sampled every 0.25 s. Flat memory: the backlog stays in SQLite, at most the
    uplink's in-flight window is in memory."""
    from station.fleet.uplink import CONSUMER
    from station.storage.sessions import SessionLog

    sessions = 2_000 if quick else 10_000
    # the backlog is written by the real SessionLog (synchronous=FULL): on a tmpfs, so its
    # fsyncs cost nothing and writing 10,000 rows takes seconds, not minutes
    shm = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(dir=shm) as tmp, Mosquitto(Path(tmp) / "broker") as broker:
        state = Path(tmp) / "state"
        state.mkdir()
        _backlog(state, sessions)
        config = Path(tmp) / "station.toml"
        config.write_text(f'[uplink]\nenabled = true\nbroker = "{broker.url}"\n'
                          f'site = "{SITE}"\nstation_id = "bench-st"\nlive_hz = 0.0\n')  # fmt: skip
        log_file = (Path(tmp) / "uplink.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "station", "uplink", "--config", str(config),
             "--state-dir", str(state)],
            stdout=subprocess.DEVNULL, stderr=log_file,
        )  # fmt: skip
        samples: list[tuple[float, float, int]] = []  # (seconds, RSS MB, delivered)
        t0 = time.perf_counter()
        try:
            with SessionLog.in_state_dir(state) as log:
                delivered = 0
                while delivered < sessions and time.perf_counter() - t0 < 600:
                    if proc.poll() is not None:
                        raise RuntimeError(f"the uplink exited: {proc.returncode}")
                    delivered = len(log.delivered_ids(CONSUMER))
                    samples.append((time.perf_counter() - t0, _rss_mb(proc.pid), delivered))
                    time.sleep(0.25)
            settled = _rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(30)
            log_file.close()
    drained = [x for x in samples if x[2] > 0]
    if not drained or drained[-1][2] < sessions:
        got = samples[-1][2] if samples else 0
        return [Figure(f"uplink: backlog of {sessions} delivered", got, "sessions",
                       f"= {sessions}", False)]  # fmt: skip
    elapsed = drained[-1][0] - drained[0][0]
    by_share = {q: next(r for _t, r, d in drained if d >= q * sessions / 4) for q in (1, 2, 3, 4)}
    first = drained[0][1]
    peak = max(r for _t, r, _d in drained)
    figures = [
        Figure(f"uplink: {sessions}-session backlog drained at", sessions / max(elapsed, 1e-9),
               "sessions/s"),
        Figure("uplink RSS when draining starts", first, "MB"),
    ]  # fmt: skip
    figures += [Figure(f"uplink RSS at {25 * q}% delivered", by_share[q], "MB") for q in (1, 2, 3)]
    figures += [
        Figure("uplink RSS when all delivered", by_share[4], "MB"),
        Figure("uplink RSS, peak during the drain", peak, "MB"),
        Figure("uplink RSS growth, peak - start (flat memory)", peak - first, "MB", "≤ 5",
               peak - first <= 5.0),
        Figure("uplink RSS after the drain", settled, "MB"),
    ]  # fmt: skip
    return figures


BENCHMARKS = [
    Benchmark("fleet-recorder", recorder_figures),
    Benchmark("fleet-live", live_figures),
    Benchmark("fleet-uplink-memory", uplink_memory_figures),
]
