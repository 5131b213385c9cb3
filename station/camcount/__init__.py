"""Camera-only jump counting (stations without a mat, and offline analysis).

Feed every PoseFrame to :class:`CameraJumpCounter.update`; it returns the jumps it has become
sure of. See docs/counting.md.
"""

from station.camcount.counter import DEFAULT_PARAMS, CameraJump, CameraJumpCounter, CounterParams

__all__ = ["DEFAULT_PARAMS", "CameraJump", "CameraJumpCounter", "CounterParams"]
