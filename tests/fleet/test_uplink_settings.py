"""[uplink] is validated by the config schema like every section: errors name the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.config.loader import ConfigInvalid, load_config
from station.fleet.settings import parse_broker


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
    assert parse_broker("mqtts://broker.gym.lan") == ("broker.gym.lan", 8883, True)
    assert parse_broker("mqtt://10.0.0.2:1884") == ("10.0.0.2", 1884, False)
    with pytest.raises(ValueError, match="port"):
        parse_broker("mqtt://h:99999")
