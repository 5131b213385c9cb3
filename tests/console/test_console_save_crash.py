"""The site config file is never left half-written: a saving process killed at random moments
leaves either the old file or the new one, whole, with its comments."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from station.config.loader import load_config

SAVER = """
import sys
from pathlib import Path
from station.config.sections import SCHEMA
from station.console.sitefile import SiteConfigFile
site = SiteConfigFile(Path(sys.argv[1]), SCHEMA, Path(sys.argv[2]))
print("ready", flush=True)
i = int(sys.argv[3])  # each round starts elsewhere in the cycle of values
while True:
    i += 1
    version = site.remember_current()
    site.save({"presets.intermediate.back.warn": 10.0 + i % 2,
               "alerts.quiet_hours": ["22:00-06:00"] * (1 + i % 3)}, version, address="127.0.0.1")
    print("saved", flush=True)
"""

# A large block of comments makes each write take long enough to be interrupted.
COMMENTS = "".join(
    f"# line {i}: the installer's notes about this gym's station\n" for i in range(1000)
)
SITE = COMMENTS + "[presets.intermediate.back]\nwarn = 11.0\n"


def test_killed_mid_save_leaves_a_whole_valid_file(tmp_path: Path) -> None:
    site = tmp_path / "station.toml"
    site.write_text(SITE)
    rng = random.Random(7)
    seen_values = set()
    for _round in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(site), str(tmp_path / "state"), str(_round)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        assert proc.stdout.readline().strip() == "saved"  # then kill it somewhere later
        time.sleep(rng.uniform(0.0, 0.2))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        text = site.read_text()
        assert text.startswith(COMMENTS), "comments lost or file cut short"
        data = tomllib.loads(text)  # whole and parseable
        warn = data["presets"]["intermediate"]["back"]["warn"]
        assert warn in (10.0, 11.0)
        seen_values.add((warn, len(data.get("alerts", {}).get("quiet_hours", []))))
        load_config(site, required=True)  # and the station would accept it
    assert len(seen_values) > 1, "every kill found the same file: the test proved nothing"
