"""`python -m station.sim [SCRIPT] [--seed N]`: check a simulator script and print what it will
produce (the ground truth), or the errors with their key paths (exit status 2)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from station.sim.model import GroundTruth
from station.sim.script import ScriptInvalid, load_script, packaged_scripts
from station.sim.sources import ground_truth


def describe(truth: GroundTruth) -> str:
    lines = [
        f"duration {truth.duration_s:g} s; member {truth.mass_kg:g} kg, {truth.height_m:g} m",
        f"jumps: {truth.jump_count}"
        + (
            f" (first {truth.jumps[0].t:.2f} s, last {truth.jumps[-1].t:.2f} s)"
            if truth.jumps
            else ""
        ),
    ]
    heel = sum(j.heel_first for j in truth.jumps)
    double = sum(j.double for j in truth.jumps)
    if heel or double:
        lines.append(f"  heel-first landings: {heel}; double-unders: {double}")
    for a, b in truth.on_mat:
        lines.append(f"on the mat {a:.2f}-{b:.2f} s")
    for e in truth.faults:
        lines.append(f"fault {e.name}: {e.start_s:g}-{e.end_s:g} s")
    for m in truth.misses_s:
        lines.append(f"rope catches at {m:g} s")
    for e in truth.outages:
        lines.append(f"{e.name} outage: {e.start_s:g}-{e.end_s:g} s")
    for zone, a, b in truth.dead_zones:
        until = f"-{b:g} s" if b < 1e8 else " on"
        lines.append(f"mat zone {zone!r} dead {a:g}{until}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m station.sim",
        description="Check a simulator script and print what it will produce. Packaged "
        "scripts: " + ", ".join(packaged_scripts()),
    )
    parser.add_argument("script", nargs="?", help="a script file or a packaged script's name")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    path: Path | None = None
    if args.script:
        path = packaged_scripts().get(args.script, Path(args.script))
    try:
        script = load_script(path)
    except ScriptInvalid as exc:
        print(exc, file=sys.stderr)
        return 2
    print(describe(ground_truth(script, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
