"""The fault-injection suite's tools: a real station process to hurt, a way to tell it is still
counting, and the tally the suite prints at the end (tracebacks, hangs, unintended config
changes, data lost). A module, not a conftest, so its name is unique in the test tree."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from station.storage.live import LiveStatus, read_live_status

TALLY: Counter[str] = Counter()
"""probes, and for each kind of failure how many probes showed it (printed by conftest)."""
FAILURES = ("tracebacks", "hangs", "unintended config changes", "data lost")


def tally(
    probes: int = 1,
    *,
    traceback: bool = False,
    hang: bool = False,
    config_changed: bool = False,
    lost: bool = False,
) -> None:
    TALLY["probes"] += probes
    for name, happened in zip(FAILURES, (traceback, hang, config_changed, lost), strict=True):
        TALLY[name] += int(happened)


class Station:
    """`station run --simulate --headless` in its own process, live files in `runtime`."""

    def __init__(
        self,
        tmp: Path,
        site_text: str = "",
        *,
        state: Path | None = None,
        runtime: Path | None = None,
    ) -> None:
        self.site = tmp / "station.toml"
        self.site.write_text(site_text)
        self.state = state or tmp / "state"
        self.runtime = runtime or tmp / "run"
        self.runtime.mkdir(parents=True, exist_ok=True)
        self.log_path = tmp / "station.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Station:
        env = {k: v for k, v in os.environ.items() if k not in ("RUNTIME_DIRECTORY",)}
        env.update(SDL_VIDEODRIVER="dummy", STATION_RUNTIME_DIR=str(self.runtime))
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "station", "-v", "run", "--simulate", "--headless",
                 "--config", str(self.site), "--state-dir", str(self.state)],
                env=env, stdout=log, stderr=subprocess.STDOUT,
                # A file-size limit must give EFBIG (like a full disk's ENOSPC), not a signal.
                preexec_fn=lambda: signal.signal(signal.SIGXFSZ, signal.SIG_IGN),
            )  # fmt: skip
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def status(self) -> LiveStatus | None:
        return read_live_status(self.runtime)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, what: str, check: Any, timeout_s: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            assert self.alive(), f"the station died while waiting for {what}:\n{self.log()[-3000:]}"
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                tally(hang=True)
                raise AssertionError(f"timed out waiting for {what}:\n{self.log()[-3000:]}")
            time.sleep(0.1)

    def counting(self, timeout_s: float = 60.0) -> LiveStatus:
        """Wait until the jump count goes up in an active session: the kiosk counts."""
        seen: dict[str, int] = {}

        def check() -> LiveStatus | None:
            status = self.status()
            if status is None or status.phase != "active":
                return None
            jumps = int(status.counts.get("jumps", 0))
            before = seen.get("jumps")
            seen["jumps"] = jumps
            return status if before is not None and jumps > before else None

        return self.wait_for("the count to go up", check, timeout_s)  # type: ignore[no-any-return]

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                tally(hang=True)
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def close(self) -> None:
        self.stop()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def tracebacks(self) -> int:
        return self.log().count("Traceback (most recent call last)")


@contextmanager
def running(tmp: Path, site_text: str = "", **kwargs: Any) -> Iterator[Station]:
    station = Station(tmp, site_text, **kwargs).start()
    try:
        yield station
    finally:
        station.stop()


def remount(folder: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(folder)], check=True)


def fill(folder: Path) -> None:
    """Fill the file system of `folder` to the last byte."""
    with (folder / "ballast").open("wb", buffering=0) as fh:
        for block in (65536, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    fh.write(b"\0" * block)


PASSWORD = "jump-coach-42"


def csrf_of(html: str) -> str:
    import re

    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client: Any, password: str = PASSWORD) -> None:
    token = csrf_of(client.get("/login").text)
    reply = client.post("/login", data={"csrf": token, "password": password})
    assert reply.status_code == 303, reply.text
