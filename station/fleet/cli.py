"""`station fleet`: the gym side of the fleet: `record` (the subscriber that fills the fleet
database) and `status` (every station at a glance, from that database)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from station.fleet.settings import BROKER_FORMS, read_password

if TYPE_CHECKING:
    from station.config.loader import Config
    from station.fleet.recorder import Broker

LIVE_FRESH_S = 10.0
"""Live progress older than this is not shown as live (a station sends it at 1-2 Hz)."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "fleet",
        help="the gym's view of its stations (record sessions, show status)",
        description="Many stations, one gym: the recorder that stores every station's sessions "
        "from the MQTT broker, and the stations' status. See docs/fleet-recorder.md.",
    )
    fleet = p.add_subparsers(dest="fleet_command", metavar="ACTION", required=True)

    rec = fleet.add_parser(
        "record",
        help="subscribe to the broker and store every station's sessions",
        description="Subscribes to station/v1/<site>/... (one site, or every site) and writes "
        "each session once into the fleet database, with each station's latest status, live "
        "progress and config answer. A message is acknowledged only once stored (persistent "
        "MQTT session, QoS 1): a stopped recorder or a full disk loses nothing the broker "
        "still holds. Exits 1 with the cause when the database cannot be written.",
    )
    _broker_args(rec)
    _db_arg(rec)
    rec.add_argument("--site", help="only this site (default: every site on the broker)")
    rec.add_argument(
        "--client-id",
        help="MQTT client id naming the recorder's persistent session on the broker "
        "(default: station-recorder-<site|all>); keep it the same across restarts",
    )
    rec.add_argument(
        "--home-assistant",
        nargs="?",
        const="homeassistant",
        metavar="PREFIX",
        help="publish Home Assistant MQTT discovery for each station's state and jumps today "
        "(discovery prefix, default: homeassistant)",
    )
    rec.set_defaults(func=_record)

    st = fleet.add_parser(
        "status",
        help="every station's state, live count, device health and jumps today",
        description="Reads the fleet database the recorder fills: each station's last status "
        "(idle, in a session, offline), its live count, its devices' health, its config "
        "version, and today's sessions and jumps as recorded.",
    )
    _db_arg(st)
    st.add_argument("--site", help="only this site")
    st.add_argument("--json", action="store_true", help="one JSON object per station, in a list")
    st.set_defaults(func=_status)


def _broker_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--broker",
        default="localhost",
        help=f"MQTT broker: {BROKER_FORMS} (default: %(default)s)",
    )
    p.add_argument("--username", help="broker user name")
    p.add_argument("--password-file", help="file holding the broker password (one line)")
    p.add_argument("--tls-ca", help="CA certificate of the gym's broker: connect with TLS")


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        help="fleet database: a SQLite file (one gym) or postgresql://USER@HOST/DB (a chain) "
        "(default: [fleet] db of the site config, /var/lib/station/fleet.sqlite3 unless set)",
    )
    p.add_argument("--config", help="site config file (default: /etc/station/station.toml)")


def _database(args: argparse.Namespace) -> str | None:
    """--db, else the site config's [fleet] db (None after reporting a broken config)."""
    if args.db:
        return str(args.db)
    from station.config.loader import load_config_or_report

    config = load_config_or_report(args.config)
    return None if config is None else str(config.get("fleet.db"))


def broker_from_args(args: argparse.Namespace) -> Broker:
    from station.fleet.recorder import Broker

    password = read_password(args.password_file or "", "--password-file")
    return Broker.parse(
        args.broker,
        username=args.username,
        password=password,
        tls_ca=Path(args.tls_ca) if args.tls_ca else None,
    )


def broker_from_config(config: Config) -> Broker:
    """The [fleet] broker settings (the console/fleet role) as a Broker."""
    from station.fleet.recorder import Broker

    section = config["fleet"]
    if not section["broker"]:
        raise ValueError("no broker set ([fleet] broker)")
    password = read_password(section["password_file"], "fleet.password_file")
    return Broker.parse(
        section["broker"],
        username=section["username"] or None,
        password=password,
        tls_ca=Path(section["tls_ca"]) if section["tls_ca"] else None,
    )


def _record(args: argparse.Namespace) -> int:
    from station.fleet.recorder import Recorder
    from station.fleet.wire import WireError

    db = _database(args)
    if db is None:
        return 1
    try:
        broker = broker_from_args(args)
        recorder = Recorder(
            db,
            broker,
            site=args.site,
            client_id=args.client_id,
            home_assistant=args.home_assistant,
        )
    except (ValueError, OSError, WireError) as exc:
        print(f"station fleet record: {exc}", file=sys.stderr)
        return 2

    def stop(_signum: int, _frame: Any) -> None:
        recorder.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return recorder.run()  # a failure is logged with its cause


def _status(args: argparse.Namespace) -> int:
    from station.fleet.store import FleetStore, StoreError

    db = _database(args)
    if db is None:
        return 1
    try:
        with FleetStore(db, readonly=True) as store:
            # One reading of the clock for both: "today" (local, as the store's day_range
            # cuts days) and the ages must not straddle a midnight between two readings.
            now = time.time()
            rows = station_rows(store, site=args.site, day=date.fromtimestamp(now), now=now)
    except StoreError as exc:
        print(f"station fleet status: {exc}", file=sys.stderr)
        return 1
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print_table(rows)
    return 0


def station_rows(store: Any, *, site: str | None, day: date, now: float) -> list[dict[str, Any]]:
    """One summary per station: what `station fleet status` and the Gym page show."""
    from station.fleet.store import day_range

    since, until = day_range(day)
    totals = store.per_station(site=site, since=since, until=until)
    rows = []
    for s in store.stations(site=site):
        status = s["status"] or {}
        state = status.get("state", "unknown")
        live = s["live"] or {}
        live_fresh = s["live_at"] is not None and now - s["live_at"] <= LIVE_FRESH_S
        day_totals = totals.get((s["site"], s["station_id"]), {})
        config = s["config_state"] or {}
        rows.append(
            {
                "site": s["site"],
                "station_id": s["station_id"],
                "state": state,
                "status_age_s": None if s["status_at"] is None else round(now - s["status_at"], 1),
                "live_jumps": live.get("jumps") if live_fresh and state == "in_session" else None,
                "devices": status.get("devices") or {},
                "config_version": status.get("config_version", config.get("config_version")),
                "config_ok": config.get("ok"),
                "config_change_id": config.get("change_id"),
                "config_errors": config.get("errors") or [],
                "software_version": status.get("software_version"),
                "sessions_today": int(day_totals.get("sessions", 0)),
                "jumps_today": int(day_totals.get("jumps", 0)),
                "jumps_today_station": status.get("jumps_today"),
            }
        )
    return rows


def devices_text(devices: dict[str, str]) -> str:
    if not devices:
        return "-"
    bad = {k: v for k, v in devices.items() if v in ("failed", "absent")}
    if not bad:
        return "ok (" + ", ".join(f"{k} {v}" for k, v in sorted(devices.items())) + ")"
    return ", ".join(f"{k} {v.upper()}" for k, v in sorted(bad.items()))


def print_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        print("no stations recorded yet", file=sys.stderr)
        return
    header = ("site", "station", "state", "live", "config", "today", "jumps", "devices")
    table = [header]
    for r in rows:
        table.append(
            (
                r["site"],
                r["station_id"],
                r["state"],
                "-" if r["live_jumps"] is None else str(r["live_jumps"]),
                str(r["config_version"] or "-")
                + ("" if r["config_ok"] is not False else " REJECTED"),
                str(r["sessions_today"]),
                str(r["jumps_today"]),
                devices_text(r["devices"]),
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
