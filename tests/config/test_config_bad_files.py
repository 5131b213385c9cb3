"""Site files a clumsy trainer or a failing card can produce: each is a clear error naming the
file, never a traceback or a hang, and a running store keeps its last good config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from station.config.loader import ConfigInvalid, ConfigStore, load_config


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ConfigInvalid) as info:
        load_config(path, required=True)
    return [str(e) for e in info.value.errors]


def check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "station", "config", "check", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_a_latin1_byte_is_named_with_its_line_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_bytes("[session]\n# café\n".encode("latin-1"))
    (err,) = errors_of(path)
    assert "not UTF-8: byte 0xe9 at line 2, column 6" in err and "save the file as UTF-8" in err


def test_a_byte_order_mark_is_named(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_bytes(b"\xef\xbb\xbf[session]\n")
    (err,) = errors_of(path)
    assert "byte-order mark (BOM)" in err and "without BOM" in err


@pytest.mark.parametrize(
    "text",
    ["x = " + "[" * 100_000 + "]" * 100_000, "[camera]\nroi = " + "[" * 3000 + "]" * 3000],
    ids=["deep-array", "deep-known-key"],
)
def test_absurd_nesting_is_an_error_not_a_recursion_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "station.toml"
    path.write_text(text)
    (err,) = errors_of(path)
    assert "nested too deeply" in err


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    """Opening a FIFO for reading waits for a writer: the loader must not even wait."""
    fifo = tmp_path / "station.toml"
    os.mkfifo(fifo)
    done = check(fifo)  # the 60 s timeout is the hang detector
    assert done.returncode == 1 and "not a regular file" in done.stderr


def test_a_folder_or_a_huge_file_is_refused(tmp_path: Path) -> None:
    (err,) = errors_of(tmp_path)
    assert "not a regular file" in err
    big = tmp_path / "big.toml"
    big.write_text("# x\n" * 300_000)
    (err,) = errors_of(big)
    assert "too big for a config file" in err


def test_config_check_prints_a_clear_error_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_bytes(b"[session]\n# \xff\n")
    done = check(path)
    assert done.returncode == 1
    assert "not UTF-8" in done.stderr and "Traceback" not in done.stderr


def test_the_store_keeps_the_last_good_config_on_any_bad_file(tmp_path: Path) -> None:
    """What SIGHUP does: every kind of bad file is rejected, the running config stays."""
    path = tmp_path / "station.toml"
    path.write_text("[mat]\nsample_rate_hz = 2000\n")
    store = ConfigStore(path)
    assert store.problem is None
    bad_files = [
        "# café\n".encode("latin-1"),
        b"\xef\xbb\xbf[mat]\n",
        ("x = " + "[" * 100_000 + "]" * 100_000).encode(),
        b"[mat\n",
    ]
    for data in bad_files:
        path.write_bytes(data)
        assert store.reload() is False
        assert store.problem is not None
        assert store.config["mat"]["sample_rate_hz"] == 2000
    path.unlink()
    os.mkfifo(path)
    assert store.reload() is False and "not a regular file" in str(store.problem)
    assert store.config["mat"]["sample_rate_hz"] == 2000
