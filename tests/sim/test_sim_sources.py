"""The simulated sources satisfy the Source protocol and replay through the runtime's merge."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.events import DeviceStatus, ForceBlock, PoseFrame
from station.runtime.feeds import merged_events
from station.sim.script import packaged_scripts
from station.sim.sources import ground_truth, simulated_mat, simulated_pose, zone_matrix


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
    pose = simulated_pose(config, packaged_scripts()["misses_heels"], seed=3, loop=True)
    duration = pose.truth.duration_s
    frames: list[PoseFrame] = []
    statuses: list[DeviceStatus] = []
    for event in pose.events():
        if isinstance(event, DeviceStatus):
            statuses.append(event)
            continue
        assert isinstance(event, PoseFrame)
        frames.append(event)
        if event.t > duration + 35.0:
            break
    times = [f.t for f in frames]
    indices = [f.index for f in frames]
    assert times == sorted(times) and indices == sorted(set(indices))
    # The second pass starts with the mat empty again (1 s), then the member steps on; the
    # camera outage (30-34 s) reports itself once per pass.
    second = [f for f in frames if f.t >= duration]
    assert all(f.lm is None for f in second if f.t < duration + 1.0)
    assert second[-1].lm is not None
    assert [(s.t, s.ok) for s in statuses] == [
        (30.0, False),
        (34.0, True),
        (duration + 30.0, False),
        (duration + 34.0, True),
    ]
    pose.close()


def test_the_hardware_switch_opens_the_simulator_with_script_and_seed() -> None:
    from station.hardware import select_hardware

    config = build_config(SCHEMA, [])
    script = packaged_scripts()["double_under"]
    hardware = select_hardware(config, simulate=True, script=script, seed=4)
    mat, camera = hardware.open_mat(), hardware.open_camera()
    assert mat is not None and camera is not None
    truth = ground_truth(script, seed=4)
    assert mat.truth == truth == camera.truth  # type: ignore[attr-defined]
    assert truth.jumps[0].double


def test_zones_take_their_foot_and_part_by_name() -> None:
    m = zone_matrix(["left_heel", "left_fore", "right_heel", "right_fore"])
    assert np.array_equal(m, np.eye(4))
    m = zone_matrix(["left", "right"])  # model columns: L heel, L fore, R heel, R fore
    assert np.array_equal(m, np.array([[1, 0], [1, 0], [0, 1], [0, 1]]))
    m = zone_matrix(["mat"])
    assert np.array_equal(m, np.ones((4, 1)))
    m = zone_matrix(["left_toe", "right_ball", "heels"])
    assert np.array_equal(m, np.array([[0, 0, 1], [1, 0, 0], [0, 0, 1], [0, 1, 0]]))
    m = zone_matrix(["left", "left_heel"])  # overlapping zones share the load
    assert np.array_equal(m, np.array([[0.5, 0.5], [1, 0], [0, 0], [0, 0]]))


def test_the_skeleton_is_rigid_bones_and_hinges() -> None:
    """Whatever the faults, jumps and rope turns do, no bone changes length."""
    from station.events import LANDMARK as L

    config = build_config(SCHEMA, [("t", {"camera": {"placement": "oblique"}})])
    pose = simulated_pose(config, None, seed=0)
    bones = [
        ("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("right_hip", "right_knee"),
        ("right_knee", "right_ankle"), ("left_shoulder", "left_elbow"),
        ("left_elbow", "left_wrist"), ("right_shoulder", "right_elbow"),
        ("right_elbow", "right_wrist"), ("left_heel", "left_foot_index"),
        ("left_ankle", "left_heel"), ("left_ear", "right_ear"), ("nose", "left_eye"),
        ("left_hip", "right_hip"),
    ]  # fmt: skip
    lengths = []
    for t in np.arange(4.0, 86.0, 0.117):
        _, world = pose.pose_at(float(t))  # no noise
        assert world is not None
        lengths.append([np.linalg.norm(world[L[a]] - world[L[b]]) for a, b in bones])
    spread = np.ptp(np.array(lengths), axis=0)
    assert np.all(spread < 1e-6), dict(zip(bones, spread, strict=True))


def test_script_checker_prints_the_truth_or_the_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from station.sim.__main__ import main

    assert main(["double_under", "--seed", "2"]) == 0
    count = ground_truth(packaged_scripts()["double_under"], 2).jump_count
    assert f"jumps: {count}" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text('[[phase]]\nkind = "stand"\nduration_s = 2\nstyle = "two-foot"\n')
    assert main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert "phase[0].style: only for kind = 'jump'" in err
    assert "phase[0].kind = 'stand': the jumper is not on the mat" in err
