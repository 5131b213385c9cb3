"""[members] typed: MembersSettings.from_config mirrors the schema and names bad key paths."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from station.config.loader import ConfigInvalid, build_config, load_config
from station.config.sections import SCHEMA
from station.members.settings import SECTION, MembersSettings


def test_one_field_per_key_and_the_defaults() -> None:
    assert [f.name for f in dataclasses.fields(MembersSettings)] == list(SECTION.keys)
    defaults = MembersSettings.from_config(build_config(SCHEMA, []))
    assert defaults == MembersSettings(**{k: key.default for k, key in SECTION.keys.items()})
    assert defaults.link_valid_s == 24 * 3600.0


def test_a_site_file_is_read_typed(tmp_path: Path) -> None:
    site = tmp_path / "station.toml"
    site.write_text('[members]\nenabled = false\nlink_valid_h = 2\nbase_url = "http://10.0.0.5"\n')
    settings = MembersSettings.from_config(load_config(site))
    assert settings == MembersSettings(False, 2.0, 365, "http://10.0.0.5")
    assert isinstance(settings.link_valid_h, float)


@pytest.mark.parametrize(
    ("section", "paths"),
    [
        (None, ["members: missing"]),
        ({"enabled": True}, ["members.link_valid_h", "members.keep_days", "members.base_url"]),
        (
            {"enabled": "yes", "link_valid_h": 0, "keep_days": 5, "base_url": "http://a", "x": 1},
            ["members.enabled = 'yes'", "members.link_valid_h = 0", "members.x: unknown key"],
        ),
        (
            {"enabled": True, "link_valid_h": 1.0, "keep_days": 5, "base_url": "http://a/"},
            ["members.base_url = 'http://a/'"],
        ),
    ],
    ids=["no-section", "missing-keys", "bad-values", "bad-url"],
)
def test_a_bad_section_names_each_key_path(section: object, paths: list[str]) -> None:
    config = {} if section is None else {"members": section}
    with pytest.raises(ConfigInvalid) as caught:
        MembersSettings.from_config(config)
    lines = str(caught.value).splitlines()
    assert len(lines) == len(paths)
    assert all(line.startswith(path) for line, path in zip(lines, paths, strict=True)), lines
