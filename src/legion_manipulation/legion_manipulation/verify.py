"""Grasp verification from the hand's own joints: did the fingers close on something, and does it stay there?

A hand closing on nothing reaches its commanded posture; fingers that close on a part stop short of it, blocked by the
part. Per joint, progress is how far the measured position has come from the open posture towards the commanded one
(1 = reached). Once the hand has settled (every joint slower than `settle_speed` for `settle_time`):

- holding: at least `min_blocked` of the joints that were commanded to move stopped at progress below
  `blocked_progress` (a 1-DoF gripper: its jaw);
- empty: otherwise (the hand closed on nothing, or the part was pushed away).

While holding, a slip shows as blocked joints closing further: their progress rising by more than `slip_progress`
above what it was when the grasp was verified.
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
    settle_speed: float = param(0.05, "every hand joint slower than this ...", unit="rad/s", low=0.0, high=1000.0)
    settle_time: float = param(0.2, "... for this long: the hand has settled.", unit="s", low=0.0, high=1000.0)
    min_motion: float = param(
        0.1, "joints commanded to move less than this from open are not judged.", unit="rad", low=0.0, high=1000.0
    )
    blocked_progress: float = param(
        0.85,
        "A judged joint that stopped below this fraction of its commanded motion is blocked by the part.",
        low=0.0,
        high=1000.0,
    )
    min_blocked: int = param(
        2, "Blocked joints that make a hold (capped at the number of judged joints).", low=1, high=30
    )
    slip_progress: float = param(
        0.15,
        "Blocked joints closing by this fraction of their motion beyond where they held: the part slipped.",
        low=0.0,
        high=1000.0,
    )


class GraspMonitor:
    """Judges one hand from its joint positions and velocities against the posture it was commanded to.

    Args:
        opened: the hand's open posture [rad] (its `open` synergy).  # (n,)
        commanded: the posture it is closing to [rad] (open + closure x (synergy - open)), clamped into the joint
            limits.  # (n,)
    """

    def __init__(
        self, opened: np.ndarray, commanded: np.ndarray, params: VerifyParameters = VerifyParameters()
    ) -> None:
        self.params = params
        self.opened = np.asarray(opened, dtype=float)
        self.motion = np.asarray(commanded, dtype=float) - self.opened
        self.judged = np.abs(self.motion) >= params.min_motion
        if not self.judged.any():
            raise ValueError("the commanded posture moves no hand joint: nothing to verify")
        self._settled_since: float | None = None
        self._held_progress: np.ndarray | None = None
        self.state = HandState.MOVING
        self.progress = np.zeros(int(self.judged.sum()))

    def update(self, time: float, positions: np.ndarray, velocities: np.ndarray) -> HandState:
        """The hand's state after a joint state stamped `time` [s]."""
        p = self.params
        self.progress = (np.asarray(positions)[self.judged] - self.opened[self.judged]) / self.motion[self.judged]
        moving = bool(np.max(np.abs(velocities)) > p.settle_speed)
        if moving:
            self._settled_since = None
        elif self._settled_since is None:
            self._settled_since = time
        blocked = self.progress < p.blocked_progress
        needed = min(p.min_blocked, len(self.progress))
        if self.state == HandState.HOLDING:
            assert self._held_progress is not None
            closing = self.progress - self._held_progress
            if int(np.count_nonzero(self._held_blocked & (closing < p.slip_progress))) < needed:
                self.state = HandState.EMPTY  # the blocked fingers closed on: the part has gone
            return self.state
        if self._settled_since is None or time - self._settled_since < p.settle_time:
            self.state = HandState.MOVING
            return self.state
        if int(np.count_nonzero(blocked)) >= needed:
            self.state = HandState.HOLDING
            self._held_progress = self.progress.copy()
            self._held_blocked = blocked.copy()
        else:
            self.state = HandState.EMPTY
        return self.state
