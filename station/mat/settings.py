"""The [mat] config section, :class:`MatSettings` (the same section unpacked into typed fields
for the code that reads the mat), and the landing thresholds of each preset."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from station.config.schema import Key, Section
from station.mat.adc import REGISTRY, AdcChip, UnknownChip, chip

if TYPE_CHECKING:
    from station.config.loader import Config


def _per_zone(s: Mapping[str, Any]) -> list[tuple[str, str]]:
    n = len(s["channels"])
    return [
        (k, f"needs one entry per channel ({n})")
        for k in ("zones", "offset_counts", "scale_n_per_count", "exponent")
        if len(s[k]) != n and (k != "exponent" or s["model"] == "fsr")
    ]


def _zone_names(s: Mapping[str, Any]) -> list[tuple[str, str]]:
    zones = list(s["zones"])
    problems = []
    if len(set(zones)) != len(zones):
        problems.append(("zones", f"= {zones!r}: zone names must be unique"))
    for name in s["tables"]:
        if name not in zones:
            problems.append((f"tables.{name}", f"no such zone (zones: {', '.join(zones)})"))
    return problems


def _adc_chip(s: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The chip is known, has the channels asked for, and converts fast enough for them."""
    try:
        adc = chip(str(s["adc_chip"]))
    except UnknownChip as exc:
        return [("adc_chip", str(exc))]
    problems = []
    beyond = [c for c in s["channels"] if c >= adc.channels]
    if beyond:
        problems.append(
            ("channels", f"{beyond} do not exist on the {adc.name} (0-{adc.channels - 1})")
        )
    needed = float(s["sample_rate_hz"]) * len(s["channels"])
    if needed > adc.max_rate_hz:
        problems.append(
            (
                "sample_rate_hz",
                f"{s['sample_rate_hz']} Hz × {len(s['channels'])} channels is more than the "
                f"{adc.name} converts ({adc.max_rate_hz:.0f}/s)",
            )
        )
    return problems


def _hysteresis(s: Mapping[str, Any]) -> list[tuple[str, str]]:
    if s["contact_off_bw"] >= s["contact_on_bw"]:
        return [("contact_off_bw", "must be below contact_on_bw (hysteresis)")]
    return []


def _table_shape(s: Mapping[str, Any]) -> list[tuple[str, str]]:
    counts, newtons = list(s["counts"]), list(s["newtons"])
    if len(counts) != len(newtons):
        return [("newtons", f"needs one entry per point of counts ({len(counts)})")]
    if any(b <= a for a, b in pairwise(counts)):
        return [("counts", "must be strictly increasing")]
    if any(b < a for a, b in pairwise(newtons)):
        return [("newtons", "must not decrease")]
    return []


TABLE = Section(
    "A piecewise-linear calibration for one zone (FSRs are not linear): ADC counts above the "
    "zero offset → newtons; beyond the last point the last segment's slope continues.",
    {
        "counts": Key(
            [0.0, 1023.0], "Counts above the offset at each point.", item=float, min_len=2
        ),
        "newtons": Key([0.0, 1023.0], "Force at each point.", "N", item=float, min_len=2),
    },
    checks=(_table_shape,),
)

SECTION = Section(
    "The mat under the member: it counts and times every jump and judges landings.",
    {
        "sensor": Key(
            "adc",
            "'adc': force sensors on an MCP3008/MCP3208 read over SPI (counts, times and weighs "
            "landings); 'switch': a contact-switch mat on a GPIO input (timing only, no force); "
            "'replay': play back the mat CSV in replay_file (for demonstrations); "
            "'none': no mat (the camera counts, and the screen says so).",
            choices=("adc", "switch", "replay", "none"),
        ),
        "adc_chip": Key(
            "mcp3008",
            "The ADC chip, by its name in station/mat/adc.py: "
            + "; ".join(f"'{c.name}' ({c.description})" for c in REGISTRY.values())
            + ". Channels and the sampling rate are checked against the chip's own figures.",
        ),
        "spi_bus": Key(0, "SPI bus of the ADC (/dev/spidevBUS.DEVICE).", min=0, max=6),
        "spi_device": Key(0, "SPI chip select of the ADC.", min=0, max=3),
        "spi_clock_hz": Key(1_000_000, "SPI clock.", "Hz", min=50_000, max=3_600_000),
        "sample_rate_hz": Key(
            1000,
            "Samples per second per zone. Landing impacts peak within "
            "about 10 ms, so stay at 1000 or above.",
            "Hz",
            min=500,
            max=4000,
        ),
        "block_ms": Key(
            5,
            "The reader hands samples to the main loop in blocks of this many milliseconds.",
            "ms",
            min=1,
            max=50,
        ),
        "channels": Key(
            [0, 1],
            "ADC channels in use, one per zone (0 to the chip's channels - 1).",
            item=int,
            min=0,
            max=63,
            min_len=1,
            max_len=8,
        ),
        "zones": Key(
            ["left", "right"],
            "Zone names, one per channel, e.g. left, right or "
            "left_heel, left_fore, right_heel, right_fore. A zone whose name ends in "
            "'_heel' enables heel-first detection; names starting 'left'/'right' enable the "
            "left/right asymmetry.",
            item=str,
            min_len=1,
            max_len=8,
        ),
        "offset_counts": Key(
            [0.0, 0.0],
            "Per-zone zero offset in ADC counts (written by `station "
            "mat calibrate`; tracked automatically while the mat is empty).",
            item=float,
            min_len=1,
            max_len=8,
        ),
        "scale_n_per_count": Key(
            [1.0, 1.0],
            "Per-zone scale: newtons per ADC count above the "
            "offset (written by `station mat calibrate`). A zone with a [mat.tables.ZONE] "
            "table uses the table instead.",
            item=float,
            min=0.0,
            min_len=1,
            max_len=8,
        ),
        "model": Key(
            "linear",
            "How counts become newtons per zone: 'linear' (load cells with an amplifier: "
            "scale_n_per_count × counts above the offset) or 'fsr' (force-sensing resistors or "
            "Velostat in a voltage divider: x = c/(full scale - c) is the sensor's conductance "
            "relative to the divider's resistor, force = scale_n_per_count × x^exponent, and "
            "the FSR's creep under load is compensated). `station mat calibrate` fits it.",
            choices=("linear", "fsr"),
        ),
        "exponent": Key(
            [1.0, 1.0],
            "For model = 'fsr': per-zone exponent of the power law, one per channel (written "
            "by `station mat calibrate`; about 0.8-1.1 for FSRs). Ignored for 'linear'.",
            item=float,
            min=0.2,
            max=5.0,
            min_len=1,
            max_len=8,
        ),
        "zero_tracking": Key(
            True,
            "Follow the zero offset while the mat is empty (FSRs and load cells drift).",
        ),
        "switch_pin": Key(
            17, "For sensor = 'switch': the BCM GPIO pin of the contact mat.", min=0, max=27
        ),
        "switch_bounce_ms": Key(
            3, "For sensor = 'switch': debounce time of the contact.", "ms", min=0, max=50
        ),
        "replay_file": Key(
            "",
            "For sensor = 'replay': a mat CSV ('#' comment lines, then time_s,<zone>_n,...).",
        ),
        "floor_n": Key(
            30.0,
            "Absolute floor of the contact threshold: below this total force the mat counts as "
            "unloaded whatever the body weight (sensor noise lives below it).",
            "N",
            min=1.0,
            max=500.0,
        ),
        "contact_on_bw": Key(
            0.08,
            "Contact starts when the total force rises above this (or floor_n, the larger).",
            "× body weight",
            min=0.01,
            max=0.8,
        ),
        "contact_off_bw": Key(
            0.03,
            "Flight starts when the total force falls below this (or floor_n/2, the larger).",
            "× body weight",
            min=0.0,
            max=0.5,
        ),
        "min_flight_s": Key(
            0.05,
            "Double-contact filter: an unloading shorter than this is part of the contact.",
            "s",
            min=0.0,
            max=0.3,
        ),
        "min_contact_s": Key(
            0.015,
            "A loading shorter than this is a glitch, not a contact.",
            "s",
            min=0.0,
            max=0.2,
        ),
        "impact_rise_s": Key(
            0.04,
            "An impact reaches half body weight within this time of touchdown. A contact is a "
            "landing if it is an impact or its flight began with a jump's push-off; slower "
            "loading after a slow unloading is a foot put down (stepping), not a landing.",
            "s",
            min=0.005,
            max=0.3,
        ),
        "impact_window_s": Key(
            0.25,
            "Peak force and loading rate are taken within this time after touchdown.",
            "s",
            min=0.05,
            max=1.0,
        ),
        "quiet_s": Key(
            1.0,
            "Body weight is the mean force over this much quiet standing.",
            "s",
            min=0.5,
            max=5.0,
        ),
        "quiet_tolerance_pct": Key(
            2.5,
            "Standing counts as quiet while the force's standard deviation stays within this "
            "share of its mean.",
            "%",
            min=0.2,
            max=20.0,
        ),
        "step_off_s": Key(
            1.0,
            "An empty mat for longer than this means the member stepped off (the session may "
            "end); shorter is a flight or a brief miss.",
            "s",
            min=0.5,
            max=10.0,
        ),
        "stop_contact_s": Key(
            0.6,
            "A contact longer than this while jumping is a stop or a trip: it breaks the streak "
            "and counts as a miss.",
            "s",
            min=0.2,
            max=5.0,
        ),
        "double_under_flight_s": Key(
            0.33,
            "A flight at least this long is a double-under (the rope passes twice).",
            "s",
            min=0.15,
            max=1.0,
        ),
        "cadence_window_s": Key(
            6.0, "Cadence is jumps per minute over this trailing window.", "s", min=2.0, max=60.0
        ),
        "tables": Section(
            "Per-zone piecewise-linear calibration tables, as [mat.tables.ZONE].",
            {},
            free=TABLE,
            free_doc="Add [mat.tables.ZONE] with counts = [...] and newtons = [...] for a zone "
            "whose sensor is not linear (an FSR); zones without a table use scale_n_per_count.",
        ),
    },
    checks=(_per_zone, _zone_names, _hysteresis, _adc_chip),
)


@dataclass(frozen=True)
class ZoneTable:
    """One [mat.tables.ZONE]: counts above the zero → newtons, piecewise linear."""

    counts: tuple[float, ...]
    newtons: tuple[float, ...]


@dataclass(frozen=True)
class MatSettings:
    """[mat], typed: one field per key of SECTION (a test keeps them the same). Built from a
    config the schema has validated, so every value is in range and every error has already
    named its key path (`mat.sample_rate_hz = 50: too small …`)."""

    sensor: str
    adc_chip: str
    spi_bus: int
    spi_device: int
    spi_clock_hz: int
    sample_rate_hz: float
    block_ms: float
    channels: tuple[int, ...]
    zones: tuple[str, ...]
    offset_counts: tuple[float, ...]
    scale_n_per_count: tuple[float, ...]
    model: str
    exponent: tuple[float, ...]
    zero_tracking: bool
    switch_pin: int
    switch_bounce_ms: float
    replay_file: str
    floor_n: float
    contact_on_bw: float
    contact_off_bw: float
    min_flight_s: float
    min_contact_s: float
    impact_rise_s: float
    impact_window_s: float
    quiet_s: float
    quiet_tolerance_pct: float
    step_off_s: float
    stop_contact_s: float
    double_under_flight_s: float
    cadence_window_s: float
    tables: Mapping[str, ZoneTable] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Config) -> MatSettings:
        return cls.from_section(config["mat"])

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> MatSettings:
        """From the validated [mat] table (`config["mat"]`)."""
        floats = {n: float(section[n]) for n in _FLOAT_KEYS}
        return cls(
            sensor=str(section["sensor"]),
            adc_chip=str(section["adc_chip"]),
            spi_bus=int(section["spi_bus"]),
            spi_device=int(section["spi_device"]),
            spi_clock_hz=int(section["spi_clock_hz"]),
            channels=tuple(int(c) for c in section["channels"]),
            zones=tuple(str(z) for z in section["zones"]),
            offset_counts=tuple(float(v) for v in section["offset_counts"]),
            scale_n_per_count=tuple(float(v) for v in section["scale_n_per_count"]),
            model=str(section["model"]),
            exponent=tuple(float(v) for v in section["exponent"]),
            zero_tracking=bool(section["zero_tracking"]),
            switch_pin=int(section["switch_pin"]),
            replay_file=str(section["replay_file"]),
            tables={
                str(zone): ZoneTable(
                    tuple(float(v) for v in table["counts"]),
                    tuple(float(v) for v in table["newtons"]),
                )
                for zone, table in section["tables"].items()
            },
            **floats,
        )

    @property
    def adc(self) -> AdcChip:
        """The ADC chip named by adc_chip (the schema checked that it exists)."""
        return chip(self.adc_chip)


_FLOAT_KEYS = (
    "sample_rate_hz",
    "block_ms",
    "switch_bounce_ms",
    "floor_n",
    "contact_on_bw",
    "contact_off_bw",
    "min_flight_s",
    "min_contact_s",
    "impact_rise_s",
    "impact_window_s",
    "quiet_s",
    "quiet_tolerance_pct",
    "step_off_s",
    "stop_contact_s",
    "double_under_flight_s",
    "cadence_window_s",
)


_LANDING = {
    # preset: (peak warn, peak fault, loading-rate warn, loading-rate fault)
    # Soft rope landings on the balls of the feet load at ~10-40 body weights/s and peak at
    # 2-3 × body weight; heel slaps load at 140-500 BW/s (the simulator's landing model; the
    # force-plate drop and squat-jump landings in ../shared/data load at 17-155 BW/s).
    "beginner": (4.0, 5.5, 80.0, 150.0),
    "intermediate": (3.5, 5.0, 60.0, 120.0),
    "advanced": (3.2, 4.5, 50.0, 100.0),
}


def _fault_above_warn(s: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    if s["peak_fault_bw"] < s["peak_warn_bw"]:
        out.append(("peak_fault_bw", "must be ≥ peak_warn_bw"))
    if s["loading_rate_fault_bw_s"] < s["loading_rate_warn_bw_s"]:
        out.append(("loading_rate_fault_bw_s", "must be ≥ loading_rate_warn_bw_s"))
    return out


@dataclass(frozen=True)
class LandingGauge:
    """One figure of the mat's last landing, judged against two levels of the preset's
    [presets.NAME.landing] table: what the live status publishes and the console's live page
    draws as a meter (a higher value is worse for each)."""

    metric: str  # its key in the live status's metrics
    name: str
    unit: str
    value_of: str  # the Landing (station.events) field it reads
    warn_key: str
    fault_key: str


LANDING_GAUGES = (
    LandingGauge(
        "landing_peak_bw", "peak force", "× BW", "peak_bw", "peak_warn_bw", "peak_fault_bw"
    ),
    LandingGauge(
        "landing_rate_bw_s",
        "loading rate",
        "BW/s",
        "loading_rate_bw_s",
        "loading_rate_warn_bw_s",
        "loading_rate_fault_bw_s",
    ),
)


def landing_gauges(
    landing: Any, levels: Mapping[str, Any], state: str
) -> dict[str, dict[str, Any]]:
    """The live metrics of the mat's last `landing` (None: none yet) against a preset's landing
    `levels`, each shown in the landing light's `state` (the pipeline judged it; nothing here
    judges again)."""
    out = {}
    for gauge in LANDING_GAUGES:
        value = None if landing is None else getattr(landing, gauge.value_of)
        out[gauge.metric] = {
            "value": None if value is None else round(float(value), 2),
            "warn": float(levels[gauge.warn_key]),
            "fault": float(levels[gauge.fault_key]),
            "unit": gauge.unit,
            "state": state if value is not None else "unknown",
            "reason": "",
        }
    return out


def landing_thresholds(preset: str) -> Mapping[str, Section]:
    peak_warn, peak_fault, rate_warn, rate_fault = _LANDING.get(preset, _LANDING["intermediate"])
    return {
        "landing": Section(
            "Hard landings, judged by the mat: feet slapping the ground, heels hitting hard. "
            "A landing at or above a fault level is hard; the reasons name each level crossed.",
            {
                "enabled": Key(True, "Judge landings at all."),
                "peak_warn_bw": Key(
                    peak_warn, "Peak landing force that warns.", "× body weight", min=1.0, max=15.0
                ),
                "peak_fault_bw": Key(
                    peak_fault,
                    "Peak landing force that faults.",
                    "× body weight",
                    min=1.0,
                    max=15.0,
                ),
                "loading_rate_warn_bw_s": Key(
                    rate_warn,
                    "Loading rate (touchdown to the first force peak) that warns.",
                    "body weights/s",
                    min=5.0,
                    max=1000.0,
                ),
                "loading_rate_fault_bw_s": Key(
                    rate_fault,
                    "Loading rate (touchdown to the first force peak) that faults.",
                    "body weights/s",
                    min=5.0,
                    max=1000.0,
                ),
                "heel_first_is_fault": Key(
                    True, "A heel-first touchdown (needs a heel zone) is a hard landing by itself."
                ),
                "hold_s": Key(
                    2.0, "The light stays on at least this long once lit.", "s", min=0.0, max=30.0
                ),
            },
            checks=(_fault_above_warn,),
        )
    }
