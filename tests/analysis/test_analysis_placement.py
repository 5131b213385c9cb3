from __future__ import annotations

from pathlib import Path

import pytest

from station.analysis.analyze import analyze
from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.pose.track import save_track

CONFIG = build_config(SCHEMA, [])  # camera.placement = "front"


@pytest.mark.parametrize(("clip", "placement"), [("hb_double_2", "front"), ("speed_swe_1", "side")])
def test_placement_is_guessed_from_the_video(
    jumprope_tracks: dict[str, object], tmp_path: Path, clip: str, placement: str
) -> None:
    track = tmp_path / f"{clip}.npz"
    save_track(jumprope_tracks[clip], track)  # type: ignore[arg-type]
    assert analyze(track, CONFIG).placement == placement
    # asked for explicitly, it is what was asked; the landing light follows the placement
    # (heel-first is not measurable from the front)
    front = analyze(track, CONFIG, placement="front")
    assert front.placement == "front"
    assert front.faults["landing"]["unknown_s"] == pytest.approx(front.duration_s, abs=0.1)
