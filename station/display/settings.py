"""The [display] config section."""

from station.config.schema import Key, Section

SECTION = Section(
    "The kiosk screen.",
    {
        "fullscreen": Key(True, "Full screen (the kiosk); false opens a window (a laptop)."),
        "width": Key(0, "Window width; 0 takes the screen's own size.", "px", min=0, max=7680),
        "height": Key(0, "Window height; 0 takes the screen's own size.", "px", min=0, max=4320),
        "fps": Key(30, "Screen refresh rate of the UI loop.", "frames/s", min=5, max=60),
        "live_view": Key(False, "Show a mirrored live view with the skeleton coloured by fault."),
        "hide_cursor": Key(True, "Hide the mouse cursor (kiosk)."),
    },
)
