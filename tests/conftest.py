"""Shared test fixtures. Tests never need a Pi, a camera or a display."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("STATION_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """../shared/data (real recordings); tests that need it skip cleanly when it is absent.
    The clips are not ours to copy: tests read them in place."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


def require_tool(name: str) -> str:
    """A system tool a test needs: skipped on a developer's machine without it, but a failure
    in CI (CI=true), where .ci/run installs it."""
    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed; .ci/run should have installed it")
    pytest.skip(f"{name} not installed")


@pytest.fixture(scope="session")
def jumprope_tracks() -> dict[str, object]:
    """Real pose inference (legacy backend, bundled full model) on every clip in
    ../shared/data/jumprope/ground_truth.csv, once per test run: clip name -> LandmarkTrack.
    Skips cleanly when the shared data is absent. Reusable by any room's tests."""
    truth_csv = SHARED_DATA / "jumprope" / "ground_truth.csv"
    if not truth_csv.is_file():
        pytest.skip(f"jump-rope clips not found at {truth_csv.parent}")
    from station.camcount.evaluate import read_ground_truth
    from station.pose.extract import extract_track

    return {
        truth.clip: extract_track(truth_csv.parent / truth.file).track
        for truth in read_ground_truth(truth_csv)
    }
