"""Random tokens and personal codes, and the URLs that carry them.

A session's take-home link and a member's personal code are both 128 random bits from the
operating system's CSPRNG (:func:`secrets.token_urlsafe`: 22 URL-safe characters), so they
cannot be guessed or enumerated. The database keeps only their SHA-256, so a copy of it gives
no working links. Anything that does not have the exact shape is refused before any lookup.
"""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_BYTES = 16
"""128 bits."""

TOKEN_CHARS = 22
"""Length of a base64url token of TOKEN_BYTES, without padding."""

_TOKEN = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_CHARS}}}")
_CODE_URL = re.compile(rf"https?://[^\s/?#]+/h/([A-Za-z0-9_-]{{{TOKEN_CHARS}}})")

SESSION_PATH = "/m/"
"""A session's page: /m/TOKEN."""

HISTORY_PATH = "/h/"
"""A personal code's history page: /h/CODE. The personal QR code holds this URL."""


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def well_formed(token: str) -> bool:
    """The exact shape of a token or code (a truncated or padded one is not)."""
    return bool(_TOKEN.fullmatch(token))


def digest(token: str) -> str:
    """What the database stores in place of a token or code."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def session_url(base_url: str, token: str) -> str:
    return f"{base_url}{SESSION_PATH}{token}"


def history_url(base_url: str, code: str) -> str:
    return f"{base_url}{HISTORY_PATH}{code}"


def code_from_qr(text: str) -> str | None:
    """The personal code in a QR code's text (its history URL, from any host: the station's
    address may have changed since it was made), or None for anything else."""
    m = _CODE_URL.fullmatch(text.strip())
    return m.group(1) if m else None
