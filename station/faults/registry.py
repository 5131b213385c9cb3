"""The fault registry: the one list of faults every room iterates.

A leaf module (it imports nothing of the station at import time), so `station.events` can
re-export its live views and any room can import it without a cycle. The five built-in specs
(station/faults/{shoulders,back,landing,arms,head}.py) are loaded on first use; a further fault
is one more spec passed to `register` (see docs/faults.md, "How to add a fault").

Everything that lists faults reads the registry when it runs, not when it is imported: the live
views `FAULTS` and `FAULT_NAMES` follow registrations, and derived tables (the config schema,
the screen layout) are rebuilt when `version()` changes.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, overload

if TYPE_CHECKING:
    from station.faults.spec import FaultSpec

BUILTIN: tuple[str, ...] = ("shoulders", "back", "landing", "arms", "head")
"""The built-in faults, in the order the screen shows them."""

_specs: dict[str, FaultSpec] = {}
_loaded = False
_version = 0
_names: tuple[str, ...] = ()


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in BUILTIN:
        module = importlib.import_module(f"station.faults.{name}")
        register(module.SPEC)


def register(spec: FaultSpec) -> None:
    """Add a fault after those already registered (the screen shows them in this order)."""
    global _version, _names
    _load()
    if spec.name in _specs:
        raise ValueError(f"fault {spec.name!r} is already registered")
    _specs[spec.name] = spec
    _names = tuple(_specs)
    _version += 1


def unregister(name: str) -> None:
    global _version, _names
    if name in BUILTIN:
        raise ValueError(f"{name!r} is a built-in fault")
    del _specs[name]
    _names = tuple(_specs)
    _version += 1


@contextmanager
def registered(spec: FaultSpec) -> Iterator[FaultSpec]:
    """The fault registered inside the `with` block only (tests, trials)."""
    register(spec)
    try:
        yield spec
    finally:
        unregister(spec.name)


def specs() -> tuple[FaultSpec, ...]:
    """Every fault's spec, in screen order."""
    _load()
    return tuple(_specs.values())


def spec(name: str) -> FaultSpec:
    _load()
    return _specs[name]


def names() -> tuple[str, ...]:
    _load()
    return _names


def version() -> int:
    """Changes whenever a fault is registered or removed: derived tables rebuild on it."""
    _load()
    return _version


class FaultNames(Sequence[str]):
    """The fault names in screen order, read from the registry each time it is used."""

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return names()[index]

    def __len__(self) -> int:
        return len(names())

    def __iter__(self) -> Iterator[str]:
        return iter(names())

    def __contains__(self, name: object) -> bool:
        _load()
        return name in _specs

    def index(self, value: object, start: int = 0, stop: int | None = None) -> int:
        return names().index(value, start, len(names()) if stop is None else stop)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FaultNames):
            return True
        return isinstance(other, tuple) and names() == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(names())


class FaultLabels(Mapping[str, str]):
    """Each fault's name as the screen and the members' pages print it (live, like FaultNames)."""

    def __getitem__(self, name: str) -> str:
        _load()
        return _specs[name].label

    def __iter__(self) -> Iterator[str]:
        return iter(names())

    def __len__(self) -> int:
        return len(names())


FAULTS = FaultNames()
FAULT_NAMES = FaultLabels()
