"""The event-by-event evaluation's matching (station.camcount.evaluate.match_events) on
constructed event lists: the marks of a steady rhythm, counted events with a lag, a miss at
the start, an extra after the end, a double in the middle."""

from __future__ import annotations

import numpy as np

from station.camcount.evaluate import EventRow, events_table, match_events

INTERVAL = 0.3
MARKS = [2.0 + INTERVAL * k for k in range(20)]  # 2.0 … 7.7 s


def test_a_lagged_perfect_count_matches_every_mark() -> None:
    m = match_events(MARKS, [t + 0.08 for t in MARKS])
    assert len(m.matched) == 20 and m.missed == [] and m.extra == []
    assert abs(m.offset - 0.08) < 1e-9


def test_misses_and_extras_are_found_and_placed() -> None:
    lag = -0.05
    counted = [t + lag for t in MARKS[1:]]  # the first contact missed (the bout's start)
    counted.append(MARKS[-1] + INTERVAL + lag)  # one landing after the last mark (end)
    counted.append(MARKS[10] + 0.12 + lag)  # a double edge of one contact (middle)
    counted.remove(MARKS[12] + lag)  # a contact missed in the middle
    m = match_events(MARKS, counted)
    assert abs(m.offset - lag) < 1e-9
    assert len(m.matched) == 18
    assert m.missed == [MARKS[0], MARKS[12]]
    assert m.by_part(m.missed) == {"start": 1, "middle": 1, "end": 0}
    assert np.allclose(sorted(m.extra), [MARKS[10] + 0.12, MARKS[-1] + INTERVAL])
    assert m.by_part(m.extra) == {"start": 0, "middle": 1, "end": 1}
    # The same count as the marks (19 + 1 + 1 - 1 = 20), yet four events wrong:
    assert len(counted) == len(MARKS)
    table = events_table([EventRow("c", len(counted), m)])
    assert "| c | 20 | 20 | +0 | 18 | 2 (1 / 1 / 0) | 2 (0 / 1 / 1) | -0.050 |" in table


def test_the_offset_is_not_pulled_by_a_slow_start() -> None:
    """Three contacts missed at the start pair those marks with a later event; the median
    of the nearest lags still finds the clip's own lag, so no event is shifted a contact."""
    counted = [t + 0.04 for t in MARKS[3:]]
    m = match_events(MARKS, counted)
    assert abs(m.offset - 0.04) < 1e-9
    assert m.missed == MARKS[:3] and m.extra == []


def test_one_event_never_stands_for_two_marks() -> None:
    """An event halfway between two marks is within neither's tolerance."""
    m = match_events([1.0, 1.3, 1.6, 1.9], [1.0, 1.45, 1.9])
    assert m.missed == [1.3, 1.6] and m.extra == [1.45]


def test_nothing_counted_or_nothing_marked() -> None:
    assert match_events(MARKS, []).missed == MARKS
    assert match_events([], [1.0, 2.0]).extra == [1.0, 2.0]
