"""Running the checks in order and rendering the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from station.diag.checks import (
    FAIL,
    OK,
    SKIP,
    WARN,
    Check,
    Context,
    check_camera,
    check_config,
    check_devices,
    check_disk,
    check_display,
    check_framing,
    check_mat,
    check_outputs,
    check_platform,
    check_pose,
    check_service,
)

MARK = {OK: "ok  ", WARN: "WARN", FAIL: "FAIL", SKIP: "skip"}


def run_checks(ctx: Context, config_problem: Any = None) -> list[Check]:
    """Every check; one that crashes is reported as a failed check, not a traceback."""
    from station.storage.paths import state_dir

    steps: list[tuple[str, Any]] = [
        ("service", lambda: check_service(ctx)),
        ("Raspberry Pi", lambda: check_platform(ctx)),
        ("config", lambda: check_config(ctx, config_problem)),
        ("devices", lambda: check_devices(ctx)),
        ("camera", lambda: check_camera(ctx)),
        ("pose model", lambda: check_pose(ctx)),
        ("camera framing", lambda: check_framing(ctx)),
        ("mat", lambda: check_mat(ctx)),
        ("buzzer and LEDs", lambda: check_outputs(ctx)),
        ("display", lambda: check_display(ctx)),
        ("disk", lambda: check_disk(ctx, Path(state_dir(ctx.config["storage"]["state_dir"])))),
    ]
    checks: list[Check] = []
    for name, step in steps:
        ctx.say(f"checking {name}…")
        try:
            result = step()
        except Exception as exc:  # a bug in a check must not hide the other parts
            result = Check(name, FAIL, f"the check itself failed: {type(exc).__name__}: {exc}")
        checks.extend(result if isinstance(result, list) else [result])
    return checks


def exit_code(checks: list[Check]) -> int:
    return 1 if any(c.required and c.status == FAIL for c in checks) else 0


def render_text(checks: list[Check], code: int) -> str:
    lines = ["station diag", ""]
    for c in checks:
        lines.append(f"[{MARK[c.status]}] {c.name}: {c.summary}")
        lines.extend(f"         {d}" for d in c.details)
        if c.fix and c.status != OK:
            lines.append(f"         fix: {c.fix}")
    failed = [c.name for c in checks if c.required and c.status == FAIL]
    warned = [c.name for c in checks if c.status == WARN or (c.status == FAIL and not c.required)]
    lines.append("")
    if failed:
        lines.append(f"{len(failed)} required part(s) missing or broken: {', '.join(failed)}")
    else:
        lines.append("every required part works")
    if warned:
        lines.append(f"warnings: {', '.join(warned)}")
    lines.append(f"exit status {code}")
    return "\n".join(lines) + "\n"
