"""The fleet tests' servers, in one place: a real Mosquitto (station.fleet.testbed.Mosquitto,
which `station bench fleet` uses too) started by the test on 127.0.0.1 with a random port and a
temporary folder, either with the shipped ACL (deploy/mosquitto/station.acl), a password per
user and optionally TLS (`mosquitto`, `mosquitto_tls`) or anonymous (`broker`); and a real
PostgreSQL cluster for the session (`postgres_cluster`, `pg_url`).

Needs Debian's `mosquitto` and `postgresql` packages (`.ci/run` installs them); skipped cleanly
on a developer's machine without them, a failure in CI.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fleet_helpers import make_certificates

from station.fleet.testbed import (
    Mosquitto,
    Postgres,
    TestbedError,
    TlsFiles,
    mosquitto_binary,
    postgres_bin,
)

# tests/conftest.py's helpers: this file is also named conftest, so `from conftest import`
# would find itself; load the root one by path instead (one copy of require_tool).
_spec = importlib.util.spec_from_file_location(
    "_tests_root_conftest", Path(__file__).resolve().parents[1] / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_root = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_root)
REPO: Path = _root.REPO
require_tool = _root.require_tool

ACL = REPO / "deploy" / "mosquitto" / "station.acl"

DEFAULT_USERS = {
    "fleet": "fleet-secret",
    "recorder": "recorder-secret",
    "intruder": "intruder-secret",
    **{f"st-{i}": f"st-{i}-secret" for i in range(1, 21)},
}
"""Who may log in: the console/fleet role, the recorder, a user with no role, stations
st-1…st-20 (a station's username is its station id, as the ACL expects)."""


def _servers_missing(why: str) -> None:
    """A server binary is not installed: skipped on a developer's machine, failed in CI."""
    if os.environ.get("CI"):
        pytest.fail(f"{why}; .ci/run should have installed it")
    pytest.skip(why)


def _mosquitto(folder: Path, **options: Any) -> Iterator[Mosquitto]:
    if mosquitto_binary() is None:
        _servers_missing("mosquitto is not installed")
    try:
        with Mosquitto(folder, **options) as server:
            yield server
    except TestbedError as exc:
        _servers_missing(str(exc))


# Saved after every change: a SIGKILLed broker keeps its retained messages and the sessions
# queued for the recorder (as a broker on a UPS would); the uplink's fault tests kill it.
_STATION_BROKER = {"users": DEFAULT_USERS, "acl": ACL, "autosave_interval": 1,
                   "autosave_on_changes": True}  # fmt: skip


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A running Mosquitto with the shipped ACL and DEFAULT_USERS; stopped after the test."""
    require_tool("mosquitto_passwd")
    yield from _mosquitto(tmp_path / "mosquitto", **_STATION_BROKER)


@pytest.fixture
def mosquitto_tls(tmp_path: Path) -> Iterator[Mosquitto]:
    """As :func:`mosquitto`, plus a TLS listener (``tls_port``) with a certificate of the gym's
    CA (``ca_file``)."""
    require_tool("mosquitto_passwd")
    require_tool("openssl")
    made = make_certificates(tmp_path / "tls")
    tls = TlsFiles(made["ca"], made["cert"], made["key"])
    yield from _mosquitto(tmp_path / "mosquitto", tls=tls, **_STATION_BROKER)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """An anonymous Mosquitto (the recorder's tests: any station id, no ACL)."""
    yield from _mosquitto(tmp_path / "broker")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Postgres]:
    if postgres_bin() is None:
        _servers_missing("PostgreSQL is not installed")
    with Postgres() as cluster:
        yield cluster


@pytest.fixture
def pg_url(postgres_cluster: Postgres) -> str:
    return postgres_cluster.create_database("fleet_" + uuid.uuid4().hex[:12])
