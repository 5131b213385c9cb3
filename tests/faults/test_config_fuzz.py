"""Config fuzzing: bytes, encodings, nesting, types and sizes, through `config check`, the
reload a SIGHUP does, the console and a running station. Whatever the file holds: a clear
answer, no traceback, no hang, the last good config kept, the file never changed by reading it."""

from __future__ import annotations

import contextlib
import io
import math
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from faults_helpers import PASSWORD, Station, login, tally
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loopback import served

from station.cli import main as station_main
from station.config.loader import ConfigInvalid, ConfigStore, load_config
from station.config.schema import Key, iter_keys
from station.config.sections import SCHEMA
from station.console import auth
from station.console.app import create_app

GOOD = '[posture]\npreset = "intermediate"\n[presets.intermediate.back]\nwarn = 12.5\n'
KEYS = [(path, spec) for path, spec in iter_keys(SCHEMA) if isinstance(spec, Key)]


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


@st.composite
def typed_key(draw: st.DrawFn) -> bytes:
    """A real key with a value of any type: right, wrong, out of range, NaN, huge."""
    path, _spec = draw(st.sampled_from(KEYS))
    scalar = st.one_of(
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=40),
    )
    value = draw(st.one_of(scalar, st.lists(scalar, max_size=6)))
    table, _, name = path.rpartition(".")
    return f"[{table}]\n{name} = {_toml_value(value)}\n".encode()


@st.composite
def nested(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(min_value=1, max_value=200_000))
    kind = draw(st.sampled_from(["array", "inline-table", "known-key"]))
    if kind == "array":
        return ("x = " + "[" * depth + "]" * depth).encode()
    if kind == "inline-table":
        return ("x = " + "{a = " * depth + "1" + "}" * depth).encode()
    return ("[camera]\nroi = " + "[" * depth + "]" * depth).encode()


@st.composite
def encoded(draw: st.DrawFn) -> bytes:
    """A good file in another encoding, or with a stray byte."""
    text = GOOD + "# " + draw(st.text(max_size=30)) + "\n"
    encoding = draw(st.sampled_from(["latin-1", "utf-16", "utf-8-sig", "utf-32", "utf-8"]))
    data = text.encode(encoding, errors="replace")
    stray = draw(st.binary(min_size=0, max_size=3))
    at = draw(st.integers(min_value=0, max_value=len(data)))
    return data[:at] + stray + data[at:]


@st.composite
def sized(draw: st.DrawFn) -> bytes:
    lines = draw(st.integers(min_value=0, max_value=400_000))
    return (GOOD + "# padding\n" * lines).encode()


SITE_FILES = st.one_of(
    st.binary(max_size=3000), typed_key(), nested(), encoded(), sized(), st.just(GOOD.encode())
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    database=None,
    derandomize=True,  # the same examples in CI every run: a failure reproduces
)


def _expected(path: Path) -> bool:
    """Whether the loader accepts the file (the oracle's only input: the loader itself must
    never raise anything but ConfigInvalid)."""
    try:
        load_config(path, required=True)
    except ConfigInvalid:
        return False
    return True


@FUZZ
@given(data=SITE_FILES)
def test_config_check_answers_every_file(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "station.toml"
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = station_main(["config", "check", str(path)])  # a traceback fails the test here
    tally(traceback="Traceback" in err.getvalue(), config_changed=path.read_bytes() != data)
    assert code == (0 if _expected(path) else 1)
    assert ("OK" in out.getvalue()) == (code == 0)
    assert code == 0 or "error(s)" in err.getvalue()


@FUZZ
@given(data=SITE_FILES)
def test_a_reload_keeps_the_last_good_config(tmp_path: Path, data: bytes) -> None:
    """What SIGHUP runs: never raises; a rejected file leaves the running config as it was."""
    path = tmp_path / "station.toml"
    path.write_text(GOOD)
    store = ConfigStore(path)
    before = store.config
    path.write_bytes(data)
    accepted = store.reload()
    tally()
    assert accepted == _expected(path)
    if not accepted:
        assert store.config is before and store.problem is not None


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Path]]:
    """One console for all examples (a login costs a scrypt check)."""
    folder = tmp_path_factory.mktemp("console")
    site = folder / "station.toml"
    site.write_text(GOOD)
    auth.set_password(folder / "state", PASSWORD)
    with (
        served(create_app(site, folder / "state")) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        login(client)
        yield client, site


@FUZZ
@given(data=SITE_FILES)
def test_the_console_shows_every_file_without_a_500(
    console: tuple[httpx.Client, Path], data: bytes
) -> None:
    client, site = console
    site.write_bytes(data)
    good = _expected(site)
    statuses = [client.get(page).status_code for page in ("/thresholds", "/alerts", "/camera")]
    tally(config_changed=site.read_bytes() != data, traceback=500 in statuses)
    assert set(statuses) == ({200} if good else {503}), statuses


def test_a_running_station_survives_fuzzed_reloads(tmp_path: Path) -> None:
    """Bad files and SIGHUPs at a running kiosk: it keeps counting on its last good config."""
    examples = st.lists(SITE_FILES, min_size=12, max_size=12)
    files: list[bytes] = []

    @settings(max_examples=1, database=None, derandomize=True, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(examples)
    def draw(drawn: list[bytes]) -> None:
        files[:] = drawn

    draw()
    station = Station(tmp_path)
    # `station run` with a site file it cannot even decode: it runs on the defaults, and the
    # trainer notice says why.
    station.site.write_bytes("[session]\n# café\n".encode("latin-1"))
    with contextlib.closing(station.start()):
        station.counting(timeout_s=90)
        problem = station.status().config_problem or ""  # type: ignore[union-attr]
        assert problem.startswith("Config error in station.toml"), problem
        for data in files:
            station.site.write_bytes(data)
            station.proc.send_signal(signal.SIGHUP)  # type: ignore[union-attr]
            threading.Event().wait(0.3)
            assert station.alive(), station.log()[-3000:]
        station.site.write_text(GOOD)
        station.proc.send_signal(signal.SIGHUP)  # type: ignore[union-attr]
        station.wait_for("the notice to go", lambda: not station.status().config_problem)  # type: ignore[union-attr]
        station.counting(timeout_s=90)
        log = station.log()
    tally(probes=len(files), traceback=station.tracebacks() > 0)
    assert station.tracebacks() == 0, log[-3000:]
    assert "reload on SIGHUP" in log
