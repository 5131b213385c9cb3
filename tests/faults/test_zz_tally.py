"""The fault-injection suite's report: the counts over every probe run before this file
(pytest runs a folder's files in name order). `pytest tests/faults` prints, for example:

    fault injection: 473 probes: 0 tracebacks, 0 hangs, 0 unintended config changes, 0 data lost
"""

from __future__ import annotations

import pytest
from faults_helpers import FAILURES, TALLY


def test_the_tally_of_every_probe(capsys: pytest.CaptureFixture[str]) -> None:
    if not TALLY["probes"]:
        pytest.skip("no probe ran before this test (run the whole tests/faults folder)")
    line = f"fault injection: {TALLY['probes']} probes: " + ", ".join(
        f"{TALLY[name]} {name}" for name in FAILURES
    )
    with capsys.disabled():
        print(f"\n{line}")
    assert all(TALLY[name] == 0 for name in FAILURES), line
