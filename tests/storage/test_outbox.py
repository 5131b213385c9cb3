"""Session consumers read the session log (the outbox) in their own threads: a consumer added
from this file alone gets every session in order, while the UI thread never waits for it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from station.clock import ManualClock
from station.config.loader import Config, ConfigStore
from station.hardware import select_hardware
from station.runtime.loop import run_fast
from station.runtime.station import Station
from station.storage.outbox import (
    CONSUMERS,
    ConsumerGroup,
    ConsumerSite,
    ConsumerThread,
    SessionConsumer,
    register_consumer,
)
from station.storage.resilient import ResilientLog
from station.storage.sessions import SessionLog, SessionRecord

TWO_SESSIONS = """
name = "two members"
[[phase]]
kind = "step_on"
duration_s = 1.5
[[phase]]
kind = "stand"
duration_s = 3.0
[[phase]]
kind = "jump"
duration_s = 8.0
cadence_per_min = 150.0
[[phase]]
kind = "step_off"
duration_s = 1.5
[[phase]]
kind = "empty"
duration_s = 12.0
[[phase]]
kind = "step_on"
duration_s = 1.5
[[phase]]
kind = "stand"
duration_s = 3.0
[[phase]]
kind = "jump"
duration_s = 8.0
cadence_per_min = 150.0
[[phase]]
kind = "step_off"
duration_s = 1.5
"""


class Gated:
    """A consumer that cannot finish until the test lets it (a broker far away)."""

    name = "test-gated"

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.got: list[SessionRecord] = []
        self.threads: set[str] = set()

    def deliver(self, session: SessionRecord) -> bool:
        self.threads.add(threading.current_thread().name)
        if not self.gate.wait(30):
            return False
        self.got.append(session)
        return True


@pytest.fixture
def gated() -> object:
    consumer = Gated()

    @register_consumer(consumer.name)
    def _factory(config: Config, site: ConsumerSite) -> SessionConsumer | None:
        return consumer

    yield consumer
    CONSUMERS.pop(consumer.name)


def test_a_registered_consumer_gets_every_session_off_the_ui_thread(
    tmp_path: Path, gated: Gated
) -> None:
    script = tmp_path / "two.toml"
    script.write_text(TWO_SESSIONS)
    (tmp_path / "station.toml").write_text("")
    store = ConfigStore(tmp_path / "station.toml")
    hardware = select_hardware(store.config, simulate=True, script=script)
    session_log = ResilientLog(tmp_path / "state")
    consumers = ConsumerGroup.for_config(session_log.path, store.config)
    station = Station(store, hardware, session_log=session_log, consumers=consumers)
    consumers.start()
    sources = [s for s in (hardware.open_mat(), hardware.open_camera()) if s is not None]
    clock = ManualClock()
    run_fast(station, sources, fps=30.0, clock=clock)
    station.shutdown(clock.now())
    # the whole day ran and was logged while the consumer was stuck on its first session
    assert station.sessions_done == 2
    assert gated.got == []
    gated.gate.set()
    consumers.stop(drain_s=30)
    with SessionLog(session_log.path) as db:
        logged = db.sessions()
        assert [r.uuid for r in gated.got] == [r.uuid for r in logged]
        assert db.delivered_ids(gated.name) == [r.id for r in logged]
    assert len({r.uuid for r in logged}) == 2 and all(r.uuid for r in logged)
    assert gated.threads == {"consumer-test-gated"}


class Flaky:
    """Refuses every second offer and raises once: each session still arrives once, in order."""

    name = "flaky"

    def __init__(self) -> None:
        self.offers = 0
        self.got: list[int] = []

    def deliver(self, session: SessionRecord) -> bool:
        self.offers += 1
        if self.offers == 3:
            raise ConnectionError("the far end hung up")
        if self.offers % 2 == 0:
            return False
        self.got.append(session.id)
        return True


def _log_sessions(db: SessionLog, n: int) -> list[int]:
    ids = []
    for i in range(n):
        sid = db.begin(started_at=1000.0 + 60 * i)
        db.finish(sid, {"jumps": 10 + i, "duration_s": 30.0}, ended_at=1030.0 + 60 * i)
        ids.append(sid)
    return ids


def test_a_failing_consumer_gets_each_session_once_in_order(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite3"
    with SessionLog(path) as db:
        ids = _log_sessions(db, 5)
        open_id = db.begin(started_at=9999.0)  # still running: not offered
    flaky = Flaky()
    thread = ConsumerThread(path, flaky, poll_s=0.05, retry_s=0.01, max_retry_s=0.02)
    thread.start()
    thread.poke()
    assert thread.wait_idle(20)
    assert flaky.got == ids
    with SessionLog(path) as db:
        assert db.delivered_ids("flaky") == ids
        assert open_id not in db.delivered_ids("flaky")
        assert db.undelivered("flaky") == []
        # the running session ends, and one more after it: both offered, in order (the
        # consumer's cursor waited before the open row)
        db.finish(open_id, {"jumps": 3, "duration_s": 5.0}, ended_at=10_000.0)
        later = _log_sessions(db, 1)
    thread.poke()
    assert thread.wait_idle(20)
    thread.stop()
    assert flaky.got == [*ids, open_id, *later]


def test_the_migration_gives_old_rows_a_uuid_and_an_empty_outbox(tmp_path: Path) -> None:
    import sqlite3

    from station.storage import sessions

    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    for statement in sessions._statements(sessions._MIGRATIONS[1]):
        db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.executemany(
        "INSERT INTO sessions (started_at, status, jumps) VALUES (?, 'finished', ?)",
        [(1000.0, 5), (2000.0, 7)],
    )
    db.commit()
    db.close()
    with SessionLog(path) as log:
        assert log.schema_version == sessions.SCHEMA_VERSION
        old = log.undelivered("uplink")
        assert [r.jumps for r in old] == [5, 7]
        uuids = [r.uuid for r in old]
        assert len(set(uuids)) == 2
        import uuid

        assert all(uuid.UUID(u).version == 4 for u in uuids)


def test_a_consumer_is_never_offered_a_row_without_a_jump_and_its_cursor_passes_them(
    tmp_path: Path,
) -> None:
    """0-jump rows (an older version's, or a session cut off before its first checkpoint)
    between real ones, more of them than a batch: every real session arrives, in order, and
    no 0-jump row is offered or marked."""
    path = tmp_path / "sessions.sqlite3"
    with SessionLog(path) as db:
        first = _log_sessions(db, 2)
        empty = []
        for i in range(5):  # more than the consumer's batch of 3
            sid = db.begin(started_at=5000.0 + i)
            db.finish(sid, {"jumps": 0, "duration_s": 4.0}, ended_at=5004.0 + i)
            empty.append(sid)
        later = _log_sessions(db, 2)
    flaky = Flaky()
    thread = ConsumerThread(path, flaky, poll_s=0.05, retry_s=0.01, max_retry_s=0.02, batch=3)
    thread.start()
    thread.poke()
    assert thread.wait_idle(20)
    thread.stop()
    assert flaky.got == [*first, *later]
    with SessionLog(path) as db:
        assert db.delivered_ids("flaky") == [*first, *later]
        assert db.undelivered("flaky") == []
