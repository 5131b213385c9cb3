"""`station console set-password` and `station console serve` as a trainer's installer runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from console_helpers import free_port

from station.console import auth


def run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "station", *args],
        input=stdin, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_set_password_from_stdin(tmp_path: Path) -> None:
    env = {**os.environ, "STATION_STATE_DIR": str(tmp_path), "STATION_CONFIG": str(tmp_path / "x")}
    short = run(["console", "set-password", "--stdin"], env, "abc\n")
    assert short.returncode == 1 and "at least 6 characters" in short.stderr
    assert not (tmp_path / auth.PASSWORD_FILE).exists()
    done = run(["console", "set-password", "--stdin"], env, "rope-skipping\n")
    assert done.returncode == 0, done.stderr
    assert "console is enabled" in done.stdout
    creds = auth.load_credentials(tmp_path)
    assert auth.check_password(creds, "rope-skipping")
    assert "rope-skipping" not in json.dumps(
        json.loads((tmp_path / auth.PASSWORD_FILE).read_text())
    )


def test_serve_binds_where_told(tmp_path: Path) -> None:
    port = free_port()
    site = tmp_path / "station.toml"
    site.write_text(f'[console]\nbind = "127.0.0.1"\nport = {port}\n')
    env = {**os.environ, "STATION_STATE_DIR": str(tmp_path / "state"), "STATION_CONFIG": str(site)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "station", "console", "serve"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                reply = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "console did not start"
                time.sleep(0.2)
        assert reply.status_code == 503 and "set-password" in reply.text  # no password yet
        assert "server" not in reply.headers
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_broken_config_is_named_and_nothing_served(tmp_path: Path) -> None:
    site = tmp_path / "station.toml"
    site.write_text("[console]\nport = 99999\n")
    env = {**os.environ, "STATION_STATE_DIR": str(tmp_path / "state"), "STATION_CONFIG": str(site)}
    done = run(["console", "serve"], env)
    assert done.returncode == 1 and "console.port = 99999" in done.stderr
