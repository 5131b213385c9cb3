"""The live station as systemd runs it: a real process, real time, real signals.

These run `station run --simulate --headless` in a subprocess for a few seconds each; the
simulated member steps on at 2 s and is jumping from about 5 s.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.clock import OffsetClock
from station.config.loader import ConfigStore
from station.events import Event
from station.hardware import select_hardware
from station.runtime.loop import Signals, run_live
from station.runtime.station import Station


def start_station(tmp_path: Path, site: str = "", **env: str) -> subprocess.Popen[str]:
    config = tmp_path / "station.toml"
    config.write_text(site)
    return subprocess.Popen(
        [sys.executable, "-m", "station", "run", "--simulate", "--headless",
         "--config", str(config), "--state-dir", str(tmp_path / "state")],
        env={**os.environ, "STATION_SIMULATE": "", **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def live_jumps(state: Path, at_least: int, timeout: float = 40.0) -> int:
    """Wait until the live status shows `at_least` jumps; returns the count it showed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = json.loads((state / "live.json").read_text())
        except (OSError, ValueError):
            status = None  # not written yet
        jumps = -1 if status is None else int(status.get("counts", {}).get("jumps", 0))
        if jumps >= at_least:
            return jumps
        time.sleep(0.1)
    raise AssertionError(f"the station did not reach {at_least} jumps in {timeout} s")


def rows(state: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(state / "sessions.sqlite3") as db:
        return db.execute("SELECT status, jumps FROM sessions").fetchall()


def test_sigterm_mid_session_saves_the_session(tmp_path: Path) -> None:
    proc = start_station(tmp_path)
    try:
        seen = live_jumps(tmp_path / "state", at_least=6)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    ((status, jumps),) = rows(tmp_path / "state")
    assert status == "finished" and jumps >= seen
    assert not (tmp_path / "state" / "live.json").exists()
    assert not (tmp_path / "state" / "station.pid").exists()


def test_power_cut_loses_at_most_the_checkpoint_interval(tmp_path: Path) -> None:
    checkpoint_s = 1.0
    proc = start_station(tmp_path, site=f"[session]\ncheckpoint_s = {checkpoint_s}\n")
    try:
        live_jumps(tmp_path / "state", at_least=12)
        seen = json.loads((tmp_path / "state" / "live.json").read_text())["counts"]
        proc.kill()  # SIGKILL: no chance to save anything
        proc.wait(timeout=10)
    finally:
        proc.kill()
    with sqlite3.connect(tmp_path / "state" / "sessions.sqlite3") as db:
        ((status, jumps, duration_s),) = db.execute(
            "SELECT status, jumps, duration_s FROM sessions"
        ).fetchall()
    assert status == "open" and jumps > 0
    # On the station's own clock, whatever the load: the live status is written after the
    # tick's checkpoint, so when it showed `elapsed_s` the log held the session as it stood
    # at most checkpoint_s earlier (elapsed_s is rounded to 0.1 s), and later checkpoints
    # only add to that. Kill time is the machine's business; this interval is ours.
    assert duration_s >= seen["elapsed_s"] - checkpoint_s - 0.05, (duration_s, seen)
    # the next start marks it interrupted, keeping its last checkpoint
    (tmp_path / "state" / "live.json").unlink()  # the dead station's, left behind
    proc = start_station(tmp_path)
    try:
        live_jumps(tmp_path / "state", at_least=0, timeout=20)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert rows(tmp_path / "state")[0] == ("interrupted", jumps)


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.2)
    messages: list[str] = []
    stop = threading.Event()

    def receive() -> None:
        while not stop.is_set():
            try:
                messages.append(sock.recv(4096).decode())
            except TimeoutError:
                continue

    thread = threading.Thread(target=receive, daemon=True)
    thread.start()
    yield path, messages
    stop.set()
    thread.join()
    sock.close()


def test_systemd_ready_watchdog_and_stopping(
    tmp_path: Path, notify_socket: tuple[str, list[str]]
) -> None:
    path, messages = notify_socket
    proc = start_station(tmp_path, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum("WATCHDOG=1" in m for m in messages) < 5:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    finally:
        proc.kill()
    lines = [line for m in messages for line in m.splitlines()]
    assert lines.index("READY=1") < lines.index("WATCHDOG=1")
    assert lines.count("WATCHDOG=1") >= 5
    assert "STOPPING=1" in lines and lines.index("STOPPING=1") > lines.index("READY=1")


class Exploding:
    """A camera at the hardware edge whose driver thread dies after a few frames."""

    name = "camera"
    realtime = True

    def __init__(self, inner: object, after: int) -> None:
        self._inner = inner
        self._after = after

    def events(self) -> Iterator[Event]:
        for i, event in enumerate(self._inner.events()):  # type: ignore[attr-defined]
            if i == self._after:
                raise RuntimeError("libcamera: frame timeout")
            yield event

    def close(self) -> None:
        self._inner.close()  # type: ignore[attr-defined]


def test_a_dying_camera_thread_is_shown_and_counting_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "station.toml").write_text("")
    store = ConfigStore(tmp_path / "station.toml")
    hardware = select_hardware(store.config, simulate=True)
    clock = OffsetClock()
    hardware.clock = clock
    station = Station(store, hardware)
    signals = Signals(threading.Event(), threading.Event())
    opened: list[int] = []

    def camera() -> Exploding:
        opened.append(1)
        return Exploding(hardware.open_camera(), after=10 if len(opened) == 1 else 10_000)

    def stop_later() -> None:
        while clock.now() < 12.0:
            time.sleep(0.05)
        signals.stop.set()

    threading.Thread(target=stop_later, daemon=True).start()
    with caplog.at_level(logging.WARNING, logger="station.runtime.station"):
        run_live(station, [("mat", hardware.open_mat), ("camera", camera)], clock, fps=30,
                 signals=signals)  # fmt: skip
    # the station marked the camera down (what its screen and live.json show), whenever it
    # happened: its own record, not a sampler thread hoping to look at the right moment
    said = [r.getMessage() for r in caplog.records if r.name == "station.runtime.station"]
    assert "camera unavailable: libcamera: frame timeout" in said, said
    assert station.devices["camera"].message == "running" or len(opened) >= 2
    assert station.session.stats is not None or station.summaries
    jumps = station.summaries[0]["jumps"] if station.summaries else 0
    assert jumps >= 8  # the mat kept counting through the camera's death
