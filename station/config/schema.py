"""A small declarative schema for the station's TOML configuration.

Each room declares its own section in its `settings.py` with :class:`Key` and :class:`Section`;
:mod:`station.config.sections` assembles them. The schema is the single source of truth:
defaults come from it, `config/station.toml` is generated from it (`station config defaults`),
and every error names the full dotted key path, the bad value and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Value = Any
CheckFn = Callable[[Mapping[str, Any]], list[tuple[str, str]]]
"""A cross-key check on one section's merged values: returns (key, message) pairs."""


@dataclass(frozen=True)
class Key:
    """One setting. Its type is the type of `default` (an int is accepted for a float);
    lists need `item` (the element type)."""

    default: Value
    doc: str
    unit: str = ""
    min: float | None = None
    max: float | None = None
    choices: Sequence[Any] | None = None
    """The allowed values; a live sequence (e.g. the registered faults) is read when used."""
    item: type | None = None
    min_len: int = 0
    max_len: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.default, list) and self.item is None:
            raise TypeError("a list Key needs item=")
        problem = self.problem(self.default)
        if problem:
            raise ValueError(f"default {self.default!r} is itself invalid: {problem}")

    @property
    def kind(self) -> type:
        return type(self.default)

    def allowed(self) -> str:
        """What this key accepts, in words, for error messages and the generated docs."""
        unit = f" {self.unit}" if self.unit else ""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind is bool:
            return "true or false"
        if self.kind is list:
            assert self.item is not None
            noun = _type_word(self.item).split(" ", 1)[1]
            size = ""
            if self.max_len is not None and self.max_len == self.min_len:
                size = f" exactly {self.min_len}"
            elif self.max_len is not None:
                size = f" {self.min_len} to {self.max_len}"
            elif self.min_len:
                size = f" at least {self.min_len}"
            rng = _range_words(self.min, self.max, unit)
            return f"a list of{size} {noun}s" + (f", each {rng}" if rng else "")
        rng = _range_words(self.min, self.max, unit)
        word = _type_word(self.kind)
        return f"{word} {rng}" if rng else word

    def problem(self, value: Value) -> str | None:
        """None if `value` is acceptable, else why not (without the key path)."""
        if self.kind is list:
            if not isinstance(value, list):
                return f"expected {self.allowed()}"
            if len(value) < self.min_len or (
                self.max_len is not None and len(value) > self.max_len
            ):
                return f"expected {self.allowed()}, got {len(value)} items"
            assert self.item is not None
            for i, elem in enumerate(value):
                why = self._scalar_problem(elem, self.item)
                if why:
                    return f"item {i} = {elem!r} is {why}; expected {self.allowed()}"
            return None
        why = self._scalar_problem(value, self.kind)
        return f"{why}; expected {self.allowed()}" if why else None

    def _scalar_problem(self, value: Value, kind: type) -> str | None:
        if not _is_type(value, kind):
            return f"{_type_word(type(value))}, not {_type_word(kind)}"
        if self.choices is not None and value not in self.choices:
            return "not allowed"
        if kind in (int, float):
            if isinstance(value, float) and not math.isfinite(value):
                return "not a finite number"
            if self.min is not None and value < self.min:
                return "too small"
            if self.max is not None and value > self.max:
                return "too large"
        return None

    def normalise(self, value: Value) -> Value:
        """Return the stored form: ints given for floats become floats."""
        if self.kind is float:
            return float(value)
        if self.kind is list and self.item is float:
            return [float(v) for v in value]
        return value


@dataclass(frozen=True)
class Section:
    """A TOML table. `free` allows extra sub-tables with any name, all following one schema
    (e.g. trainer-saved presets); `checks` validate relations between keys of this table."""

    doc: str
    keys: Mapping[str, Key | Section]
    free: Section | None = None
    free_doc: str = ""
    checks: tuple[CheckFn, ...] = field(default_factory=tuple)

    def defaults(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, spec in self.keys.items():
            out[name] = spec.defaults() if isinstance(spec, Section) else _copy(spec.default)
        return out


@dataclass(frozen=True)
class ConfigError:
    """One problem in one layer, e.g. `/etc/station/station.toml: mat.rate_hz = 50: ...`."""

    path: str
    message: str
    source: str = ""

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        if not self.path:
            return f"{where}{self.message}"
        sep = " " if self.message.startswith("= ") else ": "
        return f"{where}{self.path}{sep}{self.message}"


def validate_layer(
    data: Mapping[str, Any], schema: Section, source: str, prefix: str = ""
) -> list[ConfigError]:
    """Check one layer (a subset of keys) against the schema: unknown keys, types, ranges."""
    errors: list[ConfigError] = []
    for name, value in data.items():
        path = f"{prefix}{name}"
        spec: Key | Section | None = schema.keys.get(name)
        if spec is None and schema.free is not None:
            spec = schema.free
        if spec is None:
            known = ", ".join(schema.keys) or "none"
            errors.append(ConfigError(path, f"unknown key (known here: {known})", source))
        elif isinstance(spec, Section):
            if not isinstance(value, Mapping):
                errors.append(
                    ConfigError(path, f"expected a table [{path}], got {value!r}", source)
                )
            else:
                errors.extend(validate_layer(value, spec, source, f"{path}."))
        else:
            if isinstance(value, Mapping):
                errors.append(ConfigError(path, f"expected {spec.allowed()}, got a table", source))
                continue
            why = spec.problem(value)
            if why:
                errors.append(ConfigError(path, f"= {_show(value)}: {why}", source))
    return errors


def merge_layer(
    base: dict[str, Any],
    layer: Mapping[str, Any],
    schema: Section,
    origins: dict[str, str],
    source: str,
    prefix: str = "",
) -> None:
    """Overlay a validated layer onto `base` in place, recording where each value came from."""
    for name, value in layer.items():
        path = f"{prefix}{name}"
        spec = schema.keys.get(name) or schema.free
        assert spec is not None, path  # validate_layer rejected unknown keys already
        if isinstance(spec, Section):
            if name not in base:  # a new free-named table starts from its schema's defaults
                base[name] = spec.defaults()
                _record(origins, base[name], f"{path}.", "default")
            merge_layer(base[name], value, spec, origins, source, f"{path}.")
        else:
            base[name] = spec.normalise(value)
            origins[path] = source


def run_checks(
    data: Mapping[str, Any], schema: Section, origins: Mapping[str, str], prefix: str = ""
) -> list[ConfigError]:
    """Cross-key checks on the merged result; each error is blamed on the layer that set it."""
    errors: list[ConfigError] = []
    for check in schema.checks:
        for key, message in check(data):
            path = f"{prefix}{key}"
            errors.append(ConfigError(path, message, origins.get(path, "")))
    for name, value in data.items():
        spec = schema.keys.get(name) or schema.free
        if isinstance(spec, Section) and isinstance(value, Mapping):
            errors.extend(run_checks(value, spec, origins, f"{prefix}{name}."))
    return errors


def iter_keys(schema: Section, prefix: str = "") -> list[tuple[str, Key]]:
    """Every declared key as (dotted path, Key), in declaration order."""
    out: list[tuple[str, Key]] = []
    for name, spec in schema.keys.items():
        if isinstance(spec, Section):
            out.extend(iter_keys(spec, f"{prefix}{name}."))
        else:
            out.append((f"{prefix}{name}", spec))
    return out


def _record(origins: dict[str, str], data: Mapping[str, Any], prefix: str, source: str) -> None:
    for name, value in data.items():
        if isinstance(value, Mapping):
            _record(origins, value, f"{prefix}{name}.", source)
        else:
            origins[f"{prefix}{name}"] = source


def _is_type(value: Value, kind: type) -> bool:
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _type_word(kind: type) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(kind, kind.__name__)


def _range_words(lo: float | None, hi: float | None, unit: str) -> str:
    if lo is not None and hi is not None:
        return f"from {lo:g} to {hi:g}{unit}"
    if lo is not None:
        return f"≥ {lo:g}{unit}"
    if hi is not None:
        return f"≤ {hi:g}{unit}"
    return ""


def _show(value: Value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _copy(value: Value) -> Value:
    return list(value) if isinstance(value, list) else value
