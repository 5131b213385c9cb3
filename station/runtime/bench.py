"""Runtime benchmarks: the main loop's latency and CPU, and a simulated gym day.

`station bench runtime-latency`: the default scripted session replayed through the station at
30 frames/s; for every counted jump, the frames between the mat block that completed its
landing and the first view model showing it (the issue asks ≤ 1 frame).

`station bench runtime-cpu`: the same session with the screen drawn at 1920×1080 on SDL's
dummy driver; main-loop CPU per frame (mat pipeline, posture, camera counting, session,
alerts, view model, drawing), excluding pose inference (the simulator supplies landmarks), as
a share of one core at 30 frames/s.

`station bench runtime-day`: many sessions back to back (two hours of simulated gym time; 20
minutes with --quick) with the session log in SQLite; resident memory and open file
descriptors after the first session and at the end.

`station bench live-video`: the hand-marked clips played in real time as the camera of
`station run --headless` (no mat, buzzer on simulated pins; see station.runtime.livevideo), at
full inference rate and at `pose.max_fps` 15 and 8: achieved inference rate, dropped frames,
summed count error against the truth and against `station analyze` on the same file, and the
median latency from a frame's capture to the count it produced on screen; beside them the
1-minute load average (real-time figures mean little on a shared machine) and the twin's count
(station.runtime.livetwin: real inference on the frames a quiet machine's live run takes, no
timing), which the live count should match. About 20 minutes (--quick: the test suite's four
short clips).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from station.bench import Benchmark, Figure
from station.config.loader import ConfigStore
from station.events import Event, ForceBlock
from station.hardware import select_hardware
from station.runtime.loop import run_fast
from station.runtime.station import Station

FPS = 30.0


def _station(tmp: Path, script: Path | None = None, log: bool = False) -> tuple[Station, Any]:
    site = tmp / "station.toml"
    site.write_text("")
    store = ConfigStore(site)
    hardware = select_hardware(store.config, simulate=True, script=script)
    session_log = None
    if log:
        from station.storage.sessions import SessionLog

        session_log = SessionLog.in_state_dir(tmp / "state")
    return Station(store, hardware, session_log=session_log), hardware


def latency(quick: bool) -> list[Figure]:
    with tempfile.TemporaryDirectory() as scratch:
        station, hardware = _station(Path(scratch))
        arrivals: list[float] = []  # time of the block that completed each counted jump
        shown: list[float] = []  # time of the frame whose view first showed it

        def on_frame(st: Station, now: float) -> None:
            count = getattr(st.view(now).screen, "count", None)
            while count is not None and len(shown) < min(count, len(arrivals)):
                shown.append(now)

        original = station.handle

        def handle(event: Event) -> None:
            before = station.session.stats.jumps if station.session.stats else 0
            original(event)
            after = station.session.stats.jumps if station.session.stats else 0
            if isinstance(event, ForceBlock):
                arrivals.extend([event.t] * (after - before))

        station.handle = handle  # type: ignore[method-assign]
        sources = [hardware.open_mat(), hardware.open_camera()]
        run_fast(station, [s for s in sources if s], fps=FPS, on_frame=on_frame)
    frames = [(s - a) * FPS for a, s in zip(arrivals, shown, strict=False)]
    worst = max(frames, default=float("nan"))
    return [
        Figure("jumps measured", float(len(frames)), "jumps"),
        Figure("landing event → view, worst", worst, "frames", "≤ 1", worst <= 1.0),
        Figure("landing event → view, mean", sum(frames) / max(1, len(frames)), "frames"),
    ]


def cpu(quick: bool) -> list[Figure]:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from station.display.app import Display

    with tempfile.TemporaryDirectory() as scratch:
        station, hardware = _station(Path(scratch))
        display = Display()
        display.open({"fullscreen": False, "width": 1920, "height": 1080, "fps": 30,
                      "live_view": False, "hide_cursor": True}, windowed=True)  # fmt: skip
        sources = [s for s in (hardware.open_mat(), hardware.open_camera()) if s]
        frames = 0

        def draw(st: Station, now: float) -> None:
            nonlocal frames
            frames += 1
            display.draw(st.view(now))

        limit = 30.0 if quick else None
        cpu0 = time.process_time()
        run_fast(station, sources, fps=FPS, on_frame=draw, until_s=limit)
        used = time.process_time() - cpu0
        display.close()
    per_frame_ms = 1000.0 * used / frames
    share = per_frame_ms * FPS / 10.0  # ms per frame × frames/s ÷ 1000 ms × 100 %
    return [
        Figure("frames", float(frames), "frames"),
        Figure("main loop CPU per frame (1920×1080, no inference)", per_frame_ms, "ms"),
        Figure("share of one core at 30 frames/s", share, "%"),
    ]


def _day_script(path: Path, sessions: int) -> None:
    """A gym day: members one after another, each ~1 min on the mat, 1 min apart; every
    third one steps alternate-foot."""
    lines = ['name = "gym day"', ""]
    for i in range(sessions):
        style = "alternate-foot" if i % 3 == 1 else "two-foot"
        jump = f'cadence_per_min = {110 + 5 * (i % 5)}\nstyle = "{style}"'
        phases = [("empty", 60.0, ""), ("step_on", 1.5, ""), ("stand", 3.0, ""),
                  ("jump", 50.0 + 10 * (i % 4), jump), ("step_off", 1.5, "")]  # fmt: skip
        for kind, duration, extra in phases:
            lines += ["[[phase]]", f'kind = "{kind}"', f"duration_s = {duration}", extra, ""]
    path.write_text("\n".join(lines))


def _rss_kib() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def day(quick: bool) -> list[Figure]:
    sessions = 10 if quick else 60  # ~2 min each: 20 min or 2 hours of gym time
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        _day_script(tmp / "day.toml", sessions)
        station, hardware = _station(tmp, tmp / "day.toml", log=True)
        station.keep_summaries = False  # as on the kiosk: the log keeps them, not memory
        marks: list[tuple[int, int, int]] = []  # sessions done, rss, fds

        def on_frame(st: Station, now: float) -> None:
            if st.sessions_done > len(marks):
                marks.append((st.sessions_done, _rss_kib(), _fds()))

        sources = [s for s in (hardware.open_mat(), hardware.open_camera()) if s]
        wall0 = time.perf_counter()
        run_fast(station, sources, fps=FPS, on_frame=on_frame)
        wall = time.perf_counter() - wall0
        gym_s = hardware.open_mat().truth.duration_s
    first, last = marks[1] if len(marks) > 1 else marks[0], marks[-1]
    growth_mib = (last[1] - first[1]) / 1024.0
    return [
        Figure(
            "sessions logged",
            float(len(marks)),
            "sessions",
            f"= {sessions}",
            len(marks) == sessions,
        ),
        Figure("simulated gym time", gym_s / 3600.0, "h"),
        Figure("replay speed", gym_s / wall, "× real time"),
        Figure("resident memory after session 2", first[1] / 1024.0, "MiB"),
        Figure("resident memory growth to the end", growth_mib, "MiB", "≈ 0", growth_mib < 5),
        Figure(
            "open file descriptors growth",
            float(last[2] - first[2]),
            "fds",
            "0",
            last[2] == first[2],
        ),
    ]


LIVE_MAX_FPS = (0.0, 15.0, 8.0)


def live_video(quick: bool) -> list[Figure]:
    import statistics

    from station.analysis.bench import shared_data
    from station.runtime.livetwin import twin
    from station.runtime.livevideo import CI_CLIPS, analyze_count, load_clips, prepare, run_live

    folder = shared_data() / "jumprope"
    if not (folder / "ground_truth.csv").is_file():
        raise FileNotFoundError(f"{folder}/ground_truth.csv not found (set STATION_SHARED_DATA)")
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="live-video-") as scratch:
        work = Path(scratch)
        clips = load_clips(folder, CI_CLIPS if quick else None)
        played = [prepare(c, work / f"{c.name}.avi") for c in clips]
        truth = [p.truth for p in played]
        analyzed = [analyze_count(p) for p in played]
        figures.append(
            Figure("clips / true counts", float(len(clips)), f"clips, {sum(truth)} jumps")
        )
        figures.append(Figure("analyze vs truth", 100 * _summed_error(analyzed, truth), "%"))
        for max_fps in LIVE_MAX_FPS:
            label = f"max_fps {max_fps:g}" if max_fps else "full rate"
            loads = [os.getloadavg()[0]]
            runs = []
            for p in played:
                runs.append(run_live(p, work / f"{label}-{p.path.stem}", max_fps=max_fps))
                loads.append(os.getloadavg()[0])
            # the deterministic twin: real inference on the frames a quiet machine takes
            twins = [twin(p, max_fps).jumps for p in played]
            live = [r.jumps for r in runs]
            rates = [r.camera("inference_fps") or 0.0 for r in runs]
            inferred = sum(r.camera("frames_inferred") or 0.0 for r in runs)
            dropped = sum(r.camera("frames_dropped") or 0.0 for r in runs)
            latencies = [x for r in runs if (x := r.camera("count_latency_ms")) is not None]
            error = 100 * _summed_error(live, truth)
            target = {0.0: 3.0, 15.0: 5.0}.get(max_fps)
            figures += [
                Figure(
                    f"{label}: 1-minute load average on the machine (highest seen)",
                    max(loads),
                    f"on {os.cpu_count()} cores",
                ),
                Figure(f"{label}: inference rate (median clip)", statistics.median(rates), "/s"),
                Figure(
                    f"{label}: frames dropped",
                    100 * dropped / max(1.0, inferred + dropped),
                    "% of captured",
                ),
                Figure(
                    f"{label}: live count vs truth, summed |error|",
                    error,
                    "%",
                    f"≤ {target:g}" if target else "stated",
                    error <= target if target else None,
                ),
                Figure(
                    f"{label}: live vs analyze, summed |difference|",
                    100 * _summed_error(live, analyzed),
                    "%",
                    "≤ 2" if not max_fps else "",
                    100 * _summed_error(live, analyzed) <= 2 if not max_fps else None,
                ),
                Figure(
                    f"{label}: twin (inference on the live frames, no timing) vs truth",
                    100 * _summed_error(twins, truth),
                    "%",
                ),
                Figure(
                    f"{label}: live vs twin, summed |difference|",
                    100 * _summed_error(live, twins),
                    "%",
                ),
                Figure(
                    f"{label}: latency frame captured → count shown (median)",
                    statistics.median(latencies) if latencies else float("nan"),
                    "ms",
                ),
                Figure(
                    f"{label}: clips not one session",
                    float(sum(len(r.sessions) != 1 for r in runs)),
                    "clips",
                    "0",
                    all(len(r.sessions) == 1 for r in runs),
                ),
            ]
    return figures


def _summed_error(counts: list[int], truths: list[int]) -> float:
    return sum(abs(c - t) for c, t in zip(counts, truths, strict=True)) / max(1, sum(truths))


BENCHMARKS = [
    Benchmark("runtime-latency", latency),
    Benchmark("runtime-cpu", cpu),
    Benchmark("runtime-day", day),
    Benchmark("live-video", live_video, needs_data=True),
]
