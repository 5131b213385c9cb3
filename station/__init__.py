"""station: a jump-rope coaching kiosk for a Raspberry Pi.

The mat counts and times jumps; the camera judges posture. Pure logic lives in each room's
plain modules; hardware adapters are small and imported lazily so that nothing Pi-only is
needed at import time.
"""

__version__ = "0.1.0"
