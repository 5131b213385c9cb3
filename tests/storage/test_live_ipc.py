"""The station ↔ console file IPC: live status, commands and replies, pid file and SIGHUP."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from station.storage.live import (
    CommandPoller,
    LiveStatus,
    LiveStatusWriter,
    read_live_status,
    read_pid,
    remove_pid_file,
    request_reload,
    send_command,
    snapshot_path,
    wait_result,
    write_pid_file,
    write_snapshot,
)
from station.storage.paths import COMMANDS_DIR, LIVE_STATUS, state_dir


@pytest.fixture(autouse=True)
def no_runtime_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests use the state directory itself unless they set a runtime directory."""
    monkeypatch.delenv("STATION_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)


class Wall:
    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_status_roundtrip_and_throttle(tmp_path: Path) -> None:
    wall = Wall()
    writer = LiveStatusWriter(tmp_path, interval_s=0.25, wall=wall)
    assert read_live_status(tmp_path) is None
    status = LiveStatus(phase="active", lights={"back": "fault"}, counts={"jumps": 12})
    status.metrics["back"] = {"value": 19.5, "warn": 11.0, "fault": 18.0, "unit": "degrees"}
    status.mat = {"zones": ["left", "right"], "force_n": [410.0, 395.5], "calibrated": True}
    assert writer.publish(status, now=10.0)
    assert not writer.publish(status, now=10.1)  # throttled on the station clock
    assert writer.publish(status, now=10.25)
    got = read_live_status(tmp_path)
    assert got is not None
    assert (got.phase, got.lights["back"], got.counts["jumps"], got.seq) == (
        "active",
        "fault",
        12,
        2,
    )
    assert got.metrics["back"]["value"] == 19.5 and got.mat["force_n"] == [410.0, 395.5]
    wall.t += 5
    assert got.age_s(wall) == pytest.approx(5.0)
    writer.remove()
    assert read_live_status(tmp_path) is None


def test_reader_tolerates_newer_writer_and_garbage(tmp_path: Path) -> None:
    (tmp_path / LIVE_STATUS).write_text(json.dumps({"phase": "idle", "from_the_future": 1}))
    status = read_live_status(tmp_path)
    assert status is not None and status.phase == "idle"
    (tmp_path / LIVE_STATUS).write_text("{not json")
    assert read_live_status(tmp_path) is None


def test_reader_never_sees_a_half_written_file(tmp_path: Path) -> None:
    """A writer thread rewrites a large status as fast as it can; every read parses."""
    writer = LiveStatusWriter(tmp_path, interval_s=0.0)
    big = LiveStatus(mat={"force_n": [float(i) for i in range(20000)]})
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            writer.write(big)

    thread = threading.Thread(target=spin)
    thread.start()
    try:
        reads = 0
        while reads < 300:
            got = read_live_status(tmp_path)
            if got is not None:
                assert len(got.mat["force_n"]) == 20000
                reads += 1
    finally:
        stop.set()
        thread.join()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != LIVE_STATUS]
    assert leftovers == []


def test_commands_are_taken_once_in_order_and_answered(tmp_path: Path) -> None:
    poller = CommandPoller(tmp_path)
    first = send_command(tmp_path, "beep", {"fault": "back"})
    second = send_command(tmp_path, "mat_scale", {"known_n": 200.0, "zone": "left"})
    got = poller.poll()
    assert [(c.id, c.name) for c in got] == [(first, "beep"), (second, "mat_scale")]
    assert got[1].args == {"known_n": 200.0, "zone": "left"}
    assert poller.poll() == []  # taken exactly once
    poller.reply(got[0], True, "beeped")
    result = wait_result(tmp_path, first, timeout_s=1.0)
    assert result is not None and result.ok and result.message == "beeped"
    assert wait_result(tmp_path, second, timeout_s=0.1) is None  # not answered yet


def test_bad_and_expired_commands_are_answered_with_an_error(tmp_path: Path) -> None:
    wall = Wall()
    poller = CommandPoller(tmp_path, wall=wall)
    old = send_command(tmp_path, "beep", wall=Wall(wall.t - 60))
    with pytest.raises(ValueError, match="unknown command"):
        send_command(tmp_path, "format_disk")
    (tmp_path / COMMANDS_DIR / "123-bad.json").write_text("{oops")
    (tmp_path / COMMANDS_DIR / ".half-written.json.tmp").write_text("{")
    assert poller.poll() == []
    expired = wait_result(tmp_path, old, timeout_s=0.5)
    assert expired is not None and not expired.ok and "expired" in expired.message
    bad = wait_result(tmp_path, "123-bad", timeout_s=0.5)
    assert bad is not None and not bad.ok and "malformed" in bad.message


def test_snapshot_goes_to_ram_not_the_state_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATION_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)
    assert snapshot_path() == Path("/dev/shm/station/snapshot.jpg")
    monkeypatch.setenv("RUNTIME_DIRECTORY", "/run/station")
    assert snapshot_path() == Path("/run/station/snapshot.jpg")


def test_state_dir_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATION_STATE_DIR", raising=False)
    assert state_dir() == Path("/var/lib/station")
    assert state_dir("/srv/st") == Path("/srv/st")
    monkeypatch.setenv("STATION_STATE_DIR", "/tmp/x")
    assert state_dir("/srv/st") == Path("/tmp/x")


STAND_IN = textwrap.dedent(
    """
    import signal, sys, time
    from station.storage.live import write_pid_file
    got = []
    signal.signal(signal.SIGHUP, lambda *_: got.append(1))
    write_pid_file(sys.argv[1])
    print("ready", flush=True)
    while not got:
        time.sleep(0.01)
    print("reloaded", flush=True)
    """
)


def test_request_reload_sends_sighup_to_the_pid_files_process(tmp_path: Path) -> None:
    assert request_reload(tmp_path) == (
        False,
        "the station is not running; it will read the new config when it starts",
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", STAND_IN, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    assert read_pid(tmp_path) == proc.pid
    sent, why = request_reload(tmp_path)
    assert sent, why
    assert proc.stdout.readline().strip() == "reloaded"
    assert proc.wait(timeout=10) == 0
    assert read_pid(tmp_path) is None  # process gone: a stale pid file is not a station


def test_pid_file_is_removed_only_by_its_owner(tmp_path: Path) -> None:
    other = subprocess.Popen(["sleep", "30"])  # a live process that is not us
    try:
        write_pid_file(tmp_path, pid=other.pid)
        remove_pid_file(tmp_path)
        assert read_pid(tmp_path) == other.pid  # someone else's: left alone
    finally:
        other.kill()
        other.wait()
    write_pid_file(tmp_path)
    remove_pid_file(tmp_path)
    assert read_pid(tmp_path) is None


def test_live_files_go_to_the_runtime_dir_when_there_is_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, run = tmp_path / "state", tmp_path / "run"
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(run))
    LiveStatusWriter(state).write(LiveStatus(phase="summary"))
    send_command(state, "beep")
    write_pid_file(state)
    assert (run / LIVE_STATUS).exists() and (run / COMMANDS_DIR).is_dir()
    assert not state.exists() or not any(state.iterdir())  # nothing on the SD card
    status = read_live_status(state)
    assert status is not None and status.phase == "summary"
    assert [c.name for c in CommandPoller(state).poll()] == ["beep"]
    remove_pid_file(state)


def test_write_snapshot_goes_to_ram_for_this_user_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATION_RUNTIME_DIR", str(tmp_path / "ram"))
    path = write_snapshot(b"\xff\xd8jpeg\xff\xd9")
    assert path == snapshot_path() == tmp_path / "ram" / "snapshot.jpg"
    assert path.read_bytes() == b"\xff\xd8jpeg\xff\xd9"
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["snapshot.jpg"]
