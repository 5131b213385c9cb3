"""The small IPC between the running station and the trainers' console (a separate process).

Three channels, all plain files, so neither process can hang or crash the other and nothing
needs a socket. Every function takes the state directory; the files go to
:func:`station.storage.paths.runtime_dir` of it (RUN below): /run/station under systemd (RAM:
no SD-card wear, nothing survives a reboot), else the state directory itself.

* **Live status** (station → console): ``RUN/live.json``, rewritten atomically (a temp
  file renamed over it) a few times a second by :class:`LiveStatusWriter`; the console reads it
  with :func:`read_live_status`. It says what the station measures right now: phase, lights,
  each metric against its thresholds, mat force per zone, counts, device and config problems.
* **Commands** (console → station): one JSON file per request in ``RUN/commands/``
  (:func:`send_command`); the station's main loop calls :meth:`CommandPoller.poll` and answers
  each with :meth:`CommandPoller.reply`, which the console picks up with :func:`wait_result`.
  Known commands: ``beep`` (test the buzzer; optional ``fault``), ``mat_zero``, ``mat_scale``,
  ``mat_read`` / ``mat_fit`` (multi-point calibration: ``zone``, ``loads_n``, ``readings_n``),
  ``mat_health``
  (``known_n``: a known load in newtons on the mat; optional ``zone``), ``snapshot`` (one camera
  frame as JPEG to :func:`snapshot_path`, in RAM, never the state directory).
* **Reload** (console → station): the station's pid in ``RUN/station.pid``
  (:func:`write_pid_file`); :func:`request_reload` sends it SIGHUP after a config save.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from station.events import FAULTS
from station.session.model import in_session
from station.storage.files import atomic_write_text
from station.storage.paths import (
    COMMANDS_DIR,
    LIVE_STATUS,
    PID_FILE,
    RESULTS_DIR,
    runtime_dir,
    volatile_dir,
)

log = logging.getLogger(__name__)

COMMAND_NAMES: tuple[str, ...] = (
    "beep", "mat_zero", "mat_scale", "mat_read", "mat_fit", "mat_health", "snapshot",
)  # fmt: skip
COMMAND_MAX_AGE_S = 30.0
"""A command the station has not picked up within this time is dropped (the station was down;
a trainer's test beep must not go off minutes later)."""


# --- live status -------------------------------------------------------------------------------


@dataclass
class LiveStatus:
    """What the station measures right now. Every field has a default so either side can be
    older than the other; unknown fields in the file are ignored."""

    phase: str = "idle"  # idle | calibrating | active | summary
    lights: dict[str, str] = field(default_factory=lambda: {f: "unknown" for f in FAULTS})
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    """fault -> {"value": float | None, "warn": float, "fault": float, "unit": str}"""
    mat: dict[str, Any] = field(default_factory=dict)
    """{"zones": [str], "force_n": [float], "raw_counts": [float], "total_n": float,
    "body_weight_n": float | None, "calibrated": bool}"""
    counts: dict[str, Any] = field(default_factory=dict)
    """{"jumps": int, "streak": int, "cadence_per_min": float, "elapsed_s": float,
    "count_source": "mat" | "camera"}"""
    devices: dict[str, str] = field(default_factory=dict)  # device -> "ok" or its problem
    device_roles: dict[str, str] = field(default_factory=dict)
    """device -> "real", "simulated" or "absent" (mat, camera, gpio)"""
    camera: dict[str, Any] = field(default_factory=dict)
    """{"inference_fps": float, "inference_fps_mean": float,
    "inference_fps_min": float | None (the slowest 5 s so far), "frames_inferred": int,
    "frames_dropped": int, "count_latency_ms": float | None, "max_fps": float,
    "framing": {"feet_out": bool, "feet_in_picture": float | None},
    "session_feet_in_picture": float | None}"""
    preset: str = ""
    config_problem: str | None = None  # the trainer notice when a config was rejected
    timestamp: float = 0.0  # Unix time the station wrote it
    seq: int = 0  # increases with every write

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LiveStatus:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def age_s(self, wall: Callable[[], float] = time.time) -> float:
        return max(0.0, wall() - self.timestamp)

    @property
    def in_session(self) -> bool:
        """A session that counts is on the screen (:func:`station.session.model.in_session`)."""
        return in_session(self.phase, int(self.counts.get("jumps", 0)))


class LiveStatusWriter:
    """The station's side: call :meth:`publish` from the main loop every frame; it writes at
    most once per `interval_s` of the station clock."""

    def __init__(
        self,
        state_dir: str | Path,
        *,
        interval_s: float = 0.25,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.path = runtime_dir(state_dir) / LIVE_STATUS
        self.interval_s = interval_s
        self._wall = wall
        self._last: float | None = None
        self._seq = 0
        self.problem: str | None = None  # why the console cannot see the station, if it cannot
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._failed(exc)

    def publish(self, status: LiveStatus, now: float) -> bool:
        """Write if `interval_s` has passed since the last write (`now`: station clock)."""
        if self._last is not None and now - self._last < self.interval_s:
            return False
        self._last = now
        self.write(status)
        return True

    def write(self, status: LiveStatus) -> None:
        self._seq += 1
        status.seq = self._seq
        status.timestamp = self._wall()
        # No fsync: the file is a view of the present, worthless after a power cut, and an
        # fsync several times a second would wear the SD card. The rename alone guarantees a
        # reader sees either the old or the new file, never half of one.
        try:
            atomic_write_text(self.path, status.to_json(), fsync=False)
        except OSError as exc:  # full or read-only: the console goes blind, the station runs on
            self._failed(exc)
            return
        if self.problem is not None:
            log.warning("live status is written again to %s", self.path)
            self.problem = None

    def _failed(self, exc: OSError) -> None:
        problem = f"cannot write {self.path}: {exc.strerror}"
        if problem != self.problem:  # once per problem, not 4 times a second
            log.error("%s (the console cannot show the station live)", problem)
        self.problem = problem

    def remove(self) -> None:
        """On shutdown: the console then shows "station not running" instead of stale values."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def read_live_status(state_dir: str | Path) -> LiveStatus | None:
    """The console's side: the newest status, or None if the station has not written one (or
    the file is unreadable). Check :meth:`LiveStatus.age_s` to tell a stopped station."""
    try:
        data = json.loads((runtime_dir(state_dir) / LIVE_STATUS).read_text())
    except (OSError, ValueError):
        return None
    return LiveStatus.from_dict(data) if isinstance(data, dict) else None


# --- commands ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    id: str
    name: str
    args: Mapping[str, Any]
    created_at: float  # Unix time


@dataclass(frozen=True)
class CommandResult:
    id: str
    ok: bool
    message: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


def send_command(
    state_dir: str | Path,
    name: str,
    args: Mapping[str, Any] | None = None,
    *,
    wall: Callable[[], float] = time.time,
) -> str:
    """Drop a command for the station; returns its id (for :func:`wait_result`)."""
    if name not in COMMAND_NAMES:
        raise ValueError(f"unknown command {name!r} (known: {', '.join(COMMAND_NAMES)})")
    now = wall()
    command_id = f"{int(now * 1e6):017d}-{uuid.uuid4().hex[:8]}"
    body = {"id": command_id, "name": name, "args": dict(args or {}), "created_at": now}
    folder = runtime_dir(state_dir) / COMMANDS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / f"{command_id}.json", json.dumps(body), fsync=False)
    return command_id


class CommandPoller:
    """The station's side: :meth:`poll` (cheap: one directory listing) from the main loop,
    then :meth:`reply` to each command once it is done."""

    def __init__(
        self,
        state_dir: str | Path,
        *,
        max_age_s: float = COMMAND_MAX_AGE_S,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.commands = runtime_dir(state_dir) / COMMANDS_DIR
        self.results = runtime_dir(state_dir) / RESULTS_DIR
        try:
            self.commands.mkdir(parents=True, exist_ok=True)
            self.results.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.error("no console commands: cannot create %s: %s", self.commands, exc.strerror)
        self.max_age_s = max_age_s
        self._wall = wall

    def poll(self) -> list[Command]:
        """New commands, oldest first; each is taken (its file removed) exactly once.
        Malformed, unknown or expired ones are answered with an error and not returned."""
        out: list[Command] = []
        try:
            paths = sorted(self.commands.glob("*.json"))  # temp files start with "."
        except OSError:
            return []
        for path in paths:
            try:
                text = path.read_text()
                path.unlink()
            except OSError:  # gone already, or a folder we cannot change: not ours to run
                continue
            command_id = path.stem
            try:
                data = json.loads(text)
                command = Command(
                    command_id, str(data["name"]), dict(data.get("args", {})), data["created_at"]
                )
            except (ValueError, KeyError, TypeError) as exc:
                self.reply_id(command_id, False, f"malformed command: {exc}")
                continue
            if command.name not in COMMAND_NAMES:
                self.reply(command, False, f"unknown command {command.name!r}")
            elif self._wall() - float(command.created_at) > self.max_age_s:
                self.reply(command, False, "expired before the station picked it up")
            else:
                out.append(command)
        self._prune_results()
        return out

    def reply(
        self,
        command: Command,
        ok: bool,
        message: str = "",
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self.reply_id(command.id, ok, message, data)

    def reply_id(
        self, command_id: str, ok: bool, message: str = "", data: Mapping[str, Any] | None = None
    ) -> None:
        body = {"id": command_id, "ok": ok, "message": message, "data": dict(data or {})}
        try:
            atomic_write_text(self.results / f"{command_id}.json", json.dumps(body), fsync=False)
        except OSError as exc:  # the console then says the station did not answer
            log.error("cannot answer console command %s: %s", command_id, exc.strerror)
        if not ok:
            log.warning("console command %s: %s", command_id, message)

    def _prune_results(self) -> None:
        """Results nobody collected (the console gave up) go after a few minutes."""
        limit = self._wall() - 10 * self.max_age_s
        for path in self.results.glob("*.json"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < limit:
                    path.unlink()


def read_result(state_dir: str | Path, command_id: str) -> CommandResult | None:
    """The station's answer to a command (consumed: the file is removed), or None yet."""
    path = runtime_dir(state_dir) / RESULTS_DIR / f"{Path(command_id).name}.json"
    try:
        data = json.loads(path.read_text())
        path.unlink()
    except (OSError, ValueError):
        return None
    return CommandResult(command_id, bool(data.get("ok")), str(data.get("message", "")),
                         dict(data.get("data", {})))  # fmt: skip


def wait_result(
    state_dir: str | Path, command_id: str, timeout_s: float = 3.0, poll_s: float = 0.05
) -> CommandResult | None:
    """Wait (blocking, real time) for the station's answer; None if it did not come in time."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = read_result(state_dir, command_id)
        if result is not None or time.monotonic() >= deadline:
            return result
        time.sleep(poll_s)


def snapshot_path() -> Path:
    """Where the station puts a camera snapshot for the console: RAM (see volatile_dir), so a
    picture of the gym never reaches the SD card. The console deletes it once shown."""
    return volatile_dir() / "snapshot.jpg"


def write_snapshot(jpeg: bytes) -> Path:
    """The station's side of ``snapshot``: put one JPEG where the console will take it (and
    delete it), readable by this user only; then reply ok to the command."""
    path = snapshot_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(jpeg)
    os.replace(tmp, path)
    return path


# --- pid file and reload -----------------------------------------------------------------------


def write_pid_file(state_dir: str | Path, pid: int | None = None) -> Path:
    path = runtime_dir(state_dir) / PID_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, f"{os.getpid() if pid is None else pid}\n", fsync=False)
    except OSError as exc:  # the console then cannot ask for a reload; SIGHUP still works
        log.error("cannot write the pid file %s: %s", path, exc.strerror)
    return path


def remove_pid_file(state_dir: str | Path) -> None:
    """Remove the pid file if it is ours (a newer station may already have replaced it)."""
    path = runtime_dir(state_dir) / PID_FILE
    with contextlib.suppress(OSError, ValueError):
        if int(path.read_text().strip()) == os.getpid():
            path.unlink()


def read_pid(state_dir: str | Path) -> int | None:
    """The running station's pid, or None if there is no pid file or its process is gone."""
    try:
        pid = int((runtime_dir(state_dir) / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    if pid <= 1 or pid == os.getpid():
        return None  # never signal init or ourselves (a stale file naming a reused pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, just not ours to signal; request_reload will say so
    return pid


def request_reload(state_dir: str | Path) -> tuple[bool, str]:
    """Ask the running station to re-read its config (SIGHUP). Returns (sent, explanation)."""
    pid = read_pid(state_dir)
    if pid is None:
        return False, "the station is not running; it will read the new config when it starts"
    try:
        os.kill(pid, signal.SIGHUP)
    except OSError as exc:
        return False, f"could not signal the station (pid {pid}): {exc.strerror}"
    return True, f"the station (pid {pid}) was asked to reload"
