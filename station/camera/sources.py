"""Camera sources: frames in, PoseFrame events out, newest frame first.

Pipeline for a live camera (Pi camera or an OpenCV device/video file)::

    capture thread ──▶ one-slot mailbox ──▶ inference thread ──▶ events() (main loop)

The capture thread never waits for inference: it overwrites the mailbox slot, and a frame that
was still waiting there is *dropped* (counted in :attr:`PosePipeline.dropped`). So inference
always works on the newest picture and latency stays one inference long, never a growing queue.
A frame's timestamp is its capture time: the injected monotonic clock when the picture is read
from a camera, or a video file's frame on the file's own time line (start + index / fps).
`[pose] max_fps` is applied in the capture thread on those times (station.camera.pacing).

A landmark track (``camera.source = 'track'``) replays PoseFrames without inference and as fast
as they are consumed. The simulator (``--simulate``) is chosen by :mod:`station.hardware` and
also produces PoseFrames directly; both bypass inference.

picamera2 and cv2 are imported inside functions: this module imports anywhere.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from station.camera.pacing import InferenceCap
from station.clock import Clock, MonotonicClock
from station.events import DeviceStatus, Event, PoseFrame
from station.hardware.protocols import HardwareMissing, Source
from station.pose.backends import PoseBackend, open_backend
from station.pose.jumper import JumperPicker, detect_jumper
from station.pose.track import load_track

if TYPE_CHECKING:
    from station.config.loader import Config

log = logging.getLogger(__name__)

CAMERA_FIX = (
    "check the camera ribbon cable is seated (contacts facing the right way) and the camera is "
    "enabled, then run `rpicam-hello --list-cameras`; the service user must be in the 'video' "
    "group"
)


def xrgb8888_to_rgb(frame: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """libcamera's XRGB8888 is a little-endian 32-bit word, so in memory (and in the numpy
    array picamera2 returns) each pixel's bytes are B, G, R, X. Pin that down here rather
    than trust a default: swapped red/blue silently worsens pose detection."""
    if frame.ndim != 3 or frame.shape[2] != 4:
        raise ValueError(f"expected an H×W×4 XRGB8888 frame, got shape {frame.shape}")
    return np.ascontiguousarray(frame[:, :, 2::-1])


class Mailbox:
    """A one-slot mailbox: `put` replaces whatever is waiting (counting it as dropped),
    `get` waits for the newest item. Nothing ever queues up behind a slow consumer."""

    def __init__(self) -> None:
        self._item: Any = None
        self._full = False
        self._closed = False
        self._cond = threading.Condition()
        self.dropped = 0

    def put(self, item: Any) -> None:
        with self._cond:
            if self._full:
                self.dropped += 1
            self._item = item
            self._full = True
            self._cond.notify()

    def get(self, timeout: float | None = None) -> Any:
        """The newest item, or None when closed (or on timeout)."""
        with self._cond:
            if not self._full and not self._closed:
                self._cond.wait(timeout)
            if not self._full:
                return None
            item, self._item, self._full = self._item, None, False
            return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class FrameGrabber(Protocol):
    """Blocks until the next picture; returns RGB uint8 H×W×3, or None at the end."""

    width: int
    height: int

    def grab(self) -> NDArray[np.uint8] | None: ...

    def close(self) -> None: ...


class Picamera2Grabber:
    """The Pi camera through picamera2, one stream at the configured (small) size."""

    def __init__(self, width: int, height: int, fps: float) -> None:
        try:
            from picamera2 import Picamera2  # Pi OS apt package python3-picamera2
        except ImportError as exc:
            raise HardwareMissing(
                "camera",
                f"picamera2 is not installed ({exc})",
                "`sudo apt install python3-picamera2` and create the venv with "
                "--system-site-packages; or set [camera] source = 'opencv'",
            ) from exc
        try:
            cameras = Picamera2.global_camera_info()
        except Exception as exc:  # libcamera not running / no permission
            raise HardwareMissing(
                "camera", f"libcamera cannot list cameras ({exc})", CAMERA_FIX
            ) from exc
        if not cameras:
            raise HardwareMissing("camera", "libcamera finds no camera", CAMERA_FIX)
        try:
            cam = Picamera2()
            config = cam.create_video_configuration(
                main={"size": (width, height), "format": "XRGB8888"},
                controls={"FrameRate": float(fps)},
                buffer_count=2,  # few buffers: old frames are of no use to us
            )
            cam.configure(config)
            cam.start()
        except Exception as exc:
            raise HardwareMissing(
                "camera", f"cannot start the Pi camera ({exc})", CAMERA_FIX
            ) from exc
        self._cam: Any = cam
        self.width, self.height = width, height

    def grab(self) -> NDArray[np.uint8] | None:
        return xrgb8888_to_rgb(self._cam.capture_array("main"))

    def close(self) -> None:
        self._cam.stop()
        self._cam.close()


class OpenCVGrabber:
    """A USB camera (`device` = index such as "0" or a /dev/video path) or a video file.

    A video file is paced at its own frame rate so it behaves like a camera: frames that
    inference cannot keep up with are dropped, as live, and when reading itself falls behind
    (a loaded machine) the frames whose time has passed are skipped, as a camera's sensor
    never waits for its reader. `position` is the returned frame's number in the file."""

    def __init__(
        self, device: str, width: int, height: int, fps: float, clock: Clock | None = None
    ) -> None:
        import cv2

        self.is_file = Path(device).is_file()
        target: int | str = int(device) if device.isdigit() else device
        cap = cv2.VideoCapture(target)
        if not cap.isOpened():
            if self.is_file:
                raise HardwareMissing(
                    "camera", f"cannot open video file {device}", "check the file plays"
                )
            node = f"/dev/video{device}" if device.isdigit() else device
            raise HardwareMissing(
                "camera",
                f"cannot open camera {node}",
                f"plug the USB camera in, check `v4l2-ctl --list-devices` shows {node}, and "
                "add the service user to the 'video' group",
            )
        if not self.is_file:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            cap.set(cv2.CAP_PROP_FPS, fps)
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._cap: Any = cap
        self._cv2: Any = cv2
        self.width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self._period = 1.0 / float(cap.get(cv2.CAP_PROP_FPS) or fps) if self.is_file else 0.0
        self.frame_period_s = self._period  # 0: a camera's, learnt from its frames' spacing
        self._clock = clock or MonotonicClock()
        self._start: float | None = None
        self._next = 0  # number of the next frame in the file
        self.position = -1
        self.skipped = 0
        self.captured_t: float | None = None  # the returned picture's capture time

    def grab(self) -> NDArray[np.uint8] | None:
        if self._period and not self._keep_time():
            return None
        ok, bgr = self._cap.read()
        if not ok or bgr is None:
            return None
        # When the picture was taken: a file's frame on its own time line (decoding it takes
        # a few jittery milliseconds that are no part of the motion); a camera's, now.
        if self._period and self._start is not None:
            self.captured_t = self._start + self._next * self._period
        else:
            self.captured_t = self._clock.now()
        self.position = self._next
        self._next += 1
        rgb: NDArray[np.uint8] = self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB)
        return rgb

    def _keep_time(self) -> bool:
        """Wait for the next frame's time, or skip those already past it. False at the end."""
        now = self._clock.now()
        if self._start is None:
            self._start = now
        due = int((now - self._start) / self._period)  # the frame a camera would show now
        while self._next < due:
            if not self._cap.grab():
                return False
            self._next += 1
            self.skipped += 1
        self._clock.sleep(self._start + self._next * self._period - now)
        return True

    def close(self) -> None:
        self._cap.release()


class PosePipeline:
    """A live Source of PoseFrame events: capture thread → mailbox → inference thread."""

    realtime = True

    def __init__(
        self,
        grabber: FrameGrabber,
        backend: PoseBackend,
        picker: JumperPicker,
        clock: Clock | None = None,
        name: str = "camera",
        max_fps: float = 0.0,
        max_fps_jitter: float = 0.0,
    ) -> None:
        self.name = name
        self._grabber = grabber
        # At most this many inferences a second (0: as fast as the model goes), so a laptop
        # sees what a Pi's slower model sees: the frames in between are dropped, chosen on
        # the frames' capture times (station.camera.pacing), as a steady slow model drops them.
        # With `max_fps_jitter`, that model's time per frame varies (seeded), as a Pi's does.
        period = float(getattr(grabber, "frame_period_s", 0.0))
        self.cap = InferenceCap(max_fps, period, jitter=max_fps_jitter)
        self.capped = 0  # frames the cap passed over (counted in `dropped`)
        self._backend = backend
        self._picker = picker
        self._clock = clock or MonotonicClock()
        self._mailbox = Mailbox()
        self._out: queue.Queue[Event | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.frames_captured = 0
        self.frames_inferred = 0
        self.ended = False  # a video file played to its end: the camera has gone quiet
        self.keep_image = False  # hand each picture on with its pose (the screen's live view)
        self.latest_image: NDArray[np.uint8] | None = None  # for a trainer's snapshot

    @property
    def dropped(self) -> int:
        """Frames overwritten in the mailbox before inference could take them, and frames of
        a video file skipped because reading them fell behind its frame rate."""
        return self.overwritten + self.capped + self.skipped

    @property
    def overwritten(self) -> int:
        """Frames replaced in the mailbox while inference was busy (a slow model)."""
        return self._mailbox.dropped

    @property
    def skipped(self) -> int:
        """Frames of a video file passed over because reading fell behind its frame rate."""
        return int(getattr(self._grabber, "skipped", 0))

    @property
    def finished(self) -> bool:
        """Both threads have stopped: every picture captured has been inferred or dropped,
        and its PoseFrame (if any) is in events() (a video file at its end, or closed)."""
        return bool(self._threads) and not any(t.is_alive() for t in self._threads)

    def start(self) -> None:
        if self._threads:
            return
        threads = [
            threading.Thread(target=target, name=f"{self.name}-{name}", daemon=True)
            for target, name in ((self._capture_loop, "capture"), (self._inference_loop, "pose"))
        ]
        for thread in threads:
            thread.start()
        # Listed only once both run: a short file's capture thread can end before the second
        # starts, and `finished` must not read True in between.
        self._threads = threads

    def _capture_loop(self) -> None:
        index = 0
        try:
            while not self._stop.is_set():
                rgb = self._grabber.grab()
                if rgb is None:
                    self.ended = bool(getattr(self._grabber, "is_file", False))
                    break
                captured = getattr(self._grabber, "captured_t", None)
                t = self._clock.now() if captured is None else float(captured)
                index = int(getattr(self._grabber, "position", index))  # skipped frames show
                self.latest_image = rgb  # one reference, replaced each frame: nothing piles up
                self.frames_captured += 1
                if self.cap.admits(t):
                    self._mailbox.put((index, t, rgb))
                else:
                    self.capped += 1
                index += 1
        except Exception as exc:  # a dead camera degrades the station, it does not crash it
            log.exception("camera capture failed")
            self._out.put(DeviceStatus(self._clock.now(), "camera", False, str(exc)))
        finally:
            self._mailbox.close()

    def _inference_loop(self) -> None:
        try:
            while True:
                item = self._mailbox.get()
                if item is None:
                    break
                index, t, rgb = item
                start = time.perf_counter()  # a cost, not a timestamp: wall time
                chosen = detect_jumper(self._backend, self._picker, rgb, t)
                inference_ms = 1000.0 * (time.perf_counter() - start)
                height, width = rgb.shape[:2]
                self.frames_inferred += 1
                self._out.put(
                    PoseFrame(
                        t=t,
                        lm=None if chosen is None else chosen.lm,
                        world=None if chosen is None else chosen.world,
                        width=width,
                        height=height,
                        index=index,
                        inference_ms=inference_ms,
                        image=rgb if self.keep_image else None,
                    )
                )
        except Exception as exc:
            log.exception("pose inference failed")
            self._out.put(DeviceStatus(self._clock.now(), "camera", False, f"pose: {exc}"))
        finally:
            self._out.put(None)

    def events(self) -> Iterator[Event]:
        self.start()
        self._out.put(DeviceStatus(self._clock.now(), "camera", True, "camera started"))
        while True:
            event = self._out.get()
            if event is None:
                break
            yield event
        if self.ended:
            # A video file ends as a camera going quiet: no more poses, and no reopening
            # (which would play it again); the station sees nobody and ends the session.
            log.info("%s: the video has ended; the camera stays quiet", self.name)
            self._stop.wait()

    def close(self) -> None:
        self._stop.set()
        self._mailbox.close()
        for thread in self._threads:
            thread.join(timeout=2.0)
        self._grabber.close()
        self._backend.close()


class TrackReplay:
    """A landmark track replayed as PoseFrames, as fast as they are consumed."""

    realtime = False

    def __init__(self, path: str | Path, clock: Clock | None = None, name: str = "camera") -> None:
        self.name = name
        self.track = load_track(path)
        self._t0 = clock.now() if clock is not None else 0.0

    def events(self) -> Iterator[Event]:
        yield from self.track.frames(self._t0)

    def close(self) -> None:
        pass


def open_pose_pipeline(config: Config, clock: Clock | None = None) -> Source:
    """The camera Source the config asks for (camera.source: picamera2, opencv or track).

    Raises HardwareMissing naming the fix when the camera or the model is not there."""
    cam = config["camera"]
    source = cam["source"]
    if source == "track":
        try:
            return TrackReplay(cam["device"], clock)
        except ValueError as exc:
            raise HardwareMissing(
                "camera", f"cannot replay track ({exc})", "set [camera] device to a track .npz"
            ) from exc
    width, height, fps = int(cam["width"]), int(cam["height"]), float(cam["fps"])
    grabber: FrameGrabber
    if source == "picamera2":
        grabber = Picamera2Grabber(width, height, fps)
    elif source == "opencv":
        grabber = OpenCVGrabber(str(cam["device"]), width, height, fps, clock)
    else:
        raise HardwareMissing("camera", f"unknown camera source {source!r}", "fix [camera] source")
    try:
        backend = open_backend(config["pose"])
    except Exception as exc:
        grabber.close()
        raise HardwareMissing("pose model", str(exc), "see [pose] in the config") from exc
    pose = config["pose"]
    pipeline = PosePipeline(
        grabber,
        backend,
        JumperPicker(cam["roi"]),
        clock,
        max_fps=float(pose["max_fps"]),
        max_fps_jitter=float(pose["max_fps_jitter"]),
    )
    pipeline.keep_image = bool(config["display"]["live_view"])
    return pipeline
