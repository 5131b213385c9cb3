from __future__ import annotations

from pathlib import Path

import pytest

from station.config.loader import ConfigStore
from station.hardware import select_hardware
from station.runtime.commands import run_commands
from station.runtime.loop import run_fast
from station.runtime.station import Station
from station.storage.live import CommandPoller, read_result, send_command

MASS_KG = 70.0  # the default script's member


def station_at(tmp_path: Path, until_s: float) -> Station:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "station.toml").write_text("")
    store = ConfigStore(tmp_path / "station.toml")
    hardware = select_hardware(store.config, simulate=True)
    station = Station(store, hardware)
    sources = [s for s in (hardware.open_mat(), hardware.open_camera()) if s]
    run_fast(station, sources, fps=30, until_s=until_s, settle_s=0.0)
    return station


def ask(station: Station, tmp_path: Path, name: str, **args: object) -> tuple[bool, str, dict]:
    state = tmp_path / "state"
    command_id = send_command(state, name, args)
    run_commands(station, CommandPoller(state), now=0.0)
    result = read_result(state, command_id)
    assert result is not None
    return result.ok, result.message, dict(result.data)


def test_mat_scale_from_a_known_load(tmp_path: Path) -> None:
    station = station_at(tmp_path, until_s=5.5)  # standing still on the mat
    ok, message, data = ask(station, tmp_path, "mat_scale", known_n=2 * MASS_KG * 9.81)
    assert ok, message
    # the mat reads one body weight for twice the load: every zone's scale doubles
    assert data["config"]["mat.scale_n_per_count"] == [pytest.approx(2.0, rel=0.03)] * 2


def test_mat_zero_refused_with_someone_on_it_and_done_when_empty(tmp_path: Path) -> None:
    on = station_at(tmp_path / "on", until_s=5.5)
    ok, message, _ = ask(on, tmp_path / "on", "mat_zero")
    assert not ok and "someone is on the mat" in message
    empty = station_at(tmp_path / "empty", until_s=1.5)
    ok, message, data = ask(empty, tmp_path / "empty", "mat_zero")
    assert ok, message
    assert data["config"]["mat.offset_counts"] == [pytest.approx(0.0, abs=5.0)] * 2


def test_mat_health_and_a_multi_point_fit_through_the_commands(tmp_path: Path) -> None:
    """The console's Mat page: the health of the empty mat, then known loads read one by one
    and fitted (here the member stands in for two "loads" on the whole mat: each zone carries
    half of them, read through the same calibration, so the fit keeps the scale)."""
    empty = station_at(tmp_path / "empty", until_s=1.5)
    ok, summary, data = ask(empty, tmp_path / "empty", "mat_health")
    assert ok and data["health"]["status"] == "ok", data
    assert summary == data["health"]["summary"]
    assert data["health"]["measured"] == "the live mat, empty"
    assert [z["zone"] for z in data["health"]["zones"]] == ["left", "right"]
    on = station_at(tmp_path / "on", until_s=5.5)
    ok, _, data = ask(on, tmp_path / "on", "mat_health")
    assert ok and data["health"]["measured"] == "the live mat (in use)"
    ok, _, read = ask(on, tmp_path / "on", "mat_read")
    left = read["force_n"]["left"]
    assert left == pytest.approx(MASS_KG * 9.81 / 2, rel=0.1)
    ok, message, data = ask(
        on, tmp_path / "on", "mat_fit", zone="left", loads_n=[left, 2 * left],
        readings_n=[left, 2 * left],
    )  # fmt: skip
    assert ok, message
    assert data["config"]["mat.scale_n_per_count"][0] == pytest.approx(1.0, rel=1e-3)
    ok, message, _ = ask(on, tmp_path / "on", "mat_fit", zone="left", loads_n=[100.0])
    assert not ok and "one positive known load per reading" in message


def test_beep_plays_on_the_buzzer_and_unknown_is_refused(tmp_path: Path) -> None:
    station = station_at(tmp_path, until_s=1.0)
    ok, _, _ = ask(station, tmp_path, "beep", fault="arms")
    assert ok and station.outputs.buzzer.value == 1
    ok, message, _ = ask(station, tmp_path, "beep", fault="knees")
    assert not ok and "knees" in message
    ok, message, _ = ask(station, tmp_path, "snapshot")
    assert not ok and "simulated camera has no pictures" in message


def test_snapshot_writes_the_newest_picture_to_ram_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cv2
    import numpy as np

    monkeypatch.setenv("STATION_RUNTIME_DIR", str(tmp_path / "run"))
    station = station_at(tmp_path, until_s=1.0)
    picture = np.zeros((120, 160, 3), dtype=np.uint8)
    picture[:, :80] = (255, 0, 0)  # left half red (RGB)
    station.camera_picture = lambda: picture
    ok, message, data = ask(station, tmp_path, "snapshot")
    assert ok, message
    assert data == {"width": 160, "height": 120}
    (jpeg,) = (tmp_path / "run").glob("*.jpg")
    decoded = cv2.cvtColor(cv2.imread(str(jpeg)), cv2.COLOR_BGR2RGB)
    assert decoded.shape == picture.shape
    assert decoded[60, 20, 0] > 200 and decoded[60, 140, 0] < 50  # colours not swapped
    assert not list((tmp_path / "state").rglob("*.jpg"))  # nothing on the state disk
