"""Editing the site's config file from the console: validate, write atomically, audit.

Every save is checked by the same schema and loader the station uses (`build_config`), so the
console can never write a file the station would reject. The file is edited with tomlkit, so a
trainer's or installer's comments and layout survive. Concurrent edits are refused, not merged:
each form carries the version (a hash) of the file it was rendered from, and a save against a
file that changed since (another trainer, an installer with an editor) is rejected with the
keys that changed, so nobody silently overwrites someone else's work.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import threading
import time
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit

from station.config.loader import Config, ConfigInvalid, build_config
from station.config.schema import ConfigError, Key, Section
from station.console.forms import schema_node
from station.storage.files import atomic_write_text

log = logging.getLogger(__name__)

AUDIT_FILE = "console-audit.log"
NEW_FILE_HEADER = (
    "# Site overrides for the station (see config/station.toml for every key).\n"
    "# Edited by hand or by the trainers' console, which keeps comments.\n"
)


class ConcurrentEdit(Exception):
    """The file changed on disk since the form was loaded; nothing was written.

    `changed_keys` names the settings that differ (empty: only comments or layout changed;
    None: the console no longer knows the version the form came from, e.g. it restarted)."""

    def __init__(self, changed_keys: list[str] | None) -> None:
        self.changed_keys = changed_keys
        if changed_keys:
            what = f" (changed: {', '.join(changed_keys)})"
        elif changed_keys is not None:
            what = " (its comments or layout)"
        else:
            what = ""
        super().__init__(
            f"the config file was changed by someone else since you opened this page{what}; "
            "your changes were NOT saved. Reload the page and make them again."
        )


@dataclass(frozen=True)
class Change:
    key: str
    old: Any
    new: Any


def key_spec(schema: Section, dotted: str) -> Key:
    """The Key for a dotted path, following free-named tables (trainer presets)."""
    node = schema_node(schema, dotted)
    if not isinstance(node, Key):
        raise KeyError(dotted)
    return node


class SiteConfigFile:
    """The site's config file as the console sees it."""

    def __init__(self, path: Path, schema: Section, state_dir: Path) -> None:
        self.path = path
        self.schema = schema
        self.state_dir = state_dir
        self._lock = threading.Lock()
        self._recent: dict[str, str] = {}  # version -> text: names what a concurrent edit changed

    def text(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    @staticmethod
    def version_of(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]

    def version(self) -> str:
        return self.version_of(self.text())

    def load(self) -> tuple[Config, str]:
        """The effective config (defaults + this file) and the file's version.
        Raises ConfigInvalid if the file on disk is already broken."""
        text = self.text()
        return self._build(text), self.version_of(text)

    def _build(self, text: str) -> Config:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigInvalid(
                [ConfigError("", f"not valid TOML: {exc}", str(self.path))]
            ) from exc
        return build_config(self.schema, [(str(self.path), data)] if data else [])

    def save(
        self, changes: Mapping[str, Any], expected_version: str, *, address: str, page: str = ""
    ) -> list[Change]:
        """Apply `changes` ({dotted key: value}); returns what actually changed (maybe nothing).

        Raises ConcurrentEdit if the file is not the version the form was made from, and
        ConfigInvalid (every error with its key path) if the result would not load; in both
        cases the file is untouched."""
        with self._exclusive():
            text = self.text()
            if self.version_of(text) != expected_version:
                raise ConcurrentEdit(self._keys_changed_since(expected_version, text))
            before = self._build(text)
            doc = tomlkit.parse(text) if text.strip() else tomlkit.parse(NEW_FILE_HEADER)
            applied: list[Change] = []
            for key, value in changes.items():
                spec = key_spec(self.schema, key)  # KeyError: not a setting
                if not _present(before, key) or before.get(key) != _frozen(value):
                    old = before.get(key) if _present(before, key) else None
                    applied.append(Change(key, _plain(old), value))
                    _put(
                        doc,
                        key.split("."),
                        spec.normalise(value) if not spec.problem(value) else value,
                    )
            if not applied:
                return []
            new_text = tomlkit.dumps(doc)
            self._build(new_text)  # raises ConfigInvalid; nothing written
            atomic_write_text(self.path, new_text, fsync=True)
            self._remember(new_text)
        self.audit(address, "save", page=page, changes=applied)
        return applied

    def audit(
        self, address: str, action: str, *, page: str = "", changes: list[Change] | None = None,
        note: str = "",
    ) -> None:  # fmt: skip
        """One JSON line per event: when, from which address, what changed."""
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "address": address,
            "action": action,
        }
        if page:
            entry["page"] = page
        if changes is not None:
            entry["file"] = str(self.path)
            entry["changes"] = [{"key": c.key, "old": c.old, "new": c.new} for c in changes]
        if note:
            entry["note"] = note
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with (self.state_dir / AUDIT_FILE).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        log.info("audit: %s", json.dumps(entry, ensure_ascii=False))

    def audit_entries(self, limit: int = 50) -> list[dict[str, Any]]:
        try:
            lines = (self.state_dir / AUDIT_FILE).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines[-limit:]:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out[::-1]

    # --- concurrency -----------------------------------------------------------------------

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One save at a time, across threads and console processes."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self._lock, (self.state_dir / "console-save.lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _remember(self, text: str) -> None:
        self._recent[self.version_of(text)] = text
        while len(self._recent) > 20:
            self._recent.pop(next(iter(self._recent)))

    def remember_current(self) -> str:
        """Note the file's current text (the version a form is rendered from)."""
        text = self.text()
        self._remember(text)
        return self.version_of(text)

    def _keys_changed_since(self, version: str, text: str) -> list[str] | None:
        old_text = self._recent.get(version)
        if old_text is None:
            return None
        try:
            old, new = _flatten(tomllib.loads(old_text)), _flatten(tomllib.loads(text))
        except tomllib.TOMLDecodeError:
            return None
        return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def _put(doc: Any, parts: list[str], value: Any) -> None:
    node = doc
    for i, part in enumerate(parts[:-1]):
        if part not in node:
            # Intermediate tables ([presets] above [presets.NAME.FAULT]) need no header line.
            node[part] = tomlkit.table(is_super_table=i < len(parts) - 2)
        node = node[part]
    node[parts[-1]] = value


def _present(config: Config, key: str) -> bool:
    try:
        config.get(key)
    except KeyError:
        return False
    return True


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, Mapping):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out
