"""Colours, fonts and light glyphs, with the caches that keep a frame cheap.

Palette: the Okabe–Ito colours, chosen to stay distinct for the common forms of colour
blindness; on top of that every light state has its own *shape* and symbol, so the lights read
correctly in greyscale too:

======== ================= ====================== =========
state    colour            shape                  symbol
======== ================= ====================== =========
ok       bluish green      filled circle          check
warn     orange            filled triangle (▲)    !
fault    vermillion        filled square          X
unknown  grey              hollow ring            ?
======== ================= ====================== =========
"""

from __future__ import annotations

import math
from collections import OrderedDict

import pygame

from station.events import LightState

Colour = tuple[int, int, int]

BACKGROUND: Colour = (14, 18, 26)
PANEL: Colour = (30, 36, 48)
PANEL_EDGE: Colour = (52, 60, 76)
TEXT: Colour = (246, 246, 246)
TEXT_DIM: Colour = (178, 186, 198)
COUNT: Colour = (255, 255, 255)
BANNER_BG: Colour = (240, 228, 66)  # Okabe–Ito yellow, dark text on it
BANNER_TEXT: Colour = (20, 20, 20)
NOTICE: Colour = (150, 158, 172)
SKY: Colour = (86, 180, 233)  # Okabe–Ito sky blue: charts, the soft end of the meter

STATE_COLOUR: dict[LightState, Colour] = {
    "ok": (0, 158, 115),
    "warn": (230, 159, 0),
    "fault": (213, 94, 0),
    "unknown": (118, 124, 136),
}
STATE_SYMBOL_COLOUR: dict[LightState, Colour] = {
    "ok": (255, 255, 255),
    "warn": (20, 20, 20),
    "fault": (255, 255, 255),
    "unknown": (200, 204, 212),
}
STATE_WORD: dict[LightState, str] = {"ok": "OK", "warn": "CHECK", "fault": "FIX", "unknown": "--"}
STATE_ROW: dict[LightState, Colour] = {
    "ok": (24, 44, 42),
    "warn": (62, 48, 18),
    "fault": (78, 36, 14),
    "unknown": (30, 34, 44),
}

SUPERSAMPLE = 4
"""Glyphs are drawn this many times larger and smoothly scaled down: anti-aliased edges."""

TEXT_CACHE_SIZE = 512


class Fonts:
    """One TrueType face (pygame's bundled FreeSans Bold: present on every install, bold reads
    best from a distance) at any size, with rendered-text and fitted-size caches."""

    def __init__(self, path: str | None = None) -> None:
        self._path = path
        self._fonts: dict[int, pygame.font.Font] = {}
        self._texts: OrderedDict[tuple[str, int, Colour, Colour | None], pygame.Surface] = (
            OrderedDict()
        )
        self._fits: dict[tuple[str, int, int, int], int] = {}
        self._wraps: dict[tuple[str, int, int, int, int], tuple[int, tuple[str, ...]]] = {}

    def font(self, px: int) -> pygame.font.Font:
        font = self._fonts.get(px)
        if font is None:
            font = self._fonts[px] = pygame.font.Font(self._path, px)
        return font

    def size(self, text: str, px: int) -> tuple[int, int]:
        """The size of `text` as rendered: SDL_ttf's size() can be a few pixels shorter than
        the surface render() makes (the line height), so take the larger."""
        font = self.font(px)
        w, h = font.size(text)
        return w, max(h, font.get_linesize())

    def render(
        self, text: str, px: int, colour: Colour, bg: Colour | None = None
    ) -> pygame.Surface:
        """`text` rendered anti-aliased; on an opaque `bg` when the caller knows what lies
        under it (an opaque blit is a copy, several times cheaper than blending alpha)."""
        key = (text, px, colour, bg)
        surf = self._texts.get(key)
        if surf is not None:
            self._texts.move_to_end(key)
            return surf
        font = self.font(px)
        surf = font.render(text, True, colour, bg) if bg else font.render(text, True, colour)
        self._texts[key] = surf
        if len(self._texts) > TEXT_CACHE_SIZE:
            self._texts.popitem(last=False)
        return surf

    def fit(self, text: str, width: int, height: int, max_px: int) -> int:
        """The largest size ≤ max_px at which `text` fits width×height (at least 4)."""
        key = (text, width, height, max_px)
        px = self._fits.get(key)
        if px is None:
            lo, hi = 4, max(4, max_px)
            while lo < hi:
                mid = (lo + hi + 1) // 2
                w, h = self.size(text, mid)
                if w <= width and h <= height:
                    lo = mid
                else:
                    hi = mid - 1
            px = self._fits[key] = lo
        return px

    def wrap(
        self, text: str, width: int, height: int, max_px: int, max_lines: int
    ) -> tuple[int, tuple[str, ...]]:
        """The largest size ≤ max_px at which `text`, word-wrapped into at most `max_lines`
        lines, fits width×height; returns (size, lines)."""
        key = (text, width, height, max_px, max_lines)
        hit = self._wraps.get(key)
        if hit is not None:
            return hit
        px = max(4, max_px)
        while True:
            lines = self._greedy_wrap(text, width, px)
            line_h = self.font(px).get_linesize()
            if px <= 4 or (
                len(lines) <= max_lines
                and line_h * len(lines) <= height
                and all(self.size(line, px)[0] <= width for line in lines)
            ):
                break
            px = max(4, int(px * 0.94))
        lines = self._balance(text, lines, width, px)
        self._wraps[key] = (px, lines)
        return px, lines

    def _balance(self, text: str, lines: tuple[str, ...], width: int, px: int) -> tuple[str, ...]:
        """The same number of lines, as even as possible ("Good form -" / "keep going!" rather
        than "Good form - keep" / "going!"): the narrowest width that still wraps into as many
        lines."""
        if len(lines) < 2:
            return lines
        lo = max(self.size(word, px)[0] for word in text.split())
        hi = width
        while lo < hi:
            mid = (lo + hi) // 2
            if len(self._greedy_wrap(text, mid, px)) <= len(lines):
                hi = mid
            else:
                lo = mid + 1
        return self._greedy_wrap(text, lo, px)

    def _greedy_wrap(self, text: str, width: int, px: int) -> tuple[str, ...]:
        lines: list[str] = []
        current = ""
        for word in text.split():
            trial = f"{current} {word}" if current else word
            if current and self.size(trial, px)[0] > width:
                lines.append(current)
                current = word
            else:
                current = trial
        if current:
            lines.append(current)
        return tuple(lines)


class Glyphs:
    """Light glyphs per (state, diameter), drawn once and reused."""

    def __init__(self, fonts: Fonts) -> None:
        self._fonts = fonts
        self._cache: dict[tuple[LightState, int], pygame.Surface] = {}

    def light(self, state: LightState, diameter: int) -> pygame.Surface:
        key = (state, diameter)
        surf = self._cache.get(key)
        if surf is None:
            surf = self._cache[key] = self._draw(state, max(8, diameter))
        return surf

    def _draw(self, state: LightState, d: int) -> pygame.Surface:
        big = d * SUPERSAMPLE
        s = pygame.Surface((big, big), pygame.SRCALPHA)
        colour = STATE_COLOUR[state]
        sym = STATE_SYMBOL_COLOUR[state]
        c = big / 2
        r = big / 2 - SUPERSAMPLE
        stroke = max(2, round(big * 0.11))
        if state == "ok":
            pygame.draw.circle(s, colour, (c, c), r)
            pts = [
                (c - 0.45 * r, c + 0.02 * r),
                (c - 0.12 * r, c + 0.36 * r),
                (c + 0.5 * r, c - 0.34 * r),
            ]
            pygame.draw.lines(s, sym, False, pts, stroke)
            for p in pts:
                pygame.draw.circle(s, sym, p, stroke / 2)
        elif state == "warn":
            tri = [(c, c - r), (c + r * 1.0, c + r * 0.86), (c - r * 1.0, c + r * 0.86)]
            pygame.draw.polygon(s, colour, tri)
            bar_w = stroke
            pygame.draw.rect(
                s, sym, (c - bar_w / 2, c - 0.42 * r, bar_w, 0.78 * r), border_radius=int(bar_w / 3)
            )
            pygame.draw.circle(s, sym, (c, c + 0.58 * r), bar_w * 0.62)
        elif state == "fault":
            side = r * 1.8
            pygame.draw.rect(
                s, colour, (c - side / 2, c - side / 2, side, side), border_radius=int(r * 0.12)
            )
            k = 0.42 * r
            for a, b in (((c - k, c - k), (c + k, c + k)), ((c - k, c + k), (c + k, c - k))):
                pygame.draw.line(s, sym, a, b, stroke)
                pygame.draw.circle(s, sym, a, stroke / 2)
                pygame.draw.circle(s, sym, b, stroke / 2)
        else:
            pygame.draw.circle(s, colour, (c, c), r, width=max(2, round(r * 0.2)))
            q = self._fonts.render("?", self._fonts.fit("?", int(r), int(r * 1.1), big), sym)
            s.blit(q, q.get_rect(center=(c, c + r * 0.04)))
        return pygame.transform.smoothscale(s, (d, d))


def gradient_bar(width: int, height: int, left: Colour, right: Colour) -> pygame.Surface:
    """A horizontal colour ramp (the landing meter's track)."""
    surf = pygame.Surface((max(1, width), max(1, height)))
    for x in range(max(1, width)):
        f = x / max(1, width - 1)
        col = tuple(round(a + (b - a) * f) for a, b in zip(left, right, strict=True))
        pygame.draw.line(surf, col, (x, 0), (x, height))
    return surf


def ring_points(
    cx: float, cy: float, r: float, start: float, frac: float
) -> list[tuple[float, float]]:
    """Points along an arc from angle `start` (radians, 0 = up, clockwise) covering `frac` of a
    full turn; for the calibration countdown ring."""
    n = max(2, int(96 * frac) + 1)
    return [
        (cx + r * math.sin(start + 2 * math.pi * frac * i / (n - 1)),
         cy - r * math.cos(start + 2 * math.pi * frac * i / (n - 1)))
        for i in range(n)
    ]  # fmt: skip
