"""Forms built from the config schema, so pages follow the schema as rooms reshape their keys.

A page names a table (e.g. ``presets.beginner.back`` or ``alerts``); every Key in it becomes a
field with its doc line, unit and allowed range; the submitted text is parsed by the Key's type
and checked by the same schema when the file is saved.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from station.config.loader import Config
from station.config.schema import Key, Section


@dataclass(frozen=True)
class Field:
    path: str  # dotted key path, also the form field name
    name: str  # last part of the path
    key: Key
    value: Any
    origin: str
    error: str = ""
    stored: Any = None
    """The value in force (the file's, or the default): `value` is what the trainer typed
    when a refused form is shown again. The page's script counts unsaved changes against it."""

    @property
    def widget(self) -> str:
        """checkbox | select | number | list | text."""
        if self.key.kind is bool:
            return "checkbox"
        if self.key.choices is not None:
            return "select"
        if self.key.kind in (int, float):
            return "number"
        if self.key.kind is list:
            return "list"
        return "text"

    @property
    def label(self) -> str:
        return self.name.replace("_", " ")

    @property
    def text(self) -> str:
        """The value as the input shows it."""
        return format_value(self.value)

    @property
    def step(self) -> str:
        if self.key.kind is int:
            return "1"
        return "any"

    @property
    def slider(self) -> tuple[float, float, float] | None:
        """(min, max, step) for a live-tuning slider, or None if this is not a bounded number.
        Keys with no maximum get three times their value; steps are a round 1/100 or finer."""
        if self.key.kind not in (int, float) or self.key.min is None:
            return None
        lo = float(self.key.min)
        value = float(self.value) if isinstance(self.value, int | float) else lo
        hi = float(self.key.max) if self.key.max is not None else max(lo + 1.0, abs(value) * 3)
        if self.key.kind is int:
            return lo, hi, 1.0
        return lo, hi, 10.0 ** math.floor(math.log10((hi - lo) / 100))

    @property
    def allowed(self) -> str:
        return self.key.allowed()


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # The shortest text that reads back as the same float: a hand-edited 1.1234567 is
        # shown (and, untouched, saved) as itself, never rounded.
        text = repr(value)
        return text.removesuffix(".0")
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value)
    return str(value)


def schema_node(schema: Section, dotted: str) -> Key | Section:
    """The Key or Section at a dotted path, following free-named tables (trainer presets).
    KeyError when the path names nothing in the schema."""
    node: Key | Section = schema
    for part in dotted.split("."):
        if not isinstance(node, Section):
            raise KeyError(dotted)
        nxt = node.keys.get(part) or node.free
        if nxt is None:
            raise KeyError(dotted)
        node = nxt
    return node


def section_at(schema: Section, dotted: str) -> Section:
    node = schema_node(schema, dotted)
    if not isinstance(node, Section):
        raise KeyError(dotted)
    return node


def fields_for(
    schema: Section,
    config: Config,
    table: str,
    *,
    errors: Mapping[str, str] | None = None,
    submitted: Mapping[str, Any] | None = None,
    skip: tuple[str, ...] = (),
) -> list[Field]:
    """The scalar keys of one table (not its sub-tables) as fields."""
    section = section_at(schema, table)
    out = []
    for name, spec in section.keys.items():
        if isinstance(spec, Section) or name in skip:
            continue
        path = f"{table}.{name}"
        try:
            value = config.get(path)
        except KeyError:  # a trainer preset that does not exist yet
            value = spec.default
        stored = value
        if submitted is not None and path in submitted:
            value = submitted[path]
        error = (errors or {}).get(path, "")
        out.append(Field(path, name, spec, value, config.origin(path), error, stored))
    return out


def subtables(schema: Section, table: str) -> list[tuple[str, str]]:
    """(name, doc) of the sub-tables of a table, in schema order."""
    section = section_at(schema, table)
    return [(n, s.doc) for n, s in section.keys.items() if isinstance(s, Section)]


class FormError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def parse_fields(
    fields: list[Field], form: Mapping[str, str], present: Collection[str] = ()
) -> dict[str, Any]:
    """Turn submitted text into typed values for these fields; FormError names each bad one.

    Only what the form carries is changed. Checkboxes: browsers send nothing for an unticked
    box, so each form also carries a hidden ``present`` list of the checkboxes it shows; a
    listed bool missing from the form is false, an unlisted one is left as it is (a partial
    POST must not switch faults off). A field whose text is exactly what the page showed is
    unchanged, so a value is never rewritten by being displayed and sent back."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        raw = form.get(field.path)
        if field.key.kind is bool:
            if raw is not None or field.path in present:
                values[field.path] = raw in ("on", "true", "1", "yes")
            continue
        if raw is None or raw.strip() == field.text:
            continue  # not on this form, or sent back as shown: unchanged
        try:
            values[field.path] = parse_text(field.key, raw)
        except ValueError as exc:
            errors[field.path] = str(exc)
    if errors:
        raise FormError(errors)
    return values


def parse_text(key: Key, raw: str) -> Any:
    text = raw.strip()
    if key.kind is list:
        assert key.item is not None
        parts = [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]
        return [_scalar(key.item, p, key) for p in parts]
    return _scalar(key.kind, text, key)


def _scalar(kind: type, text: str, key: Key) -> Any:
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number; expected {key.allowed()}") from None
    if kind is float:
        try:
            return float(text.replace(",", "."))
        except ValueError:
            raise ValueError(f"{text!r} is not a number; expected {key.allowed()}") from None
    if kind is str:
        return text
    raise ValueError(f"cannot edit a {kind.__name__} here")
