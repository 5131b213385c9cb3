"""[uplink] is validated by the config schema like every section: errors name the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.config.loader import ConfigInvalid, load_config
from station.fleet.settings import BrokerAddress, parse_broker


def _errors(tmp_path: Path, body: str) -> dict[str, str]:
    path = tmp_path / "station.toml"
    path.write_text(body)
    with pytest.raises(ConfigInvalid) as caught:
        load_config(path, required=True)
    return {e.path: e.message for e in caught.value.errors}


def test_an_enabled_uplink_needs_broker_site_and_id(tmp_path: Path) -> None:
    errors = _errors(tmp_path, "[uplink]\nenabled = true\n")
    assert set(errors) == {"uplink.broker", "uplink.site", "uplink.station_id"}


def test_bad_names_and_urls_are_refused_with_their_key(tmp_path: Path) -> None:
    errors = _errors(tmp_path, "[uplink]\nlive_hz = 5\ncolour = 1\n")
    assert set(errors) == {"uplink.live_hz", "uplink.colour"}
    errors = _errors(
        tmp_path, '[uplink]\nbroker = "http://x"\nsite = "Gym/1"\nstation_id = "all"\n'
    )
    assert set(errors) == {"uplink.broker", "uplink.site", "uplink.station_id"}
    assert "reserved" in errors["uplink.station_id"]


def test_a_complete_section_loads(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text('[uplink]\nenabled = true\nbroker = "mqtts://broker.gym.lan"\n'
                    'site = "gym-1"\nstation_id = "floor-3"\n')  # fmt: skip
    assert load_config(path, required=True).get("uplink.station_id") == "floor-3"
    assert parse_broker("mqtts://broker.gym.lan") == BrokerAddress("broker.gym.lan", 8883, True)
    assert parse_broker("mqtt://10.0.0.2:1884") == BrokerAddress("10.0.0.2", 1884, False)
    with pytest.raises(ValueError, match="port"):
        parse_broker("mqtt://h:99999")


@pytest.mark.parametrize(
    ("text", "tls_ca", "expected"),
    [
        ("gym-server.lan", False, BrokerAddress("gym-server.lan", 1883, False)),
        ("gym-server.lan:1884", False, BrokerAddress("gym-server.lan", 1884, False)),
        ("gym-server.lan", True, BrokerAddress("gym-server.lan", 8883, True)),
        ("10.0.0.2:8884", True, BrokerAddress("10.0.0.2", 8884, True)),
        ("mqtt://10.0.0.2", True, BrokerAddress("10.0.0.2", 8883, True)),
        ("mqtts://[::1]:9000/", False, BrokerAddress("::1", 9000, True)),
    ],
)
def test_one_parser_for_every_broker_form(text: str, tls_ca: bool, expected: BrokerAddress) -> None:
    assert parse_broker(text, tls_ca=tls_ca) == expected


@pytest.mark.parametrize(
    "bad", ["http://gym", "gym:port", "gym:0", "mqtt://", "mqtt://user@gym", "gym/path", ""]
)
def test_a_bad_broker_address_says_what_is_wrong(bad: str) -> None:
    with pytest.raises(ValueError, match=r"expected|host|port|only a scheme"):
        parse_broker(bad)


def test_the_fleet_section_checks_its_broker_like_the_uplink(tmp_path: Path) -> None:
    """[fleet] broker and [uplink] broker: the same forms, the same errors, by key path."""
    errors = _errors(tmp_path, '[fleet]\nbroker = "http://gym"\n[uplink]\nbroker = "http://gym"\n')
    assert set(errors) == {"fleet.broker", "uplink.broker"}
    assert errors["fleet.broker"] == errors["uplink.broker"]
    path = tmp_path / "station.toml"
    path.write_text('[fleet]\nbroker = "gym:1884"\n[uplink]\nbroker = "gym:1884"\n')
    assert load_config(path, required=True).get("fleet.broker") == "gym:1884"


def test_uplink_and_fleet_declare_one_broker_login(tmp_path: Path) -> None:
    """[uplink] and [fleet] take their broker keys from one group: the same keys and rules,
    each section's own words for whose login it is; the password file is read the same way
    (its first line) and an unreadable one is named by its key path."""
    from station.fleet.cli import broker_from_config
    from station.fleet.gym_settings import SECTION as FLEET
    from station.fleet.settings import BROKER_FORMS, SECTION, TLS_RULE
    from station.fleet.uplink import UplinkError, UplinkSettings

    for key in ("broker", "username", "password_file", "tls_ca"):
        assert SECTION.keys[key].default == FLEET.keys[key].default == "", key
    for section in (SECTION, FLEET):
        assert section.keys["broker"].doc.endswith(f": {BROKER_FORMS}.")
        assert section.keys["tls_ca"].doc.endswith(f": {TLS_RULE}")
    password = tmp_path / "password"
    password.write_text("s3cret  \nnot this line\n")
    path = tmp_path / "station.toml"
    login = f'broker = "gym:1884"\nsite = "gym-1"\npassword_file = "{password}"\n'
    path.write_text(f'[uplink]\n{login}station_id = "floor-3"\n[fleet]\n{login}')
    config = load_config(path, required=True)
    assert UplinkSettings.from_config(config).password == "s3cret"
    assert broker_from_config(config).password == "s3cret"
    password.unlink()
    with pytest.raises(UplinkError, match=rf"^uplink\.password_file {password}: cannot read it"):
        UplinkSettings.from_config(config)
    with pytest.raises(ValueError, match=rf"^fleet\.password_file {password}: cannot read it"):
        broker_from_config(config)
