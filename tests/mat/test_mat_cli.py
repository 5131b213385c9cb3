"""`station mat analyze|calibrate|record` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from station.cli import main
from station.clock import ManualClock
from station.config.loader import ConfigInvalid, load_config
from station.mat.calibration import Calibration
from station.mat.cli import KG, measure_calibration, write_calibration
from station.mat.recording import write_header, write_rows
from station.mat.sensors import AdcReader, SimulatedSpi
from station.mat.synth import Jumps, Stand, synthetic_session

FIELDS = {
    "touchdown_s", "takeoff_s", "flight_s", "contact_s", "peak_bw", "loading_rate_bw_s",
    "time_to_peak_s", "hard", "reasons",
}  # fmt: skip


def _write_session(path: Path) -> int:
    t, force, truth = synthetic_session([Stand(2), Jumps(12), Jumps(3, landing="heel"), Stand(1)])
    with path.open("w") as fh:
        write_header(fh, ("left", "right"), ["synthetic"])
        write_rows(fh, t, force)
    return len(truth.touchdowns)


def test_analyze_json_has_exactly_the_documented_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.csv"
    jumps = _write_session(path)
    assert (
        main(["mat", "analyze", str(path), "--json", "--config", str(tmp_path / "none.toml")]) == 1
    )
    assert main(["mat", "analyze", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {
        "sample_rate_hz",
        "body_weight_n",
        "body_weight_source",
        "body_weight_sd_n",
        "quiet_standing_n",
        "jumps",
        "landings",
    }
    assert out["sample_rate_hz"] == 1000 and out["jumps"] == jumps
    assert out["body_weight_n"] == pytest.approx(700.0, rel=0.01)
    assert all(set(x) == FIELDS for x in out["landings"])
    assert [x["hard"] for x in out["landings"]] == [False] * 12 + [True] * 3
    assert all(x["takeoff_s"] < x["touchdown_s"] for x in out["landings"])


def test_analyze_table_and_zone_selection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.csv"
    _write_session(path)
    assert main(["mat", "analyze", str(path), "--zones", "left"]) == 0
    out = capsys.readouterr().out
    assert "zones left," in out and "jumps 15" in out and "HARD" in out
    assert main(["mat", "analyze", str(path), "--zones", "middle"]) == 1
    assert "no zone middle" in capsys.readouterr().err


def test_analyze_refuses_a_broken_file_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("time_s,left_n\n0.000,1\n0.001,2\n0.001,3\n")
    assert main(["mat", "analyze", str(path)]) == 1
    assert "bad.csv:4: time_s 0.001 does not increase" in capsys.readouterr().err


def test_analyze_a_real_recording(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mat", "analyze", str(shared_data / "forceplate" / "dj_dual.csv"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["jumps"] == 2 and out["landings"][0]["takeoff_s"] is None


def test_calibration_walkthrough_on_a_simulated_adc(tmp_path: Path) -> None:
    """Zero, then 20 kg on each zone in turn, through the real reader and framing."""
    clock = ManualClock()
    load = {"zone": -1}
    zero = np.array([12.0, 31.0])
    counts_per_n = np.array([0.9, 1.3])

    def waveform(t: float) -> list[float]:
        out = zero.copy()
        if load["zone"] >= 0:
            out[load["zone"]] += 20 * KG * counts_per_n[load["zone"]]
        return out.tolist()

    spi = SimulatedSpi(waveform, "mcp3208", clock)
    cal = Calibration(("left", "right"), np.zeros(2), np.ones(2), {}, 4095, False)
    reader = AdcReader(spi, "mcp3208", [0, 1], 1000.0, cal, 5.0, clock, clock.sleep)
    prompts: list[str] = []

    def ask(prompt: str) -> None:
        prompts.append(prompt)
        load["zone"] += 1 if prompt.startswith("Step 2") else 0

    def read(seconds: float) -> np.ndarray:
        return np.array([reader.read_once() for _ in range(int(seconds * 100))], float)

    offsets, scales, _ = measure_calibration(read, ["left", "right"], 20 * KG, 1.0, ask, print)
    assert offsets == pytest.approx(zero.tolist())
    assert scales == pytest.approx((1 / counts_per_n).tolist(), rel=0.01)
    assert len(prompts) == 3

    site = tmp_path / "station.toml"
    site.write_text("# our gym\n[mat]\n# two FSR strips\nzones = ['left', 'right']\n")
    state = tmp_path / "state"
    write_calibration(site, offsets, scales, state_dir=state)
    text = site.read_text()
    assert "# our gym" in text and "# two FSR strips" in text
    audit = json.loads((state / "console-audit.log").read_text().splitlines()[-1])
    assert audit["page"] == "station mat calibrate" and audit["file"] == str(site)
    assert {c["key"] for c in audit["changes"]} == {"mat.offset_counts", "mat.scale_n_per_count"}
    cfg = load_config(site, required=True)
    assert list(cfg["mat"]["scale_n_per_count"]) == pytest.approx(scales, rel=1e-4)


def test_calibration_refuses_a_dead_zone() -> None:
    def read(seconds: float) -> np.ndarray:
        return np.tile([10.0, 10.0], (50, 1))

    with pytest.raises(ValueError, match=r"zone 'left' rose by only 0\.0 counts"):
        measure_calibration(read, ["left", "right"], 200.0, 0.5, lambda p: None, print)


def test_calibration_never_writes_an_invalid_file(tmp_path: Path) -> None:
    site = tmp_path / "station.toml"
    site.write_text("[mat]\nchannels = [0, 1, 2]\nzones = ['a', 'b', 'c']\n")
    before = site.read_text()
    with pytest.raises(ConfigInvalid):
        write_calibration(site, [1.0, 2.0], [1.0, 1.0], state_dir=tmp_path / "state")  # 2 for 3
    assert site.read_text() == before
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["station.toml"]  # no temp


def _fake_bus(monkeypatch: pytest.MonkeyPatch, waveform) -> None:  # type: ignore[no-untyped-def]
    """Put a simulated MCP3008 where /dev/spidev0.0 would be (the hardware edge only)."""
    import station.mat.sensors as sensors

    monkeypatch.setattr(
        sensors, "open_spidev", lambda bus, device, hz: SimulatedSpi(waveform, "mcp3008")
    )


def test_record_writes_a_mat_csv_that_analyze_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_bus(monkeypatch, lambda t: [300.0, 500.0])
    out = tmp_path / "rec.csv"
    assert main(["mat", "record", str(out), "--seconds", "0.3", "--raw"]) == 0
    assert "Hz achieved" in capsys.readouterr().out
    from station.mat.recording import read_mat_csv

    rec = read_mat_csv(out)
    # 0.3 s at 1 kHz on the real clock: how many rows depends on the machine's load (the rate
    # is `station bench mat-sampling`'s), so only that rows were written, in time order
    assert rec.zones == ("left", "right") and len(rec.t) > 1
    assert all(b > a for a, b in zip(rec.t, rec.t[1:], strict=False))
    assert set(rec.force[:, 0]) == {300.0} and set(rec.force[:, 1]) == {500.0}
    assert main(["mat", "analyze", str(out), "--json"]) == 0


def test_calibrate_command_writes_the_site_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = iter([None, 0, 1])  # empty mat, then the load on left, then on right
    current: dict[str, int | None] = {"zone": None}

    def waveform(t: float) -> list[float]:
        out = [20.0, 40.0]
        if current["zone"] is not None:
            out[current["zone"]] += 196.0
        return out

    _fake_bus(monkeypatch, waveform)
    monkeypatch.setenv("STATION_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr("builtins.input", lambda prompt: current.update(zone=next(steps)))
    site = tmp_path / "station.toml"
    site.write_text("# site\n")
    args = ["mat", "calibrate", "--load-kg", "20", "--seconds", "0.1", "--config", str(site)]
    assert main(args) == 0
    cfg = load_config(site, required=True)
    assert list(cfg["mat"]["offset_counts"]) == [20.0, 40.0]
    assert list(cfg["mat"]["scale_n_per_count"]) == pytest.approx([20 * KG / 196.0] * 2)
    assert site.read_text().startswith("# site")
    assert "mat.offset_counts" in (tmp_path / "state" / "console-audit.log").read_text()


def test_multi_point_calibration_fits_each_fsr_zone() -> None:
    """An FSR in a divider (a power law, ±25 % apart) calibrated with three loads: each zone
    gets its own exponent and scale, and the fit reads the loads back."""
    from station.mat.calibration import Calibration

    half = np.array([780.0, 1200.0])  # force at half the supply, per zone
    power = np.array([1.15, 0.92])
    on: dict[str, float | int] = {"zone": -1, "load": 0.0}
    loads = iter([0.0] + [x for _ in range(2) for x in (300.0, 600.0, 1200.0)])

    def ask(prompt: str) -> None:
        on["load"] = next(loads)
        if prompt.startswith("Step 2") and on["load"] == 300.0:
            on["zone"] = int(on["zone"]) + 1

    def read(seconds: float) -> np.ndarray:
        f = np.zeros(2)
        if int(on["zone"]) >= 0:
            f[int(on["zone"])] = float(on["load"])
        x = (f / half) ** power
        counts = 4095 * x / (1 + x) + 12.0
        return np.tile(counts, (50, 1))

    # seconds = 0: the loads here do not creep, so no creep is divided out of the fit
    offsets, scales, exps = measure_calibration(
        read, ["left", "right"], [300.0, 600.0, 1200.0], 0.0, ask, print, "fsr", 4095
    )
    assert exps == pytest.approx((1 / power).tolist(), rel=1e-3)
    assert scales == pytest.approx(half.tolist(), rel=1e-3)
    cal = Calibration(("left", "right"), np.array(offsets), np.array(scales), {}, 4095,
                      False, 30.0, "fsr", np.array(exps))  # fmt: skip
    probe = np.array([[500.0, 900.0]])
    x = (probe / half) ** power
    assert cal.newtons(4095 * x / (1 + x) + 12.0) == pytest.approx(probe, rel=1e-3)
    with pytest.raises(ValueError, match="two or more known loads"):
        measure_calibration(read, ["left", "right"], [300.0], 0.5, ask, print, "fsr", 4095)


def test_mat_settings_are_the_section_typed(tmp_path: Path) -> None:
    """MatSettings has one field per [mat] key; a site file's values arrive typed, and a bad
    one is still rejected by the schema with its key path."""
    import dataclasses

    from station.config.loader import ConfigInvalid, build_config, load_config
    from station.config.sections import SCHEMA
    from station.mat.settings import SECTION, MatSettings, ZoneTable

    assert [f.name for f in dataclasses.fields(MatSettings)] == list(SECTION.keys)
    defaults = MatSettings.from_config(build_config(SCHEMA, []))
    for name, key in SECTION.keys.items():
        if name != "tables":
            want = tuple(key.default) if isinstance(key.default, list) else key.default
            assert getattr(defaults, name) == want, name
    assert defaults.tables == {} and defaults.adc.name == "mcp3008"
    site = tmp_path / "station.toml"
    site.write_text(
        "[mat]\nsample_rate_hz = 2000\nfloor_n = 40\nchannels = [2, 3]\n"
        "[mat.tables.left]\ncounts = [0, 100, 900]\nnewtons = [0, 50, 1500]\n"
    )
    settings = MatSettings.from_config(load_config(site))
    assert (settings.sample_rate_hz, settings.floor_n, settings.channels) == (2000.0, 40.0, (2, 3))
    assert isinstance(settings.sample_rate_hz, float) and isinstance(settings.floor_n, float)
    assert settings.tables == {"left": ZoneTable((0.0, 100.0, 900.0), (0.0, 50.0, 1500.0))}
    # the pipeline takes every [mat] key it shares a name with (a renamed key cannot fall
    # back to the pipeline's default unnoticed: all but the landing thresholds are shared)
    from station.mat.pipeline import PipelineParams

    landing = {"judge_landings", "peak_warn_bw", "peak_fault_bw", "loading_rate_warn_bw_s",
               "loading_rate_fault_bw_s", "heel_first_is_fault"}  # fmt: skip
    unshared = {f.name for f in dataclasses.fields(PipelineParams)} - set(SECTION.keys)
    assert unshared == landing
    params = PipelineParams.from_config(load_config(site))
    assert (params.sample_rate_hz, params.floor_n) == (2000.0, 40.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.floor_n = 1.0  # type: ignore[misc]
    site.write_text("[mat.tables.left]\ncounts = [0, 100]\nnewtons = [0, 50, 1500]\n")
    with pytest.raises(ConfigInvalid, match=r"mat\.tables\.left\.newtons"):
        load_config(site)
