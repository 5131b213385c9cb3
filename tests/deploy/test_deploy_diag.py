"""`station diag`: the report on this machine (no Pi, camera, SPI, GPIO or display), and the
mat and output checks against the hardware edge faked (a simulated SPI bus, gpiozero's
MockFactory)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

from station.clock import ManualClock
from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.diag.checks import (
    ADC_RATE_MARGIN,
    FAIL,
    OK,
    POSE_MIN_FPS,
    SKIP,
    WARN,
    Check,
    Context,
    check_mat,
    check_outputs,
    judge_pose_rate,
    judge_sampling_rate,
)
from station.diag.report import exit_code, render_text
from station.mat.sensors import SimulatedSpi

STATION = str(REPO / ".venv/bin/station")


def diag(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [STATION, "diag", *args], capture_output=True, text=True, timeout=300, cwd=REPO
    )


def config(layer: dict[str, Any]) -> Any:
    return build_config(SCHEMA, [("test", layer)])


def test_report_on_this_machine_names_what_is_missing_without_a_traceback(
    tmp_path: Path,
) -> None:
    site = tmp_path / "station.toml"
    site.write_text("")
    out = diag("--config", str(site))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    text = out.stdout
    # The pose model must load and run; whether it is fast enough depends on this machine's
    # load, so either verdict (judge_pose_rate is tested on given rates below).
    assert re.search(r"^\[(ok  |WARN)\] pose model: legacy model runs$", text, re.M), text
    assert re.search(r"inference on a synthetic 640×480 image: \d+ ms \([\d.]+ frames/s\)", text)
    for line in (
        "[FAIL] Raspberry Pi: not a Raspberry Pi",
        "[FAIL] camera: picamera2 cannot be imported",
        "[FAIL] mat ADC (MCP3008 on /dev/spidev0.0): /dev/spidev0.0 does not exist",
        "[FAIL] display (SDL KMS/DRM)",
        f"[ok  ] config: {site} is valid",
        "exit status 1",
    ):
        assert line in text, line
    # every failure carries its fix
    blocks = text.split("\n[")
    assert all("fix: " in b for b in blocks if b.startswith("FAIL]"))


def test_json_report_and_a_broken_config(tmp_path: Path) -> None:
    site = tmp_path / "station.toml"
    site.write_text("[mat]\nsample_rate_hz = 50\n[camera]\nsource = 'none'\n")
    out = diag("--json", "--config", str(site))
    assert "Traceback" not in out.stderr
    report = json.loads(out.stdout)
    assert report["exit_code"] == out.returncode == 1
    by_name = {c["name"]: c for c in report["checks"]}
    cfg = by_name["config"]
    assert cfg["status"] == FAIL and cfg["required"]
    assert any("mat.sample_rate_hz" in d for d in cfg["details"])
    # The broken file is rejected whole: the other checks run on the defaults (camera on).
    assert by_name["camera"]["status"] == FAIL
    assert {"service", "Raspberry Pi", "pose model", "display (SDL KMS/DRM)", "disk"} <= set(
        by_name
    )


def test_help_documents_the_exit_codes() -> None:
    out = diag("--help")
    assert out.returncode == 0
    assert "Exit status: 0 every required part works" in out.stdout
    assert "1 a required part is missing" in out.stdout


def test_exit_code_counts_only_required_failures() -> None:
    fine = [Check("a", OK, "x"), Check("b", WARN, "y"), Check("c", SKIP, "z", required=False)]
    assert exit_code(fine) == 0
    assert exit_code([*fine, Check("d", FAIL, "optional", required=False)]) == 0
    broken = [*fine, Check("e", FAIL, "gone", fix="plug it in")]
    assert exit_code(broken) == 1
    text = render_text(broken, 1)
    assert "[FAIL] e: gone" in text and "fix: plug it in" in text
    assert "1 required part(s) missing or broken: e" in text


class SlowSpi(SimulatedSpi):
    """A bus whose every transfer takes `transfer_s` on the test's clock (a slow SPI clock,
    or a busy kernel driver)."""

    def __init__(self, levels: list[float], clock: ManualClock, transfer_s: float) -> None:
        super().__init__(lambda _t: levels, "mcp3008", clock)
        self.manual = clock
        self.transfer_s = transfer_s

    def xfer2(self, data: list[int]) -> list[int]:
        self.manual.advance(self.transfer_s)
        return super().xfer2(data)


def adc_context(
    levels: list[float], transfer_s: float = 0.0, **mat: Any
) -> tuple[Context, list[SimulatedSpi]]:
    """The ADC check on a simulated bus and a manual clock: the sampling loop's rate is what
    the bus allows, not what this machine's load leaves it."""
    cfg = config({"mat": {"channels": [0, 1], "zones": ["left", "right"], **mat}})
    clock = ManualClock()
    buses: list[SimulatedSpi] = []

    def open_spi(bus: int, device: int, clock_hz: int) -> SimulatedSpi:
        spi = SlowSpi(levels, clock, transfer_s)
        buses.append(spi)
        return spi

    return Context(cfg, Path("/nonexistent"), open_spi=open_spi, clock=clock), buses


def test_adc_check_reads_every_channel_and_the_sampling_rate() -> None:
    levels = [12, 20, 0, 0, 0, 0, 0, 700]
    ctx, buses = adc_context(levels, offset_counts=[12.0, 20.0])
    adc, zero = check_mat(ctx)
    assert adc.status == OK, adc
    assert buses[0].closed
    # a second of the session's two channels, then a glance at the six unused ones
    assert buses[0].transfers >= 2 * 1000 + 6 * 100
    for ch, level in enumerate(levels):
        assert any(d.startswith(f"ch{ch} ") and f"mean {level}," in d for d in adc.details)
    assert "ch0 (zone 'left')" in "\n".join(adc.details)
    assert "ch7 (unused)" in "\n".join(adc.details)
    assert adc.summary == "achieved 1000 samples/s per channel (asked 1000)"
    assert zero.status == OK and zero.name == "mat zero levels"


@pytest.mark.parametrize(
    ("transfer_us", "status"),
    [(400.0, OK), (480.0, OK), (560.0, WARN), (1600.0, WARN)],  # × 2 channels per sample
)
def test_adc_check_warns_when_the_bus_cannot_keep_the_rate(transfer_us: float, status: str) -> None:
    """Diag times what a session reads: the mat's two channels (not the chip's eight). Two
    transfers of 480 µs fit in 1 ms with 4 % to spare; of 560 µs they do not, and the loop
    falls to 1 / 1.12 ms = 893 samples/s, under the margin. At 400 µs a session keeps its
    rate, where reading all eight channels (3.2 ms a sample) would have warned."""
    ctx, _ = adc_context([300] * 8, transfer_s=transfer_us * 1e-6)
    adc, _zero = check_mat(ctx)
    achieved = re.fullmatch(r"achieved (\d+) samples/s per channel \(asked 1000\)", adc.summary)
    assert achieved is not None, adc.summary
    assert float(achieved[1]) == pytest.approx(min(1000.0, 1e6 / (2 * transfer_us)), abs=1)
    assert adc.status == status, adc
    assert ("mat.spi_clock_hz" in adc.fix) == (status == WARN)


def test_rate_verdicts_on_given_rates() -> None:
    assert judge_sampling_rate(1000.0, 1000.0) == (OK, "")
    assert judge_sampling_rate(ADC_RATE_MARGIN * 2000.0, 2000.0)[0] == OK
    assert judge_sampling_rate(ADC_RATE_MARGIN * 2000.0 - 1.0, 2000.0)[0] == WARN
    assert judge_sampling_rate(873.0, 1000.0)[0] == WARN
    assert judge_sampling_rate(0.0, 1000.0)[0] == WARN
    assert judge_pose_rate(30.0) == (OK, "")
    assert judge_pose_rate(POSE_MIN_FPS) == (OK, "")
    status, fix = judge_pose_rate(POSE_MIN_FPS - 0.1)
    assert status == WARN and "frames/s" in fix and "camera.width" in fix


def test_adc_check_finds_a_shorted_zone_and_a_drifted_zero() -> None:
    ctx, _ = adc_context([1023, 300, 0, 0, 0, 0, 0, 0], offset_counts=[10.0, 10.0])
    adc, zero = check_mat(ctx)
    assert adc.status == FAIL and "ch0 reads full scale" in adc.summary
    assert "docs/wiring.svg" in adc.fix
    assert zero.status == WARN and "station mat calibrate" in zero.fix


def test_a_dead_adc_reads_all_zero() -> None:
    ctx, _ = adc_context([0] * 8)
    adc, _zero = check_mat(ctx)
    assert adc.status == FAIL and "every channel reads 0" in adc.summary


@pytest.mark.parametrize("beep", [False, True])
def test_buzzer_and_leds_sound_only_with_beep(beep: bool) -> None:
    from gpiozero.pins.mock import MockFactory

    factory = MockFactory()
    cfg = config({"alerts": {"buzzer": "active", "buzzer_pin": 18, "leds": {"mode": "traffic"}}})
    ctx = Context(cfg, Path("/nonexistent"), beep=beep, pin_factory=lambda: factory)
    result = check_outputs(ctx)
    assert result.status == OK, result
    assert "active buzzer on GPIO18" in result.details
    for pin in (18, 22, 23, 24):  # buzzer, green, amber, red
        history = [s.state for s in factory.pin(pin).states]
        assert (True in history) == beep, (pin, history)
        assert history[-1] is False


def test_gpio_missing_is_reported_with_its_fix() -> None:
    from station.hardware import HardwareMissing

    def no_gpio() -> Any:
        raise HardwareMissing("GPIO", "cannot open the GPIO chip", "install python3-lgpio")

    cfg = config({"alerts": {"buzzer": "active"}})
    result = check_outputs(Context(cfg, Path("/x"), pin_factory=no_gpio))
    assert (result.status, result.summary, result.fix) == (
        FAIL,
        "cannot open the GPIO chip",
        "install python3-lgpio",
    )


def test_a_running_kiosk_makes_device_checks_say_in_use() -> None:
    """The kiosk holds the camera, GPIO and display; diag must not fight it for them."""
    from station.diag.checks import check_camera, check_display

    cfg = config({"alerts": {"buzzer": "active"}})
    ctx = Context(cfg, Path("/x"), service_active=True, pin_factory=lambda: pytest.fail("opened"))
    for result in (check_camera(ctx), check_outputs(ctx), check_display(ctx)):
        assert result.status == SKIP and not result.required, result
        assert "in use by the running station" in result.summary
        assert "systemctl stop station" in result.fix


def test_the_diag_adc_benchmark_runs() -> None:
    """A smoke test of `station bench diag-adc` (its figures are not pass/fail)."""
    from station.diag.bench import adc_rate

    figures = {f.name: f for f in adc_rate(True)}
    assert figures["achieved rate per channel, the mat's channels read"].value > 0
