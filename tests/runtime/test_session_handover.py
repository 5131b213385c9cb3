"""One member after another: each gets their own session, counted from their first jump.

Scripted queues of members run through the whole station (simulated mat and camera, or the
camera alone), as fast as the CPU allows; the simulator's ground truth is the reference and
every session is read back from the real SQLite session log. With the default [session]
settings (off the mat `end_after_off_s` = 5 s ends a session, the summary shows for
`summary_s` = 15 s) the gaps below are chosen on both sides of those two times:

- a member who steps on while the previous member's summary is still showing (gaps of 6.5
  and 8 s, shorter than `summary_s`) starts a new session at once: nothing of theirs is lost
  while the summary was up, nothing is merged into the previous session;
- a gap longer than `end_after_off_s` + `summary_s` (the idle screen was back);
- a brief step off (1.5 s, under `end_after_off_s`) does not split a session;
- a member who only stands and never jumps (here: during the previous member's summary, as
  the member who just finished does when stepping back on to scan their QR code) gets no
  session: the summary and its QR code stay on the screen the whole time, nothing is logged,
  and the member after them is not swallowed by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from station.config.loader import ConfigStore
from station.display.viewmodel import SummaryView
from station.hardware import select_hardware
from station.runtime.loop import run_fast
from station.runtime.station import Station
from station.runtime.status import live_status
from station.sim.sources import ground_truth
from station.storage.sessions import SessionLog

SEED = 5


@dataclass(frozen=True)
class Member:
    gap_s: float  # empty mat before they step on
    jump_s: float  # 0: stands only, never jumps
    step_off_mid_s: float = 0.0  # a brief step off half-way through their jumping


QUEUE = (
    Member(gap_s=2.0, jump_s=8.0),
    Member(gap_s=6.5, jump_s=8.0, step_off_mid_s=1.5),  # on during the first summary
    Member(gap_s=22.0, jump_s=6.0),  # the idle screen was back
    Member(gap_s=8.0, jump_s=0.0),  # on during the summary; stands only
    Member(gap_s=6.5, jump_s=8.0),  # on during the summary of a session without jumps
)


@dataclass(frozen=True)
class Shown:
    t: float
    screen: str  # the screen's view, by name
    total: int | None  # the summary's total, on a summary
    live_phase: str  # the phase the live status gave
    jumps: int  # the running session's count in the live status
    in_session: bool  # the station in a session, as the fleet's status reports it


def queue_script(members: tuple[Member, ...]) -> str:
    phases: list[tuple[str, float]] = []
    for m in members:
        phases += [("empty", m.gap_s), ("step_on", 1.0), ("stand", 2.5)]
        if m.step_off_mid_s:
            half = m.jump_s / 2
            phases += [("jump", half), ("step_off", 1.0), ("empty", m.step_off_mid_s)]
            phases += [("step_on", 1.0), ("stand", 0.5), ("jump", half)]
        elif m.jump_s:
            phases += [("jump", m.jump_s)]
        else:
            phases += [("stand", 6.0)]
        phases += [("step_off", 1.0)]
    phases += [("empty", 2.0)]
    body = "".join(f'[[phase]]\nkind = "{k}"\nduration_s = {d}\n' for k, d in phases)
    return 'name = "queue"\n' + body


def members_on_mat(on_mat: tuple[tuple[float, float], ...], grace_s: float) -> list[list[float]]:
    """The script's on-mat intervals grouped per member: a gap under `grace_s` is a step off."""
    members: list[list[float]] = []
    for start, end in on_mat:
        if members and start - members[-1][1] < grace_s:
            members[-1][1] = end
        else:
            members.append([start, end])
    return members


def run_queue(
    tmp_path: Path, site: str
) -> tuple[Station, list[dict[str, object]], Path, list[Shown]]:
    script = tmp_path / "queue.toml"
    script.write_text(queue_script(QUEUE))
    site_file = tmp_path / "station.toml"
    site_file.write_text(site)
    store = ConfigStore(site_file)
    assert store.problem is None, store.problem
    hardware = select_hardware(store.config, simulate=True, script=script, seed=SEED)
    session_log = SessionLog.in_state_dir(tmp_path / "state")
    station = Station(store, hardware, session_log=session_log)
    sources = [s for s in (hardware.open_mat(), hardware.open_camera()) if s is not None]
    shown: list[Shown] = []

    def look(st: Station, now: float) -> None:
        if round(now * 30) % 6 == 0:  # five looks a second
            screen = st.view(now).screen
            total = screen.total if isinstance(screen, SummaryView) else None
            live = live_status(st, now)
            jumps = int(live.counts["jumps"])
            shown.append(
                Shown(now, type(screen).__name__, total, live.phase, jumps, live.in_session)
            )

    run_fast(station, sources, fps=30.0, on_frame=look)
    rows = [r.to_dict() for r in session_log.sessions(every_row=True)]
    session_log.close()
    return station, rows, script, shown


@pytest.mark.parametrize(
    ("site", "counter", "tolerance"),
    [("", "mat", 0), ('[mat]\nsensor = "none"\n', "camera", 2)],
    ids=["mat", "camera-only"],
)
def test_each_member_in_a_queue_gets_their_own_session(
    tmp_path: Path, site: str, counter: str, tolerance: int
) -> None:
    station, rows, script, shown = run_queue(tmp_path, site)
    settings = station.config["session"]
    assert (settings["end_after_off_s"], settings["summary_s"]) == (5.0, 15.0)
    truth = ground_truth(script, SEED)
    members = members_on_mat(truth.on_mat, settings["end_after_off_s"])
    assert len(members) == len(QUEUE)  # the script really is five members
    expected = [truth.count_between(start - 0.01, end + 0.01) for start, end in members]
    assert expected[3] == 0 and min(expected[:3] + expected[4:]) >= 8
    jumpers = [m for m, e in zip(members, expected, strict=True) if e > 0]

    # the member who never jumps has no session: four sessions for five members
    assert [r["status"] for r in rows] == ["finished"] * len(jumpers), rows
    assert all(r["count_source"] == counter for r in rows)
    counted = [r["jumps"] for r in rows]
    wanted = [e for e in expected if e > 0]
    assert all(abs(c - e) <= tolerance for c, e in zip(counted, wanted, strict=True)), (
        counted,
        wanted,
    )
    # each session lasts as long as its member was there (less the calibration): the
    # session that starts during a summary is not cut short by the summary's remaining time
    for row, (start, end) in zip(rows, jumpers, strict=True):
        assert isinstance(row["duration_s"], float)
        assert end - start - 6.0 <= row["duration_s"] <= end - start + 2.0, (row, start, end)
    assert station.sessions_done == len(jumpers)

    # while the standing member is there, the third member's summary stays on the screen
    start, end = members[3]
    # and the live status (live.json: the console, the uplink's state) says so too
    over = [(s.screen, s.total, s.live_phase) for s in shown if start + 1.5 <= s.t <= end]
    assert over and set(over) == {("SummaryView", rows[2]["jumps"], "summary")}, set(over)

    # In a session, for the fleet (station.session.model.in_session), from the first jump to
    # the summary: never the one who only stood, never a calibration without a jump yet.
    assert not any(s.in_session for s in shown if start <= s.t <= end)
    assert not any(s.in_session for s in shown if s.live_phase in ("idle", "summary"))
    waiting = [s for s in shown if s.live_phase in ("calibrating", "active") and s.jumps == 0]
    assert waiting and not any(s.in_session for s in waiting)
    for start, end in jumpers:
        mine = [s for s in shown if start <= s.t <= end]
        assert any(s.in_session for s in mine)
        first = next(i for i, s in enumerate(mine) if s.in_session)
        assert all(s.in_session for s in mine[first:] if s.live_phase == "active")
