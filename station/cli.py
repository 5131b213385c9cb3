"""The `station` command. Each subcommand lives in its room's `cli.py`, which registers its
own parser; those modules import heavy or Pi-only libraries inside functions only, so
`station --help` stays fast and works on any machine."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from station import __version__
from station.log import setup_logging

# (subcommand, module that registers it). Order is the order --help lists them.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("run", "station.runtime.cli"),
    ("analyze", "station.analysis.cli"),
    ("mat", "station.mat.cli"),
    ("config", "station.config.cli"),
    ("diag", "station.diag.cli"),
    ("bench", "station.bench.cli"),
    ("screenshot", "station.display.cli"),
    ("sessions", "station.storage.cli"),
    ("console", "station.console.cli"),
    ("uplink", "station.fleet.uplink"),
    ("fleet", "station.fleet.cli"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="station",
        description="Jump-rope coaching station: the mat counts jumps, the camera judges posture.",
    )
    parser.add_argument("--version", action="version", version=f"station {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more log output on stderr (-v info, -vv debug)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for _name, module in COMMANDS:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        code = args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `station config show | head` is fine
        sys.stderr.close()
        return 0
    return int(code or 0)
