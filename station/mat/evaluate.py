"""The mat's figures through each simulated sensor model, against the ideal plate.

    python -m station.mat.evaluate            # the table in docs/mat.md ("Sensor models")
    python -m station.mat.evaluate --quick    # the force-plate files and one rope session

Each sensor model (station.sim.sensors) is first calibrated as a trainer would: the empty mat
(zero offsets), then known loads on each zone in turn (`CAL_LOADS_N`), fitted per zone
(`fit_zone`). A fresh set of the same parts (same seed: same gains, exponents, creep) then
carries the recording; its counts go through the calibration block by block as on the
station (zero tracking, creep compensation) and into the pipeline. Every landing's figures
are compared with the same recording analysed as an ideal plate.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from station.mat.calibration import Calibration, fit_zone
from station.mat.pipeline import MatAnalysis, PipelineParams, analyze
from station.sim.sensors import ADC_FULL_SCALE, FsrModel, LoadCellModel, SensorModel

FloatArray = NDArray[np.float64]
CAL_LOADS_N = (200.0, 400.0, 800.0)  # ~20, 40, 80 kg on one zone
CAL_SECONDS = 2.0
BLOCK = 5  # samples per block, as the ADC reader hands them over

MODELS: dict[str, Callable[[int, int], SensorModel]] = {
    "fsr": lambda zones, seed: FsrModel(zones, seed),
    "load cell": lambda zones, seed: LoadCellModel(zones, seed),
}


def calibrate(kind: str, zones: Sequence[str], seed: int, rate: float = 1000.0) -> Calibration:
    """The calibration procedure on the model's parts: empty, then each load on each zone."""
    sensor = MODELS[kind](len(zones), seed)
    n = int(CAL_SECONDS * rate)
    t = np.arange(n) / rate
    empty = sensor.counts(t, np.zeros((n, len(zones))))
    offsets = empty[n // 2 :].mean(axis=0)
    scales, exponents = [], []
    for z in range(len(zones)):
        above = []
        for load in CAL_LOADS_N:
            f = np.zeros((n, len(zones)))
            f[:, z] = load
            above.append(float(sensor.counts(t, f)[n // 2 :, z].mean() - offsets[z]))
            sensor.counts(t, np.zeros((n, len(zones))))  # the load lifted off again
        model = "fsr" if kind == "fsr" else "linear"
        scale, exponent = fit_zone(
            model, np.asarray(CAL_LOADS_N), np.asarray(above), ADC_FULL_SCALE, CAL_SECONDS
        )
        scales.append(scale)
        exponents.append(exponent)
    return Calibration(
        tuple(zones),
        offsets,
        np.asarray(scales),
        {},
        ADC_FULL_SCALE,
        True,
        30.0,
        "fsr" if kind == "fsr" else "linear",
        np.asarray(exponents),
    )


def measure(
    kind: str,
    t: FloatArray,
    force: FloatArray,
    zones: Sequence[str],
    seed: int,
    block: int = BLOCK,
    gain_error: float = 0.0,
) -> tuple[FloatArray, Calibration]:
    """The recording as the calibrated mat of this sensor model reports it (newtons), handed
    to the calibration in blocks of `block` samples (the ADC reader's 5; longer blocks only
    to simulate long sessions faster). `gain_error`: each zone's fitted scale is then off by up
    to ± this share (a calibration gone stale, a load misjudged), to see which figures
    survive it."""
    cal = calibrate(kind, zones, seed)
    if gain_error:
        rng = np.random.default_rng([seed, 99])
        cal.scales = cal.scales * (1 + rng.uniform(-gain_error, gain_error, len(zones)))
    sensor = MODELS[kind](len(zones), seed)  # the same parts, fresh (no creep yet)
    counts = sensor.counts(t, force)
    out = np.empty_like(force)
    dt = block / 1000.0
    for i in range(0, len(t), block):
        out[i : i + block], _ = cal.apply(counts[i : i + block], dt)
    return out, cal


@dataclass
class Errors:
    count_ok: bool
    body_weight_pct: float
    peak_pct: float  # worst relative error of peak × BW
    rate_pct: float  # worst relative error of the loading rate
    asym_points: float  # worst asymmetry difference, percentage points
    touchdown_ms: float
    takeoff_ms: float


def compare(ideal: MatAnalysis, real: MatAnalysis) -> Errors:
    ok = ideal.jumps == real.jumps
    peak = rate = asym = td = to = 0.0
    if ok:
        for a, b in zip(ideal.landings, real.landings, strict=True):
            td = max(td, abs(a.t - b.t) * 1000)
            if a.takeoff_s is not None and b.takeoff_s is not None:
                to = max(to, abs(a.takeoff_s - b.takeoff_s) * 1000)
            if a.peak_bw and b.peak_bw:
                peak = max(peak, abs(b.peak_bw / a.peak_bw - 1) * 100)
            if a.loading_rate_bw_s and b.loading_rate_bw_s:
                rate = max(rate, abs(b.loading_rate_bw_s / a.loading_rate_bw_s - 1) * 100)
            if a.asymmetry_pct is not None and b.asymmetry_pct is not None:
                asym = max(asym, abs(a.asymmetry_pct - b.asymmetry_pct))
    bw = math.nan
    if ideal.body_weight_n and real.body_weight_n:
        bw = abs(real.body_weight_n / ideal.body_weight_n - 1) * 100
    return Errors(ok, bw, peak, rate, asym, td, to)


def recordings(
    shared: Path, quick: bool
) -> Iterator[tuple[str, FloatArray, FloatArray, tuple[str, ...]]]:
    from station.mat.recording import read_mat_csv

    for path in sorted((shared / "forceplate").glob("*.csv")):
        rec = read_mat_csv(path)
        yield path.stem, rec.t, rec.force, ("left", "right")
    from station.config.loader import build_config
    from station.config.sections import SCHEMA
    from station.sim import sources as sim
    from station.sim.script import packaged_scripts

    scripts = sorted(packaged_scripts().values())[: 1 if quick else None]
    for script in scripts:
        for zones in (("left", "right"), ("left_heel", "left_fore", "right_heel", "right_fore")):
            n = len(zones)
            mat = {"zones": list(zones), "channels": list(range(n)),
                   "offset_counts": [0.0] * n, "scale_n_per_count": [1.0] * n,
                   "exponent": [1.0] * n}  # fmt: skip
            cfg = build_config(SCHEMA, [("eval", {"mat": mat})])
            source = sim.simulated_mat(cfg, script, 5)
            t, f = source.samples(0.0, source.model.script.duration_s, np.random.default_rng(5))
            yield f"sim {script.stem} ({n} zones)", t, np.maximum(f, 0.0), zones


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the force-plate files and one script")
    ap.add_argument(
        "--gain-error",
        type=float,
        default=0.0,
        help="after calibration, put each zone's scale off by up to ± this share (e.g. 0.1)",
    )
    default = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    ap.add_argument(
        "--shared",
        default=os.environ.get("STATION_SHARED_DATA", str(default)),
        help="the shared data folder with forceplate/*.csv (default: ../shared/data or "
        "$STATION_SHARED_DATA); the simulator's scripts run either way",
    )
    args = ap.parse_args(argv)
    params = PipelineParams(sample_rate_hz=1000.0)
    print(f"{'recording':34} {'sensor':9} {'count':5} {'BW %':>6} {'peak %':>6} {'rate %':>6} "
          f"{'asym pt':>7} {'td ms':>5} {'to ms':>5}")  # fmt: skip
    for name, t, force, zones in recordings(Path(args.shared), args.quick):
        ideal = analyze(t, force, zones, params)
        for kind in MODELS:
            measured, _ = measure(kind, t, force, zones, seed=3, gain_error=args.gain_error)
            e = compare(ideal, analyze(t, measured, zones, params))
            print(f"{name:34} {kind:9} {'ok' if e.count_ok else 'WRONG':5} "
                  f"{e.body_weight_pct:6.2f} {e.peak_pct:6.2f} {e.rate_pct:6.2f} "
                  f"{e.asym_points:7.2f} {e.touchdown_ms:5.0f} {e.takeoff_ms:5.0f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
