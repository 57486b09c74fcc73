"""Structural calibration: what is fitted, to what, and how (see `calibrate`)."""

from sim.fitting.calibrate import Calibration, calibrate
from sim.fitting.simulate import monthly

__all__ = ["Calibration", "calibrate", "monthly"]
