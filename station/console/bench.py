"""Console benchmarks.

`station bench console-live`: the live-tuning stream end to end. A stand-in station writes the
live status 4 times a second (the runtime's rate); the real console app, served by uvicorn on a
loopback port, streams it as server-sent events to an HTTP client that logged in. The figure
is status updates delivered per second (the issue asks for at least 2), and how long after a
write the client had it.

`station bench console-login`: the cost of one password check (scrypt, 32 MiB): the price of
each guess for anyone who steals the hash, and the wait of each login.
"""

from __future__ import annotations

import json
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

from station.bench import Benchmark, Figure
from station.console import auth
from station.storage.live import LiveStatus, LiveStatusWriter

PASSWORD = "bench-password"


def live_stream(quick: bool) -> list[Figure]:
    try:
        import httpx
        import uvicorn
    except ImportError as exc:  # httpx is a dev dependency
        raise RuntimeError(f"needs {exc.name} (pip install -e '.[dev]')") from exc
    from station.console.app import create_app

    seconds = 3.0 if quick else 15.0
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder)
        auth.set_password(state, PASSWORD)
        site = state / "station.toml"
        app = create_app(site, state)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        writer = LiveStatusWriter(state, interval_s=0.0)
        written: dict[int, float] = {}
        stop = threading.Event()

        def station() -> None:
            while not stop.is_set():
                writer.write(LiveStatus(phase="active"))
                written[writer._seq] = time.monotonic()
                time.sleep(0.25)

        delays: list[float] = []
        received = 0
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                page = http.get("/login").text
                token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
                http.post("/login", data={"csrf": token, "password": PASSWORD})
                feeder = threading.Thread(target=station)
                feeder.start()
                start = time.monotonic()
                with http.stream("GET", "/live/stream") as events:
                    for line in events.iter_lines():
                        if not line.startswith("data: "):
                            continue
                        now = time.monotonic()
                        seq = json.loads(line[6:]).get("seq", -1)
                        if seq in written:
                            received += 1
                            delays.append(now - written.pop(seq))
                        if now - start >= seconds:
                            break
                elapsed = time.monotonic() - start
        finally:
            stop.set()
            server.should_exit = True
            thread.join(timeout=10)
    rate = received / elapsed
    return [
        Figure("live updates delivered", rate, "/s", "≥ 2", rate >= 2.0),
        Figure("write → browser, median", 1000.0 * statistics.median(delays), "ms"),
        Figure("write → browser, max", 1000.0 * max(delays), "ms"),
    ]


def login_cost(quick: bool) -> list[Figure]:
    with tempfile.TemporaryDirectory() as folder:
        creds = auth.set_password(Path(folder), PASSWORD)
        n = 3 if quick else 10
        t0 = time.perf_counter()
        for _ in range(n):
            assert auth.check_password(creds, PASSWORD)
        per = (time.perf_counter() - t0) / n
    return [
        Figure("one scrypt password check", 1000.0 * per, "ms"),
        Figure("memory per check", 128 * creds.r * creds.n / 2**20, "MiB"),
    ]


BENCHMARKS = [Benchmark("console-live", live_stream), Benchmark("console-login", login_cost)]
