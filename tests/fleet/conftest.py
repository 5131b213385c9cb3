"""A real Mosquitto broker for the fleet tests: started by the test on 127.0.0.1 with a random
port and a temporary folder, with the shipped ACL (deploy/mosquitto/station.acl) and a password
file. Reusable by every fleet test (uplink, recorder, console Gym page, bench).

Needs Debian's `mosquitto` package (`.ci/run` installs it); skipped cleanly on a developer's
machine without it, a failure in CI.
"""

from __future__ import annotations

import getpass
import importlib.util
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fleet_helpers import make_certificates
from loopback import free_port

# tests/conftest.py's helpers: this file is also named conftest, so `from conftest import`
# would find itself; load the root one by path instead (one copy of require_tool).
_spec = importlib.util.spec_from_file_location(
    "_tests_root_conftest", Path(__file__).resolve().parents[1] / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_root = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_root)
REPO: Path = _root.REPO
require_tool = _root.require_tool

ACL = REPO / "deploy" / "mosquitto" / "station.acl"

DEFAULT_USERS = {
    "fleet": "fleet-secret",
    "recorder": "recorder-secret",
    "intruder": "intruder-secret",
    **{f"st-{i}": f"st-{i}-secret" for i in range(1, 21)},
}
"""Who may log in: the console/fleet role, the recorder, a user with no role, stations
st-1…st-20 (a station's username is its station id, as the ACL expects)."""


@dataclass
class Broker:
    """One Mosquitto process; kill, restart, pause and resume it to make outages."""

    folder: Path
    port: int
    users: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_USERS))
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = None
    tls_port: int | None = None
    """A second listener with TLS (certificates from :func:`make_certificates`), if set."""

    @property
    def ca_file(self) -> Path:
        return self.folder / "tls" / "ca.crt"

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.folder / "mosquitto.conf"

    @property
    def log_file(self) -> Path:
        return self.folder / "mosquitto.log"

    def write_files(self) -> None:
        passwords = self.folder / "passwd"
        passwords.write_text("".join(f"{u}:{p}\n" for u, p in self.users.items()))
        subprocess.run(["mosquitto_passwd", "-U", str(passwords)], check=True)
        data = self.folder / "data"
        data.mkdir(exist_ok=True)
        self.config_file.write_text(
            f"listener {self.port} {self.host}\n"
            "allow_anonymous false\n"
            f"password_file {passwords}\n"
            f"acl_file {ACL}\n"
            # persistence saved at every change, so a SIGKILLed broker keeps its retained
            # messages and the recorder's queued session (as a broker on a UPS would)
            "persistence true\n"
            f"persistence_location {data}/\n"
            "autosave_on_changes true\n"
            "autosave_interval 1\n"
            f"user {getpass.getuser()}\n"
            f"log_dest file {self.log_file}\n"
            "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
            "max_queued_messages 0\n"  # as deploy/mosquitto/station.conf: no queue cap
        )
        if self.tls_port is not None:
            tls = make_certificates(self.folder / "tls")
            with self.config_file.open("a") as fh:
                fh.write(f"listener {self.tls_port} {self.host}\ncafile {tls['ca']}\n"
                         f"certfile {tls['cert']}\nkeyfile {tls['key']}\n")  # fmt: skip

    def start(self, timeout_s: float = 10.0) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(self.config_file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                log = self.log_file.read_text() if self.log_file.exists() else ""
                raise RuntimeError(f"mosquitto exited at start: {err}\n{log}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {timeout_s} s")

    def kill(self) -> None:
        """SIGKILL: the broker dies without a goodbye (a power cut of the gym's server)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def restart(self) -> None:
        self.kill()
        self.start()

    def pause(self) -> None:
        """SIGSTOP: connections stay open but nothing is answered (no PUBACK)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.resume()
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture
def mosquitto_tls(tmp_path: Path) -> Iterator[Broker]:
    """As :func:`mosquitto`, plus a TLS listener (``tls_port``) with a certificate of the gym's
    CA (``ca_file``)."""
    require_tool("mosquitto")
    require_tool("openssl")
    folder = tmp_path / "mosquitto"
    folder.mkdir()
    broker = Broker(folder, free_port(), tls_port=free_port())
    broker.write_files()
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Broker]:
    """A running Mosquitto with the shipped ACL and DEFAULT_USERS; stopped after the test."""
    require_tool("mosquitto")
    require_tool("mosquitto_passwd")
    folder = tmp_path / "mosquitto"
    folder.mkdir()
    broker = Broker(folder, free_port())
    broker.write_files()
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
