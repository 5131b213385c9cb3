"""`station bench analyze`: offline analysis speed, its cost against inference, and memory.

Two runs of the real `station analyze --json` command (subprocesses, so their peak memory is
their own) on a 30 fps 640×480 clip made from a real recording (hb_double_2, 640×360,
padded to 640×480 top and bottom; 20 s, or 5 s with --quick). Figures, all from that one run:

- real-time factor: clip duration / wall time of the whole default command (two inference
  threads; start-up included);
- analysis + counting cost per frame as a share of inference time per frame (both timed
  inside the same `--workers 1` process, frame by frame);
- the camera counter alone per frame (in this process, on the track the run saved);
- the cost of the whole analysis against bare MediaPipe: wall time of ``analyze()`` (jumper
  search, crop, inference, counting, posture; one inference worker) divided by the wall time
  of decoding the same clip and running the same model on every whole picture, both in this
  process one after the other (issue 11 asks for ≤ 1.10), in wall time and in CPU time (the
  latter does not drift with other programs' load on a shared machine);
- peak resident memory of the command;
- CPU seconds the command used per second of video, and the 1-minute load average: on a
  shared machine the wall-clock speed depends on what else runs; CPU time per video second
  tells how much of the machine the analysis itself needs (with 2 free cores, the speed
  would be about 2 / that figure).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from station.bench import Benchmark, Figure
from station.config.loader import Config

SOURCE_CLIP = "hb_double_2.mp4"
WIDTH, HEIGHT, FPS = 640, 480, 30.0


def shared_data() -> Path:
    default = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    return Path(os.environ.get("STATION_SHARED_DATA", default))


def make_clip(out: Path, seconds: float) -> Path:
    """A 640×480 30 fps clip from a real recording (letterboxed, not stretched)."""
    import cv2
    import numpy as np

    src = shared_data() / "jumprope" / SOURCE_CLIP
    cap = cv2.VideoCapture(str(src))
    if not cap.isOpened():
        raise FileNotFoundError(f"{src} not found (set STATION_SHARED_DATA)")
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    for _ in range(int(seconds * FPS)):
        ok, frame = cap.read()
        if not ok:
            break
        h, w = frame.shape[:2]
        scale = min(WIDTH / w, HEIGHT / h)
        frame = cv2.resize(frame, (round(w * scale), round(h * scale)))
        canvas = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
        y0, x0 = (HEIGHT - frame.shape[0]) // 2, (WIDTH - frame.shape[1]) // 2
        canvas[y0 : y0 + frame.shape[0], x0 : x0 + frame.shape[1]] = frame
        writer.write(canvas)
    writer.release()
    cap.release()
    return out


def counter_ms_per_frame(track_path: Path) -> float:
    from station.camcount.counter import CameraJumpCounter
    from station.pose.track import load_track

    frames = list(load_track(track_path).frames())
    counter = CameraJumpCounter()
    start = time.perf_counter()
    for frame in frames:
        counter.update(frame)
    return 1000.0 * (time.perf_counter() - start) / max(len(frames), 1)


def bare_mediapipe_s(clip: Path, config: Config) -> tuple[float, float]:
    """(wall s, CPU s) to decode every frame and run the configured pose model on it: the
    floor any analysis of the clip pays."""
    from station.camera.video import VideoReader
    from station.pose.backends import open_backend

    start, cpu = time.perf_counter(), time.process_time()
    backend = open_backend(config["pose"])
    try:
        with VideoReader(clip) as reader:
            for _i, t, rgb in reader:
                backend.detect(rgb, t)
    finally:
        backend.close()
    return time.perf_counter() - start, time.process_time() - cpu


def analysis_vs_bare(clip: Path) -> tuple[float, float, float, float, float]:
    """(analyze wall s, bare wall s, analyze CPU s, bare CPU s, jumper search s), measured
    back to back in this process. On a shared machine the wall times drift with the others'
    load; the CPU times (all of this process's threads, MediaPipe's own included) do not."""
    from station.analysis.analyze import analyze
    from station.config.loader import load_config
    from station.pose.find_jumper import find_jumper

    config = load_config()
    bare, bare_cpu = bare_mediapipe_s(clip, config)
    start, cpu = time.perf_counter(), time.process_time()
    analyze(clip, config, workers=1)
    whole, whole_cpu = time.perf_counter() - start, time.process_time() - cpu
    search = find_jumper(clip).search_s
    return whole, bare, whole_cpu, bare_cpu, search


def _analyze(clip: Path, extra: list[str]) -> tuple[dict[str, Any], float, float, float]:
    """`station analyze CLIP --json EXTRA…` in a subprocess: (its JSON, wall s, CPU s, peak MB)."""
    command = [sys.executable, "-m", "station", "analyze", str(clip), "--json", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise RuntimeError(f"station analyze failed: {done.stderr.strip()[-500:]}")
    peak_mb = after.ru_maxrss / 1024.0  # the largest child so far
    return json.loads(done.stdout), wall, cpu_s, peak_mb


def run(quick: bool) -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "clip_640x480_30fps.mp4", 5.0 if quick else 20.0)
        track = Path(tmp) / "track.npz"
        # The cost ratio with one inference worker: with two, each worker's time per frame
        # also counts the time the other one held the core, which would flatter the ratio.
        data, _, cpu_s, _ = _analyze(clip, ["--workers", "1", "--save-track", str(track)])
        timing = data["timing"]
        share = timing["analysis_ms_per_frame"] / timing["inference_ms_per_frame"]
        count_ms = counter_ms_per_frame(track)
        # The speed as a trainer runs it: the default command (two inference threads).
        as_run, wall, _, peak_mb = _analyze(clip, [])
        speed = as_run["duration_s"] / wall
        whole, bare, whole_cpu, bare_cpu, search = analysis_vs_bare(clip)
        ratio, cpu_ratio = whole / bare, whole_cpu / bare_cpu
    return [
        Figure("frames", data["frames"], "frames"),
        Figure("inference", timing["inference_ms_per_frame"], "ms/frame"),
        Figure("analysis + counting", timing["analysis_ms_per_frame"], "ms/frame"),
        Figure("analysis / inference", 100.0 * share, "%", "≤ 5", share <= 0.05),
        Figure("camera counter alone", count_ms, "ms/frame"),
        Figure("CPU time per video second, one worker", cpu_s / data["duration_s"], "s/s"),
        Figure("speed vs real time (default command)", speed, "×", "≥ 2", speed >= 2.0),
        Figure("bare MediaPipe: decode + model, every frame", bare, "s"),
        Figure("analyze(), one worker, jumper search included", whole, "s"),
        Figure("  of which the jumper search", search, "s"),
        Figure("analyze / bare MediaPipe, wall", ratio, "×", "≤ 1.10", ratio <= 1.10),
        Figure("analyze / bare MediaPipe, CPU time", cpu_ratio, "×", "≤ 1.10", cpu_ratio <= 1.10),
        Figure("load average (1 min) at the end", os.getloadavg()[0], ""),
        Figure("peak memory", peak_mb, "MB", "< 600", peak_mb < 600.0),
    ]


BENCHMARKS = [Benchmark("analyze", run, needs_data=True)]
