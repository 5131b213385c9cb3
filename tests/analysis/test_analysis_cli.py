"""`station analyze` end to end: real inference on a real clip, the JSON contract, the
annotated video, the saved track, and clear errors for unusable files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from station.cli import main

FIELDS = {
    "input", "fps", "frames", "pose_frames", "duration_s", "jumps", "jump_times_s",
    "cadence_per_min", "faults", "baseline", "timing", "jumper", "counting", "picture",
}  # fmt: skip
FAULT_FIELDS = {"fault_s", "warn_s", "unknown_s", "episodes"}


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["analyze", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_video_json_annotate_and_track(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import cv2

    clip = shared_data / "jumprope" / "quva_rope_beach.mp4"
    annotated, track = tmp_path / "out.mp4", tmp_path / "out.npz"
    data = run_json(capsys, str(clip), "--annotate", str(annotated), "--save-track", str(track))
    assert set(data) == FIELDS
    assert set(data["faults"]) == {"shoulders", "back", "landing", "arms", "head"}
    for summary in data["faults"].values():
        assert set(summary) == FAULT_FIELDS
    assert set(data["baseline"]) == {"source", "from_s", "to_s", "legs"}
    assert data["baseline"]["source"] in ("standing", "population")
    assert (data["baseline"]["legs"] is None) == (data["baseline"]["source"] == "population")
    assert data["frames"] == 228 and data["fps"] == pytest.approx(29.0)
    assert 0 < data["pose_frames"] <= data["frames"]
    assert abs(data["jumps"] - 17) <= 1  # hand count 17 (one hop before the marked window)
    assert data["jumps"] == len(data["jump_times_s"])
    assert 100 < data["cadence_per_min"] < 160
    assert data["timing"]["inference_ms_per_frame"] > 0
    assert set(data["jumper"]) == {"roi", "how"}
    assert data["jumper"]["how"] in {"auto", "whole picture"}
    assert data["counting"]["trusted"] and data["counting"]["feet_in_picture"] > 0.8
    assert data["picture"] == {"masked_fraction": 0.0}  # a beach: no black fill

    cap = cv2.VideoCapture(str(annotated))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 228
    cap.release()

    # The saved track replays through the same code to the same jumps, without inference.
    again = run_json(capsys, str(track))
    assert again["jump_times_s"] == data["jump_times_s"]
    assert again["timing"]["inference_ms_per_frame"] is None
    assert again["picture"] == {"masked_fraction": None}  # a track has no pixels


def test_truncated_video_is_a_clear_error(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = (shared_data / "jumprope" / "quva_rope_beach.mp4").read_bytes()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(clip[: len(clip) // 50])
    code = main(["analyze", str(broken), "--json"])
    assert code == 2
    assert "broken.mp4: cannot open as a video" in capsys.readouterr().err


def test_not_a_video_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 1000)
    assert main(["analyze", str(junk)]) == 2
    assert "junk.mp4" in capsys.readouterr().err


def test_track_with_wrong_shapes_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, t=np.arange(3.0), lm=np.zeros((3, 33)), world=np.zeros((3, 33, 3)),
             fps=30.0, width=64, height=48)  # fmt: skip
    assert main(["analyze", str(bad)]) == 2
    assert "'lm' must have shape" in capsys.readouterr().err


def test_nobody_in_frame_and_nan_landmarks_do_not_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from station.pose.track import LandmarkTrack, save_track

    n = 90
    lm = np.full((n, 33, 4), np.nan)
    lm[30:60] = 0.5  # someone stands still for a second
    lm[40, 11] = np.nan  # one landmark missing
    save_track(LandmarkTrack(np.arange(n) / 30.0, lm, np.full((n, 33, 3), np.nan), 30.0, 64, 48),
               tmp_path / "empty.npz")  # fmt: skip
    data = run_json(capsys, str(tmp_path / "empty.npz"))
    assert data["jumps"] == 0 and data["pose_frames"] == 30
    assert data["faults"]["head"]["unknown_s"] > 0


class FakeTerminal:
    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.text = ""

    def isatty(self) -> bool:
        return self.tty

    def write(self, s: str) -> None:
        self.text += s

    def flush(self) -> None:
        pass


def test_progress_bar_only_on_a_terminal() -> None:
    from station.analysis.analyze import progress_bar

    assert progress_bar(FakeTerminal(tty=False)) is None
    term = FakeTerminal(tty=True)
    show = progress_bar(term)
    assert show is not None
    for done in range(1, 101):
        show(done, 100)
    assert "100%" in term.text and "100/100 frames" in term.text


def test_annotate_needs_a_video(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from station.pose.track import LandmarkTrack, save_track

    lm = np.full((3, 33, 4), 0.5)
    save_track(LandmarkTrack(np.arange(3) / 30.0, lm, np.zeros((3, 33, 3)), 30.0, 64, 48),
               tmp_path / "t.npz")  # fmt: skip
    assert main(["analyze", str(tmp_path / "t.npz"), "--annotate", str(tmp_path / "o.mp4")]) == 2
    assert "needs a video" in capsys.readouterr().err


def test_missing_task_model_is_a_clear_error(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "station.toml"
    cfg.write_text(f'[pose]\nbackend = "tasks"\ntask_model = "{tmp_path / "none.task"}"\n')
    clip = shared_data / "jumprope" / "quva_rope_beach.mp4"
    assert main(["analyze", str(clip), "--config", str(cfg)]) == 2
    assert "none.task not found" in capsys.readouterr().err
