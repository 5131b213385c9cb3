"""The checks behind `station diag`: one function per part, each returning a :class:`Check`.

A check never raises: whatever goes wrong (a missing module, a device that is not there, no
permission) becomes a result with the problem and the fix, so a technician sees a report and
never a traceback. Pi-only and heavy libraries are imported inside the checks.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from station.clock import Clock, MonotonicClock
from station.mat.settings import MatSettings

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from station.config.loader import Config

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"

# The margins rates are judged with (the figures themselves come from `station bench`):
#
# The ADC loop keeps an absolute schedule and catches up after any delay shorter than
# station.mat.sensors.CATCH_UP_S (20 ms) without losing a sample, so on a Pi that keeps up it
# achieves the asked rate to a fraction of a percent (`station bench mat-sampling` asks ≥ 99 %).
# Samples go missing only in stalls longer than 20 ms (each costs ≥ 2 % of diag's one-second
# window) or when the bus cannot keep up (a steady shortfall). Below 90 %, i.e. 100 ms of a
# second unsampled, landings are being lost: more than a Pi's occasional stall explains.
ADC_RATE_MARGIN = 0.9
# Pose inference alone (the best of two runs, so a single stall does not decide it) must leave
# room for the camera counter: docs/counting.md states its accuracy down to 8 frames/s (a
# Pi 4's rate; two-foot, double-under and alternate-foot jumps within 6 %), and below that a
# jump's contact rhythm aliases. The live rate is lower still (capture, analysis, screen).
POSE_MIN_FPS = 8.0
# The framing check judges this many of the camera's pictures (half a second to a second of
# it, or spread over a whole video file): enough that one odd picture does not decide it, few
# enough that a Pi 4 infers them in a few seconds.
FRAMING_PICTURES = 15

SERVICE = "station.service"
STOP_FIRST = (
    "stop the kiosk first so diag can use the device: "
    "`sudo systemctl stop station && station diag; sudo systemctl start station`"
)


@dataclass
class Check:
    """One part's result. `required` parts that `fail` make `station diag` exit non-zero."""

    name: str
    status: str
    summary: str
    required: bool = True
    details: list[str] = field(default_factory=list)
    fix: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Context:
    """What the checks share: the config in force, whether the kiosk is running (it holds the
    camera, GPIO and display), and the seams tests replace at the hardware edge."""

    config: Config
    config_path: Path
    beep: bool = False
    service_active: bool = False
    root: Path = Path("/")
    open_spi: Callable[[int, int, int], Any] | None = None
    pin_factory: Callable[[], Any] | None = None
    frame: Any = None  # a camera frame for the pose check, when the camera gave one
    pictures: list[Any] = field(default_factory=list)  # RGB pictures the framing is judged on
    framing_from: Path | None = None  # a photo or video to judge the framing on instead
    simulated: frozenset[str] = frozenset()  # devices the station would simulate (not checked)
    say: Callable[[str], None] = lambda _text: None
    # Times the camera's second of frames, pose inference and the ADC's sampling loop (which
    # also sleeps on it): a test gives a ManualClock so the verdicts do not depend on the load.
    clock: Clock = field(default_factory=MonotonicClock)


# --- the platform ------------------------------------------------------------------------


def check_devices(ctx: Context) -> Check:
    """Which devices the station would use for real, simulate or do without."""
    from station.hardware import device_roles

    roles = device_roles(ctx.config, ctx.simulated)
    summary = ", ".join(f"{r.device} {r.state}" for r in roles)
    return Check("devices", OK, summary, details=[str(r) for r in roles], required=False)


def _simulated(ctx: Context, device: str) -> Check | None:
    if device in ctx.simulated:
        return Check(device, SKIP, "simulated (--simulate): nothing to check", required=False)
    return None


def check_platform(ctx: Context) -> Check:
    from station.hardware import pi_model

    model = pi_model(ctx.root)
    if model is None:
        return Check(
            "Raspberry Pi",
            FAIL,
            "not a Raspberry Pi (no 'Raspberry Pi' in /proc/device-tree/model)",
            fix="the kiosk runs on a Raspberry Pi 4 or 5; on this machine use "
            "`station run --simulate`",
        )
    if "Pi 4" in model or "Pi 5" in model:
        return Check("Raspberry Pi", OK, model)
    return Check(
        "Raspberry Pi",
        WARN,
        f"{model}: slower than the Pi 4/5 the station is built for",
        details=[f"pose inference may fall below {POSE_MIN_FPS:g} frames/s"],
        fix="use a Raspberry Pi 4 or 5",
    )


def check_config(ctx: Context, problem: Any) -> Check:
    """`problem` is the ConfigInvalid raised while loading, or None."""
    where = str(ctx.config_path)
    if problem is not None:
        unreadable = any("cannot read" in e.message for e in problem.errors)
        fix = (
            f"run diag as a user who can read {where} (e.g. `sudo -u station station diag`)"
            if unreadable
            else f"correct the keys named above; then `station config check {where}` and "
            "`sudo systemctl reload station`"
        )
        return Check(
            "config",
            FAIL,
            f"{where} is rejected; the station would run on the last good config",
            details=[str(e) for e in problem.errors],
            fix=fix,
        )
    if not ctx.config_path.exists():
        return Check(
            "config",
            WARN,
            f"{where} does not exist: running on the packaged defaults",
            fix="`sudo ./install.sh` creates it (every key documented and commented out)",
        )
    overrides = sorted(ctx.config.origins)
    return Check(
        "config",
        OK,
        f"{where} is valid ({len(overrides)} setting(s) changed from the defaults)",
        details=[f"{key} = {ctx.config.get(key)!r}" for key in overrides[:20]],
    )


def check_service(ctx: Context) -> Check:
    """Whether the kiosk's unit is enabled and running. Runs first: a running kiosk holds the
    camera, GPIO pins and the display, so those checks then report 'in use' instead."""
    name = "service"
    systemctl = shutil.which("systemctl")
    if systemctl is None or not (ctx.root / "run/systemd/system").is_dir():
        return Check(
            name,
            FAIL,
            "systemd is not running here, so the kiosk cannot start on boot",
            fix="install on Raspberry Pi OS with `sudo ./install.sh`",
        )
    state = _run([systemctl, "is-active", SERVICE])
    enabled = _run([systemctl, "is-enabled", SERVICE])
    ctx.service_active = state == "active"
    details = [f"{SERVICE}: {state or 'unknown'}, {enabled or 'not installed'}"]
    console = _run([systemctl, "is-active", "station-console.service"])
    details.append(f"station-console.service: {console or 'unknown'}")
    if enabled in ("", "not-found") or "No such file" in enabled:
        return Check(
            name,
            FAIL,
            f"{SERVICE} is not installed",
            details=details,
            fix="run `sudo ./install.sh`",
        )
    if state == "active" and enabled == "enabled":
        return Check(name, OK, f"{SERVICE} is running and starts on boot", details=details)
    fix = "`sudo systemctl enable --now station`; if it keeps failing: `journalctl -u station -b`"
    return Check(name, FAIL, f"{SERVICE} is {state}, {enabled}", details=details, fix=fix)


def _run(cmd: Sequence[str], timeout: float = 10.0) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"error: {exc}"
    return (
        (out.stdout.strip() or out.stderr.strip()).splitlines()[0]
        if (out.stdout.strip() or out.stderr.strip())
        else ""
    )


# --- the camera and the pose model --------------------------------------------------------


def check_camera(ctx: Context) -> Check:
    cam = ctx.config["camera"]
    source = cam["source"]
    name = "camera"
    if (simulated := _simulated(ctx, "camera")) is not None:
        return simulated
    if source == "none":
        return Check(name, SKIP, "camera.source = 'none': no camera fitted", required=False)
    if source == "track":
        return Check(name, SKIP, "camera.source = 'track': replaying a landmark file", False)
    if ctx.service_active:
        return Check(name, SKIP, "in use by the running station", required=False, fix=STOP_FIRST)
    if source == "opencv":
        return _check_opencv_camera(ctx, str(cam["device"]))
    try:
        from picamera2 import Picamera2
    except Exception as exc:  # ImportError off the Pi; anything libcamera throws
        return Check(
            name,
            FAIL,
            f"picamera2 cannot be imported ({type(exc).__name__}: {exc})",
            fix="`sudo apt install --no-install-recommends python3-picamera2`; the venv must "
            "see the system packages (install.sh makes it with --system-site-packages)",
        )
    try:
        cameras = Picamera2.global_camera_info()
    except Exception as exc:
        return Check(name, FAIL, f"libcamera failed: {exc}", fix="reboot; check the cable")
    if not cameras:
        return Check(
            name,
            FAIL,
            "no camera detected",
            fix="power off; seat the ribbon cable (contacts towards the board's connector "
            "latch as marked); `camera_auto_detect=1` in /boot/firmware/config.txt; reboot",
        )
    details = [f"{c.get('Model', '?')} at {c.get('Location', '?')}" for c in cameras]
    try:
        picam = Picamera2()
        size = (int(cam["width"]), int(cam["height"]))
        picam.configure(picam.create_video_configuration(main={"size": size, "format": "RGB888"}))
        picam.start()
        t0 = ctx.clock.now()
        frames = 0
        frame = None
        while ctx.clock.now() - t0 < 1.0 and frames < 200:  # (a manual clock never moves)
            frame = picam.capture_array()
            frames += 1
            if frames % 2 == 0 and len(ctx.pictures) < FRAMING_PICTURES:
                ctx.pictures.append(frame[:, :, ::-1].copy())  # BGR in memory: see below
        picam.stop()
        picam.close()
    except Exception as exc:
        return Check(
            name,
            FAIL,
            f"camera found but capture failed: {exc}",
            details=details,
            fix="the service user needs the 'video' group; another program may hold the "
            f"camera. {STOP_FIRST}",
        )
    # picamera2's "RGB888" is BGR in memory order; the pose model wants RGB.
    ctx.frame = frame[:, :, ::-1].copy() if frame is not None else None
    details.append(f"captured {frames} frames in 1 s at {size[0]}×{size[1]}")
    return Check(name, OK, details[0], details=details)


def _check_opencv_camera(ctx: Context, device: str) -> Check:
    try:
        import cv2
    except ImportError as exc:
        return Check("camera", FAIL, f"OpenCV is not installed ({exc})", fix="reinstall")
    cap = cv2.VideoCapture(int(device) if device.isdigit() else device)
    pictures: list[Any] = []  # RGB; the first for the pose check, all for the framing check
    while cap.isOpened() and len(pictures) < FRAMING_PICTURES:
        ok, frame = cap.read()
        if not ok or frame is None:
            break
        pictures.append(frame[:, :, ::-1].copy())
    cap.release()
    if not pictures:
        return Check(
            "camera",
            FAIL,
            f"camera.source = 'opencv': cannot read a frame from {device!r}",
            fix="plug the USB camera in (or fix camera.device); the user needs the 'video' group",
        )
    ctx.frame, ctx.pictures = pictures[0], pictures
    h, w = pictures[0].shape[:2]
    return Check("camera", OK, f"OpenCV camera {device!r}: {w}×{h}")


def check_pose(ctx: Context) -> Check:
    """Load the configured pose backend and run real inference: on the camera's frame when it
    gave one, else on a synthetic image (which has nobody in it)."""
    import numpy as np

    name = "pose model"
    pose = ctx.config["pose"]
    if ctx.config["camera"]["source"] == "none":
        return Check(name, SKIP, "no camera fitted: no pose inference", required=False)
    details = [f"backend = {pose['backend']!r}"]
    if pose["backend"] == "tasks":
        details.append(f"model file {pose['task_model']}")
    ctx.say("loading the pose model…")
    try:
        from station.pose.backends import open_backend

        backend = open_backend(pose)
    except Exception as exc:  # PoseModelMissing, ImportError, a broken model file
        fix = (
            "`sudo ./install.sh` downloads and checks the model file"
            if pose["backend"] == "tasks"
            else "reinstall (`sudo ./install.sh`); mediapipe must be ≤ 0.10.21 for 'legacy'"
        )
        return Check(name, FAIL, f"cannot load the pose model: {exc}", details=details, fix=fix)
    if ctx.frame is not None:
        image, what = np.ascontiguousarray(ctx.frame, dtype=np.uint8), "the camera's frame"
    else:
        image, what = synthetic_image(), "a synthetic 640×480 image"
    try:
        times = []
        found = []
        for i in range(3):
            t0 = ctx.clock.now()
            found = backend.detect(image, float(i) / 30.0)
            times.append(ctx.clock.now() - t0)
    except Exception as exc:
        return Check(name, FAIL, f"inference failed: {exc}", details=details, fix="reinstall")
    finally:
        backend.close()
    steady_s = min(times[1:])  # the first run includes the model's warm-up
    fps = 1.0 / steady_s if steady_s > 0 else math.inf
    details.append(f"inference on {what}: {steady_s * 1000:.0f} ms ({fps:.1f} frames/s)")
    details.append(f"people found: {len(found)}")
    status, fix = judge_pose_rate(fps)
    return Check(name, status, f"{pose['backend']} model runs", details=details, fix=fix)


def check_framing(ctx: Context) -> Check:
    """Can the camera see what it needs (station.pose.framing)? Real inference on the
    camera's pictures, or on a photo or video (`--framing-from`) taken from where it hangs.
    Never required: it needs someone standing where members jump."""
    name = "camera framing"
    if ctx.framing_from is not None:
        try:
            ctx.pictures = read_pictures(ctx.framing_from, FRAMING_PICTURES)
        except ValueError as exc:
            return Check(name, FAIL, str(exc), required=False)
        where = str(ctx.framing_from)
    elif ctx.config["camera"]["source"] == "none":
        return Check(name, SKIP, "no camera fitted", required=False)
    else:
        where = "the camera"
    if not ctx.pictures:
        return Check(name, SKIP, f"no pictures from {where} to judge", required=False)
    frames, problem = _pose_frames(ctx)
    if problem:
        return Check(name, FAIL, problem, required=False, fix="see the pose model check")
    return judge_framing(frames, float(ctx.config["pose"]["min_visibility"]), where)


def _pose_frames(ctx: Context) -> tuple[list[Any], str]:
    """PoseFrames of ctx.pictures (the jumper picked as the live camera picks them, inside
    camera.roi), or a problem. The pictures may be far apart (spread over a video), so the
    model detects afresh in each instead of tracking from the one before."""
    import numpy as np

    from station.events import PoseFrame
    from station.pose.backends import open_backend
    from station.pose.jumper import JumperPicker, detect_jumper

    ctx.say(f"judging the framing on {len(ctx.pictures)} pictures…")
    try:
        backend = open_backend(ctx.config["pose"])
    except Exception as exc:
        return [], f"cannot load the pose model: {exc}"
    picker = JumperPicker(ctx.config["camera"]["roi"])
    frames = []
    try:
        for i, picture in enumerate(ctx.pictures):
            rgb = np.ascontiguousarray(picture, dtype=np.uint8)
            backend.reset()
            jumper = detect_jumper(backend, picker, rgb, i / 30.0)  # inside camera.roi, as live
            lm = jumper.lm if jumper is not None else None
            frames.append(PoseFrame(i / 30.0, lm, None, rgb.shape[1], rgb.shape[0], i))
    except Exception as exc:
        return [], f"inference failed: {exc}"
    finally:
        backend.close()
    return frames, ""


def judge_framing(frames: Sequence[Any], min_visibility: float, where: str) -> Check:
    """The verdict on PoseFrames from one place: the same rule as `station analyze`'s
    "counting" and the member's "feet out of view" banner (station.pose.framing)."""
    from station.pose.framing import counting_trust, feet_outside_picture

    name = "camera framing"
    posed = sum(f.lm is not None for f in frames)
    pictures = f"{len(frames)} picture{'s' if len(frames) != 1 else ''}"
    if not posed:
        return Check(
            name,
            SKIP,
            f"nobody found in {pictures} from {where}",
            required=False,
            fix="stand on the mat where members jump and run `station diag` again",
        )
    verdict = counting_trust(frames, min_visibility)
    share = verdict["feet_in_picture"]
    outside = sum(feet_outside_picture(f.lm) for f in frames if f.lm is not None)
    unseen = round(posed * (1 - share)) - outside  # inside the picture, but not visible
    details = [
        f"a person in {posed} of {pictures} from {where}",
        f"both feet (ankles, heels, toes) in the picture and visible in {100 * share:.0f} % "
        f"of them; beyond the picture's edge in {outside}, inside it but not seen clearly "
        f"in {unseen}",
    ]
    if verdict["trusted"]:
        return Check(name, OK, "the feet are in the picture", required=False, details=details)
    why = "without a mat the camera counts from the feet and misses about every other jump"
    summary = (
        f"the feet are out of the picture in {100 * outside / posed:.0f} % and not seen "
        f"clearly in {100 * unseen / posed:.0f} % of the pictures with a person"
    )
    if outside >= unseen:
        fix = (
            "aim the camera lower or mount it further back: the whole body, feet included, "
            f"must be in the picture where members jump ({why}; members see 'Step back - feet "
            "out of view')"
        )
    else:
        fix = (
            "nothing may hide the feet (a bench, the mat's edge), the floor must be lit, and "
            f"the member must not be tiny in the picture (a narrower view or a closer camera) "
            f"({why})"
        )
    return Check(name, WARN, summary, required=False, details=details, fix=fix)


def read_pictures(path: Path, count: int) -> list[Any]:
    """Up to `count` RGB pictures from a photo or a video file (spread over the video);
    ValueError naming the file when it cannot be read."""
    import cv2

    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    cap = cv2.VideoCapture(str(path))
    pictures: list[Any] = []
    try:
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
        step = max(1, total // count)
        index = 0
        while len(pictures) < count:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            if index % step == 0:
                pictures.append(frame[:, :, ::-1].copy())
            index += 1
    finally:
        cap.release()
    if not pictures:
        image = cv2.imread(str(path))  # a still photo OpenCV's video reader refused
        if image is None:
            raise ValueError(f"{path}: not a picture or video OpenCV can read")
        pictures.append(image[:, :, ::-1].copy())
    return pictures


def judge_pose_rate(frames_per_s: float) -> tuple[str, str]:
    """The verdict and fix on pose inference's best frames/s (POSE_MIN_FPS says why)."""
    if frames_per_s >= POSE_MIN_FPS:
        return OK, ""
    return WARN, (
        f"below {POSE_MIN_FPS:g} frames/s a station without a mat cannot count every jump by "
        "camera (posture and the mat's count are unaffected): use a Pi 5, close other "
        "programs, or lower camera.width"
    )


def synthetic_image() -> Any:
    """A deterministic textured test card: gradients and blocks, so the detector has edges
    to look at; nobody is in it."""
    import numpy as np

    h, w = 480, 640
    y, x = np.mgrid[0:h, 0:w]
    img = np.empty((h, w, 3), dtype=np.uint8)
    img[..., 0] = (x * 255 // w).astype(np.uint8)
    img[..., 1] = (y * 255 // h).astype(np.uint8)
    img[..., 2] = (((x // 40) + (y // 40)) % 2 * 200).astype(np.uint8)
    return img


# --- the mat ------------------------------------------------------------------------------


def check_mat(ctx: Context) -> list[Check]:
    kind = MatSettings.from_config(ctx.config).sensor
    if (simulated := _simulated(ctx, "mat")) is not None:
        return [simulated]
    if kind == "none":
        return [Check("mat", SKIP, "mat.sensor = 'none': the camera counts", required=False)]
    if kind == "replay":
        return [Check("mat", SKIP, "mat.sensor = 'replay': a recorded mat", required=False)]
    if kind == "switch":
        return [_check_switch_mat(ctx)]
    return _check_adc(ctx)


def _check_switch_mat(ctx: Context) -> Check:
    pin = MatSettings.from_config(ctx.config).switch_pin
    if ctx.service_active:
        return Check("mat (switch)", SKIP, "in use by the running station", False, fix=STOP_FIRST)
    try:
        from gpiozero import Button

        factory = _factory(ctx)
        button = Button(pin, pin_factory=factory)
        pressed = button.is_pressed
        button.close()
    except Exception as exc:
        return Check("mat (switch)", FAIL, _gpio_problem(exc), fix=_gpio_fix(exc))
    state = "closed (someone on the mat?)" if pressed else "open (mat empty)"
    return Check("mat (switch)", OK, f"contact mat on GPIO{pin}: {state}")


def _check_adc(ctx: Context, seconds: float = 1.0) -> list[Check]:
    """Read the mat's channels through the station's own sampling loop exactly as a session
    reads them (`session_counts`: the rate verdict, the levels and the zero levels), then
    glance at the chip's other channels (a wiring fault often shows on a channel the config
    does not use; their reading is not timed)."""
    from station.hardware.protocols import HardwareMissing
    from station.mat.sensors import open_spidev, sample_counts, session_counts

    mat = MatSettings.from_config(ctx.config)
    adc = mat.adc
    bus, dev, clock = mat.spi_bus, mat.spi_device, mat.spi_clock_hz
    opener = ctx.open_spi or open_spidev
    name = f"mat ADC ({adc.name.upper()} on /dev/spidev{bus}.{dev})"
    try:
        spi = opener(bus, dev, clock)
    except HardwareMissing as exc:
        return [Check(name, FAIL, exc.problem, fix=exc.fix)]
    except Exception as exc:
        return [Check(name, FAIL, f"cannot open the SPI bus: {exc}", fix="reboot; see docs")]
    full = adc.full_scale
    used = list(mat.channels)
    unused = [ch for ch in range(adc.channels) if ch not in used]
    rate = mat.sample_rate_hz
    try:
        counts, stats = session_counts(spi, mat, seconds, ctx.clock, ctx.clock.sleep)
        others = None
        if unused and len(counts):
            others, _ = sample_counts(
                spi, adc, unused, rate, UNUSED_GLANCE_S, ctx.clock, ctx.clock.sleep
            )
    except Exception as exc:
        return [Check(name, FAIL, f"SPI read failed: {exc}", fix="check the ADC's wiring")]
    finally:
        spi.close()
    if len(counts) == 0:
        return [Check(name, FAIL, "no samples in a second", fix="check the ADC's wiring")]
    achieved = stats.achieved_rate_hz
    span = len(counts) / achieved if achieved > 0 else 0.0
    details = [
        f"read the mat's {len(used)} channels {len(counts)} times in {span:.2f} s, as a "
        f"session does ({adc.description}; at most {adc.max_rate_hz / len(used):.0f} "
        f"samples/s per channel)"
    ]
    columns = {ch: counts[:, i] for i, ch in enumerate(used)}
    if others is not None and len(others):
        columns.update({ch: others[:, i] for i, ch in enumerate(unused)})
    problems: list[str] = []
    for ch, col in sorted(columns.items()):
        role = f"zone {mat.zones[used.index(ch)]!r}" if ch in used else "unused"
        details.append(
            f"ch{ch} ({role}): mean {col.mean():.0f}, min {col.min():.0f}, max {col.max():.0f} "
            f"of {full}"
        )
        if ch in used and col.min() >= full - 1:
            problems.append(f"ch{ch} reads full scale: shorted sensor or missing divider resistor")
    if all(col.max() == 0 for col in columns.values()):
        problems.append("every channel reads 0: ADC not powered, or MISO/CS not connected")
    rate_line = f"achieved {achieved:.0f} samples/s per channel (asked {rate:.0f})"
    details.append(rate_line)
    if stats.late:
        details.append(f"{stats.late} samples skipped after stalls longer than 20 ms")
    rate_status, rate_fix = judge_sampling_rate(achieved, rate)
    checks = []
    if problems:
        checks.append(
            Check(
                name,
                FAIL,
                problems[0],
                details=details + problems[1:],
                fix="check the wiring against docs/wiring.svg (VREF and VDD to 3.3 V, AGND/DGND "
                "to ground, each sensor's divider to its channel)",
            )
        )
    else:
        checks.append(Check(name, rate_status, rate_line, details=details, fix=rate_fix))
    checks.append(_zero_levels(mat, counts))
    return checks


UNUSED_GLANCE_S = 0.1
"""The chip's unused channels are read this long, for their levels only."""


def judge_sampling_rate(achieved_hz: float, asked_hz: float) -> tuple[str, str]:
    """The verdict and fix on the ADC loop's achieved rate (ADC_RATE_MARGIN says why)."""
    if achieved_hz >= ADC_RATE_MARGIN * asked_hz:
        return OK, ""
    return WARN, (
        f"below {ADC_RATE_MARGIN:.0%} of mat.sample_rate_hz landings go unsampled: the Pi is "
        "too busy (stop other programs; is the kiosk stopped?) or mat.spi_clock_hz is too low "
        "for the mat's channels; landings need ≥ 1 kHz"
    )


def _zero_levels(mat: MatSettings, counts: NDArray[np.float64]) -> Check:
    """With nobody on the mat each zone should read its calibrated zero: drift since
    calibration, noise, saturation per zone (station.mat.health, which the console's Mat page
    shows too)."""
    from station.mat.health import FAIL as HEALTH_FAIL
    from station.mat.health import health_from_counts

    health = health_from_counts(mat, counts)  # the mat's channels, in zone order
    details = [z.line() for z in health.zones]
    worst = max((abs(z.drift_n or 0.0) for z in health.zones), default=0.0)
    status, summary, fix = OK, "the empty mat reads its calibrated zero", ""
    if worst > 50:
        status = WARN
        summary = f"zero drifted by up to {worst:.0f} N (is someone standing on the mat?)"
        fix = "with the mat empty: `station mat calibrate` (the station also tracks small drift)"
    elif health.status != "ok":
        status = FAIL if health.status == HEALTH_FAIL else WARN
        summary = health.summary()
        fix = "check that zone's sensor and wiring (docs/mat.md, Bad input)"
    return Check("mat zero levels", status, summary, required=False, details=details, fix=fix)


# --- buzzers and LEDs ---------------------------------------------------------------------


def check_outputs(ctx: Context) -> Check:
    alerts = ctx.config["alerts"]
    leds = alerts["leds"]
    name = "buzzer and LEDs"
    if "gpio" in ctx.simulated:
        return Check(name, SKIP, "GPIO simulated (--simulate): nothing to check", required=False)
    if alerts["buzzer"] == "none" and leds["mode"] == "none":
        return Check(name, SKIP, "no buzzer or LEDs configured", required=False)
    if not alerts["enabled"] and leds["mode"] == "none":
        return Check(name, SKIP, "alerts disabled and no LEDs: no GPIO needed", required=False)
    if ctx.service_active:
        return Check(name, SKIP, "in use by the running station", required=False, fix=STOP_FIRST)
    from station.alerts.outputs import AlertOutputs

    try:
        factory = _factory(ctx)
    except Exception as exc:
        return Check(name, FAIL, _gpio_problem(exc), fix=_gpio_fix(exc))
    outputs = AlertOutputs(alerts, factory)
    if outputs.problem:
        outputs.close()
        return Check(name, FAIL, outputs.problem, fix=_gpio_fix(Exception(outputs.problem)))
    details = []
    if outputs.buzzer is not None:
        details.append(f"{alerts['buzzer']} buzzer on GPIO{alerts['buzzer_pin']}")
    details += [f"LED {n} on GPIO{leds[n + '_pin']}" for n in outputs.leds]
    try:
        if ctx.beep:
            _exercise(ctx, outputs)
    finally:
        outputs.close()
    summary = "opened" + (", each sounded/lit in turn" if ctx.beep else " (`--beep` tests them)")
    return Check(name, OK, summary, details=details)


def _exercise(ctx: Context, outputs: Any) -> None:
    """Sound the buzzer, then light each LED, announcing each so a person can confirm."""
    if outputs.buzzer is not None:
        ctx.say("beeping the buzzer…")
        buzzer = outputs.buzzer
        if hasattr(buzzer, "play"):  # a TonalBuzzer
            buzzer.play("A4")
            time.sleep(0.3)
            buzzer.stop()
        else:
            buzzer.on()
            time.sleep(0.3)
            buzzer.off()
    for led_name, led in outputs.leds.items():
        ctx.say(f"lighting the {led_name} LED…")
        led.on()
        time.sleep(0.5)
        led.off()


def _factory(ctx: Context) -> Any:
    if ctx.pin_factory is not None:
        return ctx.pin_factory()
    from station.hardware import pin_factory

    return pin_factory(False)


def _gpio_problem(exc: Exception) -> str:
    problem = getattr(exc, "problem", "")
    return str(problem or exc)


def _gpio_fix(exc: Exception) -> str:
    fix = getattr(exc, "fix", "")
    return fix or (
        "`sudo apt install python3-lgpio`; the user needs the 'gpio' group; a pin in use by "
        f"another program is busy. {STOP_FIRST}"
    )


# --- display, disk ------------------------------------------------------------------------

_PROBE = """
import json, os, sys
os.environ["SDL_VIDEODRIVER"] = sys.argv[1]
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
try:
    import pygame
    pygame.display.init()
    modes = pygame.display.list_modes()
    info = pygame.display.Info()
    print(json.dumps({"ok": True, "driver": pygame.display.get_driver(),
                      "modes": [list(m) for m in modes][:6] if modes != -1 else [],
                      "size": [info.current_w, info.current_h]}))
except Exception as exc:
    print(json.dumps({"ok": False, "error": str(exc)}))
"""


def check_display(ctx: Context) -> Check:
    """Try SDL's KMS/DRM driver (the kiosk's) in a separate process: SDL cannot be reset
    in-process, and a driver failing hard must not take diag with it."""
    name = "display (SDL KMS/DRM)"
    if ctx.service_active:
        return Check(name, SKIP, "in use by the running station", required=False, fix=STOP_FIRST)
    cards = sorted(p.name for p in (ctx.root / "dev/dri").glob("card*"))
    result = probe_sdl("kmsdrm")
    details = [f"/dev/dri: {', '.join(cards) or 'no DRM devices'}"]
    for other in ("x11", "wayland"):
        alt = probe_sdl(other)
        details.append(f"SDL {other}: {'available' if alt.get('ok') else 'not available'}")
    if not result.get("ok"):
        return Check(
            name,
            FAIL,
            f"SDL's kmsdrm driver cannot open the screen: {result.get('error', '?')}",
            details=details,
            fix="connect the HDMI display before boot; boot to the console, not a desktop "
            "(`sudo systemctl set-default multi-user.target`); the user needs the 'video' and "
            "'render' groups",
        )
    modes = ", ".join(f"{w}×{h}" for w, h in result.get("modes", []))
    details.append(f"modes: {modes or 'unknown'}")
    w, h = result.get("size", [0, 0])
    return Check(name, OK, f"kmsdrm opens the screen at {w}×{h}", details=details)


def probe_sdl(driver: str) -> dict[str, Any]:
    try:
        out = subprocess.run(
            [sys.executable, "-c", _PROBE, driver],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "SDL_AUDIODRIVER": "dummy"},
        )
        line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
        return dict(json.loads(line)) if line else {"ok": False, "error": out.stderr[-200:]}
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        return {"ok": False, "error": str(exc)}


def check_disk(ctx: Context, state_dir: Path) -> Check:
    """Free space where the session log lives."""
    probe = state_dir
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    free_mb = usage.free / 1e6
    summary = f"{free_mb:,.0f} MB free on the file system of {state_dir}"
    details = [f"{usage.used / usage.total:.0%} used of {usage.total / 1e9:.1f} GB"]
    if not state_dir.exists():
        details.append(f"{state_dir} does not exist yet (install.sh creates it)")
    from station.storage.resilient import diagnose

    problem = diagnose(state_dir)
    if problem is not None:  # sessions are not being saved: name the cause and the fix
        return Check("disk", FAIL, f"sessions are not being saved: {problem[0]}",
                     details=[summary, *details], fix=problem[1])  # fmt: skip
    if free_mb < 100:
        return Check("disk", FAIL, summary, details=details, fix="free space on the SD card")
    if free_mb < 1000:
        return Check("disk", WARN, summary, details=details, fix="free space on the SD card")
    return Check("disk", OK, summary, details=details)
