"""The simulated sources satisfy the Source protocol and replay through the runtime's merge."""

from __future__ import annotations

from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.events import ForceBlock, PoseFrame
from station.runtime.feeds import merged_events
from station.sim.sources import simulated_mat, simulated_pose


def test_default_script_replays_in_time_order() -> None:
    config = build_config(SCHEMA, [])
    mat = simulated_mat(config, None, seed=3)
    pose = simulated_pose(config, None, seed=3)
    assert (mat.name, pose.name) == ("mat", "camera")
    assert not mat.realtime and not pose.realtime
    last = 0.0
    blocks = frames = seen = 0
    for event in merged_events([mat, pose]):
        assert event.t >= last
        last = event.t
        if isinstance(event, ForceBlock):
            blocks += 1
            assert event.force.shape == (len(event.t_samples), len(event.zones))
        elif isinstance(event, PoseFrame):
            frames += 1
            if event.lm is not None:
                seen += 1
                assert event.lm.shape == (33, 4) and event.world is not None
    duration = mat.truth.duration_s
    assert blocks == round(duration / 0.005)
    assert frames == round(duration * 15)
    assert 0 < seen < frames  # nobody in view at the start and the end


def test_loop_replays_the_script_with_continuing_timestamps() -> None:
    config = build_config(SCHEMA, [])
    pose = simulated_pose(config, None, seed=3, loop=True)
    duration = pose.truth.duration_s
    frames = []
    for event in pose.events():
        assert isinstance(event, PoseFrame)
        frames.append(event)
        if event.t > duration + 5.0:
            break
    times = [f.t for f in frames]
    assert times == sorted(times) and [f.index for f in frames] == list(range(len(frames)))
    # The second pass starts with the mat empty again, then the member steps on.
    second = [f for f in frames if f.t >= duration]
    assert all(f.lm is None for f in second if f.t < duration + 1.5)
    assert second[-1].lm is not None
    pose.close()
