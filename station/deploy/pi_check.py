"""`make pi-check`: the Raspberry Pi install, proven on an emulated arm64 Debian root.

No machine here is a Pi, but qemu-user (through the kernel's binfmt_misc) runs arm64 programs
on x86-64. So, as root:

1. register qemu's aarch64 interpreter with binfmt_misc (undone at the end if we did it);
2. bootstrap a Debian arm64 root with mmdebstrap from the release, -updates and -security
   archives in one pass (what Raspberry Pi OS Lite has before install.sh: systemd, python3,
   sudo; the host's apt downloads and resolves, only dpkg and the maintainer scripts run
   emulated), cached as a tarball keyed by suite and date;
3. run the repo's own `install.sh --without-pi-os` inside it: the same code path as on a Pi,
   minus only what Raspberry Pi OS alone has (its packages, the firmware config, the reboot);
4. inside the root: `station diag --json`, one real pose inference compared with the same
   inference on this x86-64 machine, a simulated session counted exactly, and
   `systemd-analyze verify` on the installed units;
5. on Trixie (Python 3.13): which mediapipe resolves (one without the legacy solutions, so
   install.sh names the `tasks` backend), install.sh's model download with a file:// URL and
   its sha256 check (a wrong one first, which must stop the install), the `tasks` backend's
   error without its model, then a real inference with a pose_landmarker .task assembled here
   from mediapipe 0.10.18's own two BlazePose models, compared with x86-64's;
6. a negative control: a dependency with no aarch64 wheel must make the install fail, named.

The suites run side by side (one thread each): most of a first run is emulated dpkg and pip on
one core each, or downloads, so two suites take little longer than the slower one. While a
root is bootstrapped, this host's pip downloads the aarch64 wheels pip in the root will want
into a wheelhouse, served to the root as an extra package index (file://): pip in the root
still resolves against PyPI and picks the wheels itself, and where the wheelhouse has the very
file PyPI offers, takes that copy (its log says "Processing /var/cache/pi-check/…whl"); only
the emulated download is saved. (As a --find-links, pip would prefer PyPI's copy.)
Every step prints its duration and the load average, and a table of them ends the run.

Without root or binfmt_misc the check says so and is skipped (exit 0 on a developer's machine,
a failure under CI=true). Mounts inside a root (proc, sys, caches) are always unmounted, and a
root is never deleted while anything is mounted inside it.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Landmarks: TypeAlias = NDArray[np.float64]

# What the report holds: JSON values.
JSON: TypeAlias = str | int | float | bool | list["JSON"] | dict[str, "JSON"] | None

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("STATION_SHARED_DATA", REPO.parent / "shared" / "data"))
MIRROR = os.environ.get("PI_CHECK_MIRROR", "http://deb.debian.org/debian")
SECURITY_MIRROR = os.environ.get(
    "PI_CHECK_SECURITY_MIRROR", "http://deb.debian.org/debian-security"
)
# What Raspberry Pi OS Lite already has when a gym's installer runs install.sh; the rest
# (python3-venv, libgl1, ...) is install.sh's job, which is the point of the check.
BASE_PACKAGES = ("systemd-sysv", "python3", "ca-certificates", "sudo")
# The Python each suite has, for the wheelhouse this host's pip fills (tags: cpXY, aarch64,
# manylinux up to the suite's glibc).
SUITE_PYTHON = {"bookworm": (3, 11), "trixie": (3, 13)}
SUITE_GLIBC_MINOR = {"bookworm": 36, "trixie": 41}
SUITES = ("bookworm", "trixie")
BINFMT = Path("/proc/sys/fs/binfmt_misc")
BINFMT_NAME = "qemu-aarch64"
BINFMT_CONF = Path("/usr/lib/binfmt.d/qemu-aarch64.conf")
# The oldest qemu-user this check is proven with. Bookworm's own 7.2 dies with SIGSEGV inside
# mediapipe 1.2.3's tasks inference (the Trixie root's); 10.0.2 (bookworm-backports) and
# 10.0.13 (Trixie) run it and match x86-64. .ci/run installs it from bookworm-backports.
QEMU_MIN_MAJOR = 10
# The CPU qemu emulates per suite (QEMU_CPU), the Pi's own rather than qemu's default "max"
# (every feature up to ARMv9), so a wheel built for a newer core fails here as on the Pi:
# Bookworm as a Pi 4 (Cortex-A72, ARMv8.0), Trixie as a Pi 5 (Cortex-A76, ARMv8.2).
SUITE_CPU = {"bookworm": "cortex-a72", "trixie": "cortex-a76"}
PI4_CPU = "cortex-a72"
# A cached root older than this is bootstrapped again (security updates, new point release).
MAX_ROOT_AGE_DAYS = 7
# Part of a cached root's name: bumped whenever the way a root is made changes, so an older
# tarball is not taken for a current one. 2: the -updates and -security archives, upgraded.
# 3: mmdebstrap from all three archives in one pass.
ROOT_FORMAT = 3
# PyQt5's Qt binaries: x86-64, Windows and macOS wheels, none for aarch64 and no sdist.
BROKEN_REQUIREMENT = "pyqt5-qt5==5.15.2"
LANDMARK_TOLERANCE = 0.02
# Inside the root: the repo copy, and the check's own scratch files.
SRC = "/usr/src/station"
SCRATCH = "/var/tmp/pi-check"
WHEELHOUSE = "/var/cache/pi-check/wheelhouse"
# Where pi-check serves the assembled pose model inside the root (install.sh's download).
MODEL_MIRROR = f"{SCRATCH}/mirror/pose_landmarker_full.task"
CHROOT_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "TERM": "dumb",
    "DEBIAN_FRONTEND": "noninteractive",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_DEFAULT_TIMEOUT": "180",
    # systemctl talks to no PID 1 (there is none in the root: enable works on the files,
    # daemon-reload and restart are skipped, as in any chroot; qemu hides the chroot from
    # systemd's own detection).
    "SYSTEMD_OFFLINE": "1",
    "SDL_AUDIODRIVER": "dummy",
    "PYGAME_HIDE_SUPPORT_PROMPT": "1",
}
# The host's CA bundle, for pip inside the root: a network that inspects HTTPS (as this one
# does) signs with its own CA, which the host trusts and a fresh Debian root does not.
HOST_CA_BUNDLE = Path(os.environ.get("PIP_CERT") or "/etc/ssl/certs/ca-certificates.crt")
ROOT_CA_BUNDLE = "/etc/pi-check/host-ca-certificates.crt"
PASSED_THROUGH_ENV = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY")


class Skip(Exception):
    """The check cannot run on this machine (said, never a silent pass)."""


class CheckFailed(Exception):
    """One of the check's claims does not hold."""


class Stopped(CheckFailed):
    """A failed claim (already reported) that makes the rest of a suite meaningless."""


_PRINTING = threading.Lock()


def log(message: str) -> None:
    say(f"[pi-check] {message}\n")


def say(text: str) -> None:
    """Whole lines to stdout, never two threads' lines interleaved within one."""
    with _PRINTING:
        sys.stdout.write(text)
        sys.stdout.flush()


@dataclass
class Report:
    """Every step's duration and every claim's outcome, printed at the end and saved."""

    # (step, seconds, CPU seconds of its commands, 1-minute load average at start, at end)
    durations: list[tuple[str, float, float, float, float]] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # Commands qemu itself crashed in: neither passed nor failed, said (see qemu_crash).
    unproven: list[str] = field(default_factory=list)
    # What the check found out that is neither our pass nor our failure (a wheel that cannot
    # run on one Pi model), said at the end.
    findings: list[str] = field(default_factory=list)
    # --budget: past this time.monotonic(), optional steps are skipped, said (never a pass).
    budget_end: float | None = None
    facts: dict[str, dict[str, JSON]] = field(default_factory=dict)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        load_before = os.getloadavg()[0]
        log(f"--- {name} (load average {load_before:.1f})")
        outer_cpu = getattr(_STEP_CPU, "seconds", 0.0)
        _STEP_CPU.seconds = 0.0
        start = time.monotonic()
        try:
            yield
        finally:
            took = time.monotonic() - start
            cpu = _STEP_CPU.seconds
            _STEP_CPU.seconds = outer_cpu + cpu
            load_after = os.getloadavg()[0]
            self.durations.append((name, took, cpu, load_before, load_after))
            log(
                f"--- {name}: {took:.1f} s, CPU {cpu:.1f} s "
                f"(load average {load_before:.1f} -> {load_after:.1f})"
            )

    def suite(self, suite: str) -> dict[str, JSON]:
        """The facts found about one suite (its Python, versions, errors)."""
        return self.facts.setdefault(suite, {})

    def over_budget(self, what: str) -> bool:
        """Past the --budget, `what` is skipped: logged, listed, summarised."""
        if self.budget_end is None or time.monotonic() < self.budget_end:
            return False
        self.skipped.append(what)
        log(f"SKIPPED (past --budget, to finish inside CI's time): {what}")
        return True

    def unproven_under_qemu(self, name: str, done: subprocess.CompletedProcess[str]) -> bool:
        """Did qemu itself die in `done` (a signal in the emulated program)? Then `name` is
        recorded as not proven here, with qemu's words: neither a pass nor a failure."""
        said = [
            line
            for line in (done.stdout + done.stderr).splitlines()
            if line.startswith("qemu: uncaught target signal")
        ]
        if not said:
            return False
        self.unproven.append(f"{name}: {said[-1]} (exit {done.returncode})")
        log(f"NOT PROVEN under emulation: {name}: {said[-1]} (exit {done.returncode})")
        return True

    def claim(self, name: str, ok: bool, detail: str) -> None:
        (self.passed if ok else self.failed).append(f"{name}: {detail}")
        log(f"{'PASS' if ok else 'FAIL'} {name}: {detail}")

    def require(self, name: str, ok: bool, detail: str) -> None:
        """A claim whose failure makes the following steps meaningless."""
        self.claim(name, ok, detail)
        if not ok:
            raise Stopped(f"{name}: {detail}")


# -- host side: preflight, binfmt, mounts ---------------------------------------------------


def preflight() -> None:
    if os.geteuid() != 0:
        raise Skip("not root: registering binfmt_misc, debootstrap and chroot need root")
    if not BINFMT.is_dir():
        raise Skip(f"this kernel has no binfmt_misc ({BINFMT} missing): cannot run arm64 code")
    # arch-test: mmdebstrap only Recommends it, yet refuses a foreign architecture without it.
    tools = ("mmdebstrap", "arch-test", "chroot", "zstd", "mount")
    missing = [t for t in tools if not shutil.which(t)]
    if not BINFMT_CONF.is_file():
        missing.append(f"qemu-user-static ({BINFMT_CONF})")
    if missing:
        raise Skip(
            f"missing tools: {', '.join(missing)} "
            "(apt-get install qemu-user-static mmdebstrap arch-test zstd)"
        )


@contextlib.contextmanager
def binfmt_aarch64() -> Iterator[None]:
    """qemu's aarch64 interpreter registered for the duration; whatever this function set up
    (the binfmt_misc mount, the registration) is undone afterwards, nothing else."""
    mounted_here = registered_here = False
    entry = BINFMT / BINFMT_NAME
    try:
        if not (BINFMT / "register").exists():
            done = _sh(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], check=False)
            if done.returncode != 0:
                raise Skip(f"cannot mount binfmt_misc: {done.stderr.strip()}")
            mounted_here = True
        if entry.exists() and "F" in _binfmt_flags(entry):
            # F: the kernel opened qemu when the rule was registered and keeps that file, so a
            # qemu installed since (.ci/run's newer one) is used only once registered again.
            # The same rule from the system's file; it stays registered, as at boot.
            entry.write_text("-1")
            (BINFMT / "register").write_text(BINFMT_CONF.read_text().strip())
            log(f"binfmt_misc: {BINFMT_NAME} registered again from {BINFMT_CONF} (flag F)")
        if not entry.exists():
            rule = BINFMT_CONF.read_text().strip()
            try:
                (BINFMT / "register").write_text(rule)
            except OSError as exc:
                raise Skip(f"cannot register {BINFMT_NAME} with binfmt_misc: {exc}") from exc
            registered_here = True
        status = entry.read_text()
        if not status.startswith("enabled"):
            raise Skip(f"{entry} is registered but disabled")
        log(f"binfmt_misc: {BINFMT_NAME} {'registered' if registered_here else 'already there'}")
        yield
    finally:
        if registered_here and entry.exists():
            entry.write_text("-1")
            log(f"binfmt_misc: {BINFMT_NAME} unregistered again")
        if mounted_here:
            _sh(["umount", str(BINFMT)], check=False)


def _binfmt_flags(entry: Path) -> str:
    for line in entry.read_text().splitlines():
        if line.startswith("flags:"):
            return line.partition(":")[2].strip()
    return ""


def qemu_version(root: Root, report: Report) -> None:
    """The qemu that binfmt_misc runs (QEMU_VERSION makes it print its version), logged and
    kept; older than QEMU_MIN_MAJOR, said (mediapipe 1.2.3 crashes under 7.2)."""
    done = root.run(["/bin/true"], env={"QEMU_VERSION": "1"})
    first = (done.stdout + done.stderr).strip().splitlines()[:1]
    version = first[0] if first else f"unknown (exit {done.returncode})"
    report.suite(root.suite)["qemu"] = version
    report.suite(root.suite)["qemu_cpu"] = SUITE_CPU[root.suite]
    log(f"{root.suite}: {version}, emulating a {SUITE_CPU[root.suite]} (QEMU_CPU)")
    major = re.match(r"qemu-aarch64 version (\d+)\.", version)
    if major is None or int(major.group(1)) < QEMU_MIN_MAJOR:
        log(
            f"{root.suite}: WARNING: this check is proven with qemu {QEMU_MIN_MAJOR}.0 or newer; "
            "7.2 crashes inside mediapipe 1.2.3's inference (.ci/run installs it from "
            "bookworm-backports)"
        )


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below `path`, deepest first."""
    prefix = str(path.resolve())
    points = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        point = line.split()[1].replace("\\040", " ")
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    return sorted(points, key=len, reverse=True)


def unmount_all(path: Path) -> None:
    for point in mounts_under(path):
        if _sh(["umount", point], check=False).returncode != 0:
            _sh(["umount", "--lazy", point], check=False)
    left = mounts_under(path)
    if left:
        raise CheckFailed(f"could not unmount {left}; unmount them by hand")


def remove_tree(path: Path) -> None:
    """rm -rf, but never through a mount point (a bound host directory would be emptied)."""
    if not path.exists():
        return
    unmount_all(path)
    _sh(["rm", "-rf", "--one-file-system", str(path)])


@contextlib.contextmanager
def mounted(root: Path, binds: Sequence[tuple[Path, str]]) -> Iterator[None]:
    """proc, sys (read-only), a RAM /dev/shm and the cache binds inside `root`; all unmounted
    afterwards, also on an error or Ctrl-C."""
    try:
        _sh(["mount", "-t", "proc", "proc", str(root / "proc")])
        _sh(["mount", "-t", "sysfs", "-o", "ro", "sysfs", str(root / "sys")])
        (root / "dev/shm").mkdir(parents=True, exist_ok=True)
        _sh(["mount", "-t", "tmpfs", "-o", "mode=1777", "tmpfs", str(root / "dev/shm")])
        for host, inside in binds:
            host.mkdir(parents=True, exist_ok=True)
            target = root / inside.lstrip("/")
            target.mkdir(parents=True, exist_ok=True)
            _sh(["mount", "--bind", str(host), str(target)])
        yield
    finally:
        unmount_all(root)


# Set when the check is being stopped (Ctrl-C, SIGTERM): no suite starts another command.
STOPPING = threading.Event()
_RUNNING: set[subprocess.Popen[str]] = set()
_RUNNING_LOCK = threading.Lock()


def run_grouped(
    command: Sequence[str], timeout: float, *, echo: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`command` in its own process group, so a stop kills it whole (pip and all, dpkg and
    all); with `echo`, its output streams to ours line by line behind that prefix (a long pip
    run must show progress). Output past `timeout` seconds kills it."""
    if STOPPING.is_set():
        raise Stopped("the check is stopping")
    deadline = time.monotonic() + timeout
    # Without echo, output goes to files: the command's exit is awaited below, not by a read.
    with (
        tempfile.TemporaryFile("w+") as out_file,
        tempfile.TemporaryFile("w+") as err_file,
        subprocess.Popen(
            list(command),
            stdout=subprocess.PIPE if echo is not None else out_file,
            stderr=subprocess.STDOUT if echo is not None else err_file,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        ) as proc,
    ):
        with _RUNNING_LOCK:
            _RUNNING.add(proc)
        try:
            lines = []
            if echo is not None:
                assert proc.stdout is not None
                for line in proc.stdout:
                    say(echo + line)
                    lines.append(line)
                    if time.monotonic() > deadline:
                        break
            killed = ""
            if not _exited_by(proc, deadline):
                _kill(proc)
                killed = f"pi-check: killed after {timeout:.0f} s\n"
            returncode = _reap(proc)
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(proc)
        if echo is not None:
            return subprocess.CompletedProcess(command, returncode, "".join(lines) + killed, "")
        out_file.seek(0)
        err_file.seek(0)
        return subprocess.CompletedProcess(
            command, returncode, out_file.read(), err_file.read() + killed
        )


# Reaping a command is serialised, so the rise of RUSAGE_CHILDREN across it is that command's
# CPU time (with all its descendants'), charged to the step its thread is in.
_REAPING = threading.Lock()
_STEP_CPU = threading.local()


def _exited_by(proc: subprocess.Popen[str], deadline: float) -> bool:
    """Wait until `proc` has exited (leaving it to be reaped) or `deadline` has passed."""
    while True:
        if os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def _reap(proc: subprocess.Popen[str]) -> int:
    with _REAPING:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        returncode = proc.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    _STEP_CPU.seconds = getattr(_STEP_CPU, "seconds", 0.0) + cpu
    return returncode


def _kill(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def stop_everything() -> None:
    """Kill every command a suite is running (each in its own group); no new one starts."""
    STOPPING.set()
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for proc in running:
        _kill(proc)


def _sh(
    argv: Sequence[str], *, check: bool = True, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise CheckFailed(f"{shlex.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return done


# -- the cached Debian root -----------------------------------------------------------------


@dataclass
class Places:
    cache: Path  # tarballs, pip and apt caches
    work: Path  # the unpacked roots and logs

    @classmethod
    def default(cls) -> Places:
        base = os.environ.get("PI_CHECK_CACHE")
        cache = (
            Path(base)
            if base
            else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
            / "station"
            / "pi-check"
        )
        return cls(cache, cache / "work")


def tarball_name(suite: str, made: dt.date) -> str:
    return f"{suite}-arm64-r{ROOT_FORMAT}-{made:%Y%m%d}.tar.zst"


def cached_tarball(places: Places, suite: str, today: dt.date) -> Path | None:
    """The newest tarball of `suite`, made the current way (ROOT_FORMAT), bootstrapped at most
    MAX_ROOT_AGE_DAYS ago."""
    best: tuple[dt.date, Path] | None = None
    for path in places.cache.glob(f"{suite}-arm64-*.tar.zst"):
        match = re.fullmatch(rf"{suite}-arm64-r{ROOT_FORMAT}-(\d{{8}})\.tar\.zst", path.name)
        if not match:
            continue
        made = dt.datetime.strptime(match.group(1), "%Y%m%d").date()
        if 0 <= (today - made).days <= MAX_ROOT_AGE_DAYS and (best is None or made > best[0]):
            best = (made, path)
    return best[1] if best else None


def bootstrap(places: Places, suite: str, report: Report, reuse: bool = False) -> Path:
    """A fresh root of `suite` at work/<suite>/root, from the cache or debootstrap; with
    `reuse`, the root a previous run left there (a developer's shortcut, said loudly)."""
    root = places.work / suite / "root"
    if reuse and (root / "usr/bin/python3").exists():
        log(
            f"{suite}: REUSING the root a previous run installed into (--reuse-root): "
            "install.sh runs again over it, not on a fresh system"
        )
        unmount_all(root)
        return root
    remove_tree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    today = dt.date.today()
    tarball = cached_tarball(places, suite, today)
    if tarball is not None:
        with report.step(f"{suite}: unpack the cached root {tarball.name}"):
            root.mkdir()
            _sh(["tar", "-I", "zstd", "-xpf", str(tarball), "-C", str(root)])
        return root
    with report.step(f"{suite}: mmdebstrap --arch=arm64, 3 archives (no cached root)"):
        make_root(root, suite)
    with report.step(f"{suite}: cache the root"):
        target = places.cache / tarball_name(suite, today)
        partial = target.with_suffix(".partial")
        _sh(["tar", "-I", "zstd -T0", "-cpf", str(partial), "-C", str(root), "."])
        partial.rename(target)
        # Older tarballs of this format go; another format's stay (another checkout's).
        for old in places.cache.glob(f"{suite}-arm64-r{ROOT_FORMAT}-*.tar.zst"):
            if old != target:
                old.unlink()
        log(f"cached {target} ({target.stat().st_size / 1e6:.0f} MB)")
    return root


# dpkg skips its fsync()s while the root is made (the tarball is what lasts); the setting is
# gone before install.sh runs, whose apt works as on a Pi.
UNSAFE_IO = "etc/dpkg/dpkg.cfg.d/pi-check-unsafe-io"


def make_root(root: Path, suite: str) -> None:
    """mmdebstrap: the release with its point updates and security fixes in one pass. The
    host's apt resolves and downloads (native, in parallel); dpkg and the maintainer scripts
    run in the root, emulated."""
    argv = [
        "mmdebstrap",
        "--mode=root",
        "--arch=arm64",
        "--variant=minbase",
        f"--include={','.join(BASE_PACKAGES)}",
        f'--setup-hook=mkdir -p "$1/{Path(UNSAFE_IO).parent}" && '
        f'echo force-unsafe-io > "$1/{UNSAFE_IO}"',
        f'--customize-hook=rm -f "$1/{UNSAFE_IO}"',
        suite,
        str(root),
        *apt_sources(suite).splitlines(),
    ]
    log("+ " + shlex.join(argv))
    try:
        done = run_grouped(argv, 3600)
    finally:
        unmount_all(root)  # a failed bootstrap may leave proc/sys mounted
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise CheckFailed(f"mmdebstrap {suite} failed:\n{tail}")


def apt_sources(suite: str) -> str:
    """What a Raspberry Pi OS install has: the release, its point updates and the security
    archive (mmdebstrap writes these lines to the root's sources.list)."""
    return (
        f"deb {MIRROR} {suite} main\n"
        f"deb {MIRROR} {suite}-updates main\n"
        f"deb {SECURITY_MIRROR} {suite}-security main\n"
    )


def copy_repo(root: Path, dest: str, extra_requirement: str | None = None) -> None:
    """The working tree's files (tracked and new, not ignored) into the root at `dest`; with
    `extra_requirement`, one more dependency in its pyproject.toml."""
    target = root / dest.lstrip("/")
    remove_tree(target)
    target.mkdir(parents=True)
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        src = REPO / name
        if src.is_file() and not src.is_symlink():
            out = target / name
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, out)
    if extra_requirement:
        pyproject = target / "pyproject.toml"
        text = pyproject.read_text()
        marker = "dependencies = [\n"
        assert marker in text, "pyproject.toml has no dependencies list"
        pyproject.write_text(text.replace(marker, f'{marker}    "{extra_requirement}",\n', 1))


# -- running things inside the root --------------------------------------------------------


@dataclass
class Root:
    path: Path
    suite: str
    logs: Path

    def run(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        timeout: float = 1800,
        echo: bool = False,
        log_name: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """`argv` in the root (chroot, a clean environment); with `echo`, its output streams
        to ours as it comes (a long pip run must show progress)."""
        passed = {k: os.environ[k] for k in PASSED_THROUGH_ENV if k in os.environ}
        full_env = {**CHROOT_ENV, **passed, "QEMU_CPU": SUITE_CPU[self.suite]}
        if (self.path / ROOT_CA_BUNDLE.lstrip("/")).is_file():
            full_env["PIP_CERT"] = ROOT_CA_BUNDLE
        full_env.update(env or {})
        command = ["chroot", str(self.path), "/usr/bin/env", "-i"]
        command += [f"{k}={v}" for k, v in full_env.items()] + list(argv)
        log(f"{self.suite}# {shlex.join(argv)}")
        done = run_grouped(command, timeout, echo=f"    {self.suite}| " if echo else None)
        if log_name:
            (self.logs / log_name).write_text(done.stdout + done.stderr)
        return done

    def write(self, inside: str, data: bytes) -> None:
        path = self.path / inside.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def read(self, inside: str) -> str:
        return (self.path / inside.lstrip("/")).read_text()


def pip_failure(pip_output: str) -> str:
    """Why pip failed, in one line: no wheel for a package, or no way to the index."""
    unreachable = re.findall(r"Could not fetch URL (\S+?): (.*)", pip_output)
    if unreachable:
        url, why = unreachable[-1]
        return f"pip could not reach the package index ({url}: {why.strip()[:200]})"
    named = missing_wheel(pip_output)
    if named:
        return f"no wheel for this Python on aarch64 (and no compiler to build one): {named}"
    errors = [line.strip() for line in pip_output.splitlines() if "ERROR" in line]
    return "; ".join(errors[-3:]) or "see the install log above"


def missing_wheel(pip_output: str) -> str | None:
    """The requirement pip found no installable distribution for, from its error lines."""
    found = re.findall(r"No matching distribution found for (\S+)", pip_output)
    return found[-1] if found else None


def install(
    root: Root, src: str, env: dict[str, str] | None = None, name: str = "install"
) -> subprocess.CompletedProcess[str]:
    """The repo's install.sh, as a gym's installer runs it, minus only Pi OS's own parts; pip
    also looks in the wheelhouse this host filled (its "Processing ....whl" lines)."""
    done = root.run(
        ["bash", f"{src}/install.sh", "--without-pi-os"],
        env={"PIP_EXTRA_INDEX_URL": f"file://{WHEELHOUSE}/simple", **(env or {})},
        timeout=3600,
        echo=True,
        log_name=f"{name}.log",
    )
    if STOPPING.is_set():  # killed at the time limit: no claim about what it would have said
        raise Stopped(f"the check is stopping ({name} was killed)")
    return done


WHEEL_TAGS = """
import importlib.metadata as md, json, sys
out = {}
for d in md.distributions():
    tags = [l.split(":", 1)[1].strip() for l in (d.read_text("WHEEL") or "").splitlines()
            if l.startswith("Tag:")]
    out[d.metadata["Name"].lower()] = [d.version, tags]
print(json.dumps({"python": sys.version.split()[0], "dists": out}))
"""
KEY_PACKAGES = (
    "mediapipe",
    "opencv-contrib-python",
    "numpy",
    "pygame-ce",
    "lgpio",
    "gpiozero",
    "jax",
    "jaxlib",
    "starlette",
    "uvicorn",
)


@dataclass
class Resolved:
    """What pip installed into the venv: Python's version; each distribution's version and
    wheel tags (none for apt's packages, seen through --system-site-packages)."""

    python: str
    dists: dict[str, tuple[str, list[str]]]


def resolved_versions(root: Root, report: Report) -> Resolved:
    done = root.run(["/opt/station/venv/bin/python", "-c", WHEEL_TAGS], timeout=600)
    report.require("venv lists its packages", done.returncode == 0, done.stderr.strip()[-300:])
    data = json.loads(done.stdout)
    dists = {str(n): (str(v), list(tags)) for n, (v, tags) in data["dists"].items()}
    resolved = Resolved(str(data["python"]), dists)
    log(f"{root.suite}: Python {resolved.python}; the station's packages (version, wheel tag):")
    for name in sorted(dists):
        version, tags = dists[name]
        mark = "*" if name in KEY_PACKAGES else " "
        log(f"  {root.suite} {mark} {name:28s} {version:12s} {' '.join(tags) or '(apt)'}")
    foreign = [n for n, (_v, tags) in dists.items() if any("x86_64" in t for t in tags)]
    native = [n for n, (_v, tags) in dists.items() if any("aarch64" in t for t in tags)]
    report.claim(
        f"{root.suite}: aarch64 wheels",
        not foreign and bool(native),
        f"{len(native)} binary wheels for aarch64 ({', '.join(sorted(native))}); "
        f"x86-64 wheels: {foreign or 'none'}",
    )
    return resolved


# -- the checks inside a root ---------------------------------------------------------------


def check_diag(root: Root, report: Report, *, pose_runs: bool) -> None:
    """diag reports every part: camera, mat and display missing, the config working, and the
    pose model running (`pose_runs`) or, where mediapipe has no bundled model, failing with a
    message that names the `tasks` backend."""
    done = root.run(
        ["runuser", "-u", "station", "--", "/usr/local/bin/station", "diag", "--json"],
        timeout=1200,
        log_name="diag.json",
    )
    if report.unproven_under_qemu(f"{root.suite}: station diag --json", done):
        return
    try:
        checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    except (json.JSONDecodeError, KeyError) as exc:
        report.claim(
            f"{root.suite}: station diag --json",
            False,
            f"no JSON report ({exc}): {done.stderr.strip()[-500:]}",
        )
        return
    for name, c in checks.items():
        log(f"  {root.suite} diag: [{c['status']}] {name}: {c['summary']}")
    expected_missing = {"camera", "mat", "display"}
    not_missing = [
        n for n in checks if n.split()[0] in expected_missing and checks[n]["status"] == "ok"
    ]
    seen = {n.split()[0] for n in checks} & expected_missing
    # What must work in the root: the installed site config, and diag's own pose inference
    # (a warning there is its speed: under emulation below 5 frames/s, as it must be).
    working = {n: checks.get(n, {}).get("status") for n in ("config", "pose model")}
    pose = checks.get("pose model", {"status": "absent", "summary": ""})
    if working["pose model"] == "warn" and "model runs" in pose["summary"]:
        working["pose model"] = "ok"
    if pose_runs:
        pose_as_expected = working["pose model"] == "ok"
    else:
        pose_as_expected = pose["status"] == "fail" and "tasks" in pose["summary"]
        working["pose model"] = f"{pose['status']}: {pose['summary']}"
    report.claim(
        f"{root.suite}: station diag --json",
        done.returncode == 1
        and seen == expected_missing
        and not not_missing
        and working["config"] == "ok"
        and pose_as_expected,
        f"exit {done.returncode}, {len(checks)} parts reported; camera, mat (SPI) and display "
        f"missing as expected; {working}" + (f"; but OK: {not_missing}" if not_missing else ""),
    )
    report.suite(root.suite)["diag"] = {n: [c["status"], c["summary"]] for n, c in checks.items()}


def make_test_clip(places: Places) -> Path:
    """A 2-second, 1 frame/s clip of MediaPipe's pose test image, lossless (FFV1), so both
    machines infer on the same pixels (an MJPG clip's decoders differed by enough to move a
    foot landmark 0.04 on arm64)."""
    import cv2

    image = SHARED_DATA / "mediapipe" / "pose_test_image.jpg"
    if not image.is_file():
        raise CheckFailed(f"MediaPipe's test image not found at {image} (../shared/data)")
    bgr = cv2.imread(str(image))
    clip = places.work / "pose_test_clip.avi"
    writer = cv2.VideoWriter(
        str(clip), cv2.VideoWriter.fourcc(*"FFV1"), 1.0, (bgr.shape[1], bgr.shape[0])
    )
    for _ in range(2):
        writer.write(bgr)
    writer.release()
    return clip


ANALYZE = ["analyze", "--json", "--workers", "1", "--placement", "front"]


def x86_landmarks(places: Places, clip: Path, config: Path | None = None) -> Landmarks:
    """The same `station analyze` on this machine (x86-64), from the repo's venv; with
    `config`, that site config (the tasks backend)."""
    station = Path(sys.executable).with_name("station")
    track = places.work / f"x86_track{'_' + config.stem if config else ''}.npz"
    extra = ["--config", str(config)] if config else []
    done = subprocess.run(
        [str(station), *ANALYZE, *extra, str(clip), "--save-track", str(track)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise CheckFailed(f"station analyze on x86-64 failed: {done.stderr.strip()[-500:]}")
    return _landmarks(track)


def _landmarks(track: Path) -> Landmarks:
    import numpy as np

    with np.load(track) as data:
        return np.asarray(data["lm"], dtype=np.float64)


def check_inference(root: Root, reference: Landmarks, report: Report, backend: str) -> None:
    """One real inference in the root with the backend its site config names, against the same
    backend's on x86-64."""
    import numpy as np

    start = time.monotonic()
    done = root.run(
        [
            "/usr/local/bin/station",
            *ANALYZE,
            f"{SCRATCH}/clip.avi",
            "--save-track",
            f"{SCRATCH}/track.npz",
        ],
        timeout=1800,
        log_name="analyze.log",
    )
    took = time.monotonic() - start
    if report.unproven_under_qemu(f"{root.suite}: one real inference ({backend})", done):
        return
    if done.returncode != 0:
        report.claim(f"{root.suite}: one real inference", False, done.stderr.strip()[-800:])
        return
    arm = _landmarks(root.path / SCRATCH.lstrip("/") / "track.npz")
    valid = ~np.isnan(reference[..., 0]) & ~np.isnan(arm[..., 0])
    if arm.shape != reference.shape or not valid.any():
        report.claim(
            f"{root.suite}: one real inference",
            False,
            f"shapes {arm.shape} vs x86 {reference.shape}, poses: {valid.any()}",
        )
        return
    diff = float(np.abs(arm[..., :2] - reference[..., :2])[valid].max())
    report.claim(
        f"{root.suite}: one real inference",
        diff <= LANDMARK_TOLERANCE,
        f"station analyze ([pose] backend = {backend!r}) on MediaPipe's test image (2 frames, "
        f"{took:.0f} s under emulation): landmarks x, y within {diff:.5f} of x86-64's "
        f"(tolerance {LANDMARK_TOLERANCE})",
    )
    report.suite(root.suite)["landmark_max_diff"] = diff


def check_on_pi4_cpu(root: Root, report: Report) -> None:
    """The suite's inference again with qemu emulating a Pi 4's Cortex-A72 (ARMv8.0: no LSE
    atomics), which a wheel built for ARMv8.1 or newer refuses. Its outcome is a finding
    about the wheels, not a pass or a failure of the install: said at the end either way."""
    done = root.run(
        ["/usr/local/bin/station", *ANALYZE, f"{SCRATCH}/clip.avi"],
        env={"QEMU_CPU": PI4_CPU},
        timeout=1800,
        log_name="analyze-pi4.log",
    )
    output = (done.stdout + done.stderr).splitlines()
    said = [line.strip() for line in output if "FATAL" in line or line.startswith("qemu:")]
    if done.returncode == 0:
        outcome = f"station analyze ran with qemu emulating a {PI4_CPU} (a Pi 4's CPU)"
    else:
        tail = "; ".join(said) or " / ".join(output[-3:])
        outcome = (
            f"station analyze cannot run on a {PI4_CPU} (a Pi 4's CPU), exit "
            f"{done.returncode}: {tail}"
        )
    report.suite(root.suite)["on_a_pi4_cpu"] = outcome
    report.findings.append(f"{root.suite}: {outcome}")
    log(f"FINDING {root.suite}: {outcome}")


# install.sh's own guard, sourced, on the venv it has just made: `uname` and /proc/cpuinfo are
# qemu's (it reports each emulated CPU's Features line), so only the CPU model changes.
LSE_GUARD = (
    f"source {SRC}/install.sh; VENV=/opt/station/venv; DRY_RUN=0; "
    "refuse_a_pose_wheel_this_cpu_cannot_run /proc/cpuinfo; echo carried on"
)


def check_install_guard_on_pi4_cpu(root: Root, report: Report) -> None:
    """install.sh refuses this root's tasks-only mediapipe on a Pi 4's CPU (no LSE atomics,
    the FINDING above) and lets it through on the suite's own CPU: the guard run as installed,
    not only on the test's made-up cpuinfo files."""
    outcomes: dict[str, subprocess.CompletedProcess[str]] = {}
    for cpu in (PI4_CPU, SUITE_CPU[root.suite]):
        done = root.run(["/bin/bash", "-c", LSE_GUARD], env={"QEMU_CPU": cpu}, timeout=600)
        outcomes[cpu] = done
        log(f"{root.suite}: install.sh's LSE guard on a {cpu}: exit {done.returncode}")
    pi4, own = outcomes[PI4_CPU], outcomes[SUITE_CPU[root.suite]]
    refused = pi4.returncode != 0 and "LSE atomics" in pi4.stderr and "carried on" not in pi4.stdout
    report.claim(
        f"{root.suite}: install.sh stops on a Pi 4's CPU ({PI4_CPU})",
        refused,
        f"exit {pi4.returncode}: {(pi4.stderr.strip() or pi4.stdout.strip())[:300]}",
    )
    report.claim(
        f"{root.suite}: install.sh carries on on a {SUITE_CPU[root.suite]}",
        own.returncode == 0 and "carried on" in own.stdout,
        f"exit {own.returncode}",
    )


TRUTH = "from station.sim.sources import ground_truth; print(ground_truth().jump_count)"


def check_simulated_count(root: Root, report: Report) -> None:
    py = "/opt/station/venv/bin/python"
    truth = root.run(
        [py, "-c", TRUTH],
        timeout=600,
    )
    start = time.monotonic()
    done = root.run(
        ["/usr/local/bin/station", "run", "--simulate", "--headless", "--fast", "--json"],
        timeout=1800,
        log_name="run.log",
    )
    took = time.monotonic() - start
    try:
        expected = int(truth.stdout.strip())
        counted = json.loads(done.stdout)[0]["jumps"]
    except (ValueError, IndexError, KeyError) as exc:
        report.claim(
            f"{root.suite}: simulated session",
            False,
            f"{exc}: {truth.stderr.strip()[-300:]} {done.stderr.strip()[-500:]}",
        )
        return
    report.claim(
        f"{root.suite}: simulated session",
        counted == expected,
        f"station run --simulate --headless --fast --json counted {counted} of the default "
        f"script's {expected} jumps ({took:.0f} s under emulation)",
    )


def check_units(root: Root, report: Report) -> None:
    done = root.run(
        [
            "systemd-analyze",
            "verify",
            "/etc/systemd/system/station.service",
            "/etc/systemd/system/station-console.service",
        ],
        timeout=600,
    )
    said = (done.stdout + done.stderr).strip()
    enabled = root.run(["systemctl", "is-enabled", "station.service", "station-console.service"])
    report.claim(
        f"{root.suite}: installed units",
        done.returncode == 0 and not said and enabled.stdout.split() == ["enabled", "enabled"],
        f"systemd-analyze verify: {said or 'clean'}; enabled: {' '.join(enabled.stdout.split())}",
    )


def check_negative_control(root: Root, report: Report) -> None:
    """The check has teeth: the same install with one dependency that has no aarch64 wheel
    must fail, and say which."""
    copy_repo(root.path, SRC + "-broken", extra_requirement=BROKEN_REQUIREMENT)
    done = install(root, SRC + "-broken", name="install-broken")
    said = pip_failure(done.stdout)
    report.claim(
        "negative control",
        done.returncode != 0 and said.endswith(f"no compiler to build one): {BROKEN_REQUIREMENT}"),
        f"with {BROKEN_REQUIREMENT} (x86-64 wheels only) added, install.sh exited "
        f"{done.returncode}; pi-check says: {said}",
    )


SITE_CONFIG = "/etc/station/station.toml"
MODEL_TARGET = "/var/lib/station/models/pose_landmarker_full.task"


def configured_backend(root: Root) -> str:
    """The [pose] backend the installed site config sets ("legacy" when commented out)."""
    import tomllib

    pose = tomllib.loads(root.read(SITE_CONFIG)).get("pose", {})
    return str(pose.get("backend", "legacy"))


def check_legacy_backend(root: Root, report: Report) -> None:
    """The legacy backend on a mediapipe without the legacy solutions: stated, and its error
    must tell the installer what to do (the tasks backend)."""
    root.write(f"{SCRATCH}/legacy.toml", b'[pose]\nbackend = "legacy"\n')
    done = root.run(
        [
            "/usr/local/bin/station",
            "analyze",
            "--workers",
            "1",
            "--config",
            f"{SCRATCH}/legacy.toml",
            f"{SCRATCH}/clip.avi",
        ],
        timeout=900,
        log_name="analyze-legacy.log",
    )
    said = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    report.suite(root.suite)["legacy_error"] = f"exit {done.returncode}: {said}"
    report.claim(
        f"{root.suite}: the legacy backend says what it needs",
        done.returncode != 0 and "tasks" in said,
        f"station analyze --config (backend = 'legacy') exit {done.returncode}: {said}",
    )


def check_tasks_error(root: Root, report: Report) -> None:
    """Without its .task file the tasks backend must say which file and how to get it."""
    done = root.run(
        ["/usr/local/bin/station", "analyze", "--workers", "1", f"{SCRATCH}/clip.avi"],
        timeout=900,
        log_name="analyze-tasks.log",
    )
    said = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    report.suite(root.suite)["tasks_error"] = said
    report.claim(
        f"{root.suite}: the tasks backend without its model",
        done.returncode != 0 and ".task" in said and "install.sh" in said,
        f"exit {done.returncode}: {said}",
    )


def model_env(model: Path, sha256: str) -> dict[str, str]:
    """install.sh's model download pointed at pi-check's copy inside the root."""
    return {"STATION_POSE_MODEL_URL": f"file://{MODEL_MIRROR}", "STATION_POSE_MODEL_SHA256": sha256}


def check_wrong_checksum(root: Root, done: subprocess.CompletedProcess[str]) -> bool:
    """Did install.sh stop at the model's checksum (True), having chosen the tasks backend?"""
    said = [line for line in done.stdout.splitlines() if "does not match sha256" in line]
    return done.returncode != 0 and bool(said) and not (root.path / MODEL_TARGET[1:]).exists()


def report_install_failure(
    suite: str, done: subprocess.CompletedProcess[str], report: Report
) -> None:
    facts = report.suite(suite)
    errors: list[JSON] = [
        line.strip()
        for line in done.stdout.splitlines()
        if "ERROR" in line or "install.sh:" in line
    ]
    facts["install_error"] = errors[-6:]
    detail = (
        pip_failure(done.stdout)
        if "pip could not install" in done.stdout
        else " / ".join(done.stdout.strip().splitlines()[-2:])
    )
    report.require(f"{suite}: install.sh", False, detail)


def install_with_model(
    root: Root, model: Path, report: Report
) -> subprocess.CompletedProcess[str] | None:
    """A mediapipe without the legacy solutions (Trixie): install.sh must name the tasks
    backend and download the model. First with a wrong checksum, which must stop it (the
    tasks backend's error without its model is checked then), then again with the right one:
    install.sh run twice, the second finishing what the first began."""
    suite = root.suite
    with report.step(f"{suite}: install.sh --without-pi-os, a wrong model checksum"):
        wrong = install(root, SRC, model_env(model, "0" * 64), "install-wrong-sha")
    if not check_wrong_checksum(root, wrong) and "pip could not install" in wrong.stdout:
        report_install_failure(suite, wrong, report)
    said = [line for line in wrong.stdout.splitlines() if "does not match sha256" in line]
    report.claim(
        f"{suite}: a wrong model checksum stops the install",
        check_wrong_checksum(root, wrong),
        f"exit {wrong.returncode}: {said[0] if said else wrong.stdout.strip()[-300:]}",
    )
    backend = configured_backend(root) if (root.path / SITE_CONFIG[1:]).is_file() else "none"
    report.suite(suite)["backend_chosen_by_install_sh"] = backend
    report.require(
        f"{suite}: install.sh chose the tasks backend",
        backend == "tasks",
        f"{SITE_CONFIG}: [pose] backend = {backend!r} (this mediapipe has no solutions.pose)",
    )
    with report.step(f"{suite}: the tasks backend without its model"):
        check_tasks_error(root, report)
    with report.step(f"{suite}: the legacy backend on this mediapipe"):
        check_legacy_backend(root, report)
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    if report.over_budget(
        f"{suite}: install.sh again with the right checksum, then diag, the inference with "
        "the tasks backend, the simulated session and the units (Trixie's install, its "
        "backend choice and its errors were checked above)"
    ):
        return None
    with report.step(f"{suite}: install.sh --without-pi-os again, the right checksum"):
        right = install(root, SRC, model_env(model, sha), "install")
    target = root.path / MODEL_TARGET[1:]
    if right.returncode == 0:
        report.claim(
            f"{suite}: the model download with its checksum",
            "(sha256 OK)" in right.stdout and target.is_file() and file_sha256(target) == sha,
            f"{MODEL_TARGET} {'installed' if target.is_file() else 'missing'}, sha256 {sha[:16]}…",
        )
        kept = [
            "venv already at /opt/station/venv",
            f"keeping the existing {SITE_CONFIG}",
            "keeping the console certificate",
        ]
        report.claim(
            f"{suite}: install.sh run again",
            all(k in right.stdout for k in kept),
            "kept: "
            + ", ".join(k.split(" ", 1)[1] if k in right.stdout else f"NOT {k}" for k in kept),
        )
    return right


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the pose model for the tasks backend ---------------------------------------------------


def assemble_task_model(places: Places) -> Path:
    """A pose_landmarker .task bundle made from the two BlazePose models mediapipe 0.10.18
    (this venv's) ships for its legacy solution: the pose detector and the full landmark
    model, each given the TFLite metadata the Tasks API reads (input normalisation: the
    detector takes [-1, 1], the landmark model [0, 1]). No machine here reaches MediaPipe's
    model storage; this is the same network, so on x86-64 its landmarks match the legacy
    backend's on a still image (see the log)."""
    import mediapipe as mp
    from mediapipe.tasks.python.metadata.metadata_writers import (
        metadata_writer,
        model_asset_bundle_utils,
    )

    modules = Path(mp.__file__).parent / "modules"
    parts = {
        # name in the bundle: (file, normalisation mean, std, number of outputs)
        "pose_detector.tflite": (modules / "pose_detection/pose_detection.tflite", 127.5, 127.5, 2),
        "pose_landmarks_detector.tflite": (
            modules / "pose_landmark/pose_landmark_full.tflite",
            0.0,
            255.0,
            5,
        ),
    }
    models = {}
    for name, (path, mean, std, outputs) in parts.items():
        if not path.is_file():
            raise CheckFailed(f"{path} not found: assembling the .task needs mediapipe 0.10.18")
        writer = metadata_writer.MetadataWriter.create(bytearray(path.read_bytes()))
        writer.add_general_info(name.removesuffix(".tflite"))
        writer.add_image_input(norm_mean=[mean], norm_std=[std])
        for _ in range(outputs):
            writer.add_feature_output()
        models[name] = bytes(writer.populate()[0])
    target = places.work / "pose_landmarker_full.task"
    model_asset_bundle_utils.create_model_asset_bundle(models, str(target))
    log(
        f"assembled {target.name} ({target.stat().st_size / 1e6:.1f} MB, "
        f"sha256 {file_sha256(target)})"
    )
    return target


# -- the wheelhouse: this host's pip downloads the aarch64 wheels ---------------------------

# From apt in the root (python3-spidev: PyPI's spidev is source only).
FROM_APT = {"spidev"}


def wheel_requirements(suite: str) -> list[str]:
    """The station's requirements (with [pi] and the build backend) as pip in `suite`'s root
    sees them: markers evaluated for its Python on aarch64 Linux."""
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    major, minor = SUITE_PYTHON[suite]
    env = {
        "python_version": f"{major}.{minor}",
        "python_full_version": f"{major}.{minor}.0",
        "platform_machine": "aarch64",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "os_name": "posix",
    }
    lines = [
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["pi"],
        *project["build-system"]["requires"],
    ]
    wanted = []
    for line in lines:
        req = Requirement(line)
        if req.name in FROM_APT or (req.marker and not req.marker.evaluate({**env, "extra": "pi"})):
            continue
        req.marker = None
        wanted.append(str(req))
    return wanted


def write_simple_index(house: Path) -> None:
    """house/simple/<project>/index.html (PEP 503) for every wheel in `house`, each link with
    its sha256: an index pip reads from a file:// URL. After PyPI in pip's list, so of two
    identical files pip takes this one."""
    projects: dict[str, list[Path]] = {}
    for wheel in sorted(house.glob("*.whl")):
        name = re.sub(r"[-_.]+", "-", wheel.name.split("-", 1)[0]).lower()
        projects.setdefault(name, []).append(wheel)
    for name, wheels in projects.items():
        page = house / "simple" / name / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        links = "".join(
            f'<a href="../../{w.name}#sha256={file_sha256(w)}">{w.name}</a><br>\n' for w in wheels
        )
        page.write_text(f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n")


def fill_wheelhouse(places: Places, suite: str) -> Path:
    """This host's pip downloads the aarch64 wheels for `suite`'s Python into a wheelhouse
    kept in the cache. Only a head start: pip in the root resolves on its own against PyPI
    (the wheelhouse is a --find-links), so a failure here costs time, not correctness."""
    house = places.cache / f"wheelhouse-{suite}"
    house.mkdir(parents=True, exist_ok=True)
    major, minor = SUITE_PYTHON[suite]
    platforms = [f"manylinux_2_{m}_aarch64" for m in range(SUITE_GLIBC_MINOR[suite], 16, -1)]
    argv = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--dest",
        str(house),
        "--only-binary=:all:",
        "--implementation=cp",
        f"--python-version={major}.{minor}",
        f"--abi=cp{major}{minor}",
        "--abi=abi3",
        "--abi=none",
        *(f"--platform={p}" for p in [*platforms, "manylinux2014_aarch64"]),
        *wheel_requirements(suite),
    ]
    start = time.monotonic()
    done = run_grouped(argv, 1800)
    wheels = sorted(p.name for p in house.glob("*.whl"))
    write_simple_index(house)
    took = time.monotonic() - start
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["?"])[-1]
        log(f"{suite}: wheelhouse incomplete (pip in the root downloads the rest): {said}")
    log(f"{suite}: wheelhouse {house}: {len(wheels)} wheels, {took:.0f} s on this host")
    return house


# -- one suite, start to end ----------------------------------------------------------------


@dataclass
class Inputs:
    """What every suite gets from this host: the test clip, x86-64's landmarks per backend,
    the assembled .task model."""

    clip: Path
    references: dict[str, Landmarks]
    model: Path


def check_suite(suite: str, places: Places, inputs: Inputs, report: Report, reuse: bool) -> None:
    """One suite's root: install.sh, then every check. Bookworm's mediapipe has the legacy
    solutions with their bundled model; Trixie's has not, so install.sh names the tasks
    backend and downloads the model (pi-check serves the assembled one by file://)."""
    with concurrent.futures.ThreadPoolExecutor(1) as fetcher:
        wheelhouse = fetcher.submit(fill_wheelhouse, places, suite)
        path = bootstrap(places, suite, report, reuse)
        with report.step(f"{suite}: wait for the wheelhouse (this host's pip)"):
            house = wheelhouse.result()
    root = Root(path, suite, places.work / suite)
    binds = [
        (places.cache / "pip", "/root/.cache/pip"),
        (places.cache / f"apt-{suite}", "/var/cache/apt/archives"),
        (house, WHEELHOUSE),
    ]
    shutil.copy("/etc/resolv.conf", path / "etc/resolv.conf")
    if HOST_CA_BUNDLE.is_file():
        root.write(ROOT_CA_BUNDLE, HOST_CA_BUNDLE.read_bytes())
        log(f"{suite}: pip in the root trusts this host's CA bundle {HOST_CA_BUNDLE} (PIP_CERT)")
    copy_repo(path, SRC)
    root.write(f"{SCRATCH}/clip.avi", inputs.clip.read_bytes())
    root.write(MODEL_MIRROR, inputs.model.read_bytes())
    legacy_mediapipe = SUITE_PYTHON[suite] < (3, 13)
    with mounted(path, binds):
        qemu_version(root, report)
        if legacy_mediapipe:
            with report.step(f"{suite}: install.sh --without-pi-os"):
                done = install(root, SRC)
        else:
            maybe = install_with_model(root, inputs.model, report)
            if maybe is None:  # skipped past the budget, said
                return
            done = maybe
        report.suite(suite)["install_exit"] = done.returncode
        if done.returncode != 0:
            report_install_failure(suite, done, report)
        report.claim(f"{suite}: install.sh", True, "exit 0")
        with report.step(f"{suite}: resolved packages"):
            resolved = resolved_versions(root, report)
        facts = report.suite(suite)
        facts["python"] = resolved.python
        facts["versions"] = {n: resolved.dists[n][0] for n in KEY_PACKAGES if n in resolved.dists}
        backend = configured_backend(root)
        facts["pose_backend"] = backend
        with report.step(f"{suite}: station diag --json"):
            check_diag(root, report, pose_runs=True)
        with report.step(f"{suite}: one real inference ({backend} backend)"):
            check_inference(root, inputs.references[backend], report, backend)
        if not legacy_mediapipe:
            with report.step(f"{suite}: the same inference on a Pi 4's CPU ({PI4_CPU})"):
                check_on_pi4_cpu(root, report)
            with report.step(f"{suite}: install.sh's guard on a Pi 4's CPU ({PI4_CPU})"):
                check_install_guard_on_pi4_cpu(root, report)
        with report.step(f"{suite}: station run --simulate --headless --fast"):
            check_simulated_count(root, report)
        with report.step(f"{suite}: systemd-analyze verify"):
            check_units(root, report)
        if legacy_mediapipe:
            with report.step("negative control: a dependency without an aarch64 wheel"):
                check_negative_control(root, report)


def run_suite(suite: str, places: Places, inputs: Inputs, report: Report, reuse: bool) -> None:
    """check_suite, its failure recorded rather than raised (the other suite goes on)."""
    try:
        check_suite(suite, places, inputs, report, reuse)
    except Stopped as exc:
        log(f"{suite}: stopped after {exc}")
    except CheckFailed as exc:
        report.failed.append(f"{suite}: {exc}")
        log(f"FAIL {suite}: {exc}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m station.deploy.pi_check",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument(
        "--suite",
        action="append",
        choices=SUITES,
        help="Debian suite to check (repeatable; default: all)",
    )
    parser.add_argument(
        "--one-at-a-time",
        action="store_true",
        help="check the suites one after the other instead of side by side",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help="stop every suite after this long, as failed (CI: its steps are summarised)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        metavar="SECONDS",
        help="past this long, skip Trixie's second install.sh run and the checks after it "
        "(each skip said and counted; Trixie's install, backend choice and errors are still "
        "checked): a first run from nothing on a loaded machine then fits --time-limit",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="the cached roots, wheelhouses, apt and pip caches and the work folder (default: "
        "$PI_CHECK_CACHE or ~/.cache/station/pi-check); an empty folder measures a first run "
        "from nothing without touching the shared cache",
    )
    parser.add_argument(
        "--reuse-root",
        action="store_true",
        help="for developers: run again in the root a previous run left (not a fresh install)",
    )
    args = parser.parse_args(argv)
    # SIGTERM (CI's timeout, `kill`) unwinds like Ctrl-C, so every mount is undone.
    signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(143))
    suites = args.suite or list(SUITES)
    places = Places(args.cache_dir, args.cache_dir / "work") if args.cache_dir else Places.default()
    report = Report()
    log(f"cache {places.cache}; suites {', '.join(suites)}")
    start = time.monotonic()
    if args.budget:
        report.budget_end = start + args.budget
    limit = None
    if args.time_limit:
        limit = threading.Timer(args.time_limit, stop_everything)
        limit.daemon = True
        limit.start()
    try:
        preflight()
        places.work.mkdir(parents=True, exist_ok=True)
        with binfmt_aarch64():
            with report.step("x86-64 reference: station analyze on MediaPipe's test image"):
                clip = make_test_clip(places)
                legacy = x86_landmarks(places, clip)
            with report.step("x86-64: a pose_landmarker .task from mediapipe 0.10.18's models"):
                model = assemble_task_model(places)
                config = places.work / "x86-tasks.toml"
                config.write_text(f'[pose]\nbackend = "tasks"\ntask_model = "{model}"\n')
                tasks = x86_landmarks(places, clip, config)
                drift = legacy_vs_tasks(legacy, tasks)
                report.suite("x86-64")["tasks_vs_legacy_max_diff_per_frame"] = list(drift)
                log(
                    f"x86-64: the assembled .task vs the legacy backend, max |x, y| per frame "
                    f"{drift} (frame 0 detects; later frames track from the last landmarks)"
                )
            inputs = Inputs(clip, {"legacy": legacy, "tasks": tasks}, model)
            workers = 1 if args.one_at_a_time else len(suites)
            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                futures = [
                    pool.submit(run_suite, s, places, inputs, report, args.reuse_root)
                    for s in suites
                ]
                try:
                    for future in futures:
                        future.result()
                except BaseException:  # Ctrl-C, SIGTERM: stop every suite's commands first
                    stop_everything()
                    raise
    except Skip as why:
        log(f"SKIPPED: {why}")
        if os.environ.get("CI"):
            log("FAILED: under CI=true the Pi check must run, not skip")
            return 1
        return 0
    except CheckFailed as exc:
        report.failed.append(str(exc))
        log(f"FAIL {exc}")
    except (KeyboardInterrupt, SystemExit) as stop:
        # CI's `timeout` or Ctrl-C: what ran so far is still summarised, as not passed.
        report.failed.append(f"stopped from outside ({type(stop).__name__}) before the end")
    finally:
        if limit is not None:
            limit.cancel()
        if os.geteuid() == 0:  # a last guard: nothing stays mounted in a root
            for suite in suites:
                unmount_all(places.work / suite / "root")
    if STOPPING.is_set() and args.time_limit:
        report.failed.append(f"stopped at the time limit ({args.time_limit:.0f} s)")
    total = time.monotonic() - start
    summarise(report, places, total)
    return 1 if report.failed else 0


def legacy_vs_tasks(legacy: Landmarks, tasks: Landmarks) -> list[JSON]:
    import numpy as np

    out: list[JSON] = []
    for a, b in zip(legacy, tasks, strict=False):
        both = ~np.isnan(a[..., 0]) & ~np.isnan(b[..., 0])
        out.append(
            round(float(np.abs(a[..., :2] - b[..., :2])[both].max()), 5) if both.any() else None
        )
    return out


def summarise(report: Report, places: Places, total: float) -> None:
    log("=== step durations (this machine, as loaded as it was; the suites overlap)")
    log(f"  {'seconds':>8}  {'CPU s':>7}  {'load average':>13}  step")
    for name, took, cpu, before, after in report.durations:
        log(f"  {took:8.1f}  {cpu:7.1f}  {before:5.1f} ->{after:5.1f}  {name}")
    now = os.getloadavg()
    log(f"  {total:8.1f}  {now[0]:5.1f} (15 min {now[2]:.1f})  total")
    # The CPU time of every command run (qemu's emulation, pip, dpkg, tar): what the check
    # costs whatever else the machine is doing (near enough: a loaded machine's caches slow
    # it a little). On a quiet 2-core machine the wall time lies between half of it (both
    # suites busy all along) and all of it, plus the downloads.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = children.ru_utime + children.ru_stime
    log(f"  {cpu:7.1f} s  CPU time of all its commands (user + system)")
    for suite, facts in report.facts.items():
        log(f"=== {suite}: {json.dumps(facts, ensure_ascii=False)}")
    (places.work / "report.json").write_text(
        json.dumps(
            {
                "durations": report.durations,
                "passed": report.passed,
                "skipped": report.skipped,
                "unproven": report.unproven,
                "failed": report.failed,
                "findings": report.findings,
                "facts": report.facts,
                "total_s": total,
                "children_cpu_s": cpu,
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    for line in report.failed:
        log(f"FAILED: {line}")
    for line in report.skipped:
        log(f"SKIPPED (past --budget): {line}")
    for line in report.unproven:
        log(f"NOT PROVEN (qemu itself crashed; unknown on a real Pi): {line}")
    for line in report.findings:
        log(f"FINDING: {line}")
    skipped = f", {len(report.skipped)} skipped (past --budget)" if report.skipped else ""
    if report.unproven:
        skipped += f", {len(report.unproven)} not proven (qemu crashed)"
    print(
        f"pi-check: {len(report.passed)} passed, {len(report.failed)} failed{skipped}", flush=True
    )


if __name__ == "__main__":
    sys.exit(main())
