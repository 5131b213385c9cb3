"""A new ADC chip is one class: this file alone adds a 16-channel, 16-bit chip with its own
framing, and the station's config, calibration, sampling loop, simulated bus, pipeline and
`station diag` use it through the registry (issue 12: "an ADC chip added in a test file alone
works end to end on the simulated SPI bus")."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from paced_reader import PacedSleep

import station.mat.sensors as sensors
from station.clock import ManualClock
from station.config.loader import Config, ConfigInvalid, build_config
from station.config.sections import SCHEMA
from station.diag.checks import OK, WARN, Context, check_mat
from station.events import ForceBlock, Landing
from station.mat.adc import AdcChip, chip
from station.mat.sensors import AdcSource, SimulatedSpi, open_adc_reader
from station.mat.settings import MatSettings
from station.mat.synth import Jumps, Stand, synthetic_session
from station.mat.tracker import MatTracker


class Fake16(AdcChip):
    """16 channels, 16 bits; a request is [0xA0 | channel, 0, 0, 0], the reply's last two
    bytes are the result (nothing like the MCP3x08 framing on purpose)."""

    name = "fake16"
    bits = 16
    channels = 16
    max_rate_hz = 400_000.0
    description = "a test chip, 16-bit, 16 channels"

    def request(self, channel: int) -> list[int]:
        self.check_channel(channel)
        return [0xA0 | channel, 0, 0, 0]

    def value(self, reply: Sequence[int]) -> int:
        return (reply[2] << 8) | reply[3]

    def channel_of(self, request: Sequence[int]) -> int:
        if len(request) != 4 or request[0] & 0xF0 != 0xA0:
            raise ValueError(f"not a fake16 request: {list(request)}")
        return request[0] & 0x0F

    def reply(self, request: Sequence[int], value: int) -> list[int]:
        self.channel_of(request)
        return [0xFF, 0xFF, value >> 8, value & 0xFF]


ZONES = ("left_heel", "left_fore", "right_heel", "right_fore")
CHANNELS = [12, 13, 14, 15]  # channels an MCP3x08 does not have
OFFSETS = [900.0, 1100.0, 1000.0, 950.0]
SCALE = 0.05  # newtons per count: 16 bits over ~3 kN


def _config(**mat: object) -> Config:
    layer = {
        "mat": {
            "adc_chip": "fake16",
            "channels": CHANNELS,
            "zones": list(ZONES),
            "offset_counts": OFFSETS,
            "scale_n_per_count": [SCALE] * 4,
            **mat,
        }
    }
    return build_config(SCHEMA, [("site.toml", layer)])


def test_the_registry_knows_the_new_chip_and_the_config_checks_it() -> None:
    adc = chip("fake16")
    assert adc.full_scale == 65535
    cfg = _config()
    assert cfg["mat"]["adc_chip"] == "fake16"
    with pytest.raises(ConfigInvalid, match=r"mat\.channels.*do not exist on the mcp3008"):
        _config(adc_chip="mcp3008")
    with pytest.raises(ConfigInvalid, match=r"mat\.adc_chip.*no ADC chip 'ads9999'.*fake16"):
        _config(adc_chip="ads9999")


def test_a_session_through_the_new_chip_counts_every_jump(monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulated force → the chip's counts on the fake bus → the real reader (the chip's
    frames), calibration (its full scale) → the pipeline: every jump counted."""
    t, force, truth = synthetic_session([Stand(2.0), Jumps(12), Stand(1.0)], ZONES, seed=3)
    counts = np.zeros((len(t), 16))
    counts[:, CHANNELS] = np.asarray(OFFSETS) + force / SCALE
    clock = ManualClock()

    def waveform(now: float) -> list[float]:
        i = min(len(t) - 1, max(0, round(now * 1000.0)))
        return counts[i].tolist()

    buses: list[SimulatedSpi] = []

    def open_bus(bus: int, device: int, clock_hz: int) -> SimulatedSpi:
        buses.append(SimulatedSpi(waveform, "fake16", clock))
        return buses[-1]

    monkeypatch.setattr(sensors, "open_spidev", open_bus)
    cfg = _config()
    sleep = PacedSleep(clock)
    reader = sleep.pace(open_adc_reader(MatSettings.from_config(cfg), clock, sleep))
    assert reader.chip.name == "fake16" and reader.calibration.full_scale == 65535
    tracker = MatTracker(cfg)
    source = AdcSource(reader)
    landings = []
    for ev in source.events():
        assert isinstance(ev, ForceBlock), ev
        landings += [x for x in tracker.handle(ev) if isinstance(x, Landing)]
        if ev.t >= float(t[-1]):
            break
    source.close()
    assert buses[0].transfers >= 4 * len(t)
    assert len(landings) == len(truth.touchdowns) == tracker.state.count
    assert tracker.state.body_weight_n == pytest.approx(truth.body_weight_n, rel=0.01)


def test_diag_reads_the_mat_s_channels_and_glances_at_all_sixteen(tmp_path: Path) -> None:
    levels = [0.0] * 16
    for ch, offset in zip(CHANNELS, OFFSETS, strict=True):
        levels[ch] = offset

    def open_bus(bus: int, device: int, clock_hz: int) -> SimulatedSpi:
        return SimulatedSpi(lambda _t: levels, "fake16")

    adc, zero = check_mat(Context(_config(), tmp_path, open_spi=open_bus))
    assert adc.status in (OK, WARN), adc  # WARN: a loaded machine missed the asked rate
    assert f"read the mat's {len(CHANNELS)} channels" in adc.details[0] and "FAKE16" in adc.name
    assert any(d.startswith("ch1 (unused): mean 0,") for d in adc.details)  # all 16 looked at
    assert any(d.startswith("ch15 (zone 'right_fore'): mean 950,") for d in adc.details)
    assert zero.status == OK, zero
