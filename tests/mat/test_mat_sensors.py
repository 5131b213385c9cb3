"""Mat sensors: the real ADC reader on a simulated SPI bus, the contact switch on gpiozero's
MockFactory, the replay source, calibration and the mat CSV checks."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from paced_reader import PacedSleep

from station.clock import ManualClock
from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.events import ContactEdge, DeviceStatus, ForceBlock
from station.hardware import HardwareMissing
from station.mat.adc import chip as adc_chip
from station.mat.calibration import Calibration, piecewise_linear
from station.mat.recording import MatCsvError, parse_mat_csv, read_mat_csv
from station.mat.sensors import (
    AdcReader,
    ReplaySource,
    SimulatedSpi,
    SwitchSource,
    open_mat_sensor,
    open_spidev,
)
from station.mat.settings import MatSettings

ZONES = ("left", "right")


def _calibration(full_scale: int = 1023) -> Calibration:
    return Calibration(ZONES, np.array([10.0, 20.0]), np.array([2.0, 0.5]), {}, full_scale, False)


def _collect(reader: AdcReader, blocks: int) -> list[object]:
    out: list[object] = []
    reader.start()
    while sum(isinstance(e, ForceBlock) for e in out) < blocks:
        out.append(reader.queue.get(timeout=5))
    reader.stop()
    return out


@pytest.mark.parametrize("chip", ["mcp3008", "mcp3208"])
def test_frames_round_trip_every_channel(chip: str) -> None:
    adc = adc_chip(chip)
    spi = SimulatedSpi(lambda t: [100.0 * (c + 1) for c in range(8)], chip, ManualClock())
    for ch in range(8):
        assert adc.value(spi.xfer2(adc.request(ch))) == 100 * (ch + 1)


def test_frames_are_the_datasheets_bytes() -> None:
    """MCP3008 figure 6-1 / MCP3208 figure 6-1: start bit, single-ended, D2-D0, right-aligned
    in three bytes; the reply's last 10 / 12 bits are the result."""
    mcp3008, mcp3208 = adc_chip("mcp3008"), adc_chip("mcp3208")
    assert mcp3008.request(5) == [0x01, 0xD0, 0x00]
    assert mcp3208.request(5) == [0x07, 0x40, 0x00]
    assert mcp3008.value([0xFF, 0xFE, 0x34]) == 0x234  # the high bits are not data
    assert mcp3208.value([0xFF, 0xFA, 0xBC]) == 0xABC
    assert (mcp3008.full_scale, mcp3208.full_scale) == (1023, 4095)
    with pytest.raises(ValueError, match="channels 0-7"):
        mcp3008.request(8)
    with pytest.raises(ValueError, match="not an mcp3208 single-ended request"):
        SimulatedSpi(lambda t: [0.0] * 8, "mcp3208").xfer2(mcp3008.request(1))


def test_reader_samples_on_schedule_and_calibrates() -> None:
    clock = ManualClock(100.0)
    spi = SimulatedSpi(lambda t: [300.0 + 50 * math.sin(t), 620.0], "mcp3008", clock)
    sleep = PacedSleep(clock)
    reader = sleep.pace(
        AdcReader(spi, "mcp3008", [0, 1], 1000.0, _calibration(), 5.0, clock, sleep)
    )
    events = _collect(reader, 20)
    blocks = [e for e in events if isinstance(e, ForceBlock)]
    assert all(len(b.t_samples) == 5 and b.zones == ZONES for b in blocks)
    t = np.concatenate([b.t_samples for b in blocks])
    assert np.allclose(np.diff(t), 0.001)
    force = np.concatenate([b.force for b in blocks])
    expected_left = (np.round(300 + 50 * np.sin(t)) - 10.0) * 2.0
    assert np.allclose(force[:, 0], expected_left)
    assert np.allclose(force[:, 1], (620 - 20) * 0.5)
    stats = reader.stats()
    assert stats.achieved_rate_hz == pytest.approx(1000.0, rel=1e-6)
    assert stats.jitter_ms < 1e-6 and stats.late == 0
    assert spi.closed


def test_reader_reports_a_zone_pinned_at_full_scale() -> None:
    clock = ManualClock()
    spi = SimulatedSpi(lambda t: [400.0, 5000.0], "mcp3008", clock)  # right is shorted high
    sleep = PacedSleep(clock)
    reader = sleep.pace(
        AdcReader(spi, "mcp3008", [0, 1], 1000.0, _calibration(), 5.0, clock, sleep)
    )
    events = _collect(reader, 150)
    status = [e for e in events if isinstance(e, DeviceStatus)]
    assert status and status[0].device == "mat.right" and not status[0].ok
    assert "full scale" in status[0].message


def test_a_failing_bus_degrades_instead_of_crashing() -> None:
    class Broken(SimulatedSpi):
        def xfer2(self, data: list[int]) -> list[int]:
            raise OSError("Remote I/O error")

    clock = ManualClock()
    reader = AdcReader(
        Broken(lambda t: [0, 0], "mcp3008", clock), "mcp3008", [0, 1], 1000.0, _calibration(),
        5.0, clock, clock.sleep,
    )  # fmt: skip
    reader.start()
    event = reader.queue.get(timeout=5)
    assert isinstance(event, DeviceStatus) and not event.ok and "Remote I/O" in event.message
    assert reader.queue.get(timeout=5) is None  # the stream ends; the station carries on
    reader.stop()


def test_missing_spi_device_says_how_to_enable_it() -> None:
    with pytest.raises(HardwareMissing) as err:
        open_spidev(5, 3, 1_000_000)
    text = str(err.value)
    assert "/dev/spidev5.3" in text and "raspi-config" in text and "dtparam=spi=on" in text
    assert "'spi' group" in text


def mat_settings(**keys: Any) -> MatSettings:
    """[mat] as a site file sets it, through the schema's checks."""
    return MatSettings.from_config(build_config(SCHEMA, [("test", {"mat": keys})]))


def test_open_mat_sensor_adc_without_spi_is_hardware_missing() -> None:
    with pytest.raises(HardwareMissing):
        open_mat_sensor(mat_settings(sensor="adc", spi_bus=5, spi_device=3), None)


def test_switch_mat_on_mock_pins_gives_contact_edges() -> None:
    from gpiozero.pins.mock import MockFactory

    factory = MockFactory()
    clock = ManualClock(5.0)
    source = SwitchSource(17, factory, bounce_ms=0, clock=clock)
    pin = factory.pin(17)
    pin.drive_low()
    clock.advance(0.2)
    pin.drive_high()
    source.close()
    events = list(source.events())
    assert events == [ContactEdge(5.0, True), ContactEdge(5.2, False)]


def test_replay_source_plays_a_csv_in_blocks(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    rows = "\n".join(f"{i / 1000:.3f},{i},{2 * i}" for i in range(23))
    path.write_text(f"# a comment\ntime_s,left_n,right_n\n{rows}\n")
    source = open_mat_sensor(mat_settings(sensor="replay", replay_file=str(path)), None)
    assert isinstance(source, ReplaySource) and source.realtime is False
    blocks = [e for e in source.events() if isinstance(e, ForceBlock)]
    assert [len(b.t_samples) for b in blocks] == [5, 5, 5, 5, 3]
    assert blocks[-1].force[-1].tolist() == [22.0, 44.0]


def test_replay_of_a_broken_csv_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("time_s,left_n\n0.0,1\n0.001\n")
    with pytest.raises(HardwareMissing, match=r"bad.csv:3: 1 columns, expected 2"):
        open_mat_sensor(mat_settings(sensor="replay", replay_file=str(path)), None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time_s,left_n\n0.0,1\n0.001,nan\n", r":3: left_n is NaN"),
        ("time_s,left_n\n0.0,1\n0.0,2\n", r":3: time_s 0.0 does not increase"),
        ("time_s,left_n,right_n\n0.0,1\n", r":2: 2 columns, expected 3"),
        ("t,left_n\n0.0,1\n", r"first column must be time_s"),
        ("time_s,left\n0.0,1\n", r"named <zone>_n"),
        ("# only comments\n", r"no header"),
        ("time_s,left_n\n0.0,x\n", r":2: not a number"),
    ],
)
def test_mat_csv_problems_are_clear(text: str, message: str) -> None:
    with pytest.raises(MatCsvError, match=message):
        parse_mat_csv(io.StringIO(text), "m.csv")


def test_mat_csv_reads_the_shared_format(shared_data: Path) -> None:
    rec = read_mat_csv(shared_data / "forceplate" / "squat_jump_BFR010.csv")
    assert rec.zones == ("left", "right") and rec.sample_rate_hz == 1000.0
    assert rec.force.shape == (7850, 2) and rec.comments


def test_piecewise_table_and_zero_tracking() -> None:
    xs, ys = np.array([0.0, 100.0, 300.0]), np.array([0.0, 50.0, 450.0])
    got = piecewise_linear(np.array([-10.0, 50.0, 200.0, 400.0]), xs, ys)
    assert got.tolist() == [-5.0, 25.0, 250.0, 650.0]
    cal = Calibration(("a",), np.array([10.0]), np.array([1.0]), {0: (xs, ys)}, 1023, True, 30.0)
    for _ in range(1500):  # 30 s of an empty mat whose zero drifted to 14 counts
        cal.apply(np.full((20, 1), 14.0), 0.02)
    assert cal.offsets[0] == pytest.approx(14.0, abs=0.1)
    loaded = np.full((20, 1), 214.0)
    for _ in range(100):  # someone standing: the zero must not follow
        force, problems = cal.apply(loaded, 0.02)
    assert cal.offsets[0] == pytest.approx(14.0, abs=0.1)
    assert force[0, 0] == pytest.approx(250.0, abs=1.0) and problems == [""]


def test_benchmarks_run_and_count_every_jump() -> None:
    """A smoke test of `station bench mat` (the figures themselves are not pass/fail)."""
    from station.mat.bench import BENCHMARKS

    figures = {b.name: {f.name: f for f in b.run(True)} for b in BENCHMARKS}
    assert figures["mat-pipeline"]["jumps counted (all of them)"].value > 50
    assert figures["mat-sampling"]["achieved rate per channel"].value > 0
