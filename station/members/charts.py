"""Small inline SVG line charts for the members' pages: no script, no third-party asset, and
readable in daylight on a phone (thick dark lines on white, large labels)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

# Okabe–Ito, as on the kiosk: told apart by colour-blind members too.
FAULT_COLOURS = {
    "shoulders": "#E69F00",
    "back": "#D55E00",
    "landing": "#0072B2",
    "arms": "#009E73",
    "head": "#CC79A7",
}
INK = "#0b3d91"

WIDTH, HEIGHT = 360, 180
PAD_L, PAD_R, PAD_T, PAD_B = 44, 10, 10, 28


@dataclass(frozen=True)
class Line:
    label: str
    colour: str
    points: Sequence[tuple[float, float]]


def _nice_top(value: float) -> float:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if value <= step * 4:
            return float(step * 4)
    return float(value)


def line_chart(
    lines: Sequence[Line],
    *,
    x_range: tuple[float, float],
    x_labels: Sequence[tuple[float, str]],
    title: str,
    dots: bool = False,
) -> str:
    """An <svg> with a y axis from 0 (four grid steps), `x_labels` at their x values."""
    x0, x1 = x_range
    span = max(x1 - x0, 1e-9)
    top = _nice_top(max([y for line in lines for _, y in line.points] + [1.0]))
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B

    def sx(x: float) -> float:
        return PAD_L + (x - x0) / span * plot_w

    def sy(y: float) -> float:
        return PAD_T + plot_h - max(0.0, y) / top * plot_h

    out = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        'class="chart">'
    ]
    for i in range(5):
        value = top * i / 4
        y = sy(value)
        out.append(
            f'<line x1="{PAD_L}" y1="{y:.1f}" x2="{WIDTH - PAD_R}" y2="{y:.1f}" '
            'stroke="#ccc" stroke-width="1"/>'
            f'<text x="{PAD_L - 6}" y="{y + 5:.1f}" text-anchor="end" font-size="14">'
            f"{value:.0f}</text>"
        )
    for i, (x, label) in enumerate(x_labels):
        anchor = "start" if i == 0 else "end" if i == len(x_labels) - 1 else "middle"
        out.append(
            f'<text x="{sx(x):.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}" font-size="14">'
            f"{escape(label)}</text>"
        )
    for line in lines:
        pts = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in line.points)
        if len(line.points) > 1:
            out.append(
                f'<polyline points="{pts}" fill="none" stroke="{line.colour}" '
                'stroke-width="3" stroke-linejoin="round"/>'
            )
        if dots or len(line.points) == 1:
            out.extend(
                f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="4" fill="{line.colour}"/>'
                for x, y in line.points
            )
    out.append("</svg>")
    return "".join(out)


def cadence_chart(series: Sequence[Sequence[float]], duration_s: float) -> str:
    """One session's cadence (jumps per minute) over its time."""
    points = [(float(t), float(c)) for t, c in series]
    end = max(duration_s, points[-1][0] if points else 0.0, 1.0)
    labels = [(0.0, "0:00"), (end, f"{int(end // 60)}:{int(end % 60):02d}")]
    return line_chart(
        [Line("cadence", INK, points)],
        x_range=(0.0, end),
        x_labels=labels,
        title="Cadence, jumps per minute",
    )


def history_charts(sessions: Sequence[dict[str, object]]) -> dict[str, str]:
    """Progress over weeks: one point per session at its date. Keys: jumps, best_streak,
    cadence, mistakes (seconds per mistake, a line each)."""
    if not sessions:
        return {}
    times = [float(s["started_at"]) for s in sessions]  # type: ignore[arg-type]
    x_range = (min(times), max(times) if max(times) > min(times) else min(times) + 86400.0)
    labels = _date_labels(x_range)

    def one(key: str, title: str) -> str:
        pts = [(t, float(s[key])) for t, s in zip(times, sessions, strict=True)]  # type: ignore[arg-type]
        return line_chart(
            [Line(key, INK, pts)], x_range=x_range, x_labels=labels, title=title, dots=True
        )

    faults: list[Line] = []
    for fault, colour in FAULT_COLOURS.items():
        pts = []
        for t, s in zip(times, sessions, strict=True):
            seconds = s.get("fault_seconds", {})
            assert isinstance(seconds, dict)
            pts.append((t, float(seconds.get(fault, 0.0))))
        faults.append(Line(fault, colour, pts))
    return {
        "jumps": one("jumps", "Jumps per session"),
        "best_streak": one("best_streak", "Best streak"),
        "cadence": one("cadence_avg_per_min", "Average cadence, jumps per minute"),
        "mistakes": line_chart(
            faults, x_range=x_range, x_labels=labels, title="Seconds per mistake", dots=True
        ),
    }


def _date_labels(x_range: tuple[float, float]) -> list[tuple[float, str]]:
    """First and last day, and the middle when the span is long enough to need it."""
    a, b = x_range
    fmt = "%d %b"
    out = [
        (a, datetime.fromtimestamp(a).strftime(fmt)),
        (b, datetime.fromtimestamp(b).strftime(fmt)),
    ]
    if b - a > 10 * 86400:
        mid = (a + b) / 2
        out.insert(1, (mid, datetime.fromtimestamp(mid).strftime(fmt)))
    return out
