"""Mat recordings on disk: `#` comment lines, then a header `time_s,<zone>_n,...`, then one
row per sample (the format of ../shared/data/forceplate, of `station mat record` and of the
replay source). Reading checks everything and names the line of the first problem: a mat CSV
never reaches the pipeline half-valid."""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
from numpy.typing import NDArray


class MatCsvError(ValueError):
    """A mat CSV that cannot be used; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class MatRecording:
    t: NDArray[np.float64]  # [N] seconds, strictly increasing
    force: NDArray[np.float64]  # [N, zones] newtons (or counts when calibrated is False)
    zones: tuple[str, ...]
    comments: tuple[str, ...] = ()

    @property
    def sample_rate_hz(self) -> float:
        """The median sampling rate, rounded to 1 Hz."""
        if len(self.t) < 2:
            return 0.0
        return float(round(1.0 / float(np.median(np.diff(self.t)))))

    def select(self, zones: list[str]) -> MatRecording:
        idx = [self.zones.index(z) for z in zones]
        return MatRecording(self.t, self.force[:, idx], tuple(zones), self.comments)


def read_mat_csv(path: str | Path) -> MatRecording:
    """Streamed line by line into packed float arrays: memory is about the samples' own
    8 bytes each, not a copy of the text plus a Python float object per cell."""
    try:
        with Path(path).open(encoding="utf-8") as fh:
            return parse_mat_csv(fh, str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise MatCsvError(f"{path}: cannot read: {exc}") from exc


def parse_mat_csv(fh: TextIO, name: str = "<mat csv>") -> MatRecording:
    comments: list[str] = []
    header: list[str] | None = None
    rows = array("d")  # flat, row after row: 8 bytes a value
    last_t = -math.inf
    for lineno, raw in enumerate(fh, start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            comments.append(line[1:].strip())
            continue
        cells = [c.strip() for c in line.split(",")]
        if header is None:
            header = _check_header(cells, name, lineno)
            continue
        if len(cells) != len(header):
            raise MatCsvError(
                f"{name}:{lineno}: {len(cells)} columns, expected {len(header)} "
                f"({','.join(header)}): a missing or extra column"
            )
        try:
            values = [float(c) for c in cells]
        except ValueError as exc:
            raise MatCsvError(f"{name}:{lineno}: not a number: {exc}") from exc
        bad = [header[i] for i, v in enumerate(values) if not math.isfinite(v)]
        if bad:
            raise MatCsvError(f"{name}:{lineno}: {', '.join(bad)} is NaN or infinite")
        if values[0] <= last_t:
            raise MatCsvError(
                f"{name}:{lineno}: time_s {values[0]} does not increase (previous {last_t}); "
                "the samples are out of order or duplicated"
            )
        last_t = values[0]
        rows.extend(values)
    if header is None:
        raise MatCsvError(f"{name}: no header line 'time_s,<zone>_n,...'")
    if len(rows) < 2 * len(header):
        raise MatCsvError(f"{name}: fewer than two samples")
    data = np.frombuffer(rows, dtype=np.float64).reshape(-1, len(header))  # no copy
    zones = tuple(h[: -len("_n")] for h in header[1:])
    return MatRecording(data[:, 0], data[:, 1:], zones, tuple(comments))


def _check_header(cells: list[str], name: str, lineno: int) -> list[str]:
    if cells[0] != "time_s":
        raise MatCsvError(f"{name}:{lineno}: the first column must be time_s, got {cells[0]!r}")
    if len(cells) < 2:
        raise MatCsvError(f"{name}:{lineno}: no force columns after time_s")
    for c in cells[1:]:
        if not c.endswith("_n") or len(c) <= 2:
            raise MatCsvError(f"{name}:{lineno}: force columns are named <zone>_n, got {c!r}")
    if len(set(cells)) != len(cells):
        raise MatCsvError(f"{name}:{lineno}: duplicate column names")
    return cells


def write_header(fh: TextIO, zones: tuple[str, ...], comments: list[str]) -> None:
    for c in comments:
        fh.write(f"# {c}\n")
    fh.write(",".join(["time_s", *(f"{z}_n" for z in zones)]) + "\n")


def write_rows(fh: TextIO, t: NDArray[np.float64], force: NDArray[np.float64]) -> None:
    for ti, row in zip(t.tolist(), force.tolist(), strict=True):
        fh.write(f"{ti:.6f}," + ",".join(f"{v:.2f}" for v in row) + "\n")
