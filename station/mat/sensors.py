"""Mat sensors: small, dumb adapters that turn hardware into timestamped events.

* ``adc``: force sensors on an SPI ADC (``mat.adc_chip``, a chip of :mod:`station.mat.adc`),
  read by :class:`AdcReader` on its own thread at ``mat.sample_rate_hz`` per channel; blocks
  of calibrated newtons (ForceBlock).
* ``switch``: a contact mat on a GPIO input through gpiozero; ContactEdge events, timing only.
* ``replay``: a mat CSV played back as ForceBlocks (as fast as it is consumed).

The SPI bus is the hardware edge: :class:`SimulatedSpi` answers the chip's own frames from a
waveform, so tests and benchmarks run the real reader without a Pi. Nothing Pi-only is
imported at module import time.
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from station.clock import Clock, MonotonicClock
from station.events import ContactEdge, DeviceStatus, Event, ForceBlock
from station.hardware.protocols import HardwareMissing, Source
from station.mat.adc import AdcChip, chip
from station.mat.calibration import Calibration
from station.mat.recording import MatCsvError, read_mat_csv
from station.mat.settings import MatSettings

log = logging.getLogger(__name__)

SPI_FIX = (
    "enable SPI (`sudo raspi-config nonint do_spi 0`, or add `dtparam=spi=on` to "
    "/boot/firmware/config.txt) and reboot; the service user needs the 'spi' group "
    "(`sudo usermod -aG spi station`)"
)


CATCH_UP_S = 0.02
"""The sampling loop catches up on a delay shorter than this (a busy core, a GC pause) and
skips the samples of a longer stall."""


class SpiDevice(Protocol):
    """The part of spidev.SpiDev the reader uses."""

    def xfer2(self, data: list[int]) -> list[int]: ...

    def close(self) -> None: ...


def as_chip(adc: AdcChip | str) -> AdcChip:
    """A chip, or its name in the registry."""
    return adc if isinstance(adc, AdcChip) else chip(adc)


def open_spidev(bus: int, device: int, clock_hz: int) -> SpiDevice:
    path = Path(f"/dev/spidev{bus}.{device}")
    if not path.exists():
        raise HardwareMissing(f"mat ADC ({path})", f"{path} does not exist", SPI_FIX)
    try:
        import spidev  # Pi-only: the 'pi' extra / python3-spidev
    except ImportError as exc:
        raise HardwareMissing(
            "mat ADC", "the spidev module is not installed", "`sudo apt install python3-spidev`"
        ) from exc
    spi = spidev.SpiDev()
    try:
        spi.open(bus, device)
    except PermissionError as exc:
        raise HardwareMissing(
            f"mat ADC ({path})", f"no permission to open {path}", SPI_FIX
        ) from exc
    spi.max_speed_hz = clock_hz
    spi.mode = 0
    return spi


class SimulatedSpi:
    """An ADC on a fake SPI bus: each conversion reads `waveform(t)` (counts per channel, t
    from `clock`) at the moment of the transfer, like the real chip's sample-and-hold, and
    answers in the chip's own framing (`AdcChip.channel_of`, `AdcChip.reply`). Only the bus is
    simulated; the reader, framing and calibration are the real ones."""

    def __init__(
        self,
        waveform: Callable[[float], Sequence[float]],
        adc: AdcChip | str = "mcp3008",
        clock: Clock | None = None,
    ) -> None:
        self.waveform = waveform
        self.chip = as_chip(adc)
        self.clock = clock or MonotonicClock()
        self.full_scale = self.chip.full_scale
        self.transfers = 0
        self.closed = False

    def xfer2(self, data: list[int]) -> list[int]:
        self.transfers += 1
        channel = self.chip.channel_of(data)
        level = self.waveform(self.clock.now())[channel]
        value = int(min(self.full_scale, max(0, round(level))))
        return self.chip.reply(data, value)

    def close(self) -> None:
        self.closed = True


@dataclass(frozen=True)
class SamplingStats:
    """How well the sampling loop keeps time (for `station diag` and the benchmark)."""

    samples: int
    achieved_rate_hz: float  # per channel
    jitter_ms: float  # standard deviation of the sample interval
    jitter_p99_ms: float  # 99th percentile of |interval - period|
    late: int  # samples skipped because the loop fell more than a period behind


class AdcReader:
    """Reads every channel of the ADC at `rate_hz` on a dedicated thread.

    Why spidev and not gpiozero's MCP3008/MCP3208 classes: those issue one Python-level SPI
    transaction per `.value` read with their own per-read overhead and reach only about
    1 kHz in total, i.e. 250 Hz per zone on a four-zone mat, too slow for impacts that peak
    within 10 ms. spidev's xfer2 goes straight to the kernel driver and keeps up with
    several kHz per channel.

    The loop keeps an absolute schedule (sample k at t0 + k/rate) so timing errors do not
    accumulate; every sample is stamped with the monotonic clock when its conversions ran.
    """

    def __init__(
        self,
        spi: SpiDevice,
        adc: AdcChip | str,
        channels: Sequence[int],
        rate_hz: float,
        calibration: Calibration,
        block_ms: float = 5.0,
        clock: Clock | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.spi = spi
        self.chip = as_chip(adc)
        self.channels = list(channels)
        self.period = 1.0 / rate_hz
        self.calibration = calibration
        self.block = max(1, round(block_ms / 1000.0 * rate_hz))
        self.clock = clock or MonotonicClock()
        self._sleep = sleep or time.sleep
        self._frames = [self.chip.request(ch) for ch in self.channels]
        self.queue: queue.Queue[Event | None] = queue.Queue(maxsize=2000)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._intervals: list[float] = []
        self._samples = 0
        self._late = 0
        self._t_first = math.nan
        self._t_last = math.nan
        self._zone_problems = [""] * len(self.channels)
        self.error: Exception | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="mat-adc", daemon=True)
        self._thread.start()

    def stop(self, close_bus: bool = True) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        if close_bus:
            self.spi.close()

    def read_once(self) -> list[int]:
        value = self.chip.value
        return [value(self.spi.xfer2(list(f))) for f in self._frames]

    def _loop(self) -> None:
        try:
            self._sample_forever()
        except Exception as exc:  # a dead bus degrades the mat; it must not kill the station
            self.error = exc
            log.error("mat ADC stopped: %s", exc)
            self._put(DeviceStatus(self.clock.now(), "mat", False, f"ADC read failed: {exc}"))
        finally:
            self._put(None)  # end of stream, even if nobody has been emptying the queue

    def _sample_forever(self) -> None:
        n, z = self.block, len(self.channels)
        t_buf = np.empty(n)
        c_buf = np.empty((n, z))
        i = 0
        due = self.clock.now()
        while not self._stop.is_set():
            wait = due - self.clock.now()
            if wait > 0:
                self._sleep(wait)
            now = self.clock.now()
            if now - due > CATCH_UP_S:  # a long stall: skip what was missed, do not burst
                missed = int((now - due) / self.period)
                self._late += missed
                due += missed * self.period
            # (behind by less: sample at once until back on schedule; every sample carries its
            # own timestamp, so a short burst costs no timing accuracy)
            c_buf[i] = self.read_once()
            t_buf[i] = self.clock.now()
            self._note_time(float(t_buf[i]))
            due += self.period
            i += 1
            if i == n:
                self._hand_over(t_buf.copy(), c_buf.copy())
                i = 0

    def _note_time(self, t: float) -> None:
        if self._samples:
            if len(self._intervals) >= 100_000:
                del self._intervals[:50_000]
            self._intervals.append(t - self._t_last)
        else:
            self._t_first = t
        self._t_last = t
        self._samples += 1

    def _hand_over(self, t: NDArray[np.float64], counts: NDArray[np.float64]) -> None:
        force, problems = self.calibration.apply(counts, len(t) * self.period)
        for zi, (old, new) in enumerate(zip(self._zone_problems, problems, strict=True)):
            if old != new:
                zone = self.calibration.zones[zi]
                self._put(DeviceStatus(float(t[-1]), f"mat.{zone}", not new, new))
        self._zone_problems = problems
        self._put(ForceBlock(float(t[-1]), t, force, self.calibration.zones, True))

    def _put(self, event: Event | None) -> None:
        try:
            self.queue.put_nowait(event)
        except queue.Full:  # the main loop is stuck; drop the oldest, keep sampling
            with contextlib.suppress(queue.Empty):
                self.queue.get_nowait()
            self.queue.put_nowait(event)

    def stats(self) -> SamplingStats:
        iv = np.asarray(self._intervals)
        span = self._t_last - self._t_first
        rate = (self._samples - 1) / span if self._samples > 1 and span > 0 else 0.0
        if len(iv) < 2:
            return SamplingStats(self._samples, rate, math.nan, math.nan, self._late)
        dev = np.abs(iv - self.period)
        return SamplingStats(
            self._samples,
            rate,
            float(iv.std() * 1000),
            float(np.percentile(dev, 99) * 1000),
            self._late,
        )


def raw_calibration(zones: Sequence[str], full_scale: int) -> Calibration:
    """The identity calibration: ForceBlocks then carry the ADC counts themselves (no zero
    tracking, so a reading is never moved)."""
    n = len(zones)
    return Calibration(tuple(zones), np.zeros(n), np.ones(n), {}, full_scale, False)


def sample_counts(
    spi: SpiDevice,
    adc: AdcChip | str,
    channels: Sequence[int],
    rate_hz: float,
    seconds: float,
    clock: Clock | None = None,
    sleep: Callable[[float], None] | None = None,
) -> tuple[NDArray[np.float64], SamplingStats]:
    """Raw counts [samples, channels] of `seconds` read by the station's own sampling loop
    (:class:`AdcReader` on its thread, the same schedule and framing as a session), and how
    well it kept time. For `station diag` and `station mat calibrate`; the bus stays open.
    Raises the bus's error if a read fails."""
    adc = as_chip(adc)
    zones = [f"ch{c}" for c in channels]
    reader = AdcReader(
        spi, adc, channels, rate_hz, raw_calibration(zones, adc.full_scale), 5.0, clock, sleep
    )
    blocks: list[NDArray[np.float64]] = []
    end: float | None = None
    reader.start()
    try:
        while True:
            ev = reader.queue.get(timeout=max(2.0, 2 * seconds))
            if ev is None:
                break
            if isinstance(ev, ForceBlock):
                blocks.append(ev.force)
                end = end if end is not None else float(ev.t_samples[0]) + seconds
                if ev.t >= end:
                    break
    finally:
        reader.stop(close_bus=False)
    if reader.error is not None:
        raise reader.error
    counts = np.concatenate(blocks) if blocks else np.empty((0, len(zones)))
    return counts, reader.stats()


def session_counts(
    spi: SpiDevice,
    mat: MatSettings,
    seconds: float,
    clock: Clock | None = None,
    sleep: Callable[[float], None] | None = None,
) -> tuple[NDArray[np.float64], SamplingStats]:
    """Raw counts of what a session reads (:func:`open_adc_reader`: `mat.channels` at
    `mat.sample_rate_hz`, in that order) and how well the loop kept that rate: what `station
    diag` judges, so a bus too slow for every channel but fast enough for the mat's own
    channels is not reported as a problem."""
    return sample_counts(spi, mat.adc, mat.channels, mat.sample_rate_hz, seconds, clock, sleep)


class AdcSource:
    """The ADC reader as a Source."""

    realtime = True

    def __init__(self, reader: AdcReader, name: str = "mat") -> None:
        self.name = name
        self.reader = reader
        self._started = False

    def events(self) -> Iterator[Event]:
        if not self._started:
            self._started = True
            self.reader.start()
        while True:
            ev = self.reader.queue.get()
            if ev is None:
                return
            yield ev

    def stats(self) -> SamplingStats:
        """Achieved rate and jitter so far (for `station diag` and the trainer console)."""
        return self.reader.stats()

    def close(self) -> None:
        self.reader.stop()


class ReplaySource:
    """A mat CSV as ForceBlocks of `block_ms`, yielded as fast as they are consumed."""

    realtime = False

    def __init__(self, path: str | Path, block_ms: float = 5.0, name: str = "mat") -> None:
        self.name = name
        self.recording = read_mat_csv(path)
        rate = self.recording.sample_rate_hz or 1000.0
        self.block = max(1, round(block_ms / 1000.0 * rate))
        self._closed = False

    def events(self) -> Iterator[Event]:
        rec = self.recording
        for i in range(0, len(rec.t), self.block):
            if self._closed:
                return
            t = rec.t[i : i + self.block]
            yield ForceBlock(float(t[-1]), t, rec.force[i : i + self.block], rec.zones)

    def close(self) -> None:
        self._closed = True


class SwitchSource:
    """A contact-switch mat on a GPIO input (gpiozero Button, pulled up: the mat closes to
    ground). Timing only: ContactEdge events stamped with the monotonic clock in gpiozero's
    callback thread."""

    realtime = True

    def __init__(
        self, pin: int, pin_factory: Any, bounce_ms: float = 3.0, clock: Clock | None = None
    ) -> None:
        from gpiozero import Button

        self.name = "mat"
        self.clock = clock or MonotonicClock()
        self.queue: queue.Queue[Event | None] = queue.Queue()
        self.button = Button(
            pin, pull_up=True, bounce_time=bounce_ms / 1000.0 or None, pin_factory=pin_factory
        )
        self.button.when_pressed = lambda: self.queue.put(ContactEdge(self.clock.now(), True))
        self.button.when_released = lambda: self.queue.put(ContactEdge(self.clock.now(), False))

    def events(self) -> Iterator[Event]:
        while True:
            ev = self.queue.get()
            if ev is None:
                return
            yield ev

    def close(self) -> None:
        self.button.close()
        self.queue.put(None)


def open_mat_sensor(mat: MatSettings, pin_factory: Any, clock: Clock | None = None) -> Source:
    """The configured mat sensor (the hardware switch calls this when not simulating).
    `clock` stamps live samples on the station's timeline (default: monotonic)."""
    kind = mat.sensor
    if kind == "switch":
        return SwitchSource(mat.switch_pin, pin_factory, mat.switch_bounce_ms, clock)
    if kind == "replay":
        path = mat.replay_file
        if not path:
            raise HardwareMissing("mat replay", "mat.replay_file is empty", "set mat.replay_file")
        try:
            return ReplaySource(path, mat.block_ms)
        except MatCsvError as exc:
            raise HardwareMissing("mat replay", str(exc), "fix or replace the CSV") from exc
    if kind != "adc":
        raise ValueError(f"mat.sensor = {kind!r} has no sensor to open")
    return AdcSource(open_adc_reader(mat, clock))


def open_adc_reader(
    mat: MatSettings,
    clock: Clock | None = None,
    sleep: Callable[[float], None] | None = None,
) -> AdcReader:
    """The ADC reader the [mat] section describes, on the real SPI bus (not yet started).
    `sleep` waits on `clock` (default: time.sleep on the monotonic clock)."""
    spi = open_spidev(mat.spi_bus, mat.spi_device, mat.spi_clock_hz)
    return AdcReader(
        spi,
        mat.adc,
        mat.channels,
        mat.sample_rate_hz,
        Calibration.from_settings(mat),
        mat.block_ms,
        clock=clock,
        sleep=sleep,
    )
