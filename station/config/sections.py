"""The whole schema, assembled from each room's settings module."""

from station.alerts.settings import section as alerts_section
from station.camera.settings import SECTION as CAMERA
from station.config.presets import presets_section
from station.config.schema import Section
from station.console.settings import SECTION as CONSOLE
from station.display.settings import SECTION as DISPLAY
from station.faults import registry
from station.fleet.gym_settings import SECTION as FLEET
from station.fleet.settings import SECTION as UPLINK
from station.mat.settings import SECTION as MAT
from station.mat.settings import landing_thresholds
from station.members.settings import SECTION as MEMBERS
from station.pose.settings import SECTION as POSE
from station.posture.settings import SECTION as POSTURE
from station.posture.settings import posture_thresholds
from station.session.settings import SECTION as SESSION
from station.storage.settings import SECTION as STORAGE


def _preset_exists(data: object) -> list[tuple[str, str]]:
    assert isinstance(data, dict)
    name = data["posture"]["preset"]
    if name not in data["presets"]:
        known = ", ".join(data["presets"])
        return [("posture.preset", f"= {name!r}: no such preset (known: {known})")]
    return []


def build_schema() -> Section:
    """The schema for the faults registered now: each fault brings its preset thresholds and its
    alert, so the schema follows the fault registry (station.faults)."""
    return Section(
        "",
        {
            "camera": CAMERA,
            "pose": POSE,
            "mat": MAT,
            "posture": POSTURE,
            "presets": presets_section(posture_thresholds, landing_thresholds),
            "alerts": alerts_section(),
            "display": DISPLAY,
            "session": SESSION,
            "storage": STORAGE,
            "console": CONSOLE,
            "members": MEMBERS,
            "uplink": UPLINK,
            "fleet": FLEET,
        },
        checks=(_preset_exists,),
    )


_built: tuple[int, Section] | None = None


def schema() -> Section:
    """The schema, rebuilt only when a fault has been registered or removed since."""
    global _built
    if _built is None or _built[0] != registry.version():
        _built = (registry.version(), build_schema())
    return _built[1]


def __getattr__(name: str) -> Section:
    # `from station.config.sections import SCHEMA` reads the schema of the faults registered
    # when it runs (PEP 562), so a fault registered later is in the next config built.
    if name == "SCHEMA":
        return schema()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
