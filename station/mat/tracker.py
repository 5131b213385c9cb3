"""The runtime's one handle on the mat: feed it every mat event, tick it every frame, read its
state. It picks the force pipeline or the contact-switch pipeline from `mat.sensor`, and takes
new landing thresholds when the trainer changes the preset without losing the session."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

from station.events import ContactEdge, DeviceStatus, Event, ForceBlock
from station.mat.pipeline import MatPipeline, MatState, PipelineParams
from station.mat.settings import MatSettings
from station.mat.switchmat import SwitchPipeline
from station.mat.weight import WeightEstimate

if TYPE_CHECKING:
    from station.config.loader import Config

_JUDGE_FIELDS = (
    "judge_landings",
    "peak_warn_bw",
    "peak_fault_bw",
    "loading_rate_warn_bw_s",
    "loading_rate_fault_bw_s",
    "heel_first_is_fault",
)


class MatTracker:
    def __init__(self, config: Config) -> None:
        self.params = PipelineParams.from_config(config)
        mat = MatSettings.from_config(config)
        self.sensor = mat.sensor
        self.zones = mat.zones
        self._force: MatPipeline | None = None
        self._switch: SwitchPipeline | None = None
        if self.sensor == "switch":
            self._switch = SwitchPipeline(self.params)
        else:  # adc, replay and the simulated mat all give ForceBlocks
            self._force = MatPipeline(self.zones, self.params)

    @property
    def state(self) -> MatState:
        pipe = self._switch if self._switch is not None else self._force
        assert pipe is not None
        return pipe.state

    @property
    def weighs(self) -> bool:
        """False for a contact-switch mat: no body weight, no landing quality."""
        return self._force is not None

    def member_weight(self) -> WeightEstimate | None:
        """The body weight of the member on the mat now, or of the last to leave it (each
        stay's final impulse-momentum fit): what the session log keeps with the session."""
        if self._force is None:
            return None
        st = self._force.state
        if st.body_weight_n is not None:
            fitted = self._force.stay_weight()
            if fitted is not None and fitted.newtons == st.body_weight_n:
                return fitted  # with its honest uncertainty
            sd = math.nan if st.body_weight_sd_n is None else st.body_weight_sd_n
            return WeightEstimate(st.body_weight_n, sd, st.body_weight_source, 0, 0.0)
        return self._force.stays[-1] if self._force.stays else None

    def handle(self, event: Event) -> list[Event]:
        """A ForceBlock or ContactEdge from the mat source; anything else is ignored. Returns
        the Landing, MatPresence and DeviceStatus events it completed."""
        if isinstance(event, ForceBlock) and self._force is not None:
            if event.zones != self.zones:
                msg = f"mat zones {event.zones} do not match mat.zones {self.zones}"
                return [DeviceStatus(event.t, "mat", False, msg)]
            return self._force.feed(event.t_samples, event.force)
        if isinstance(event, ContactEdge) and self._switch is not None:
            return self._switch.feed(event)
        if isinstance(event, ForceBlock) and self._force is None:
            return [DeviceStatus(event.t, "mat", False, "force data from a switch-configured mat")]
        return []

    def tick(self, now: float) -> list[Event]:
        """Let time pass (stops and stepping off on a switch mat are decided by time)."""
        return self._switch.tick(now) if self._switch is not None else []

    def finish(self) -> list[Event]:
        return self._force.finish() if self._force is not None else []

    def use_thresholds(self, config: Config) -> None:
        """New landing thresholds (a preset change) for the landings still to come."""
        fresh = PipelineParams.from_config(config)
        self.params = replace(self.params, **{f: getattr(fresh, f) for f in _JUDGE_FIELDS})
        if self._force is not None:
            self._force.update_params(self.params)
        if self._switch is not None:
            self._switch.update_params(self.params)
