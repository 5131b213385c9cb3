"""`station analyze --roi`: where the jumper is, given by hand; the JSON says how it was
chosen. On a track (no pictures) the poses standing outside the region are dropped."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from station.cli import main


def still_track(path: Path) -> Path:
    from station.pose.track import LandmarkTrack, save_track

    n = 90
    lm = np.full((n, 33, 4), np.nan)
    lm[30:60] = 0.5  # someone stands at the centre for a second (visibility 0.5)
    save_track(LandmarkTrack(np.arange(n) / 30.0, lm, np.full((n, 33, 3), np.nan), 30.0, 64, 48),
               path)  # fmt: skip
    return path


def analyse(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["analyze", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_roi_given_keeps_only_who_stands_inside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    track = str(still_track(tmp_path / "t.npz"))
    whole = analyse(capsys, track)
    assert whole["jumper"] == {"roi": [0.0, 0.0, 1.0, 1.0], "how": "whole picture"}
    assert whole["pose_frames"] == 30
    inside = analyse(capsys, track, "--roi", "0.4,0.2,0.6,0.9")
    assert inside["jumper"] == {"roi": [0.4, 0.2, 0.6, 0.9], "how": "given"}
    assert inside["pose_frames"] == 30
    outside = analyse(capsys, track, "--roi", "0,0,0.3,1")
    assert outside["pose_frames"] == 0 and outside["jumps"] == 0


@pytest.mark.parametrize("roi", ["0.1,0.2,0.3", "0.6,0,0.4,1", "x,0,1,1", "0,0,1,2"])
def test_bad_roi_is_a_clear_error(
    roi: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["analyze", str(still_track(tmp_path / "t.npz")), "--roi", roi])
    assert exc.value.code == 2
    assert "--roi" in capsys.readouterr().err
