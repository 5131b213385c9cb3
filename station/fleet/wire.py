"""The fleet's MQTT wire format, version 1: topic names and message payloads.

One home for what travels between a station's uplink, the broker and the gym's recorder and
console, so both ends build and parse the same thing. Pure: no MQTT client is imported here.

Topics (``<site>`` and ``<station_id>`` are :data:`NAME_RE` names; ``+``/``#`` never appear in
them, so a topic filter cannot be smuggled in through a name)::

    station/v1/<site>/<station_id>/status        retained; the last will sets "offline"
    station/v1/<site>/<station_id>/session       QoS 1, one finished session per message
    station/v1/<site>/<station_id>/live          optional live progress, 1-2 Hz, QoS 0
    station/v1/<site>/<station_id>/config/state  retained; the station's config version or errors
    station/v1/<site>/all/config/set             retained; a change for every station of the site
    station/v1/<site>/<station_id>/config/set    retained; a change for one station

Every payload is a UTF-8 JSON object carrying ``"v": 1``. A reader refuses another major
version with :class:`WireError` rather than guessing. The payloads (times are ISO 8601 UTC):

- ``session``: ``{"uuid", "site", "station_id", "session"}`` where ``session`` is the
  session log's ``SessionRecord.to_dict()`` (statistics only, never identity). ``uuid`` is the
  session's idempotency key: a recorder stores each uuid once, however often it arrives.
- ``status``: ``{"state": "idle" | "in_session" | "offline", "at", "devices": {role: "real" |
  "simulated" | "absent" | "failed"}, "config_version", "software_version", "jumps_today"}``;
  the last will is ``{"state": "offline"}``. The uplink up but the kiosk program not running:
  ``"state": "offline"`` with a ``"reason"`` (added in v1; readers ignore fields they do not
  know). ``in_session`` is :func:`station.session.model.in_session`: a session with a jump on
  the screen (a summary, or a calibration without a jump yet, is ``idle``).
- ``live``: ``{"session_uuid", "jumps", "elapsed_s", "at"}``.
- ``config/set``: ``{"change_id", "layer"}`` and optionally ``"issued_at"`` where ``layer`` is
  a site-config layer (the same nested tables and keys as /etc/station/station.toml),
  validated by the station with the config schema; all of it applies, or none of it.
  ``issued_at`` (added in v1, backward compatible: a station or console without it works as
  before) is when the console issued the change, ISO 8601 with its zone. A station skips a
  change issued before the last one it applied, without answering it: the retained ``all``
  and per-station changes reach a station that comes back in either order, and the older
  must not undo the newer. A change without it is applied in arrival order; one with an
  unreadable ``issued_at`` is rejected with the key ``issued_at``.
- ``config/state``: ``{"config_version", "change_id", "ok", "errors": [{"key", "message"}]}``
  where ``change_id`` is the last change answered (null before any).
"""

from __future__ import annotations

import json
import re
from typing import Any

VERSION = 1
ROOT = f"station/v{VERSION}"
ALL = "all"
"""The station id that addresses every station of a site in ``config/set``."""

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
"""Site and station ids: lower-case letters, digits, '-' and '_', at most 63 characters."""

KINDS = ("status", "session", "live", "config/state", "config/set")


class WireError(ValueError):
    """A topic or payload that is not version-1 fleet wire format; the message says why."""


def check_name(what: str, name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise WireError(
            f"{what} {name!r}: use 1-63 lower-case letters, digits, '-' or '_' "
            "(starting with a letter or digit)"
        )
    if name == ALL:
        raise WireError(f"{what} {name!r} is reserved: it addresses every station of a site")
    return name


def topic(site: str, station_id: str, kind: str) -> str:
    """The topic of one station's ``kind`` (one of :data:`KINDS`)."""
    if kind not in KINDS:
        raise WireError(f"unknown topic kind {kind!r}; known: {', '.join(KINDS)}")
    check_name("site", site)
    if not (kind == "config/set" and station_id == ALL):
        check_name("station id", station_id)
    return f"{ROOT}/{site}/{station_id}/{kind}"


def site_filter(site: str, kind: str = "#") -> str:
    """A subscription filter for ``kind`` from every station of ``site`` (``#``: everything)."""
    check_name("site", site)
    return f"{ROOT}/{site}/+/{kind}" if kind != "#" else f"{ROOT}/{site}/#"


def parse_topic(name: str) -> tuple[str, str, str]:
    """``(site, station_id, kind)`` of a version-1 topic; :class:`WireError` otherwise."""
    parts = name.split("/")
    if len(parts) < 5 or "/".join(parts[:2]) != ROOT:
        raise WireError(f"not a {ROOT} topic: {name!r}")
    site, station_id, kind = parts[2], parts[3], "/".join(parts[4:])
    topic(site, station_id, kind)  # validates every part
    return site, station_id, kind


def encode(payload: dict[str, Any]) -> bytes:
    """Compact JSON with ``"v"`` set; NaN and infinities are refused (not JSON)."""
    return json.dumps({**payload, "v": VERSION}, separators=(",", ":"), allow_nan=False).encode()


def decode(data: bytes | str) -> dict[str, Any]:
    """The JSON object of a payload, checked for version 1; :class:`WireError` otherwise."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"payload is not UTF-8 JSON: {exc}") from None
    if not isinstance(value, dict):
        raise WireError("payload is not a JSON object")
    if value.get("v") != VERSION:
        raise WireError(f"payload version {value.get('v')!r}; this station speaks {VERSION}")
    return value
