from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.runtime.cli import _state_dir

CONFIG = build_config(SCHEMA, [])


def args(state_dir: str | None = None) -> argparse.Namespace:
    return argparse.Namespace(state_dir=state_dir)


def test_where_sessions_are_logged(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("STATION_STATE_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    # the real station: the configured state directory (a user who cannot write it, off a
    # Pi, is told and logs to their own folder: a laptop tried by hand)
    real = _state_dir(args(), CONFIG, None, simulate=False)
    writable = os.access("/var/lib/station" if Path("/var/lib/station").exists() else "/var/lib",
                         os.W_OK)  # fmt: skip
    assert real == (Path("/var/lib/station") if writable else tmp_path / "xdg" / "station")
    # a live simulation never mixes with the gym's real sessions
    assert _state_dir(args(), CONFIG, None, simulate=True) == tmp_path / "xdg" / "station-sim"
    # --fast: a scratch folder; --state-dir and the environment beat everything
    assert _state_dir(args(), CONFIG, "/scratch", simulate=True) == Path("/scratch")
    assert _state_dir(args("/x"), CONFIG, "/scratch", simulate=True) == Path("/x")
    monkeypatch.setenv("STATION_STATE_DIR", "/env")
    assert _state_dir(args(), CONFIG, "/scratch", simulate=True) == Path("/env")


def test_fast_needs_simulate() -> None:
    done = subprocess.run([sys.executable, "-m", "station", "run", "--fast", "--headless"],
                          capture_output=True, text=True, check=False, timeout=60)  # fmt: skip
    assert done.returncode == 2 and "--fast needs --simulate" in done.stderr


def test_missing_config_file_runs_on_defaults_and_says_so(tmp_path: Path) -> None:
    """A kiosk must come up even when its site file is gone: defaults, and a loud log line.
    A short member (10 s) rather than the default script's minutes: what is checked is the
    defaults and the message, and the count against the simulator's truth."""
    from station.sim.sources import ground_truth

    script = tmp_path / "short.toml"
    script.write_text(
        'name = "short"\n'
        + "".join(
            f'[[phase]]\nkind = "{kind}"\nduration_s = {seconds}\n'
            for kind, seconds in (("step_on", 1.0), ("stand", 2.5), ("jump", 6.0),
                                  ("step_off", 1.0), ("empty", 7.0))
        )
    )  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "station", "run", "--config", str(tmp_path / "nope.toml"),
         "--simulate", str(script), "--fast", "--json"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-1000:]
    assert "nope.toml" in done.stderr and "file not found" in done.stderr
    truth = ground_truth(script).jump_count
    assert truth > 5 and json.loads(done.stdout)[0]["jumps"] == truth  # counted exactly
