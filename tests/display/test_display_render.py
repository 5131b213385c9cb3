"""The kiosk screens, rendered off screen under SDL's dummy driver, checked pixel by pixel."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pygame
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pygame import Rect

from station.display import theme as T
from station.display.cues import cue_for, tip_for
from station.display.demo import SCREENS, demo_active, demo_summary, demo_view
from station.display.render import NEXT_UP, FrameReport, Renderer
from station.display.viewmodel import (
    ActiveView,
    CalibratingView,
    IdleView,
    LandingMeter,
    Light,
    SummaryView,
    ViewModel,
    lights_from_states,
)
from station.events import FAULTS, LANDMARK, LIGHT_STATES

SIZES = [(800, 480), (1280, 720), (1920, 1080), (3840, 2160), (480, 800), (1080, 1920)]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    pygame.display.init()
    pygame.font.init()
    return Renderer()


def render(
    renderer: Renderer, vm: ViewModel, size: tuple[int, int]
) -> tuple[np.ndarray, FrameReport]:
    surface, report = renderer.render_offscreen(vm, size)
    return pygame.surfarray.array3d(surface).swapaxes(0, 1).astype(int), report  # [y, x, rgb]


def pixel(img: np.ndarray, x: float, y: float) -> tuple[int, int, int]:
    r, g, b = img[round(y), round(x)]
    return int(r), int(g), int(b)


def near(a: tuple[int, int, int], b: tuple[int, int, int], tol: int = 30) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def share_of_colour(
    img: np.ndarray, rect: Rect, colour: tuple[int, int, int], tol: int = 40
) -> float:
    area = img[rect.top : rect.bottom, rect.left : rect.right]
    close = (np.abs(area - np.array(colour)) <= tol).all(axis=-1)
    return float(close.mean()) if close.size else 0.0


# --- every screen, every size: real text, inside its box, nothing overlapping -----------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", SCREENS)
def test_every_text_is_drawn_inside_its_box(
    renderer: Renderer, screen: str, size: tuple[int, int]
) -> None:
    img, report = render(renderer, demo_view(screen), size)
    whole = Rect(0, 0, *size)
    least = 3 if screen == "calibrating" else 8
    assert len(report.texts) >= least, [t.name for t in report.texts]
    names = [t.name for t in report.texts]
    assert len(names) == len(set(names)), "a text was drawn twice"
    for t in report.texts:
        assert t.text.strip(), t.name
        assert whole.contains(t.box), f"{t.name}: box {t.box} leaves the {size} screen"
        assert t.box.contains(t.rect), f"{t.name} {t.text!r}: {t.rect} spills out of {t.box}"
        # The text really is on screen in its colour (not hidden under a later panel).
        if t.rect.height >= 12:
            assert share_of_colour(img, t.rect, t.colour) > 0.03, f"{t.name} {t.text!r} not visible"
    for a, b in itertools.combinations(report.texts, 2):
        if a.box != b.box:
            assert not a.rect.colliderect(b.rect), f"{a.name} overlaps {b.name}"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_count_is_the_biggest_thing_and_drawn_where_the_layout_says(
    renderer: Renderer, size: tuple[int, int]
) -> None:
    view = demo_active()
    a, report_a = render(renderer, ViewModel(replace(view, count=1234)), size)
    b, _report_b = render(renderer, ViewModel(replace(view, count=5678)), size)
    box = report_a.layout["count"]
    assert report_a.text("count").text == "1234"
    changed = (a != b).any(axis=-1)
    ys, xs = np.nonzero(changed)
    assert len(xs) > 0.01 * box.width * box.height, "the two counts look the same"
    # Everything that changed with the count lies inside the count's box...
    assert box.collidepoint(xs.min(), ys.min()) and box.collidepoint(xs.max(), ys.max())
    # ...and the digits are white ink filling a good part of it.
    ink = report_a.text("count").rect
    assert share_of_colour(a, ink, T.COUNT, tol=10) > 0.2
    assert ink.height > 0.6 * box.height
    others = [t for t in report_a.texts if t.name != "count"]
    assert all(ink.height > 1.5 * t.rect.height for t in others), "something rivals the count"
    assert ink.height >= 0.25 * min(size)


@pytest.mark.parametrize("size", [(800, 480), (1920, 1080), (1080, 1920)], ids=str)
@pytest.mark.parametrize("state", LIGHT_STATES)
def test_each_light_shows_the_colour_and_shape_of_its_state(
    renderer: Renderer, state: str, size: tuple[int, int]
) -> None:
    view = replace(demo_active(), lights=lights_from_states(dict.fromkeys(FAULTS, state)), cue=None)
    img, report = render(renderer, ViewModel(view), size)
    icons = [i for i in report.icons if i.name.startswith("light.")]
    assert [i.name for i in icons] == [f"light.{f}" for f in FAULTS]
    colour = T.STATE_COLOUR[state]  # type: ignore[index]
    for icon in icons:
        assert icon.state == state
        bg = T.STATE_ROW[state]  # type: ignore[index]
        cx, cy, r = icon.rect.centerx, icon.rect.centery, icon.rect.width / 2
        corner_tl = pixel(img, cx - 0.8 * r, cy - 0.8 * r)
        corner_br = pixel(img, cx + 0.8 * r, cy + 0.8 * r)
        if state == "ok":  # filled circle: top filled, square corners empty
            assert near(pixel(img, cx, cy - 0.75 * r), colour)
            assert near(corner_tl, bg) and near(corner_br, bg)
        elif state == "warn":  # triangle: base corners filled, top corners empty
            assert near(pixel(img, cx - 0.5 * r, cy + 0.7 * r), colour)
            assert near(pixel(img, cx + 0.5 * r, cy + 0.7 * r), colour)
            assert near(corner_tl, bg) and near(pixel(img, cx + 0.8 * r, cy - 0.8 * r), bg)
        elif state == "fault":  # square: all four corners filled
            for dx, dy in ((-1, -1), (1, -1), (-1, 1), (1, 1)):
                assert near(pixel(img, cx + 0.7 * r * dx, cy + 0.7 * r * dy), colour)
        else:  # hollow ring: the rim is grey, inside it is the row's background
            assert near(pixel(img, cx, cy - 0.9 * r), colour)
            assert near(pixel(img, cx - 0.6 * r, cy + 0.45 * r), bg)
            assert near(corner_tl, bg)


def test_light_shapes_differ_without_colour(renderer: Renderer) -> None:
    """Colour-blind safety: the four glyphs differ in outline alone (alpha masks), and what
    someone who sees no colour at all sees (luminance on the dark background) differs too."""
    masks, greys = {}, {}
    for state in LIGHT_STATES:
        glyph = renderer.glyphs.light(state, 120)  # type: ignore[arg-type]
        masks[state] = pygame.surfarray.array_alpha(glyph) > 128
        on_bg = pygame.Surface(glyph.get_size())
        on_bg.fill(T.BACKGROUND)
        on_bg.blit(glyph, (0, 0))
        rgb = pygame.surfarray.array3d(on_bg).astype(float)
        greys[state] = rgb @ np.array([0.299, 0.587, 0.114])
    for a, b in itertools.combinations(LIGHT_STATES, 2):
        union = (masks[a] | masks[b]).sum()
        overlap = (masks[a] & masks[b]).sum()
        assert overlap / union < 0.9, f"{a} and {b} glyphs have nearly the same outline"
        differs = np.abs(greys[a] - greys[b]) > 40
        assert differs.mean() > 0.15, f"{a} and {b} glyphs look alike in greyscale"


def test_cue_names_the_worst_fault(renderer: Renderer) -> None:
    view = demo_active()  # back is at fault, shoulders at warn
    _img, report = render(renderer, ViewModel(view), (1920, 1080))
    lines = " ".join(t.text for t in report.texts if t.name.startswith("cue.text"))
    assert lines == "Stand tall: one straight line, head to toe"
    cue_icon = next(i for i in report.icons if i.name == "cue")
    assert cue_icon.state == "fault"


@pytest.mark.parametrize(
    ("states", "text", "glyph"),
    [
        (dict.fromkeys(FAULTS, "ok"), "Good form - keep going!", "ok"),
        ({"landing": "ok"}, "Keep jumping!", "unknown"),  # camera off: form not judged
    ],
)
def test_without_a_cue_praise_only_judged_form(
    renderer: Renderer, states: dict[str, str], text: str, glyph: str
) -> None:
    view = replace(demo_active(), lights=lights_from_states(states), cue=None)  # type: ignore[arg-type]
    _img, report = render(renderer, ViewModel(view), (1280, 720))
    assert " ".join(t.text for t in report.texts if t.name.startswith("cue.text")) == text
    assert next(i for i in report.icons if i.name == "cue").state == glyph


# --- degraded banners ----------------------------------------------------------------------


def test_camera_unavailable_banner_unknown_lights_and_trainer_notice(renderer: Renderer) -> None:
    img, report = render(renderer, demo_view("degraded"), (1280, 720))
    assert report.text("banner.0.title").text == "Camera off"
    assert "counting from the mat" in report.text("banner.0.detail").text
    assert share_of_colour(img, report.layout["banner"], T.BANNER_BG) > 0.5
    states = {i.name: i.state for i in report.icons if i.name.startswith("light.")}
    assert states.pop("light.landing") == "ok"  # the mat still judges landings
    assert set(states.values()) == {"unknown"}
    notice = report.text("notice")
    assert notice.text.startswith("Trainer: config error in mat.sample_rate_hz")
    assert notice.rect.height < 0.05 * 720  # discreet
    assert report.text("count.label").text == "JUMPS"


def test_mat_unavailable_says_the_camera_counts(renderer: Renderer) -> None:
    _img, report = render(renderer, demo_view("degraded-mat"), (800, 480))
    assert report.text("banner.0.title").text == "Mat off"
    assert "camera" in report.text("count.label").text
    assert "meter" not in report.layout


# --- the other screens -------------------------------------------------------------------


def test_calibrating_counts_down(renderer: Renderer) -> None:
    vm = ViewModel(CalibratingView(seconds_left=2.2, total_s=3.0))
    _img, report = render(renderer, vm, (1920, 1080))
    assert report.text("countdown").text == "3"
    assert report.text("message").text == "Stand tall and still"


def test_idle_demo_figure_moves(renderer: Renderer) -> None:
    a, report = render(renderer, ViewModel(IdleView(demo_phase=0.0)), (1280, 720))
    b, _ = render(renderer, ViewModel(IdleView(demo_phase=0.5)), (1280, 720))
    changed = (a != b).any(axis=-1)
    ys, xs = np.nonzero(changed)
    figure = report.layout["figure"]
    assert len(xs) > 100 and figure.collidepoint(xs.min(), ys.min())
    assert figure.collidepoint(xs.max(), ys.max())
    assert report.text("headline").text == "Step onto the mat"


def test_summary_chart_and_fault_share(renderer: Renderer) -> None:
    img, report = render(renderer, ViewModel(demo_summary()), (1920, 1080))
    assert share_of_colour(img, report.layout["chart.plot"], T.SKY) > 0.005
    widths = {}
    for fault in FAULTS:
        bar = report.layout[f"share.{fault}.bar"]
        row = img[bar.centery, bar.left : bar.right]
        filled = (np.abs(row - np.array(T.STATE_COLOUR["fault"])) <= 30).all(axis=-1) | (
            np.abs(row - np.array(T.STATE_COLOUR["warn"])) <= 30
        ).all(axis=-1)
        widths[fault] = filled.sum() / bar.width
    shares = dict(demo_summary().fault_share)
    for fault in FAULTS:
        assert widths[fault] == pytest.approx(shares[fault], abs=0.03)
    assert report.text("share.back.pct").text == "31%"
    assert report.text("tip.title").text == "ONE THING TO WORK ON: BACK"
    assert report.text("returns").text == "Back to start in 12 s"


@pytest.mark.parametrize("size", [(1920, 1080), (800, 480), (1080, 1920)])
def test_summary_with_the_next_member_on_the_mat_invites_them_to_jump(
    renderer: Renderer, size: tuple[int, int]
) -> None:
    # someone stepped on during the summary: it stays up (with its QR code) until their first
    # jump, and its footer tells them so instead of counting down
    view = replace(demo_summary(), returns_in_s=None, next_up=True)
    _, report = render(renderer, ViewModel(view), size)
    footer = report.text("returns")
    assert footer.text == NEXT_UP
    assert footer.box.contains(footer.rect) and footer.colour == T.TEXT


def test_live_view_is_mirrored_and_coloured_by_fault(renderer: Renderer) -> None:
    lights = tuple(Light(f, "fault" if f == "arms" else "ok") for f in FAULTS)
    live_view = demo_active(live=True).live
    assert live_view is not None and live_view.landmarks is not None
    landmarks = live_view.landmarks.copy()
    for name in ("right_elbow", "right_wrist"):  # only the left arm is seen
        landmarks[LANDMARK[name], 3] = 0.0
    live_view = replace(live_view, landmarks=landmarks)
    view = replace(demo_active(), lights=lights, cue=None, live=live_view)
    img, report = render(renderer, ViewModel(view), (1920, 1080))
    live = view.live
    assert live is not None and live.landmarks is not None
    box = report.layout["live"]
    lm = live.landmarks
    elbow, wrist = lm[LANDMARK["left_elbow"]], lm[LANDMARK["left_wrist"]]
    # Where the image is drawn: scaled to fit the box's inset, centred.
    ih, iw = live.image.shape[:2]
    inner = box.inflate(-2 * round(min(box.size) * 0.03), -2 * round(min(box.size) * 0.03))
    scale = min(inner.width / iw, inner.height / ih)
    w, h = round(iw * scale), round(ih * scale)
    left, top = inner.centerx - w // 2, inner.centery - h // 2
    mx, my = (elbow[:2] + wrist[:2]) / 2
    mirrored = (left + (1 - mx) * w, top + my * h)
    straight = (left + mx * w, top + my * h)
    assert near(pixel(img, *mirrored), T.STATE_COLOUR["fault"], 40)
    assert not near(pixel(img, *straight), T.STATE_COLOUR["fault"], 40)


def test_view_model_rejects_bad_snapshots() -> None:
    with pytest.raises(ValueError, match="the faults in order"):
        ActiveView(count=1, elapsed_s=1, streak=1, lights=(Light("back"),))
    with pytest.raises(ValueError, match="softness"):
        LandingMeter(softness=1.5)
    with pytest.raises(ValueError, match="unknown fault"):
        Light("knees")


# --- any values, not just the demo's: texts still fit ----------------------------------------

_states = st.sampled_from(LIGHT_STATES)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    size=st.sampled_from(SIZES),
    count=st.integers(0, 999_999),
    elapsed=st.floats(0, 40_000),
    streak=st.integers(0, 99_999),
    cadence=st.none() | st.floats(0, 400),
    states=st.tuples(_states, _states, _states, _states, _states),
    softness=st.none() | st.floats(0, 1),
    peak=st.none() | st.floats(0, 12),
)
def test_active_texts_fit_for_any_values(
    renderer: Renderer,
    size: tuple[int, int],
    count: int,
    elapsed: float,
    streak: int,
    cadence: float | None,
    states: tuple[str, ...],
    softness: float | None,
    peak: float | None,
) -> None:
    lights = lights_from_states(dict(zip(FAULTS, states, strict=True)))  # type: ignore[arg-type]
    view = ActiveView(
        count=count,
        elapsed_s=elapsed,
        streak=streak,
        cadence_per_min=cadence,
        lights=lights,
        cue=cue_for(lights),
        landing=LandingMeter(softness, peak),
    )
    _img, report = render(renderer, ViewModel(view), size)
    assert report.text("count").text == str(count)
    for t in report.texts:
        assert t.box.contains(t.rect), f"{t.name} {t.text!r} spills out of its box"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    size=st.sampled_from(SIZES),
    total=st.integers(0, 999_999),
    duration=st.floats(0, 40_000),
    cadences=st.lists(st.floats(0, 400), min_size=0, max_size=200),
    shares=st.tuples(*[st.floats(0, 1)] * 5),
    tip=st.sampled_from([None, *FAULTS]),
    returns=st.none() | st.floats(0, 120),
)
def test_summary_texts_fit_for_any_values(
    renderer: Renderer,
    size: tuple[int, int],
    total: int,
    duration: float,
    cadences: list[float],
    shares: tuple[float, ...],
    tip: str | None,
    returns: float | None,
) -> None:
    series = tuple((2.0 * i, c) for i, c in enumerate(cadences))
    view = SummaryView(
        total=total,
        duration_s=duration,
        best_streak=total,
        cadence_avg_per_min=max(cadences, default=0.0),
        cadence_peak_per_min=max(cadences, default=0.0),
        cadence_series=series,
        fault_share=tuple(zip(FAULTS, shares, strict=True)),
        tip=tip_for(tip),
        returns_in_s=returns,
    )
    _img, report = render(renderer, ViewModel(view), size)
    assert report.text("total.value").text == str(total)
    for t in report.texts:
        assert t.box.contains(t.rect), f"{t.name} {t.text!r} spills out of its box"


# Machado, Oliveira & Fernandes (2009) simulation matrices, severity 1, on linear RGB.
CVD = {
    "protanopia": [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ],
    "deuteranopia": [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ],
    "tritanopia": [
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ],
}


def _simulate(matrix: list[list[float]], colour: tuple[int, int, int]) -> np.ndarray:
    c = np.array(colour) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    out = np.clip(np.array(matrix) @ linear, 0, 1)
    return 255 * np.where(out <= 0.0031308, 12.92 * out, 1.055 * out ** (1 / 2.4) - 0.055)


@pytest.mark.parametrize("kind", sorted(CVD))
def test_lights_stay_apart_for_colour_blind_members(renderer: Renderer, kind: str) -> None:
    """Where a colour-vision deficiency makes two state colours look alike, their glyphs must
    differ plainly in shape (less than half their ink shared): e.g. for deuteranopia ok's green
    and unknown's grey come close, and ok is a filled disc while unknown is a hollow ring."""
    masks = {
        s: pygame.surfarray.array_alpha(renderer.glyphs.light(s, 120)) > 128  # type: ignore[arg-type]
        for s in LIGHT_STATES
    }
    for a, b in itertools.combinations(LIGHT_STATES, 2):
        distance = np.linalg.norm(
            _simulate(CVD[kind], T.STATE_COLOUR[a]) - _simulate(CVD[kind], T.STATE_COLOUR[b])  # type: ignore[index]
        )
        iou = (masks[a] & masks[b]).sum() / (masks[a] | masks[b]).sum()
        assert distance > 55 or iou < 0.5, (
            f"{kind}: {a} and {b} look alike ({distance:.0f}, {iou:.2f})"
        )
