"""The faults: one spec per fault (station/faults/<name>.py) and the registry that lists them.

See docs/faults.md for what a spec holds and how to add a fault.
"""

from station.faults.registry import (
    BUILTIN,
    FAULT_NAMES,
    FAULTS,
    register,
    registered,
    spec,
    specs,
    unregister,
    version,
)
from station.faults.spec import AlertKeys, FaultSpec, ThresholdKeys, camera_only

__all__ = [
    "BUILTIN",
    "FAULTS",
    "FAULT_NAMES",
    "AlertKeys",
    "FaultSpec",
    "ThresholdKeys",
    "camera_only",
    "register",
    "registered",
    "spec",
    "specs",
    "unregister",
    "version",
]
