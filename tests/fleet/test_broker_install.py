"""`install.sh --with-broker` and the Mosquitto config it ships."""

from __future__ import annotations

import getpass
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

from fleet_helpers import connect
from loopback import free_port

REPO = Path(__file__).resolve().parents[2]


def test_with_broker_on_a_server_installs_only_the_broker() -> None:
    out = subprocess.run(
        ["bash", str(REPO / "install.sh"), "--with-broker", "--dry-run"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    actions = [line for line in out.stdout.splitlines() if line.startswith("+ ")]
    assert "+ apt-get install -y --no-install-recommends mosquitto mosquitto-clients" in actions
    assert any(a.endswith("/etc/mosquitto/station.acl") for a in actions)
    assert any(a.endswith("/etc/mosquitto/conf.d/station.conf") for a in actions)
    assert any("station.passwd" in a for a in actions)
    assert "+ systemctl restart mosquitto.service" in actions
    assert not any("venv" in a or "station.service" in a for a in actions)  # no station here


def test_the_shipped_broker_config_runs_with_the_shipped_acl(mosquitto, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """deploy/mosquitto/station.conf as Mosquitto reads it (only its paths and port moved to
    the test's folder): a station logs in and the ACL holds."""
    port = free_port()
    text = (REPO / "deploy/mosquitto/station.conf").read_text()
    text = text.replace("/etc/mosquitto/station.passwd", str(mosquitto.folder / "passwd"))
    text = text.replace("/etc/mosquitto/station.acl", str(REPO / "deploy/mosquitto/station.acl"))
    text = text.replace("listener 1883", f"listener {port} 127.0.0.1")
    conf = tmp_path / "station.conf"
    data = tmp_path / "data"
    data.mkdir()
    # Debian's mosquitto.conf gives the persistence folder; here the test's own
    conf.write_text(text + f"user {getpass.getuser()}\npersistence_location {data}/\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stderr=subprocess.PIPE)
    shipped = SimpleNamespace(host="127.0.0.1", port=port, users=mosquitto.users)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client = connect(shipped, "st-1")
                break
            except (OSError, AssertionError):
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr
                time.sleep(0.1)
        client.disconnect()
        client.loop_stop()
    finally:
        proc.terminate()
        proc.wait(10)
    assert (data / "mosquitto.db").exists()  # persistence is on: the broker saved on exit


def test_the_shipped_broker_config_loses_nothing() -> None:
    """The options that keep a gym's sessions: on disk, saved often, no queue cap (Mosquitto's
    default max_queued_messages drops QoS 1 messages past 1000 for an offline client)."""
    options = dict(
        line.split(None, 1)
        for line in (REPO / "deploy/mosquitto/station.conf").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert options["persistence"] == "true"
    assert 0 < int(options["autosave_interval"]) <= 60
    assert options["max_queued_messages"] == "0"
