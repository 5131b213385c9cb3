"""`station analyze` says when its count cannot be trusted: the camera counter reads the feet,
and with the feet out of the picture (a camera aimed too high) the count is a guess."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from station.cli import main


def jumping_track(path: Path, feet_y: float, n: int = 120) -> Path:
    """A person bouncing 2.5 times a second, feet at `feet_y` (normalised; > 1 is below the
    picture, where the model extrapolates them), visibility 0.9 everywhere."""
    from station.pose.track import LandmarkTrack, save_track

    t = np.arange(n) / 30.0
    lift = 0.03 * np.abs(np.sin(np.pi * 2.5 * t))
    lm = np.zeros((n, 33, 4))
    lm[:, :, 0] = 0.5
    lm[:, :, 1] = (feet_y - 0.45 - lift)[:, None]  # head to hips
    lm[:, 27:33, 1] = (feet_y - lift)[:, None]  # ankles, heels, toes
    lm[:, :, 3] = 0.9
    save_track(LandmarkTrack(t, lm, np.full((n, 33, 3), np.nan), 30.0, 640, 360), path)
    return path


def counting(capsys: pytest.CaptureFixture[str], track: Path, *argv: str) -> dict:
    assert main(["analyze", str(track), "--json", *argv]) == 0
    return dict(json.loads(capsys.readouterr().out)["counting"])


def test_feet_in_the_picture_count_is_trusted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = counting(capsys, jumping_track(tmp_path / "in.npz", feet_y=0.85))
    assert out == {"feet_in_picture": 1.0, "trusted": True}


def test_feet_below_the_picture_count_is_not_trusted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    track = jumping_track(tmp_path / "out.npz", feet_y=1.1)
    out = counting(capsys, track)
    assert out["trusted"] is False and out["feet_in_picture"] == 0.0
    assert "feet are out of the picture" in out["why"]
    assert main(["analyze", str(track)]) == 0
    assert "count not trusted: the feet are out of the picture" in capsys.readouterr().out


def test_no_pose_count_is_not_trusted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from station.pose.track import LandmarkTrack, save_track

    nobody = tmp_path / "nobody.npz"
    n = 30
    save_track(LandmarkTrack(np.arange(n) / 30.0, np.full((n, 33, 4), np.nan),
                             np.full((n, 33, 3), np.nan), 30.0, 64, 48), nobody)  # fmt: skip
    assert counting(capsys, nobody) == {
        "feet_in_picture": None, "trusted": False, "why": "no pose in any frame"
    }  # fmt: skip
