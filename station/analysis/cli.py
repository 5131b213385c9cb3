"""`station analyze`: count jumps and judge posture in a video or landmark track."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "analyze",
        help="count jumps and judge posture in a video or landmark track",
        description=(
            "Count jumps (camera-only counter) and judge the five posture lights in a video "
            "or a landmark track (.npz), with the same code the live station runs. Video "
            "input runs pose inference on every frame ([pose] config section)."
        ),
    )
    p.add_argument("input", type=Path, help="a video file or a landmark track .npz")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    p.add_argument("--annotate", type=Path, metavar="OUT.mp4", help="write an annotated video")
    p.add_argument("--save-track", type=Path, metavar="OUT.npz", help="save the landmark track")
    p.add_argument(
        "--no-baseline",
        action="store_true",
        help="judge against population defaults even when the recording has a stretch of "
        "standing upright and still (by default its first such stretch is the baseline)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="pose inference threads, each on its own part of the video (default: 2 or the "
        "number of CPU cores if fewer)",
    )
    p.add_argument(
        "--placement",
        choices=("auto", "front", "oblique", "side"),
        default="auto",
        help="where the camera stood; 'auto' (default) guesses it from the shoulders' "
        "apparent width. The posture metrics differ per placement.",
    )
    p.add_argument(
        "--roi",
        type=_roi,
        metavar="x0,y0,x1,y1",
        help="where the jumper is, in fractions of the picture (0,0 top left; e.g. "
        "0.3,0.1,0.7,1). Default: found in the video (the person who keeps jumping), or "
        "the whole picture when nobody stands out; the JSON's 'jumper' says which",
    )
    p.add_argument("--config", type=Path, help="config file (default: the station's)")
    p.set_defaults(func=run)


def _roi(text: str) -> tuple[float, float, float, float]:
    from station.pose.find_jumper import parse_roi

    try:
        return parse_roi(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from station.analysis.analyze import AnalysisError, analyze, progress_bar
    from station.config.loader import load_config

    config = load_config(args.config, required=True) if args.config else load_config()
    progress = progress_bar()
    try:
        result = analyze(
            args.input,
            config,
            progress=progress,
            annotate=args.annotate,
            save_track_to=args.save_track,
            baseline=not args.no_baseline,
            workers=args.workers,
            placement=args.placement,
            roi=args.roi,
        )
    except AnalysisError as exc:
        if progress is not None:
            sys.stderr.write("\n")
        print(f"station analyze: {exc}", file=sys.stderr)
        return 2
    if progress is not None:
        sys.stderr.write("\n")
    data = result.as_json()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(
        f"{data['input']}: {data['frames']} frames at {data['fps']} fps, "
        f"{data['pose_frames']} with a pose, {data['duration_s']} s"
    )
    print(f"jumps: {data['jumps']} (cadence {data['cadence_per_min']}/min)")
    if not data["counting"]["trusted"]:
        print(f"  count not trusted: {data['counting']['why']}")
    print(f"posture judged for a {result.placement} camera")
    jumper = data["jumper"]
    print(f"jumper looked for in {jumper['roi']} ({jumper['how']})")
    for fault, s in data["faults"].items():
        print(
            f"  {fault:9s} fault {s['fault_s']:6.1f} s  warn {s['warn_s']:6.1f} s  "
            f"unknown {s['unknown_s']:6.1f} s  episodes {len(s['episodes'])}"
        )
    timing = data["timing"]
    print(
        f"timing: inference {timing['inference_ms_per_frame']} ms/frame, "
        f"analysis {timing['analysis_ms_per_frame']} ms/frame"
    )
    return 0
