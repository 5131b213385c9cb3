"""The mat: sensors, calibration, landing detection and quality.

For the runtime: :class:`MatTracker` (station.mat.tracker) takes the mat source's events and
keeps :class:`MatState`; `station.hardware.Hardware.open_mat()` opens the source.
"""
