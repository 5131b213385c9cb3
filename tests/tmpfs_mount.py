"""A real tmpfs for the tests that need a full or read-only file system (root with
CAP_SYS_ADMIN, as on the dev VM and CI; tests skip where :func:`can_mount` is False)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def can_mount() -> bool:
    """Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN, as on the dev VM)."""
    if os.geteuid() != 0:
        return False
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", folder],
                              capture_output=True, check=False)  # fmt: skip
        if done.returncode != 0:
            return False
        subprocess.run(["umount", folder], check=False)
    return True


@contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)],
                   check=True)  # fmt: skip
    try:
        yield folder
    finally:
        for _ in range(20):
            if subprocess.run(["umount", str(folder)], check=False).returncode == 0:
                break
            time.sleep(0.2)  # busy while the station still has a file open
