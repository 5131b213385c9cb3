"""The pipeline on the simulated jumper (station.sim): the same physical model that drives the
camera side, with its own sensor noise, dead zones and scripted misses. Every packaged script,
on a two-zone and a four-zone mat, through the source the runtime uses."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.events import ContactEdge, ForceBlock, Landing
from station.mat.pipeline import MatPipeline, PipelineParams
from station.mat.switchmat import SwitchPipeline

sim = pytest.importorskip("station.sim.sources")

SCRIPTS = sorted((Path(sim.__file__).parent / "scripts").glob("*.toml"))
ZONES = {
    "two zones": ["left", "right"],
    "four zones": ["left_heel", "left_fore", "right_heel", "right_fore"],
}


def _config(zones: list[str], sensor: str = "adc"):  # type: ignore[no-untyped-def]
    n = len(zones)
    mat = {"sensor": sensor, "zones": zones, "channels": list(range(n)),
           "offset_counts": [0.0] * n, "scale_n_per_count": [1.0] * n}  # fmt: skip
    return build_config(SCHEMA, [("test", {"mat": mat})])


def _expected_stops(truth) -> int:  # type: ignore[no-untyped-def]
    """Jumping that stopped (a contact longer than stop_contact_s) and resumed on the mat: the
    scripted rope catches, and the brief stand a script puts between two jump phases."""
    stop_s = PipelineParams().stop_contact_s
    jumps = truth.jumps
    return sum(
        1
        for a, b in pairwise(jumps)
        if b.takeoff_s - a.t > stop_s and not _stepped_off_between(truth, a.t, b.t)
    )


def _stepped_off_between(truth, t0: float, t1: float) -> bool:  # type: ignore[no-untyped-def]
    return not any(a <= t0 and t1 <= b for a, b in truth.on_mat)


@pytest.mark.parametrize("zones", sorted(ZONES))
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_simulated_sessions(script: Path, zones: str) -> None:
    cfg = _config(ZONES[zones])
    source = sim.simulated_mat(cfg, script, 11)
    truth = source.truth
    pipe = MatPipeline(ZONES[zones], PipelineParams.from_config(cfg))
    events = []
    for ev in source.events():
        if isinstance(ev, ForceBlock):
            events += pipe.feed(ev.t_samples, ev.force)
    events += pipe.finish()
    landings = [e for e in events if isinstance(e, Landing)]

    assert len(landings) == truth.jump_count
    found = np.array([x.t for x in landings])
    dead_from = min((a for _, a, _ in truth.dead_zones), default=np.inf)
    err = np.abs(found - truth.landings_s)
    assert err[found < dead_from].max() <= 0.006
    assert err.max() <= 0.015  # one foot's sensor dead: the other foot may land a bit later
    assert [x.hard for x in landings] == [j.heel_first for j in truth.jumps]
    if "heel" in zones and zones != "two zones":
        assert [bool(x.heel_first) for x in landings] == [j.heel_first for j in truth.jumps]
    assert [x.double_under for x in landings] == [j.double for j in truth.jumps]
    assert pipe.state.misses == _expected_stops(truth)
    dead = {name for name, _, _ in truth.dead_zones}
    for zone, status in pipe.state.zone_status.items():
        assert (status != "ok") == any(d in zone for d in dead), (zone, status)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_simulated_switch_mat(script: Path) -> None:
    cfg = _config(["left", "right"], sensor="switch")
    source = sim.simulated_mat(cfg, script, 5)
    pipe = SwitchPipeline(PipelineParams.from_config(cfg))
    events = []
    last = 0.0
    for ev in source.events():
        if isinstance(ev, ContactEdge):
            events += pipe.tick(ev.t)
            events += pipe.feed(ev)
            last = ev.t
    events += pipe.tick(last + 5.0)
    landings = [e for e in events if isinstance(e, Landing)]
    assert len(landings) == source.truth.jump_count
    assert [x.double_under for x in landings] == [j.double for j in source.truth.jumps]


def test_tracker_runs_the_default_session_and_takes_new_thresholds() -> None:
    from station.mat.tracker import MatTracker

    cfg = build_config(SCHEMA, [])
    source = sim.simulated_mat(cfg, None, 2)
    tracker = MatTracker(cfg)
    assert tracker.weighs
    lenient = build_config(SCHEMA, [("t", {"posture": {"preset": "easy"}, "presets": {"easy": {
        "landing": {"loading_rate_warn_bw_s": 900.0, "loading_rate_fault_bw_s": 1000.0,
                    "peak_warn_bw": 14.0, "peak_fault_bw": 15.0}}}})])  # fmt: skip
    landings: list[Landing] = []
    for ev in source.events():
        landings += [e for e in tracker.handle(ev) if isinstance(e, Landing)]
        if len(landings) == 40 and tracker.params.peak_fault_bw != 15.0:
            tracker.use_thresholds(lenient)
    landings += [e for e in tracker.finish() if isinstance(e, Landing)]
    truth = source.truth
    assert tracker.state.count == len(landings) == truth.jump_count
    later = landings[40:]  # includes the default script's 16 heel slaps, hard by default
    assert not any(x.hard for x in later)
    assert [x.hard for x in landings[:40]] == [j.heel_first for j in truth.jumps[:40]]


def test_tracker_reports_a_zone_mismatch_instead_of_crashing() -> None:
    from station.events import DeviceStatus
    from station.mat.tracker import MatTracker

    tracker = MatTracker(build_config(SCHEMA, []))
    block = ForceBlock(1.0, np.array([0.999, 1.0]), np.zeros((2, 3)), ("a", "b", "c"))
    (status,) = tracker.handle(block)
    assert isinstance(status, DeviceStatus) and not status.ok and "do not match" in status.message
