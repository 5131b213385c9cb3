"""Layout: every box on every screen, computed from the screen size alone.

A layout is a plain ``{name: Rect}`` mapping, worked out from proportions of the screen (no
pixel constants), so any resolution and orientation works: landscape puts the count and the
lights side by side, portrait stacks them. The renderer draws each element inside its box and
reports the rectangle it actually used, which is how tests prove nothing spills out.

Layouts are cached per (screen, size, options) and the registered faults (one light row, one
summary bar per fault); callers must not modify the returned rects.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar, cast

from pygame import Rect

from station.events import FAULTS
from station.faults import registry

Layout = dict[str, Rect]
P = ParamSpec("P")
R = TypeVar("R")


def _cached(maxsize: int) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """lru_cache that also keys on the fault registry's version: a fault registered later
    gets its row in the next layout, not a stale one."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.lru_cache(maxsize=maxsize)
        def cached(_version: int, *args: Any) -> Any:
            return fn(*args)  # type: ignore[call-arg]

        @functools.wraps(fn)
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            assert not kwargs, "layouts take positional arguments (one cache key per call)"
            return cast(R, cached(registry.version(), *args))

        return call

    return wrap


def unit(width: int, height: int) -> float:
    """One hundredth of the shorter side: the scale of margins and gaps."""
    return min(width, height) / 100.0


def split(r: Rect, fracs: Sequence[float], gap: int, vertical: bool) -> list[Rect]:
    """Cut `r` into parts proportional to `fracs`, `gap` pixels apart, top-down or left-right."""
    total = sum(fracs)
    span = (r.height if vertical else r.width) - gap * (len(fracs) - 1)
    out: list[Rect] = []
    pos = r.top if vertical else r.left
    for i, f in enumerate(fracs):
        end = (r.bottom if vertical else r.right) if i == len(fracs) - 1 else None
        size = round(span * f / total) if end is None else end - pos
        out.append(
            Rect(r.left, pos, r.width, size) if vertical else Rect(pos, r.top, size, r.height)
        )
        pos += size + gap
    return out


def rows(r: Rect, fracs: Sequence[float], gap: int) -> list[Rect]:
    return split(r, fracs, gap, vertical=True)


def cols(r: Rect, fracs: Sequence[float], gap: int) -> list[Rect]:
    return split(r, fracs, gap, vertical=False)


def inset(r: Rect, dx: float, dy: float | None = None) -> Rect:
    dy = dx if dy is None else dy
    return r.inflate(-2 * round(dx), -2 * round(dy))


def frame(width: int, height: int, banner: bool, notice: bool) -> Layout:
    """The parts every screen shares: the banner strip, the trainer-notice footer, the content."""
    u = unit(width, height)
    portrait = height > width
    out: Layout = {}
    top = 0
    if banner:
        bh = round(height * (0.075 if portrait else 0.12))
        out["banner"] = Rect(0, 0, width, bh)
        top = bh
    bottom = height
    if notice:
        nh = max(14, round(u * 3.6))
        out["notice"] = Rect(round(u * 2), height - nh - round(u * 0.6), width - round(u * 4), nh)
        bottom = out["notice"].top - round(u * 0.6)
    margin = round(u * 2.5)
    out["content"] = Rect(margin, top + margin, width - 2 * margin, bottom - top - 2 * margin)
    return out


def _text_pair(r: Rect, name: str, out: Layout, value_frac: float = 0.66) -> None:
    """A value above its label (stats, summary figures)."""
    value, label = rows(r, (value_frac, 1 - value_frac), 0)
    # Clear of the panel's rounded corners (radius 8% of its shorter side), so a text drawn on
    # an opaque panel-coloured background never squares them off.
    side = max(r.width * 0.04, min(r.width, r.height) * 0.08 + 1)
    out[f"{name}.value"] = inset(value, side, 0)
    out[f"{name}.label"] = inset(label, side, 0)


def _light_rows(r: Rect, gap: int, out: Layout, prefix: str = "light") -> None:
    for fault, row in zip(FAULTS, rows(r, [1] * len(FAULTS), gap), strict=True):
        out[f"{prefix}.{fault}"] = row
        pad = round(row.height * 0.12)
        icon_d = row.height - 2 * pad
        icon = Rect(row.left + pad, row.top + pad, icon_d, icon_d)
        out[f"{prefix}.{fault}.icon"] = icon
        text = Rect(icon.right + pad * 2, row.top + pad, row.right - icon.right - pad * 3, icon_d)
        name, word = cols(text, (0.6, 0.4), pad)
        out[f"{prefix}.{fault}.name"] = name
        out[f"{prefix}.{fault}.state"] = name if word.width <= 0 else word


@_cached(maxsize=64)
def active(width: int, height: int, banner: bool, notice: bool, live: bool, meter: bool) -> Layout:
    out = frame(width, height, banner, notice)
    c = out["content"]
    u = unit(width, height)
    gap = round(u * 2)
    if width >= height:
        left, right = cols(c, (0.57, 0.43), gap * 2)
        count, stats, cue = rows(left, (0.57, 0.19, 0.24), gap)
        parts = [0.42, 0.40, 0.18] if live else [0.0, 0.78, 0.22]
        if not meter:
            parts = [0.45, 0.55, 0.0] if live else [0.0, 1.0, 0.0]
        used = [p for p in parts if p > 0]
        boxes = iter(rows(right, used, gap))
        live_box = next(boxes) if parts[0] else None
        lights = next(boxes)
        meter_box = next(boxes) if parts[2] else None
    else:
        count, stats, cue, lower, meter_row = rows(
            c, (0.28, 0.11, 0.13, 0.36, 0.12 if meter else 0.0001), gap
        )
        if live:
            lights, live_box = cols(lower, (0.55, 0.45), gap)
        else:
            lights, live_box = lower, None
        meter_box = meter_row if meter else None
    number, label = rows(count, (0.83, 0.17), round(u))
    out["count"] = number
    out["count.label"] = label
    for name, box in zip(
        ("cadence", "elapsed", "streak"), cols(stats, (1, 1, 1), gap), strict=True
    ):
        out[f"stat.{name}"] = box
        _text_pair(box, f"stat.{name}", out)
    out["cue"] = cue
    pad = round(cue.height * 0.12)
    icon_d = cue.height - 2 * pad
    out["cue.icon"] = Rect(cue.left + pad, cue.top + pad, icon_d, icon_d)
    out["cue.text"] = Rect(
        cue.left + icon_d + 3 * pad, cue.top + pad, cue.width - icon_d - 4 * pad, icon_d
    )
    out["lights"] = lights
    _light_rows(lights, round(gap * 0.6), out)
    if live_box is not None:
        out["live"] = live_box
    if meter_box is not None:
        out["meter"] = meter_box
        head, track, ends = rows(inset(meter_box, u * 1.2, u * 0.8), (0.36, 0.36, 0.28), 0)
        out["meter.label"], out["meter.value"] = cols(head, (0.45, 0.55), gap)
        out["meter.track"] = inset(track, 0, track.height * 0.1)
        out["meter.hard"], _mid, out["meter.soft"] = cols(ends, (0.4, 0.2, 0.4), 0)
    return out


@_cached(maxsize=32)
def idle(width: int, height: int, banner: bool, notice: bool) -> Layout:
    out = frame(width, height, banner, notice)
    c = out["content"]
    u = unit(width, height)
    gap = round(u * 2)
    if width >= height:
        figure, right = cols(c, (0.36, 0.64), gap * 2)
        headline, subline, title, forms = rows(right, (0.2, 0.09, 0.08, 0.63), gap)
    else:
        headline, subline, figure, title, forms = rows(c, (0.1, 0.045, 0.37, 0.04, 0.445), gap)
    out.update(figure=figure, headline=headline, subline=subline)
    out["forms.title"] = title
    out["forms"] = forms
    _light_rows(forms, round(gap * 0.5), out, prefix="form")
    return out


@_cached(maxsize=32)
def calibrating(width: int, height: int, banner: bool, notice: bool) -> Layout:
    out = frame(width, height, banner, notice)
    c = out["content"]
    u = unit(width, height)
    message, dial, hint = rows(c, (0.2, 0.68, 0.12), round(u * 2))
    out["message"] = message
    side = min(dial.width, dial.height)
    out["dial"] = Rect(0, 0, side, side)
    out["dial"].center = dial.center
    out["countdown"] = inset(out["dial"], side * 0.25, side * 0.28)
    out["hint"] = hint
    return out


@_cached(maxsize=32)
def summary(width: int, height: int, banner: bool, notice: bool, qr: bool = False) -> Layout:
    """With `qr` the tip row makes room for the take-home QR code (a square as tall as the
    row, the tallest it can be) and its caption."""
    out = frame(width, height, banner, notice)
    c = out["content"]
    u = unit(width, height)
    gap = round(u * 2)
    if width >= height:
        header, body, tip = rows(c, (0.11, 0.58, 0.31) if qr else (0.11, 0.66, 0.23), gap)
        left, right = cols(body, (0.4, 0.6), gap * 2)
        total, grid = rows(left, (0.48, 0.52), gap)
        chart, faults = rows(right, (0.5, 0.5), gap)
    else:
        if qr:  # the code gets a row of its own under the tip, the caption beside it
            parts = rows(c, (0.05, 0.12, 0.14, 0.17, 0.2, 0.13, 0.19), gap)
            header, total, grid, chart, faults, tip, code_row = parts
            side = code_row.height
            out["qr"] = Rect(code_row.right - side, code_row.top, side, side)
            out["qr.caption"] = Rect(code_row.left, code_row.top, code_row.width - side - gap, side)
        else:
            parts = rows(c, (0.06, 0.15, 0.17, 0.22, 0.24, 0.16), gap)
            header, total, grid, chart, faults, tip = parts
    out["title"], out["returns"] = cols(header, (0.6, 0.4), gap)
    out["total"] = total
    _text_pair(total, "total", out, 0.75)
    top, bottom = rows(grid, (1, 1), gap)
    boxes = [*cols(top, (1, 1), gap), *cols(bottom, (1, 1), gap)]
    for name, box in zip(("duration", "best_streak", "avg", "peak"), boxes, strict=True):
        out[f"fig.{name}"] = box
        _text_pair(box, f"fig.{name}", out, 0.62)
    out["chart"] = chart
    chart_title, plot, xaxis = rows(inset(chart, u * 1.2), (0.16, 0.72, 0.12), round(u * 0.5))
    out["chart.title"] = chart_title
    axis_w = round(plot.width * 0.12)
    out["chart.axis"] = Rect(plot.left, plot.top, axis_w, plot.height)
    out["chart.plot"] = Rect(plot.left + axis_w, plot.top, plot.width - axis_w, plot.height)
    out["chart.start"], out["chart.end"] = cols(
        Rect(plot.left + axis_w, xaxis.top, plot.width - axis_w, xaxis.height), (1, 1), 0
    )
    out["faults"] = faults
    faults_title, fault_rows = rows(inset(faults, u * 1.2), (0.16, 0.84), round(u))
    out["faults.title"] = faults_title
    share_rows = rows(fault_rows, [1] * len(FAULTS), round(u * 0.6))
    for fault, row in zip(FAULTS, share_rows, strict=True):
        name_box, bar, pct = cols(row, (0.3, 0.5, 0.2), gap)
        out[f"share.{fault}.name"] = name_box
        out[f"share.{fault}.bar"] = inset(bar, 0, row.height * 0.15)
        out[f"share.{fault}.pct"] = pct
    if qr and width >= height:
        side = tip.height
        caption_w = round(min(tip.width * 0.16, side * 0.8))
        tip = Rect(tip.left, tip.top, tip.width - side - caption_w - 2 * gap, tip.height)
        out["qr.caption"] = Rect(tip.right + gap, tip.top, caption_w, tip.height)
        out["qr"] = Rect(out["qr.caption"].right + gap, tip.top, side, side)
    out["tip"] = tip
    tip_in = inset(tip, u * 1.5, u * 1.0)
    out["tip.title"], out["tip.text"] = rows(tip_in, (0.26, 0.74), 0)
    return out
