"""The simulator's script: who jumps, what they do and when, read from TOML and validated.

A script is plain data. Errors name the key path the way the station config does
(`phase[2].cadence_per_min = 500: too large; expected ...`), using the same Key/Section
machinery (:mod:`station.config.schema`) for the tables and for each item of the
arrays of tables (`[[phase]]`, `[[fault]]`, `[[outage]]`, `[[dead_zone]]`).

All times (`start_s`, `end_s`, `misses_s`) are seconds from the start of the simulation;
phases follow each other and each lasts `duration_s`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from station.config.schema import ConfigError, Key, Section, validate_layer
from station.events import FAULTS

PhaseKind = Literal["empty", "step_on", "stand", "jump", "step_off"]
Style = Literal["two-foot", "alternate-foot", "double-under"]
LandingKind = Literal["soft", "heel"]

PHASE_KINDS: tuple[str, ...] = ("empty", "step_on", "stand", "jump", "step_off")
STYLES: tuple[str, ...] = ("two-foot", "alternate-foot", "double-under")
LANDINGS: tuple[str, ...] = ("soft", "heel")
DEVICES: tuple[str, ...] = ("camera", "mat")
ON_MAT_KINDS = ("stand", "jump")
"""Kinds that need the jumper already on the mat (after a step_on)."""
MIN_JUMP_PHASE_S = 1.5
"""A jump phase needs this plus two cycles: 0.2 s standing, a push-off, a jump, settling."""
JUMP_ONLY_KEYS = ("cadence_per_min", "style", "landing", "misses_s")

JUMPER = Section(
    "The simulated member.",
    {
        "mass_kg": Key(70.0, "Body mass.", "kg", min=20.0, max=200.0),
        "height_m": Key(1.75, "Standing height.", "m", min=1.0, max=2.2),
    },
)
NOISE = Section(
    "Sensor noise (seeded; 0 turns a source's noise off).",
    {
        "mat_n": Key(
            3.0, "Standard deviation of the mat's noise, per zone.", "N", min=0.0, max=200
        ),
        "pose_px": Key(
            1.5, "Standard deviation of the image landmarks' jitter.", "px", min=0.0, max=50.0
        ),
        "pose_m": Key(
            0.008, "Standard deviation of the world landmarks' jitter.", "m", min=0.0, max=0.2
        ),
    },
)
CAMERA = Section(
    "Where the simulated camera stands (image size and placement come from the station config).",
    {
        "pose_fps": Key(
            15.0,
            "Pose frames per second delivered (a Pi runs MediaPipe at 5-15); capped at the "
            "config's camera.fps.",
            "frames/s",
            min=1.0,
            max=120.0,
        ),
        "distance_m": Key(2.8, "Camera to the jumper.", "m", min=1.0, max=8.0),
        "height_m": Key(1.0, "Height of the lens above the floor.", "m", min=0.2, max=2.5),
        "hfov_deg": Key(
            66.0, "Horizontal field of view (Camera Module 3: 66).", "°", min=30, max=140
        ),
    },
)
PHASE = Section(
    "One phase of the session.",
    {
        "kind": Key(
            "stand",
            "empty (nobody there), step_on, stand (still on the mat), jump, step_off.",
            choices=PHASE_KINDS,
        ),
        "duration_s": Key(3.0, "How long the phase lasts.", "s", min=0.2, max=7200.0),
        "cadence_per_min": Key(
            120.0,
            "Jumps per minute (alternate-foot: foot contacts per minute).",
            "/min",
            min=40.0,
            max=300.0,
        ),
        "style": Key("two-foot", "Jump style.", choices=STYLES),
        "landing": Key("soft", "soft (forefoot first) or heel (heel slaps).", choices=LANDINGS),
        "misses_s": Key(
            [],
            "Times the rope catches: the jumper lands, stands still ~1 s, and resumes.",
            "s",
            item=float,
            min=0.0,
        ),
    },
)
FAULT = Section(
    "A fault episode: the posture deformation applies from start_s to end_s.",
    {
        "name": Key("head", "Which fault.", choices=FAULTS),
        "start_s": Key(0.0, "Start.", "s", min=0.0),
        "end_s": Key(1.0, "End.", "s", min=0.0),
    },
)
OUTAGE = Section(
    "A device outage: the source reports DeviceStatus(ok=False) and yields no data.",
    {
        "device": Key("camera", "camera or mat.", choices=DEVICES),
        "start_s": Key(0.0, "Start.", "s", min=0.0),
        "end_s": Key(1.0, "End.", "s", min=0.0),
    },
)
DEAD_ZONE = Section(
    "A mat zone that stops responding (reads noise around 0 N) from start_s (to end_s).",
    {
        "zone": Key("left", "Zone name, as in the config's mat.zones."),
        "start_s": Key(0.0, "Start.", "s", min=0.0),
        "end_s": Key(1.0e9, "End (default: never recovers).", "s", min=0.0),
    },
)
TOP = Section(
    "A simulator script.",
    {
        "name": Key("", "A short name for the script."),
        "jumper": JUMPER,
        "noise": NOISE,
        "camera": CAMERA,
    },
)
ARRAYS: dict[str, tuple[Section, tuple[str, ...]]] = {
    # array name -> (item schema, keys an item must give)
    "phase": (PHASE, ("kind", "duration_s")),
    "fault": (FAULT, ("name", "start_s", "end_s")),
    "outage": (OUTAGE, ("device", "start_s", "end_s")),
    "dead_zone": (DEAD_ZONE, ("zone", "start_s")),
}


class ScriptInvalid(ValueError):
    """The script was rejected; `errors` names each problem with its key path."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass(frozen=True)
class Phase:
    kind: PhaseKind
    start_s: float
    duration_s: float
    cadence_per_min: float = 120.0
    style: Style = "two-foot"
    landing: LandingKind = "soft"
    misses_s: tuple[float, ...] = ()

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@dataclass(frozen=True)
class Episode:
    """A fault episode (`name` is a fault) or an outage (`name` is a device)."""

    name: str
    start_s: float
    end_s: float

    def covers(self, t: float) -> bool:
        return self.start_s <= t < self.end_s


@dataclass(frozen=True)
class DeadZone:
    zone: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Script:
    name: str
    mass_kg: float
    height_m: float
    phases: tuple[Phase, ...]
    faults: tuple[Episode, ...]
    outages: tuple[Episode, ...]
    dead_zones: tuple[DeadZone, ...]
    noise: Mapping[str, float]
    camera: Mapping[str, float]
    source: str = ""

    @property
    def duration_s(self) -> float:
        return self.phases[-1].end_s if self.phases else 0.0


def default_script_path() -> Path:
    return Path(str(resources.files("station.sim") / "scripts" / "default.toml"))


def packaged_scripts() -> dict[str, Path]:
    """The scripts shipped with the simulator, by name (file stem)."""
    folder = default_script_path().parent
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}


def load_script(path: Path | None = None) -> Script:
    """Read and validate a script file (None: the packaged default); raises ScriptInvalid."""
    path = default_script_path() if path is None else Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScriptInvalid([ConfigError("", f"not valid TOML: {exc}", str(path))]) from exc
    except OSError as exc:
        raise ScriptInvalid([ConfigError("", f"cannot read: {exc.strerror}", str(path))]) from exc
    return parse_script(data, str(path))


def parse_script(data: Mapping[str, Any], source: str = "<script>") -> Script:
    """Validate a parsed TOML document; raises ScriptInvalid naming every bad key path."""
    errors: list[ConfigError] = []
    tables = {k: v for k, v in data.items() if k not in ARRAYS}
    errors.extend(validate_layer(tables, TOP, source))
    top = TOP.defaults()
    if not errors:
        for name, value in tables.items():
            if isinstance(value, Mapping):
                top[name].update({k: _number(v) for k, v in value.items()})
            else:
                top[name] = value
    items: dict[str, list[dict[str, Any]]] = {}
    for array, (schema, required) in ARRAYS.items():
        items[array] = []
        raw = data.get(array, [])
        if not isinstance(raw, list):
            errors.append(ConfigError(array, f"expected an array of tables [[{array}]]", source))
            continue
        for i, item in enumerate(raw):
            path = f"{array}[{i}]"
            if not isinstance(item, Mapping):
                errors.append(ConfigError(path, f"expected a table, got {item!r}", source))
                continue
            item_errors = validate_layer(item, schema, source, f"{path}.")
            item_errors += [
                ConfigError(f"{path}.{key}", "missing (required)", source)
                for key in required
                if key not in item
            ]
            errors.extend(item_errors)
            merged = schema.defaults()
            merged.update({k: _number(v) for k, v in item.items()})
            merged["_given"] = set(item)
            items[array].append(merged)
    if errors:
        raise ScriptInvalid(errors)
    phases = _phases(items["phase"], source, errors)
    end = phases[-1].end_s if phases else 0.0
    faults = _episodes(items["fault"], "fault", "name", source, errors, end)
    outages = _episodes(items["outage"], "outage", "device", source, errors, end)
    dead = [DeadZone(d["zone"], d["start_s"], d["end_s"]) for d in items["dead_zone"]]
    for i, d in enumerate(dead):
        if d.end_s <= d.start_s:
            errors.append(ConfigError(f"dead_zone[{i}].end_s", "must be after start_s", source))
    if not phases and not errors:
        errors.append(ConfigError("phase", "a script needs at least one [[phase]]", source))
    if errors:
        raise ScriptInvalid(errors)
    return Script(
        name=str(top["name"]) or Path(source).stem,
        mass_kg=float(top["jumper"]["mass_kg"]),
        height_m=float(top["jumper"]["height_m"]),
        phases=tuple(phases),
        faults=tuple(faults),
        outages=tuple(outages),
        dead_zones=tuple(dead),
        noise={k: float(v) for k, v in top["noise"].items()},
        camera={k: float(v) for k, v in top["camera"].items()},
        source=source,
    )


def _number(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, list):
        return [_number(v) for v in value]
    return value


def _phases(raw: list[dict[str, Any]], source: str, errors: list[ConfigError]) -> list[Phase]:
    phases: list[Phase] = []
    t = 0.0
    on_mat = False
    for i, p in enumerate(raw):
        path = f"phase[{i}]"
        kind = p["kind"]
        for key in JUMP_ONLY_KEYS:
            if key in p["_given"] and kind != "jump":
                errors.append(
                    ConfigError(
                        f"{path}.{key}", f"only for kind = 'jump' (this is {kind!r})", source
                    )
                )
        if kind in ON_MAT_KINDS and not on_mat:
            errors.append(
                ConfigError(
                    f"{path}.kind",
                    f"= {kind!r}: the jumper is not on the mat here; add a step_on phase first",
                    source,
                )
            )
        if kind in ("step_on", "empty") and on_mat:
            errors.append(
                ConfigError(
                    f"{path}.kind",
                    f"= {kind!r}: the jumper is still on the mat; add a step_off phase first",
                    source,
                )
            )
        if kind == "step_off" and not on_mat:
            errors.append(
                ConfigError(f"{path}.kind", "= 'step_off': the jumper is not on the mat", source)
            )
        if kind == "jump":
            shortest = MIN_JUMP_PHASE_S + 2 * 60.0 / p["cadence_per_min"]
            if p["duration_s"] < shortest:
                errors.append(
                    ConfigError(
                        f"{path}.duration_s",
                        f"= {p['duration_s']:g}: too short for a jump at "
                        f"{p['cadence_per_min']:g}/min (needs ≥ {shortest:.2f} s: stand, push "
                        "off, jump, settle)",
                        source,
                    )
                )
        on_mat = kind in ("step_on", "stand", "jump")
        end = t + p["duration_s"]
        misses = tuple(sorted(p["misses_s"]))
        for j, m in enumerate(p["misses_s"]):
            latest = end - 1.5 - 60.0 / p["cadence_per_min"]
            if not t + 1.0 <= m <= latest:
                errors.append(
                    ConfigError(
                        f"{path}.misses_s",
                        f"item {j} = {m:g}: must be at least 1 s after the phase starts and "
                        f"1.5 s + one jump cycle before it ends (here {t + 1:g} to {latest:g} s)",
                        source,
                    )
                )
        for j in range(1, len(misses)):
            if misses[j] - misses[j - 1] < 2.0:
                errors.append(
                    ConfigError(f"{path}.misses_s", "misses must be at least 2 s apart", source)
                )
                break
        phases.append(
            Phase(
                kind=kind,
                start_s=t,
                duration_s=p["duration_s"],
                cadence_per_min=p["cadence_per_min"],
                style=p["style"],
                landing=p["landing"],
                misses_s=misses,
            )
        )
        t = end
    return phases


def _episodes(
    raw: list[dict[str, Any]],
    array: str,
    label: str,
    source: str,
    errors: list[ConfigError],
    script_end_s: float,
) -> list[Episode]:
    out: list[Episode] = []
    for i, e in enumerate(raw):
        if script_end_s and e["start_s"] >= script_end_s:
            errors.append(
                ConfigError(
                    f"{array}[{i}].start_s",
                    f"= {e['start_s']:g}: after the script ends ({script_end_s:g} s)",
                    source,
                )
            )
        if e["end_s"] <= e["start_s"]:
            errors.append(
                ConfigError(
                    f"{array}[{i}].end_s",
                    f"= {e['end_s']:g}: must be after start_s ({e['start_s']:g})",
                    source,
                )
            )
        out.append(Episode(e[label], e["start_s"], e["end_s"]))
    return sorted(out, key=lambda e: e.start_s)
