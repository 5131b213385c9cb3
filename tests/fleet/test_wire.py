"""The fleet wire format: topics round-trip, bad names and payloads are refused."""

import pytest

from station.fleet import wire


def test_topic_round_trips() -> None:
    for kind in wire.KINDS:
        name = wire.topic("gym-1", "st_07", kind)
        assert wire.parse_topic(name) == ("gym-1", "st_07", kind)


def test_all_addresses_only_config_set() -> None:
    assert wire.topic("gym", wire.ALL, "config/set") == "station/v1/gym/all/config/set"
    with pytest.raises(wire.WireError, match="reserved"):
        wire.topic("gym", wire.ALL, "session")


@pytest.mark.parametrize("name", ["", "+", "#", "a/b", "Gym", "x" * 64, "-a"])
def test_names_that_could_widen_a_filter_are_refused(name: str) -> None:
    with pytest.raises(wire.WireError):
        wire.topic(name, "st", "status")
    with pytest.raises(wire.WireError):
        wire.topic("gym", name, "status")


@pytest.mark.parametrize(
    "topic", ["station/v2/gym/st/status", "station/v1/gym/st", "station/v1/gym/st/nope"]
)
def test_foreign_topics_are_refused(topic: str) -> None:
    with pytest.raises(wire.WireError):
        wire.parse_topic(topic)


def test_payload_round_trips_and_versions_are_checked() -> None:
    assert wire.decode(wire.encode({"jumps": 3})) == {"jumps": 3, "v": 1}
    for bad in (b"\xff", b"[1]", b'{"v": 2}', b'{"jumps": 3}'):
        with pytest.raises(wire.WireError):
            wire.decode(bad)
    with pytest.raises(ValueError):
        wire.encode({"x": float("nan")})
