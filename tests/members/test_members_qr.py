"""QR codes made by segno are read back by OpenCV; the summary screen carries one at every
size, and `station screenshot --screen summary` writes one that decodes to a URL."""

from __future__ import annotations

import functools
import random
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from members_helpers import room_picture

from station.members.qr import QrReader, make_matrix, matrix_image
from station.members.tokens import history_url, new_token, session_url


def test_made_codes_read_back_at_any_token() -> None:
    reader = QrReader()
    for _ in range(5):
        url = session_url("http://192.168.100.200:8080", new_token())
        image = matrix_image(make_matrix(url), 4)
        assert reader.read(image) == [url]


def test_a_code_held_up_in_a_camera_picture_is_read() -> None:
    url = history_url("http://station.local:8080", new_token())
    code = matrix_image(make_matrix(url), 4)
    frame = room_picture()
    frame[150 : 150 + code.shape[0], 300 : 300 + code.shape[1]] = code[:, :, None]
    assert QrReader().read(frame) == [url]
    assert QrReader().read(room_picture(seed=1)) == []


@pytest.mark.parametrize("bad", [np.zeros((0, 0), np.uint8), np.zeros((4, 4, 3), np.uint8),
                                 np.full((480, 640, 3), 255, np.uint8),
                                 np.zeros((2, 2, 2, 2), np.uint8)])  # fmt: skip
def test_the_reader_never_raises_on_odd_pictures(bad: np.ndarray) -> None:
    assert QrReader().read(bad) == []


@pytest.mark.parametrize("size", ["1920x1080", "800x480", "1080x1920"])
def test_station_screenshot_summary_holds_a_qr_code_that_decodes_to_a_url(
    tmp_path: Path, size: str
) -> None:
    out = tmp_path / "summary.png"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "station",
            "screenshot",
            "--screen",
            "summary",
            "--size",
            size,
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    image = cv2.imread(str(out), cv2.IMREAD_GRAYSCALE)
    text, _points, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert text.startswith("http://") and "/m/" in text


@functools.cache
def clip_frames() -> list[np.ndarray]:
    from station.members.bench import _frames

    return _frames(640, 480, 40)[::8]


def held_up(frame: np.ndarray, code: np.ndarray, angle: float, blur: float, contrast: float):
    """`code` as a phone screen held up in `frame`: tilted by `angle`°, at `contrast` (glare,
    a dim screen), the whole picture blurred (focus, motion) and through JPEG at quality 70."""
    h, w = code.shape
    side = int(np.hypot(w, h)) + 2
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    turn[:, 2] += ((side - w) / 2, (side - h) / 2)
    screen = cv2.warpAffine(code, turn, (side, side), borderValue=255).astype(float)
    inside = cv2.warpAffine(np.full_like(code, 255), turn, (side, side), borderValue=0) > 0
    screen = (128 + (screen - 128) * contrast).clip(0, 255).astype(np.uint8)
    out = frame.copy()
    region = out[100 : 100 + side, 250 : 250 + side]
    region[inside] = screen[inside][:, None]
    if blur:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    _ok, jpeg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 70])
    return cv2.imdecode(jpeg, cv2.IMREAD_UNCHANGED)


@pytest.mark.parametrize("angle", [0.0, 15.0, 35.0])
@pytest.mark.parametrize(("blur", "contrast"), [(0.0, 1.0), (0.0, 0.5), (1.0, 1.0), (1.0, 0.5)])
def test_a_held_up_code_is_read_tilted_blurred_and_dim(
    angle: float, blur: float, contrast: float
) -> None:
    """At 4 pixels per module (the code about a third of a 480-line picture's height), four
    codes on five frames of a real clip (a synthetic room without ../shared/data): every code
    is read within its five looks (2.5 s at two looks a second), and at least 80 % of all looks
    read it (measured 85-100 %). At 2 px per module most of these cases fail: members hold the
    code close to the camera."""
    rng = random.Random(17)  # fixed codes: a test that passes, passes every time
    urls = [
        history_url("http://station.local:8080", rng.randbytes(16).hex()[:22]) for _ in range(4)
    ]
    reader = QrReader()  # one reader, as on the station: its looks alternate detectors
    reads = []
    for url in urls:
        code = matrix_image(make_matrix(url), 4)
        looks = [reader.read(held_up(f, code, angle, blur, contrast)) for f in clip_frames()]
        assert [url] in looks, "a code held up for five looks was never read"
        reads += [look == [url] for look in looks]
    assert sum(reads) >= 0.8 * len(reads), f"{sum(reads)}/{len(reads)} looks read the code"
