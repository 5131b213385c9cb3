"""Camera sources: pixel order, newest-frame-wins mailbox, the live pipeline with a fake
sensor (the hardware edge) and real inference, track replay, and missing-camera errors."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from station.camera.sources import (
    Mailbox,
    OpenCVGrabber,
    PosePipeline,
    open_pose_pipeline,
    xrgb8888_to_rgb,
)
from station.events import DeviceStatus, PoseFrame
from station.hardware import HardwareMissing
from station.pose.backends import LegacyPoseBackend
from station.pose.jumper import JumperPicker
from station.pose.track import LandmarkTrack, save_track


def test_xrgb8888_bytes_are_b_g_r_x() -> None:
    frame = np.zeros((2, 3, 4), dtype=np.uint8)
    frame[..., 0], frame[..., 1], frame[..., 2], frame[..., 3] = 10, 20, 30, 255  # B G R X
    rgb = xrgb8888_to_rgb(frame)
    assert rgb.shape == (2, 3, 3) and rgb.flags.c_contiguous
    assert rgb[0, 0].tolist() == [30, 20, 10]


def test_mailbox_keeps_only_the_newest_and_counts_drops() -> None:
    box = Mailbox()
    for i in range(5):
        box.put(i)
    assert box.get(timeout=0.1) == 4
    assert box.dropped == 4
    box.close()
    assert box.get(timeout=0.1) is None


class SlowConsumerGrabber:
    """A fake camera sensor that serves frames of a real clip as fast as asked."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        self.frames = frames
        self.width, self.height = frames[0].shape[1], frames[0].shape[0]
        self.closed = False

    def grab(self) -> np.ndarray | None:
        return self.frames.pop(0) if self.frames else None

    def close(self) -> None:
        self.closed = True


def clip_frames(shared_data: Path, n: int) -> list[np.ndarray]:
    from station.camera.video import VideoReader

    out = []
    with VideoReader(shared_data / "jumprope" / "quva_rope_beach.mp4") as reader:
        for _i, _t, rgb in reader:
            out.append(rgb)
            if len(out) == n:
                break
    return out


def test_pipeline_drops_frames_instead_of_queueing(shared_data: Path) -> None:
    frames = clip_frames(shared_data, 60)
    grabber = SlowConsumerGrabber(frames)
    pipeline = PosePipeline(grabber, LegacyPoseBackend(), JumperPicker())
    events = list(pipeline.events())
    pipeline.close()
    poses = [e for e in events if isinstance(e, PoseFrame)]
    assert isinstance(events[0], DeviceStatus) and events[0].ok
    # The grabber is far faster than inference: most frames are dropped, none queue up.
    assert pipeline.dropped > 0
    assert len(poses) + pipeline.dropped == 60
    assert any(p.lm is not None for p in poses)
    ts = [p.t for p in poses]
    assert ts == sorted(ts)
    assert all(p.inference_ms > 0 for p in poses)
    assert all(p.image is None for p in poses)  # pictures are not passed on unless asked
    assert grabber.closed


def test_pipeline_hands_on_the_picture_for_the_live_view(shared_data: Path) -> None:
    frames = clip_frames(shared_data, 5)
    grabber = SlowConsumerGrabber(list(frames))  # it consumes its list
    pipeline = PosePipeline(grabber, LegacyPoseBackend(), JumperPicker())
    pipeline.keep_image = True
    poses = [e for e in pipeline.events() if isinstance(e, PoseFrame)]
    pipeline.close()
    assert poses and all(p.image is not None for p in poses)
    assert any(any(np.array_equal(p.image, f) for f in frames) for p in poses)


def test_track_replay_source(tmp_path: Path) -> None:
    lm = np.full((5, 33, 4), 0.5)
    track = LandmarkTrack(np.arange(5) / 10.0, lm, np.zeros((5, 33, 3)), 10.0, 64, 48)
    save_track(track, tmp_path / "t.npz")
    config = {"camera": {"source": "track", "device": str(tmp_path / "t.npz")}}
    source = open_pose_pipeline(config)
    frames = list(source.events())
    assert len(frames) == 5 and not source.realtime


def test_bad_track_is_hardware_missing_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "t.npz").write_bytes(b"garbage")
    config = {"camera": {"source": "track", "device": str(tmp_path / "t.npz")}}
    with pytest.raises(HardwareMissing, match="cannot replay track"):
        open_pose_pipeline(config)


def test_missing_usb_camera_names_the_fix() -> None:
    with pytest.raises(HardwareMissing) as info:
        OpenCVGrabber("/dev/video-not-there", 640, 480, 30)
    assert "'video' group" in info.value.fix


def test_missing_picamera2_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_picamera2(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "picamera2":
            raise ImportError("No module named 'picamera2'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_picamera2)
    config = {
        "camera": {
            "source": "picamera2",
            "width": 640,
            "height": 480,
            "fps": 30,
            "roi": [0, 0, 1, 1],
        },
        "pose": {},
    }
    with pytest.raises(HardwareMissing, match="python3-picamera2"):
        open_pose_pipeline(config)


def test_close_stops_threads(shared_data: Path) -> None:
    frames = clip_frames(shared_data, 5)
    grabber = SlowConsumerGrabber(list(frames))  # it consumes its list
    pipeline = PosePipeline(grabber, LegacyPoseBackend(), JumperPicker())
    pipeline.start()
    pipeline.close()
    alive = [t for t in threading.enumerate() if t.name.startswith("camera-")]
    assert not alive
