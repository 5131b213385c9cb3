"""`station sessions`: export the session log."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import date
from pathlib import Path

from station.config.loader import load_config_or_report


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sessions",
        help="export the session log",
        description="List the members' sessions from the session log (STATE_DIR/sessions.sqlite3; "
        "STATE_DIR is [storage] state_dir, or $STATION_STATE_DIR). Statistics only: no images, "
        "no identities. A session cut short by a power cut shows as 'interrupted' (or 'open' "
        "until the station next starts) with its last checkpoint.",
    )
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="a JSON list, one object per session")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row")
    p.add_argument(
        "--since", type=_date, metavar="DATE", help="only sessions from DATE (YYYY-MM-DD)"
    )
    p.add_argument("--config", help="site config file (default: /etc/station/station.toml)")
    p.add_argument("--state-dir", help="read STATE_DIR/sessions.sqlite3 from here instead")
    p.set_defaults(func=_sessions)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-05-31") from None


def _sessions(args: argparse.Namespace) -> int:
    from station.storage.paths import SESSIONS_DB, state_dir
    from station.storage.sessions import CSV_FIELDS, SessionLog

    if args.state_dir:
        folder = Path(args.state_dir)
    else:
        cfg = load_config_or_report(args.config)
        if cfg is None:
            return 1
        folder = state_dir(cfg.get("storage.state_dir"))
    if not (folder / SESSIONS_DB).exists():
        print(f"no session log at {folder / SESSIONS_DB}", file=sys.stderr)
        return 1
    with SessionLog.in_state_dir(folder) as db:
        records = db.sessions(since=args.since)
    if args.json:
        json.dump([r.to_dict() for r in records], sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(r.csv_row() for r in records)
    else:
        print(
            f"{'id':>5}  {'started (UTC)':<19}  {'status':<11} {'min:s':>6} {'jumps':>6}  top fault"
        )
        for r in records:
            d = r.to_dict()
            mins, secs = divmod(int(r.duration_s), 60)
            started = (d["started_at"] or "")[:19].replace("T", " ")
            top = d["top_fault"] or "-"
            print(
                f"{r.id:>5}  {started:<19}  {r.status:<11} {mins:>3}:{secs:02d} {r.jumps:>6}  {top}"
            )
        print(f"{len(records)} session(s)", file=sys.stderr)
    return 0
