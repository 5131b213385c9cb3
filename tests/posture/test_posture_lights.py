"""The five posture lights on constructed jumpers (tests/posture/posture_skeleton.py).

Each fault is switched on alone, at each camera placement, after a standing baseline and a
stretch of good jumping; the light for that fault must go red and the others must stay quiet.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from posture_skeleton import JUMPING_OK, STANDING, Posture, session, to_frame

from station.config.loader import Config, build_config
from station.config.sections import SCHEMA
from station.events import FAULTS, PoseFrame
from station.posture import Lights, PostureJudge, faults_json, summarise

FAULTY: dict[str, Posture] = {
    "shoulders": replace(JUMPING_OK, shoulder_rise_m=0.05),
    "back": replace(JUMPING_OK, trunk_pitch_deg=24.0),
    "arms": replace(JUMPING_OK, arm_abduction_deg=60.0, elbow_deg=10.0),
    "head": replace(JUMPING_OK, head_pitch_deg=35.0),
    "landing": replace(JUMPING_OK, heel_lift_deg=-8.0),
}
MEASURABLE = {
    "front": ("shoulders", "back", "arms", "head"),
    "oblique": FAULTS,
    "side": FAULTS,
}
FPS = 12.0


def config(placement: str = "front", **sections: dict[str, Any]) -> Config:
    layer: dict[str, Any] = {"camera": {"placement": placement}, **sections}
    return build_config(SCHEMA, [("test", layer)])


def run(judge: PostureJudge, frames: list[PoseFrame]) -> list[Lights]:
    return [judge.update(f) for f in frames]


def states_between(judged: list[Lights], fault: str, t0: float, t1: float) -> set[str]:
    return {j[fault].state for j in judged if t0 <= j.t < t1}


def protocol(placement: str, fault_posture: Posture, **kw: Any) -> list[PoseFrame]:
    """Stand 2.5 s (baseline), jump well 6 s, jump with the fault 6 s, jump well 6 s."""
    return session(
        placement,
        [(2.5, STANDING, False), (6.0, JUMPING_OK, True), (6.0, fault_posture, True),
         (6.0, JUMPING_OK, True)],
        fps=FPS,
        **kw,
    )  # fmt: skip


@pytest.mark.parametrize("placement", ["front", "oblique", "side"])
@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_lights_alone_and_clears(placement: str, fault: str) -> None:
    judge = PostureJudge(config(placement))
    judge.start_baseline()
    judged = run(judge, protocol(placement, FAULTY[fault], seed=FAULTS.index(fault)))
    assert judge.baseline_ready
    good = (5.5, 8.5)  # settled good jumping
    bad = (11.5, 14.5)  # settled inside the fault
    after = (17.5, 20.5)  # settled after recovering
    for other in FAULTS:
        expect_ok = {"ok"} if other in MEASURABLE[placement] else {"unknown"}
        assert states_between(judged, other, *good) == expect_ok, (other, "good jumping")
        assert states_between(judged, other, *after) == expect_ok, (other, "after")
        if other != fault:
            assert states_between(judged, other, *bad) == expect_ok, (other, f"during {fault}")
    if fault in MEASURABLE[placement]:
        assert states_between(judged, fault, *bad) == {"fault"}
    else:
        assert states_between(judged, fault, *bad) == {"unknown"}
        assert "front camera" in judged[-1][fault].reason


def test_side_view_facing_either_way_reads_the_same() -> None:
    arched = replace(JUMPING_OK, trunk_pitch_deg=-22.0)
    for facing in (1.0, -1.0):
        judge = PostureJudge(config("side"))
        judge.start_baseline()
        judged = run(judge, protocol("side", arched, facing=facing))
        assert states_between(judged, "back", 11.5, 14.5) == {"fault"}, facing
        assert states_between(judged, "back", 5.5, 8.5) == {"ok"}, facing
        # the sign says which way: negative = arched back, positive = piked forward
        raws = [j["back"].raw for j in judged if 11.5 <= j.t < 14.5]
        assert all(r is not None and r < -15 for r in raws)


def test_lights_show_the_live_value_against_the_thresholds() -> None:
    judge = PostureJudge(config("side"))
    judge.start_baseline()
    last = run(judge, protocol("side", FAULTY["head"]))
    head = next(j for j in last if j.t >= 13.0)["head"]
    assert head.value is not None and head.value > head.fault_level
    assert (head.warn, head.fault_level, head.unit) == (16.0, 25.0, "degrees")
    assert head.higher_is_worse and head.state == "fault"
    landing = next(j for j in last if j.t >= 8.0)["landing"]
    assert not landing.higher_is_worse and landing.value is not None
    assert landing.value > landing.warn  # heels up at touchdown reads above the warn level


def shrug_values(levels: list[float], placement: str = "front") -> list[PoseFrame]:
    segments = [(2.5, STANDING, False)] + [
        (1.0, replace(JUMPING_OK, shoulder_rise_m=r), True) for r in levels
    ]
    return session(placement, segments, fps=FPS, noise_px=1.5, seed=7)


def transitions(judged: list[Lights], fault: str) -> int:
    states = [j[fault].state for j in judged if j.t > 4.0]
    return sum(a != b for a, b in itertools.pairwise(states))


def test_hysteresis_and_hold_stop_flicker_at_the_threshold() -> None:
    # alternate each second just below and just above the warn level (20 % rise)
    rng = np.random.default_rng(3)
    levels = list(0.030 + rng.choice([-0.006, 0.006], size=40))
    frames = shrug_values(levels)
    steady = PostureJudge(config())
    twitchy = PostureJudge(
        config(
            posture={"hysteresis": 0.0, "window_s": 0.5},
            presets={"intermediate": {"shoulders": {"hold_s": 0.0}}},
        )
    )
    for judge in (steady, twitchy):
        judge.start_baseline()
    calm, jumpy = (
        transitions(run(steady, frames), "shoulders"),
        transitions(run(twitchy, frames), "shoulders"),
    )
    assert jumpy >= 10  # the raw reading really does cross the threshold again and again
    assert calm <= jumpy // 4


def test_hold_time_ignores_a_short_fault_and_delays_a_long_one() -> None:
    cfg = config(posture={"window_s": 0.5}, presets={"intermediate": {"head": {"hold_s": 1.5}}})
    down = replace(JUMPING_OK, head_pitch_deg=40.0)
    short = session(
        "front", [(2.5, STANDING, False), (3, JUMPING_OK, True), (1.0, down, True),
                  (4, JUMPING_OK, True)], fps=FPS)  # fmt: skip
    judge = PostureJudge(cfg)
    judge.start_baseline()
    assert "fault" not in {j["head"].state for j in run(judge, short)}

    long = session(
        "front", [(2.5, STANDING, False), (3, JUMPING_OK, True), (4.0, down, True),
                  (4, JUMPING_OK, True)], fps=FPS)  # fmt: skip
    judge = PostureJudge(cfg)
    judge.start_baseline()
    judged = run(judge, long)
    onset = next(j.t for j in judged if j["head"].state == "fault")
    assert 5.5 + 1.5 <= onset <= 5.5 + 1.5 + 0.5 + 0.2  # start + hold, + half a window


def test_nobody_in_view_turns_lights_unknown_after_the_timeout() -> None:
    frames = session("side", [(2.5, STANDING, False), (4, JUMPING_OK, True)], fps=FPS)
    t_gone = frames[-1].t
    empty = [
        PoseFrame(t=t_gone + (i + 1) / FPS, lm=None, world=None, width=640, height=480)
        for i in range(30)
    ]
    judge = PostureJudge(config("side"))
    judge.start_baseline()
    judged = run(judge, frames + empty)
    for fault in FAULTS:
        before = states_between(judged, fault, t_gone + 0.05, t_gone + 0.9)
        assert before == {"ok"}, fault  # a short gap keeps the light as it was
        assert states_between(judged, fault, t_gone + 1.05, t_gone + 3.0) == {"unknown"}
    assert judged[-1]["head"].reason == "nobody in view"
    assert not judged[-1].pose


def hide(frame: PoseFrame, names: list[str], how: str) -> PoseFrame:
    from station.events import LANDMARK

    assert frame.lm is not None
    lm = frame.lm.copy()
    for name in names:
        if how == "nan":
            lm[LANDMARK[name], :] = np.nan
        else:
            lm[LANDMARK[name], 3] = 0.1
    return replace(frame, lm=lm)


@pytest.mark.parametrize("how", ["nan", "low visibility"])
def test_hidden_landmarks_make_only_their_lights_unknown(how: str) -> None:
    frames = session("front", [(2.5, STANDING, False), (8, JUMPING_OK, True)], fps=FPS)
    hidden = ["left_ear", "right_ear", "left_wrist", "right_wrist"]
    frames = [hide(f, hidden, how) if f.t >= 6.0 else f for f in frames]
    judge = PostureJudge(config("front"))
    judge.start_baseline()
    judged = run(judge, frames)
    end = judged[-1]
    assert end["shoulders"].state == end["head"].state == end["arms"].state == "unknown"
    assert "ear" in end["head"].reason and "wrist" in end["arms"].reason
    assert end["back"].state == "ok"


def test_garbage_landmarks_never_crash() -> None:
    rng = np.random.default_rng(11)
    judge = PostureJudge(config("oblique"))
    judge.start_baseline()
    base = session("oblique", [(12, JUMPING_OK, True)], fps=FPS)
    for i, f in enumerate(base):
        assert f.lm is not None and f.world is not None
        lm, world = f.lm.copy(), f.world.copy()
        mask = rng.random(lm.shape[0]) < 0.3
        lm[mask] = rng.choice([np.nan, np.inf, -1e9, 0.0])
        world[rng.random(world.shape[0]) < 0.3] = np.nan
        if i % 7 == 0:
            lm[:] = lm[0]  # every landmark on one point: degenerate geometry
        lights = judge.update(replace(f, lm=lm, world=world))
        assert set(lights.lights) == set(FAULTS)
    judge.update(PoseFrame(t=99.0, lm=np.zeros((5, 4)), world=None, width=640, height=480))


def test_baseline_is_collected_then_used_and_clamped() -> None:
    judge = PostureJudge(config("side"))
    judge.start_baseline()
    frames = session("side", [(2.5, replace(STANDING, head_pitch_deg=45.0), False)], fps=FPS)
    judged = run(judge, frames[:12])
    assert all(j.baseline == "collecting" for j in judged)
    assert {j["head"].state for j in judged} == {"unknown"}
    assert judged[0]["head"].reason == "measuring the baseline"
    run(judge, frames[12:])
    assert judge.baseline_ready
    # stood "tall" looking 45° down (60° below horizontal with the nose offset): the baseline
    # is clamped to 25°, so looking 45° down while jumping still lights the head.
    assert judge.baseline["head"] == 25.0
    jump = session("side", [(6, replace(JUMPING_OK, head_pitch_deg=45.0), True)], fps=FPS)
    judged = run(judge, [replace(f, t=f.t + 3.0) for f in jump])
    assert judged[-1]["head"].state == "fault"


def test_own_baseline_forgives_a_naturally_forward_head() -> None:
    forward = replace(STANDING, head_pitch_deg=12.0)
    frames = session(
        "side", [(2.5, forward, False), (6, replace(JUMPING_OK, head_pitch_deg=12.0), True)],
        fps=FPS,
    )  # fmt: skip
    with_baseline = PostureJudge(config("side", posture={"preset": "advanced"}))
    with_baseline.start_baseline()
    assert run(with_baseline, frames)[-1]["head"].state == "ok"
    # the same member judged against the population default (no baseline) would warn
    without = PostureJudge(config("side", posture={"preset": "advanced"}))
    assert run(without, frames)[-1]["head"].state == "warn"


@pytest.mark.parametrize(
    ("bend", "preset", "expected"),
    [
        (10.5, "beginner", "ok"),
        (10.5, "intermediate", "warn"),
        (12.5, "intermediate", "warn"),
        (12.5, "advanced", "fault"),
    ],
)
def test_presets_set_how_strict_the_lights_are(bend: float, preset: str, expected: str) -> None:
    frames = protocol("side", replace(JUMPING_OK, trunk_pitch_deg=bend))
    judge = PostureJudge(config("side", posture={"preset": preset}))
    judge.start_baseline()
    assert states_between(run(judge, frames), "back", 12.0, 14.5) == {expected}


def test_trainer_preset_and_disabled_light() -> None:
    cfg = config(
        "side",
        posture={"preset": "kids"},
        presets={"kids": {"head": {"warn": 40.0, "fault": 50.0}, "arms": {"enabled": False}}},
    )
    judge = PostureJudge(cfg)
    judge.start_baseline()
    judged = run(judge, protocol("side", FAULTY["head"]))
    assert states_between(judged, "head", 11.5, 14.5) == {"ok"}
    assert judged[-1]["arms"].state == "unknown" and judged[-1]["arms"].reason == "disabled"
    assert judge.settings.preset == "kids"


def test_reset_forgets_the_member() -> None:
    judge = PostureJudge(config("side"))
    judge.start_baseline()
    run(judge, protocol("side", FAULTY["back"]))
    judge.reset()
    assert not judge.baseline_ready
    lights = judge.update(to_frame(JUMPING_OK, "side", 100.0))
    assert set(lights.states().values()) == {"unknown"}


def test_summary_gives_time_shares_and_fault_episodes() -> None:
    judge = PostureJudge(config("oblique"))
    judge.start_baseline()
    judged = run(judge, protocol("oblique", FAULTY["arms"]))
    summary = summarise(judged)
    duration = judged[-1].t - judged[0].t + 1 / FPS
    for fault in FAULTS:
        s = summary[fault]
        assert s.total_s == pytest.approx(duration)
        # the baseline (posture.baseline_s of the 2.5 s standing) reads unknown for every light;
        # the first reading after it shows without waiting for the hold
        assert s.unknown_s >= 2.0
    arms = summary["arms"]
    ((start, end),) = arms.episodes  # t0 is the first frame, so times are from the start
    assert 8.5 <= start <= 8.5 + 2.0 and 14.5 <= end <= 14.5 + 2.5
    assert arms.fault_s == pytest.approx(end - start)
    assert summary["head"].episodes == [] and summary["head"].fault_s == 0.0
    out = faults_json(summary)
    assert list(out) == list(FAULTS)
    assert set(out["arms"]) == {"fault_s", "warn_s", "unknown_s", "episodes"}
    assert out["arms"]["episodes"] == [[round(start, 3), round(end, 3)]]


@pytest.mark.parametrize("placement", ["front", "oblique", "side"])
def test_a_lifted_knee_is_not_a_bent_back(placement: str) -> None:
    stepping = replace(JUMPING_OK, step_lift_m=0.35)
    judge = PostureJudge(config(placement))
    judge.start_baseline()
    judged = run(judge, protocol(placement, stepping))
    assert states_between(judged, "back", 11.5, 14.5) == {"ok"}
    # ... while a real bend is still seen on one leg
    judge = PostureJudge(config(placement))
    judge.start_baseline()
    judged = run(judge, protocol(placement, replace(stepping, trunk_pitch_deg=24.0)))
    assert states_between(judged, "back", 11.5, 14.5) == {"fault"}


@pytest.mark.parametrize("placement", ["oblique", "side"])
def test_a_split_stance_leaves_the_back_unmeasured(placement: str) -> None:
    split = replace(STANDING, stagger_m=0.15)
    frames = session(placement, [(2.5, STANDING, False), (4.0, split, False)], fps=FPS)
    judge = PostureJudge(config(placement))
    judge.start_baseline()
    judged = run(judge, frames)
    assert judged[-1]["back"].state == "unknown"
    assert "feet apart" in judged[-1]["back"].reason
    assert judged[-1]["head"].state == "ok"


def test_landing_reads_unknown_when_the_frame_rate_is_too_low_to_see_touchdowns() -> None:
    frames = protocol("side", FAULTY["landing"], noise_px=1.0)
    slow = [f for i, f in enumerate(frames) if i % 3 == 0]  # 12 → 4 frames/s
    judge = PostureJudge(config("side"))
    judge.start_baseline()
    judged = run(judge, slow)
    assert states_between(judged, "landing", 5.5, 20.5) == {"unknown"}
    assert "frames/s" in judged[-1]["landing"].reason
    assert states_between(judged, "head", 5.5, 20.5) == {"ok"}  # the rest is still judged
