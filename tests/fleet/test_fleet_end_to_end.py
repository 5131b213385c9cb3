"""The two halves of the fleet joined, all for real: several simulated stations (`station run
--simulate SCRIPT --fast` with [uplink] enabled in their site config, each its own state folder
and station id) and their `station uplink` processes publish through the real Mosquitto (the
shipped ACL, a password per station) to a real `station fleet record`, which must then hold
every session exactly once, with each station's jump total equal to its own session log.

Size: issue 16 asks for 20 stations x a day. All 20 stations run (each with its own kiosk and
uplink process and broker login), but each "day" is SESSIONS members: a simulated session
costs about 1 s of CPU under --fast (some 20x real time) and each station and uplink process
~1.5 s to start, so 20 x 3 takes about a minute on a loaded 2-core box, and a real day
(dozens of sessions a station) would take many minutes. The recorder's throughput at scale is
`station bench fleet`'s job."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from station.fleet.store import FleetStore
from station.fleet.uplink import CONSUMER
from station.storage.sessions import SessionLog

SITE = "gym"
STATIONS = 20
SESSIONS = 3


def day_script(path: Path, station: int) -> Path:
    """A short day for one station: SESSIONS members, each stepping on, jumping a few seconds
    at their own cadence and stepping off, with nobody on the mat between them."""
    parts = ['name = "short-day"\n[jumper]\nmass_kg = 70.0\nheight_m = 1.75\n']
    for member in range(SESSIONS):
        cadence = 110.0 + 7.0 * station + 3.0 * member
        for kind, seconds, extra in (
            ("empty", 6.0, ""),  # > session.end_after_off_s (5 s)
            ("step_on", 1.5, ""),
            ("stand", 2.0, ""),
            ("jump", 6.0 + member, f"cadence_per_min = {cadence}\n"),
            ("step_off", 1.5, ""),
        ):
            parts.append(f'[[phase]]\nkind = "{kind}"\nduration_s = {seconds}\n{extra}')
    path.write_text("\n".join(parts))
    return path


def undelivered(stations: dict[str, Path]) -> dict[str, int]:
    """Per station, how many logged sessions its uplink has not yet marked sent."""
    left = {}
    for station_id, state in stations.items():
        with SessionLog.in_state_dir(state) as log:
            missing = len(log.sessions()) - len(log.delivered_ids(CONSUMER))
        if missing:
            left[station_id] = missing
    return left


def test_simulated_stations_through_uplink_broker_and_recorder(
    mosquitto: Any, tmp_path: Path
) -> None:
    db = tmp_path / "fleet.sqlite3"
    recorder_password = tmp_path / "recorder.password"
    recorder_password.write_text(mosquitto.users["recorder"] + "\n")
    recorder_log = (tmp_path / "recorder.log").open("wb")
    recorder = subprocess.Popen(
        [sys.executable, "-m", "station", "-v", "fleet", "record", "--broker", mosquitto.url,
         "--username", "recorder", "--password-file", str(recorder_password),
         "--db", str(db), "--site", SITE],
        stdout=recorder_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    stations: dict[str, Path] = {}
    uplinks: list[subprocess.Popen[bytes]] = []
    runs: list[subprocess.Popen[bytes]] = []
    try:
        # A recorder that has never been subscribed gets nothing published before its first
        # subscription (MQTT queues only for a known persistent session): start the stations once
        # it is. Under load its start-up took longer than a station's first session.
        deadline = time.monotonic() + 60
        while "subscribed to" not in (tmp_path / "recorder.log").read_text():
            assert recorder.poll() is None, (tmp_path / "recorder.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "recorder.log").read_text()
            time.sleep(0.1)
        for i in range(1, STATIONS + 1):
            station_id = f"st-{i}"
            root = tmp_path / station_id
            state = root / "state"
            state.mkdir(parents=True)
            password = root / "uplink.password"
            password.write_text(mosquitto.users[station_id] + "\n")
            config = root / "station.toml"
            config.write_text(
                f'[uplink]\nenabled = true\nbroker = "{mosquitto.url}"\nsite = "{SITE}"\n'
                f'station_id = "{station_id}"\npassword_file = "{password}"\nlive_hz = 1.0\n'
            )
            stations[station_id] = state
            uplinks.append(subprocess.Popen(
                [sys.executable, "-m", "station", "uplink", "--config", str(config),
                 "--state-dir", str(state)],
                stdout=subprocess.DEVNULL, stderr=(root / "uplink.log").open("wb"),
            ))  # fmt: skip
            runs.append(subprocess.Popen(
                [sys.executable, "-m", "station", "run", "--config", str(config), "--simulate",
                 str(day_script(root / "day.toml", i)), "--headless", "--fast",
                 "--state-dir", str(state)],
                stdout=subprocess.DEVNULL, stderr=(root / "run.log").open("wb"),
            ))  # fmt: skip
        for run in runs:
            assert run.wait(240) == 0, "a simulated station failed (its run.log says why)"
        logged = {}
        for station_id, state in stations.items():
            with SessionLog.in_state_dir(state) as log:
                logged[station_id] = log.sessions()
            assert len(logged[station_id]) == SESSIONS, station_id
        total = sum(len(v) for v in logged.values())

        deadline = time.monotonic() + 60
        held = -1
        while time.monotonic() < deadline:
            assert recorder.poll() is None, (tmp_path / "recorder.log").read_text()
            try:
                with FleetStore(str(db), readonly=True) as store:
                    held = store.session_count()
            except Exception:
                held = -1
            if held >= total:
                break
            time.sleep(0.2)
        assert held == total, (
            f"{held} of {total} sessions recorded; not yet marked sent: {undelivered(stations)}"
        )
        # every session marked sent at its station (on its PUBACK, which may land just after
        # the recorder stored it), none left in an outbox
        while time.monotonic() < deadline + 30 and undelivered(stations):
            time.sleep(0.2)
        assert not undelivered(stations)
    finally:
        for proc in [*runs, *uplinks, recorder]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*runs, *uplinks, recorder]:
            proc.wait(30)
        recorder_log.close()
    assert recorder.returncode == 0

    with FleetStore(str(db), readonly=True) as store:
        assert store.session_count() == total  # exactly once: uuid is the key
        per_station = store.per_station(site=SITE)
        assert len(per_station) == STATIONS
        for station_id, records in logged.items():
            # each member their own session, the next one stepping on during the summary
            assert len(records) == SESSIONS, f"{station_id}: {len(records)} sessions"
            rows = store.sessions(station_id=station_id)
            assert sorted(r["uuid"] for r in rows) == sorted(r.uuid for r in records)
            assert [r["session"] for r in sorted(rows, key=lambda r: r["session"]["id"])] == [
                r.to_dict() for r in sorted(records, key=lambda r: r.id)
            ]
            own_jumps = sum(r.jumps for r in records)
            assert own_jumps > 0, f"{station_id} counted no jumps"
            # the gym's summary (Gym page, `station fleet status`) equals the station's own log
            summary = per_station[(SITE, station_id)]
            assert (summary["sessions"], summary["jumps"]) == (len(records), own_jumps)
