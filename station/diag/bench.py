"""Diag benchmarks: the speed figures `station diag` judges, measured the way diag measures them
(its tests feed the checks a manual clock, so their verdicts never depend on a machine's load).

`station bench diag-adc`: the ADC check's own sampling loop on the real clock, reading the
default mat's channels of an MCP3008 (as a session does) on the simulated SPI bus at
mat.sample_rate_hz (the kernel's SPI transfer
time, ~10-30 µs per conversion on a Pi, is not included); the achieved rate against the asked
one, beside the margin diag warns below.

`station bench diag-pose`: diag's pose check, one real inference of the configured backend on
the synthetic test card after a warm-up; frames/s beside the rate diag warns below.
"""

from __future__ import annotations

import re
from pathlib import Path

from station.bench import Benchmark, Figure
from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.diag.checks import ADC_RATE_MARGIN, OK, POSE_MIN_FPS, Context, check_mat, check_pose
from station.mat.sensors import SimulatedSpi


def _context() -> Context:
    config = build_config(SCHEMA, [])
    return Context(
        config,
        Path("/nonexistent"),
        open_spi=lambda _bus, _dev, _hz: SimulatedSpi(lambda _t: [300.0] * 8, "mcp3008"),
    )


def adc_rate(quick: bool) -> list[Figure]:
    ctx = _context()
    asked = float(ctx.config["mat"]["sample_rate_hz"])
    adc, _zero = check_mat(ctx)
    found = re.match(r"achieved (\d+) samples/s", adc.summary)
    if found is None:
        raise RuntimeError(f"the ADC check did not measure a rate: {adc.summary}")
    achieved = float(found[1])
    late = next((int(d.split()[0]) for d in adc.details if "samples skipped" in d), 0)
    target = f"≥ {ADC_RATE_MARGIN:.0%} (diag's margin)"
    return [
        Figure("achieved rate per channel, the mat's channels read", achieved, "Hz"),
        Figure("share of the asked rate", 100.0 * achieved / asked, "%", target, adc.status == OK),
        Figure("samples skipped after stalls > 20 ms", float(late), "samples"),
    ]


def pose_rate(quick: bool) -> list[Figure]:
    ctx = _context()
    pose = check_pose(ctx)
    found = next((re.search(r"(\d+) ms \(([\d.]+) frames/s\)", d) for d in pose.details
                  if d.startswith("inference on")), None)  # fmt: skip
    if found is None:
        raise RuntimeError(f"the pose check did not run: {pose.summary}")
    fps = float(found[2])
    return [
        Figure("inference time, best of two", float(found[1]), "ms"),
        Figure(
            "inference rate", fps, "frames/s", f"≥ {POSE_MIN_FPS:g} (diag's)", fps >= POSE_MIN_FPS
        ),
    ]


BENCHMARKS = [Benchmark("diag-adc", adc_rate), Benchmark("diag-pose", pose_rate)]
