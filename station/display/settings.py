"""The [display] config section."""

from station.config.schema import Key, Section

SECTION = Section(
    "The kiosk screen (see docs/display.md).",
    {
        "fullscreen": Key(
            True,
            "Full screen (the kiosk); false opens a window (a laptop). `station run --windowed` "
            "overrides it. On a Pi without a desktop the screen is driven through KMS/DRM.",
        ),
        "width": Key(
            0,
            "Width; 0 takes the screen's own mode full screen, 1280 in a window.",
            "px",
            min=0,
            max=7680,
        ),
        "height": Key(
            0,
            "Height; 0 takes the screen's own mode full screen, 720 in a window.",
            "px",
            min=0,
            max=4320,
        ),
        "fps": Key(30, "Screen refresh rate of the UI loop.", "frames/s", min=5, max=60),
        "live_view": Key(False, "Show a mirrored live view with the skeleton coloured by fault."),
        "hide_cursor": Key(True, "Hide the mouse cursor when full screen (the kiosk)."),
    },
)
