"""Nothing Pi-only may be imported at module import time: every module of the package imports
on a machine where spidev, picamera2, libcamera and lgpio do not exist."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import station

PI_ONLY = ("spidev", "picamera2", "libcamera", "lgpio")


def test_every_module_imports_without_pi_libraries() -> None:
    modules = [m.name for m in pkgutil.walk_packages(station.__path__, "station.")]
    assert len(modules) > 50
    script = (
        "import importlib, sys\n"
        f"for name in {PI_ONLY!r}:\n"
        "    sys.modules[name] = None  # makes `import name` raise ImportError\n"
        f"for module in {modules!r}:\n"
        "    if module.endswith('__main__'):\n"
        "        continue\n"
        "    importlib.import_module(module)\n"
        f"assert not any(sys.modules.get(n) for n in {PI_ONLY!r})\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
