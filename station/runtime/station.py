"""The station: one object, driven by one thread, that ties the rooms together.

Sensor and camera threads only hand over timestamped events (:mod:`station.runtime.feeds`);
`handle(event)` and `tick(now)` run on the thread that owns the session and the screen. Nothing
here reads a wall clock for logic: time comes from the events and the injected clock, so
`run --fast` replays a scripted session deterministically, faster than real time.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from station.alerts.outputs import AlertOutputs
from station.alerts.policy import AlertPolicy
from station.camcount.counter import CameraJumpCounter
from station.config.loader import Config, ConfigStore
from station.events import (
    FAULTS,
    ContactEdge,
    DeviceStatus,
    Event,
    ForceBlock,
    Landing,
    LightState,
    MatPresence,
    PoseFrame,
)
from station.faults.registry import specs as fault_specs
from station.hardware import Hardware
from station.mat.tracker import MatTracker
from station.pose.framing import Framing, FramingMonitor, trust_from_share
from station.posture.judge import Lights, PostureJudge
from station.runtime.camerastats import CameraStats
from station.runtime.view import build_view
from station.session.landing import LandingLight
from station.session.model import Observation, Session, SessionSummary
from station.storage.outbox import ConsumerGroup, SessionWriter
from station.storage.sessions import Summary

log = logging.getLogger(__name__)

POSE_STALE_S = 1.5
"""No pose for this long means nobody is in view (the camera may be slow, not absent)."""


@dataclass
class DeviceHealth:
    fitted: bool
    ok: bool = True
    message: str = ""


@dataclass
class LiveState:
    """What the station currently knows, between events (read by the view and the console)."""

    lights: dict[str, LightState] = field(default_factory=lambda: dict.fromkeys(FAULTS, "unknown"))
    posture: Lights | None = None
    last_pose: PoseFrame | None = None  # who is in view, and the live view's picture
    framing: Framing = field(default_factory=Framing)  # can the camera see the feet?
    last_landing: Landing | None = None
    last_force: dict[str, float] = field(default_factory=dict)
    recent_force: deque[tuple[float, ...]] = field(default_factory=lambda: deque(maxlen=100))
    """Per-zone mean of each of the last 100 mat blocks (half a second at 5 ms blocks)."""


class Station:
    """Everything a member meets, minus the threads and the window (see runtime.loop)."""

    def __init__(
        self,
        store: ConfigStore,
        hardware: Hardware,
        *,
        session_log: SessionWriter | None = None,
        consumers: ConsumerGroup | None = None,
        wall: Callable[[], float] = time.time,
        local_time: Callable[[], dt.time] = lambda: dt.datetime.now().time(),
        keep_summaries: bool = True,
        members: Any = None,
    ) -> None:
        self.store = store
        self.hardware = hardware
        self.config: Config = store.config
        # The session's one durable home, written on this thread; everything else done with a
        # finished session reads it back from there in its own thread or process (outbox).
        self.session_log = session_log
        self.consumers = consumers
        self.wall = wall
        self.local_time = local_time
        self.devices = {
            "mat": DeviceHealth(self.config["mat"]["sensor"] != "none"),
            "camera": DeviceHealth(self.config["camera"]["source"] != "none"),
        }
        self.live = LiveState()
        self.degraded: dict[str, str] = {}  # "mat.left" -> its problem ("" once recovered)
        # The camera's newest picture, for a trainer's snapshot; set by the live loop.
        self.camera_picture: Callable[[], Any] = _no_picture
        self.session = Session(self.config["session"])
        # Each session's record as logged, for `run --json` and tests. A kiosk that runs for
        # months passes keep_summaries=False: the log has them, memory must not grow.
        self.keep_summaries = keep_summaries
        self.summaries: list[dict[str, Any]] = []
        self.sessions_done = 0
        self._session_id: int | None = None
        self._logged = False  # the session in progress has had its row begun (or tried)
        self._last_checkpoint = 0.0
        self.outputs = AlertOutputs(self.config["alerts"], hardware.gpio_for(self.config))
        self.policy = AlertPolicy(self.config["alerts"])
        self._build_judges()
        self.mat = MatTracker(self.config) if self.devices["mat"].fitted else None
        self.camera_counter = CameraJumpCounter()
        # Whether the camera sees what it needs (the feet), now and over this member's session.
        self.framing = FramingMonitor(float(self.config["pose"]["min_visibility"]))
        self.members = members  # station.members.desk.MemberDesk: take-home links, codes
        # What the camera delivered over the whole run and over this member's session.
        self.camera_stats = CameraStats()
        self.session_camera = CameraStats()
        self._count_frame_t: float | None = None  # capture time of a count not yet on screen
        self.roles = hardware.roles()

    # --- configuration ---------------------------------------------------------------------

    def _build_judges(self) -> None:
        cfg = self.config
        self.posture = PostureJudge(cfg)
        preset = cfg["presets"][cfg["posture"]["preset"]]
        self.landing_light = LandingLight(cfg["posture"]["window_s"], preset["landing"]["hold_s"])

    @property
    def mat_weighs(self) -> bool:
        """A force mat (not a contact switch): it can judge landings and weigh the member."""
        return self.mat is not None and self.mat.weighs

    def reload(self) -> bool:
        """SIGHUP: apply a valid new config at once; keep the last good one otherwise. The
        member's session, body weight and posture baseline survive a reload."""
        if not self.store.reload():
            return False
        self.config = self.store.config
        # Only what was measured: the defaults the judge fills in for the rest would come
        # back as if they were the member's own (and the log's posture_baseline_own with them).
        baseline = self.posture.measured_baseline if self.posture.baseline_ready else None
        self._build_judges()
        if baseline is not None:
            self.posture.set_baseline(baseline)
        if self.mat is not None:
            self.mat.use_thresholds(self.config)
        self.session.settings = self.config["session"]
        self.framing.min_visibility = float(self.config["pose"]["min_visibility"])
        self.policy.configure(self.config["alerts"])
        self.outputs.close()
        self.outputs = AlertOutputs(self.config["alerts"], self.hardware.gpio_for(self.config))
        self.roles = self.hardware.roles(self.config)
        if self.members is not None:
            from station.members.settings import MembersSettings

            self.members.configure(MembersSettings.from_config(self.config))
        return True

    @property
    def config_notice(self) -> str | None:
        """The trainer notice: a rejected config, else a session log that cannot be written."""
        problem = self.store.problem
        if problem is None:
            return getattr(self.session_log, "notice", None)
        first = problem.errors[0]
        where = first.path or Path(first.source).name
        more = f" (+{len(problem.errors) - 1} more)" if len(problem.errors) > 1 else ""
        return f"Config error in {where}{more} - running on the last good config"

    # --- events ----------------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        if isinstance(event, ForceBlock | ContactEdge):
            self._on_mat(event)
        elif isinstance(event, PoseFrame):
            self._on_pose(event)
        elif isinstance(event, DeviceStatus):
            self._on_status(event)

    def _on_mat(self, event: ForceBlock | ContactEdge) -> None:
        if self.mat is None:
            return
        if isinstance(event, ForceBlock) and len(event.force):
            self.live.last_force = dict(zip(event.zones, event.force[-1].tolist(), strict=True))
            self.live.recent_force.append(tuple(event.force.mean(axis=0).tolist()))
        self._on_mat_events(self.mat.handle(event))

    def _on_mat_events(self, events: list[Event]) -> None:
        for ev in events:
            if isinstance(ev, Landing):
                self._on_landing(ev)
            elif isinstance(ev, DeviceStatus):
                self._on_status(ev)
            elif isinstance(ev, MatPresence):
                log.debug("mat presence %s at %.2f", ev.on_mat, ev.t)

    def _on_landing(self, landing: Landing) -> None:
        self.live.last_landing = landing
        if self.counting_source == "mat":
            self.session.add_jump(landing.t, double=landing.double_under)
        self.session.add_landing(landing.peak_bw, landing.loading_rate_bw_s, landing.hard)
        if landing.peak_bw is not None:
            self.landing_light.add(landing)

    def _on_pose(self, frame: PoseFrame) -> None:
        self.live.last_pose = frame
        self.camera_stats.add_frame(frame.t, frame.index)
        self.session_camera.add_frame(frame.t, frame.index)
        self.live.posture = self.posture.update(frame)
        in_session = self.session.phase in ("calibrating", "active")
        self.live.framing = self.framing.update(frame, tally=in_session)
        for jump in self.camera_counter.update(frame):
            if self.counting_source == "camera":
                self.session.add_jump(jump.t, double=jump.double)
                if self._count_frame_t is None:
                    self._count_frame_t = frame.t

    def _on_status(self, status: DeviceStatus) -> None:
        health = self.devices.get(status.device)
        if health is None:
            # A part of a device ("mat.left" dead, "mat.input" bad samples) degrades it; the
            # device keeps working with what it has, so counting does not change hands.
            log.warning("%s: %s", status.device, status.message)
            self.degraded[status.device] = "" if status.ok else status.message
            return
        if health.ok != status.ok:
            state = "back" if status.ok else "unavailable"
            log.warning("%s %s: %s", status.device, state, status.message)
        health.ok, health.message = status.ok, status.message
        if status.device == "camera" and not status.ok:
            self.live.posture = None
            self.live.last_pose = None
            self.live.framing = Framing()

    def end_of_data(self, t: float) -> None:
        """A replay ran out: its sensors say nothing more, as if unplugged, so a member
        still "on the mat" at the end of a recording is seen leaving and the session ends."""
        for device, health in self.devices.items():
            if health.fitted:
                self._on_status(DeviceStatus(t, device, False, "end of the recording"))

    # --- who counts ------------------------------------------------------------------------

    @property
    def mat_working(self) -> bool:
        mat = self.devices["mat"]
        return mat.fitted and mat.ok

    @property
    def camera_working(self) -> bool:
        cam = self.devices["camera"]
        return cam.fitted and cam.ok

    @property
    def counting_source(self) -> str:
        """The mat counts when it works; the camera only without one."""
        return "mat" if self.mat_working else "camera"

    # --- the frame -------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Once per UI frame: lifecycle, lights, alerts, checkpoint."""
        if self._count_frame_t is not None:  # the new count is drawn this frame
            for stats in (self.camera_stats, self.session_camera):
                stats.add_count_latency(now - self._count_frame_t)
            self._count_frame_t = None
        if self.mat is not None:
            # a switch mat learns of stops and stepping off from time passing, not edges
            self._on_mat_events(self.mat.tick(now))
        if self.camera_working:  # frames age out of the window: a member who left leaves no flag
            self.live.framing = self.framing.judge(now)
        obs = self._observe(now)
        changed = self.session.observe(obs)
        if changed:
            self._enter(changed, now)
        lights = self._lights(now)
        self.live.lights = lights
        self.session.update_lights(now, lights)
        active = self.session.screen(now) == "active"  # coached: not under a summary
        for alert in self.policy.decide(
            now, lights, session_active=active, wall_time=self.local_time()
        ):
            self.outputs.start(alert, now)
        self.outputs.tick(now)
        self.outputs.show_lights(lights, now, active)
        self._checkpoint(now)
        if self.members is not None and self.session.phase == "idle":
            self.members.idle_tick(now, self.camera_picture)  # personal codes: idle only

    def _observe(self, now: float) -> Observation:
        on_mat: bool | None = None
        still = False
        if self.mat_working and self.mat is not None:
            state = self.mat.state
            on_mat = state.on_mat
            still = state.still or state.body_weight_n is not None or not self.mat_weighs
        in_view: bool | None = None
        pose = self.live.last_pose
        if self.camera_working:
            in_view = pose is not None and now - pose.t < POSE_STALE_S and pose.lm is not None
        return Observation(now, on_mat, still, in_view, self.posture.baseline_ready)

    def _lights(self, now: float) -> dict[str, LightState]:
        """Each fault's light from the verdicts of the sensors working now, combined as its
        spec says (station.faults: the landing's mat-over-camera rule lives in its spec)."""
        posture = self.live.posture
        camera = posture.states() if self.camera_working and posture is not None else {}
        mat: LightState | None = None
        if self.mat_working and self.mat_weighs:
            mat = self.landing_light.update(now)  # the mat's landing verdict
        lights: dict[str, LightState] = {}
        for spec in fault_specs():
            verdicts: dict[str, LightState] = {}
            if spec.name in camera:
                verdicts["camera"] = camera[spec.name]
            if mat is not None and "mat" in spec.sensors:
                verdicts["mat"] = mat
            lights[spec.name] = spec.combine(verdicts)
        return lights

    def _enter(self, phase: str, now: float) -> None:
        log.info("session: %s", phase)
        if phase == "calibrating":
            self.camera_counter = CameraJumpCounter()  # one per member: its list of jumps
            self.session_camera = CameraStats()
            self.framing.start_period()
            self.posture.reset()
            self.posture.start_baseline()
            self.landing_light.reset()
            self.policy.reset()
            self._logged = False
            if self.members is not None:
                self.members.session_started(now)
        elif phase == "dropped":  # no jump, no session: nothing was logged, nothing to show
            self.outputs.silence()
            if self.members is not None:
                self.members.session_dropped(now)
        elif phase == "summary":
            self.outputs.silence()
            summary = self.session.last_summary
            assert summary is not None
            if self.members is not None:
                # handed over before the log marks the session finished: its consumer may
                # take the session the moment it is final
                started_at = self.wall() - summary.duration_s
                self.members.session_ended(summary, started_at, self._session_id)
            self._log_finish(summary)

    def _checkpoint(self, now: float) -> None:
        if self.session.phase != "active" or not self.session.counts:
            return
        if not self._logged:
            self._begin_log(now)
            return
        if self._session_id is None:
            return
        if now - self._last_checkpoint < self.config["session"]["checkpoint_s"]:
            return
        self._last_checkpoint = now
        assert self.session.stats is not None and self.session_log is not None
        self.session_log.checkpoint(self._session_id, self.session.snapshot(now))

    def _begin_log(self, now: float) -> None:
        """The session's row, begun (once) from its first jump (Session.counts: standing on the
        mat without jumping is no session), dated from when it became active."""
        self._logged = True
        self._last_checkpoint = now
        if self.session_log is not None and self.session.stats is not None:
            self._session_id = self.session_log.begin(
                started_at=self.wall() - self.session.elapsed(now),
                count_source=self.session.stats.count_source,
            )
            if self._session_id is not None and self.session.phase == "active":
                # its first checkpoint at once: a row cut off now keeps its jump, never one of
                # 0 jumps (which counts as no session and is offered to no one)
                self.session_log.checkpoint(self._session_id, self.session.snapshot(now))

    def _log_finish(self, summary: SessionSummary) -> None:
        stats = self.session.stats
        if not self._logged and stats is not None:  # first jump and end in the same frame
            self._begin_log(stats.ended_t if stats.ended_t is not None else stats.started_t)
        session_log, session_id = self.session_log, self._session_id
        if session_log is not None and session_id is not None:
            session_log.finish(session_id, self._record(summary), ended_at=self.wall())
            if self.consumers is not None:
                self.consumers.poke()  # they read it from the log, in their own threads
        self.sessions_done += 1
        if self.keep_summaries:
            # the record exactly as the log holds it (or the summary itself without a log)
            logged_record = (
                session_log.get(session_id)
                if session_log is not None and session_id is not None
                else None
            )
            self.summaries.append(
                dict(logged_record.to_dict()) if logged_record else summary.to_dict()
            )
        self._session_id = None

    def _record(self, summary: SessionSummary) -> Summary:
        """The summary plus, in its logged detail, the member's body weight with its source and
        uncertainty (a mat that weighs) and what the camera delivered during the session (so a
        slow Pi or an overloaded box shows in the log, not only live)."""
        extra: dict[str, Any] = {}
        weight = self.mat.member_weight() if self.mat is not None else None
        if weight is not None:
            extra["body_weight_n"] = round(weight.newtons, 1)
            sd = weight.uncertainty_n
            extra["body_weight_sd_n"] = None if math.isnan(sd) else round(sd, 2)
            extra["body_weight_source"] = weight.source
        if self.devices["camera"].fitted and self.session_camera.inferred > 0:
            figures = self.session_camera.figures()
            figures["inference_fps"] = figures.pop("inference_fps_mean")
            extra.update({f"camera_{k}": v for k, v in figures.items()})
            # Whether the camera could count this session (station analyze's verdict on the
            # session's frames): trainers see a camera count that was a guess.
            trust = trust_from_share(self.framing.period_share())
            extra["camera_feet_in_picture"] = trust["feet_in_picture"]
            extra["camera_count_trusted"] = trust["trusted"]
            # Which lights judged the member against their own standing posture and which
            # against the population's (trainers read a Back verdict differently then).
            extra["posture_baseline_own"] = self.posture.own_baseline()
        if not extra:
            return summary
        record = summary.to_dict()
        record["cadence_series"] = [[round(t, 3), round(c, 2)] for t, c in summary.cadence_series]
        record.update(extra)
        return record

    def shutdown(self, now: float) -> None:
        """SIGTERM: save the session in progress and silence the outputs."""
        if self.session.phase == "active" and self.session.counts:
            self._log_finish(self.session.finish(now))
        self.outputs.close()

    def view(self, now: float) -> Any:
        return build_view(self, now)

    @property
    def devices_notice(self) -> str | None:
        """One line for the trainer when the station is not all real hardware (a demo, a
        webcam trial, a video): which devices are simulated, absent or a video file."""
        unusual = [
            r
            for r in self.roles
            if r.state == "simulated" or (r.device == "camera" and "video file" in r.detail)
        ]
        if not unusual:
            return None
        words = {r.device: r.state for r in self.roles}
        if any(r.device == "camera" and "video file" in r.detail for r in self.roles):
            words["camera"] = "video file"
        return "Devices: " + ", ".join(f"{d} {state}" for d, state in words.items())

    def status_lines(self) -> Mapping[str, str]:
        lines = {d: ("ok" if h.ok else h.message) for d, h in self.devices.items() if h.fitted}
        lines.update({part: problem for part, problem in self.degraded.items() if problem})
        return lines


def _no_picture() -> None:
    return None
