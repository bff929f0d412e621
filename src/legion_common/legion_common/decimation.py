"""Decimation of a stream of stamped messages to a lower rate, on a grid of simulated (or hardware) time.

    decimator = Decimator(rate=50.0)        # 0: never
    if decimator.due(stamp): publish(...)   # the first message at or after each multiple of 1/rate

Stamps on the grid keep two decimated streams of the same source (e.g. `odom/decimated` and
`joint_states/decimated`) in step: both pass the same stamps. A stamp that goes back by more than one period (time
reset, `sim/reset`) starts the grid again.
"""

from __future__ import annotations

import math


class Decimator:
    """Lets through the first stamp at or after each multiple of the period (see the module docstring)."""

    def __init__(self, rate: float) -> None:
        if not (math.isfinite(rate) and rate >= 0.0):
            raise ValueError(f"decimation rate must be a finite number >= 0 Hz, got {rate!r}")
        self.period = 1.0 / rate if rate > 0.0 else math.inf
        self._next = -math.inf
        self._last = -math.inf

    def due(self, stamp: float) -> bool:
        """Whether the message stamped `stamp` [s] is passed on."""
        if math.isinf(self.period):
            return False
        if stamp < self._last - self.period:  # time went back: start again
            self._next = -math.inf
        self._last = stamp
        if stamp + 1e-9 < self._next:
            return False
        self._next = (math.floor(stamp / self.period + 1e-6) + 1.0) * self.period
        return True
