"""A video file is a camera (played at its own rate, then quiet) and `pose.max_fps` caps
inference like a slower model. Real inference; only the sensor is faked where it must be."""

from __future__ import annotations

import itertools
import math
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from station.camera.sources import OpenCVGrabber, PosePipeline
from station.events import Event, PoseFrame
from station.pose.backends import LegacyPoseBackend
from station.pose.jumper import JumperPicker


class PacedGrabber:
    """A fake 30 frames/s sensor (the hardware edge): `n` grey pictures stamped 1/30 s apart
    on the sensor's own clock. It does not wait in real time: the cap decides on those
    stamps alone, and a sensor that outruns the model only makes more frames drop in the
    mailbox, which these tests count as well (no wall time in them)."""

    def __init__(self, n: int, fps: float = 30.0) -> None:
        self.left, self.period = n, 1.0 / fps
        self.width, self.height = 160, 120
        self._next = 0.0
        self.captured_t: float | None = None  # the sensor's own timestamp of the picture

    def grab(self) -> np.ndarray | None:
        if self.left == 0:
            return None
        self.left -= 1
        self._next += self.period
        self.captured_t = self._next  # on the sensor's clock: exactly 1/fps apart
        return np.full((self.height, self.width, 3), 128, dtype=np.uint8)

    def close(self) -> None:
        pass


def poses(events: list[Event]) -> list[PoseFrame]:
    return [e for e in events if isinstance(e, PoseFrame)]


@pytest.mark.parametrize("max_fps", [5.0, 12.0])
def test_max_fps_caps_inference_and_drops_the_frames_between(max_fps: float) -> None:
    frames = 60  # two seconds at 30 frames/s
    pipeline = PosePipeline(PacedGrabber(frames), LegacyPoseBackend(), JumperPicker(),
                            max_fps=max_fps)  # fmt: skip
    got = poses(list(pipeline.events()))
    pipeline.close()
    # Never more than the cap allows: it decides on the sensor's capture times (1/30 s apart
    # whatever the load), so no two inferred frames are closer than its period, less the half
    # frame it allows for jitter, and a slower machine only drops more...
    period, frame = 1.0 / max_fps, 1.0 / 30.0
    assert all(b.t - a.t >= period - frame / 2 - 1e-6 for a, b in itertools.pairwise(got))
    assert len(got) <= math.ceil(frames * frame / period)
    # ...and every frame is either inferred or counted as dropped, visible in the indices.
    assert len(got) + pipeline.dropped == frames
    gaps = sum(b.index - a.index - 1 for a, b in itertools.pairwise(got))
    assert gaps + got[0].index + (frames - 1 - got[-1].index) == pipeline.dropped


def test_uncapped_infers_whatever_the_model_keeps_up_with() -> None:
    pipeline = PosePipeline(PacedGrabber(30), LegacyPoseBackend(), JumperPicker(), max_fps=0)
    got = poses(list(pipeline.events()))
    pipeline.close()
    # how many is the machine's business (timing); that none is lost or duplicated is ours
    assert got and len(got) + pipeline.dropped == 30
    assert [p.index for p in got] == sorted({p.index for p in got})


def write_video(path: Path, n: int, fps: float) -> None:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (160, 120))
    for i in range(n):
        writer.write(np.full((120, 160, 3), 40 + 5 * i, dtype=np.uint8))
    writer.release()


def wait_until_finished(pipeline: PosePipeline) -> None:
    """Both of the pipeline's threads have stopped (a bound only against a hang)."""
    deadline = time.monotonic() + 60
    while not pipeline.finished and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pipeline.finished


def test_a_video_file_plays_in_real_time_then_goes_quiet(tmp_path: Path) -> None:
    from station.clock import ManualClock

    video = tmp_path / "clip.avi"
    write_video(video, 20, 20.0)  # one second
    clock = ManualClock()  # the grabber's waits move it: real time's part, without the wait
    grabber = OpenCVGrabber(str(video), 640, 480, 30, clock)
    assert grabber.is_file
    pipeline = PosePipeline(grabber, LegacyPoseBackend(), JumperPicker(), clock)
    seen: list[Event] = []
    done = threading.Event()

    def consume() -> None:
        seen.extend(pipeline.events())
        done.set()

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    wait_until_finished(pipeline)
    # Played at its own rate: the grabber waited for each frame's time (20 frames at 20/s,
    # then the end of the file, due 1 s after the first), skipped none, and stamped each
    # picture on that line.
    assert clock.now() == pytest.approx(20 / 20.0) and grabber.skipped == 0
    assert pipeline.frames_captured == 20
    got = poses(seen)
    assert got and [p.t for p in got] == pytest.approx([p.index / 20.0 for p in got])
    # The end of the file is a camera going quiet: no error, no reopening, no more frames;
    # the events stay open (a quiet camera, not a finished one) until the station closes it.
    assert pipeline.ended and not done.is_set()
    assert all(getattr(e, "ok", True) for e in seen)
    pipeline.close()
    assert done.wait(5)


def test_a_late_reader_skips_the_frames_whose_time_has_passed(tmp_path: Path) -> None:
    """A camera's sensor never waits: a video file read late jumps to the frame due now."""
    from station.clock import ManualClock

    video = tmp_path / "clip.avi"
    write_video(video, 20, 20.0)
    clock = ManualClock()
    grabber = OpenCVGrabber(str(video), 640, 480, 30, clock)
    assert grabber.grab() is not None and grabber.position == 0
    assert grabber.grab() is not None and grabber.position == 1
    assert clock.now() == pytest.approx(0.05)  # waited for the second frame's time
    clock.advance(0.5)  # the reader stalled for half a second
    assert grabber.grab() is not None
    assert grabber.position == 11 and grabber.skipped == 9
    # stamped when the frame was due on the file's time line, not when it was read
    assert grabber.captured_t == pytest.approx(11 * 0.05)
    got = 0
    while grabber.grab() is not None:
        got += 1
    assert got == 8 and grabber.position == 19  # then the rest, to the end of the file
    grabber.close()


def test_a_capped_video_file_is_inferred_on_its_own_time_line(tmp_path: Path) -> None:
    """max_fps on a video file: each PoseFrame's time is its frame's time in the file (the
    start plus index / fps, whatever decoding or a loaded machine took), and inferred frames
    are at least a cap period apart less half a frame: the cap decides on those times."""
    from station.clock import ManualClock

    video = tmp_path / "clip.avi"
    write_video(video, 30, 30.0)
    clock = ManualClock(100.0)
    grabber = OpenCVGrabber(str(video), 640, 480, 30, clock)
    pipeline = PosePipeline(grabber, LegacyPoseBackend(), JumperPicker(), clock, max_fps=10.0)
    seen: list[Event] = []
    thread = threading.Thread(target=lambda: seen.extend(pipeline.events()), daemon=True)
    thread.start()
    wait_until_finished(pipeline)
    pipeline.close()
    thread.join(5)
    got = poses(seen)
    assert got and pipeline.frames_captured + grabber.skipped == 30
    t0 = got[0].t - got[0].index / 30.0
    assert [p.t - t0 for p in got] == pytest.approx([p.index / 30.0 for p in got], abs=1e-9)
    assert all(b.t - a.t >= 0.1 - 1 / 60 for a, b in itertools.pairwise(got))
    assert len(got) + pipeline.dropped == 30
