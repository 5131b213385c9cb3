"""Render the schema as the commented default TOML file (config/station.toml).

The packaged file is generated, never hand-edited, so its comments cannot drift from the code:
a test compares the committed file with this output. Regenerate with `make config`.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from station.config.schema import Key, Section

HEADER = """\
# station configuration: the packaged defaults, every key with its meaning, unit and range.
#
# GENERATED from the schema in station/*/settings.py by `station config defaults`; do not edit
# this copy. A site overrides any subset of these keys in /etc/station/station.toml (or the file
# given by --config / STATION_CONFIG). Unknown keys are rejected; errors name the full key path.
# Check a file with `station config check PATH`; see the effective values with
# `station config show`.
"""


def render_defaults(schema: Section) -> str:
    parts = [HEADER]
    _render_section(schema, [], parts)
    return "\n".join(parts).rstrip() + "\n"


def _render_section(section: Section, path: list[str], parts: list[str]) -> None:
    scalars = [(n, s) for n, s in section.keys.items() if isinstance(s, Key)]
    tables = [(n, s) for n, s in section.keys.items() if isinstance(s, Section)]
    if path:
        parts.append(f"[{'.'.join(path)}]")
        parts.extend(_comment(section.doc))
        if section.free is not None and section.free_doc:
            parts.extend(_comment(section.free_doc))
        parts.append("")
    for name, key in scalars:
        parts.extend(_comment(key.doc))
        detail = f"allowed: {key.allowed()}"
        if key.unit and key.unit not in detail:
            detail = f"unit: {key.unit}; {detail}"
        parts.extend(_comment(detail))
        parts.append(f"{name} = {toml_value(key.default)}")
        parts.append("")
    for name, sub in tables:
        _render_section(sub, [*path, name], parts)


def _comment(text: str) -> list[str]:
    if not text:
        return []
    return ["# " + line if line else "#" for line in textwrap.wrap(text, 96)]


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")
