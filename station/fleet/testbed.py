"""Throwaway servers on the loopback for the fleet's tests and `station bench fleet`: a real
Mosquitto and a real PostgreSQL, from Debian's packages, on random ports with temporary data
folders. Nothing here is used by a station or a gym in service.

PostgreSQL refuses to run as root: as root, its folder is given to the ``postgres`` user (which
Debian's package creates) and ``initdb``/``pg_ctl`` run as that user via ``runuser``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"


class TestbedError(RuntimeError):
    """A server could not be started; the message says which and why."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout_s: float, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise TestbedError(f"server exited ({proc.returncode}): {log.read_text()[-2000:]}")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TestbedError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )


def postgres_bin() -> Path | None:
    found = sorted(glob.glob(POSTGRES_BIN_GLOB), key=lambda p: int(Path(p).parent.name))
    return Path(found[-1]) if found and (Path(found[-1]) / "initdb").exists() else None


@dataclass(frozen=True)
class TlsFiles:
    """A TLS listener's files: the gym's CA, and the broker's certificate and key."""

    ca: Path
    cert: Path
    key: Path


class Mosquitto:
    """A Mosquitto broker on 127.0.0.1:<port>, persistent (its database in ``folder``), with
    the settings of the shipped deploy/mosquitto/station.conf where they matter: persistence
    and no cap on a persistent session's queue (Mosquitto's default drops QoS 1 messages past
    1000). The one Mosquitto of the fleet's tests and ``station bench fleet``.

    Anonymous by default; with ``users`` (name -> password) and ``acl`` (a Mosquitto ACL file)
    only those users log in, under that ACL. With ``tls`` a second listener on ``tls_port``
    speaks TLS. ``autosave_on_changes`` saves the persistence file after that many changes
    (``autosave_interval`` then counts changes, not seconds) so a SIGKILLed broker keeps
    nearly everything, as a broker that saves often would."""

    host = "127.0.0.1"

    def __init__(
        self,
        folder: Path,
        *,
        port: int | None = None,
        inflight: int = 100,
        users: Mapping[str, str] | None = None,
        acl: Path | None = None,
        tls: TlsFiles | None = None,
        autosave_interval: int = 5,
        autosave_on_changes: bool = False,
    ) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.users = dict(users or {})
        self.tls = tls
        self.tls_port = free_port() if tls else None
        self.conf = folder / "mosquitto.conf"
        self.log = folder / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        user = pwd.getpwuid(os.getuid()).pw_name  # as root, stay root: the folder is root's
        lines = [
            f"listener {self.port} {self.host}",
            f"user {user}",
            "persistence true",
            f"persistence_location {folder}/",
            f"autosave_interval {autosave_interval}",
            f"autosave_on_changes {str(autosave_on_changes).lower()}",
            "max_queued_messages 0",
            f"max_inflight_messages {inflight}",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        if self.users:
            passwords = folder / "passwd"
            passwords.write_text("".join(f"{u}:{p}\n" for u, p in self.users.items()))
            subprocess.run(["mosquitto_passwd", "-U", str(passwords)], check=True)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        else:
            lines.append("allow_anonymous true")
        if acl is not None:
            lines.append(f"acl_file {acl}")
        if tls is not None:
            lines += [f"listener {self.tls_port} {self.host}", f"cafile {tls.ca}",
                      f"certfile {tls.cert}", f"keyfile {tls.key}"]  # fmt: skip
        self.conf.write_text("\n".join(lines) + "\n")

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def ca_file(self) -> Path | None:
        return self.tls.ca if self.tls else None

    def start(self) -> Mosquitto:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        binary = mosquitto_binary()
        if binary is None:
            raise TestbedError("mosquitto is not installed (Debian: apt-get install mosquitto)")
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [binary, "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT
            )
        _wait_port(self.port, 15.0, self.proc, self.log)
        return self

    def save(self) -> None:
        """Have the broker write its persistence file now (SIGUSR1)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGUSR1)
        time.sleep(0.3)

    def kill(self) -> None:
        """SIGKILL: a crash; the broker keeps only what its persistence file last saved."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self) -> None:
        self.kill()
        self.start()

    def pause(self) -> None:
        """SIGSTOP: connections stay open but nothing is answered (no PUBACK)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """SIGTERM: a graceful stop; the broker saves its state first."""
        if self.proc is not None and self.proc.poll() is None:
            self.resume()
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class Postgres:
    """A PostgreSQL cluster in a temporary folder, listening on 127.0.0.1:<port> only, with
    trust authentication for the ``postgres`` user (loopback, throwaway)."""

    def __init__(self, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="station-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self._as_postgres: list[str] = []
        self.started = False

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self._as_postgres, *args], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise TestbedError(
                f"{Path(args[0]).name} failed: {(done.stderr or done.stdout)[-2000:]}"
            )

    def start(self) -> Postgres:
        bin_dir = postgres_bin()
        if bin_dir is None:
            raise TestbedError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise TestbedError("running as root and there is no 'postgres' user") from None
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as_postgres = ["runuser", "-u", "postgres", "--"]
        self._run(str(bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--no-instructions")  # fmt: skip
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
            "-c max_connections=40 -c shared_buffers=32MB"
        )
        self._run(str(bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                  "-o", options, "-w", "-t", "60", "start")  # fmt: skip
        self.started = True
        return self

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def stop(self) -> None:
        bin_dir = postgres_bin()
        if self.started and bin_dir is not None:
            with contextlib.suppress(TestbedError):
                self._run(str(bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                          "-w", "stop")  # fmt: skip
            self.started = False
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
