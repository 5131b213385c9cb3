"""`make pi-check`: the Raspberry Pi install, proven on an emulated arm64 Debian root.

No machine here is a Pi, but qemu-user (through the kernel's binfmt_misc) runs arm64 programs
on x86-64. So, as root:

1. register qemu's aarch64 interpreter with binfmt_misc (undone at the end if we did it);
2. bootstrap a Debian arm64 root with debootstrap (what Raspberry Pi OS Lite has before
   install.sh: systemd, python3, sudo), cached as a tarball keyed by suite and date;
3. run the repo's own `install.sh --without-pi-os` inside it: the same code path as on a Pi,
   minus only what Raspberry Pi OS alone has (its packages, the firmware config, the reboot);
4. inside the root: `station diag --json`, one real pose inference compared with the same
   inference on this x86-64 machine, a simulated session counted exactly, and
   `systemd-analyze verify` on the installed units;
5. on Trixie (Python 3.13): which mediapipe resolves, the `tasks` backend's error without its
   model, and install.sh's model download with a file:// URL and its sha256 check;
6. a negative control: a dependency with no aarch64 wheel must make the install fail, named.

The suites run side by side (one thread each): most of a first run is emulated dpkg and pip on
one core each, or downloads, so two suites take little longer than the slower one.

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
SUITES = ("bookworm", "trixie")
BINFMT = Path("/proc/sys/fs/binfmt_misc")
BINFMT_NAME = "qemu-aarch64"
BINFMT_CONF = Path("/usr/lib/binfmt.d/qemu-aarch64.conf")
# A cached root older than this is bootstrapped again (security updates, new point release).
MAX_ROOT_AGE_DAYS = 7
# Part of a cached root's name: bumped whenever the way a root is made changes, so an older
# tarball is not taken for a current one. 2: the -updates and -security archives, upgraded.
ROOT_FORMAT = 2
# PyQt5's Qt binaries: x86-64, Windows and macOS wheels, none for aarch64 and no sdist.
BROKEN_REQUIREMENT = "pyqt5-qt5==5.15.2"
LANDMARK_TOLERANCE = 0.02
# Inside the root: the repo copy, and the check's own scratch files.
SRC = "/usr/src/station"
SCRATCH = "/var/tmp/pi-check"
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

    durations: list[tuple[str, float]] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    facts: dict[str, dict[str, JSON]] = field(default_factory=dict)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        log(f"--- {name}")
        start = time.monotonic()
        try:
            yield
        finally:
            took = time.monotonic() - start
            self.durations.append((name, took))
            log(f"--- {name}: {took:.1f} s")

    def suite(self, suite: str) -> dict[str, JSON]:
        """The facts found about one suite (its Python, versions, errors)."""
        return self.facts.setdefault(suite, {})

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
    missing = [t for t in ("debootstrap", "chroot", "zstd", "mount") if not shutil.which(t)]
    if not BINFMT_CONF.is_file():
        missing.append(f"qemu-user-static ({BINFMT_CONF})")
    if missing:
        raise Skip(
            f"missing tools: {', '.join(missing)} "
            "(apt-get install qemu-user-static debootstrap zstd)"
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
    with subprocess.Popen(
        list(command),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if echo is not None else subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    ) as proc:
        with _RUNNING_LOCK:
            _RUNNING.add(proc)
        try:
            if echo is None:
                try:
                    out, err = proc.communicate(timeout=timeout)
                except subprocess.TimeoutExpired:
                    _kill(proc)
                    out, err = proc.communicate()
                    err += f"\npi-check: killed after {timeout:.0f} s\n"
                return subprocess.CompletedProcess(command, proc.returncode, out, err)
            assert proc.stdout is not None
            lines = []
            deadline = time.monotonic() + timeout
            for line in proc.stdout:
                say(echo + line)
                lines.append(line)
                if time.monotonic() > deadline:
                    _kill(proc)
                    lines.append(f"pi-check: killed after {timeout:.0f} s\n")
                    break
            return subprocess.CompletedProcess(command, proc.wait(), "".join(lines), "")
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(proc)


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
    with report.step(f"{suite}: debootstrap --arch=arm64 (no cached root)"):
        argv = [
            "debootstrap",
            "--arch=arm64",
            "--variant=minbase",
            f"--include={','.join(BASE_PACKAGES)}",
            suite,
            str(root),
            MIRROR,
        ]
        log("+ " + shlex.join(argv))
        try:
            done = run_grouped(argv, 3600)
        finally:
            unmount_all(root)  # debootstrap leaves proc/sys mounted when it fails
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
            raise CheckFailed(f"debootstrap {suite} failed:\n{tail}")
    with report.step(f"{suite}: the -updates and -security archives, upgraded"):
        upgrade(Root(root, suite, places.work / suite))
    with report.step(f"{suite}: cache the root"):
        target = places.cache / tarball_name(suite, today)
        partial = target.with_suffix(".partial")
        _sh(["tar", "-I", "zstd -T0", "-cpf", str(partial), "-C", str(root), "."])
        partial.rename(target)
        for old in places.cache.glob(f"{suite}-arm64-*.tar.zst"):
            if old != target:
                old.unlink()
        log(f"cached {target} ({target.stat().st_size / 1e6:.0f} MB)")
    return root


def apt_sources(suite: str) -> str:
    """What a Raspberry Pi OS install has besides the release itself: its point updates and
    the security archive (debootstrap writes the release alone)."""
    return (
        f"deb {MIRROR} {suite} main\n"
        f"deb {MIRROR} {suite}-updates main\n"
        f"deb {SECURITY_MIRROR} {suite}-security main\n"
    )


def upgrade(root: Root) -> None:
    """The fresh root brought up to date from all three archives, as an installer's Pi is."""
    (root.path / "etc/apt/sources.list").write_text(apt_sources(root.suite))
    shutil.copy("/etc/resolv.conf", root.path / "etc/resolv.conf")
    with mounted(root.path, []):
        for argv in (
            ["apt-get", "update"],
            ["apt-get", "-y", "-o", "Dpkg::Options::=--force-confold", "upgrade"],
            ["apt-get", "clean"],
        ):
            done = root.run(argv, timeout=1800)
            if done.returncode != 0:
                tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
                raise CheckFailed(f"{root.suite}: {shlex.join(argv)} failed:\n{tail}")
            if "upgrade" in argv:
                said = re.search(r"^\d+ upgraded, \d+ newly installed.*$", done.stdout, re.M)
                log(f"{root.suite}: apt-get upgrade: {said.group(0) if said else 'done'}")


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
        full_env = {**CHROOT_ENV, **passed}
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
    """The repo's install.sh, as a gym's installer runs it, minus only Pi OS's own parts."""
    return root.run(
        ["bash", f"{src}/install.sh", "--without-pi-os"],
        env=env,
        timeout=3600,
        echo=True,
        log_name=f"{name}.log",
    )


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


def x86_landmarks(places: Places, clip: Path) -> Landmarks:
    """The same `station analyze` on this machine (x86-64), from the repo's venv."""
    station = Path(sys.executable).with_name("station")
    track = places.work / "x86_track.npz"
    done = subprocess.run(
        [str(station), *ANALYZE, str(clip), "--save-track", str(track)],
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


def check_inference(root: Root, reference: Landmarks, report: Report) -> None:
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
        f"station analyze on MediaPipe's test image (2 frames, {took:.0f} s under emulation): "
        f"landmarks x, y within {diff:.5f} of x86-64's (tolerance {LANDMARK_TOLERANCE})",
    )
    report.suite(root.suite)["landmark_max_diff"] = diff


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


def use_tasks_backend(root: Root) -> None:
    """The site config switched to [pose] backend = "tasks", as a trainer would on Trixie."""
    text = root.read(SITE_CONFIG)
    if '# backend = "legacy"' in text:
        text = text.replace('# backend = "legacy"', 'backend = "tasks"', 1)
        root.write(SITE_CONFIG, text.encode())


def check_legacy_backend(root: Root, report: Report) -> None:
    """The default backend on a mediapipe without the legacy solutions: stated, and its error
    must tell the installer what to do (the tasks backend)."""
    done = root.run(
        ["/usr/local/bin/station", "analyze", "--workers", "1", f"{SCRATCH}/clip.avi"],
        timeout=900,
        log_name="analyze-legacy.log",
    )
    said = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    report.suite(root.suite)["legacy_error"] = f"exit {done.returncode}: {said}"
    report.claim(
        f"{root.suite}: the default (legacy) backend says what it needs",
        done.returncode != 0 and "tasks" in said,
        f"station analyze exit {done.returncode}: {said}",
    )


def check_tasks_error(root: Root, report: Report) -> None:
    """Without its .task file the tasks backend must say which file and how to get it."""
    use_tasks_backend(root)
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


def check_model_download(root: Root, report: Report) -> None:
    """The `tasks` backend's model download with a file:// URL: a wrong checksum stops the
    install, the right one installs the file. That second run over an installed system is
    also install.sh's idempotence: it keeps the venv and the site config."""
    use_tasks_backend(root)
    model = b"pi-check: not a real model, a file with a known sha256\n"
    root.write(f"{SCRATCH}/mirror/pose_landmarker_full.task", model)
    url = f"file://{SCRATCH}/mirror/pose_landmarker_full.task"
    target = root.path / "var/lib/station/models/pose_landmarker_full.task"
    wrong_env = {"STATION_POSE_MODEL_URL": url, "STATION_POSE_MODEL_SHA256": "0" * 64}
    wrong = install(root, SRC, wrong_env, "install-wrong-sha")
    said = [line for line in wrong.stdout.splitlines() if "does not match sha256" in line]
    report.claim(
        f"{root.suite}: a wrong model checksum stops the install",
        wrong.returncode != 0 and bool(said) and not target.exists(),
        f"exit {wrong.returncode}: {said[0] if said else wrong.stdout.strip()[-300:]}",
    )
    right_env = {
        "STATION_POSE_MODEL_URL": url,
        "STATION_POSE_MODEL_SHA256": hashlib.sha256(model).hexdigest(),
    }
    right = install(root, SRC, right_env, "install-right-sha")
    report.claim(
        f"{root.suite}: the model download with its checksum",
        right.returncode == 0
        and "(sha256 OK)" in right.stdout
        and target.is_file()
        and target.read_bytes() == model,
        f"install.sh exit {right.returncode}; {target.relative_to(root.path)} "
        f"{'installed' if target.is_file() else 'missing'}",
    )
    kept = [
        "venv already at /opt/station/venv",
        f"keeping the existing {SITE_CONFIG}",
        "keeping the console certificate",
    ]
    report.claim(
        f"{root.suite}: install.sh run again",
        right.returncode == 0 and all(k in right.stdout for k in kept),
        f"exit {right.returncode}; kept: "
        + ", ".join(k.split(" ", 1)[1] if k in right.stdout else f"NOT {k}" for k in kept),
    )
    target.unlink(missing_ok=True)


# -- one suite, start to end ----------------------------------------------------------------


def check_suite(
    suite: str, places: Places, clip: Path, reference: Landmarks, report: Report, reuse: bool
) -> None:
    """One suite's root: install.sh, then every check. Bookworm's mediapipe bundles the pose
    model (a real inference, compared with x86-64's); Trixie's has none (its errors stated,
    and install.sh's model download exercised)."""
    path = bootstrap(places, suite, report, reuse)
    root = Root(path, suite, places.work / suite)
    binds = [
        (places.cache / "pip", "/root/.cache/pip"),
        (places.cache / f"apt-{suite}", "/var/cache/apt/archives"),
    ]
    shutil.copy("/etc/resolv.conf", path / "etc/resolv.conf")
    if HOST_CA_BUNDLE.is_file():
        root.write(ROOT_CA_BUNDLE, HOST_CA_BUNDLE.read_bytes())
        log(f"{suite}: pip in the root trusts this host's CA bundle {HOST_CA_BUNDLE} (PIP_CERT)")
    copy_repo(path, SRC)
    root.write(f"{SCRATCH}/clip.avi", clip.read_bytes())
    with mounted(path, binds):
        with report.step(f"{suite}: install.sh --without-pi-os"):
            done = install(root, SRC)
        facts = report.suite(suite)
        facts["install_exit"] = done.returncode
        if done.returncode != 0:
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
        report.claim(f"{suite}: install.sh", True, "exit 0")
        with report.step(f"{suite}: resolved packages"):
            resolved = resolved_versions(root, report)
        facts["python"] = resolved.python
        facts["versions"] = {n: resolved.dists[n][0] for n in KEY_PACKAGES if n in resolved.dists}
        bundled_model = suite == "bookworm"
        with report.step(f"{suite}: station diag --json"):
            check_diag(root, report, pose_runs=bundled_model)
        with report.step(f"{suite}: one real inference"):
            if bundled_model:
                check_inference(root, reference, report)
            else:
                check_legacy_backend(root, report)
        with report.step(f"{suite}: station run --simulate --headless --fast"):
            check_simulated_count(root, report)
        with report.step(f"{suite}: systemd-analyze verify"):
            check_units(root, report)
        if bundled_model:
            with report.step("negative control: a dependency without an aarch64 wheel"):
                check_negative_control(root, report)
        else:
            with report.step(f"{suite}: the tasks backend without its model"):
                check_tasks_error(root, report)
            with report.step(f"{suite}: install.sh's model download (file://, sha256), again"):
                check_model_download(root, report)


def run_suite(
    suite: str, places: Places, clip: Path, reference: Landmarks, report: Report, reuse: bool
) -> None:
    """check_suite, its failure recorded rather than raised (the other suite goes on)."""
    try:
        check_suite(suite, places, clip, reference, report, reuse)
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
        "--reuse-root",
        action="store_true",
        help="for developers: run again in the root a previous run left (not a fresh install)",
    )
    args = parser.parse_args(argv)
    # SIGTERM (CI's timeout, `kill`) unwinds like Ctrl-C, so every mount is undone.
    signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(143))
    suites = args.suite or list(SUITES)
    places = Places.default()
    report = Report()
    log(f"cache {places.cache}; suites {', '.join(suites)}")
    start = time.monotonic()
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
                reference = x86_landmarks(places, clip)
            workers = 1 if args.one_at_a_time else len(suites)
            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                futures = [
                    pool.submit(run_suite, s, places, clip, reference, report, args.reuse_root)
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


def summarise(report: Report, places: Places, total: float) -> None:
    log("=== step durations (this machine, as loaded as it was; the suites overlap)")
    for name, took in report.durations:
        log(f"  {took:7.1f} s  {name}")
    log(f"  {total:7.1f} s  total")
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
                "failed": report.failed,
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
    print(f"pi-check: {len(report.passed)} passed, {len(report.failed)} failed", flush=True)


if __name__ == "__main__":
    sys.exit(main())
