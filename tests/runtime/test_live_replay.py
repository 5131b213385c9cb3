"""The live camera path, replayed deterministically (station.runtime.livereplay): a played clip's
real MediaPipe poses go through the capture timestamps, the `max_fps` cap, the one-slot
mailbox, a modelled inference time and the real Station (session, counter) on a ManualClock.
The live path must count exactly what the camera counter counts offline on the same frames:
whatever it loses, it loses in the counter, not between the camera and the session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.runtime.livereplay import LiveModel, Played, counter_only, poses_of, replay
from station.runtime.livevideo import LEAD_IN_S, load_clips, prepare


def shared_clips() -> Path:
    root = os.environ.get("STATION_SHARED_DATA", Path(__file__).parents[3] / "shared" / "data")
    return Path(root) / "jumprope"


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    """speed_jp_2 (the fast side-view speed-step, the hardest clip) as the live test plays
    it; real inference on every frame, one tracker (as live)."""
    from station.pose.extract import extract_track

    folder = shared_clips()
    if not (folder / "ground_truth.csv").is_file():
        pytest.skip(f"no shared clips in {folder}")
    (clip,) = load_clips(folder, ["speed_jp_2"])
    video = prepare(clip, tmp_path_factory.mktemp("replay") / "speed_jp_2.avi")
    yield poses_of(extract_track(video.path, workers=1).track, video.truth_s)


def test_full_rate_live_path_counts_what_the_counter_counts_on_every_frame(
    played: Played,
) -> None:
    run = replay(played, LiveModel(inference_s=0.02, inference_cv=0.0))
    assert len(run.sessions) == 1 and run.gaps() == {1: len(run.inferred) - 1}
    assert run.jumps == counter_only(played) > 0.8 * played.truth


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_max_fps_15_takes_every_second_frame_whatever_the_jitter(played: Played, seed: int) -> None:
    """Inference time and decoding jitter (seeded) change nothing: the cap works on capture
    times, so the count is the counter's on every 2nd frame of the video."""
    run = replay(played, LiveModel(max_fps=15.0, seed=seed))
    assert set(run.gaps()) == {2} and run.inferred[0] == 0
    assert run.jumps == counter_only(played, step=2)


def test_the_former_wall_clock_cap_took_frames_unevenly(played: Played) -> None:
    """What the live run at max_fps 15 suffered from: waits timed on wall clock after each
    inference raced against the next frame's arrival, so gaps of 1 and 3 frames mixed in."""
    run = replay(played, LiveModel(max_fps=15.0, pacing="wall", stamp="ready"))
    assert set(run.gaps()) > {2}


def test_max_fps_8_keeps_a_fixed_rhythm(played: Played) -> None:
    run = replay(played, LiveModel(max_fps=8.0))
    assert set(run.gaps()) <= {3, 4}
    assert abs(run.rate - 8.0) < 0.3  # simulated time: exact, not a timing figure
    assert len(run.sessions) == 1 and run.jumps > 0


def test_member_out_of_view_and_back_is_one_session_counted_as_offline(
    played: Played,
) -> None:
    """Gone for 2.5 s (< session.end_after_off_s): the session goes on, the counter starts a
    new bout on the member's return, and the live path counts what the counter does."""
    away = played.away(LEAD_IN_S + 4.0, LEAD_IN_S + 6.5)
    run = replay(away, LiveModel())
    assert len(run.sessions) == 1
    assert run.jumps == counter_only(away) > 0.7 * away.truth


def test_video_ending_mid_session_is_one_finished_session_counted_as_offline(
    played: Played,
) -> None:
    """The camera goes quiet 5 s into the jumping: the session ends there and its count is
    the counter's on the same poses; what it misses at the cut is the counter's."""
    cut = played.until(LEAD_IN_S + 5.0)
    run = replay(cut, LiveModel())
    assert len(run.sessions) == 1
    duration = float(str(run.sessions[0]["duration_s"]))
    assert 5.0 - 1.5 <= duration <= LEAD_IN_S + 5.0 + 1.5  # ended where the video did
    assert run.jumps == counter_only(cut) > 0.7 * cut.truth
