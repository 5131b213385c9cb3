"""The fleet database: one schema on a real SQLite file and a real PostgreSQL; each session
once whatever arrives twice; the latest status per station; bad messages kept with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from servers import SITE, station_day

from station.fleet import wire
from station.fleet.store import (
    FLEET_CSV_FIELDS,
    FleetStore,
    Reject,
    SessionRow,
    StationUpdate,
    csv_row,
    parse_message,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "fleet.sqlite3")
    return str(request.getfixturevalue("pg_url"))


def test_each_session_stored_once_whatever_arrives_twice(db: str, tmp_path: Path) -> None:
    day = station_day(tmp_path / "logs", "st-01", 12, seed=1)
    items = [parse_message(t, p, 1.0) for t, p in day.messages]
    assert all(isinstance(i, SessionRow) for i in items)
    with FleetStore(db) as store:
        first = store.write(items[:8])
        again = store.write(items[4:] + items[:2])  # redelivered, overlapping
        assert len(first.new_sessions) == 8 and first.duplicates == 0
        assert len(again.new_sessions) == 4 and again.duplicates == 6
        stored = store.sessions()
    assert [s["uuid"] for s in stored] == day.uuids
    assert sum(s["session"]["jumps"] for s in stored) == day.jumps
    with FleetStore(db) as reopened:  # the schema is created once, then found
        totals = reopened.per_station()
    assert totals == {
        (SITE, "st-01"): {
            "sessions": 12,
            "jumps": day.jumps,
            "duration_s": pytest.approx(day.duration_s),
        }
    }


def test_latest_status_live_and_config_answer_per_station(db: str) -> None:
    def msg(station: str, kind: str, payload: dict[str, object], at: float) -> object:
        return parse_message(wire.topic(SITE, station, kind), wire.encode(payload), at)

    with FleetStore(db) as store:
        store.write(
            [
                msg("a", "status", {"state": "idle"}, 1.0),
                msg("a", "status", {"state": "in_session"}, 2.0),
                msg("a", "live", {"jumps": 10}, 2.0),
                msg("a", "live", {"jumps": 12}, 2.5),
                msg("b", "config/state", {"config_version": "v7", "ok": True, "errors": []}, 3),
            ]
        )
        store.write([msg("b", "status", {"state": "offline"}, 4.0)])
        stations = {s["station_id"]: s for s in store.stations()}
    assert stations["a"]["status"]["state"] == "in_session"
    assert stations["a"]["live"]["jumps"] == 12 and stations["a"]["live_at"] == 2.5
    assert stations["b"]["status"]["state"] == "offline"
    assert stations["b"]["config_state"]["config_version"] == "v7"


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("station/v1/gym/st/session", b"{not json", "not UTF-8 JSON"),
        ("station/v1/gym/st/session", b'{"v": 2}', "version"),
        ("station/v1/gym/ST/session", b'{"v": 1}', "station id"),
        ("station/v1/gym/st/session", b'{"v":1,"uuid":"nope"}', "not a UUID"),
    ],
)
def test_bad_messages_are_kept_with_the_reason(
    tmp_path: Path, topic: str, payload: bytes, reason: str
) -> None:
    item = parse_message(topic, payload, 5.0)
    assert isinstance(item, Reject) and reason in item.reason
    with FleetStore(tmp_path / "f.sqlite3") as store:
        assert store.write([item]).rejects == 1
        kept = store.rejects()
    assert kept[0]["payload"] == payload.decode(errors="replace") and reason in kept[0]["reason"]


def test_a_session_under_another_stations_topic_is_refused(tmp_path: Path) -> None:
    day = station_day(tmp_path / "logs", "st-01", 1, seed=2)
    _topic, payload = day.messages[0]
    item = parse_message(wire.topic(SITE, "st-02", "session"), payload, 1.0)
    assert isinstance(item, Reject) and "came on" in item.reason


def test_config_set_is_not_kept_and_status_is_an_update() -> None:
    assert parse_message(wire.topic(SITE, wire.ALL, "config/set"), b"{}", 1.0) is None
    item = parse_message(wire.topic(SITE, "a", "status"), wire.encode({"state": "idle"}), 1.0)
    assert isinstance(item, StationUpdate) and item.kind == "status"


def test_csv_row_flattens_like_the_stations_own_export(tmp_path: Path) -> None:
    day = station_day(tmp_path / "logs", "st-01", 2, seed=3)
    with FleetStore(tmp_path / "f.sqlite3") as store:
        store.write([parse_message(t, p, 1.0) for t, p in day.messages])
        rows = [csv_row(s) for s in store.sessions()]
    assert set(rows[0]) <= set(FLEET_CSV_FIELDS)
    assert rows[0]["station_id"] == "st-01" and rows[0]["uuid"] == day.uuids[0]
    assert json.dumps(rows)  # plain values only


def test_unreachable_or_empty_databases_are_clear_errors(
    pg_url: str,
    tmp_path: Path,
) -> None:
    from station.fleet.store import StoreError
    from station.fleet.testbed import free_port

    store = FleetStore(pg_url, readonly=True)  # no recorder has created the tables yet
    with pytest.raises(StoreError, match=r"cannot read the fleet database .*fleet_"):
        store.stations()
    store.close()
    nobody = f"postgresql://postgres:secret@127.0.0.1:{free_port()}/fleet"
    with pytest.raises(
        StoreError, match=r"cannot open the fleet database postgresql://postgres:\*\*\*@"
    ):
        FleetStore(nobody)
    with pytest.raises(StoreError, match="no fleet database at"):
        FleetStore(tmp_path / "missing.sqlite3", readonly=True)


@pytest.mark.parametrize(
    ("text", "host", "port", "tls"),
    [
        ("localhost", "localhost", 1883, False),
        ("mqtt.gym.lan:1884", "mqtt.gym.lan", 1884, False),
        ("mqtt://10.0.0.5", "10.0.0.5", 1883, False),
        ("mqtts://hq.example", "hq.example", 8883, True),
        ("mqtts://hq.example:9883/", "hq.example", 9883, True),
    ],
)
def test_broker_addresses(text: str, host: str, port: int, tls: bool) -> None:
    from station.fleet.recorder import Broker

    broker = Broker.parse(text)
    assert (broker.host, broker.port, broker.tls) == (host, port, tls)
    assert Broker.parse("gym", tls_ca=Path("/etc/ca.pem")) == Broker(
        "gym", 8883, tls_ca=Path("/etc/ca.pem"), tls=True
    )
