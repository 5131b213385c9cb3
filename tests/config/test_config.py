from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from station.config.loader import ConfigInvalid, ConfigStore, load_config
from station.config.render import render_defaults
from station.config.schema import iter_keys
from station.config.sections import SCHEMA

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "station.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ConfigInvalid) as info:
        load_config(path, required=True)
    return [str(e) for e in info.value.errors]


def test_missing_site_file_means_defaults(tmp_path: Path) -> None:
    cfg = load_config(tmp_path / "absent.toml")
    assert cfg["mat"]["sample_rate_hz"] == 1000
    assert cfg.origin("mat.sample_rate_hz") == "default"
    assert cfg.sources == ()


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    (err,) = errors_of(tmp_path / "absent.toml")
    assert "absent.toml" in err and "not found" in err


def test_override_layers_on_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "[mat]\nsample_rate_hz = 2000\n[presets.beginner.head]\nwarn = 18\n")
    cfg = load_config(path)
    assert cfg["mat"]["sample_rate_hz"] == 2000
    assert cfg.origin("mat.sample_rate_hz") == str(path)
    # untouched neighbours keep their defaults and say so
    assert cfg["mat"]["spi_bus"] == 0
    assert cfg.origin("mat.spi_bus") == "default"
    # an int given for a float key is stored as a float
    head = cfg.get("presets.beginner.head")
    assert head["warn"] == 18.0 and isinstance(head["warn"], float)
    assert head["fault"] == SCHEMA.defaults()["presets"]["beginner"]["head"]["fault"]


def test_bad_type_names_key_value_and_allowed(tmp_path: Path) -> None:
    (err,) = errors_of(write(tmp_path, '[camera]\nfps = "fast"\n'))
    assert "camera.fps = 'fast'" in err
    assert "not an integer" in err and "from 1 to 120" in err


def test_out_of_range(tmp_path: Path) -> None:
    (err,) = errors_of(write(tmp_path, "[mat]\nsample_rate_hz = 50\n"))
    assert "mat.sample_rate_hz = 50" in err and "too small" in err and "500 to 4000" in err


def test_unknown_key_and_unknown_section(tmp_path: Path) -> None:
    errs = errors_of(write(tmp_path, "[mat]\nsampel_rate_hz = 1000\n[cameras]\nfps = 1\n"))
    assert any("mat.sampel_rate_hz: unknown key" in e and "sample_rate_hz" in e for e in errs)
    assert any(
        e.endswith("cameras: unknown key (known here: " + ", ".join(SCHEMA.keys) + ")")
        for e in errs
    )


def test_bad_enum(tmp_path: Path) -> None:
    (err,) = errors_of(write(tmp_path, '[camera]\nplacement = "above"\n'))
    assert "camera.placement = 'above'" in err
    assert "one of 'front', 'oblique', 'side'" in err


def test_bad_list_item_and_length(tmp_path: Path) -> None:
    errs = errors_of(write(tmp_path, "[camera]\nroi = [0.0, 0.0, 2.0, 1.0]\n"))
    assert any("camera.roi" in e and "item 2 = 2.0" in e for e in errs)
    errs = errors_of(write(tmp_path, "[camera]\nroi = [0.0, 1.0]\n"))
    assert any("camera.roi" in e and "exactly 4" in e for e in errs)


def test_cross_key_checks_blame_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[mat]\nchannels = [0, 1, 2]\n")
    errs = errors_of(path)
    assert f"{path}: mat.zones: needs one entry per channel (3)" in errs
    errs = errors_of(write(tmp_path, "[presets.advanced.back]\nwarn = 30.0\n"))
    assert any("presets.advanced.back.fault: must be ≥ warn" in e for e in errs)
    errs = errors_of(write(tmp_path, '[posture]\npreset = "nope"\n'))
    assert any("posture.preset = 'nope': no such preset" in e for e in errs)


def test_trainer_preset_takes_intermediate_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[posture]\npreset = "kids"\n[presets.kids.arms]\nwarn = 0.9\nfault = 1.2\n'
    )
    cfg = load_config(path)
    kids = cfg.get("presets.kids")
    assert kids["arms"]["warn"] == 0.9
    assert kids["head"] == cfg.get("presets.intermediate.head")
    assert cfg.origin("presets.kids.arms.warn") == str(path)
    assert cfg.origin("presets.kids.head.warn") == "default"


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    (err,) = errors_of(write(tmp_path, "[mat\nsample_rate_hz = 1\n"))
    assert err.startswith(str(tmp_path / "station.toml")) and "not valid TOML" in err


def test_config_is_read_only(tmp_path: Path) -> None:
    cfg = load_config(tmp_path / "absent.toml")
    with pytest.raises(TypeError):
        cfg["mat"]["sample_rate_hz"] = 5  # type: ignore[index]


def test_store_keeps_last_good_config(tmp_path: Path) -> None:
    path = write(tmp_path, "[mat]\nsample_rate_hz = 2000\n")
    store = ConfigStore(path)
    assert store.config["mat"]["sample_rate_hz"] == 2000 and store.problem is None
    path.write_text("[mat]\nsample_rate_hz = 1\n")
    assert store.reload() is False
    assert store.config["mat"]["sample_rate_hz"] == 2000
    assert store.problem is not None and "mat.sample_rate_hz" in str(store.problem)
    path.write_text("[mat]\nsample_rate_hz = 3000\n")
    assert store.reload() is True
    assert store.config["mat"]["sample_rate_hz"] == 3000 and store.problem is None


def test_store_starts_on_defaults_when_site_file_is_broken(tmp_path: Path) -> None:
    store = ConfigStore(write(tmp_path, "[mat]\nsample_rate_hz = 1\n"))
    assert store.config["mat"]["sample_rate_hz"] == 1000
    assert store.problem is not None


def test_packaged_file_is_the_rendered_schema() -> None:
    """config/station.toml is generated; regenerate it with `make config`."""
    assert (REPO / "config" / "station.toml").read_text() == render_defaults(SCHEMA)


def test_every_key_documented_and_packaged_file_loads() -> None:
    for path, key in iter_keys(SCHEMA):
        assert key.doc.strip(), f"{path} has no documentation"
    cfg = load_config(REPO / "config" / "station.toml", required=True)
    assert cfg.to_dict() == {**SCHEMA.defaults()}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "station", *args], capture_output=True, text=True, check=False
    )


def test_cli_check_exit_codes(tmp_path: Path) -> None:
    good = run_cli("config", "check", str(REPO / "config" / "station.toml"))
    assert good.returncode == 0, good.stderr
    bad = run_cli("config", "check", str(write(tmp_path, "[alerts]\ncooldown_s = -1\n")))
    assert bad.returncode == 1
    assert "alerts.cooldown_s = -1: too small" in bad.stderr


def test_cli_show_gives_origins(tmp_path: Path) -> None:
    path = write(tmp_path, "[display]\nfps = 25\n")
    out = run_cli("config", "show", "--config", str(path)).stdout
    assert any(
        line.startswith("display.fps") and "= 25" in line and str(path) in line
        for line in out.splitlines()
    )
    assert any(
        line.startswith("display.fullscreen") and "# default" in line for line in out.splitlines()
    )
