"""Stress beyond the sweep on a real clip (docs/counting.md "Stress beyond the sweep"): a
transformed copy of a shared clip is written to a temporary folder (never the repository)
and analysed as `station analyze` does it, real MediaPipe on every frame."""

from __future__ import annotations

from pathlib import Path

from station.camcount.transforms import TRANSFORMS, write_variant

CLIP = "hb_alternating_01.mp4"  # 211 frames, feet at 0.72 of the height


def test_jumper_kept_when_the_feet_are_cut_off(shared_data: Path, tmp_path: Path) -> None:
    """`nofeet` (the bottom third cut off): the model extrapolates the feet below the edge.
    Before the fix the jumper's anchor fell below the picture, outside the jumper's region,
    and half the frames lost their pose (99 of 211); now the hips anchor the jumper."""
    from station.analysis.analyze import analyze
    from station.config.loader import load_config

    clip = write_variant(shared_data / "jumprope" / CLIP, tmp_path / CLIP, TRANSFORMS["nofeet"])
    result = analyze(clip, load_config(), workers=1)
    assert result.jumper["how"] == "auto"
    assert result.pose_frames >= 0.9 * result.frames, (result.pose_frames, result.frames)
    # … and the count is flagged: the counter reads the feet, which are out of the picture.
    assert result.counting["trusted"] is False and result.counting["feet_in_picture"] < 0.1
