"""`station console set-password` and `station console serve` as a trainer's installer runs them."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from console_helpers import free_port

from station.config.loader import build_config, load_config
from station.config.sections import SCHEMA
from station.console import auth
from station.console.settings import SECTION, ConsoleSettings


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


def start_serve(args: list[str], env: dict[str, str], url: str) -> subprocess.Popen[str]:
    """`station console serve ARGS`, once it answers `url` (or fails the test with its log)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "station", "console", "serve", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url, timeout=2, verify=False)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(proc.stdout.read() if proc.stdout else "no start") from None
            time.sleep(0.2)


def test_a_broken_site_file_does_not_stop_the_console(tmp_path: Path) -> None:
    """The page that shows the problem must be reachable: serve starts on the defaults."""
    port = free_port()
    site = tmp_path / "station.toml"
    site.write_bytes("[console]\nport = 99999\n# café\n".encode("latin-1"))
    state = tmp_path / "state"
    auth.set_password(state, "rope-skipping")
    env = {**os.environ, "STATION_STATE_DIR": str(state), "STATION_CONFIG": str(site)}
    url = f"http://127.0.0.1:{port}"
    proc = start_serve(["--bind", "127.0.0.1", "--port", str(port)], env, f"{url}/login")
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            page = client.get("/login")
            token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
            client.post("/login", data={"csrf": token, "password": "rope-skipping"})
            broken = client.get("/thresholds")
            assert broken.status_code == 503
            assert "not UTF-8: byte 0xe9 at line 3" in broken.text
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert "site config is broken" in out and "not UTF-8" in out
    assert "Traceback" not in out
    assert site.read_bytes().endswith("café\n".encode("latin-1"))  # untouched


def test_console_settings_are_the_section_typed(tmp_path: Path) -> None:
    assert [f.name for f in dataclasses.fields(ConsoleSettings)] == list(SECTION.keys)
    defaults = ConsoleSettings.from_config(build_config(SCHEMA, []))
    assert defaults == ConsoleSettings(**{k: key.default for k, key in SECTION.keys.items()})
    site = tmp_path / "station.toml"
    site.write_text('[console]\nport = 8443\nsession_hours = 2\ntls_certificate = ""\n')
    settings = ConsoleSettings.from_config(load_config(site))
    assert (settings.port, settings.session_hours, settings.tls_certificate) == (8443, 2.0, "")
    assert isinstance(settings.session_hours, float)  # written as an integer, read as hours
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.port = 1  # type: ignore[misc]
