"""The trainers' password, the cookie-signing secret, CSRF tokens and the login rate limit.

The console is disabled until a password is set (`station console set-password`). The password
is kept only as a memory-hard scrypt hash with a per-install random salt, in
``STATE_DIR/console-password`` (mode 0600, JSON with the cost parameters so they can be raised
later without invalidating old hashes). The secret that signs session cookies sits beside it in
``STATE_DIR/console-secret`` (0600), made once per install.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from station.storage.files import atomic_write_text

log = logging.getLogger("station.console.auth")

PASSWORD_FILE = "console-password"
SECRET_FILE = "console-secret"
MIN_PASSWORD_LEN = 6

# scrypt cost: N=2**15, r=8 uses 32 MiB per check, and a few hundred ms of one core (`station
# bench console-login`); a stolen hash costs an attacker that much per guess.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
_MAXMEM = 64 * 1024 * 1024


class ConsoleDisabled(Exception):
    """No password has been set: the console refuses every login."""


@dataclass(frozen=True)
class Credentials:
    salt: bytes
    digest: bytes
    n: int
    r: int
    p: int

    @property
    def fingerprint(self) -> str:
        """Short and non-reversible; a session remembers it, so a new password logs everyone
        out."""
        return hashlib.sha256(self.digest).hexdigest()[:16]


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=32
    )


def set_password(state_dir: Path, password: str) -> Credentials:
    """Hash and store a new password (and make the cookie secret on first use)."""
    if len(password) < MIN_PASSWORD_LEN:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LEN} characters")
    state_dir.mkdir(parents=True, exist_ok=True)
    salt = secrets.token_bytes(16)
    creds = Credentials(salt, _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P),
                        SCRYPT_N, SCRYPT_R, SCRYPT_P)  # fmt: skip
    body = {
        "algorithm": "scrypt",
        "n": creds.n,
        "r": creds.r,
        "p": creds.p,
        "salt": creds.salt.hex(),
        "hash": creds.digest.hex(),
    }
    atomic_write_text(state_dir / PASSWORD_FILE, json.dumps(body) + "\n", mode=0o600)
    cookie_secret(state_dir)
    log.warning("console password set")
    return creds


def load_credentials(state_dir: Path) -> Credentials:
    try:
        data = json.loads((state_dir / PASSWORD_FILE).read_text())
        return Credentials(bytes.fromhex(data["salt"]), bytes.fromhex(data["hash"]),
                           int(data["n"]), int(data["r"]), int(data["p"]))  # fmt: skip
    except FileNotFoundError:
        raise ConsoleDisabled(
            "the console is disabled until a password is set: run "
            "`sudo -u station station console set-password` on the station"
        ) from None
    except (OSError, ValueError, KeyError) as exc:
        raise ConsoleDisabled(
            f"{state_dir / PASSWORD_FILE} is unreadable ({exc}); "
            "set the password again with `station console set-password`"
        ) from exc


def check_password(creds: Credentials, password: str) -> bool:
    candidate = _scrypt(password, creds.salt, creds.n, creds.r, creds.p)
    return hmac.compare_digest(candidate, creds.digest)


def cookie_secret(state_dir: Path) -> str:
    """The per-install key that signs session cookies (made on first use, 0600)."""
    path = state_dir / SECRET_FILE
    try:
        secret = path.read_text().strip()
        if len(secret) >= 32:
            return secret
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.error("cannot read %s (%s): a fresh secret for this run", path, exc.strerror)
    secret = secrets.token_hex(32)
    try:
        atomic_write_text(path, secret + "\n", mode=0o600)
    except OSError as exc:
        # A full or read-only state folder must not stop the console: logins then last
        # until the console restarts.
        log.error("cannot save %s (%s); logins end when the console restarts", path,
                  exc.strerror)  # fmt: skip
    return secret


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_ok(expected: object, given: object) -> bool:
    return (
        isinstance(expected, str)
        and isinstance(given, str)
        and bool(expected)
        and hmac.compare_digest(expected.encode(), given.encode())
    )


class LoginLimiter:
    """Per-address login back-off, with one password check at a time per address.

    The first `free_attempts` failures of an address cost nothing; each one after doubles its
    wait, from `first_wait_s` up to `max_wait_s`, during which its attempts are refused
    without checking the password. An address's record is forgotten after `forget_s`
    without an attempt, and on success. There is no global lock-out: one phone's guesses never
    lock out a trainer at another address (the CPU the checks cost is bounded separately, by
    checking at most a few passwords at once). At most `max_addresses` are remembered, the
    least recently seen dropped first, so a flood of spoofed addresses cannot grow memory."""

    def __init__(
        self,
        *,
        free_attempts: int = 5,
        first_wait_s: float = 30.0,
        max_wait_s: float = 300.0,
        forget_s: float = 900.0,
        max_addresses: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free_attempts = free_attempts
        self.first_wait_s = first_wait_s
        self.max_wait_s = max_wait_s
        self.forget_s = forget_s
        self.max_addresses = max_addresses
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def begin(self, address: str) -> Refusal | None:
        """None: `address` may have its password checked now (call `failed` or `succeeded`
        after); else why not and for how long. A refusal is `first` once per lock-out, so
        the audit log records each lock-out once, not each refused request."""
        with self._lock:
            now = self._clock()
            record = self._record(address, now)
            if record.busy:
                return Refusal(1.0, "a login from your address is already being checked", False)
            wait = record.next_try - now
            if wait > 0:
                first = not record.refusal_noted
                record.refusal_noted = True
                return Refusal(wait, "too many failed attempts", first)
            record.busy = True
            return None

    def failed(self, address: str) -> None:
        with self._lock:
            now = self._clock()
            record = self._record(address, now)
            record.busy = False
            record.failures += 1
            record.refusal_noted = False
            extra = record.failures - self.free_attempts
            if extra >= 0:
                record.next_try = now + min(self.max_wait_s, self.first_wait_s * 2.0**extra)

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._records.pop(address, None)

    def retry_after(self, address: str) -> float:
        """0 if `address` may try now, else seconds until it may (without starting a try)."""
        with self._lock:
            now = self._clock()
            record = self._records.get(address)
            return 0.0 if record is None else max(0.0, record.next_try - now)

    def _record(self, address: str, now: float) -> _Record:
        record = self._records.get(address)
        if record is not None and not record.busy and now - record.seen > self.forget_s:
            record = None
        if record is None:
            record = _Record()
            self._records[address] = record
            while len(self._records) > self.max_addresses:
                self._records.popitem(last=False)
        record.seen = now
        self._records.move_to_end(address)
        return record


@dataclass
class _Record:
    failures: int = 0
    next_try: float = 0.0
    seen: float = 0.0
    busy: bool = False
    refusal_noted: bool = False


@dataclass(frozen=True)
class Refusal:
    wait_s: float
    reason: str
    first: bool


class SessionStore:
    """Server-side logins: the cookie carries only a random session id, valid while it is in
    this table. Logout deletes it; a new password deletes them all (the table also checks the
    password's fingerprint, so another console process's password change counts too).
    Kept in memory: a console restart logs everyone out, which is the safe direction."""

    def __init__(self, *, max_sessions: int = 1000, clock: Callable[[], float] = time.time):
        self.max_sessions = max_sessions
        self._clock = clock
        self._sessions: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def create(self, fingerprint: str) -> str:
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[sid] = (self._clock(), fingerprint)
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        return sid

    def valid(self, sid: object, fingerprint: str, max_age_s: float) -> bool:
        if not isinstance(sid, str):
            return False
        with self._lock:
            entry = self._sessions.get(sid)
            if entry is None:
                return False
            login_at, fp = entry
            if fp != fingerprint or self._clock() - login_at >= max_age_s:
                del self._sessions[sid]
                return False
            return True

    def revoke(self, sid: object) -> None:
        with self._lock:
            if isinstance(sid, str):
                self._sessions.pop(sid, None)

    def revoke_all(self) -> None:
        with self._lock:
            self._sessions.clear()

    def __len__(self) -> int:
        return len(self._sessions)
