"""The [pose] config section."""

from station.config.schema import Key, Section

SECTION = Section(
    "Pose inference (MediaPipe).",
    {
        "backend": Key(
            "legacy",
            "'legacy': mediapipe's solutions.pose with its bundled full model (works offline, "
            "mediapipe ≤ 0.10.21). 'tasks': the Tasks PoseLandmarker with the .task file in "
            "'task_model' (newer mediapipe, Python 3.13+).",
            choices=("legacy", "tasks"),
        ),
        "task_model": Key(
            "/var/lib/station/models/pose_landmarker_full.task",
            "The .task model file for backend = 'tasks'.",
        ),
        "min_detection_confidence": Key(
            0.5, "Confidence needed to find a person.", min=0.0, max=1.0
        ),
        "min_tracking_confidence": Key(
            0.5, "Confidence needed to keep tracking them.", min=0.0, max=1.0
        ),
        "smooth_landmarks": Key(
            False,
            "Legacy backend: let MediaPipe filter landmarks over time. Off by default: the "
            "filter lags fast foot and hip movement that camera-only counting relies on, and "
            "the posture lights already judge over windows.",
        ),
        "max_fps": Key(
            0.0,
            "Live camera: run inference at most this many times a second; the frames in "
            "between are dropped, as a slower model drops them. 0: as fast as the model goes. "
            "Makes a laptop behave like a Pi 4 (about 5-8) or a Pi 5 (10-15).",
            "frames/s",
            min=0.0,
            max=120.0,
        ),
        "max_fps_jitter": Key(
            0.0,
            "With max_fps: how much the emulated model's time per frame varies (coefficient "
            "of variation, seeded). 0: a steady model, exactly max_fps frames a second in a "
            "fixed rhythm; a Pi sharing its cores with the screen and the mat takes frames "
            "at irregular gaps (try 0.1-0.3).",
            min=0.0,
            max=1.0,
        ),
        "min_visibility": Key(
            0.5,
            "A landmark below this visibility does not count; metrics that need it read 'unknown'.",
            min=0.0,
            max=1.0,
        ),
    },
)
