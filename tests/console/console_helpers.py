"""Shared helpers for the console tests (a module, not a conftest, so its name is unique)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette

PASSWORD = "jump-coach-42"

# Debian's chromium, headless, with nothing that reaches the network on its own.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

SITE_TEXT = """\
# Site config for the gym's station. Installed by Sam, 2026-05-01.
[posture]
preset = "intermediate"  # the trainers' default

# Trainers asked for a softer back threshold.
[presets.intermediate.back]
warn = 12.0
"""


def make_site(folder: Path) -> Path:
    path = folder / "station.toml"
    path.write_text(SITE_TEXT)
    return path


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def version_of(html: str) -> str:
    match = re.search(r'name="version" value="([^"]+)"', html)
    assert match, "page has no version field"
    return match.group(1)


def login(client: httpx.Client, password: str = PASSWORD) -> str:
    """Log in; returns the logged-in session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    reply = client.post("/login", data={"csrf": token, "password": password, "next": "/history"})
    assert reply.status_code == 303, reply.text
    return csrf_of(client.get("/history").text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(app: Starlette) -> Iterator[str]:
    """Serve `app` with uvicorn on a loopback port in a thread; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
