"""`station diag`: check each part of the station and print the fix for anything wrong."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_MISSING = 1
EXIT_USAGE = 2

EPILOG = """\
Checks, in order: the systemd service, the Raspberry Pi, the config, which devices are real,
simulated or absent, the camera, the pose model (one real inference), the camera's framing
(with someone standing where members jump: are the feet in the picture? judged on the
camera's pictures, or on a photo or video given with --framing-from), the mat (SPI ADC: every
channel's level and the achieved sampling rate, and the zero levels; or the contact switch),
the buzzer and LEDs, the display (SDL KMS/DRM) and disk space. While the kiosk runs it holds
the camera, GPIO and display: those checks then say 'in use' (stop it first for a full check).
Devices named by --simulate are reported as simulated and not checked.

Exit status: 0 every required part works (warnings allowed); 1 a required part is missing
or broken (each is listed with its fix); 2 bad command-line usage."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "diag",
        help="check each part of the station and print the fix for anything wrong",
        description="Check each part of the station and print the fix for anything wrong.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--config",
        metavar="PATH",
        help="site config (default: $STATION_CONFIG or /etc/station/station.toml)",
    )
    p.add_argument(
        "--beep", action="store_true", help="sound the buzzer and light each LED in turn"
    )
    p.add_argument(
        "--simulate",
        metavar="DEVICES",
        default="",
        help="devices the station runs simulated (a comma list of mat, camera, gpio, or all; "
        "also STATION_SIMULATE): reported as simulated and not checked",
    )
    p.add_argument(
        "--framing-from",
        metavar="FILE",
        help="judge the camera's framing on this photo or video (e.g. taken from where the "
        "camera hangs) instead of the camera's own pictures",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_diag)


def _diag(args: argparse.Namespace) -> int:
    from station.diag.checks import Context
    from station.diag.report import exit_code, render_text, run_checks
    from station.hardware import parse_devices, simulated_devices

    listed = parse_devices(args.simulate) if args.simulate else frozenset()
    try:
        if listed is None:
            raise ValueError(f"--simulate {args.simulate!r}: expected a list of mat, camera, gpio")
        simulated = simulated_devices(listed)
    except ValueError as exc:
        print(f"station diag: {exc}", file=sys.stderr)
        return EXIT_USAGE
    config, config_path, problem = _load(args.config)
    say = (lambda _t: None) if args.json else (lambda t: print(t, file=sys.stderr, flush=True))
    ctx = Context(config, config_path, beep=args.beep, say=say, simulated=simulated)
    if args.framing_from:
        ctx.framing_from = Path(args.framing_from)
    checks = run_checks(ctx, problem)
    code = exit_code(checks)
    if args.json:
        report = {"exit_code": code, "checks": [c.to_dict() for c in checks]}
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(render_text(checks, code))
    return code


def _load(path: str | None) -> tuple[Any, Path, Any]:
    """The config to check against; a rejected file falls back to the defaults (as the
    station does) and is reported, never raised."""
    from station.config.loader import ConfigInvalid, build_config, load_config, site_config_path
    from station.config.sections import SCHEMA

    site = site_config_path(path)
    try:
        return load_config(path, required=bool(path)), site, None
    except ConfigInvalid as exc:
        return build_config(SCHEMA, []), site, exc
