"""Bad files handed to the offline tools: a clear error before any work, bounded memory."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
from faults_helpers import tally

from station.mat.recording import read_mat_csv
from station.pose.track import LandmarkTrack, save_track


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "station", "analyze", *args],
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip


def a_track(path: Path, width: int, height: int) -> Path:
    n = 30
    lm = np.full((n, 33, 4), 0.5)
    world = np.zeros((n, 33, 3))
    save_track(LandmarkTrack(np.arange(n) / 30.0, lm, world, 30.0, width, height), path)
    return path


def test_a_track_with_no_width_or_height_is_a_clear_error(tmp_path: Path) -> None:
    for width, height in ((0, 480), (640, 0)):
        done = analyze(str(a_track(tmp_path / "t.npz", width, height)), "--json")
        tally(traceback="Traceback" in done.stderr)
        assert done.returncode == 2, done.stderr[-2000:]
        assert "width and height must be positive" in done.stderr
        assert "Traceback" not in done.stderr


def test_save_track_to_a_folder_fails_before_inference(tmp_path: Path) -> None:
    """A video that inference could not even open: the output error must come first."""
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not a video at all")
    done = analyze(str(video), "--save-track", str(tmp_path))
    tally(traceback="Traceback" in done.stderr)
    assert done.returncode == 2
    assert "--save-track" in done.stderr and "is a folder" in done.stderr


def test_a_mat_csv_is_read_in_memory_proportional_to_its_samples(tmp_path: Path) -> None:
    rows = 200_000
    path = tmp_path / "big.csv"
    t = np.arange(rows) / 1000.0
    with path.open("w") as fh:
        fh.write("# a long recording\ntime_s,left_n,right_n\n")
        for i in range(0, rows, 10_000):
            block = np.column_stack([t[i : i + 10_000], np.full((10_000, 2), 351.25)])
            np.savetxt(fh, block, delimiter=",", fmt="%.3f")
    samples_bytes = rows * 3 * 8
    tracemalloc.start()
    rec = read_mat_csv(path)
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert rec.force.shape == (rows, 2) and rec.sample_rate_hz == 1000.0
    # The old reader held the whole text twice and a Python float per cell: ~15x the samples.
    assert peak < 3 * samples_bytes, (peak, path.stat().st_size)
