"""Grasp verification from the hand's own joints: did the fingers close on something, and does it stay there?

A hand closing on nothing reaches its commanded posture (its servo has only the fingers' own weight and friction to
overcome); fingers that close on a part are held off it by the part, and the thumb is pushed back. The deflection is
the norm of (commanded - measured) over the hand's joints [rad]: about 0.01 rad for Centurion's hand closed on
nothing, 0.14-0.27 rad on the sorting cell's parts (bench/bench_grasp.py). Once the hand has settled (every joint
slower than `settle_speed` for `settle_time`):

- holding: the deflection is at least `min_deflection`;
- empty: it is less (the hand closed on nothing, or the part was pushed away).

While holding, a deflection that falls below `min_deflection` for `settle_time` means the part has left the hand:
a slip.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from legion_common.parameters import param


class HandState(enum.Enum):
    MOVING = "moving"
    HOLDING = "holding"
    EMPTY = "empty"


@dataclass(frozen=True)
class VerifyParameters:
    settle_speed: float = param(0.05, "Every hand joint slower than this ...", unit="rad/s", low=0.0, high=100.0)
    settle_time: float = param(0.2, "... for this long: the hand has settled.", unit="s", low=0.0, high=10.0)
    min_deflection: float = param(0.05, "A settled hand this far (norm over its joints) from its commanded posture "
                                        "holds something; nearer, it closed on nothing.", unit="rad", low=0.0,
                                  high=10.0)


class GraspMonitor:
    """Judges one hand from its joint positions and velocities against the posture it was commanded to.

    Args:
        commanded: the posture it is closing to [rad] (open + closure x (synergy - open)), clamped into the joint
            limits.  # (n,)
    """

    def __init__(self, commanded: np.ndarray, params: VerifyParameters | None = None) -> None:
        self.params = params or VerifyParameters()
        self.commanded = np.asarray(commanded, dtype=float)
        self._settled_since: float | None = None
        self._empty_since: float | None = None
        self.state = HandState.MOVING
        self.deflection = 0.0

    def update(self, time: float, positions: np.ndarray, velocities: np.ndarray) -> HandState:
        """The hand's state after a joint state stamped `time` [s]."""
        p = self.params
        self.deflection = float(np.linalg.norm(self.commanded - np.asarray(positions, dtype=float)))
        if self.state == HandState.HOLDING:
            if self.deflection >= p.min_deflection:
                self._empty_since = None
            elif self._empty_since is None:
                self._empty_since = time
            elif time - self._empty_since >= p.settle_time:
                self.state = HandState.EMPTY  # the fingers closed on: the part has gone
            return self.state
        if np.max(np.abs(velocities), initial=0.0) > p.settle_speed:
            self._settled_since = None
        elif self._settled_since is None:
            self._settled_since = time
        if self._settled_since is None or time - self._settled_since < p.settle_time:
            self.state = HandState.MOVING
        else:
            self.state = HandState.HOLDING if self.deflection >= p.min_deflection else HandState.EMPTY
        return self.state
