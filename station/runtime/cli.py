"""`station run`: the kiosk on the configured hardware, or the simulated jumper."""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports its rooms lazily: `station --help` stays fast
    from station.config.loader import Config, ConfigStore
    from station.hardware import Hardware
    from station.members.desk import MemberDesk
    from station.storage.outbox import ConsumerGroup
    from station.storage.resilient import ResilientLog

log = logging.getLogger(__name__)

EXIT_USAGE = 2
EXIT_HARDWARE = 3


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="run the station (the kiosk, or --simulate)",
        description="Run the station: the mat counts, the camera judges posture, the screen "
        "coaches. Under systemd it reports READY/WATCHDOG; SIGHUP reloads the config (a "
        "broken file keeps the last good one), SIGTERM saves the session and stops.",
        epilog="A broken or missing config file does not stop the station: it runs on the last "
        "good config (the defaults at start), logs each error with its key path and shows a "
        "trainer notice. Exit status: 0 stopped normally, 2 bad usage, 3 hardware "
        "missing (the message names the device and the fix).",
    )
    p.add_argument(
        "--config",
        metavar="PATH",
        help="site config (default: $STATION_CONFIG or /etc/station/station.toml)",
    )
    p.add_argument(
        "--simulate",
        nargs="?",
        const="",
        metavar="DEVICES|SCRIPT",
        help="simulated hardware (also STATION_SIMULATE=1). Alone or with SCRIPT (a simulator "
        "TOML file; default: each fault in turn, then step off): every device simulated. With "
        "a comma list of mat, camera, gpio (e.g. `--simulate mat,gpio`, or STATION_SIMULATE="
        "mat,gpio): only those, the others as the config says",
    )
    p.add_argument("--seed", type=int, default=0, help="simulator seed (default: %(default)s)")
    p.add_argument(
        "--windowed", action="store_true", help="a window instead of full screen (a laptop)"
    )
    p.add_argument("--headless", action="store_true", help="no screen at all")
    p.add_argument(
        "--fast",
        action="store_true",
        help="with --simulate: run as fast as the CPU allows (implies --headless)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="at the end, print the session summaries exactly as logged (JSON list)",
    )
    p.add_argument(
        "--state-dir",
        metavar="DIR",
        help="session log and live status (default: $STATION_STATE_DIR, else "
        "storage.state_dir; with --simulate ~/.local/state/station-sim, and a temporary "
        "folder with --fast)",
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from station.config.loader import ConfigStore
    from station.hardware import HardwareMissing, select_hardware

    store = ConfigStore(args.config, required=bool(args.config))
    if store.problem is not None:
        log.error("running on the last good config (the defaults) because: %s", store.problem)
    try:
        simulated, script = _simulation(args.simulate)
        if args.fast and not {"mat", "camera"} <= simulated:
            print("station run: --fast needs --simulate (mat and camera)", file=sys.stderr)
            return EXIT_USAGE
        hardware = select_hardware(store.config, simulate=simulated, script=script, seed=args.seed)
    except ValueError as exc:
        print(f"station run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except HardwareMissing as exc:
        print(f"station run: {exc}", file=sys.stderr)
        return EXIT_HARDWARE
    simulate = hardware.simulate
    for role in hardware.roles():
        log.info("device %s", role)
    with tempfile.TemporaryDirectory(prefix="station-") as scratch:
        state_dir = _state_dir(args, store.config, scratch if args.fast else None, simulate)
        try:
            if args.fast:
                summaries = _run_fast(store, hardware, state_dir)
            else:
                summaries = _run_live(store, hardware, state_dir, args)
        except HardwareMissing as exc:  # e.g. no screen for SDL to open
            print(f"station run: {exc}", file=sys.stderr)
            return EXIT_HARDWARE
    if args.json:
        print(json.dumps(summaries, indent=2))
    return 0


def _simulation(value: str | None) -> tuple[frozenset[str], Path | None]:
    """--simulate's value: nothing (not given), "" or a script path (everything simulated),
    or a list of device names (only those). The environment is added by select_hardware."""
    from station.hardware import DEVICES, parse_devices, simulated_devices

    if value is None:
        return simulated_devices(False), None
    devices = parse_devices(value)
    if devices is not None:
        return simulated_devices(devices), None
    return frozenset(DEVICES), Path(value) if value else None


def _state_dir(
    args: argparse.Namespace, config: Config, scratch: str | None, simulate: bool
) -> Path:
    """--state-dir, else $STATION_STATE_DIR; else a scratch folder for --fast, the user's own
    folder for a live simulation (a demo must not mix with the gym's real sessions, and a
    laptop user cannot write /var/lib), and storage.state_dir for the real station."""
    import os

    from station.hardware import pi_model
    from station.storage.paths import state_dir

    if args.state_dir:
        return Path(args.state_dir)
    if os.environ.get("STATION_STATE_DIR"):
        return state_dir()
    if scratch is not None:
        return Path(scratch)
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    if simulate:
        return base / "station-sim"
    configured = state_dir(config["storage"]["state_dir"])
    if pi_model() is None and not _writable(configured):
        # a laptop or a mini PC tried by hand: /var/lib is root's; said, not silent
        log.warning("%s is not writable here: logging sessions in %s", configured, base / "station")
        return base / "station"
    return configured


def _writable(folder: Path) -> bool:
    """Could this user create or write `folder` (checked without creating anything)?"""
    import os

    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)


def _open_log(state_dir: Path) -> ResilientLog:
    from station.storage.resilient import ResilientLog

    # A read-only, full or damaged state folder degrades (a trainer notice), never stops us.
    session_log = ResilientLog(state_dir)
    interrupted = session_log.close_interrupted()
    if interrupted:
        log.warning(
            "sessions %s were interrupted (power cut or crash); their last checkpoint is kept",
            interrupted,
        )
    return session_log


def _open_members(state_dir: Path, store: ConfigStore) -> MemberDesk | None:
    """Take-home links and personal codes ([members]); None when the database cannot be
    opened: the station runs without them rather than not at all."""
    from station.members.desk import MemberDesk
    from station.members.settings import MembersSettings

    try:
        return MemberDesk.in_state_dir(state_dir, MembersSettings.from_config(store.config))
    except (OSError, sqlite3.Error) as exc:
        # the state folder's own trouble (read-only, full, damaged): the session log's notice
        # already names it and its fix; a traceback here would only repeat it
        log.error("members: cannot open the members' database (%s); running without it", exc)
        return None
    except Exception:
        log.exception("members: cannot open the members' database; running without it")
        return None


def _consumers(
    session_log: ResilientLog, store: ConfigStore, members: MemberDesk | None
) -> ConsumerGroup:
    """The registered session consumers this config enables, each in its own thread, fed
    from the session log (the outbox): nothing but the log write happens on the UI thread."""
    import station.members.pages  # noqa: F401  (registers the "members" consumer)
    from station.storage.outbox import ConsumerGroup

    services = {"members": members} if members is not None else {}
    return ConsumerGroup.for_config(session_log.path, store.config, services)


CONSUMERS_DRAIN_S = 30.0
"""A replay's end waits this long at most for its consumers to take every session."""


def _run_fast(store: ConfigStore, hardware: Hardware, state_dir: Path) -> list[dict[str, Any]]:
    from station.clock import ManualClock
    from station.runtime.loop import run_fast
    from station.runtime.station import Station

    session_log = _open_log(state_dir)
    members = _open_members(state_dir, store)
    consumers = _consumers(session_log, store, members)
    station = Station(
        store,
        hardware,
        session_log=session_log,
        consumers=consumers,
        members=members,
    )
    sources = [s for s in (hardware.open_mat(), hardware.open_camera()) if s is not None]
    clock = ManualClock()
    consumers.start()
    try:
        run_fast(station, sources, fps=float(store.config["display"]["fps"]), clock=clock)
        # a session still open when the replay gives up ends where the replay ended, not at 0
        station.shutdown(clock.now())
    finally:
        consumers.stop(drain_s=CONSUMERS_DRAIN_S)
    return station.summaries


def _run_live(
    store: ConfigStore, hardware: Hardware, state_dir: Path, args: argparse.Namespace
) -> list[dict[str, Any]]:
    from station.clock import MonotonicClock, OffsetClock
    from station.runtime.loop import run_live
    from station.runtime.station import Station
    from station.service.notify import Notifier
    from station.storage.live import (
        CommandPoller,
        LiveStatusWriter,
        remove_pid_file,
        write_pid_file,
    )

    clock = OffsetClock() if hardware.simulate else MonotonicClock()
    hardware.clock = clock  # simulated sources pace themselves in real time
    session_log = _open_log(state_dir)
    members = _open_members(state_dir, store)
    consumers = _consumers(session_log, store, members)
    station = Station(
        store,
        hardware,
        session_log=session_log,
        consumers=consumers,
        keep_summaries=args.json,
        members=members,
    )
    openers = [("mat", hardware.open_mat), ("camera", hardware.open_camera)]
    display = None
    if not args.headless:
        from station.display.app import Display

        display = Display()
        display.open(store.config["display"], windowed=args.windowed)  # HardwareMissing
    write_pid_file(state_dir)
    consumers.start()
    try:
        run_live(
            station,
            openers,
            clock,
            fps=float(store.config["display"]["fps"]),
            display=display,
            notifier=Notifier.from_env(),
            live_writer=LiveStatusWriter(state_dir),
            commands=CommandPoller(state_dir),
        )
    finally:
        consumers.stop()  # whatever they have not taken waits in the log for the next start
        remove_pid_file(state_dir)
        if display is not None:
            display.close()
    return station.summaries
