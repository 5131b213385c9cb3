"""`station uplink` against a real Mosquitto (tests/fleet/conftest.py) with the shipped ACL:
sessions arrive once and in order through broker deaths, an offline backlog and a SIGKILL
between publish and PUBACK; config pushes apply all or nothing, answer with the version or the
key paths, reach a station that was offline, and never come from an unauthorised client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fleet_helpers import Collector, connect, make_certificates

from station.config.loader import load_config
from station.config.sections import SCHEMA
from station.console.sitefile import SiteConfigFile
from station.fleet import wire
from station.fleet.uplink import CONSUMER, Uplink, UplinkSettings
from station.storage.sessions import SessionLog

SITE = "gym"


class StationDir:
    """One station's files: its site config with [uplink], its state folder (session log)."""

    def __init__(self, root: Path, broker: Any, station_id: str, live_hz: float = 0.0) -> None:
        self.root = root
        self.station_id = station_id
        self.state = root / "state"
        self.state.mkdir(parents=True)
        self.config = root / "station.toml"
        password = root / "uplink.password"
        password.write_text(broker.users[station_id] + "\n")
        self.config.write_text(
            "# a trainer's comment that must survive a pushed change\n"
            "[uplink]\nenabled = true\n"
            f'broker = "{broker.url}"\nsite = "{SITE}"\nstation_id = "{station_id}"\n'
            f'password_file = "{password}"\nlive_hz = {live_hz}\n'
        )

    def log(self) -> SessionLog:
        return SessionLog.in_state_dir(self.state)

    def add_sessions(self, n: int, start: float = 1_700_000_000.0) -> list[str]:
        """n finished sessions in the log, as the kiosk writes them; their uuids in order."""
        with self.log() as db:
            ids = []
            for i in range(n):
                sid = db.begin(started_at=start + 60 * i)
                db.finish(sid, {"jumps": 20 + i, "duration_s": 40.0}, ended_at=start + 60 * i + 40)
                ids.append(sid)
            by_id = {r.id: r.uuid for r in db.sessions()}
        return [by_id[i] for i in ids]

    def delivered(self) -> int:
        with self.log() as db:
            return len(db.delivered_ids(CONSUMER))

    def uplink(self) -> Uplink:
        config = load_config(self.config, required=True)
        return Uplink(
            UplinkSettings.from_config(config),
            state_dir=self.state,
            site_file=SiteConfigFile(self.config, SCHEMA, self.state),
            schema=SCHEMA,
        )

    def start_process(self) -> subprocess.Popen[bytes]:
        self.stderr = self.root / "uplink.log"
        return subprocess.Popen(
            [sys.executable, "-m", "station", "-v", "uplink", "--config", str(self.config),
             "--state-dir", str(self.state)],
            stderr=self.stderr.open("ab"), stdout=subprocess.DEVNULL,
        )  # fmt: skip


@contextmanager
def running(station: StationDir) -> Iterator[Uplink]:
    """The uplink in a thread of the test (the same code as the process, minus its signals)."""
    uplink = station.uplink()
    stop = threading.Event()
    thread = threading.Thread(target=uplink.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield uplink
    finally:
        stop.set()
        thread.join(10)


def first_arrivals(uuids: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for u in uuids:
        seen.setdefault(u, None)
    return list(seen)


def wait(condition: Any, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


# --- sessions -----------------------------------------------------------------------------------


def test_offline_backlog_arrives_in_order_and_is_marked_on_puback(
    mosquitto: Any, tmp_path: Path
) -> None:
    station = StationDir(tmp_path / "st-1", mosquitto, "st-1")
    collector = Collector(mosquitto, wire.site_filter(SITE))
    mosquitto.kill()  # the gym's server is down all morning
    with running(station) as uplink:
        backlog = station.add_sessions(25)
        # the uplink has tried the dead broker (again) since the backlog was written
        tried = uplink.connect_failures
        assert wait(lambda: uplink.connect_failures > tried), "the uplink never tried"
        assert station.delivered() == 0  # nothing marked without a PUBACK
        mosquitto.start()
        assert wait(lambda: station.delivered() == 25), "backlog not delivered"
        assert collector.wait_for(lambda: set(collector.session_uuids()) == set(backlog))
        assert first_arrivals(collector.session_uuids()) == backlog
        got = collector.of("session")[0]
        assert got["station_id"] == "st-1" and got["session"]["jumps"] == 20
        # the kiosk is not running here: the status says so, retained
        assert collector.wait_for(
            lambda: any(s["state"] == "offline" for s in collector.of("status"))
        )
    # a clean stop says offline too (no will needed)
    assert collector.wait_for(lambda: collector.of("status")[-1] == {"state": "offline", "v": 1})
    collector.close()


def test_broker_killed_mid_day_loses_nothing_and_doubles_nothing(
    mosquitto: Any, tmp_path: Path
) -> None:
    station = StationDir(tmp_path / "st-2", mosquitto, "st-2")
    collector = Collector(mosquitto, wire.site_filter(SITE, "session"))
    uuids: list[str] = []

    def acknowledged(n: int) -> bool:
        return wait(lambda: station.delivered() == n)

    with running(station) as uplink:
        for hour in range(6):
            uuids += station.add_sessions(5, start=1_700_000_000.0 + 3600 * hour)
            if hour <= 2:  # the broker is up: the morning's sessions are acknowledged
                assert acknowledged(len(uuids)), f"hour {hour}"
            if hour == 2:
                mosquitto.kill()  # mid-day, sessions keep ending while it is down
                # ...while the uplink knows it is down, not just before it notices
                assert wait(lambda: not uplink.client.is_connected()), "never saw it go"
            if hour == 4:
                mosquitto.start()
        assert acknowledged(30), "not every session was acknowledged"
        assert collector.wait_for(lambda: set(collector.session_uuids()) == set(uuids))
    arrived = collector.session_uuids()
    assert first_arrivals(arrived) == uuids  # in order, none lost
    # at-least-once on the wire; the uuid makes it exactly once for the recorder
    assert len(arrived) - len(set(arrived)) <= 20  # at most one window re-sent
    collector.close()


def test_sigkill_between_publish_and_puback_delivers_once(mosquitto: Any, tmp_path: Path) -> None:
    station = StationDir(tmp_path / "st-3", mosquitto, "st-3")
    collector = Collector(mosquitto, wire.site_filter(SITE))
    proc = station.start_process()
    try:
        assert collector.wait_for(lambda: collector.of("status")), "the uplink never came up"
        mosquitto.pause()  # the broker will take the PUBLISH but answer nothing
        (session_uuid,) = station.add_sessions(1)
        assert wait(lambda: f"session {session_uuid} published" in station.stderr.read_text())
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        mosquitto.resume()
        assert station.delivered() == 0  # published, never acknowledged: still in the outbox
        # the broker notices the dead connection and publishes the last will
        assert collector.wait_for(
            lambda: collector.of("status")[-1] == {"state": "offline", "v": 1}
        )
        proc = station.start_process()
        assert wait(lambda: station.delivered() == 1)
        assert collector.wait_for(lambda: session_uuid in collector.session_uuids())
        assert set(collector.session_uuids()) == {session_uuid}
        assert 1 <= collector.session_uuids().count(session_uuid) <= 2  # once per uuid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        collector.close()


# --- config push --------------------------------------------------------------------------------


def push(
    broker: Any,
    target: str,
    layer: dict[str, Any],
    *,
    user: str = "fleet",
    issued_at: str | None = None,
) -> str:
    """A console's retained push; with ``issued_at`` as presets.push sends it."""
    change_id = str(uuid.uuid4())
    body: dict[str, Any] = {"change_id": change_id, "layer": layer}
    if issued_at is not None:
        body["issued_at"] = issued_at
    client = connect(broker, user)
    info = client.publish(
        wire.topic(SITE, target, "config/set"),
        wire.encode(body),
        qos=1,
        retain=True,
    )
    info.wait_for_publish(5)
    client.disconnect()
    client.loop_stop()
    return change_id


def answer(collector: Collector, station_id: str, change_id: str) -> dict[str, Any] | None:
    for topic, payload, _retained in list(collector.messages):
        if (
            topic == wire.topic(SITE, station_id, "config/state")
            and payload["change_id"] == change_id
        ):
            return payload
    return None


def test_config_push_to_the_site_applies_everywhere_and_bad_values_change_nothing(
    mosquitto: Any, tmp_path: Path
) -> None:
    stations = [StationDir(tmp_path / s, mosquitto, s) for s in ("st-4", "st-5")]
    collector = Collector(mosquitto, wire.site_filter(SITE, "config/state"), user="fleet")
    with running(stations[0]), running(stations[1]):
        good = push(mosquitto, wire.ALL, {"session": {"summary_s": 12.5}})
        assert collector.wait_for(
            lambda: all(answer(collector, s.station_id, good) for s in stations)
        )
        for s in stations:
            state = answer(collector, s.station_id, good)
            assert state is not None and state["ok"] and state["errors"] == []
            text = s.config.read_text()
            assert "summary_s = 12.5" in text and "a trainer's comment" in text
            assert state["config_version"] == SiteConfigFile.version_of(text)
            assert load_config(s.config, required=True).get("session.summary_s") == 12.5
            assert '"page": "fleet ' in (s.state / "console-audit.log").read_text()
        before = {s.station_id: s.config.read_bytes() for s in stations}
        # one good value and two bad ones: none of it may apply
        layer = {
            "session": {"summary_s": 20.0, "calibrate_s": -1},
            "nope": {"x": 1},
            "uplink": {"broker": "mqtt://evil"},
        }
        bad = push(mosquitto, wire.ALL, layer)
        assert collector.wait_for(
            lambda: all(answer(collector, s.station_id, bad) for s in stations)
        )
        for s in stations:
            state = answer(collector, s.station_id, bad)
            assert state is not None and not state["ok"]
            keys = {e["key"] for e in state["errors"]}
            assert {"session.calibrate_s", "nope", "uplink"} <= keys, state["errors"]
            assert s.config.read_bytes() == before[s.station_id]  # not half-applied
            assert state["config_version"] == SiteConfigFile.version_of(before[s.station_id])
    collector.close()


def test_an_offline_station_applies_the_retained_change_on_return_and_intruders_are_refused(
    mosquitto: Any, tmp_path: Path
) -> None:
    station = StationDir(tmp_path / "st-6", mosquitto, "st-6")
    collector = Collector(mosquitto, wire.site_filter(SITE, "config/state"), user="fleet")
    # while the station is off: an intruder and another station try, then the console pushes
    forged = push(mosquitto, "st-6", {"session": {"summary_s": 99.0}}, user="intruder")
    forged_by_peer = push(mosquitto, "st-6", {"session": {"summary_s": 98.0}}, user="st-7")
    legit = push(mosquitto, "st-6", {"session": {"summary_s": 17.0}})
    with running(station) as uplink:
        assert collector.wait_for(lambda: answer(collector, "st-6", legit) is not None)
        assert wait(lambda: uplink.config_sets_handled >= 1)  # dealt with: nothing in flight
    assert load_config(station.config, required=True).get("session.summary_s") == 17.0
    assert answer(collector, "st-6", forged) is None
    assert answer(collector, "st-6", forged_by_peer) is None
    # back again: the retained change is not applied a second time (a trainer's later local
    # edit must not be undone by every reconnect)
    station.config.write_text(station.config.read_text().replace("17.0", "16.0"))
    with running(station) as uplink:
        # the broker hands the retained change over again; dealt with (skipped), not a wait
        assert wait(lambda: uplink.config_sets_handled >= 1), "the retained change never came"
    assert load_config(station.config, required=True).get("session.summary_s") == 16.0
    collector.close()


def test_a_returning_station_keeps_the_newest_of_its_retained_changes(
    mosquitto: Any, tmp_path: Path
) -> None:
    """Offline, a station misses a site-wide and a per-station push; on return the broker
    hands it both retained changes in whichever order it subscribes. Either way the newer
    (by issued_at) wins: an older change arriving after it is skipped, not applied over it."""
    morning, noon = "2026-05-28T08:00:00.000+00:00", "2026-05-28T12:00:00.000+00:00"
    cases = {"st-11": (noon, morning), "st-12": (morning, noon)}  # (its own push, all's push)
    for station_id, (own_at, all_at) in cases.items():
        _check_newest_wins(mosquitto, tmp_path, station_id, own_at, all_at)


def _check_newest_wins(
    mosquitto: Any, tmp_path: Path, station_id: str, own_at: str, all_at: str
) -> None:
    station = StationDir(tmp_path / station_id, mosquitto, station_id)
    collector = Collector(mosquitto, wire.site_filter(SITE, "config/state"), user="fleet")
    own = push(mosquitto, station_id, {"session": {"summary_s": 11.0}}, issued_at=own_at)
    every = push(mosquitto, wire.ALL, {"session": {"summary_s": 22.0}}, issued_at=all_at)
    newer, older = (own, every) if own_at > all_at else (every, own)
    with running(station) as uplink:
        assert collector.wait_for(lambda: answer(collector, station_id, newer) is not None)
        # both retained changes taken and dealt with, in whichever order they came
        assert wait(lambda: uplink.config_sets_handled >= 2), "a retained change never came"
    expected = 11.0 if own_at > all_at else 22.0
    assert load_config(station.config, required=True).get("session.summary_s") == expected
    state = answer(collector, station_id, newer)
    assert state is not None and state["ok"]
    if own_at > all_at:  # the older one came second: skipped, no answer over the newer one
        assert answer(collector, station_id, older) is None
        assert collector.of("config/state")[-1]["change_id"] == newer
    # and it stays skipped after a restart (the last applied time is kept on disk)
    with running(station) as uplink:
        assert wait(lambda: uplink.config_sets_handled >= 2), "a retained change never came"
    assert load_config(station.config, required=True).get("session.summary_s") == expected
    collector.close()
    # clear the site-wide retained change for the next case
    client = connect(mosquitto, "fleet")
    clear = client.publish(wire.topic(SITE, wire.ALL, "config/set"), b"", qos=1, retain=True)
    clear.wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def test_live_progress_and_status_follow_the_kiosk(mosquitto: Any, tmp_path: Path) -> None:
    from station.storage.live import LiveStatus, LiveStatusWriter

    station = StationDir(tmp_path / "st-8", mosquitto, "st-8", live_hz=2.0)
    collector = Collector(mosquitto, wire.site_filter(SITE))
    writer = LiveStatusWriter(station.state)
    with station.log() as db:
        db.begin(started_at=time.time())  # the member is jumping now
        running_uuid = db.open_session_uuid()
    status = LiveStatus(
        phase="active",
        counts={"jumps": 42, "elapsed_s": 30.0},
        device_roles={"mat": "simulated", "camera": "simulated"},
        devices={"mat": "ok", "camera": "no frames"},
        timestamp=time.time(),
    )
    writer.write(status)
    with running(station):
        assert collector.wait_for(lambda: collector.of("live"))
        live = collector.of("live")[0]
        assert live["session_uuid"] == running_uuid and live["jumps"] == 42
        assert collector.wait_for(lambda: collector.of("status"))
        state = collector.of("status")[-1]
        assert state["state"] == "in_session"
        assert state["devices"] == {"mat": "simulated", "camera": "failed"}
    collector.close()


def test_a_simulated_members_session_arrives_as_the_station_logged_it(
    mosquitto: Any, tmp_path: Path
) -> None:
    """`station run --simulate … --fast` logs a real session; the uplink sends exactly that."""
    station = StationDir(tmp_path / "st-9", mosquitto, "st-9")
    script = Path(__file__).resolve().parents[2] / "station/sim/scripts/alternate_foot.toml"
    done = subprocess.run(
        [sys.executable, "-m", "station", "run", "--config", str(station.config),
         "--simulate", str(script), "--fast", "--state-dir", str(station.state)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    collector = Collector(mosquitto, wire.site_filter(SITE, "session"))
    with running(station):
        assert wait(lambda: station.delivered() == 1)
        assert collector.wait_for(lambda: collector.of("session"))
    (sent,) = collector.of("session")
    with station.log() as db:
        (logged,) = db.sessions()
    assert sent["uuid"] == logged.uuid
    assert sent["session"] == logged.to_dict()
    assert sent["session"]["jumps"] > 50
    collector.close()


def test_a_pushed_change_reloads_the_running_kiosk(mosquitto: Any, tmp_path: Path) -> None:
    """The real kiosk (`station run --simulate --headless`) beside the uplink: a push is
    written, the kiosk gets its SIGHUP and applies it, and the status follows the kiosk."""
    station = StationDir(tmp_path / "st-10", mosquitto, "st-10")
    kiosk_log = tmp_path / "kiosk.log"
    kiosk = subprocess.Popen(
        [sys.executable, "-m", "station", "-v", "run", "--simulate", "--headless",
         "--config", str(station.config), "--state-dir", str(station.state)],
        stdout=subprocess.DEVNULL, stderr=kiosk_log.open("wb"),
        env={**os.environ, "STATION_SIMULATE": "", "STATION_RUNTIME_DIR": ""},
    )  # fmt: skip
    collector = Collector(mosquitto, wire.site_filter(SITE), user="fleet")
    try:
        assert wait(lambda: (station.state / "station.pid").exists(), 60), kiosk_log.read_text()
        with running(station):
            assert collector.wait_for(
                lambda: any(s["state"] != "offline" for s in collector.of("status")), 30
            ), collector.of("status")
            change = push(mosquitto, "st-10", {"alerts": {"cooldown_s": 7.0}})
            assert collector.wait_for(lambda: answer(collector, "st-10", change) is not None)
            assert answer(collector, "st-10", change)["ok"]  # type: ignore[index]
            assert wait(lambda: "reload on SIGHUP: applied" in kiosk_log.read_text(), 30)
    finally:
        kiosk.send_signal(signal.SIGTERM)
        try:
            kiosk.wait(30)
        except subprocess.TimeoutExpired:
            kiosk.kill()
        collector.close()


def test_tls_with_the_gyms_ca(mosquitto_tls: Any, tmp_path: Path) -> None:
    """mqtts:// with uplink.tls_ca: delivered; with another CA the uplink never talks."""
    broker = mosquitto_tls
    collector = Collector(broker, wire.site_filter(SITE, "session"))
    good = StationDir(tmp_path / "st-11", broker, "st-11")
    url = f"mqtts://127.0.0.1:{broker.tls_port}"
    good.config.write_text(
        good.config.read_text().replace(broker.url, url) + f'tls_ca = "{broker.ca_file}"\n'
    )
    (sent,) = good.add_sessions(1)
    with running(good):
        assert wait(lambda: good.delivered() == 1)
    assert collector.wait_for(lambda: collector.session_uuids() == [sent])
    stranger = make_certificates(tmp_path / "other-ca", "someone-else")["ca"]
    bad = StationDir(tmp_path / "st-12", broker, "st-12")
    bad.config.write_text(
        bad.config.read_text().replace(broker.url, url) + f'tls_ca = "{stranger}"\n'
    )
    bad.add_sessions(1)
    with running(bad) as uplink:
        # two handshakes refused (a retry included), not a fixed wait for nothing to happen
        assert wait(lambda: uplink.connect_failures >= 2), "the uplink never tried"
        assert bad.delivered() == 0
    assert collector.session_uuids() == [sent]
    collector.close()
