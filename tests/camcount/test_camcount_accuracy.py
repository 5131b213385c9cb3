"""Camera-only counting on the hand-marked clips, with real pose inference (see
docs/counting.md; `python -m station.camcount.evaluate` prints the same table)."""

from __future__ import annotations

import pytest
from conftest import SHARED_DATA

from station.camcount.evaluate import (
    MAX_CLIP_ERROR,
    MAX_TOTAL_ERROR,
    markdown_table,
    read_ground_truth,
    score_clip,
    summarize,
)


@pytest.fixture(scope="module")
def results(jumprope_tracks: dict[str, object]) -> list:
    truths = read_ground_truth(SHARED_DATA / "jumprope" / "ground_truth.csv")
    return [score_clip(t, jumprope_tracks[t.clip]) for t in truths]  # type: ignore[arg-type]


def test_summed_error_within_two_percent(results: list) -> None:
    total, _worst, _ok = summarize(results)
    assert total <= MAX_TOTAL_ERROR, markdown_table(results)


def test_no_clip_off_by_more_than_five_percent(results: list) -> None:
    bad = [r.truth.clip for r in results if r.relative_error > MAX_CLIP_ERROR]
    assert not bad, markdown_table(results)


def test_every_style_is_covered(results: list) -> None:
    styles = {r.truth.style for r in results}
    assert {"two-foot", "alternate-foot", "speed-step", "double-under"} <= styles
