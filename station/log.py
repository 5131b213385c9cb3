"""Logging to stderr in a journald-friendly format.

Under systemd (JOURNAL_STREAM is set) each line starts with a syslog priority prefix such as
`<3>` that journald turns into the entry's priority, and carries no timestamp because the
journal adds its own. On a terminal lines read `LEVEL logger: message`.
"""

from __future__ import annotations

import logging
import os
import sys

_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


class JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prio = _PRIORITY.get(record.levelno, 6)
        text = f"{record.name}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        # Continuation lines keep the priority so a traceback stays one severity in the journal.
        return "\n".join(f"<{prio}>{line}" for line in text.splitlines())


def setup_logging(verbosity: int = 0, *, base_level: int = logging.WARNING) -> None:
    """`verbosity` counts -v flags: each lowers the threshold one step from `base_level`."""
    level = max(logging.DEBUG, base_level - 10 * verbosity)
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
