"""`station mat analyze|calibrate|record`: the mat's tools for trainers and installers."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from station.mat.settings import MatSettings

if TYPE_CHECKING:
    from station.config.loader import Config
    from station.mat.sensors import AdcReader

KG = 9.80665  # newtons per kilogram-force


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "mat",
        help="mat tools: analyze a recording, calibrate, record",
        description="The force mat: analyse a recording, calibrate the sensors, record raw data.",
    )
    msub = p.add_subparsers(dest="mat_command", metavar="ACTION", required=True)

    a = msub.add_parser(
        "analyze",
        help="find every jump and judge every landing in a mat CSV",
        description="Analyse a mat CSV ('#' comments, then time_s,<zone>_n,...): body weight, "
        "jumps, and per landing touchdown/take-off, flight and contact times, peak force, "
        "loading rate and the hard-landing verdict of the preset in force.",
    )
    a.add_argument("file", help="the mat CSV")
    a.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a.add_argument(
        "--zones",
        help="comma-separated zones to analyse (default: all, summed), e.g. --zones left",
    )
    a.add_argument("--config", help="site config file (default: /etc/station/station.toml)")
    a.add_argument("--preset", help="threshold preset (default: posture.preset)")
    a.set_defaults(func=_analyze)

    c = msub.add_parser(
        "calibrate",
        help="walk through zero and known loads; write the fitted model to the site config",
        description="Step 1: the mat empty (zero offset per zone). Step 2: each known load on "
        "each zone in turn. Each zone's model (mat.model: 'linear' for load cells, 'fsr' for "
        "force-sensing resistors: a power law, which needs two or more loads) is fitted and "
        "written to the site config file after validating the result, as the trainers' "
        "console writes it (comments kept, written atomically, recorded in the console's "
        "audit log).",
    )
    c.add_argument(
        "--load-kg",
        type=float,
        nargs="+",
        required=True,
        help="the known load(s), kilograms, e.g. --load-kg 20 40 80 (spanning the weights "
        "a zone carries)",
    )
    c.add_argument("--seconds", type=float, default=2.0, help="averaging time per step")
    c.add_argument("--config", help="site config file to update (default: the site config)")
    c.set_defaults(func=_calibrate)

    r = msub.add_parser(
        "record",
        help="record the mat to a CSV (on a Pi with the ADC)",
        description="Record the configured ADC mat to OUT.csv in the mat CSV format.",
    )
    r.add_argument("out", help="output CSV")
    r.add_argument("--seconds", type=float, default=30.0, help="how long to record")
    r.add_argument("--raw", action="store_true", help="ADC counts instead of newtons")
    r.add_argument("--config", help="site config file (default: /etc/station/station.toml)")
    r.set_defaults(func=_record)


# ------------------------------------------------------------------ analyze


def _analyze(args: argparse.Namespace) -> int:
    from station.config.loader import ConfigInvalid, load_config
    from station.mat.pipeline import PipelineParams, analyze
    from station.mat.recording import MatCsvError, read_mat_csv

    try:
        rec = read_mat_csv(args.file)
        cfg = load_config(args.config, required=bool(args.config))
    except (MatCsvError, ConfigInvalid) as exc:
        print(f"station mat analyze: {exc}", file=sys.stderr)
        return 1
    if args.zones:
        wanted = [z.strip() for z in args.zones.split(",") if z.strip()]
        missing = [z for z in wanted if z not in rec.zones]
        if missing:
            print(
                f"station mat analyze: {args.file}: no zone {', '.join(missing)} "
                f"(zones: {', '.join(rec.zones)})",
                file=sys.stderr,
            )
            return 1
        rec = rec.select(wanted)
    preset = args.preset or cfg["posture"]["preset"]
    if preset not in cfg["presets"]:
        print(f"station mat analyze: no preset {preset!r}", file=sys.stderr)
        return 1
    params = PipelineParams.from_sections(
        MatSettings.from_config(cfg), cfg["presets"][preset]["landing"], rec.sample_rate_hz
    )
    result = analyze(rec.t, rec.force, rec.zones, params)
    if args.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return 0
    _print_table(args.file, rec.zones, result)
    return 0


def _print_table(name: str, zones: Sequence[str], result: Any) -> None:
    bw = result.body_weight_n
    st = result.state
    print(f"{name}: zones {'+'.join(zones)}, {result.sample_rate_hz:g} Hz")
    how = result.body_weight_source
    sd = f" ± {result.body_weight_sd_n:.1f}" if result.body_weight_sd_n is not None else ""
    weight = f"{bw:.1f}{sd} N ({bw / KG:.1f} kg, from {how})" if bw else "not captured"
    if bw and result.quiet_standing_n:
        weight += f"; quiet standing {result.quiet_standing_n:.1f} N"
    print(f"body weight {weight}; jumps {result.jumps}")
    head = (
        f"{'#':>3} {'takeoff s':>9} {'touchdown s':>11} {'flight s':>8} {'contact s':>9} "
        f"{'peak BW':>7} {'rate BW/s':>9} {'to peak s':>9}  verdict"
    )
    print(head)
    print("-" * len(head))

    def f(v: float | None, fmt: str) -> str:
        return "-" if v is None else format(v, fmt)

    for i, x in enumerate(result.landings, start=1):
        verdict = "HARD" if x.hard else ("warn" if x.warn else "ok")
        if x.reasons:
            verdict += ": " + "; ".join(x.reasons)
        print(
            f"{i:>3} {f(x.takeoff_s, '.3f'):>9} {x.t:>11.3f} {f(x.flight_s, '.3f'):>8} "
            f"{f(x.contact_s, '.3f'):>9} {f(x.peak_bw, '.2f'):>7} "
            f"{f(x.loading_rate_bw_s, '.0f'):>9} {f(x.time_to_peak_s, '.3f'):>9}  {verdict}"
        )
    for zone, status in st.zone_status.items():
        if status != "ok":
            print(f"zone {zone}: {status}")


# ---------------------------------------------------------------- calibrate


def measure_calibration(
    read_counts: Callable[[float], NDArray[np.float64]],
    zones: Sequence[str],
    loads_n: float | Sequence[float],
    seconds: float,
    ask: Callable[[str], object],
    say: Callable[[str], object],
    model: str = "linear",
    full_scale: int = 1023,
) -> tuple[list[float], list[float], list[float]]:
    """The trainer's walk-through. `read_counts(seconds)` returns samples × zones of raw
    counts (the second half of each step is averaged: the load has settled). Returns
    (offset_counts, scale_n_per_count, exponent) per zone, fitted with `model` (see
    station.mat.calibration.fit_zone); raises ValueError when a step shows no usable change (a
    dead zone, the load on the wrong zone) or the model cannot be fitted."""
    from station.mat.calibration import fit_zone

    loads = [float(x) for x in np.atleast_1d(np.asarray(loads_n, dtype=np.float64))]
    if model == "fsr" and len(loads) < 2:
        raise ValueError("an FSR mat (mat.model = 'fsr') needs two or more known loads")
    ask("Step 1 of 2: clear the mat completely, then press Enter.")
    empty = read_counts(seconds)
    offsets = empty.mean(axis=0)
    noise = empty.std(axis=0)
    say("zero offsets: " + ", ".join(f"{z} {o:.1f}" for z, o in zip(zones, offsets, strict=True)))
    scales: list[float] = []
    exponents: list[float] = []
    for z, zone in enumerate(zones):
        rises = []
        for load_n in loads:
            ask(
                f"Step 2 of 2: put the {load_n / KG:.1f} kg load on zone '{zone}' only, "
                "press Enter."
            )
            counts = read_counts(seconds)
            loaded = counts[len(counts) // 2 :].mean(axis=0)
            rise = float(loaded[z] - offsets[z])
            if rise <= max(5.0, 5 * float(noise[z])):
                raise ValueError(
                    f"zone {zone!r} rose by only {rise:.1f} counts under the load: check its "
                    "wiring (channel order in mat.channels) and that the load is on that zone"
                )
            rises.append(rise)
        scale, exponent = fit_zone(
            model, np.asarray(loads), np.asarray(rises), float(full_scale), seconds
        )
        scales.append(scale)
        exponents.append(exponent)
        points = ", ".join(
            f"{r:.1f} counts for {f:.0f} N" for r, f in zip(rises, loads, strict=True)
        )
        fitted = (
            f"{scale:.4f} N/count" if model == "linear" else f"{scale:.1f} N × x^{exponent:.3f}"
        )
        say(f"{zone}: {points} → {fitted}")
    return [float(o) for o in offsets], scales, exponents


def write_calibration(
    path: Path,
    offsets: list[float],
    scales: list[float],
    exponents: list[float] | None = None,
    *,
    state_dir: Path,
) -> None:
    """Set mat.offset_counts, mat.scale_n_per_count (and mat.exponent, for an FSR mat) in the
    site file through the console's writer (station.console.sitefile): validated by the
    schema first, comments and other keys kept, replaced atomically, and the change recorded
    in the audit log in `state_dir` beside the console's own edits. Raises ConfigInvalid
    (nothing written) if the result would not load or the file cannot be written."""
    from station.config.sections import SCHEMA
    from station.console.sitefile import SiteConfigFile

    changes: dict[str, list[float]] = {
        "mat.offset_counts": [round(o, 2) for o in offsets],
        "mat.scale_n_per_count": [round(s, 6) for s in scales],
    }
    if exponents is not None:
        changes["mat.exponent"] = [round(e, 5) for e in exponents]
    path.parent.mkdir(parents=True, exist_ok=True)
    site = SiteConfigFile(path, SCHEMA, state_dir)
    user = os.environ.get("SUDO_USER") or os.environ.get("USER") or "?"
    site.save(changes, site.version(), address=f"local ({user})", page="station mat calibrate")


def _open_reader(cfg: Config) -> AdcReader:
    from station.mat.sensors import open_adc_reader

    return open_adc_reader(MatSettings.from_config(cfg))


def _calibrate(args: argparse.Namespace) -> int:
    from station.config.loader import ConfigInvalid, load_config, site_config_path
    from station.console.sitefile import ConcurrentEdit
    from station.hardware.protocols import HardwareMissing
    from station.storage.paths import state_dir

    path = site_config_path(args.config)
    try:
        cfg = load_config(args.config)
        mat = MatSettings.from_config(cfg)
        if mat.sensor != "adc":
            print("station mat calibrate: mat.sensor is not 'adc'; nothing to calibrate")
            return 1
        reader = _open_reader(cfg)
    except (ConfigInvalid, HardwareMissing) as exc:
        print(f"station mat calibrate: {exc}", file=sys.stderr)
        return 1
    from station.mat.sensors import sample_counts

    model = mat.model

    def read_counts(seconds: float) -> NDArray[np.float64]:
        return sample_counts(reader.spi, reader.chip, reader.channels, mat.sample_rate_hz, seconds)[
            0
        ]

    try:
        offsets, scales, exponents = measure_calibration(
            read_counts,
            list(mat.zones),
            [kg * KG for kg in args.load_kg],
            args.seconds,
            input,
            print,
            model,
            reader.chip.full_scale,
        )
        write_calibration(
            path,
            offsets,
            scales,
            exponents if model == "fsr" else None,
            state_dir=state_dir(cfg.get("storage.state_dir")),
        )
    except (ValueError, ConfigInvalid, ConcurrentEdit, OSError) as exc:
        print(f"station mat calibrate: {exc}; nothing written", file=sys.stderr)
        return 1
    finally:
        reader.spi.close()
    written = "mat.offset_counts, mat.scale_n_per_count" + (
        ", mat.exponent" if model == "fsr" else ""
    )
    print(f"written to {path} ({written})")
    return 0


# ------------------------------------------------------------------- record


def _record(args: argparse.Namespace) -> int:
    from station.config.loader import ConfigInvalid, load_config
    from station.events import ForceBlock
    from station.hardware.protocols import HardwareMissing
    from station.mat.recording import write_header, write_rows
    from station.mat.sensors import AdcSource, raw_calibration

    try:
        cfg = load_config(args.config, required=bool(args.config))
        reader = _open_reader(cfg)
    except (ConfigInvalid, HardwareMissing) as exc:
        print(f"station mat record: {exc}", file=sys.stderr)
        return 1
    if args.raw:  # identity calibration: the ForceBlocks carry the counts themselves
        reader.calibration = raw_calibration(reader.calibration.zones, reader.chip.full_scale)
    source = AdcSource(reader)
    mat = MatSettings.from_config(cfg)
    zones = mat.zones
    unit = "ADC counts" if args.raw else "newtons"
    end: float | None = None
    with open(args.out, "w", encoding="utf-8") as fh:
        write_header(
            fh,
            zones,
            [f"station mat record: {reader.chip.description}, {unit}, "
             f"{mat.sample_rate_hz:g} Hz per zone, monotonic clock"],
        )  # fmt: skip
        try:
            for ev in source.events():
                if not isinstance(ev, ForceBlock):
                    print(f"{ev}", file=sys.stderr)
                    continue
                end = end if end is not None else float(ev.t_samples[0]) + args.seconds
                write_rows(fh, ev.t_samples, ev.force)
                if ev.t >= end:
                    break
        finally:
            source.close()
    stats = reader.stats()
    print(
        f"{args.out}: {stats.samples} samples, {stats.achieved_rate_hz:.1f} Hz achieved, "
        f"jitter {stats.jitter_ms:.3f} ms (p99 {stats.jitter_p99_ms:.3f} ms), "
        f"{stats.late} late"
    )
    return 0
