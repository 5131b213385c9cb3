"""`station config check|show|defaults`."""

from __future__ import annotations

import argparse
import json
import sys

from station.config.loader import (
    ConfigInvalid,
    load_config,
    load_config_or_report,
    site_config_path,
)
from station.config.render import render_defaults, toml_value
from station.config.schema import iter_keys


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "config",
        help="check or show the configuration",
        description="The station reads the packaged defaults, then the site's overrides in "
        "/etc/station/station.toml (or --config PATH, or $STATION_CONFIG).",
    )
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)

    check = csub.add_parser("check", help="validate a config file; exit 1 listing every error")
    check.add_argument("path", nargs="?", help="file to check (default: the site config)")
    check.set_defaults(func=_check)

    show = csub.add_parser("show", help="print the effective config and each value's origin")
    show.add_argument("--config", help="site config file (default: /etc/station/station.toml)")
    show.add_argument("--json", action="store_true", help="JSON: {key: {value, origin}}")
    show.set_defaults(func=_show)

    defaults = csub.add_parser(
        "defaults", help="print the documented default config (the source of config/station.toml)"
    )
    defaults.set_defaults(func=_defaults)


def _check(args: argparse.Namespace) -> int:
    path = site_config_path(args.path)
    try:
        load_config(path, required=True)
    except ConfigInvalid as exc:
        for err in exc.errors:
            print(err, file=sys.stderr)
        print(
            f"{path}: {len(exc.errors)} error(s); the station would keep its last good config",
            file=sys.stderr,
        )
        return 1
    print(f"{path}: OK")
    return 0


def _show(args: argparse.Namespace) -> int:
    from station.config.sections import SCHEMA

    cfg = load_config_or_report(args.config)
    if cfg is None:
        return 1
    paths = [p for p, _ in iter_keys(SCHEMA)]
    paths += sorted(set(cfg.origins) - set(paths))  # keys of trainer-named tables
    if args.json:
        out = {p: {"value": _plain(cfg.get(p)), "origin": cfg.origin(p)} for p in paths}
        print(json.dumps(out, indent=2))
        return 0
    width = max(len(p) for p in paths)
    for p in paths:
        print(f"{p:<{width}} = {toml_value(cfg.get(p)):<30} # {cfg.origin(p)}")
    return 0


def _defaults(_args: argparse.Namespace) -> int:
    from station.config.sections import SCHEMA

    sys.stdout.write(render_defaults(SCHEMA))
    return 0


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value
