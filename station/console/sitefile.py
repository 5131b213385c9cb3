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
import os
import re
import threading
import time
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit

from station.config.loader import (
    Config,
    ConfigInvalid,
    build_config,
    decode_config,
    parse_config_text,
    read_config_bytes,
)
from station.config.schema import ConfigError, Key, Section
from station.console.forms import schema_node
from station.storage.files import atomic_write_text

log = logging.getLogger(__name__)

AUDIT_FILE = "console-audit.log"
AUDIT_MAX_BYTES = 1 << 20
"""The audit log is rotated past 1 MiB (one old file kept: at most ~2 MiB, ~15,000 entries)."""
PRESET_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
PRESET_RULE = "A preset name is 1–32 lower-case letters, digits, - or _, starting with a letter."
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

    def raw(self) -> bytes:
        """The file's bytes (b"" if absent); ConfigInvalid if it is no regular file."""
        try:
            return read_config_bytes(self.path)
        except FileNotFoundError:
            return b""

    def text(self) -> str:
        """The file as text; ConfigInvalid if it is not UTF-8 (the station would refuse it)."""
        return decode_config(self.raw(), str(self.path))

    @staticmethod
    def version_of(text: str | bytes) -> str:
        data = text.encode("utf-8") if isinstance(text, str) else text
        return hashlib.sha256(data).hexdigest()[:20]

    def version(self) -> str:
        try:
            return self.version_of(self.raw())
        except ConfigInvalid:
            return ""

    def load(self) -> tuple[Config, str]:
        """The effective config (defaults + this file) and the file's version.
        Raises ConfigInvalid if the file on disk is already broken."""
        text = self.text()
        return self._build(text), self.version_of(text)

    def _build(self, text: str) -> Config:
        data = parse_config_text(text, str(self.path))
        try:
            return build_config(self.schema, [(str(self.path), data)] if data else [])
        except RecursionError:
            raise ConfigInvalid(
                [ConfigError("", "values nested too deeply to be a config", str(self.path))]
            ) from None

    def save(
        self, changes: Mapping[str, Any], expected_version: str, *, address: str, page: str = ""
    ) -> list[Change]:
        """Apply `changes` ({dotted key: value}); returns what actually changed (maybe nothing).

        Raises ConcurrentEdit if the file is not the version the form was made from, and
        ConfigInvalid (every error with its key path) if the result would not load; in both
        cases the file is untouched."""
        return self.save_versioned(changes, expected_version, address=address, page=page)[0]

    def save_versioned(
        self, changes: Mapping[str, Any], expected_version: str, *, address: str, page: str = ""
    ) -> tuple[list[Change], str]:
        """:meth:`save`, and the version of the file this save left (taken under the save's
        lock, so a script chaining saves sends the version of its own last write, never one
        that already includes someone else's later change)."""
        with self._exclusive():
            text = self.text()
            if self.version_of(text) != expected_version:
                raise ConcurrentEdit(self._keys_changed_since(expected_version, text))
            before = self._build(text)
            doc = tomlkit.parse(text) if text.strip() else tomlkit.parse(NEW_FILE_HEADER)
            applied: list[Change] = []
            for key, value in changes.items():
                spec = key_spec(self.schema, key)  # KeyError: not a setting
                parts = key.split(".")
                if parts[0] == "presets" and not PRESET_NAME.match(parts[1]):
                    raise ConfigInvalid([ConfigError(key, PRESET_RULE, str(self.path))])
                if not _present(before, key) or before.get(key) != _frozen(value):
                    old = before.get(key) if _present(before, key) else None
                    applied.append(Change(key, _plain(old), value))
                    _put(
                        doc,
                        key.split("."),
                        spec.normalise(value) if not spec.problem(value) else value,
                    )
            if not applied:
                return [], expected_version
            new_text = tomlkit.dumps(doc)
            self._build(new_text)  # raises ConfigInvalid; nothing written
            # A site file that is a symlink (e.g. into a config repository) stays one: the
            # file it points to is replaced, not the link.
            try:
                atomic_write_text(self.path.resolve(), new_text, fsync=True)
            except OSError as exc:
                raise ConfigInvalid(
                    [
                        ConfigError(
                            "", f"cannot write: {exc.strerror}; nothing was changed", str(self.path)
                        )
                    ]
                ) from exc
            self._remember(new_text)
        self.audit(address, "save", page=page, changes=applied)
        return applied, self.version_of(new_text)

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
        line = json.dumps(entry, ensure_ascii=False)
        log.info("audit: %s", line)
        try:
            append_capped(self.state_dir / AUDIT_FILE, line, AUDIT_MAX_BYTES)
        except OSError as exc:
            # A full or read-only disk must not undo what the audit line describes (a save
            # that was written still gets its reload): the journal above keeps the entry.
            log.error("cannot append to the audit log in %s: %s", self.state_dir, exc.strerror)

    def audit_entries(self, limit: int = 50, skip: int = 0) -> list[dict[str, Any]]:
        """Newest first: `limit` entries after the newest `skip`, reading only what they need
        from the end of the log (and its rotated predecessor), never the whole file."""
        path = self.state_dir / AUDIT_FILE
        wanted = range(skip, skip + limit)
        out: list[dict[str, Any]] = []
        index = 0
        for line in _lines_backwards([path, path.with_name(path.name + ".1")]):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if not isinstance(entry, dict):
                continue
            if index in wanted:
                out.append(entry)
            index += 1
            if index >= wanted.stop:
                break
        return out

    # --- concurrency -----------------------------------------------------------------------

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One save at a time, across threads and console processes (across processes only
        while the state folder is writable: a full or read-only one must not stop a save)."""
        with self._lock:
            try:
                self.state_dir.mkdir(parents=True, exist_ok=True)
                fh = (self.state_dir / "console-save.lock").open("a")
            except OSError as exc:
                log.warning("no cross-process save lock in %s: %s", self.state_dir, exc.strerror)
                yield
                return
            with fh:
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
        """Note the file's current text (the version a form is rendered from); a file that
        cannot be read as text still gets a version, so a save against it is refused."""
        try:
            text = self.text()
        except ConfigInvalid:
            return self.version()
        self._remember(text)
        return self.version_of(text)

    def _keys_changed_since(self, version: str, text: str) -> list[str] | None:
        old_text = self._recent.get(version)
        if old_text is None:
            return None
        try:
            old, new = _flatten(tomllib.loads(old_text)), _flatten(tomllib.loads(text))
        except (tomllib.TOMLDecodeError, RecursionError):
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


def append_capped(path: Path, line: str, max_bytes: int) -> None:
    """Append one line; past `max_bytes` the file becomes `path.1` (replacing the older one)
    and a new file starts, so the log's disk use is bounded whatever the request rate."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        if fh.tell() >= max_bytes:
            os.replace(path, path.with_name(path.name + ".1"))
            fh.close()
            with path.open("a", encoding="utf-8") as fresh:
                fresh.write(line + "\n")
            return
        fh.write(line + "\n")


def _lines_backwards(paths: list[Path], block: int = 64 * 1024) -> Iterator[str]:
    """The lines of each file, last line first, reading `block` bytes at a time."""
    for path in paths:
        try:
            fh = path.open("rb")
        except OSError:  # absent, or unreadable: the History page shows what it can
            continue
        with fh:
            end = fh.seek(0, os.SEEK_END)
            tail = b""
            while end > 0:
                start = max(0, end - block)
                fh.seek(start)
                chunk = fh.read(end - start) + tail
                end = start
                lines = chunk.split(b"\n")
                tail = lines.pop(0) if end > 0 else b""
                for raw in reversed(lines):
                    if raw.strip():
                        yield raw.decode("utf-8", "replace")
            if tail.strip():
                yield tail.decode("utf-8", "replace")
