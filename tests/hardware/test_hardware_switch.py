from __future__ import annotations

from pathlib import Path

import pytest
from gpiozero import Buzzer
from gpiozero.pins.mock import MockFactory

from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.hardware import HardwareMissing, pi_model, select_hardware, simulation_requested


def test_simulation_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATION_SIMULATE", raising=False)
    assert simulation_requested(False) is False
    assert simulation_requested(True) is True
    for value, expected in (("1", True), ("yes", True), ("0", False), ("", False)):
        monkeypatch.setenv("STATION_SIMULATE", value)
        assert simulation_requested(False) is expected


def test_pi_model_reads_device_tree(tmp_path: Path) -> None:
    assert pi_model(tmp_path) is None
    model = tmp_path / "proc/device-tree/model"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\0")
    assert pi_model(tmp_path) == "Raspberry Pi 5 Model B Rev 1.0"
    model.write_bytes(b"Some Other Board\0")
    assert pi_model(tmp_path) is None


def test_simulated_hardware_uses_mock_pins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATION_SIMULATE", raising=False)
    hw = select_hardware(build_config(SCHEMA, []), simulate=True)
    assert hw.simulate and isinstance(hw.pin_factory, MockFactory)
    buzzer = Buzzer(18, pin_factory=hw.pin_factory)
    buzzer.on()
    assert hw.pin_factory.pin(18).state == 1
    buzzer.close()


def test_real_hardware_off_a_pi_fails_loudly_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    """No silent fallback to simulation: without --simulate this machine has no GPIO."""
    monkeypatch.delenv("STATION_SIMULATE", raising=False)
    if pi_model() is not None:
        pytest.skip("running on a Raspberry Pi")
    with pytest.raises(HardwareMissing) as info:
        select_hardware(build_config(SCHEMA, []), simulate=False)
    assert info.value.device == "GPIO"
    assert "--simulate" in info.value.fix and "gpio" in info.value.fix


def test_devices_marked_none_are_not_opened() -> None:
    cfg = build_config(SCHEMA, [("t", {"mat": {"sensor": "none"}, "camera": {"source": "none"}})])
    hw = select_hardware(cfg, simulate=True)
    assert hw.open_mat() is None and hw.open_camera() is None
