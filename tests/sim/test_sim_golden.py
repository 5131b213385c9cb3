"""Golden record of every packaged simulator script, end to end through the station.

For each script under station/sim/scripts this records what a member and a trainer get:
- the session summaries exactly as `station run --simulate SCRIPT --headless --fast --json`
  prints them (the wall-clock fields left out: they differ on every run),
- the lights timeline (each change of the five posture lights, on the station's clock),
- the alerts: every change of the buzzer (tone or silence) and of the per-fault LEDs, read
  back from gpiozero's MockFactory pins.

It is compared with tests/sim/golden/sim_scripts.json. Refactors (faults as specs, one force
model, ...) must leave it unchanged. If a change of behaviour is intended, regenerate it with
`STATION_GOLDEN_UPDATE=1 .venv/bin/pytest tests/sim/test_sim_golden.py` and say why in the
commit message.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from station.cli import main
from station.clock import ManualClock
from station.config.loader import ConfigStore
from station.hardware import select_hardware
from station.runtime.loop import run_fast
from station.runtime.station import Station
from station.sim.script import packaged_scripts
from station.storage.sessions import SessionLog

GOLDEN = Path(__file__).parent / "golden" / "sim_scripts.json"
UPDATE = os.environ.get("STATION_GOLDEN_UPDATE") == "1"
SEED = 0  # `station run`'s default --seed

# A tonal buzzer (a tone per fault) and one LED per fault record more of the alerts than the
# default active buzzer would; everything else is the packaged default config.
SITE = """
[alerts]
buzzer = "tonal"

[alerts.leds]
mode = "per_fault"
"""

WALL_CLOCK = ("started_at", "ended_at", "last_checkpoint_at")


def _cli_summaries(script: Path, site: Path, state: Path) -> list[dict[str, Any]]:
    """The summaries printed by the real command, run in-process."""
    out = io.StringIO()
    argv = ["run", "--config", str(site), "--simulate", str(script), "--headless", "--fast"]
    argv += ["--json", "--state-dir", str(state), "--seed", str(SEED)]
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    summaries: list[dict[str, Any]] = json.loads(out.getvalue())
    return [{k: v for k, v in s.items() if k not in WALL_CLOCK} for s in summaries]


def _timeline(script: Path, site: Path, state: Path) -> dict[str, list[Any]]:
    """The lights and the pins, change by change, over the same scripted session."""
    store = ConfigStore(site)
    assert store.problem is None, store.problem
    hardware = select_hardware(store.config, simulate=True, script=script, seed=SEED)
    station = Station(store, hardware, session_log=SessionLog.in_state_dir(state))
    lights: list[Any] = []
    buzzer: list[Any] = []
    leds: list[Any] = []
    last: dict[str, Any] = {"lights": None, "buzzer": None, "leds": {}}

    def on_frame(st: Station, now: float) -> None:
        t = round(now, 4)
        current = dict(st.live.lights)
        if current != last["lights"]:
            lights.append([t, current])
            last["lights"] = current
        device = st.outputs.buzzer
        sound = None
        if device is not None and device.is_active:
            sound = device.tone.note if device.tone is not None else "on"
        if sound != last["buzzer"]:
            buzzer.append([t, sound])
            last["buzzer"] = sound
        for name, led in st.outputs.leds.items():
            lit = bool(led.value)
            if lit != last["leds"].get(name, False):
                leds.append([t, name, lit])
                last["leds"][name] = lit

    sources = [s for s in (hardware.open_mat(), hardware.open_camera()) if s is not None]
    clock = ManualClock()
    fps = float(store.config["display"]["fps"])
    run_fast(station, sources, fps=fps, clock=clock, on_frame=on_frame)
    station.shutdown(clock.now())
    return {"lights": lights, "buzzer": buzzer, "leds": leds}


def _record(script: Path, tmp: Path) -> dict[str, Any]:
    site = tmp / "station.toml"
    site.write_text(SITE)
    return {
        "summaries": _cli_summaries(script, site, tmp / "cli-state"),
        **_timeline(script, site, tmp / "state"),
    }


@pytest.mark.parametrize("name", sorted(packaged_scripts()))
def test_simulator_script_matches_its_golden_record(name: str, tmp_path: Path) -> None:
    recorded = json.loads(json.dumps(_record(packaged_scripts()[name], tmp_path)))
    golden: dict[str, Any] = json.loads(GOLDEN.read_text()) if GOLDEN.is_file() else {}
    if UPDATE:
        golden[name] = recorded
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    assert name in golden, f"no golden record for {name}: run with STATION_GOLDEN_UPDATE=1"
    expected = golden[name]
    # field by field, so a failure names what changed rather than dumping everything
    for part in ("summaries", "lights", "buzzer", "leds"):
        assert recorded[part] == expected[part], f"{name}: {part} differ from the golden record"


def test_every_packaged_script_has_a_golden_record() -> None:
    golden = json.loads(GOLDEN.read_text())
    assert sorted(golden) == sorted(packaged_scripts())
    # a record that recorded nothing would pass vacuously
    for name, record in golden.items():
        assert record["summaries"] and record["lights"], name
    assert any(record["buzzer"] for record in golden.values())
    assert any(record["leds"] for record in golden.values())
