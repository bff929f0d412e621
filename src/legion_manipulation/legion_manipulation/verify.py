"""Grasp verification from the hand's own joints: did the fingers close on something, and does it stay there?

A hand closing on nothing reaches its commanded posture and its joints' servos then push on nothing; fingers that
close on a part are held off it by the part and press on it. The grip is the norm of the hand joints' measured
efforts [N m] (`joint_states.effort`, the servos' torques: stiffness x the part's deflection of the fingers): about
0.02 N m for Centurion's hand closed on nothing, 0.5-1.1 N m on the sorting cell's parts (bench/bench_grasp.py),
whatever the hand's stiffness. Once the hand has settled (every joint slower than `settle_speed` for
`settle_time`):

- holding: the grip is at least `min_grip`;
- empty: it is less (the hand closed on nothing, or the part was pushed away).

While holding, a grip that stays below `min_grip` for `settle_time` means the part has left the hand: a slip.
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
    min_grip: float = param(0.2, "A settled hand whose joints' efforts (their norm) are at least this holds "
                                  "something; less, it closed on nothing.", unit="N m", low=0.0, high=100.0)


class GraspMonitor:
    """Judges one hand from its joint positions and velocities against the posture it was commanded to.

    Args:
        commanded: the posture it is closing to [rad] (open + closure x (synergy - open)), clamped into the joint
            limits (for the record: `deflection`).  # (n,)
    """

    def __init__(self, commanded: np.ndarray, params: VerifyParameters | None = None) -> None:
        self.params = params or VerifyParameters()
        self.commanded = np.asarray(commanded, dtype=float)
        self._settled_since: float | None = None
        self._empty_since: float | None = None
        self.state = HandState.MOVING
        self.deflection = 0.0
        self.grip = 0.0

    def update(self, time: float, positions: np.ndarray, velocities: np.ndarray, efforts: np.ndarray) -> HandState:
        """The hand's state after a joint state stamped `time` [s]."""
        p = self.params
        self.deflection = float(np.linalg.norm(self.commanded - np.asarray(positions, dtype=float)))
        self.grip = float(np.linalg.norm(efforts))
        if self.state == HandState.HOLDING:
            if self.grip >= p.min_grip:
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
            self.state = HandState.HOLDING if self.grip >= p.min_grip else HandState.EMPTY
        return self.state
