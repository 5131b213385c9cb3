"""station-uplink.service: systemd-analyze verify accepts it, its command lines are the
station's, it alone has network sockets, and its ExecCondition skips a disabled uplink."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from station.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "station-uplink.service"


def _directive(unit: Path, name: str) -> list[str]:
    return [
        line.split("=", 1)[1]
        for line in unit.read_text().splitlines()
        if line.startswith(f"{name}=")
    ]


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed")
    root = tmp_path / "root"
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(UNIT, root / "etc/systemd/system" / UNIT.name)
    program = root / "opt/station/venv/bin/station"
    program.parent.mkdir(parents=True)
    # the real command where the unit wants it (copied: --root resolves links inside the tree)
    shutil.copy(REPO / ".venv/bin/station", program)
    out = subprocess.run(
        [analyze, "verify", f"--root={root}", f"/etc/systemd/system/{UNIT.name}"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(), (
        out.stdout + out.stderr
    )


def test_only_the_uplink_gets_network_sockets() -> None:
    families = set(_directive(UNIT, "RestrictAddressFamilies")[0].split())
    assert {"AF_INET", "AF_INET6"} <= families
    kiosk = set(_directive(REPO / "systemd/station.service", "RestrictAddressFamilies")[0].split())
    assert not kiosk & {"AF_INET", "AF_INET6", "AF_PACKET"}


def test_the_units_command_lines_are_the_station_cli() -> None:
    for line in (*_directive(UNIT, "ExecStart"), *_directive(UNIT, "ExecCondition")):
        program, *args = shlex.split(line)
        assert program == "/opt/station/venv/bin/station"
        parsed = build_parser().parse_args(args)
        assert parsed.config == "/etc/station/station.toml" and callable(parsed.func)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("", 1),  # disabled: systemd skips the unit quietly
        ('[uplink]\nenabled = true\nbroker = "mqtt://h"\nsite = "g"\nstation_id = "s"\n', 0),
        ("[uplink]\nenabled = true\n", 255),  # incomplete: the unit fails, visibly
    ],
)
def test_exec_condition(tmp_path: Path, body: str, status: int) -> None:
    config = tmp_path / "station.toml"
    config.write_text(body)
    done = subprocess.run(
        [sys.executable, "-m", "station", "uplink", "--config", str(config), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == status, done.stderr


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2026-05-28T12:00:00.000+00:00", True),
        ("2026-05-28T14:00:00+02:00", True),
        ("2026-05-28T12:00:00", False),  # no zone: not comparable across consoles
        ("noon", False),
    ],
)
def test_issued_at_must_be_a_zoned_iso_time(tmp_path: Path, text: str, ok: bool) -> None:
    """An unreadable issued_at rejects the change by its key and changes nothing."""
    from station.config.sections import SCHEMA
    from station.console.sitefile import SiteConfigFile
    from station.fleet.uplink import apply_config_set, issued_at

    config = tmp_path / "station.toml"
    config.write_text("")
    site_file = SiteConfigFile(config, SCHEMA, tmp_path)
    payload = {"change_id": "c1", "layer": {"session": {"summary_s": 9.0}}, "issued_at": text}
    assert (issued_at(payload) is not None) == ok
    answer = apply_config_set(payload, site_file, SCHEMA, address="test", reload=lambda: None)
    assert answer["ok"] == ok
    if not ok:
        assert [e["key"] for e in answer["errors"]] == ["issued_at"]
        assert config.read_text() == ""
