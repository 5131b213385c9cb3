"""Atomic file replacement, for every file another process reads while we write it."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path


def atomic_write_text(
    path: Path, text: str, *, fsync: bool = True, mode: int | None = None
) -> None:
    """Write `text` to `path` so that readers (and a crash) see the old or the new content,
    never a mix: a temp file in the same directory, then rename over the target. `mode`
    defaults to the existing file's permissions (else 0644)."""
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:6]}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if fsync:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
