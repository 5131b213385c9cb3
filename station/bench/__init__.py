"""Benchmark harness.

Each room that has something to measure provides `station/<room>/bench.py` with a module-level
`BENCHMARKS` list of :class:`Benchmark`. The harness finds them, runs them, prints one table
headed by the command that produced it, and writes the figures as JSON. A comparison (our
pipeline against real time, our analysis against inference) is measured as a ratio within one
run, so it stays meaningful on whatever machine runs it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

import station


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    target: str = ""  # e.g. "≥ 50" — what the issue asks for, shown beside the figure
    ok: bool | None = None  # whether the target is met; None when there is no target


@dataclass(frozen=True)
class Benchmark:
    name: str
    run: Callable[[bool], list[Figure]]  # argument: quick (a short run for smoke tests)
    room: str = ""
    needs_data: bool = False


@dataclass
class BenchReport:
    command: str
    results: dict[str, list[Figure]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def discover() -> list[Benchmark]:
    """Every room's BENCHMARKS, in package order."""
    found: list[Benchmark] = []
    for info in pkgutil.iter_modules(station.__path__):
        if not info.ispkg:
            continue
        try:
            module = importlib.import_module(f"station.{info.name}.bench")
        except ModuleNotFoundError as exc:
            if exc.name != f"station.{info.name}.bench":
                raise
            continue
        for bench in getattr(module, "BENCHMARKS", []):
            found.append(
                bench
                if bench.room
                else Benchmark(bench.name, bench.run, info.name, bench.needs_data)
            )
    return found
