"""The simulated jumper: what the scripts say happens shows up in the raw sensor data.

Nothing here uses the station's own mat or posture pipelines: the mat side is checked with a
small hysteresis detector written below, the camera side by measuring the skeleton's geometry.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from station.clock import ManualClock
from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.events import LANDMARK as L
from station.events import ContactEdge, DeviceStatus, Event, ForceBlock, PoseFrame
from station.sim.model import GroundTruth
from station.sim.script import ScriptInvalid, packaged_scripts, parse_script
from station.sim.sources import ground_truth, simulated_mat, simulated_pose

SCRIPTS = packaged_scripts()
FOUR_ZONES = {
    "mat": {
        "channels": [0, 1, 2, 3],
        "zones": ["left_heel", "left_fore", "right_heel", "right_fore"],
        "offset_counts": [0.0] * 4,
        "scale_n_per_count": [1.0] * 4,
    }
}
Array = NDArray[np.float64]


def config(**sections: Mapping[str, Any]) -> Any:
    return build_config(SCHEMA, [("test", dict(sections))] if sections else [])


def mat_signal(events: Iterable[Event]) -> tuple[Array, Array, tuple[str, ...]]:
    blocks = [e for e in events if isinstance(e, ForceBlock)]
    t = np.concatenate([b.t_samples for b in blocks])
    force = np.concatenate([b.force for b in blocks])
    return t, force, blocks[0].zones


def touchdowns(t: Array, total: Array, body_weight: float) -> Array:
    """Touchdowns after a flight: the load rises above 0.5 BW after being below 0.1 BW for
    less than a second (longer gaps are the mat being empty: stepping on is no jump)."""
    out = []
    in_air_since: float | None = -np.inf  # the mat starts empty
    last_low = 0.0  # back-date each touchdown to the last sample still in the air
    for ti, f in zip(t, total / body_weight, strict=True):
        if f < 0.1:
            last_low = ti
        if in_air_since is None and f < 0.1:
            in_air_since = ti
        elif in_air_since is not None and f > 0.5:
            if last_low - in_air_since < 1.0:
                out.append(last_low)
            in_air_since = None
    return np.array(out)


def standing_weight(t: Array, total: Array, truth: GroundTruth) -> float:
    """Body weight as a trainer's calibration would find it: the median load in the first
    standing second after stepping on."""
    on = truth.on_mat[0][0]
    window = (t > on + 2.0) & (t < on + 3.0)
    return float(np.median(total[window]))


@pytest.mark.parametrize("name", ["default", "double_under", "alternate_foot", "misses_heels"])
def test_mat_counts_exactly_the_scripted_jumps(name: str) -> None:
    mat = simulated_mat(config(), SCRIPTS[name], seed=11)
    t, force, _ = mat_signal(mat.events())
    total = force.sum(axis=1)
    bw = standing_weight(t, total, mat.truth)
    assert bw == pytest.approx(mat.truth.mass_kg * 9.81, rel=0.03)
    found = touchdowns(t, total, bw)
    truth = mat.truth.landings_s
    assert len(found) == mat.truth.jump_count == len(truth)
    error = np.abs(found - truth)
    assert np.median(error) < 0.005 and error.max() < 0.02  # close to the true touchdowns


def test_styles_count_the_way_jump_rope_counts() -> None:
    two = ground_truth(SCRIPTS["default"], seed=2)
    jump = next(p for p in two.jumps if p.style == "two-foot")
    assert jump.foot == "both" and not jump.double
    # 80 s at 120/min, minus the push-off and settling at the ends: about 157 jumps.
    assert 150 <= two.jump_count <= 160

    alt = ground_truth(SCRIPTS["alternate_foot"], seed=2)
    feet = [j.foot for j in alt.jumps]
    assert set(feet) == {"left", "right"}
    assert all(a != b for a, b in itertools.pairwise(feet))  # every contact counts
    assert abs(alt.jump_count - 170 * 29.0 / 60) < 6  # 30 s at 170 contacts/min

    du = ground_truth(SCRIPTS["double_under"], seed=2)
    assert all(j.double and j.foot == "both" for j in du.jumps)
    assert abs(du.jump_count - 90 * 29.0 / 60) < 4  # one count per jump, not per turn
    assert min(j.flight_s for j in du.jumps) > 0.3 > max(j.flight_s for j in two.jumps)


def test_misses_stop_the_jumper_standing_and_step_off_empties_the_mat() -> None:
    mat = simulated_mat(config(), SCRIPTS["misses_heels"], seed=5)
    t, force, _ = mat_signal(mat.events())
    total = force.sum(axis=1)
    bw = mat.truth.mass_kg * 9.81
    for miss in (10.0, 17.0):
        # Within a jump period the jumper lands and stands still for about a second.
        window = (t > miss + 0.7) & (t < miss + 1.3)
        assert np.all(np.abs(total[window] / bw - 1.0) < 0.12), miss
        assert mat.truth.count_between(miss + 0.6, miss + 1.3) == 0
    steady = (t > 12.0) & (t < 13.0)  # jumping: the load swings between air and ~3 BW
    assert total[steady].min() / bw < 0.1 and total[steady].max() / bw > 2.0
    for _a, b in mat.truth.on_mat:
        off = (t > b + 0.05) & (t < b + 1.0)
        assert np.all(np.abs(total[off]) < 30.0)  # noise only: nobody on the mat
    assert len(mat.truth.on_mat) == 2 and mat.truth.misses_s == (10.0, 17.0)


def test_heel_slaps_hit_the_heel_zone_first_hard_and_fast() -> None:
    mat = simulated_mat(config(**FOUR_ZONES), SCRIPTS["misses_heels"], seed=4)
    t, force, zones = mat_signal(mat.events())
    assert zones == ("left_heel", "left_fore", "right_heel", "right_fore")
    heel = force[:, 0] + force[:, 2]
    fore = force[:, 1] + force[:, 3]
    total = heel + fore
    bw = mat.truth.mass_kg * 9.81
    soft_peaks, heel_peaks, soft_rates, heel_rates = [], [], [], []
    for jump in mat.truth.jumps[1:-1]:
        i = int(np.searchsorted(t, jump.t))
        heel_on = i + int(np.argmax(heel[i : i + 150] > 50.0))
        fore_on = i + int(np.argmax(fore[i : i + 150] > 50.0))
        window = total[i : i + 100] / bw
        peak = float(window.max())
        rate = float(np.max(np.diff(window[: int(np.argmax(window)) + 1])) * 1000.0)
        if jump.heel_first:
            assert heel_on < fore_on, jump
            heel_peaks.append(peak)
            heel_rates.append(rate)
        else:
            assert fore_on < heel_on or heel[i : i + 150].max() < 50.0, jump
            soft_peaks.append(peak)
            soft_rates.append(rate)
    assert len(heel_peaks) > 20 and len(soft_peaks) > 60
    assert 2.5 <= np.median(soft_peaks) <= 3.5  # soft landings: ~3 body weights
    assert np.median(heel_peaks) > 4.5  # heel slaps: a sharp, high impact peak
    assert np.median(heel_rates) > 4 * np.median(soft_rates)
    assert np.median(soft_rates) < 100.0  # BW/s, below the intermediate warning


def test_standing_is_body_weight_split_over_the_zones_with_sway() -> None:
    mat = simulated_mat(config(**FOUR_ZONES), SCRIPTS["default"], seed=9)
    t, force, _ = mat_signal(mat.events())
    bw = mat.truth.mass_kg * 9.81
    standing = (t > 4.0) & (t < 6.0)  # the calibration stand
    share = force[standing] / bw
    assert share.sum(axis=1).mean() == pytest.approx(1.0, abs=0.01)
    left = share[:, 0] + share[:, 1]
    assert 0.4 < left.mean() < 0.6 and left.std() > 0.002  # weight shifts a little
    assert np.all(share.mean(axis=0) > 0.15)  # every zone carries some of it
    empty = t < 1.5
    assert np.abs(force[empty]).mean() < 5.0  # empty mat: noise around 0 N


# ---- the camera side: measure the deformations geometrically -------------------------------


def _mid(p: Array, a: str, b: str) -> Array:
    out: Array = (p[..., L[a], :] + p[..., L[b], :]) / 2
    return out


def _sagittal_angle(v: Array, fwd: Array) -> Array:
    """Angle of 3-D vectors from straight up (world y is down), positive leaning forward."""
    return np.degrees(np.arctan2(np.sum(v * fwd, axis=-1), -v[..., 1]))


def posture(world: Array) -> dict[str, Array]:
    """Per-frame posture measures from world landmarks [N, 33, 3] (metres, y down)."""
    shoulder = _mid(world, "left_shoulder", "right_shoulder")
    hip = _mid(world, "left_hip", "right_hip")
    ear = _mid(world, "left_ear", "right_ear")
    ankle = _mid(world, "left_ankle", "right_ankle")
    torso = np.linalg.norm(shoulder - hip, axis=-1)
    fwd = _mid(world, "left_foot_index", "right_foot_index") - _mid(
        world, "left_heel", "right_heel"
    )
    fwd[..., 1] = 0.0
    fwd /= np.linalg.norm(fwd, axis=-1, keepdims=True)
    face = world[:, L["nose"]] - ear
    wrists = np.stack([world[:, L["left_wrist"]], world[:, L["right_wrist"]]], 1)
    hips = np.stack([world[:, L["left_hip"]], world[:, L["right_hip"]]], 1)
    return {
        # how far the ears sit above the shoulders, in torso lengths
        "ear_above_shoulder": (shoulder[:, 1] - ear[:, 1]) / torso,
        # nose below the ear line, degrees (looking down is positive)
        "head_pitch": np.degrees(np.arctan2(face[:, 1], np.sum(face * fwd, axis=-1))),
        # the wrists' distance from their hips, in metres
        "wrist_hip_m": np.linalg.norm(wrists - hips, axis=-1).mean(axis=1),
        # trunk leaning back relative to the hip-ankle line: an arched back
        "trunk_extension": _sagittal_angle(hip - ankle, fwd) - _sagittal_angle(shoulder - hip, fwd),
    }


def collect_pose(source: Any) -> tuple[Array, Array, Array]:
    frames = [e for e in source.events() if isinstance(e, PoseFrame) and e.lm is not None]
    t = np.array([f.t for f in frames])
    world = [f.world for f in frames if f.world is not None]
    lm = [f.lm for f in frames if f.lm is not None]
    return t, np.stack(world), np.stack(lm)


@functools.cache
def default_session(placement: str) -> tuple[Array, Array, Array, GroundTruth]:
    """The default script seen from `placement` (seed 21), computed once per test run."""
    source = simulated_pose(config(camera={"placement": placement}), None, seed=21)
    return (*collect_pose(source), source.truth)


EXPECTED_SHIFT = {  # measure, the least change an episode must show over good form
    "shoulders": ("ear_above_shoulder", -0.08),
    "head": ("head_pitch", 25.0),
    "arms": ("wrist_hip_m", 0.15),
    "back": ("trunk_extension", 10.0),
}


@pytest.mark.parametrize("placement", ["front", "oblique", "side"])
def test_fault_episodes_show_in_the_landmarks(placement: str) -> None:
    t, world, lm, truth = default_session(placement)
    m = posture(world)
    jumping = (t > 8.0) & (t < 85.0)
    good = jumping & np.array(
        [not any(e.start_s - 1.0 < ti < e.end_s + 1.0 for e in truth.faults) for ti in t]
    )
    assert good.sum() > 200
    for fault, (measure, shift) in EXPECTED_SHIFT.items():
        (episode,) = truth.episodes(fault)
        inside = (t > episode.start_s + 0.5) & (t < episode.end_s - 0.5)
        base = np.median(m[measure][good])
        during = m[measure][inside]
        if shift > 0:
            assert np.percentile(during, 10) > base + shift, (fault, base, during)
        else:
            assert np.percentile(during, 90) < base + shift, (fault, base, during)
        # ... and only that fault's measure moves a lot: the others stay near good form.
        for other, (other_measure, other_shift) in EXPECTED_SHIFT.items():
            if other != fault and not (fault == "head" and other == "shoulders"):
                drift = abs(np.median(m[other_measure][inside]) - np.median(m[other_measure][good]))
                assert drift < abs(other_shift) / 2, (fault, other, drift)
    # While jumping the whole body is in the picture.
    assert np.all((lm[jumping, :, :2] > 0) & (lm[jumping, :, :2] < 1)) and lm.shape[1:] == (33, 4)


def test_image_landmarks_show_the_faults_as_a_camera_sees_them() -> None:
    # Front: shoulders rise toward the ears in the image; side: the head tips down.
    t, _, lm, _ = default_session("front")
    width = np.abs(lm[:, L["left_shoulder"], 0] - lm[:, L["right_shoulder"], 0])
    gap = (
        _mid(lm, "left_shoulder", "right_shoulder")[:, 1] - _mid(lm, "left_ear", "right_ear")[:, 1]
    )
    ratio = gap / width
    shrug = (t > 16) & (t < 22)
    calm = (t > 8) & (t < 14)
    assert np.median(ratio[shrug]) < 0.75 * np.median(ratio[calm])

    t, _, lm, _ = default_session("side")
    ear, nose = lm[:, L["right_ear"], :2], lm[:, L["nose"], :2]
    # Side view: the member faces the image's right; x right, y down, aspect-corrected.
    dx = (nose[:, 0] - ear[:, 0]) * 640
    dy = (nose[:, 1] - ear[:, 1]) * 480
    pitch = np.degrees(np.arctan2(dy, dx))
    assert np.median(pitch[(t > 58) & (t < 64)]) - np.median(pitch[(t > 8) & (t < 14)]) > 25


def test_heel_first_landings_show_in_the_feet() -> None:
    source = simulated_pose(config(camera={"placement": "side"}), None, seed=3)
    truth = source.truth
    # heel below the toes just before touchdown (m, + = lower)
    gaps: dict[bool, list[float]] = {True: [], False: []}
    for jump in truth.jumps[5:-5]:
        _lm, world = source.pose_at(jump.t - 0.01)
        assert world is not None
        heel = _mid(world[None], "left_heel", "right_heel")[0]
        toe = _mid(world[None], "left_foot_index", "right_foot_index")[0]
        gaps[jump.heel_first].append(heel[1] - toe[1])
    assert len(gaps[True]) > 10
    assert min(gaps[True]) > 0.0  # heel strikes first
    assert max(gaps[False]) < -0.05  # on the balls of the feet, heel well up


def test_mat_and_camera_agree_on_the_bounce() -> None:
    """The hips sit lowest when the mat feels the most force: one model feeds both."""
    mat = simulated_mat(config(), None, seed=21)
    t, force, _ = mat_signal(mat.events())
    tp, _, lm, _ = default_session("front")
    jumping = (tp > 8) & (tp < 14)
    hip_y = _mid(lm, "left_hip", "right_hip")[jumping, 1]  # image y: larger is lower
    load = np.interp(tp[jumping], t, force.sum(axis=1))
    assert np.corrcoef(hip_y, load)[0, 1] > 0.7
    flying = np.array([any(j.takeoff_s < x < j.t for j in mat.truth.jumps) for x in tp])[jumping]
    assert np.median(hip_y[~flying]) > np.median(hip_y[flying]) + 0.01


# ---- seeds, outages, dead zones, pacing ----------------------------------------------------


def _first(source: Any, n: int) -> list[Event]:
    out = []
    for e in source.events():
        out.append(e)
        if len(out) == n:
            break
    return out


def test_same_seed_same_data_other_seed_other_noise() -> None:
    cfg = config()
    a = _first(simulated_mat(cfg, None, seed=1), 1500)
    b = _first(simulated_mat(cfg, None, seed=1), 1500)
    c = _first(simulated_mat(cfg, None, seed=2), 1500)
    fa, fb, fc = (
        np.concatenate([e.force for e in x if isinstance(e, ForceBlock)]) for x in (a, b, c)
    )
    assert np.array_equal(fa, fb)
    assert not np.allclose(fa, fc)
    assert np.abs(fa - fc).mean() < 20.0  # the same session underneath, different noise

    pa = [e for e in _first(simulated_pose(cfg, None, seed=1), 300) if isinstance(e, PoseFrame)]
    pb = [e for e in _first(simulated_pose(cfg, None, seed=1), 300) if isinstance(e, PoseFrame)]
    pc = [e for e in _first(simulated_pose(cfg, None, seed=2), 300) if isinstance(e, PoseFrame)]
    seen = [i for i, f in enumerate(pa) if f.lm is not None]
    assert seen
    assert all(np.array_equal(pa[i].lm, pb[i].lm) for i in seen)  # type: ignore[arg-type]
    assert not any(np.array_equal(pa[i].lm, pc[i].lm) for i in seen)  # type: ignore[arg-type]
    assert ground_truth(None, 1).jump_count == ground_truth(None, 2).jump_count


SMALL = """
[[phase]]
kind = "step_on"
duration_s = 1.5
[[phase]]
kind = "jump"
duration_s = 10.0
[[phase]]
kind = "step_off"
duration_s = 1.5
"""


def test_outages_report_status_and_drop_data(tmp_path: Path) -> None:
    path = tmp_path / "outage.toml"
    path.write_text(
        SMALL
        + '[[outage]]\ndevice = "mat"\nstart_s = 4.0\nend_s = 6.0\n'
        + '[[outage]]\ndevice = "camera"\nstart_s = 5.0\nend_s = 7.5\n'
    )
    for source, kind, (start, end) in (
        (simulated_mat(config(), path, 0), ForceBlock, (4.0, 6.0)),
        (simulated_pose(config(), path, 0), PoseFrame, (5.0, 7.5)),
    ):
        events = list(source.events())
        statuses = [e for e in events if isinstance(e, DeviceStatus)]
        assert [(s.t, s.device, s.ok) for s in statuses] == [
            (start, source.name, False),
            (end, source.name, True),
        ]
        data_t = np.array([e.t for e in events if isinstance(e, kind)])
        assert not np.any((data_t > start) & (data_t < end))
        assert np.any(data_t < start) and np.any(data_t >= end)
        assert [e.t for e in events] == sorted(e.t for e in events)


def test_dead_zone_reads_nothing_from_its_start() -> None:
    mat = simulated_mat(config(), SCRIPTS["misses_heels"], seed=0)  # 'right' dies at 60 s
    t, force, zones = mat_signal(mat.events())
    right = zones.index("right")
    before = (t > 50) & (t < 59)
    after = (t > 60) & (t < 66)
    assert force[before, right].max() > 500.0
    assert np.abs(force[after, right]).max() < 20.0  # noise only
    assert force[after, 1 - right].max() > 1000.0  # the other zone still feels every landing


def test_dead_zone_must_name_a_zone_of_the_mat(tmp_path: Path) -> None:
    path = tmp_path / "dead.toml"
    path.write_text(SMALL + '[[dead_zone]]\nzone = "middle"\nstart_s = 3.0\n')
    with pytest.raises(ScriptInvalid, match=r"dead_zone\[0\]\.zone = 'middle'"):
        simulated_mat(config(), path, 0)


def test_realtime_pacing_follows_the_clock() -> None:
    clock = ManualClock(100.0)
    mat = simulated_mat(config(), None, 0, clock=clock)
    pose = simulated_pose(config(), None, 0, clock=ManualClock(100.0), t0=500.0)
    assert mat.realtime and pose.realtime
    events = _first(mat, 400)
    assert events[0].t == pytest.approx(100.0 + 0.004)
    assert clock.now() == pytest.approx(events[-1].t)  # it waited for each block's time
    frames = _first(pose, 3)
    assert [f.t for f in frames] == pytest.approx([500.0, 500.0 + 1 / 15, 500.0 + 2 / 15])
    mat.close()
    assert list(mat.events()) == []


def test_contact_switch_mat_gives_edges_per_contact() -> None:
    mat = simulated_mat(config(mat={"sensor": "switch"}), SCRIPTS["double_under"], seed=0)
    edges = [e for e in mat.events() if isinstance(e, ContactEdge)]
    presses = [e.t for e in edges if e.pressed]
    # One press stepping on, then one per landing.
    assert len(presses) == mat.truth.jump_count + 1
    assert np.allclose(presses[1:], mat.truth.landings_s, atol=0.02)


def test_pose_rate_is_capped_by_the_camera_config() -> None:
    pose = simulated_pose(config(camera={"fps": 10}), SCRIPTS["double_under"], seed=0)
    frames = [e for e in pose.events() if isinstance(e, PoseFrame)]
    assert np.allclose(np.diff([f.t for f in frames]), 0.1)
    assert frames[0].width == 640 and frames[0].height == 480


# ---- script validation -----------------------------------------------------------------------


def _error(text: str) -> str:
    import tomllib

    with pytest.raises(ScriptInvalid) as info:
        parse_script(tomllib.loads(text), "bad.toml")
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SMALL.replace('duration_s = 10.0', 'duration_s = 10.0\ncadence_per_min = 500'),
         "bad.toml: phase[1].cadence_per_min = 500: too large"),
        (SMALL.replace('kind = "jump"', 'kind = "hop"'), "phase[1].kind = 'hop': not allowed"),
        (SMALL + "[jumper]\nmass_kg = 5\n", "jumper.mass_kg = 5: too small"),
        (SMALL + "[jumper]\nweight = 70\n", "jumper.weight: unknown key"),
        (SMALL + '[[fault]]\nname = "knees"\nstart_s = 1\nend_s = 2\n',
         "fault[0].name = 'knees': not allowed"),
        (SMALL + '[[fault]]\nname = "head"\nstart_s = 5\nend_s = 3\n',
         "fault[0].end_s = 3: must be after start_s"),
        (SMALL + '[[fault]]\nname = "head"\nstart_s = 5\n', "fault[0].end_s: missing (required)"),
        (SMALL + '[[outage]]\ndevice = "buzzer"\nstart_s = 1\nend_s = 2\n',
         "outage[0].device = 'buzzer': not allowed"),
        (SMALL.replace('kind = "step_on"', 'kind = "stand"'),
         "phase[0].kind = 'stand': the jumper is not on the mat"),
        (SMALL.replace("duration_s = 1.5\n[[phase]]\nkind = \"jump\"",
                       "duration_s = 1.5\ncadence_per_min = 100\n[[phase]]\nkind = \"jump\"", 1),
         "phase[0].cadence_per_min: only for kind = 'jump'"),
        (SMALL.replace('duration_s = 10.0', 'duration_s = 10.0\nmisses_s = [11.0]'),
         "phase[1].misses_s: item 0 = 11"),
        ("[noise]\nmat_n = -1\n", "noise.mat_n = -1: too small"),
        (SMALL.replace("duration_s = 10.0", "duration_s = 2.0"),
         "phase[1].duration_s = 2: too short for a jump at 120/min"),
        (SMALL + '[[outage]]\ndevice = "mat"\nstart_s = 20\nend_s = 30\n',
         "outage[0].start_s = 20: after the script ends (13 s)"),
        ("[[phase]]\nkind = 1\nduration_s = 2\n", "phase[0].kind = 1: an integer, not a string"),
        ("phase = 3\n", "phase: expected an array of tables [[phase]]"),
        ("name = 'x'\n", "phase: a script needs at least one [[phase]]"),
    ],
)  # fmt: skip
def test_script_errors_name_the_key_path(text: str, expected: str) -> None:
    assert expected in _error(text)


def test_every_packaged_script_is_valid_and_documented() -> None:
    assert {"default", "double_under", "alternate_foot", "misses_heels"} <= set(SCRIPTS)
    doc = (Path(__file__).resolve().parents[2] / "docs" / "simulator.md").read_text()
    for name in SCRIPTS:
        assert ground_truth(SCRIPTS[name], 0).jump_count > 0
        assert f"{name}.toml" in doc
