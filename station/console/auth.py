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
from collections import deque
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
    secret = secrets.token_hex(32)
    atomic_write_text(path, secret + "\n", mode=0o600)
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
    """At most `per_address` failed logins per address and `overall` in total within
    `window_s`; beyond that every attempt is refused without checking the password."""

    def __init__(
        self,
        *,
        per_address: int = 5,
        overall: int = 20,
        window_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_address = per_address
        self.overall = overall
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    def retry_after(self, address: str) -> float:
        """0 if `address` may try now, else seconds until it may."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            mine = self._failures.get(address, deque())
            waits = []
            if len(mine) >= self.per_address:
                waits.append(mine[0] + self.window_s - now)
            if len(self._all) >= self.overall:
                waits.append(self._all[0] + self.window_s - now)
            return max([0.0, *waits])

    def failed(self, address: str) -> None:
        with self._lock:
            now = self._clock()
            self._failures.setdefault(address, deque()).append(now)
            self._all.append(now)

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)

    def _expire(self, now: float) -> None:
        limit = now - self.window_s
        while self._all and self._all[0] <= limit:
            self._all.popleft()
        for address in list(self._failures):
            times = self._failures[address]
            while times and times[0] <= limit:
                times.popleft()
            if not times:
                del self._failures[address]
