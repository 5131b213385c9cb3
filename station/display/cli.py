"""`station screenshot`: render a screen from a representative state to a PNG."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from station.display.screens import SCREENS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "screenshot",
        help="render a screen to a PNG",
        description="Render one kiosk screen from a representative state (a member mid-session) "
        "to a PNG, off screen: needs no display. 'degraded' is the active screen with the camera "
        "off (its four lights unknown; the mat counts and judges landings) and a trainer config "
        "notice; 'summary' carries a take-home QR code (a demo link); 'degraded-mat' has "
        "the mat off (the camera counts); 'active-live' adds the mirrored live view; 'feet-out' "
        "has no mat and a camera aimed too high (the 'Step back - feet out of view' banner).",
    )
    p.add_argument("--screen", required=True, choices=SCREENS, help="which screen")
    p.add_argument(
        "--size", default="1920x1080", help="WIDTHxHEIGHT in pixels (default: %(default)s)"
    )
    p.add_argument("--out", required=True, help="the PNG file to write")
    p.set_defaults(func=_screenshot)


def parse_size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not m:
        raise ValueError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 1920x1080")
    w, h = int(m.group(1)), int(m.group(2))
    if not (160 <= w <= 7680 and 160 <= h <= 7680):
        raise ValueError(f"--size {text!r}: each side must be from 160 to 7680 pixels")
    return w, h


def _screenshot(args: argparse.Namespace) -> int:
    try:
        size = parse_size(args.size)
    except ValueError as exc:
        print(f"station screenshot: {exc}", file=sys.stderr)
        return 2
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    from station.display.demo import demo_view
    from station.display.render import Renderer

    pygame.display.init()  # not pygame.init(): no audio, no joystick probing
    pygame.font.init()
    try:
        surface, _report = Renderer().render_offscreen(demo_view(args.screen), size)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(surface, str(out))
    finally:
        pygame.quit()
    print(f"{args.out}: {args.screen} at {size[0]}x{size[1]}")
    return 0
