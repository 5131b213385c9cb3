"""Pose backends: one RGB image in, 33 landmarks out, whichever MediaPipe API runs underneath.

- :class:`LegacyPoseBackend` — ``mediapipe.solutions.pose`` with the full model bundled in the
  wheel (works offline; mediapipe ≤ 0.10.21). The default.
- :class:`TasksPoseBackend` — the Tasks ``PoseLandmarker`` with a ``.task`` model file (newer
  mediapipe, Python 3.13). It can report several people; the jumper picker chooses.

Both return :class:`PoseCandidate` lists with identical layout (``lm`` 33×4 normalised x, y, z,
visibility; ``world`` 33×3 metres), so nothing downstream knows which backend ran.
mediapipe is imported inside the constructors only (it is heavy and not needed for replay).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from station.events import NUM_LANDMARKS


class PoseModelMissing(RuntimeError):
    """The configured model file is not there (Tasks backend)."""


@dataclass(frozen=True)
class PoseCandidate:
    lm: NDArray[np.float64]  # 33×4
    world: NDArray[np.float64] | None  # 33×3


class PoseBackend(Protocol):
    name: str

    def detect(self, rgb: NDArray[np.uint8], t: float) -> list[PoseCandidate]:
        """People found in one RGB uint8 H×W×3 image taken at `t` seconds (monotonic)."""
        ...

    def reset(self) -> None:
        """Forget the tracked person (the next frame runs the detector again)."""
        ...

    def close(self) -> None: ...


def _landmarks_to_array(landmarks: Any, with_visibility: bool = True) -> NDArray[np.float64]:
    cols = 4 if with_visibility else 3
    out = np.empty((NUM_LANDMARKS, cols), dtype=np.float64)
    for i, p in enumerate(landmarks):
        if i >= NUM_LANDMARKS:
            break
        out[i, 0] = p.x
        out[i, 1] = p.y
        out[i, 2] = p.z
        if with_visibility:
            vis = getattr(p, "visibility", None)
            out[i, 3] = 1.0 if vis is None else float(vis)
    return out


class LegacyPoseBackend:
    """``mediapipe.solutions.pose`` (BlazePose full model, bundled). Tracks one person."""

    name = "legacy"

    def __init__(
        self,
        *,
        model_complexity: int = 1,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        smooth_landmarks: bool = False,
        static_image_mode: bool = False,
    ) -> None:
        try:
            from mediapipe.python.solutions import pose as mp_pose
        except ImportError as exc:  # mediapipe ≥ 0.10.22 dropped the legacy solutions
            raise PoseModelMissing(
                f"the legacy pose backend needs mediapipe ≤ 0.10.21 with solutions.pose ({exc}); "
                "set [pose] backend = 'tasks' and a task_model file instead"
            ) from exc
        self._kwargs = dict(
            static_image_mode=static_image_mode,
            model_complexity=model_complexity,
            smooth_landmarks=smooth_landmarks,
            enable_segmentation=False,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )
        self._mp_pose = mp_pose
        self._pose = mp_pose.Pose(**self._kwargs)

    def detect(self, rgb: NDArray[np.uint8], t: float) -> list[PoseCandidate]:
        result = self._pose.process(np.ascontiguousarray(rgb))
        if result.pose_landmarks is None:
            return []
        lm = _landmarks_to_array(result.pose_landmarks.landmark)
        world = None
        if result.pose_world_landmarks is not None:
            world = _landmarks_to_array(result.pose_world_landmarks.landmark, False)
        return [PoseCandidate(lm, world)]

    def reset(self) -> None:
        # The legacy graph has no "forget" call; a fresh graph re-runs the person detector.
        self._pose.close()
        self._pose = self._mp_pose.Pose(**self._kwargs)

    def close(self) -> None:
        self._pose.close()


class TasksPoseBackend:
    """The Tasks ``PoseLandmarker`` in VIDEO mode with a ``.task`` model file."""

    name = "tasks"

    def __init__(
        self,
        model_path: str | Path,
        *,
        num_poses: int = 2,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise PoseModelMissing(
                f"pose model file {path} not found ([pose] task_model): install.sh downloads "
                "MediaPipe's pose_landmarker_full.task there and checks its sha256 when [pose] "
                "backend = 'tasks'; run `sudo ./install.sh` again (STATION_POSE_MODEL_URL for a "
                "local copy), or use [pose] backend = 'legacy' (mediapipe <= 0.10.21)"
            )
        from mediapipe.tasks.python import BaseOptions, vision

        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(path)),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=num_poses,
            min_pose_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
            output_segmentation_masks=False,
        )
        self._options = options
        self._vision = vision
        try:
            self._landmarker = vision.PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise PoseModelMissing(
                f"{path} is not a usable pose landmarker model ({exc}); [pose] task_model must "
                "be MediaPipe's pose_landmarker_*.task bundle"
            ) from exc
        self._last_ms = -1

    def detect(self, rgb: NDArray[np.uint8], t: float) -> list[PoseCandidate]:
        import mediapipe as mp

        # VIDEO mode demands strictly increasing integer milliseconds.
        ms = max(round(t * 1000.0), self._last_ms + 1)
        self._last_ms = ms
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        result = self._landmarker.detect_for_video(image, ms)
        out = []
        worlds = result.pose_world_landmarks or []
        for k, landmarks in enumerate(result.pose_landmarks or []):
            world = _landmarks_to_array(worlds[k], False) if k < len(worlds) else None
            out.append(PoseCandidate(_landmarks_to_array(landmarks), world))
        return out

    def reset(self) -> None:
        self._landmarker.close()
        self._landmarker = self._vision.PoseLandmarker.create_from_options(self._options)

    def close(self) -> None:
        self._landmarker.close()


def open_backend(pose_config: Mapping[str, Any]) -> PoseBackend:
    """The backend the [pose] config section names."""
    detection = float(pose_config["min_detection_confidence"])
    tracking = float(pose_config["min_tracking_confidence"])
    if pose_config["backend"] == "tasks":
        return TasksPoseBackend(
            pose_config["task_model"],
            min_detection_confidence=detection,
            min_tracking_confidence=tracking,
        )
    return LegacyPoseBackend(
        smooth_landmarks=bool(pose_config.get("smooth_landmarks", False)),
        min_detection_confidence=detection,
        min_tracking_confidence=tracking,
    )
