"""The kiosk display: a pygame window (laptop) or the whole screen (the Pi, no desktop).

The runtime calls it from its one UI thread::

    display = Display()
    display.open(config["display"], windowed=args.windowed)
    while not display.poll_events():
        display.draw(view_model)      # a ViewModel snapshot built from the session
        clock.sleep(...)              # the runtime paces the loop at display.fps
    display.close()

On a Raspberry Pi without a desktop SDL draws straight to the screen through KMS/DRM:
:func:`prepare_environment` picks SDL's ``kmsdrm`` video driver when there is no X11/Wayland
session and no driver was chosen, so the service needs no X server (see docs/display.md).

Exit keys are for developers only. In a window: Esc, Ctrl+Q or closing the window. On the
kiosk (full screen) a stray keyboard must not end the station for a gym member, so only the
deliberate chord Ctrl+Shift+Q quits (the service manager restarts or stops the station).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

from station.display.render import FrameReport, Renderer
from station.display.viewmodel import ViewModel
from station.hardware import HardwareMissing

log = logging.getLogger(__name__)

WINDOW_DEFAULT = (1280, 720)
"""A laptop window's size when display.width/height are 0."""


def prepare_environment(windowed: bool, env: MutableMapping[str, str] | None = None) -> str | None:
    """Choose SDL's video driver before pygame starts; returns the one chosen (None: SDL's own
    choice). An explicit SDL_VIDEODRIVER always wins. Full screen on Linux with no X11 or
    Wayland session means the console (tty1 on the Pi): use KMS/DRM directly."""
    if env is None:
        env = os.environ
    env.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    if env.get("SDL_VIDEODRIVER"):
        return env["SDL_VIDEODRIVER"]
    desktop = env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")
    if not windowed and sys.platform.startswith("linux") and not desktop:
        env["SDL_VIDEODRIVER"] = "kmsdrm"
        return "kmsdrm"
    return None


def is_quit_key(key: int, mods: int, kiosk: bool) -> bool:
    """Whether a key press asks to quit: Esc or Ctrl+Q in a window, only Ctrl+Shift+Q on the
    kiosk (see the module docstring for why)."""
    import pygame

    ctrl = bool(mods & pygame.KMOD_CTRL)
    shift = bool(mods & pygame.KMOD_SHIFT)
    if kiosk:
        return key == pygame.K_q and ctrl and shift
    return key == pygame.K_ESCAPE or (key == pygame.K_q and ctrl)


class Display:
    """The screen. open → draw/poll_events per frame → close, all on one thread."""

    def __init__(self, font_path: str | None = None) -> None:
        self._font_path = font_path
        self._renderer: Renderer | None = None
        self._surface: Any = None
        self.kiosk = False
        self.driver = ""

    @property
    def size(self) -> tuple[int, int]:
        if self._surface is None:
            raise RuntimeError("display is not open")
        w, h = self._surface.get_size()
        return int(w), int(h)

    def open(self, settings: Mapping[str, Any], windowed: bool = False) -> None:
        """Open the screen. `settings` is the [display] config section; `windowed` (the
        runtime's --windowed, e.g. `make run` on a laptop) overrides display.fullscreen."""
        fullscreen = bool(settings.get("fullscreen", True)) and not windowed
        chosen = prepare_environment(windowed=not fullscreen)
        import pygame

        width, height = int(settings.get("width", 0)), int(settings.get("height", 0))
        try:
            pygame.display.init()
            pygame.font.init()
            self.driver = pygame.display.get_driver()
            if fullscreen:
                # (0, 0) takes the screen's own mode: the only sensible one under KMS/DRM.
                self._surface = pygame.display.set_mode((width, height), pygame.FULLSCREEN)
            else:
                size = (width or WINDOW_DEFAULT[0], height or WINDOW_DEFAULT[1])
                self._surface = pygame.display.set_mode(size, pygame.RESIZABLE)
        except pygame.error as exc:
            pygame.display.quit()
            raise HardwareMissing(
                "display",
                f"SDL could not open the screen (video driver {chosen or 'auto'}): {exc}",
                "on the Pi console: a screen on HDMI, the user in the video, render and input "
                "groups, libdrm2 libgbm1 libegl1 libgles2 installed, no desktop holding the "
                "screen (docs/display.md); on a laptop: --windowed",
            ) from exc
        pygame.display.set_caption("station")
        self.kiosk = fullscreen
        if settings.get("hide_cursor", True) and fullscreen:
            pygame.mouse.set_visible(False)
        self._renderer = Renderer(self._font_path)
        log.info(
            "display open: %dx%d, %s, driver %s",
            *self.size,
            "full screen" if fullscreen else "window",
            self.driver,
        )

    def draw(self, vm: ViewModel) -> FrameReport:
        """Draw one frame and show it."""
        import pygame

        if self._renderer is None:
            raise RuntimeError("display is not open")
        surface = pygame.display.get_surface()  # a resized window gets a new surface
        if surface is None:
            raise RuntimeError("display is not open")
        report = self._renderer.render(surface, vm)
        pygame.display.flip()
        return report

    def poll_events(self) -> bool:
        """Drain the event queue; True when someone asked to quit (see :func:`is_quit_key`)."""
        import pygame

        quit_requested = False
        for event in pygame.event.get():
            closed = event.type == pygame.QUIT and not self.kiosk
            keyed = event.type == pygame.KEYDOWN and is_quit_key(event.key, event.mod, self.kiosk)
            quit_requested = quit_requested or closed or keyed
        return quit_requested

    def close(self) -> None:
        import pygame

        if self._surface is not None:
            pygame.display.quit()
        self._surface = None
        self._renderer = None
