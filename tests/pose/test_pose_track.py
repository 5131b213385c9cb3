"""The landmark-track .npz format: round trip and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from station.pose.track import LandmarkTrack, TrackError, load_track, save_track


def make_track(n: int = 10) -> LandmarkTrack:
    rng = np.random.default_rng(0)
    lm = rng.random((n, 33, 4))
    lm[3] = np.nan  # nobody in frame
    world = rng.random((n, 33, 3))
    world[3] = np.nan
    return LandmarkTrack(np.arange(n) / 30.0, lm, world, 30.0, 640, 480)


def test_round_trip(tmp_path: Path) -> None:
    track = make_track()
    save_track(track, tmp_path / "t.npz")
    back = load_track(tmp_path / "t.npz")
    assert np.array_equal(back.lm, track.lm, equal_nan=True)
    assert np.array_equal(back.world, track.world, equal_nan=True)
    assert (back.fps, back.width, back.height) == (30.0, 640, 480)
    frames = list(back.frames())
    assert frames[3].lm is None and frames[4].lm is not None
    assert [f.index for f in frames] == list(range(10))


def test_missing_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, t=np.zeros(3), lm=np.zeros((3, 33, 4)), fps=30.0, width=1, height=1)
    with pytest.raises(TrackError, match=r"missing key.*world"):
        load_track(path)


def test_wrong_shape_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.npz"
    np.savez(
        path,
        t=np.arange(3.0),
        lm=np.zeros((3, 17, 4)),
        world=np.zeros((3, 33, 3)),
        fps=30.0,
        width=1,
        height=1,
    )
    with pytest.raises(TrackError, match="'lm' must have shape"):
        load_track(path)


def test_not_a_track_at_all(tmp_path: Path) -> None:
    path = tmp_path / "junk.npz"
    path.write_bytes(b"this is not a zip file")
    with pytest.raises(TrackError, match="cannot read"):
        load_track(path)
