"""The renderer: draws a :class:`~station.display.viewmodel.ViewModel` onto a pygame Surface.

It holds no session logic: what to show comes from the view model, where to show it from
:mod:`station.display.layout`. What it does keep are caches: fonts and rendered text
(:class:`~station.display.theme.Fonts`), light glyphs, and one *static layer* per screen
(background, panels, fixed labels, banners), so a frame is one big blit plus the few things
that change. It works on any Surface, a window's or an off-screen one (screenshots, tests).

:meth:`Renderer.render` returns a :class:`FrameReport` listing every text it drew with the box
the layout gave it and the rectangle it actually covered, and every light glyph with its
state: the evidence tests use to prove the screen holds what it should.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pygame
from pygame import Rect

from station.display import layout as L
from station.display import theme as T
from station.display.cues import CUES, GOOD_SESSION_TIP
from station.display.viewmodel import (
    ActiveView,
    CalibratingView,
    IdleView,
    LiveView,
    QrModules,
    SummaryView,
    ViewModel,
)
from station.events import FAULT_NAMES, FAULTS, LANDMARK, LightState
from station.faults import registry

Align = Literal["center", "left", "right"]

TAKE_HOME_CAPTION = "Scan to take this session home"
NEXT_UP = "Next member: start jumping to begin"
"""The summary's footer while someone is on the mat for a new session (it counts from their
first jump, which replaces the summary)."""


def segments() -> tuple[tuple[str, str, str], ...]:
    """Skeleton segments of the live view, (landmark, landmark, fault): each is coloured by the
    light of the fault it shows (each fault's spec lists its segments)."""
    return tuple((a, b, s.name) for s in registry.specs() for a, b in s.segments)


VISIBLE = 0.5
"""Landmarks less visible than this are not drawn (MediaPipe's own visibility score)."""

STATIC_CACHE_SIZE = 6


@dataclass(frozen=True)
class TextPlacement:
    """A text the renderer drew: the box the layout gave it and the rect it covered."""

    name: str
    text: str
    box: Rect
    rect: Rect
    px: int
    colour: T.Colour = T.TEXT


@dataclass(frozen=True)
class IconPlacement:
    """A light glyph the renderer drew (`name` e.g. "light.back") and the state it shows."""

    name: str
    state: LightState
    rect: Rect


@dataclass
class FrameReport:
    screen: str
    size: tuple[int, int]
    layout: L.Layout
    texts: list[TextPlacement] = field(default_factory=list)
    icons: list[IconPlacement] = field(default_factory=list)

    def text(self, name: str) -> TextPlacement:
        for placement in self.texts:
            if placement.name == name:
                return placement
        raise KeyError(name)


def screen_name(vm: ViewModel) -> str:
    return {
        IdleView: "idle",
        CalibratingView: "calibrating",
        ActiveView: "active",
        SummaryView: "summary",
    }[type(vm.screen)]


def format_duration(seconds: float) -> str:
    s = max(0, int(seconds))
    return (
        f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )


class _Painter:
    """Draws texts and glyphs onto one target, recording where they went."""

    def __init__(self, renderer: Renderer, target: pygame.Surface, report: FrameReport) -> None:
        self.r = renderer
        self.target = target
        self.report = report

    def text(
        self,
        name: str,
        text: str,
        box: Rect,
        colour: T.Colour = T.TEXT,
        align: Align = "center",
        template: str | None = None,
        max_px: int | None = None,
        bg: T.Colour | None = None,
    ) -> Rect:
        fonts = self.r.fonts
        limit = max_px or box.height * 2
        px = fonts.fit(template or text, box.width, box.height, limit)
        if template and fonts.size(text, px)[0] > box.width:
            px = fonts.fit(text, box.width, box.height, limit)
        surf = fonts.render(text, px, colour, bg)
        rect = surf.get_rect()
        if align == "left":
            rect.midleft = box.midleft
        elif align == "right":
            rect.midright = box.midright
        else:
            rect.center = box.center
        self.target.blit(surf, rect)
        self.report.texts.append(TextPlacement(name, text, box, rect, px, colour))
        return rect

    def paragraph(
        self,
        name: str,
        text: str,
        box: Rect,
        max_lines: int,
        colour: T.Colour = T.TEXT,
        bg: T.Colour | None = None,
        max_px: int | None = None,
    ) -> None:
        fonts = self.r.fonts
        px, lines = fonts.wrap(text, box.width, box.height, max_px or box.height, max_lines)
        line_h = fonts.font(px).get_linesize()
        y = box.centery - line_h * len(lines) // 2
        for i, line in enumerate(lines):
            surf = fonts.render(line, px, colour, bg)
            rect = surf.get_rect(left=box.left, top=y + i * line_h)
            self.target.blit(surf, rect)
            self.report.texts.append(TextPlacement(f"{name}.{i}", line, box, rect, px, colour))

    def glyph(self, name: str, state: LightState, box: Rect) -> None:
        d = min(box.width, box.height)
        surf = self.r.glyphs.light(state, d)
        rect = surf.get_rect(center=box.center)
        self.target.blit(surf, rect)
        self.report.icons.append(IconPlacement(name, state, rect))

    def panel(self, box: Rect, colour: T.Colour = T.PANEL, edge: T.Colour | None = None) -> None:
        """A rounded panel on the screen's background, drawn once per (size, colours) and
        then copied."""
        key = (box.size, colour, edge)
        surf = self.r._panels.get(key)
        if surf is None:
            if len(self.r._panels) > 256:
                self.r._panels.clear()
            surf = self.r._panels[key] = pygame.Surface(box.size)
            surf.fill(T.BACKGROUND)
            local = Rect((0, 0), box.size)
            radius = max(2, round(min(box.width, box.height) * 0.08))
            pygame.draw.rect(surf, colour, local, border_radius=radius)
            if edge is not None:
                width = max(2, round(min(box.width, box.height) * 0.025))
                pygame.draw.rect(surf, edge, local, width=width, border_radius=radius)
        self.target.blit(surf, box)


@dataclass
class _Static:
    surface: pygame.Surface
    texts: list[TextPlacement]
    icons: list[IconPlacement]


class Renderer:
    """Draws view models. One instance per display; not thread-safe (one UI thread)."""

    def __init__(self, font_path: str | None = None) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self.fonts = T.Fonts(font_path)
        self.glyphs = T.Glyphs(self.fonts)
        self._static: OrderedDict[tuple[object, ...], _Static] = OrderedDict()
        self._gradients: dict[tuple[int, int], pygame.Surface] = {}
        self._count_fits: dict[tuple[str, int, int], tuple[int, int, int]] = {}
        self._panels: dict[tuple[tuple[int, int], T.Colour, T.Colour | None], pygame.Surface] = {}

    # --- entry point -----------------------------------------------------------------------

    def render(self, surface: pygame.Surface, vm: ViewModel) -> FrameReport:
        w, h = surface.get_size()
        banner, notice = bool(vm.banners), vm.config_notice is not None
        screen = vm.screen
        if isinstance(screen, ActiveView):
            lay = L.active(
                w, h, banner, notice, screen.live is not None, screen.landing is not None
            )
            static_key: tuple[object, ...] = ("active", vm.count_source, tuple(sorted(lay)))
            draw_static: Callable[[_Painter, L.Layout], None] = self._active_static
        elif isinstance(screen, IdleView):
            lay = L.idle(w, h, banner, notice)
            static_key = ("idle", screen.headline, screen.subline)
            draw_static = self._idle_static
        elif isinstance(screen, CalibratingView):
            lay = L.calibrating(w, h, banner, notice)
            static_key = ("calibrating", screen.message)
            draw_static = self._calibrating_static
        else:
            lay = L.summary(w, h, banner, notice, screen.take_home is not None)
            # A summary does not change while it is shown, apart from its countdown: all of it
            # but the countdown is one static layer.
            static_key = ("summary", vm.count_source, replace(screen, returns_in_s=None))
            summary = screen

            def draw_static(p: _Painter, lay: L.Layout) -> None:
                self._summary_static(p, lay)
                self._summary_body(p, lay, summary, vm)
                if summary.take_home is not None:
                    self._take_home(p, lay, summary.take_home)

        report = FrameReport(screen_name(vm), (w, h), lay)
        key = (*static_key, w, h, vm.banners, vm.config_notice, registry.version())
        static = self._static.get(key)
        if static is None:
            static = self._build_static(vm, lay, draw_static, (w, h))
            self._static[key] = static
            if len(self._static) > STATIC_CACHE_SIZE:
                self._static.popitem(last=False)
        else:
            self._static.move_to_end(key)
        surface.blit(static.surface, (0, 0))
        report.texts.extend(static.texts)
        report.icons.extend(static.icons)
        painter = _Painter(self, surface, report)
        if isinstance(screen, ActiveView):
            self._active(painter, lay, screen, vm)
        elif isinstance(screen, IdleView):
            self._idle(painter, lay, screen)
        elif isinstance(screen, CalibratingView):
            self._calibrating(painter, lay, screen)
        else:
            self._summary(painter, lay, screen)
        return report

    def render_offscreen(
        self, vm: ViewModel, size: tuple[int, int]
    ) -> tuple[pygame.Surface, FrameReport]:
        """Render to a new Surface (screenshots, tests, benchmarks); needs no display."""
        surface = pygame.Surface(size)
        return surface, self.render(surface, vm)

    def _build_static(
        self,
        vm: ViewModel,
        lay: L.Layout,
        draw: Callable[[_Painter, L.Layout], None],
        size: tuple[int, int],
    ) -> _Static:
        surface = pygame.Surface(size)
        surface.fill(T.BACKGROUND)
        report = FrameReport(screen_name(vm), size, lay)
        p = _Painter(self, surface, report)
        self._chrome(p, lay, vm)
        draw(p, lay)
        return _Static(surface, report.texts, report.icons)

    # --- shared chrome: banners and the trainer notice ----------------------------------------

    def _chrome(self, p: _Painter, lay: L.Layout, vm: ViewModel) -> None:
        if vm.banners:
            strip = lay["banner"]
            pygame.draw.rect(p.target, T.BANNER_BG, strip)
            cells = L.cols(strip, [1] * len(vm.banners), 0)
            for i, (banner, cell) in enumerate(zip(vm.banners, cells, strict=True)):
                inner = L.inset(cell, strip.height * 0.3, strip.height * 0.07)
                if i:
                    pygame.draw.line(p.target, T.BANNER_TEXT, cell.topleft, cell.bottomleft, 3)
                if banner.detail:
                    title, detail = L.rows(inner, (0.58, 0.42), 0)
                    p.text(f"banner.{i}.title", banner.title, title, T.BANNER_TEXT, "left")
                    p.text(f"banner.{i}.detail", banner.detail, detail, T.BANNER_TEXT, "left")
                else:
                    p.text(f"banner.{i}.title", banner.title, inner, T.BANNER_TEXT, "left")
        if vm.config_notice is not None:
            p.text("notice", f"Trainer: {vm.config_notice}", lay["notice"], T.NOTICE, "left")

    # --- active ------------------------------------------------------------------------------

    def _active_static(self, p: _Painter, lay: L.Layout) -> None:
        for name in ("stat.cadence", "stat.elapsed", "stat.streak", "cue"):
            p.panel(lay[name])
        labels = {"cadence": "PER MIN", "elapsed": "TIME", "streak": "STREAK"}
        for name, label in labels.items():
            p.text(f"stat.{name}.label", label, lay[f"stat.{name}.label"], T.TEXT_DIM)
        if "meter" in lay:
            p.panel(lay["meter"])
            p.text("meter.label", "LANDING", lay["meter.label"], T.TEXT_DIM, "left")
            p.text("meter.hard", "HARD", lay["meter.hard"], T.STATE_COLOUR["fault"], "left")
            p.text("meter.soft", "SOFT", lay["meter.soft"], T.SKY, "right")
            track = lay["meter.track"]
            p.target.blit(self._gradient(track.width, track.height), track)
        if "live" in lay:
            p.panel(lay["live"])

    def _active(self, p: _Painter, lay: L.Layout, view: ActiveView, vm: ViewModel) -> None:
        self._count(p, view.count, lay["count"])
        label = "JUMPS" if vm.count_source == "mat" else "JUMPS - counted by camera"
        p.text("count.label", label, lay["count.label"], T.TEXT_DIM, bg=T.BACKGROUND)
        cadence = "--" if view.cadence_per_min is None else f"{view.cadence_per_min:.0f}"
        values = {
            "cadence": (cadence, "888"),
            "elapsed": (format_duration(view.elapsed_s), "88:88"),
            "streak": (str(view.streak), "888"),
        }
        for name, (value, template) in values.items():
            box = lay[f"stat.{name}.value"]
            p.text(f"stat.{name}.value", value, box, template=template, bg=T.PANEL)
        for light in view.lights:
            row = lay[f"light.{light.fault}"]
            p.panel(row, T.STATE_ROW[light.state])
            p.text(
                f"light.{light.fault}.name",
                FAULT_NAMES[light.fault],
                lay[f"light.{light.fault}.name"],
                T.TEXT,
                "left",
                template="Shoulders",
                bg=T.STATE_ROW[light.state],
            )
            p.glyph(f"light.{light.fault}", light.state, lay[f"light.{light.fault}.icon"])
            word_box = lay[f"light.{light.fault}.state"]
            p.text(
                f"light.{light.fault}.state",
                T.STATE_WORD[light.state],
                word_box,
                T.STATE_COLOUR[light.state] if light.state != "unknown" else T.TEXT_DIM,
                "right",
                template="CHECK",
                bg=T.STATE_ROW[light.state],
            )
        self._cue(p, lay, view)
        if view.landing is not None and "meter" in lay:
            self._meter(p, lay, view.landing.softness, view.landing.peak_bw)
        if view.live is not None and "live" in lay:
            self._live(p, lay["live"], view.live, {x.fault: x.state for x in view.lights})

    def _count(
        self, p: _Painter, count: int, box: Rect, name: str = "count", template_len: int = 3
    ) -> None:
        """The count, composed from cached per-digit glyphs (every digit has the same advance
        in FreeSans), so a new count costs a few small blits rather than a huge text render.
        Sized by the digits' ink, not the font's line height, so it fills its box."""
        digits = str(count)
        template = "8" * max(template_len, len(digits))
        px, ink_top, ink_h = self._count_metrics(template, box.width, box.height)
        # Opaque on the background (the count sits on it) and cropped to the ink rows.
        surfs = [self.fonts.render(d, px, T.COUNT, T.BACKGROUND) for d in digits]
        width = sum(s.get_width() for s in surfs)
        top = box.centery - ink_h // 2 - ink_top
        x = box.centerx - width // 2
        for s in surfs:
            p.target.blit(s, (x, top + ink_top), Rect(0, ink_top, s.get_width(), ink_h))
            x += s.get_width()
        ink = Rect(box.centerx - width // 2, top + ink_top, width, ink_h)
        p.report.texts.append(TextPlacement(name, digits, box, ink, px, T.COUNT))

    def _count_metrics(self, template: str, width: int, height: int) -> tuple[int, int, int]:
        """(font size, ink top offset, ink height) at which `template`'s digits fill
        width×height by their ink."""
        key = (template, width, height)
        hit = self._count_fits.get(key)
        if hit is None:
            ref_px = 200
            ref = self.fonts.font(ref_px).render("8", True, T.COUNT).get_bounding_rect()
            ratio = ref.height / self.fonts.size("8", ref_px)[1]
            px = self.fonts.fit(template, width, round(height / ratio), height * 3)
            ink = self.fonts.render("8", px, T.COUNT).get_bounding_rect()
            while ink.height > height and px > 4:  # rounding: never overflow the box
                px -= 1
                ink = self.fonts.render("8", px, T.COUNT).get_bounding_rect()
            hit = self._count_fits[key] = (px, ink.top, ink.height)
        return hit

    def _cue(self, p: _Painter, lay: L.Layout, view: ActiveView) -> None:
        box = lay["cue"]
        if view.cue is None:
            # No cue: praise form only when all five lights were judged ok; with any light
            # unknown (camera off, or not judged yet) just encourage.
            judged = all(x.state == "ok" for x in view.lights)
            p.panel(box, T.PANEL, T.STATE_COLOUR["ok"] if judged else T.PANEL_EDGE)
            p.glyph("cue", "ok" if judged else "unknown", lay["cue.icon"])
            text = "Good form - keep going!" if judged else "Keep jumping!"
            p.paragraph("cue.text", text, lay["cue.text"], 2, bg=T.PANEL)
            return
        light = next((x.state for x in view.lights if x.fault == view.cue.fault), "warn")
        state: LightState = "fault" if light == "fault" else "warn"
        p.panel(box, T.PANEL, T.STATE_COLOUR[state])
        p.glyph("cue", state, lay["cue.icon"])
        p.paragraph("cue.text", view.cue.text, lay["cue.text"], 2, bg=T.PANEL)

    def _meter(
        self, p: _Painter, lay: L.Layout, softness: float | None, peak: float | None
    ) -> None:
        value = "--" if peak is None else f"{peak:.1f}× body wt"
        p.text("meter.value", value, lay["meter.value"], T.TEXT, "right", template="8.8× body wt")
        if softness is None:
            return
        track = lay["meter.track"]
        x = track.left + round(softness * (track.width - 1))
        w = max(4, round(track.height * 0.22))
        marker = Rect(0, 0, w, round(track.height * 1.5))
        marker.center = (x, track.centery)
        marker.clamp_ip(track.inflate(0, track.height))
        pygame.draw.rect(p.target, T.TEXT, marker.inflate(4, 4), border_radius=3)
        pygame.draw.rect(p.target, T.BACKGROUND, marker, border_radius=2)

    def _gradient(self, w: int, h: int) -> pygame.Surface:
        surf = self._gradients.get((w, h))
        if surf is None:
            surf = self._gradients[(w, h)] = T.gradient_bar(w, h, T.STATE_COLOUR["fault"], T.SKY)
        return surf

    def _live(self, p: _Painter, box: Rect, live: LiveView, states: dict[str, LightState]) -> None:
        img = live.image
        ih, iw = img.shape[:2]
        inner = L.inset(box, min(box.width, box.height) * 0.03)
        scale = min(inner.width / iw, inner.height / ih)
        size = (max(1, round(iw * scale)), max(1, round(ih * scale)))
        raw = pygame.image.frombuffer(np.ascontiguousarray(img).tobytes(), (iw, ih), "RGB")
        frame = pygame.transform.flip(pygame.transform.scale(raw, size), True, False)
        dest = frame.get_rect(center=inner.center)
        p.target.blit(frame, dest)
        if live.landmarks is None:
            return
        lm = live.landmarks
        width = max(2, round(min(size) * 0.02))

        def point(name: str) -> tuple[float, float] | None:
            x, y, _z, vis = lm[LANDMARK[name]]
            if vis < VISIBLE:
                return None
            return (dest.left + (1.0 - x) * size[0], dest.top + y * size[1])  # mirrored

        p.target.set_clip(dest)  # landmarks may lie outside the image: keep lines on it
        for a, b, fault in segments():
            pa, pb = point(a), point(b)
            if pa is None or pb is None:
                continue
            colour = T.STATE_COLOUR[states.get(fault, "unknown")]
            pygame.draw.line(p.target, colour, pa, pb, width)
        p.target.set_clip(None)

    # --- idle --------------------------------------------------------------------------------

    def _idle_static(self, p: _Painter, lay: L.Layout) -> None:
        p.panel(lay["figure"])
        p.text("forms.title", "GOOD FORM", lay["forms.title"], T.TEXT_DIM, "left")
        boxes = {f: lay[f"form.{f}.name"].union(lay[f"form.{f}.state"]) for f in FAULTS}
        # One size for all five cues (the longest decides), so they read as one list; a cue
        # may take two lines where that makes the list larger (narrow, portrait screens).
        px = min(
            self.fonts.wrap(CUES[f], b.width, b.height, round(b.height * 0.8), 2)[0]
            for f, b in boxes.items()
        )
        for fault in FAULTS:
            p.panel(lay[f"form.{fault}"])
            p.glyph(f"form.{fault}", "ok", lay[f"form.{fault}.icon"])
            p.paragraph(f"form.{fault}.text", CUES[fault], boxes[fault], 2, max_px=px)

    def _idle(self, p: _Painter, lay: L.Layout, view: IdleView) -> None:
        p.text("headline", view.headline, lay["headline"], T.TEXT, "left")
        p.text("subline", view.subline, lay["subline"], T.TEXT_DIM, "left")
        self._demo_figure(p.target, lay["figure"], view.demo_phase)

    def _demo_figure(self, target: pygame.Surface, box: Rect, phase: float) -> None:
        """A stick figure skipping with good form: tall, elbows in, eyes ahead, landing on the
        balls of the feet. `phase` 0..1 is one turn of the rope."""
        s = min(box.width / 0.8, box.height / 1.25)  # body height in px
        ground = box.centery + 0.5 * s
        cx = box.centerx
        theta = 2 * math.pi * (phase % 1.0)
        lift = 0.08 * s * max(0.0, math.cos(theta)) ** 2  # airborne as the rope passes under

        def pt(x: float, y: float) -> tuple[float, float]:
            return (cx + x * s, ground - lift - y * s)

        colour = T.STATE_COLOUR["ok"]
        w = max(3, round(s * 0.035))
        hand_y = 0.5
        hands = (pt(-0.19, hand_y), pt(0.19, hand_y))
        vertex_y = hand_y - 0.56 * math.cos(theta)  # rope loop: below the feet .. over the head
        rope_col = T.SKY if math.cos(theta) > 0 else T.PANEL_EDGE
        ctrl = pt(0.0, 2 * vertex_y - hand_y)
        rope = [_bezier(hands[0], ctrl, hands[1], i / 24) for i in range(25)]
        if math.cos(theta) <= 0:  # behind the jumper: drawn first
            pygame.draw.lines(target, rope_col, False, rope, max(2, w // 2))
        pygame.draw.line(
            target, T.PANEL_EDGE, (box.left + s * 0.05, ground), (box.right - s * 0.05, ground), w
        )
        head = pt(0.0, 0.9)
        pygame.draw.circle(target, colour, head, 0.075 * s, w)
        segs = [
            ((0.0, 0.8), (0.0, 0.5)),  # spine: one straight line
            ((-0.11, 0.76), (0.11, 0.76)),  # shoulders level, away from the ears
            ((-0.11, 0.76), (-0.12, 0.6)), ((-0.12, 0.6), (-0.19, hand_y)),  # elbows in
            ((0.11, 0.76), (0.12, 0.6)), ((0.12, 0.6), (0.19, hand_y)),
            ((-0.07, 0.5), (0.07, 0.5)),
            ((-0.07, 0.5), (-0.08, 0.26)), ((-0.08, 0.26), (-0.07, 0.05)),
            ((0.07, 0.5), (0.08, 0.26)), ((0.08, 0.26), (0.07, 0.05)),
            ((-0.07, 0.05), (-0.02, 0.0)), ((0.07, 0.05), (0.12, 0.0)),  # on the balls of the feet
        ]  # fmt: skip
        for a, b in segs:
            pygame.draw.line(target, colour, pt(*a), pt(*b), w)
        if math.cos(theta) > 0:
            pygame.draw.lines(target, rope_col, False, rope, max(2, w // 2))

    # --- calibrating -------------------------------------------------------------------------

    def _calibrating_static(self, p: _Painter, lay: L.Layout) -> None:
        p.text("hint", "Capturing your weight and posture", lay["hint"], T.TEXT_DIM)
        dial = lay["dial"]
        width = max(4, round(dial.width * 0.06))
        pygame.draw.circle(p.target, T.PANEL, dial.center, dial.width / 2, width)

    def _calibrating(self, p: _Painter, lay: L.Layout, view: CalibratingView) -> None:
        p.text("message", view.message, lay["message"])
        dial = lay["dial"]
        width = max(4, round(dial.width * 0.06))
        frac = 1.0 - min(1.0, max(0.0, view.seconds_left / max(view.total_s, 1e-9)))
        if frac > 0:
            outer = T.ring_points(dial.centerx, dial.centery, dial.width / 2, 0.0, frac)
            inner = T.ring_points(dial.centerx, dial.centery, dial.width / 2 - width, 0.0, frac)
            pygame.draw.polygon(p.target, T.SKY, outer + inner[::-1])
        seconds = max(0, math.ceil(view.seconds_left))
        self._count(p, seconds, lay["countdown"], "countdown", template_len=1)

    # --- summary -----------------------------------------------------------------------------

    def _summary_static(self, p: _Painter, lay: L.Layout) -> None:
        for name in ("total", "fig.duration", "fig.best_streak", "fig.avg", "fig.peak", "chart",
                     "faults", "tip"):  # fmt: skip
            p.panel(lay[name])
        p.text("title", "Session complete", lay["title"], T.TEXT, "left")
        labels = {
            "duration": "TIME",
            "best_streak": "BEST STREAK",
            "avg": "AVG PER MIN",
            "peak": "PEAK PER MIN",
        }
        for name, label in labels.items():
            p.text(f"fig.{name}.label", label, lay[f"fig.{name}.label"], T.TEXT_DIM,
                   template="PEAK PER MIN")  # fmt: skip
        p.text("chart.title", "CADENCE - jumps per minute", lay["chart.title"], T.TEXT_DIM, "left")
        p.text(
            "faults.title", "TIME SPENT ON EACH MISTAKE", lay["faults.title"], T.TEXT_DIM, "left"
        )
        for fault in FAULTS:
            p.text(f"share.{fault}.name", FAULT_NAMES[fault], lay[f"share.{fault}.name"],
                   T.TEXT, "left", template="Shoulders")  # fmt: skip
            pygame.draw.rect(p.target, T.PANEL_EDGE, lay[f"share.{fault}.bar"], border_radius=3)

    def _summary(self, p: _Painter, lay: L.Layout, view: SummaryView) -> None:
        returns = None
        if view.next_up:
            returns = NEXT_UP
        elif view.returns_in_s is not None:
            returns = f"Back to start in {math.ceil(view.returns_in_s)} s"
        if returns is not None:
            p.text(
                "returns",
                returns,
                lay["returns"],
                T.TEXT if view.next_up else T.TEXT_DIM,
                "right",
                template="Back to start in 88 s",
                bg=T.BACKGROUND,
            )

    def _summary_body(self, p: _Painter, lay: L.Layout, view: SummaryView, vm: ViewModel) -> None:
        p.text("total.value", str(view.total), lay["total.value"], T.COUNT, template="888")
        label = "JUMPS" if vm.count_source == "mat" else "JUMPS (counted by camera)"
        p.text("total.label", label, lay["total.label"], T.TEXT_DIM)
        values = {
            "duration": format_duration(view.duration_s),
            "best_streak": str(view.best_streak),
            "avg": f"{view.cadence_avg_per_min:.0f}",
            "peak": f"{view.cadence_peak_per_min:.0f}",
        }
        for name, value in values.items():
            p.text(f"fig.{name}.value", value, lay[f"fig.{name}.value"], template="88:88")
        self._chart(p, lay, view)
        shares = dict(view.fault_share)
        top = max(FAULTS, key=lambda f: shares.get(f, 0.0))
        for fault in FAULTS:
            share = min(1.0, max(0.0, shares.get(fault, 0.0)))
            bar = lay[f"share.{fault}.bar"]
            if share > 0:
                fill = Rect(bar.left, bar.top, max(3, round(bar.width * share)), bar.height)
                colour = T.STATE_COLOUR["fault"] if fault == top else T.STATE_COLOUR["warn"]
                pygame.draw.rect(p.target, colour, fill, border_radius=3)
            p.text(f"share.{fault}.pct", f"{share * 100:.0f}%", lay[f"share.{fault}.pct"],
                   T.TEXT, "right", template="100%")  # fmt: skip
        tip = view.tip
        title = "ONE THING TO WORK ON" if tip else "NEXT TIME"
        if tip:
            title += f": {FAULT_NAMES.get(tip.fault, tip.fault).upper()}"
        p.text("tip.title", title, lay["tip.title"], T.STATE_COLOUR["warn"] if tip else T.TEXT_DIM,
               "left", template="ONE THING TO WORK ON: SHOULDERS")  # fmt: skip
        p.paragraph("tip.text", tip.text if tip else GOOD_SESSION_TIP, lay["tip.text"], 3)

    def _take_home(self, p: _Painter, lay: L.Layout, modules: QrModules) -> None:
        """The session page's QR code: black on white whatever the theme (readers expect
        dark modules on a light ground), whole pixels per module so no module blurs."""
        box = lay["qr"]
        pygame.draw.rect(p.target, (255, 255, 255), box)
        n = len(modules)
        px = box.width // n
        if px < 1:
            return
        left = box.left + (box.width - px * n) // 2
        top = box.top + (box.height - px * n) // 2
        for y, row in enumerate(modules):
            for x, dark in enumerate(row):
                if dark:
                    p.target.fill((0, 0, 0), Rect(left + x * px, top + y * px, px, px))
        size = p.target.get_size()
        max_px = max(10, round(L.unit(*size) * 6.5))  # about the tip text size, no larger
        p.paragraph("qr.caption", TAKE_HOME_CAPTION, lay["qr.caption"], 4, max_px=max_px)

    def _chart(self, p: _Painter, lay: L.Layout, view: SummaryView) -> None:
        plot, axis = lay["chart.plot"], lay["chart.axis"]
        series = view.cadence_series
        top = max([c for _, c in series] + [60.0]) * 1.1
        step = 50 if top <= 300 else 100
        label_h = max(8, round(plot.height * 0.14))
        for tick in range(0, int(top) + 1, step):
            y = plot.bottom - round(tick / top * plot.height)
            pygame.draw.line(p.target, T.PANEL_EDGE, (plot.left, y), (plot.right, y), 1)
            box = Rect(axis.left, 0, axis.width - 4, label_h)
            box.centery = y
            box.clamp_ip(axis)
            p.text(f"chart.tick.{tick}", str(tick), box, T.TEXT_DIM, "right", template="888")
        p.text("chart.start", "0:00", lay["chart.start"], T.TEXT_DIM, "left", template="88:88")
        end = format_duration(view.duration_s)
        p.text("chart.end", end, lay["chart.end"], T.TEXT_DIM, "right", template="88:88")
        if len(series) < 2:
            return
        t_end = max(series[-1][0], 1e-9)
        pts = [
            (plot.left + t / t_end * (plot.width - 1), plot.bottom - c / top * plot.height)
            for t, c in series
        ]
        pygame.draw.lines(p.target, T.SKY, False, pts, max(2, round(plot.height * 0.02)))


def _bezier(
    a: tuple[float, float], c: tuple[float, float], b: tuple[float, float], t: float
) -> tuple[float, float]:
    u = 1 - t
    return (
        u * u * a[0] + 2 * u * t * c[0] + t * t * b[0],
        u * u * a[1] + 2 * u * t * c[1] + t * t * b[1],
    )
