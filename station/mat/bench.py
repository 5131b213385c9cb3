"""Mat benchmarks: the landing pipeline against real time, and the ADC sampling loop's timing
against a simulated SPI device.

`station bench mat-pipeline`: a synthetic four-zone rope session (1 kHz, noise, ~180 jumps/min)
fed in 5 ms blocks as the live mat feeds it; the figure is seconds of mat data processed per
second of one core (the issue asks ≥ 50×, i.e. ≤ 2 % of a core at real time).

`station bench mat-sampling`: the real AdcReader thread on the real monotonic clock and
time.sleep, reading four channels at 1 kHz from SimulatedSpi (the chip's framing and decoding
included; the kernel's SPI transfer time, ~10-30 µs per conversion on a Pi, is not).
"""

from __future__ import annotations

import math
import time

import numpy as np

from station.bench import Benchmark, Figure
from station.clock import MonotonicClock
from station.events import ForceBlock
from station.mat.adc import chip
from station.mat.calibration import Calibration
from station.mat.pipeline import MatPipeline, PipelineParams
from station.mat.sensors import AdcReader, SimulatedSpi
from station.mat.synth import rope_session

FOUR = ("left_heel", "left_fore", "right_heel", "right_fore")


def pipeline_speed(quick: bool) -> list[Figure]:
    seconds = 20.0 if quick else 120.0
    t, force, truth = rope_session(seconds, FOUR, seed=1)
    block = 5
    pipe = MatPipeline(FOUR, PipelineParams())
    landings = 0
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    for i in range(0, len(t), block):
        landings += len(pipe.feed(t[i : i + block], force[i : i + block]))
    pipe.finish()
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    ratio = float(t[-1] - t[0]) / cpu
    if pipe.state.count != len(truth.touchdowns):
        raise RuntimeError(f"counted {pipe.state.count} of {len(truth.touchdowns)} jumps")
    return [
        Figure("real time / CPU time, 4 zones at 1 kHz", ratio, "×", "≥ 50", ratio >= 50),
        Figure("share of one core at real time", 100.0 / ratio, "%", "≤ 2", ratio >= 50),
        Figure("wall time per second of data", 1000.0 * wall / float(t[-1] - t[0]), "ms"),
        Figure("jumps counted (all of them)", float(pipe.state.count), "jumps"),
    ]


def sampling_jitter(quick: bool, adc_chip: str = "mcp3008") -> list[Figure]:
    seconds = 1.0 if quick else 5.0
    rate = 1000.0
    clock = MonotonicClock()
    adc = chip(adc_chip)

    def waveform(t: float) -> list[float]:
        v = 400.0 + 300.0 * math.sin(2 * math.pi * 3.0 * t)
        return [v, v * 0.5, v * 0.8, 100.0]

    spi = SimulatedSpi(waveform, adc, clock)
    cal = Calibration(FOUR, np.zeros(4), np.ones(4), {}, adc.full_scale, False)
    reader = AdcReader(spi, adc, [0, 1, 2, 3], rate, cal, 5.0, clock)
    cpu0 = time.process_time()
    reader.start()
    samples = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ev = reader.queue.get(timeout=2.0)
        if isinstance(ev, ForceBlock):
            samples += len(ev.t_samples)
    reader.stop()
    cpu = time.process_time() - cpu0
    st = reader.stats()
    return [
        Figure("achieved rate per channel", st.achieved_rate_hz, "Hz", "≥ 1000 × 0.99",
               st.achieved_rate_hz >= 0.99 * rate),
        Figure("sample interval jitter (sd)", st.jitter_ms, "ms"),
        Figure("sample interval jitter (p99 |dev|)", st.jitter_p99_ms, "ms"),
        Figure("samples skipped (late)", float(st.late), "samples"),
        Figure("CPU of the sampling loop", 100.0 * cpu / seconds, "% of a core"),
    ]  # fmt: skip


BENCHMARKS = [
    Benchmark("mat-pipeline", pipeline_speed),
    Benchmark("mat-sampling", sampling_jitter),
]
