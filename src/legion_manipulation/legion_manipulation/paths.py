"""Smooth gripper paths: minimum-jerk motion between two poses, timed within speed and acceleration limits.

A minimum-jerk profile s(tau) = 10 tau^3 - 15 tau^4 + 6 tau^5 (tau = t / T) starts and ends at rest with zero
acceleration. Its peak speed is 1.875 d / T and its peak acceleration 5.774 d / T^2 for a distance d, so the shortest
duration within a speed limit v and an acceleration limit a is max(1.875 d / v, sqrt(5.774 d / a)); the orientation
follows the same profile along the shortest rotation (slerp), within its own limits.

A `PathClock` slows every path that shares it: path time runs at the safety node's speed scale times the robot's
time (0: the gripper holds where it is), so a scaled path keeps its shape and only takes longer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pinocchio as pin

from legion_common.parameters import param

PEAK_SPEED = 1.875
"""Peak of ds/dtau of the minimum-jerk profile."""
PEAK_ACCELERATION = 10.0 / math.sqrt(3.0)
"""Peak of |d2s/dtau2| of the minimum-jerk profile (5.774)."""


def minimum_jerk(tau: float) -> tuple[float, float]:
    """Profile value and its derivative with respect to tau, for tau clamped into [0, 1]."""
    tau = min(max(tau, 0.0), 1.0)
    value = tau**3 * (10.0 - 15.0 * tau + 6.0 * tau * tau)
    rate = 30.0 * tau * tau * (1.0 - tau) ** 2
    return value, rate


def minimum_duration(
    distance: float,
    angle: float,
    max_speed: float,
    max_acceleration: float,
    max_angular_speed: float,
    max_angular_acceleration: float,
    least: float = 0.1,
) -> float:
    """Shortest duration [s] of a minimum-jerk motion over `distance` [m] and `angle` [rad] within the limits."""
    linear = max(PEAK_SPEED * distance / max_speed, math.sqrt(PEAK_ACCELERATION * distance / max_acceleration))
    angular = max(
        PEAK_SPEED * angle / max_angular_speed, math.sqrt(PEAK_ACCELERATION * angle / max_angular_acceleration)
    )
    return max(linear, angular, least)


class PathClock:
    """How far path time lags the robot's time: `advance(time, scale)` at each tick adds (1 - scale) times the time
    since the last tick [s] to `lag`."""

    def __init__(self) -> None:
        self.lag = 0.0
        """[s] robot time minus path time."""
        self._last: float | None = None

    def advance(self, time: float, scale: float) -> float:
        """Advance to `time` [s] at speed `scale` (0..1, a non-finite one is 0) since the last call; the lag added."""
        scale = min(max(scale, 0.0), 1.0) if math.isfinite(scale) else 0.0
        added = 0.0
        if self._last is not None and time > self._last:
            added = (1.0 - scale) * min(time - self._last, 1.0)
            self.lag += added
        self._last = time if self._last is None else max(self._last, time)
        return added


@dataclass(frozen=True)
class PathLimits:
    """Speed and acceleration limits of a gripper path."""

    max_speed: float = param(0.25, "Fastest gripper speed along a path.", unit="m/s", low=0.0, high=1000.0)
    max_acceleration: float = param(
        0.5, "Largest gripper acceleration along a path.", unit="m/s^2", low=0.0, high=1000.0
    )
    max_angular_speed: float = param(0.8, "Fastest gripper turn along a path.", unit="rad/s", low=0.0, high=1000.0)
    max_angular_acceleration: float = param(
        2.0, "Largest angular acceleration of the gripper along a path.", unit="rad/s^2", low=0.0, high=1000.0
    )


class MinimumJerkPath:
    """A gripper path from `start` to `goal` (pin.SE3 in odom), starting at `start_time` [s].

    Args:
        start, goal: gripper poses.
        start_time: when the motion starts [s].
        limits: speed and acceleration limits that set the duration (or `duration` [s] if given).
        clock: a shared `PathClock` that slows or holds the path (None: the path runs on the robot's time).
    """

    def __init__(
        self,
        start: pin.SE3,
        goal: pin.SE3,
        start_time: float,
        limits: PathLimits = PathLimits(),
        duration: float | None = None,
        clock: PathClock | None = None,
    ) -> None:
        self.start, self.goal = start.copy(), goal.copy()
        self.start_time = start_time
        self.clock = clock
        self._lag0 = clock.lag if clock is not None else 0.0
        self._rotation = pin.log3(start.rotation.T @ goal.rotation)  # in the start frame
        self.distance = float(np.linalg.norm(goal.translation - start.translation))
        self.angle = float(np.linalg.norm(self._rotation))
        self.duration = (
            duration
            if duration is not None
            else minimum_duration(
                self.distance,
                self.angle,
                limits.max_speed,
                limits.max_acceleration,
                limits.max_angular_speed,
                limits.max_angular_acceleration,
            )
        )

    def _held(self) -> float:
        """[s] the path has been slowed or held since it started."""
        return self.clock.lag - self._lag0 if self.clock is not None else 0.0

    @property
    def end_time(self) -> float:
        """[s] robot time at which the path ends (later while it is slowed)."""
        return self.start_time + self.duration + self._held()

    def done(self, time: float) -> bool:
        return time >= self.end_time

    def sample(self, time: float) -> tuple[pin.SE3, np.ndarray]:
        """Pose and linear velocity [m/s] (in odom) at `time`; before the start the start pose, after the end the
        goal."""
        s, rate = minimum_jerk((time - self._held() - self.start_time) / self.duration)
        position = self.start.translation + s * (self.goal.translation - self.start.translation)
        rotation = self.start.rotation @ pin.exp3(s * self._rotation)
        velocity = (rate / self.duration) * (self.goal.translation - self.start.translation)
        return pin.SE3(rotation, position), velocity

    def remaining(self, time: float) -> float:
        """Distance [m] still to travel at `time`."""
        s, _ = minimum_jerk((time - self._held() - self.start_time) / self.duration)
        return (1.0 - s) * self.distance
