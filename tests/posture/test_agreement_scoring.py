"""What the agreement with the labels reports (station.posture.agreement.score): the headline
share, where a light that reads unknown counts as a miss, and beside it what a trainer needs —
right when the light decided, the share it said "can't tell", wrong faults and missed faults."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from posture_skeleton import JUMPING_OK, session

from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.events import LANDMARK, PoseFrame
from station.posture import PostureJudge
from station.posture.agreement import (
    LIGHTS,
    Score,
    per_second,
    score,
    trainer_cell,
    trainer_table,
)

CONFIG = build_config(SCHEMA, [])


def test_each_second_is_counted_once_in_its_kind() -> None:
    labels = {0: "ok", 1: "ok", 2: "fault", 3: "fault", 4: "ok", 5: "?", 6: "ok", 7: "fault"}
    verdicts = {0: "ok", 1: "fault", 2: "fault", 3: "ok", 4: "unknown", 5: "fault", 7: "unknown"}
    s = score(verdicts, labels)  # second 6 has no verdict at all: unknown
    assert (s.agree, s.total, s.unknown, s.wrong_fault, s.missed_fault) == (2, 7, 3, 1, 1)
    assert s.share == pytest.approx(2 / 7)  # the headline: unknown is a miss
    assert s.decided == 4 and s.decided_share == pytest.approx(2 / 4)
    assert s.unknown_share == pytest.approx(3 / 7)
    assert s.agree + s.unknown + s.wrong_fault + s.missed_fault == s.total


def test_pooled_scores_add_every_count() -> None:
    a = Score(5, 8, unknown=1, wrong_fault=1, missed_fault=1)
    a.add(Score(3, 4, unknown=1, wrong_fault=0, missed_fault=0))
    assert (a.agree, a.total, a.unknown, a.wrong_fault, a.missed_fault) == (8, 12, 2, 1, 1)
    assert math.isnan(Score().decided_share) and trainer_cell(Score()) == "n/a"
    assert trainer_cell(Score(0, 3, unknown=3)) == "– · 100 % ? · 0 wrong"


def hide_head(frame: PoseFrame) -> PoseFrame:
    """The head on a blacked-out part of the picture: its landmarks lose their visibility,
    as station.pose.picture's mask does."""
    assert frame.lm is not None
    lm = frame.lm.copy()
    for name in ("nose", "left_ear", "right_ear", "left_eye", "right_eye"):
        lm[LANDMARK[name], 3] = 0.0
    return replace(frame, lm=lm)


def test_masked_seconds_are_cant_tell_not_wrong() -> None:
    """A member jumping well, the head hidden from 4 s to 9 s: Head and Shoulders read unknown
    there. Scored against labels made on the unmasked picture (all ok), the headline loses
    those seconds; the trainer's split shows them as "can't tell" with no wrong fault, and
    right whenever the lights decided."""
    frames = session("front", [(12.0, JUMPING_OK, True)])
    frames = [hide_head(f) if 4.0 <= f.t < 9.0 else f for f in frames]
    judge = PostureJudge(CONFIG, placement="front")
    verdicts = per_second([judge.update(f) for f in frames], frames[0].t)
    labels = {s: "ok" for s in range(12)}
    scores = {light: score(verdicts[light], labels) for light in LIGHTS}
    for light in ("head", "shoulders"):
        s = scores[light]
        assert s.unknown >= 4 and s.wrong_fault == 0, (light, s)
        assert s.share <= 8 / 12 and s.decided_share == 1.0, (light, s)
    assert scores["arms"].unknown == 0 and scores["arms"].share == 1.0
    table = "\n".join(trainer_table(scores, "light"))
    assert f"100.0 % ({scores['head'].agree}/{scores['head'].decided})" in table
    assert f"({scores['head'].unknown}/12)" in table
