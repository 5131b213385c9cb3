"""The [session] config section: how a member's session starts and ends."""

from station.config.schema import Key, Section

SECTION = Section(
    "Session timing.",
    {
        "calibrate_s": Key(
            2.0,
            "Standing still this long captures body weight and posture baseline.",
            "s",
            min=0.5,
            max=10.0,
        ),
        "end_after_off_s": Key(
            5.0,
            "Off the mat this long ends the session (a trip or brief step off does not).",
            "s",
            min=1.0,
            max=60.0,
        ),
        "summary_s": Key(
            15.0,
            "How long the summary stays before the idle screen (someone stepping on starts "
            "their own session; the summary stays until their first jump).",
            "s",
            min=3.0,
            max=120.0,
        ),
        "checkpoint_s": Key(
            5.0, "A session in progress is saved this often.", "s", min=1.0, max=60.0
        ),
    },
)
