"""Shared helpers for the console tests (a module, not a conftest, so its name is unique)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from loopback import CHROMIUM_FLAGS as CHROMIUM_FLAGS
from loopback import free_port as free_port  # one copy for every test folder
from loopback import served as served

from station.storage.live import Command, CommandPoller, LiveStatus, LiveStatusWriter

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


class FakeStation:
    """A stand-in for the running station (its real live status file and command folder, none
    of its hardware): it writes `status(n)` for its n-th beat every `period_s` and answers
    commands like the runtime does. `replies[name]` is a command's answer (default: done); a
    command named in `hold` is answered only once `release` is set, so a test can see one in
    progress; `on_command(cmd)` runs first for each command (e.g. write a snapshot)."""

    def __init__(
        self,
        state: Path,
        status: Callable[[int], LiveStatus],
        *,
        period_s: float = 0.25,
        on_command: Callable[[Command], None] | None = None,
    ) -> None:
        self.writer = LiveStatusWriter(state, interval_s=0.0)
        self.poller = CommandPoller(state)
        self.status = status
        self.period_s = period_s
        self.on_command = on_command
        self.hold: set[str] = set()
        self.release = threading.Event()
        self.received: list[str] = []
        self.replies: dict[str, tuple[bool, str, dict[str, Any]]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        held: list[Command] = []
        beat = 0
        while not self.stop.is_set():
            beat += 1
            self.writer.write(self.status(beat))
            for cmd in self.poller.poll():
                self.received.append(cmd.name)
                if self.on_command is not None:
                    self.on_command(cmd)
                held.append(cmd)
            for cmd in list(held):
                if cmd.name in self.hold and not self.release.is_set():
                    continue
                held.remove(cmd)
                ok, message, data = self.replies.get(cmd.name, (True, "done", {}))
                self.poller.reply(cmd, ok, message, data)
            time.sleep(self.period_s)

    def __enter__(self) -> FakeStation:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join()
