"""The [alerts] config section: buzzers and LEDs on GPIO."""

from station.config.schema import Key, Section

SECTION = Section(
    "Buzzers and LEDs that signal a fault's onset.",
    {
        "enabled": Key(True, "Sound alerts at all."),
        "buzzer": Key(
            "active",
            "'active' buzzer (one tone) or 'tonal' piezo (a tone per fault) or 'none'.",
            choices=("active", "tonal", "none"),
        ),
        "buzzer_pin": Key(18, "BCM GPIO pin of the buzzer.", min=0, max=27),
        "cooldown_s": Key(
            10.0, "The same fault does not sound again within this time.", "s", min=0.0, max=600.0
        ),
        "global_cooldown_s": Key(
            3.0, "No alert of any kind within this time of the last.", "s", min=0.0, max=600.0
        ),
        "quiet_hours": Key(
            [], 'Times with no sound, as "HH:MM-HH:MM" strings.', item=str, max_len=8
        ),
    },
)
