"""The console's history marks a session the camera counted without seeing the feet
(station.pose.framing): a trainer reviewing sessions sees that its count was a guess."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import httpx
from console_helpers import PASSWORD, login, make_site, served

from station.console import auth
from station.console.app import create_app
from station.storage.sessions import SessionLog

MARK = "camera count not trusted: feet out of view"


def test_a_camera_count_without_the_feet_is_marked(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    today = datetime.now().replace(hour=9, minute=0, second=0, microsecond=0).timestamp()
    with SessionLog.in_state_dir(state) as db:
        for i, (source, share, trusted) in enumerate(
            [("camera", 0.12, False), ("camera", 0.95, True), ("mat", 0.1, False)]
        ):
            sid = db.begin(started_at=today + i * 600, count_source=source)
            summary = {
                "jumps": 40 + i,
                "duration_s": 60.0,
                "count_source": source,
                "camera_feet_in_picture": share,
                "camera_count_trusted": trusted,
            }
            db.finish(sid, summary, ended_at=today + i * 600 + 60)
    auth.set_password(state, PASSWORD)
    app = create_app(make_site(tmp_path), state)
    with served(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        login(client)
        page = client.get("/history").text
    # only the camera-counted one: when the mat counted, the camera's count was not used
    assert page.count(MARK) == 1
    row = next(line for line in page.splitlines() if MARK in line)
    assert "<td>40 " in row and "88 % of the frames" in row
