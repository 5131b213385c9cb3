"""Landmark tracks: a whole recording's pose landmarks in one `.npz` file.

Format (all arrays, one row per video frame):

- ``t``      float64 [N]        seconds from the first frame (strictly increasing)
- ``lm``     float64 [N, 33, 4] normalised x, y, relative z, visibility; a NaN row = no pose
- ``world``  float64 [N, 33, 3] metres, origin between the hips; NaN rows where unknown
- ``fps``    float scalar       the recording's frame rate
- ``width``, ``height``  int scalars, the image size in pixels

A track replays exactly like the camera (see :func:`LandmarkTrack.frames`), so posture and
counting can be developed and tested without running inference again.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from station.events import NUM_LANDMARKS, PoseFrame

REQUIRED_KEYS: tuple[str, ...] = ("t", "lm", "world", "fps", "width", "height")


class TrackError(ValueError):
    """A track file that cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class LandmarkTrack:
    t: NDArray[np.float64]
    lm: NDArray[np.float64]
    world: NDArray[np.float64]
    fps: float
    width: int
    height: int

    def __post_init__(self) -> None:
        problems = shape_problems(self.t, self.lm, self.world)
        if problems:
            raise TrackError("; ".join(problems))

    def __len__(self) -> int:
        return int(self.t.shape[0])

    @property
    def duration_s(self) -> float:
        return float(self.t[-1] - self.t[0]) + 1.0 / self.fps if len(self) else 0.0

    @property
    def has_pose(self) -> NDArray[np.bool_]:
        """True for frames with a pose (rows that are not all NaN)."""
        return ~np.all(np.isnan(self.lm[:, :, :2]), axis=(1, 2))

    def frames(self, t0: float = 0.0) -> Iterator[PoseFrame]:
        """The track as PoseFrame events, timestamps offset by `t0`."""
        has_pose = self.has_pose
        for i in range(len(self)):
            lm = self.lm[i] if has_pose[i] else None
            world = self.world[i] if has_pose[i] and not np.isnan(self.world[i]).all() else None
            yield PoseFrame(
                t=t0 + float(self.t[i]),
                lm=lm,
                world=world,
                width=self.width,
                height=self.height,
                index=i,
            )

    @classmethod
    def from_frames(
        cls, frames: list[PoseFrame], fps: float, width: int, height: int
    ) -> LandmarkTrack:
        n = len(frames)
        t = np.array([f.t for f in frames], dtype=np.float64)
        if n:
            t = t - t[0]
        lm = np.full((n, NUM_LANDMARKS, 4), np.nan)
        world = np.full((n, NUM_LANDMARKS, 3), np.nan)
        for i, f in enumerate(frames):
            if f.lm is not None:
                lm[i] = f.lm
            if f.world is not None:
                world[i] = f.world
        return cls(t, lm, world, float(fps), int(width), int(height))


def shape_problems(t: np.ndarray, lm: np.ndarray, world: np.ndarray) -> list[str]:
    problems = []
    if t.ndim != 1:
        problems.append(f"'t' must be 1-D [N], got shape {t.shape}")
        return problems
    n = t.shape[0]
    if lm.shape != (n, NUM_LANDMARKS, 4):
        problems.append(f"'lm' must have shape [{n}, {NUM_LANDMARKS}, 4], got {lm.shape}")
    if world.shape != (n, NUM_LANDMARKS, 3):
        problems.append(f"'world' must have shape [{n}, {NUM_LANDMARKS}, 3], got {world.shape}")
    if n > 1 and not np.all(np.diff(t) > 0):
        problems.append("'t' must be strictly increasing")
    return problems


def load_track(path: str | Path) -> LandmarkTrack:
    """Read a track; a missing key, wrong shape or unreadable file raises :class:`TrackError`."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in REQUIRED_KEYS if k not in data.files]
            if missing:
                raise TrackError(
                    f"{path}: not a landmark track, missing key(s) {', '.join(missing)} "
                    f"(a track needs {', '.join(REQUIRED_KEYS)})"
                )
            arrays = {k: np.asarray(data[k]) for k in REQUIRED_KEYS}
    except TrackError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise TrackError(f"{path}: cannot read as a .npz landmark track ({exc})") from exc
    for key in ("fps", "width", "height"):
        if arrays[key].size != 1:
            raise TrackError(f"{path}: '{key}' must be a single number, got {arrays[key].shape}")
    try:
        track = LandmarkTrack(
            t=arrays["t"].astype(np.float64),
            lm=arrays["lm"].astype(np.float64),
            world=arrays["world"].astype(np.float64),
            fps=float(arrays["fps"]),
            width=int(arrays["width"]),
            height=int(arrays["height"]),
        )
    except TrackError as exc:
        raise TrackError(f"{path}: {exc}") from exc
    if not track.fps > 0:
        raise TrackError(f"{path}: 'fps' must be > 0, got {track.fps}")
    return track


def save_track(track: LandmarkTrack, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        np.savez_compressed(
            fh,
            t=track.t,
            lm=track.lm,
            world=track.world,
            fps=np.float64(track.fps),
            width=np.int64(track.width),
            height=np.int64(track.height),
        )
