"""The [camera] config section."""

from station.config.schema import Key, Section

SECTION = Section(
    "The camera that watches the member. Four of the five faults are judged from it.",
    {
        "source": Key(
            "picamera2",
            "Where frames come from: 'picamera2' (Pi camera), 'opencv' (a USB camera or a video "
            "file given in 'device'), 'track' (replay a landmark track .npz given in 'device', "
            "no inference), or 'none' (no camera: lights read unknown).",
            choices=("picamera2", "opencv", "track", "none"),
        ),
        "device": Key(
            "0",
            "For source = 'opencv': a camera index such as \"0\", or a video file path; for "
            "source = 'track': the landmark track .npz.",
        ),
        "width": Key(
            640,
            "Capture width. Keep it small: the pose model works at 256×256 internally, and a "
            "bigger picture only costs conversion time.",
            "px",
            min=160,
            max=1920,
        ),
        "height": Key(480, "Capture height.", "px", min=120, max=1080),
        "fps": Key(30, "Frames per second asked of the camera.", "frames/s", min=1, max=120),
        "placement": Key(
            "front",
            "Where the camera stands relative to the member: 'front' (facing them), 'oblique' "
            "(about 45°) or 'side'. Each posture metric declares the placements it is valid for.",
            choices=("front", "oblique", "side"),
        ),
        "roi": Key(
            [0.0, 0.0, 1.0, 1.0],
            "The mat's area in the image as [left, top, right, bottom], fractions of the image. "
            "The member is the person whose feet are inside it; passers-by outside are ignored.",
            item=float,
            min=0.0,
            max=1.0,
            min_len=4,
            max_len=4,
        ),
        "mirror": Key(True, "Show the live view mirrored, as members expect of a screen."),
    },
    checks=(
        lambda s: (
            [("roi", "left must be < right and top < bottom")]
            if not (s["roi"][0] < s["roi"][2] and s["roi"][1] < s["roi"][3])
            else []
        ),
    ),
)
