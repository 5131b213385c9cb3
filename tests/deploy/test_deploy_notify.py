"""The systemd notifier against a real AF_UNIX datagram socket standing in for systemd."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.clock import ManualClock
from station.service import Notifier
from station.service.notify import watchdog_interval


class FakeSystemd:
    """The receiving end of NOTIFY_SOCKET, as systemd holds it."""

    def __init__(self, address: str, bind_to: str) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(bind_to)
        self.sock.settimeout(5.0)

    def messages(self) -> list[str]:
        """Every datagram received so far, without waiting for more."""
        out = []
        self.sock.setblocking(False)
        try:
            while True:
                out.append(self.sock.recv(4096).decode())
        except BlockingIOError:
            pass
        finally:
            self.sock.settimeout(5.0)
        return out

    def receive(self) -> str:
        return self.sock.recv(4096).decode()


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[FakeSystemd]:
    path = str(tmp_path / "notify")
    fake = FakeSystemd(path, path)
    yield fake
    fake.sock.close()


def test_ready_status_and_stopping_arrive_as_datagrams(systemd: FakeSystemd) -> None:
    env = {"NOTIFY_SOCKET": systemd.address}
    notifier = Notifier.from_env(env)
    assert notifier.enabled
    assert "NOTIFY_SOCKET" not in env  # children must not inherit it
    assert notifier.ready("counting jumps\non the mat")
    assert notifier.status("session 3: 42 jumps")
    assert notifier.stopping()
    assert systemd.messages() == [
        "READY=1\nSTATUS=counting jumps on the mat",
        "STATUS=session 3: 42 jumps",
        "STOPPING=1",
    ]


def test_watchdog_pings_at_half_the_timeout_over_a_simulated_minute(
    systemd: FakeSystemd,
) -> None:
    env = {"NOTIFY_SOCKET": systemd.address, "WATCHDOG_USEC": "10000000"}
    notifier = Notifier.from_env(env)
    assert notifier.watchdog_s == 10.0 and notifier.ping_interval_s == 5.0
    clock = ManualClock(100.0)
    notifier.ready()
    received = systemd.messages()
    ping_times = []
    for _frame in range(60 * 30):  # a main loop at 30 frames/s for 60 s
        if notifier.ping_if_due(clock.now()):
            ping_times.append(clock.now() - 100.0)
            received += systemd.messages()  # systemd drains its queue as it goes
        clock.advance(1 / 30)
    assert received[0] == "READY=1"
    assert received[1:] == ["WATCHDOG=1"] * len(ping_times)
    assert len(ping_times) == 12
    gaps = [b - a for a, b in itertools.pairwise(ping_times)]
    assert all(5.0 <= g < 5.0 + 2 / 30 for g in gaps), gaps


def test_no_watchdog_means_no_pings_but_ready_still_goes(systemd: FakeSystemd) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": systemd.address})
    assert notifier.ping_interval_s is None
    assert not notifier.watchdog_due(0.0)
    assert not notifier.ping_if_due(1e6)
    notifier.ready()
    assert systemd.messages() == ["READY=1"]


def test_everything_is_a_no_op_outside_systemd() -> None:
    notifier = Notifier.from_env({})
    assert not notifier.enabled
    assert not notifier.ready()
    assert not notifier.ping_if_due(0.0)
    assert not notifier.ping()
    assert not notifier.stopping()
    notifier.close()


def test_a_full_queue_drops_the_message_instead_of_hanging_the_main_loop(
    systemd: FakeSystemd,
) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": systemd.address, "WATCHDOG_USEC": "1"})
    sent = [notifier.ping(float(i)) for i in range(200)]  # nobody drains: the queue fills
    assert sent[0] and not sent[-1]
    assert systemd.messages() == ["WATCHDOG=1"] * sent.count(True)


def test_unreachable_socket_degrades_to_no_op(tmp_path: Path) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    assert not notifier.enabled
    assert not notifier.ready()


def test_abstract_namespace_address() -> None:
    name = f"station-test-{os.getpid()}"
    fake = FakeSystemd("@" + name, "\0" + name)
    try:
        Notifier.from_env({"NOTIFY_SOCKET": "@" + name}).ready()
        assert fake.receive() == "READY=1"
    finally:
        fake.sock.close()


def test_watchdog_belongs_to_the_pid_systemd_named() -> None:
    env = {"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1234"}
    assert watchdog_interval(env, 1234) == 4.0
    assert watchdog_interval(env, 999) is None
    assert watchdog_interval({"WATCHDOG_USEC": "junk"}, 1) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}, 1) is None


def test_a_separate_process_reaches_the_socket_and_its_children_do_not(
    systemd: FakeSystemd,
) -> None:
    """What systemd sees: the service process notifies; a child it spawns has no socket."""
    child = (
        "import os, subprocess, sys\n"
        "from station.service import Notifier\n"
        "n = Notifier.from_env()\n"
        "n.ready('up')\n"
        "n.ping(0.0)\n"
        "grandchild = subprocess.run([sys.executable, '-c', "
        "'import os; print(os.environ.get(\"NOTIFY_SOCKET\"))'], capture_output=True, text=True)\n"
        "print(grandchild.stdout.strip())\n"
        "n.stopping()\n"
    )
    env = {**os.environ, "NOTIFY_SOCKET": systemd.address, "WATCHDOG_USEC": "2000000"}
    out = subprocess.run(
        [sys.executable, "-c", child], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "None"
    assert systemd.messages() == ["READY=1\nSTATUS=up", "WATCHDOG=1", "STOPPING=1"]


def test_a_headless_simulated_station_run_speaks_the_notify_protocol(
    systemd: FakeSystemd, tmp_path: Path
) -> None:
    """The unit's contract end to end: `station run` (simulated, headless) under a fake
    systemd sends READY=1 (after at most a STATUS line naming the devices it still waits
    for), then WATCHDOG=1 again and again from its main loop, and
    STOPPING=1 on SIGTERM, exiting cleanly."""
    import signal

    from conftest import REPO

    env = {
        **os.environ,
        "NOTIFY_SOCKET": systemd.address,
        "WATCHDOG_USEC": "1000000",  # ping every 0.5 s
        "SDL_VIDEODRIVER": "dummy",
        "STATION_CONFIG": str(tmp_path / "absent.toml"),
    }
    state = str(tmp_path / "state")
    proc = subprocess.Popen(
        [str(REPO / ".venv/bin/station"), "run", "--simulate", "--headless", "--state-dir", state],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        systemd.sock.settimeout(120)
        received = [systemd.receive()]
        while received.count("WATCHDOG=1") < 3:
            received.append(systemd.receive())
        proc.send_signal(signal.SIGTERM)
        while not received[-1].startswith("STOPPING=1"):
            received.append(systemd.receive())
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    # before READY=1 only what it waits for (STATUS=starting: waiting for <devices>)
    ready = next(i for i, m in enumerate(received) if m.startswith("READY=1"))
    assert all(m.startswith("STATUS=starting: waiting for ") for m in received[:ready]), received
    assert set(received[ready + 1 : -1]) == {"WATCHDOG=1"}, received
    assert proc.returncode == 0, err[-2000:]
