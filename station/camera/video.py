"""Reading video files and OpenCV devices frame by frame, with clear errors for bad files."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)


class VideoError(RuntimeError):
    """A video that cannot be opened or decoded; the message names the file."""


@dataclass
class VideoInfo:
    path: str
    fps: float
    width: int
    height: int
    frame_count: int  # as the container claims it; may be wrong for truncated files


class VideoReader:
    """Frames of a video file as (index, t seconds, RGB uint8) at the file's own rate.

    Timestamps are index / fps: container timestamps are often missing or coarse, and a
    constant-rate clip is what the phone or camera recorded.
    """

    def __init__(self, path: str | Path) -> None:
        import cv2

        self.path = str(path)
        if not Path(self.path).is_file():
            raise VideoError(f"{self.path}: no such file")
        cap = cv2.VideoCapture(self.path)
        if not cap.isOpened():
            raise VideoError(f"{self.path}: cannot open as a video (unknown or damaged format)")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if not (0 < fps < 1000) or width <= 0 or height <= 0:
            cap.release()
            raise VideoError(
                f"{self.path}: not a usable video (fps={fps:g}, size={width}×{height})"
            )
        self._cap: Any = cap
        self.info = VideoInfo(self.path, fps, width, height, count)
        self.frames_read = 0

    def skip(self, n: int) -> int:
        """Move past `n` frames without converting them (exact, unlike seeking, which lands
        on key frames in many containers). Returns how many frames were skipped."""
        skipped = 0
        while skipped < n and self._cap.grab():
            skipped += 1
        self.frames_read += skipped
        return skipped

    def __iter__(self) -> Iterator[tuple[int, float, NDArray[np.uint8]]]:
        import cv2

        fps = self.info.fps
        while True:
            ok, bgr = self._cap.read()
            if not ok or bgr is None:
                break
            i = self.frames_read
            self.frames_read += 1
            yield i, i / fps, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if self.frames_read == 0:
            raise VideoError(f"{self.path}: no frame could be decoded (truncated or damaged)")
        if self.ended_early:
            log.warning(
                "%s: decoding stopped after %d of %d frames (truncated or damaged file)",
                self.path,
                self.frames_read,
                self.info.frame_count,
            )

    @property
    def ended_early(self) -> bool:
        """Fewer frames decoded than the container announced (a truncated file)."""
        return 0 < self.frames_read < 0.98 * self.info.frame_count

    def close(self) -> None:
        self._cap.release()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
