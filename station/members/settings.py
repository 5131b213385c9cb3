"""The [members] config section: a member's take-home link and opt-in personal code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from station.config.schema import ConfigError, Key, Section, run_checks, validate_layer

if TYPE_CHECKING:
    from station.config.loader import Config


def _base_url_ok(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    url = data["base_url"]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [("base_url", f"= {url!r}: expected http://HOST[:PORT] (the console as phones "
                             "on the gym's network reach it)")]  # fmt: skip
    if parts.query or parts.fragment or url.endswith("/") or len(url) > 60:
        return [("base_url", f"= {url!r}: no trailing '/', query or fragment, at most 60 "
                             "characters (it goes into a QR code)")]  # fmt: skip
    return []


SECTION = Section(
    "Members keep their sessions: a QR code on the summary screen opens that session's page "
    "(statistics only, no login), and an opt-in random personal code follows progress. Pages "
    "are served by the console (`station console serve`).",
    {
        "enabled": Key(
            True, "Show the take-home QR code on the summary and read personal codes on idle."
        ),
        "link_valid_h": Key(
            24.0, "A session's take-home link works for this long.", "h", min=0.25, max=720.0
        ),
        "keep_days": Key(
            365,
            "A personal code's history is deleted after this many days without a session.",
            "days",
            min=1,
            max=3650,
        ),
        "base_url": Key(
            "http://station.local:8080",
            "The console's address as phones on the gym's network reach it (put in the QR "
            "codes), e.g. http://192.168.1.20:8080.",
        ),
    },
    checks=(_base_url_ok,),
)


@dataclass(frozen=True)
class MembersSettings:
    """[members], typed: one field per key of SECTION (a test keeps them the same)."""

    enabled: bool
    link_valid_h: float
    keep_days: int
    base_url: str

    @property
    def link_valid_s(self) -> float:
        return self.link_valid_h * 3600.0

    @classmethod
    def from_config(cls, config: Config | Mapping[str, Any]) -> MembersSettings:
        """From a station Config (or the same nested mapping). A section that is not what
        the schema says (a hand-built mapping, a test's) raises ConfigInvalid naming each key
        path, e.g. `members.link_valid_h = 0: too small; ...` or `members.base_url: missing`."""
        from station.config.loader import ConfigInvalid  # the loader imports this module

        try:
            section = config["members"]
        except (KeyError, AssertionError):
            section = None
        if not isinstance(section, Mapping):
            raise ConfigInvalid([ConfigError("members", "missing: expected a table [members]")])
        errors = validate_layer(section, SECTION, "", "members.")
        errors += [ConfigError(f"members.{k}", "missing") for k in SECTION.keys if k not in section]
        if not errors:
            errors = run_checks({"members": section}, Section("", {"members": SECTION}), {})
        if errors:
            raise ConfigInvalid(errors)
        return cls(
            enabled=bool(section["enabled"]),
            link_valid_h=float(section["link_valid_h"]),
            keep_days=int(section["keep_days"]),
            base_url=str(section["base_url"]),
        )
