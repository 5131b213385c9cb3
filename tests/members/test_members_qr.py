"""QR codes made by segno are read back by OpenCV; the summary screen carries one at every
size, and `station screenshot --screen summary` writes one that decodes to a URL."""

from __future__ import annotations

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
