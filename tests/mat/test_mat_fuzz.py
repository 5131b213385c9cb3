"""Property tests: whatever the mat says, the pipeline does not crash, and block boundaries never
change its answer."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from station.events import Event, Landing, MatPresence
from station.mat.pipeline import MatPipeline, analyze

LEVELS = st.sampled_from([0.0, 5.0, 40.0, 350.0, 700.0, 1500.0, 3000.0, float("nan"), -50.0])


@st.composite
def mat_signals(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Steps between force levels of random lengths (ms), two zones, random block sizes."""
    segments = draw(st.lists(st.tuples(LEVELS, LEVELS, st.integers(1, 500)), min_size=1,
                             max_size=16))  # fmt: skip
    force = np.concatenate([np.tile([a, b], (n, 1)) for a, b, n in segments])
    t = np.arange(len(force)) / 1000.0
    blocks = draw(st.lists(st.integers(1, 300), min_size=1, max_size=8))
    return t, force, blocks


def _jumps(events: object) -> list[Event]:
    return [e for e in events if isinstance(e, Landing | MatPresence)]  # type: ignore[attr-defined]


@settings(max_examples=200, deadline=None)
@given(mat_signals())
def test_never_crashes_and_blocks_do_not_matter(signal: tuple) -> None:  # type: ignore[type-arg]
    t, force, blocks = signal
    whole = analyze(t, force, ("left", "right"))
    pipe = MatPipeline(("left", "right"))
    events = []
    i = k = 0
    while i < len(t):
        n = blocks[k % len(blocks)]
        events += pipe.feed(t[i : i + n], force[i : i + n])
        i += n
        k += 1
    events += pipe.finish()
    # The jumps never depend on the blocks; NaN-zone diagnostics are judged per block.
    assert _jumps(events) == _jumps(whole.events)
    assert whole.jumps == pipe.state.count >= 0
    for x in whole.landings:
        assert x.takeoff_s is None or x.takeoff_s < x.t
        assert x.peak_bw is None or np.isfinite(x.peak_bw)
