"""The [mat] config section and the landing thresholds of each preset."""

from collections.abc import Mapping

from station.config.schema import Key, Section

SECTION = Section(
    "The mat under the member: it counts and times every jump and judges landings.",
    {
        "sensor": Key(
            "adc",
            "'adc': force sensors on an MCP3008/MCP3208 read over SPI (counts, times and weighs "
            "landings); 'switch': a contact-switch mat on a GPIO input (timing only, no force); "
            "'none': no mat (the camera counts, and the screen says so).",
            choices=("adc", "switch", "none"),
        ),
        "adc_chip": Key(
            "mcp3008",
            "The ADC: 'mcp3008' (10-bit) or 'mcp3208' (12-bit).",
            choices=("mcp3008", "mcp3208"),
        ),
        "spi_bus": Key(0, "SPI bus of the ADC (/dev/spidevBUS.DEVICE).", min=0, max=6),
        "spi_device": Key(0, "SPI chip select of the ADC.", min=0, max=3),
        "spi_clock_hz": Key(1_000_000, "SPI clock.", "Hz", min=50_000, max=3_600_000),
        "sample_rate_hz": Key(
            1000,
            "Samples per second per zone. Landing impacts peak within "
            "about 10 ms, so stay at 1000 or above.",
            "Hz",
            min=500,
            max=4000,
        ),
        "channels": Key(
            [0, 1],
            "ADC channels in use, one per zone.",
            item=int,
            min=0,
            max=7,
            min_len=1,
            max_len=8,
        ),
        "zones": Key(
            ["left", "right"],
            "Zone names, one per channel, e.g. left, right or "
            "left_heel, left_fore, right_heel, right_fore. A zone whose name ends in "
            "'_heel' enables heel-first detection.",
            item=str,
            min_len=1,
            max_len=8,
        ),
        "offset_counts": Key(
            [0.0, 0.0],
            "Per-zone zero offset in ADC counts (written by `station "
            "mat calibrate`; tracked automatically while the mat is empty).",
            item=float,
            min_len=1,
            max_len=8,
        ),
        "scale_n_per_count": Key(
            [1.0, 1.0],
            "Per-zone scale: newtons per ADC count above the "
            "offset (written by `station mat calibrate`).",
            item=float,
            min=0.0,
            min_len=1,
            max_len=8,
        ),
        "switch_pin": Key(
            17, "For sensor = 'switch': the BCM GPIO pin of the contact mat.", min=0, max=27
        ),
    },
    checks=(
        lambda s: [
            (k, f"needs one entry per channel ({len(s['channels'])})")
            for k in ("zones", "offset_counts", "scale_n_per_count")
            if len(s[k]) != len(s["channels"])
        ],
    ),
)

_LANDING = {
    # preset: (peak warn, peak fault, loading-rate warn, loading-rate fault)
    "beginner": (4.0, 5.5, 120.0, 200.0),
    "intermediate": (3.5, 5.0, 100.0, 170.0),
    "advanced": (3.2, 4.5, 90.0, 150.0),
}


def landing_thresholds(preset: str) -> Mapping[str, Section]:
    peak_warn, peak_fault, rate_warn, rate_fault = _LANDING.get(preset, _LANDING["intermediate"])
    return {
        "landing": Section(
            "Hard landings, judged by the mat: feet slapping the ground, heels hitting hard.",
            {
                "enabled": Key(True, "Judge landings at all."),
                "peak_warn_bw": Key(
                    peak_warn, "Peak landing force that warns.", "× body weight", min=1.0, max=15.0
                ),
                "peak_fault_bw": Key(
                    peak_fault,
                    "Peak landing force that faults.",
                    "× body weight",
                    min=1.0,
                    max=15.0,
                ),
                "loading_rate_warn_bw_s": Key(
                    rate_warn, "Loading rate that warns.", "body weights/s", min=5.0, max=1000.0
                ),
                "loading_rate_fault_bw_s": Key(
                    rate_fault, "Loading rate that faults.", "body weights/s", min=5.0, max=1000.0
                ),
                "heel_first_is_fault": Key(
                    True, "A heel-first touchdown (needs a heel zone) is a hard landing by itself."
                ),
                "hold_s": Key(
                    2.0, "The light stays on at least this long once lit.", "s", min=0.0, max=30.0
                ),
            },
        )
    }
