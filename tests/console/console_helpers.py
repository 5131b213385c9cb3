"""Shared helpers for the console tests (a module, not a conftest, so its name is unique)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from loopback import CHROMIUM_FLAGS as CHROMIUM_FLAGS
from loopback import free_port as free_port  # one copy for every test folder
from loopback import served as served

PASSWORD = "jump-coach-42"


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
