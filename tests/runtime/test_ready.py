"""READY=1 goes to systemd once the devices are open, not when their threads start; a device
that does not open in time is named in the STATUS that comes with READY (a real AF_UNIX
datagram socket stands in for systemd's NOTIFY_SOCKET)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from station.clock import OffsetClock
from station.config.loader import ConfigStore
from station.hardware import Source, select_hardware
from station.runtime.loop import Signals, run_live
from station.runtime.station import Station
from station.service.notify import Notifier


class FakeSystemd:
    """Receives the station's notify datagrams, in order, in a thread."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue

    def ready(self) -> list[str]:
        return [m for m in self.messages if "READY=1" in m]

    def wait_for(self, text: str, timeout_s: float = 60.0) -> list[str]:
        """Every message received up to the first one with the line `text` (the timeout only stops
        a hang: the check is on what the station said, in the order it said it)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            received = list(self.messages)
            for i, message in enumerate(received):
                if text in message.splitlines():
                    return received[: i + 1]
            time.sleep(0.02)
        raise AssertionError(f"never received {text!r}; got {self.messages}")

    def wait_ready(self, timeout_s: float = 60.0) -> list[str]:
        self.wait_for("READY=1", timeout_s)
        return self.ready()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def _station(tmp_path: Path) -> tuple[Station, object, OffsetClock]:
    (tmp_path / "station.toml").write_text("")
    store = ConfigStore(tmp_path / "station.toml")
    hardware = select_hardware(store.config, simulate=True)
    clock = OffsetClock()
    hardware.clock = clock
    return Station(store, hardware), hardware, clock


def _run_in_thread(station: Station, openers: list, clock: OffsetClock, notifier: Notifier,
                   ready_wait_s: float) -> tuple[threading.Thread, Signals]:  # fmt: skip
    signals = Signals(threading.Event(), threading.Event())
    thread = threading.Thread(
        target=run_live,
        args=(station, openers, clock),
        kwargs={"fps": 30, "notifier": notifier, "signals": signals, "ready_wait_s": ready_wait_s},
        daemon=True,
    )
    thread.start()
    return thread, signals


def test_ready_waits_for_the_devices_to_open(tmp_path: Path) -> None:
    systemd = FakeSystemd(tmp_path / "notify")
    station, hardware, clock = _station(tmp_path)
    camera_may_open = threading.Event()
    order: list[str] = []

    def slow_camera() -> Source | None:
        camera_may_open.wait(30)  # libcamera taking its time
        order.append("camera open")
        return hardware.open_camera()  # type: ignore[attr-defined,no-any-return]

    openers = [("mat", hardware.open_mat), ("camera", slow_camera)]  # type: ignore[attr-defined]
    notifier = Notifier(str(systemd.sock.getsockname()))
    thread, signals = _run_in_thread(station, openers, clock, notifier, 60.0)
    try:
        # The loop runs, the mat is open, the camera is not: the station says it waits for
        # the camera alone, and has not said READY=1 before (datagrams arrive in order).
        said = systemd.wait_for("STATUS=starting: waiting for camera")
        assert not any("READY=1" in m for m in said), "READY=1 before the camera was open"
        order.append("released")
        camera_may_open.set()
        ready = systemd.wait_ready()
        order.append("READY")
        assert len(ready) == 1 and "devices open" in ready[0]
        assert order == ["released", "camera open", "READY"]
    finally:
        signals.stop.set()
        camera_may_open.set()
        thread.join(10)
        systemd.close()


def test_a_device_that_never_opens_is_named_after_a_bounded_wait(tmp_path: Path) -> None:
    systemd = FakeSystemd(tmp_path / "notify")
    station, _hardware, clock = _station(tmp_path)
    never = threading.Event()

    def broken_camera() -> Source | None:
        raise RuntimeError("no camera on the CSI port")

    def hanging_mat() -> Source | None:
        never.wait(30)
        return None

    openers = [("mat", hanging_mat), ("camera", broken_camera)]
    notifier = Notifier(str(systemd.sock.getsockname()))
    thread, signals = _run_in_thread(station, openers, clock, notifier, 0.5)
    try:
        ready = systemd.wait_ready()
        assert len(ready) == 1
        assert "still missing" in ready[0]
        assert "mat (still opening)" in ready[0]
        assert "camera (no camera on the CSI port)" in ready[0]
    finally:
        signals.stop.set()
        never.set()
        thread.join(10)
        systemd.close()
