"""A hostile phone on the gym's Wi-Fi against `station console serve` (the real command and
server): a thousand idle connections, slow-loris requests, plain HTTP against HTTPS. Bounded
in count and time, and on loopback only (127.0.0.1): nothing leaves this machine."""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import REPO, require_tool
from faults_helpers import PASSWORD, csrf_of, tally
from loopback import free_port

from station.console import auth

IDLE_FLOOD = 1100  # more than the console's 1024 files
LORIS = 40
HEAD_S = 2.0
HANG_S = 120.0
"""How long a connection the console should close may stay open before it counts as a hang:
a guard, not a measure (the console closes them after HEAD_S; a loaded machine is slower)."""
PLAIN_HTTP = 'tls_certificate = ""'


@contextmanager
def console(tmp_path: Path, extra: str = "", scheme: str = "http") -> Iterator[tuple[str, Path]]:
    port = free_port()
    site = tmp_path / "station.toml"
    site.write_text(
        f'[console]\nbind = "127.0.0.1"\nport = {port}\nmax_connections = 100\n'
        f"request_head_s = {HEAD_S}\nkeepalive_s = 2.0\n{extra or PLAIN_HTTP}\n"
    )
    state = tmp_path / "state"
    auth.set_password(state, PASSWORD)
    log_path = tmp_path / "console.log"
    env = {**os.environ, "STATION_STATE_DIR": str(state), "STATION_CONFIG": str(site)}
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "station", "console", "serve"], env=env,
                                stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=default_file_limit)  # fmt: skip
    url = f"{scheme}://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "console did not start"
                time.sleep(0.2)
        yield url, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            tally(hang=True)
            proc.kill()


def default_file_limit() -> None:
    """The console starts with systemd's default soft limit of 1024 open files."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def answers(url: str, **kwargs: object) -> bool:
    try:
        reply = httpx.get(f"{url}/login", timeout=10, **kwargs)  # type: ignore[arg-type]
    except httpx.TransportError:
        return False
    return reply.status_code == 200


def check_log(log_path: Path) -> None:
    text = log_path.read_text(errors="replace")
    tally(traceback="Traceback" in text)
    assert "Traceback" not in text and "Too many open files" not in text
    assert len(text) < 100_000, f"{len(text)} bytes of log"  # no log flood


@pytest.fixture(autouse=True)
def enough_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < IDLE_FLOOD + 200:
        pytest.skip(f"this process may open only {hard} files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, IDLE_FLOOD + 200), hard))


def certificate(folder: Path) -> tuple[Path, Path]:
    """The certificate install.sh makes (its own function, run here into a temp folder)."""
    require_tool("openssl")
    make = (
        f'source <(sed -n "/^make_console_certificate()/,/^}}/p" {REPO / "install.sh"}); '
        'warn() { echo "$*" >&2; }; system_mode() { false; }; '
        f"make_console_certificate {folder} station-gym 127.0.0.1"
    )
    done = subprocess.run(["bash", "-c", make], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return folder / "console.crt", folder / "console.key"


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_thousand_idle_connections_do_not_make_it_unreachable(
    tmp_path: Path, scheme: str
) -> None:
    """Over HTTPS the idle connections never even start their TLS handshake."""
    extra, verify = "", None
    if scheme == "https":
        cert, key = certificate(tmp_path)
        extra = f'tls_certificate = "{cert}"\ntls_key = "{key}"'
        verify = ssl.create_default_context(cafile=str(cert))
    with console(tmp_path, extra, scheme) as (url, log_path):
        flood: list[socket.socket] = []
        try:
            for _ in range(IDLE_FLOOD):
                with contextlib.suppress(OSError):
                    flood.append(socket.create_connection(("127.0.0.1", port_of(url)), timeout=5))
            reachable = answers(url, verify=verify) if verify else answers(url)
            tally(hang=not reachable)
            assert reachable, "a trainer could not reach the console during the flood"
        finally:
            for s in flood:
                s.close()
        assert answers(url, verify=verify) if verify else answers(url)
    check_log(log_path)


def test_slow_loris_connections_are_closed_and_the_console_answers(tmp_path: Path) -> None:
    with console(tmp_path) as (url, log_path):
        loris = [socket.create_connection(("127.0.0.1", port_of(url)), timeout=5)
                 for _ in range(LORIS)]  # fmt: skip
        for s in loris:
            s.sendall(b"GET /login HTTP/1.1\r\nHost: station\r\n")
        # one header line every 0.25 s, for ever: only the console's head limit ends them
        still_open = drip_until_closed(loris, b"X-Drip: 1\r\n")
        assert answers(url)
        tally(probes=LORIS, hang=bool(still_open))
        assert not still_open, f"{len(still_open)} slow-loris connections never closed"
        assert slow_bodies_are_dropped(port_of(url))
        assert answers(url)
    check_log(log_path)


def drip_until_closed(socks: list[socket.socket], drip: bytes) -> set[int]:
    """Keep dripping into every connection until the console closes it; the ones still open
    after HANG_S (a hang guard, not a measure: the console closes them after request_head_s).
    The sockets are closed on the way out."""
    open_, deadline = set(range(len(socks))), time.monotonic() + HANG_S
    while open_ and time.monotonic() < deadline:
        for i in list(open_):
            try:
                socks[i].sendall(drip)
            except OSError:
                open_.discard(i)  # closed by the console
        for i in list(open_):  # a closed socket may only show it on reading
            if closed_by_peer(socks[i]):
                open_.discard(i)
        time.sleep(0.25)
    for s in socks:
        s.close()
    return open_


def closed_by_peer(sock: socket.socket) -> bool:
    """The console closed this connection (an end of stream or a reset, without waiting)."""
    try:
        return sock.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def slow_bodies_are_dropped(port: int, count: int = 20) -> bool:
    """The same with a complete head and a body that dribbles in a byte at a time."""
    head = b"POST /login HTTP/1.1\r\nHost: station\r\nContent-Length: 1000\r\n"
    head += b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
    drips = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
    for s in drips:
        s.sendall(head)
    open_ = drip_until_closed(drips, b"a")
    tally(probes=count, hang=bool(open_))
    return not open_


def test_https_by_default_with_secure_cookies(tmp_path: Path) -> None:
    cert, key = certificate(tmp_path)
    assert oct(key.stat().st_mode & 0o777) == "0o640"
    tls = f'tls_certificate = "{cert}"\ntls_key = "{key}"'
    with console(tmp_path, tls, "https") as (url, log_path):
        trust = ssl.create_default_context(cafile=str(cert))  # what a phone does once
        assert answers(url, verify=trust)
        assert not answers(url.replace("https:", "http:"))  # no plain HTTP on that port
        with httpx.Client(base_url=url, verify=trust, timeout=30) as client:
            token = csrf_of(client.get("/login").text)
            reply = client.post("/login", data={"csrf": token, "password": PASSWORD})
            assert reply.status_code == 303
            cookie = reply.headers["set-cookie"].lower()
            assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    check_log(log_path)
