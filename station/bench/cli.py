"""`station bench`: run the benchmarks every room provides, print a table, write JSON."""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
import time
import traceback
from dataclasses import asdict
from pathlib import Path

from station.bench import BenchReport, discover

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "bench",
        help="run the benchmarks and print a table of figures",
        description="Runs every room's benchmarks (station/*/bench.py), prints a table headed by "
        "the command that produced it and writes the figures as JSON.",
    )
    p.add_argument("names", nargs="*", help="only benchmarks whose name contains one of these")
    p.add_argument("--quick", action="store_true", help="short runs (a smoke test, not figures)")
    p.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    p.add_argument(
        "--json",
        metavar="FILE",
        default="bench-results/bench.json",
        help="where to write the figures (default: %(default)s)",
    )
    p.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    benches = [b for b in discover() if not args.names or any(n in b.name for n in args.names)]
    if args.list:
        for b in benches:
            print(f"{b.room:<10} {b.name}")
        return 0
    command = "station " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv else ""
    report = BenchReport(command=command)
    print(f"$ {command}")
    for bench in benches:
        started = time.perf_counter()
        try:
            report.results[bench.name] = bench.run(args.quick)
        except Exception as exc:  # one failing benchmark must not hide the others' figures
            report.errors[bench.name] = f"{type(exc).__name__}: {exc}"
            log.debug("benchmark %s failed:\n%s", bench.name, traceback.format_exc())
        log.info("%s took %.1f s", bench.name, time.perf_counter() - started)
    _print_table(report)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "command": report.command,
        "results": {k: [asdict(f) for f in v] for k, v in report.results.items()},
        "errors": report.errors,
    }
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"figures written to {out}")
    return 1 if report.errors else 0


def _print_table(report: BenchReport) -> None:
    rows = [("benchmark", "figure", "value", "unit", "target", "")]
    for name, figures in report.results.items():
        for f in figures:
            mark = "" if f.ok is None else ("ok" if f.ok else "MISSED")
            rows.append((name, f.name, f"{f.value:.4g}", f.unit, f.target, mark))
    for name, err in report.errors.items():
        rows.append((name, "ERROR", err, "", "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
