"""`make pi-check`'s own machinery, without emulating anything: it skips loudly where it cannot
run, names the package pip could not install, picks its cached root by suite and age, never
deletes through a mount, and install.sh's --without-pi-os says what it leaves out.

The emulated run itself (minutes under qemu) is `make pi-check`, run by .ci/run after the
tests; its own negative control breaks the install with a dependency that has no aarch64
wheel and requires the failure to name it."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import REPO

from station.deploy.pi_check import (
    BROKEN_REQUIREMENT,
    ROOT_FORMAT,
    Places,
    apt_sources,
    cached_tarball,
    missing_wheel,
    mounts_under,
    pip_failure,
    remove_tree,
    tarball_name,
    wheel_requirements,
    write_simple_index,
)

# pip 23-25's words when an index has no wheel for this platform (and no sdist).
PIP_NO_WHEEL = f"""\
Processing /usr/src/station-broken
  Installing build dependencies: started
ERROR: Could not find a version that satisfies the requirement {BROKEN_REQUIREMENT} (from station[pi]) (from versions: none)
ERROR: No matching distribution found for {BROKEN_REQUIREMENT}
install.sh: pip could not install the station's Python packages
"""  # noqa: E501


# What pip said in an emulated root that did not trust this network's HTTPS-inspecting CA.
PIP_NO_INDEX = """\
  Could not fetch URL https://pypi.org/simple/setuptools/: There was a problem confirming the ssl certificate: HTTPSConnectionPool(host='pypi.org', port=443): Max retries exceeded with url: /simple/setuptools/ - skipping
  ERROR: Could not find a version that satisfies the requirement setuptools>=68 (from versions: none)
  ERROR: No matching distribution found for setuptools>=68
"""  # noqa: E501


def test_missing_wheel_is_named_from_pips_error() -> None:
    assert missing_wheel(PIP_NO_WHEEL) == BROKEN_REQUIREMENT
    assert missing_wheel("Successfully installed station-0.1.0\n") is None
    assert pip_failure(PIP_NO_WHEEL).endswith(f"no compiler to build one): {BROKEN_REQUIREMENT}")


def test_an_unreachable_index_is_not_blamed_on_a_missing_wheel() -> None:
    said = pip_failure(PIP_NO_INDEX)
    assert said.startswith("pip could not reach the package index")
    assert "ssl certificate" in said and "no wheel" not in said


def test_cached_root_is_the_newest_of_its_suite_within_a_week(tmp_path: Path) -> None:
    places = Places(tmp_path, tmp_path / "work")
    today = dt.date(2026, 11, 30)
    made = f"r{ROOT_FORMAT}"
    for name in (
        f"bookworm-arm64-{made}-20261120.tar.zst",  # 10 days: too old
        f"bookworm-arm64-{made}-20261125.tar.zst",
        f"bookworm-arm64-{made}-20261128.tar.zst",
        f"bookworm-arm64-r{ROOT_FORMAT - 1}-20261129.tar.zst",  # made the old way
        "bookworm-arm64-20261129.tar.zst",  # before the way was named
        f"trixie-arm64-{made}-20261129.tar.zst",  # another suite
        f"bookworm-arm64-{made}-20261128.tar.zst.partial",  # an interrupted write
    ):
        (tmp_path / name).write_bytes(b"")
    newest = cached_tarball(places, "bookworm", today)
    assert newest == tmp_path / tarball_name("bookworm", dt.date(2026, 11, 28))
    assert newest.name == f"bookworm-arm64-{made}-20261128.tar.zst"
    assert (
        cached_tarball(places, "trixie", today)
        == tmp_path / f"trixie-arm64-{made}-20261129.tar.zst"
    )
    assert cached_tarball(places, "bookworm", dt.date(2026, 12, 30)) is None


@pytest.mark.parametrize("suite", ["bookworm", "trixie"])
def test_a_root_gets_the_updates_and_security_archives(suite: str) -> None:
    """An installer's system has the release, -updates and the security archive: mmdebstrap
    installs from all three in one pass, and they stay in the root's sources.list."""
    lines = apt_sources(suite).splitlines()
    assert [line.split()[2] for line in lines] == [suite, f"{suite}-updates", f"{suite}-security"]
    assert lines[2].startswith("deb http://deb.debian.org/debian-security ")


def test_a_root_is_never_deleted_through_a_mount(tmp_path: Path) -> None:
    """A bind-mounted host folder inside a root is unmounted first, so it keeps its files."""
    if os.geteuid() != 0:
        pytest.skip("mounting needs root")
    host = tmp_path / "host-cache"
    host.mkdir()
    (host / "keep.whl").write_bytes(b"a cached wheel")
    root = tmp_path / "root"
    inside = root / "root/.cache/pip"
    inside.mkdir(parents=True)
    subprocess.run(["mount", "--bind", str(host), str(inside)], check=True)
    try:
        assert mounts_under(root) == [str(inside)]
        remove_tree(root)
    finally:
        if mounts_under(root):
            subprocess.run(["umount", str(inside)], check=False)
    assert not root.exists()
    assert (host / "keep.whl").read_bytes() == b"a cached wheel"


def _as_nobody() -> list[str]:
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to run the check as an ordinary user")
    return [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


@pytest.mark.parametrize("ci", ["", "true"])
def test_without_root_the_check_says_it_skipped(tmp_path: Path, ci: str) -> None:
    """Never a silent pass: the skip is said, and under CI=true it fails."""
    tmp_path.chmod(0o777)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PI_CHECK_CACHE": str(tmp_path),
        "HOME": str(tmp_path),
        "CI": ci,
    }
    done = subprocess.run(
        [*_as_nobody(), sys.executable, "-m", "station.deploy.pi_check"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )
    assert "[pi-check] SKIPPED: not root" in done.stdout, done.stdout + done.stderr
    assert "passed" not in done.stdout  # no summary that could read as a pass
    if ci:
        assert done.returncode == 1 and "must run, not skip" in done.stdout
    else:
        assert done.returncode == 0


def test_install_without_pi_os_says_what_it_skips_and_installs_the_rest() -> None:
    out = subprocess.run(
        ["bash", str(REPO / "install.sh"), "--without-pi-os", "--dry-run"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    said = out.stdout
    skipped = [line for line in said.splitlines() if line.startswith("==> skipped")]
    assert len(skipped) == 3, skipped
    for part in ("python3-picamera2", "python3-libcamera", "python3-lgpio", "firmware", "reboot"):
        assert any(part in line for line in skipped), part
    actions = [line for line in said.splitlines() if line.startswith("+ ")]
    assert not any("picamera2" in a or "python3-lgpio" in a for a in actions)
    (apt,) = [a for a in actions if a.startswith("+ apt-get install")]
    # OpenCV's wheel needs libGL and GLib, which Raspberry Pi OS Lite does not have.
    for package in ("libgl1", "libglib2.0-0", "python3-spidev", "python3-venv", "curl"):
        assert f" {package}" in apt, package
    # Everything else as on a Pi: the user, the venv, wheels only, the units.
    for step in (
        "+ systemd-sysusers /etc/sysusers.d/station.conf",
        "+ python3 -m venv --system-site-packages /opt/station/venv",
        "--only-binary=:all:",
        "+ systemctl enable station.service station-console.service",
    ):
        assert step in said, step


def test_a_pi_install_still_takes_pi_os_packages() -> None:
    out = subprocess.run(
        ["bash", str(REPO / "install.sh"), "--pi", "--dry-run"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "skipped" not in out.stdout
    assert "+ apt-get install -y python3-libcamera python3-lgpio" in out.stdout
    assert "libgl1 libglib2.0-0" in out.stdout


def test_a_venv_cut_short_is_made_anew(tmp_path: Path) -> None:
    """An install interrupted while creating the venv (power lost) left one that hides apt's
    packages; the next run must not take it as done."""
    root = tmp_path / "root"
    first = subprocess.run(
        ["bash", str(REPO / "install.sh"), "--prefix", str(root)], capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    cfg = root / "opt/station/venv/pyvenv.cfg"
    cfg.write_text(cfg.read_text().replace("= true", "= false"))
    again = subprocess.run(
        ["bash", str(REPO / "install.sh"), "--prefix", str(root)], capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    assert "venv already at" not in again.stdout
    assert f"+ rm -rf {root}/opt/station/venv" in again.stdout
    assert "include-system-site-packages = true" in cfg.read_text()


@pytest.mark.parametrize(
    ("python", "from_pypi"),
    [("3.11", True), ("3.12", True), ("3.13", False), ("3.14", False)],
)
def test_lgpio_comes_from_pypi_only_where_it_has_an_aarch64_wheel(
    python: str, from_pypi: bool
) -> None:
    """PyPI's lgpio has aarch64 wheels up to CPython 3.12 only (its sdist needs swig and a
    compiler, and install.sh takes wheels only); on Trixie's 3.13 apt's python3-lgpio is it."""
    from packaging.requirements import Requirement

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    on_a_pi = {"python_version": python, "platform_machine": "aarch64", "extra": "pi"}
    wanted = [
        req.name
        for req in map(Requirement, pyproject["project"]["optional-dependencies"]["pi"])
        if req.marker is None or req.marker.evaluate(on_a_pi)
    ]
    assert ("lgpio" in wanted) is from_pypi
    assert "spidev" in wanted  # from apt (python3-spidev) on every Python, seen by the venv
    # ... and a Pi install takes apt's python3-lgpio (test_a_pi_install_still_takes_pi_os_packages)


def test_a_time_limit_stops_the_check_as_failed_and_summarised(tmp_path: Path) -> None:
    """CI's guard: past --time-limit no suite starts another command, nothing stays mounted,
    and the summary says it stopped (a failure, never a pass)."""
    if os.geteuid() != 0 or not Path("/proc/sys/fs/binfmt_misc/qemu-aarch64").exists():
        pytest.skip("needs root and qemu-aarch64 registered with binfmt_misc")
    if not (REPO.parent / "shared/data/mediapipe/pose_test_image.jpg").is_file():
        pytest.skip("needs ../shared/data (MediaPipe's test image)")
    env = {**os.environ, "PI_CHECK_CACHE": str(tmp_path), "CI": ""}
    done = subprocess.run(
        [sys.executable, "-m", "station.deploy.pi_check", "--time-limit", "1"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED: stopped at the time limit (1 s)" in done.stdout
    assert "pi-check: 0 passed, 1 failed" in done.stdout
    for suite in ("bookworm", "trixie"):  # neither started its bootstrap
        assert f"{suite}: stopped after the check is stopping" in done.stdout
        assert not (tmp_path / "work" / suite / "root" / "usr").exists()
    assert not mounts_under(tmp_path)


@pytest.mark.parametrize("suite", ["bookworm", "trixie"])
def test_the_wheelhouse_asks_for_what_pip_in_that_root_will_want(suite: str) -> None:
    """The host's pip downloads for the root's Python on aarch64: markers evaluated for it,
    and nothing apt provides (spidev has no wheel at all)."""
    wanted = {
        r.split("[")[0].split("<")[0].split(">")[0].split("=")[0] for r in wheel_requirements(suite)
    }
    assert {"numpy", "mediapipe", "pygame-ce", "starlette", "setuptools"} <= wanted
    assert "spidev" not in wanted
    assert ("lgpio" in wanted) is (suite == "bookworm")  # PyPI's lgpio: no cp313 wheel
    pins = [r for r in wheel_requirements(suite) if r.startswith("mediapipe")]
    assert pins == (["mediapipe==0.10.18"] if suite == "bookworm" else ["mediapipe>=0.10.30"])
    assert not [r for r in wheel_requirements(suite) if ";" in r]


def test_the_assembled_task_model_runs_the_tasks_backend_like_the_legacy_one(
    tmp_path: Path,
) -> None:
    """pi-check's .task, made from mediapipe 0.10.18's two BlazePose models, loads in the
    Tasks PoseLandmarker, and on the first frame (a fresh detection) its landmarks are the
    legacy solution's on MediaPipe's test image."""
    import cv2
    import numpy as np

    from station.deploy.pi_check import assemble_task_model
    from station.pose.backends import LegacyPoseBackend, TasksPoseBackend

    image = REPO.parent / "shared/data/mediapipe/pose_test_image.jpg"
    if not image.is_file():
        pytest.skip("needs ../shared/data (MediaPipe's test image)")
    model = assemble_task_model(Places(tmp_path, tmp_path))
    rgb = cv2.cvtColor(cv2.imread(str(image)), cv2.COLOR_BGR2RGB)
    legacy = LegacyPoseBackend(static_image_mode=True).detect(rgb, 0.0)
    tasks = TasksPoseBackend(model).detect(rgb, 0.0)
    assert len(legacy) == 1 and len(tasks) == 1
    diff = np.abs(legacy[0].lm[:, :2] - tasks[0].lm[:, :2]).max()
    assert diff < 0.02, diff


def _wheel(folder: Path, dist: str, version: str) -> Path:
    """A minimal valid pure-Python wheel (what pip needs to read its metadata)."""
    import zipfile

    path = folder / f"{dist}-{version}-py3-none-any.whl"
    info = f"{dist}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as whl:
        whl.writestr(
            f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
        )
        whl.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        whl.writestr(f"{info}/RECORD", "")
    return path


def test_the_wheelhouse_is_an_index_pip_reads(tmp_path: Path) -> None:
    """pip (this venv's, offline) finds the wheelhouse's files through its simple index, by
    the normalised project name, with their sha256 checked."""
    house = tmp_path / "house"
    house.mkdir()
    _wheel(house, "demo_pkg", "1.0")
    write_simple_index(house)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--isolated",
            "--no-deps",
            "--index-url",
            (house / "simple").as_uri(),
            "--dest",
            str(tmp_path / "out"),
            "Demo.Pkg==1.0",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "out/demo_pkg-1.0-py3-none-any.whl").is_file()
    (house / "demo_pkg-1.0-py3-none-any.whl").write_bytes(b"tampered")
    tampered = subprocess.run(
        [*done.args[:-3], "--dest", str(tmp_path / "out2"), "Demo.Pkg==1.0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tampered.returncode != 0 and "HASHES" in tampered.stderr.upper()


def test_past_the_budget_a_step_is_skipped_said_and_counted() -> None:
    import time

    from station.deploy.pi_check import Report

    report = Report()
    assert not report.over_budget("anything")  # no --budget: nothing is skipped
    report.budget_end = time.monotonic() + 3600
    assert not report.over_budget("trixie: the rest")
    report.budget_end = time.monotonic() - 1
    assert report.over_budget("trixie: the rest")
    assert report.skipped == ["trixie: the rest"] and not report.passed


def test_a_crash_of_qemu_itself_is_not_proven_rather_than_passed_or_failed() -> None:
    """mediapipe 1.2.3's inference died in qemu-user 7.2 (SIGSEGV) on the Trixie root: that
    says nothing about a Pi either way, so such a crash is listed as not proven, with qemu's
    words."""
    from station.deploy.pi_check import Report

    report = Report()
    crashed = subprocess.CompletedProcess(
        ["station"], 139, "", "INFO: ...\nqemu: uncaught target signal 11 (Segmentation fault)"
    )
    assert report.unproven_under_qemu("trixie: one real inference (tasks)", crashed)
    assert report.unproven == [
        "trixie: one real inference (tasks): qemu: uncaught target signal 11 "
        "(Segmentation fault) (exit 139)"
    ]
    failed = subprocess.CompletedProcess(["station"], 2, "", "station: error: bad model")
    assert not report.unproven_under_qemu("bookworm: one real inference (legacy)", failed)
    assert not report.passed and not report.failed


def test_each_suite_is_emulated_as_a_pi_and_a_binfmt_rule_with_f_is_recognised(
    tmp_path: Path,
) -> None:
    """Bookworm runs as a Pi 4's core, Trixie as a Pi 5's (QEMU_CPU), never qemu's "max";
    an F rule (the kernel keeps the qemu it opened) is read from binfmt_misc's own format."""
    from station.deploy.pi_check import PI4_CPU, SUITE_CPU, SUITES, _binfmt_flags

    assert set(SUITE_CPU) == set(SUITES)
    assert (
        SUITE_CPU == {"bookworm": "cortex-a72", "trixie": "cortex-a76"} and PI4_CPU == "cortex-a72"
    )
    entry = tmp_path / "qemu-aarch64"
    entry.write_text(
        "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POF\n"
        "offset 0\nmagic 7f454c46\nmask ffffffff\n"
    )
    assert "F" in _binfmt_flags(entry)
    entry.write_text("enabled\ninterpreter /usr/bin/qemu-aarch64\nflags: P\noffset 0\n")
    assert "F" not in _binfmt_flags(entry)
