"""Talking to the service manager: systemd's notify protocol (READY, WATCHDOG, STOPPING)."""

from station.service.notify import Notifier

__all__ = ["Notifier"]
