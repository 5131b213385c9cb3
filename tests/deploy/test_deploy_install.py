"""install.sh and the systemd files, run for real: shellcheck, `--prefix` installs (twice),
`--dry-run`, `--uninstall`/`--purge`, and `systemd-analyze verify` on the units as installed."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO, require_tool

INSTALL = REPO / "install.sh"
UNITS = ("station.service", "station-console.service")
TRAINER_EDIT = "sample_rate_hz = 2000  # the trainer's edit"


def install(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(INSTALL), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def snapshot(root: Path) -> dict[str, tuple[str, str]]:
    """Every path outside the venv: its mode and content hash (or link target)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("opt/station/venv/"):
            continue
        mode = stat.filemode(path.lstat().st_mode)
        if path.is_symlink():
            out[rel] = (mode, "-> " + os.readlink(path))
        elif path.is_file():
            out[rel] = (mode, hashlib.sha256(path.read_bytes()).hexdigest())
        else:
            out[rel] = (mode, "")
    return out


@dataclass
class Installed:
    root: Path
    first: dict[str, tuple[str, str]]
    second: dict[str, tuple[str, str]]
    outputs: list[str]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """Install into a prefix; a trainer edits the config; install again."""
    root = tmp_path_factory.mktemp("prefix") / "root"
    first_run = install("--prefix", root)
    assert first_run.returncode == 0, first_run.stderr
    first = snapshot(root)
    config = root / "etc/station/station.toml"
    text = config.read_text()
    assert text.count("# sample_rate_hz = 1000") == 1
    config.write_text(text.replace("# sample_rate_hz = 1000", TRAINER_EDIT))
    second_run = install("--prefix", root)
    assert second_run.returncode == 0, second_run.stderr
    yield Installed(root, first, snapshot(root), [first_run.stdout, second_run.stdout])


def copy_tree(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True)
    return dest


def test_install_sh_is_shellcheck_clean() -> None:
    shellcheck = require_tool("shellcheck")
    out = subprocess.run([shellcheck, str(INSTALL)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_prefix_install_lays_out_files_with_their_modes(installed: Installed) -> None:
    files = installed.second
    expected = {
        "etc/systemd/system/station.service": "-rw-r--r--",
        "etc/systemd/system/station-console.service": "-rw-r--r--",
        "etc/sysusers.d/station.conf": "-rw-r--r--",
        "etc/tmpfiles.d/station.conf": "-rw-r--r--",
        "etc/station": "drwxr-xr-x",
        "etc/station/station.toml": "-rw-r--r--",
        "var/lib/station": "drwxr-x---",
        "var/lib/station/models": "drwxr-x---",
        "run/station": "drwxr-x---",
        "opt/station": "drwxr-xr-x",
        "opt/station/README.md": "-rw-r--r--",
        "opt/station/station.defaults.toml": "-rw-r--r--",
        "usr/local/bin/station": "lrwxrwxrwx",
    }
    for rel, mode in expected.items():
        assert rel in files, f"{rel} not installed"
        assert files[rel][0] == mode, (rel, files[rel][0])
    assert files["usr/local/bin/station"][1] == "-> /opt/station/venv/bin/station"
    for unit in UNITS:
        installed_text = (installed.root / "etc/systemd/system" / unit).read_text()
        assert installed_text == (REPO / "systemd" / unit).read_text()
    # The venv runs the installed package: its `station` command answers.
    station = installed.root / "opt/station/venv/bin/station"
    assert station.is_file() and os.access(station, os.X_OK)
    venv_cfg = (installed.root / "opt/station/venv/pyvenv.cfg").read_text()
    assert "include-system-site-packages = true" in venv_cfg


def test_site_config_is_the_commented_defaults_and_valid(installed: Installed) -> None:
    text = (installed.root / "etc/station/station.toml").read_text()
    first_install_text = text.replace(TRAINER_EDIT, "# sample_rate_hz = 1000")
    data = tomllib.loads(first_install_text)
    # Sections only, no values: the packaged defaults stay in force until a trainer sets one.
    assert all(not _leaves(section) for section in data.values())
    assert "# sample_rate_hz = 1000" in first_install_text
    assert "GENERATED" not in first_install_text
    check = subprocess.run(
        [
            str(REPO / ".venv/bin/station"),
            "config",
            "check",
            str(installed.root / "etc/station/station.toml"),
        ],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


def _leaves(table: object) -> list[object]:
    if isinstance(table, dict):
        return [leaf for value in table.values() for leaf in _leaves(value)]
    return [table]


def test_second_install_changes_nothing_and_keeps_the_trainers_edit(installed: Installed) -> None:
    config = "etc/station/station.toml"
    assert installed.second.keys() == installed.first.keys()
    changed = {k for k in installed.first if installed.first[k] != installed.second[k]}
    assert changed == {config}  # only by the trainer's own edit
    assert TRAINER_EDIT in (installed.root / config).read_text()
    assert "keeping the existing" in installed.outputs[1]
    assert "venv already at" in installed.outputs[1]


def test_units_as_installed_pass_systemd_analyze_verify(
    installed: Installed, tmp_path: Path
) -> None:
    """Verified inside the prefix tree (`--root`), so ExecStart must name the installed
    /opt/station/venv/bin/station. The tree gets what any root has: systemd's own units and
    kill(1), which ExecReload uses."""
    analyze = require_tool("systemd-analyze")
    root = copy_tree(installed.root, tmp_path / "root")
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    kill = shutil.which("kill")
    assert kill, "kill(1) not found"
    shutil.copy(kill, root / "usr/bin/kill" if (root / "usr/bin").is_dir() else _mkbin(root))
    units = [f"/etc/systemd/system/{u}" for u in UNITS]
    out = subprocess.run(
        [analyze, "verify", f"--root={root}", *units], capture_output=True, text=True
    )
    assert out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(), (
        out.stdout + out.stderr
    )
    # The check has teeth: without the installed binary, verify fails.
    (root / "opt/station/venv/bin/station").unlink()
    out = subprocess.run(
        [analyze, "verify", f"--root={root}", units[0]], capture_output=True, text=True
    )
    assert out.returncode != 0 and "/opt/station/venv/bin/station" in out.stderr


def _mkbin(root: Path) -> Path:
    (root / "usr/bin").mkdir(parents=True)
    return root / "usr/bin/kill"


def test_sysusers_and_tmpfiles_create_the_user_groups_and_directories(tmp_path: Path) -> None:
    """systemd's own tools apply our files to an empty root, as on a Pi's first install."""
    sysusers = require_tool("systemd-sysusers")
    tmpfiles = require_tool("systemd-tmpfiles")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    conf = REPO / "systemd"
    out = subprocess.run(
        [sysusers, f"--root={root}", str(conf / "station.sysusers.conf")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    passwd = {
        line.split(":")[0]: line.split(":")
        for line in (root / "etc/passwd").read_text().splitlines()
    }
    assert passwd["station"][6] == "/usr/sbin/nologin"
    uid = int(passwd["station"][2])
    groups = {
        line.split(":")[0]: line.split(":")[3].split(",")
        for line in (root / "etc/group").read_text().splitlines()
    }
    for group in ("video", "gpio", "spi", "render", "input", "tty"):
        assert "station" in groups[group], group
    out = subprocess.run(
        [tmpfiles, f"--root={root}", "--create", str(conf / "station.tmpfiles.conf")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    for rel, mode in (
        ("var/lib/station", "drwxr-x---"),
        ("var/lib/station/models", "drwxr-x---"),
        ("run/station", "drwxr-x---"),
        ("etc/station", "drwxr-xr-x"),
    ):
        st = (root / rel).stat()
        assert (st.st_uid, stat.filemode(st.st_mode)) == (uid, mode), rel


def test_uninstall_keeps_config_and_sessions_and_purge_removes_them(
    installed: Installed, tmp_path: Path
) -> None:
    root = copy_tree(installed.root, tmp_path / "root")
    (root / "var/lib/station/sessions.sqlite3").write_bytes(b"session log")
    out = install("--prefix", root, "--uninstall")
    assert out.returncode == 0, out.stderr
    left = {p.relative_to(root).as_posix() for p in root.rglob("*") if not p.is_dir()}
    assert left == {"etc/station/station.toml", "var/lib/station/sessions.sqlite3"}
    assert TRAINER_EDIT in (root / "etc/station/station.toml").read_text()

    out = install("--prefix", root, "--uninstall", "--purge")
    assert out.returncode == 0, out.stderr
    assert not [p for p in root.rglob("*") if not p.is_dir()]
    assert not (root / "etc/station").exists() and not (root / "var/lib/station").exists()


def test_dry_run_prints_every_action_and_does_nothing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    out = install("--prefix", root, "--dry-run")
    assert out.returncode == 0, out.stderr
    assert not root.exists()
    actions = [line for line in out.stdout.splitlines() if line.startswith("+ ")]
    assert any("python3 -m venv --system-site-packages" in a for a in actions)
    assert any(a.startswith("+ write ") and "etc/station/station.toml" in a for a in actions)
    for unit in UNITS:
        assert any(f"etc/systemd/system/{unit}" in a for a in actions), unit


def test_dry_run_of_a_pi_install_lists_the_system_steps(tmp_path: Path) -> None:
    before = {p: p.exists() for p in (Path("/opt/station"), Path("/etc/station"))}
    out = install("--pi", "--dry-run")
    assert out.returncode == 0, out.stderr
    assert {p: p.exists() for p in before} == before  # nothing was done
    actions = out.stdout
    assert "+ apt-get install -y --no-install-recommends python3-picamera2" in actions
    for package in ("python3-libcamera", "python3-lgpio", "python3-spidev", "libgbm1"):
        assert package in actions, package
    assert "+ systemd-sysusers /etc/sysusers.d/station.conf" in actions
    assert "+ systemd-tmpfiles --create /etc/tmpfiles.d/station.conf" in actions
    assert "+ python3 -m venv --system-site-packages /opt/station/venv" in actions
    assert "+ systemctl enable station.service station-console.service" in actions
    assert "+ systemctl restart station.service station-console.service" in actions
    assert "+ systemctl disable getty@tty1.service" in actions


def test_dry_run_elsewhere_sets_up_the_dev_venv() -> None:
    if Path("/proc/device-tree/model").exists() and "Raspberry Pi" in Path(
        "/proc/device-tree/model"
    ).read_text(errors="replace"):
        pytest.skip("this is a Raspberry Pi")
    out = install("--dry-run")
    assert out.returncode == 0, out.stderr
    assert f"+ make -C {REPO} venv" in out.stdout


def test_bad_options_are_refused_with_a_message() -> None:
    out = install("--purge")
    assert out.returncode == 1 and "--purge only goes with --uninstall" in out.stderr
    out = install("--frobnicate")
    assert out.returncode == 1 and "unknown option '--frobnicate'" in out.stderr


def test_pose_model_download_is_checksum_verified(installed: Installed, tmp_path: Path) -> None:
    """With [pose] backend = "tasks" the model file is fetched and its sha256 checked; a file
    that does not match is refused and nothing lands."""
    root = copy_tree(installed.root, tmp_path / "root")
    config = root / "etc/station/station.toml"
    text = config.read_text()
    assert '# backend = "legacy"' in text
    text = text.replace('# backend = "legacy"', 'backend = "tasks"')
    text = text.replace("# task_model = ", 'task_model = "/var/lib/station/models/pose.task"\n# ')
    config.write_text(text)
    served = tmp_path / "mirror" / "pose.task"
    served.parent.mkdir()
    served.write_bytes(b"not really a model, but bytes with a known hash")
    good = hashlib.sha256(served.read_bytes()).hexdigest()
    target = root / "var/lib/station/models/pose.task"
    env = {"STATION_POSE_MODEL_URL": served.as_uri(), "STATION_POSE_MODEL_SHA256": "0" * 64}
    if not shutil.which("curl"):
        pytest.skip("curl not installed")

    refused = install("--prefix", root, env=env)
    assert refused.returncode == 1
    assert "does not match sha256" in refused.stderr
    assert not target.exists()
    assert not list(target.parent.glob(".model.*"))  # no half-downloaded leftovers

    accepted = install("--prefix", root, env={**env, "STATION_POSE_MODEL_SHA256": good})
    assert accepted.returncode == 0, accepted.stderr
    assert target.read_bytes() == served.read_bytes()
    again = install("--prefix", root, env={**env, "STATION_POSE_MODEL_SHA256": good})
    assert again.returncode == 0 and "checksum OK" in again.stdout


@pytest.mark.parametrize("unit", UNITS)
def test_each_units_command_line_is_accepted_by_the_station_cli(unit: str) -> None:
    """ExecStart must stay in step with the commands the runtime and console rooms define."""
    import shlex

    from station.cli import build_parser

    lines = (REPO / "systemd" / unit).read_text().splitlines()
    (exec_start,) = [line for line in lines if line.startswith("ExecStart=")]
    program, *args = shlex.split(exec_start.removeprefix("ExecStart="))
    assert program == "/opt/station/venv/bin/station"
    parsed = build_parser().parse_args(args)
    assert parsed.config == "/etc/station/station.toml"
    assert callable(parsed.func)


def _venv_with_mediapipe(tmp_path: Path, files: list[str] | None) -> Path:
    """A venv whose python sees a site folder holding mediapipe's pip record (its RECORD lists
    `files`), or no mediapipe at all (None): what install.sh reads to choose the backend."""
    venv = tmp_path / "venv"
    site = tmp_path / "site"
    (venv / "bin").mkdir(parents=True)
    site.mkdir()
    if files is not None:
        info = site / "mediapipe-0.10.99.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mediapipe\nVersion: 0.10.99\n")
        (info / "RECORD").write_text("".join(f"{f},,\n" for f in files))
    python = venv / "bin/python"
    python.write_text(f'#!/bin/sh\nPYTHONPATH={site} exec /usr/bin/python3 "$@"\n')
    python.chmod(0o755)
    return venv


def _backend_for(venv: Path) -> str:
    done = subprocess.run(
        ["bash", "-c", f'source "{INSTALL}"; VENV="{venv}"; pose_backend_for_venv'],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize(
    ("files", "backend"),
    [
        (["mediapipe/__init__.py", "mediapipe/python/solutions/pose.py"], "legacy"),
        (["mediapipe/__init__.py", "mediapipe/tasks/python/vision/pose_landmarker.py"], "tasks"),
        (None, "tasks"),
    ],
)
def test_install_names_the_backend_the_venvs_mediapipe_can_run(
    tmp_path: Path, files: list[str] | None, backend: str
) -> None:
    """mediapipe <= 0.10.21 has solutions.pose (legacy, its model bundled); newer ones (what
    pip resolves on Trixie's Python 3.13) have only the tasks API."""
    if sys.version_info >= (3, 13) or not Path("/usr/bin/python3").is_file():
        pytest.skip("needs a system python3 below 3.13 (above, the answer is always tasks)")
    probe = subprocess.run(
        ["/usr/bin/python3", "-c", "import sys; print(sys.version_info >= (3, 13))"],
        capture_output=True,
        text=True,
    )
    if probe.stdout.strip() != "False":
        pytest.skip("the system python3 is 3.13 or newer")
    assert _backend_for(_venv_with_mediapipe(tmp_path, files)) == backend


def test_a_site_config_for_the_tasks_backend_sets_it_and_stays_valid(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", "-c", f'source "{INSTALL}"; site_config_text tasks'],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    data = tomllib.loads(done.stdout)
    assert data["pose"] == {"backend": "tasks"}  # set; every other key stays commented out
    assert all(not _leaves(v) for k, v in data.items() if k != "pose")
    config = tmp_path / "station.toml"
    config.write_text(done.stdout)
    check = subprocess.run(
        [str(REPO / ".venv/bin/station"), "config", "check", str(config)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


# /proc/cpuinfo's first lines on a Pi 4 (Cortex-A72, ARMv8.0) and a Pi 5 (Cortex-A76, ARMv8.2),
# as their 64-bit kernels print them, and an x86-64 kernel's (no "Features" line).
PI4_CPUINFO = "processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\n"
PI5_CPUINFO = (
    "processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2"
    " crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\n"
)
X86_CPUINFO = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu vme de pse tsc msr\n"


@pytest.mark.parametrize(
    ("arch", "cpuinfo", "lacks"),
    [
        ("aarch64", PI4_CPUINFO, True),
        ("aarch64", PI5_CPUINFO, False),
        ("aarch64", X86_CPUINFO, False),  # no Features line: nothing known, not refused
        ("aarch64", None, False),  # no file at all
        ("x86_64", PI4_CPUINFO, False),
    ],
)
def test_a_cpu_without_lse_atomics_is_told_from_one_with_them(
    tmp_path: Path, arch: str, cpuinfo: str | None, lacks: bool
) -> None:
    path = tmp_path / "cpuinfo"
    if cpuinfo is not None:
        path.write_text(cpuinfo)
    done = subprocess.run(
        ["bash", "-c", f'source "{INSTALL}"; cpu_lacks_lse {arch} "{path}"'],
        capture_output=True,
        text=True,
    )
    assert done.returncode == (0 if lacks else 1), done.stderr


def _refusal(tmp_path: Path, files: list[str], cpuinfo: str) -> subprocess.CompletedProcess[str]:
    """install.sh's check after pip, on an aarch64 machine (`uname` is the hardware edge, so
    the test answers for it) with the given /proc/cpuinfo and a venv holding `files`."""
    venv = _venv_with_mediapipe(tmp_path, files)
    info = tmp_path / "cpuinfo"
    info.write_text(cpuinfo)
    script = (
        f'source "{INSTALL}"; VENV="{venv}"; DRY_RUN=0; uname() {{ echo aarch64; }}; '
        f'refuse_a_pose_wheel_this_cpu_cannot_run "{info}"; echo carried on'
    )
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True)


TASKS_ONLY = ["mediapipe/__init__.py", "mediapipe/tasks/python/vision/pose_landmarker.py"]
WITH_LEGACY = ["mediapipe/__init__.py", "mediapipe/python/solutions/pose.py"]


def test_a_pi4_with_a_tasks_only_mediapipe_stops_the_install_naming_the_fix(
    tmp_path: Path,
) -> None:
    """mediapipe 1.2.3's aarch64 wheel (Python 3.13) dies with SIGILL on a Cortex-A72 when its
    model loads (make pi-check's FINDING line): the install stops and names Bookworm."""
    if not Path("/usr/bin/python3").is_file():
        pytest.skip("needs a system python3 for the venv's stand-in")
    done = _refusal(tmp_path, TASKS_ONLY, PI4_CPUINFO)
    assert done.returncode == 1
    assert "carried on" not in done.stdout
    assert "LSE atomics" in done.stderr and "Bookworm" in done.stderr


@pytest.mark.parametrize(
    ("files", "cpuinfo"),
    [(TASKS_ONLY, PI5_CPUINFO), (WITH_LEGACY, PI4_CPUINFO)],
    ids=["pi5-tasks", "pi4-legacy"],
)
def test_a_pi5_or_the_legacy_mediapipe_carries_on(
    tmp_path: Path, files: list[str], cpuinfo: str
) -> None:
    if sys.version_info >= (3, 13) or not Path("/usr/bin/python3").is_file():
        pytest.skip("needs a system python3 below 3.13 (above, the backend is always tasks)")
    done = _refusal(tmp_path, files, cpuinfo)
    assert done.returncode == 0, done.stderr
    assert "carried on" in done.stdout
