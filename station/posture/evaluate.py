"""Per-clip light time shares on landmark tracks, and agreement with labels by eye.

    python -m station.posture.evaluate TRACK.npz [TRACK.npz ...] [--placement auto|front|...]
        [--baseline start|none] [--preset NAME] [--json]
    python -m station.posture.evaluate --labels tests/posture/labels --tracks DIR [DIR ...]

With `--labels`, each labelled clip's track (DIR/<clip>.npz) is judged as `station analyze`
judges it (baseline from a standing stretch, else the population defaults) and the per-second
agreement of each light is printed out of sample (leave one clip out) with in sample beside it
(station.posture.agreement).

Each track is judged as the live station would: with `--baseline start` (the default) the
first `posture.baseline_s` seconds with a pose are taken as the member's baseline, as when a
member stands tall before jumping; `--baseline none` uses the population defaults.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from station.config.loader import Config
from station.events import FAULTS
from station.posture.judge import PostureJudge
from station.posture.placement import guess_placement
from station.posture.summary import summarise


def evaluate_track(
    path: Path, config: Config, placement: str = "auto", baseline: str = "start", preset: str = ""
) -> dict[str, Any]:
    from station.pose.track import load_track

    track = load_track(path)
    frames = list(track.frames())
    chosen = guess_placement(frames) if placement == "auto" else placement
    judge = PostureJudge(config, placement=chosen or "front", preset=preset or None)
    if baseline == "start":
        judge.start_baseline()
    judged = [judge.update(f) for f in frames]
    summary = summarise(judged, end_t=float(track.t[-1]) + 1.0 / track.fps)
    return {
        "track": path.stem,
        "placement": chosen,
        "duration_s": round(track.duration_s, 2),
        "baseline": {k: (None if v is None else round(v, 3)) for k, v in judge.baseline.items()},
        "shares": {
            f: {s: round(summary[f].share(s), 3) for s in ("ok", "warn", "fault", "unknown")}
            for f in FAULTS
        },
        "faults": {f: summary[f].as_json(2) for f in FAULTS},
    }


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown: one row per clip, one column per light: ok/warn/fault/unknown percentages."""
    head = "| clip | placement | s | " + " | ".join(FAULTS) + " |"
    lines = [head, "|" + " --- |" * (3 + len(FAULTS))]
    for r in rows:
        cells = []
        for f in FAULTS:
            sh = r["shares"][f]
            cells.append("/".join(f"{100 * sh[s]:.0f}" for s in ("ok", "warn", "fault", "unknown")))
        lines.append(
            f"| {r['track']} | {r['placement']} | {r['duration_s']:.1f} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m station.posture.evaluate", description=__doc__)
    parser.add_argument("tracks", nargs="*", type=Path)
    parser.add_argument("--labels", type=Path, help="a folder of <clip>.csv posture labels")
    parser.add_argument(
        "--track-dir",
        "--tracks",
        dest="track_dirs",
        nargs="+",
        type=Path,
        default=[],
        help="folders holding <clip>.npz for --labels",
    )
    parser.add_argument("--placement", default="auto", choices=("auto", "front", "oblique", "side"))
    parser.add_argument("--baseline", default="start", choices=("start", "none"))
    parser.add_argument("--preset", default="")
    parser.add_argument("--config", default=None, help="a station.toml (default: the defaults)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from station.config.loader import load_config

    config = load_config(args.config, required=bool(args.config))
    if args.labels is not None:
        return labelled(args.labels, args.track_dirs, config)
    if not args.tracks:
        parser.error("give track files, or --labels with --tracks")
    rows = [
        evaluate_track(p, config, args.placement, args.baseline, args.preset) for p in args.tracks
    ]
    if args.json:
        json.dump(rows, sys.stdout, indent=1)
        print()
    else:
        print(table(rows))
        print("\ncells: % of the clip's time ok/warn/fault/unknown")
    return 0


def labelled(labels_dir: Path, track_dirs: Sequence[Path], config: Config) -> int:
    from station.pose.track import load_track
    from station.posture.agreement import (
        SCALES,
        format_report,
        leave_one_clip_out,
        read_labels,
        run_clip,
    )

    runs = []
    for csv_path in sorted(labels_dir.glob("*.csv")):
        found = [
            d / f"{csv_path.stem}.npz" for d in track_dirs if (d / f"{csv_path.stem}.npz").exists()
        ]
        if not found:
            print(f"{csv_path.stem}: no track in {', '.join(map(str, track_dirs))}: left out")
            continue
        frames = list(load_track(found[0]).frames())
        runs.append(run_clip(csv_path.stem, frames, read_labels(csv_path), config, SCALES))
    if not runs:
        print("no labelled clip has a track", file=sys.stderr)
        return 2
    print(
        format_report(
            leave_one_clip_out(runs, SCALES, "evidence"),
            compare=leave_one_clip_out(runs, SCALES, "argmax"),
        )
    )
    print('\nper-second agreement over labelled seconds that are not "can\'t tell"')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
