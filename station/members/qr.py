"""QR codes: made with segno (pure Python, no dependencies), read with OpenCV's built-in
QRCodeDetector. cv2 is imported inside the reader: this module imports anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import segno
from numpy.typing import NDArray

QUIET_ZONE = 4
"""Light modules around the symbol, as the QR standard asks (readers need it)."""


@dataclass(frozen=True)
class QrMatrix:
    """A QR symbol's modules, quiet zone included: `rows[y][x]` is True for dark. Plain
    values, so a screen's view model can carry it and compare it."""

    rows: tuple[tuple[bool, ...], ...]

    @property
    def size(self) -> int:
        return len(self.rows)


def make_matrix(text: str) -> QrMatrix:
    """The QR symbol for `text`; error correction M (15 %) survives glare on a screen."""
    qr = segno.make_qr(text, error="m", boost_error=False)
    rows = tuple(tuple(bool(v) for v in row) for row in qr.matrix_iter(border=QUIET_ZONE))
    return QrMatrix(rows)


def make_svg(text: str, *, scale: int = 8) -> str:
    """An inline <svg> element (for a web page: no image file, no third-party asset)."""
    qr = segno.make_qr(text, error="m", boost_error=False)
    svg: str = qr.svg_inline(scale=scale, border=QUIET_ZONE, dark="#000", light="#fff")
    return svg


def matrix_image(matrix: QrMatrix, module_px: int) -> NDArray[np.uint8]:
    """A grey H×W image of the symbol (tests and the camera-code video)."""
    dark = np.array(matrix.rows, dtype=bool)
    img = np.where(dark, 0, 255).astype(np.uint8)
    return np.kron(img, np.ones((module_px, module_px), dtype=np.uint8))


class QrReader:
    """Finds and decodes a QR code in RGB (or grey) pictures. One per thread: OpenCV's
    detectors keep state between calls.

    Looks alternate between OpenCV's two QR detectors: the ArUco-based one (4.8+) finds small,
    tilted codes the classic one misses, and the classic one reads some codes held straight
    that the ArUco one misses every time (tests/members/test_members_qr.py). Alternating costs
    no more than either alone, and a member holding a code up gets both within a second."""

    def __init__(self) -> None:
        import cv2

        self._cv2: Any = cv2
        aruco = getattr(cv2, "QRCodeDetectorAruco", None)
        self._detectors: list[Any] = [cv2.QRCodeDetector()]
        if aruco is not None:
            self._detectors.insert(0, aruco())
        self._turn = 0

    def read(self, image: NDArray[np.uint8]) -> list[str]:
        """The text of the QR code in `image` ([] when none); never raises for a bad picture:
        a camera glitch is not the member's problem."""
        cv2 = self._cv2
        detector = self._detectors[self._turn % len(self._detectors)]
        self._turn += 1
        try:
            if image.ndim == 3 and image.shape[2] == 3:
                grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
            elif image.ndim == 2:
                grey = image
            else:
                return []
            if min(grey.shape) < 21:  # smaller than the smallest QR code
                return []
            text, _points, _straight = detector.detectAndDecode(grey)
        except cv2.error:
            return []
        return [text] if text else []
