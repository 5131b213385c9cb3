"""Devices chosen one by one: which are simulated, which real, and no GPIO when nothing
needs it (a laptop with a webcam, a mini PC with a USB camera and no mat)."""

from __future__ import annotations

from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.hardware import (
    DEVICES,
    HardwareMissing,
    device_roles,
    gpio_needs,
    parse_devices,
    pi_model,
    select_hardware,
    simulated_devices,
)


def config(**sections: Any) -> Any:
    return build_config(SCHEMA, [("test", sections)])


NO_GPIO = {"mat": {"sensor": "none"}, "alerts": {"enabled": False}}


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATION_SIMULATE", raising=False)


def test_device_lists_parse_and_scripts_do_not() -> None:
    assert parse_devices("mat") == {"mat"}
    assert parse_devices(" camera , GPIO ") == {"camera", "gpio"}
    assert parse_devices("all") == set(DEVICES)
    for script in ("", "default.toml", "scripts/mat.toml", "mat,screen"):
        assert parse_devices(script) is None


def test_simulated_devices_from_flag_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert simulated_devices(False) == frozenset()
    assert simulated_devices(True) == set(DEVICES)
    assert simulated_devices({"mat"}) == {"mat"}
    monkeypatch.setenv("STATION_SIMULATE", "camera,gpio")
    assert simulated_devices({"mat"}) == set(DEVICES)
    monkeypatch.setenv("STATION_SIMULATE", "0")
    assert simulated_devices(False) == frozenset()
    monkeypatch.setenv("STATION_SIMULATE", "matt")
    with pytest.raises(ValueError, match="STATION_SIMULATE"):
        simulated_devices(False)
    with pytest.raises(ValueError, match="choose from"):
        simulated_devices({"screen"})


def test_what_needs_gpio() -> None:
    assert gpio_needs(config(**NO_GPIO)) == []
    assert gpio_needs(config(mat={"sensor": "none"}, alerts={"buzzer": "none"})) == []
    assert "buzzer" in " ".join(gpio_needs(config(mat={"sensor": "none"})))
    leds = config(mat={"sensor": "none"}, alerts={"enabled": False, "leds": {"mode": "traffic"}})
    assert "LEDs" in " ".join(gpio_needs(leds))
    switch = config(mat={"sensor": "switch"}, alerts={"enabled": False})
    assert "GPIO17" in " ".join(gpio_needs(switch))


def test_no_gpio_opened_when_nothing_needs_it() -> None:
    """The issue's x86 case: video camera, no mat, alerts off, no --simulate: it runs."""
    hw = select_hardware(config(**NO_GPIO), simulate=False)
    assert hw.pin_factory is None and not hw.simulate
    from station.alerts.outputs import AlertOutputs

    outputs = AlertOutputs(hw.config["alerts"], hw.gpio_for(hw.config))
    assert outputs.buzzer is None and outputs.problem is None
    outputs.close()


def test_a_pi_config_without_gpio_still_fails_loudly() -> None:
    if pi_model() is not None:
        pytest.skip("running on a Raspberry Pi")
    with pytest.raises(HardwareMissing) as info:
        select_hardware(config(mat={"sensor": "none"}), simulate={"camera"})
    assert info.value.device == "GPIO"
    assert "--simulate gpio" in info.value.fix and "buzzer = 'none'" in info.value.fix


def test_only_the_named_devices_are_simulated() -> None:
    hw = select_hardware(config(mat={"sensor": "none"}), simulate={"gpio"})
    assert isinstance(hw.pin_factory, MockFactory)
    assert hw.simulated == {"gpio"} and not hw.simulate  # the timeline stays real time
    roles = {r.device: r.state for r in hw.roles()}
    assert roles == {"mat": "absent", "camera": "real", "gpio": "simulated"}


def test_device_roles_in_words(tmp_path: Any) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not really a video")
    cfg = config(camera={"source": "opencv", "device": str(video)}, **NO_GPIO)
    roles = {r.device: r for r in device_roles(cfg)}
    assert roles["camera"].state == "real" and "video file clip.mp4" in roles["camera"].detail
    assert roles["mat"].state == "absent" and roles["gpio"].state == "absent"
    everything = {r.device: r.state for r in device_roles(config(), DEVICES)}
    assert everything == {"mat": "simulated", "camera": "simulated", "gpio": "simulated"}
    real = {r.device: r.state for r in device_roles(config())}
    assert real == {"mat": "real", "camera": "real", "gpio": "real"}


def test_a_reload_that_first_needs_gpio_opens_it_or_says_why() -> None:
    hw = select_hardware(config(**NO_GPIO), simulate=False)
    needs_buzzer = config(mat={"sensor": "none"})
    factory = hw.gpio_for(needs_buzzer)
    if pi_model() is None:
        assert factory is None  # logged; the station keeps running without a buzzer
    hw_sim = select_hardware(config(**NO_GPIO), simulate={"gpio"})
    assert isinstance(hw_sim.gpio_for(needs_buzzer), MockFactory)


def test_the_webcam_config_needs_no_pi() -> None:
    """README's "try it with a webcam": the shipped overlay is valid and needs no GPIO."""
    from pathlib import Path

    from station.config.loader import load_config

    path = Path(__file__).parents[2] / "config" / "webcam.toml"
    cfg = load_config(str(path), required=True)
    roles = {r.device: r.state for r in device_roles(cfg)}
    assert roles == {"mat": "absent", "camera": "real", "gpio": "absent"}
    assert select_hardware(cfg, simulate=False).pin_factory is None


def test_diag_says_which_devices_are_real_simulated_or_absent(tmp_path: Any) -> None:
    from station.diag.checks import SKIP, Context, check_devices, check_mat, check_outputs

    cfg = config(**NO_GPIO)
    devices = check_devices(Context(cfg, tmp_path / "x.toml", simulated=frozenset({"camera"})))
    assert devices.summary == "mat absent, camera simulated, gpio absent"
    # nothing needs GPIO: the buzzer check does not try to open a chip
    outputs = check_outputs(Context(cfg, tmp_path / "x.toml"))
    assert outputs.status == SKIP and "no GPIO needed" in outputs.summary
    simulated = Context(config(), tmp_path / "x.toml", simulated=frozenset(DEVICES))
    assert check_mat(simulated)[0].status == SKIP
    assert "simulated" in check_outputs(simulated).summary


def test_the_screen_names_devices_that_are_not_real(tmp_path: Any) -> None:
    from station.config.loader import ConfigStore
    from station.runtime.station import Station

    video = tmp_path / "clip.avi"
    video.write_bytes(b"x")
    site = tmp_path / "site.toml"
    site.write_text(f'[camera]\nsource = "opencv"\ndevice = "{video}"\n[mat]\nsensor = "none"\n')
    store = ConfigStore(site)
    station = Station(store, select_hardware(store.config, simulate={"gpio"}))
    notice = station.view(0.0).config_notice
    assert notice == "Devices: mat absent, camera video file, gpio simulated"
    station.shutdown(0.0)
    all_simulated = Station(ConfigStore(site), select_hardware(config(), simulate=DEVICES))
    assert "mat simulated" in (all_simulated.view(0.0).config_notice or "")
