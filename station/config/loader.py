"""Layered loading: schema defaults, then the site's file, each layer validated.

The station never runs on a half-valid config: a layer with any error is rejected whole, and
:class:`ConfigStore` keeps the last good config running while exposing the error so the screen
can show a trainer notice and the log names the key path.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from station.config.schema import ConfigError, Section, merge_layer, run_checks, validate_layer

log = logging.getLogger(__name__)

SITE_CONFIG = Path("/etc/station/station.toml")
"""The site's overrides on a Pi; `--config PATH` or STATION_CONFIG points elsewhere."""

DEFAULT_SOURCE = "default"


class ConfigInvalid(Exception):
    """A config layer was rejected; `errors` lists every problem, each with its key path."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass(frozen=True)
class Config:
    """The effective configuration: read-only nested mappings plus each key's origin."""

    data: Mapping[str, Any]
    origins: Mapping[str, str]
    sources: tuple[str, ...] = field(default_factory=tuple)

    def __getitem__(self, section: str) -> Mapping[str, Any]:
        value = self.data[section]
        assert isinstance(value, Mapping), section
        return value

    def get(self, dotted: str) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            node = node[part]
        return node

    def origin(self, dotted: str) -> str:
        return self.origins.get(dotted, DEFAULT_SOURCE)

    def to_dict(self) -> dict[str, Any]:
        return _thaw(self.data)


def site_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--config` beats STATION_CONFIG beats /etc/station/station.toml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("STATION_CONFIG")
    return Path(env) if env else SITE_CONFIG


MAX_CONFIG_BYTES = 1 << 20
"""A site file is a few kB; anything past 1 MiB is a mistake, not a config."""

_BOM = b"\xef\xbb\xbf"


def read_config_bytes(path: Path) -> bytes:
    """The file's bytes; ConfigInvalid if it is not a regular file (a FIFO would block the
    reader forever, a device never ends), too big, or unreadable. FileNotFoundError passes."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer before we can refuse it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ConfigInvalid([ConfigError("", f"cannot read: {exc.strerror}", str(path))]) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigInvalid(
                [
                    ConfigError(
                        "",
                        "not a regular file (a FIFO, device or folder?); give the "
                        "path of a .toml file",
                        str(path),
                    )
                ]
            )
        if info.st_size > MAX_CONFIG_BYTES:
            raise ConfigInvalid(
                [
                    ConfigError(
                        "",
                        f"{info.st_size} bytes: too big for a config file "
                        f"(at most {MAX_CONFIG_BYTES})",
                        str(path),
                    )
                ]
            )
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigInvalid([ConfigError("", f"cannot read: {exc.strerror}", str(path))]) from exc
    finally:
        os.close(fd)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigInvalid([ConfigError("", "too big for a config file", str(path))])
    return data


def decode_config(data: bytes, source: str) -> str:
    """UTF-8 text, or a ConfigInvalid that says where the bad byte is and how to fix it."""
    if data.startswith(_BOM):
        raise ConfigInvalid(
            [
                ConfigError(
                    "",
                    "the file starts with a UTF-8 byte-order mark (BOM), which TOML "
                    "does not allow; save it as UTF-8 without BOM",
                    source,
                )
            ]
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigInvalid(
            [
                ConfigError(
                    "",
                    f"not UTF-8: byte 0x{data[exc.start]:02x} at line {line}, "
                    f"column {column}; save the file as UTF-8",
                    source,
                )
            ]
        ) from None


def parse_config_text(text: str, source: str) -> dict[str, Any]:
    """Parse TOML text; a syntax error or absurd nesting becomes a ConfigInvalid."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigInvalid([ConfigError("", f"not valid TOML: {exc}", source)]) from exc
    except RecursionError:
        raise ConfigInvalid(
            [ConfigError("", "arrays or tables nested too deeply to be a config", source)]
        ) from None


def read_toml(path: Path) -> dict[str, Any]:
    """Parse one file; any problem becomes a ConfigInvalid naming the file (and line)."""
    return parse_config_text(decode_config(read_config_bytes(path), str(path)), str(path))


def build_config(schema: Section, layers: list[tuple[str, Mapping[str, Any]]]) -> Config:
    """Defaults overlaid by each (source, data) layer in order; raises ConfigInvalid."""
    errors: list[ConfigError] = []
    for source, data in layers:
        errors.extend(validate_layer(data, schema, source))
    if errors:
        raise ConfigInvalid(errors)
    merged = schema.defaults()
    origins: dict[str, str] = {}
    for source, data in layers:
        merge_layer(merged, data, schema, origins, source)
    errors = run_checks(merged, schema, origins)
    if errors and layers:
        # A relation broken by a key the layer did not set is still that layer's doing.
        last = layers[-1][0]
        errors = [e if e.source else ConfigError(e.path, e.message, last) for e in errors]
    if errors:
        raise ConfigInvalid(errors)
    return Config(_freeze(merged), MappingProxyType(origins), tuple(s for s, _ in layers))


def load_config(
    path: str | os.PathLike[str] | None = None,
    schema: Section | None = None,
    *,
    required: bool = False,
) -> Config:
    """Load defaults + the site file. A missing site file means "use the defaults" unless
    `required` (an explicit --config that does not exist is a mistake worth reporting)."""
    if schema is None:
        from station.config.sections import SCHEMA

        schema = SCHEMA
    site = site_config_path(path)
    layers: list[tuple[str, Mapping[str, Any]]] = []
    try:
        layers.append((str(site), read_toml(site)))
    except FileNotFoundError:
        if required:
            raise ConfigInvalid([ConfigError("", "file not found", str(site))]) from None
        log.info("no site config at %s; using the packaged defaults", site)
    try:
        return build_config(schema, layers)
    except RecursionError:
        raise ConfigInvalid(
            [ConfigError("", "values nested too deeply to be a config", str(site))]
        ) from None


def load_config_or_report(path: str | os.PathLike[str] | None) -> Config | None:
    """For command-line tools: the config (an explicit path must exist), or None after
    printing every error, each with its key path, to stderr."""
    try:
        return load_config(path, required=bool(path))
    except ConfigInvalid as exc:
        for err in exc.errors:
            print(err, file=sys.stderr)
        return None


class ConfigStore:
    """Holds the config the station runs on, and the last load error if any.

    `reload()` swaps in a new config only if it is entirely valid; otherwise the last good one
    stays and `problem` carries the message for the trainer notice.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        schema: Section | None = None,
        *,
        required: bool = False,
    ) -> None:
        from station.config.sections import SCHEMA

        self._schema = schema or SCHEMA
        self._path = path
        self._required = required
        self._lock = threading.Lock()
        self._config = build_config(self._schema, [])
        self.problem: ConfigInvalid | None = None
        self.generation = 0
        self.reload()

    @property
    def config(self) -> Config:
        with self._lock:
            return self._config

    @property
    def path(self) -> Path:
        return site_config_path(self._path)

    def reload(self) -> bool:
        """True if a new config is now in force; False if it was rejected (last good kept)."""
        try:
            fresh = load_config(self._path, self._schema, required=self._required)
        except ConfigInvalid as exc:
            return self._reject(exc)
        except Exception as exc:
            log.exception("config reload failed unexpectedly")
            return self._reject(
                ConfigInvalid([ConfigError("", f"cannot load: {exc!r}", str(self.path))])
            )
        with self._lock:
            self._config = fresh
            self.problem = None
            self.generation += 1
        log.info("config loaded from %s", ", ".join(fresh.sources) or "defaults")
        return True

    def _reject(self, exc: ConfigInvalid) -> bool:
        with self._lock:
            self.problem = exc
        for err in exc.errors:
            log.error("config rejected, keeping the last good one: %s", err)
        return False


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value
