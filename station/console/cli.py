"""`station console serve|set-password`: the trainers' web console."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from station.config.loader import load_config_or_report, site_config_path
from station.console.settings import ConsoleSettings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "console",
        help="the trainers' web console",
        description="The trainers' web console: thresholds, presets, live tuning, alerts, mat "
        "and camera set-up, session history. Disabled until a password is set.",
    )
    csub = p.add_subparsers(dest="console_command", metavar="ACTION", required=True)

    serve = csub.add_parser(
        "serve",
        help="serve the console ([console] bind and port)",
        description="Serve the console over HTTPS ([console] tls_certificate, made by "
        "install.sh; plain HTTP with a warning when it is missing) on [console] bind:port. "
        "A broken site file does not stop it: its pages show the problem. It edits the site "
        "config file (--config, $STATION_CONFIG or /etc/station/station.toml) and asks the "
        "running station to reload it.",
    )
    serve.add_argument("--config", help="site config file (default: /etc/station/station.toml)")
    serve.add_argument("--bind", help="address to listen on (default: [console] bind)")
    serve.add_argument("--port", type=int, help="TCP port (default: [console] port)")
    serve.set_defaults(func=_serve)

    setpw = csub.add_parser(
        "set-password",
        help="set the trainers' password (enables the console)",
        description="Set the trainers' password. Stored only as a scrypt hash with a "
        "per-install salt in STATE_DIR/console-password (mode 0600). Setting a new password "
        "logs every trainer out.",
    )
    setpw.add_argument("--config", help="site config file (default: /etc/station/station.toml)")
    setpw.add_argument(
        "--stdin", action="store_true", help="read the password from the first line of stdin"
    )
    setpw.set_defaults(func=_set_password)


def _state_dir(config_arg: str | None) -> Path | None:
    from station.storage.paths import state_dir

    cfg = load_config_or_report(config_arg)
    if cfg is None:
        print("fix the config first (`station config check`)", file=sys.stderr)
        return None
    return state_dir(cfg.get("storage.state_dir"))


def _set_password(args: argparse.Namespace) -> int:
    from station.console.auth import MIN_PASSWORD_LEN, set_password

    folder = _state_dir(args.config)
    if folder is None:
        return 1
    if args.stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("New console password: ")
        if getpass.getpass("Again: ") != password:
            print("the two passwords differ; nothing changed", file=sys.stderr)
            return 1
    if len(password) < MIN_PASSWORD_LEN:
        print(f"a password needs at least {MIN_PASSWORD_LEN} characters", file=sys.stderr)
        return 1
    try:
        set_password(folder, password)
    except OSError as exc:
        print(f"cannot write to {folder}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"console password set (hash in {folder / 'console-password'}); the console is enabled")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from station.console.app import create_app
    from station.console.server import (
        BACKLOG,
        connection_cap,
        guarded_protocol,
        quiet_accept_errors,
    )

    site = site_config_path(args.config)
    folder, settings = _serve_settings(args.config)
    tls = _tls_files(settings)
    max_connections = connection_cap(settings.max_connections)
    quiet_accept_errors()
    app = create_app(site, folder, session_hours=settings.session_hours, https=tls is not None)
    uvicorn.run(
        app,
        host=args.bind or settings.bind,
        port=args.port or settings.port,
        log_level="info",
        proxy_headers=False,  # the client address in the audit log is the real peer
        server_header=False,
        http=guarded_protocol(max_connections, settings.request_head_s),
        backlog=BACKLOG,
        timeout_keep_alive=max(1, round(settings.keepalive_s)),
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
        # Live pages hold a stream open; a stop (systemctl stop, SIGTERM) must not wait on them.
        timeout_graceful_shutdown=3,
    )
    return 0


def _serve_settings(config_arg: str | None) -> tuple[Path, ConsoleSettings]:
    """The state folder and [console] settings. A broken site file does not stop the console
    (its pages show the problem, so a trainer can see what to fix): it then starts on the
    defaults for these settings, and says so loudly."""
    from station.config.loader import ConfigInvalid, build_config, load_config
    from station.config.sections import SCHEMA
    from station.storage.paths import state_dir

    try:
        cfg = load_config(config_arg, required=bool(config_arg))
    except ConfigInvalid as exc:
        for err in exc.errors:
            print(err, file=sys.stderr)
        print(
            "station console: the site config is broken; serving on the default [console] "
            "settings so its pages can show the problem (fix it: `station config check`)",
            file=sys.stderr,
        )
        cfg = build_config(SCHEMA, [])
    return state_dir(cfg.get("storage.state_dir")), ConsoleSettings.from_config(cfg)


def _tls_files(settings: ConsoleSettings) -> tuple[str, str] | None:
    """(certificate, key) when HTTPS is configured and both files are readable; else None
    (plain HTTP), with a loud warning when HTTPS was asked for but cannot be served."""
    cert, key = settings.tls_certificate, settings.tls_key
    if not cert:
        print("station console: plain HTTP ([console] tls_certificate is empty): passwords "
              "and cookies cross the network in clear", file=sys.stderr)  # fmt: skip
        return None
    missing = [p for p in (cert, key) if not os.access(p, os.R_OK)]
    if missing:
        print(f"station console: cannot read {', '.join(missing)}: serving PLAIN HTTP. Make "
              "the certificate with `sudo ./install.sh` (or set [console] tls_certificate "
              '= "" to choose plain HTTP on a trusted network)', file=sys.stderr)  # fmt: skip
        return None
    return cert, key
