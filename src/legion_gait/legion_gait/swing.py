"""Swing-foot trajectories: lift off, clear the floor by the step height, land softly, re-targetable in flight.

Horizontally (x, y and yaw), the sole follows a quintic from its state at the segment start to the landing pose at
touch-down with zero velocity and acceleration (a minimum-jerk move when it starts at rest). Re-targeting in flight
(`retarget`) starts a new quintic from the current position, velocity and acceleration, so the motion stays twice
differentiable. Vertically, with s = (t - lift_off) / duration in [0, 1]:

    z(s) = z0 + (z1 - z0) (10 s^3 - 15 s^4 + 6 s^5) + h * 64 s^3 (1 - s)^3

which reaches the clearance h above the straight line at mid-swing and leaves and meets the floor with zero velocity
and acceleration. Landing earlier (`retime`, to step sooner after a push) replaces both by quintics from the current
state to the landing pose and height at the new touch-down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from legion_common.transforms import wrap_angle


def quintic_coefficients(p0: np.ndarray, v0: np.ndarray, a0: np.ndarray, p1: np.ndarray, duration: float
                         ) -> np.ndarray:
    """Coefficients c (6, n) of p(tau) = sum_k c_k tau^k, tau in [0, duration], from (p0, v0, a0) at 0 to p1 at rest
    at `duration` [s]."""
    T = duration
    c0, c1, c2 = p0, v0, 0.5 * a0
    delta = p1 - c0 - c1 * T - c2 * T * T
    # The last three coefficients solve [T^3 T^4 T^5; 3T^2 4T^3 5T^4; 6T 12T^2 20T^3] c = [delta, -v, -a] at T.
    rhs = np.stack([delta, -(c1 + 2.0 * c2 * T), -2.0 * c2])  # (3, n)
    matrix = np.array([[T**3, T**4, T**5], [3 * T**2, 4 * T**3, 5 * T**4], [6 * T, 12 * T**2, 20 * T**3]])
    c345 = np.linalg.solve(matrix, rhs)
    return np.vstack([c0, c1, c2, c345])


def evaluate_polynomial(coefficients: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value, first and second derivative of a polynomial (k, n) at times tau (m,): each (m, n)."""
    powers = np.arange(coefficients.shape[0])
    tau = np.asarray(tau, dtype=float)[:, None]
    value = (tau ** powers) @ coefficients
    d1 = (powers[1:] * tau ** (powers[1:] - 1)) @ coefficients[1:]
    d2 = (powers[2:] * (powers[2:] - 1) * tau ** (powers[2:] - 2)) @ coefficients[2:]
    return value, d1, d2


@dataclass(frozen=True)
class SwingState:
    """A sole's planar state: pose (x, y, yaw), its rate and acceleration, and its height with rates."""

    pose: np.ndarray
    """(x [m], y [m], yaw [rad]) in odom.  # (m, 3)"""
    velocity: np.ndarray
    """[m/s, m/s, rad/s]  # (m, 3)"""
    acceleration: np.ndarray
    """[m/s^2, m/s^2, rad/s^2]  # (m, 3)"""
    height: np.ndarray
    """z [m], dz/dt [m/s], d2z/dt2 [m/s^2].  # (m, 3)"""


class SwingTrajectory:
    """One swing of one sole from `start` (lifted at `lift_off`) to `end` (landed at `touch_down`).

    Args:
        start, end: sole poses (x, y, yaw) in odom at lift-off and touch-down.  # (3,)
        start_height, end_height: sole z at lift-off and touch-down [m].
        lift_off, touch_down: times [s].
        clearance: height above the straight line between the two heights at mid-swing [m].
    """

    def __init__(self, start: np.ndarray, end: np.ndarray, start_height: float, end_height: float, lift_off: float,
                 touch_down: float, clearance: float) -> None:
        self.start = np.asarray(start, dtype=float)
        self.end = self._unwrapped(np.asarray(end, dtype=float), self.start[2])
        self.start_height, self.end_height = float(start_height), float(end_height)
        self.lift_off, self.touch_down = float(lift_off), float(touch_down)
        self.nominal_duration = self.touch_down - self.lift_off
        """[s] the duration the clearance profile was planned for."""
        self.clearance = float(clearance)
        self.segment_start = self.lift_off
        zero = np.zeros(3)
        self._coefficients = quintic_coefficients(self.start, zero, zero, self.end, self.duration)
        self._vertical: tuple[float, np.ndarray] | None = None
        """After `retime`: (start time, quintic coefficients (6, 1)) of the height; None: the clearance profile."""

    @staticmethod
    def _unwrapped(pose: np.ndarray, reference_yaw: float) -> np.ndarray:
        return np.array([pose[0], pose[1], reference_yaw + wrap_angle(pose[2] - reference_yaw)])

    @property
    def duration(self) -> float:
        return self.touch_down - self.lift_off

    @property
    def landing(self) -> np.ndarray:
        """Landing pose (x, y, yaw) with yaw wrapped to [-pi, pi).  # (3,)"""
        return np.array([self.end[0], self.end[1], wrap_angle(self.end[2])])

    def _copy(self) -> SwingTrajectory:
        moved = SwingTrajectory.__new__(SwingTrajectory)
        moved.__dict__.update(self.__dict__)
        return moved

    def retarget(self, time: float, end: np.ndarray) -> SwingTrajectory:
        """The same swing, landing at `end` instead, leaving the current one smoothly at `time` [s]."""
        state = self.evaluate(np.array([time]))
        moved = self._copy()
        moved.end = self._unwrapped(np.asarray(end, dtype=float), state.pose[0, 2])
        moved.segment_start = float(np.clip(time, self.lift_off, self.touch_down - 1e-3))
        moved._coefficients = quintic_coefficients(state.pose[0], state.velocity[0], state.acceleration[0],
                                                   moved.end, self.touch_down - moved.segment_start)
        return moved

    def retime(self, time: float, touch_down: float, end: np.ndarray) -> SwingTrajectory:
        """The same swing, landing at `end` at the earlier `touch_down` [s], leaving the current one smoothly at
        `time` [s] (horizontally and vertically).

        Raises:
            ValueError: `touch_down` is not after `time`.
        """
        if touch_down <= time:
            raise ValueError(f"a swing cannot land at {touch_down:.3f} s, before {time:.3f} s")
        state = self.evaluate(np.array([time]))
        moved = self._copy()
        moved.touch_down = float(touch_down)
        moved.end = self._unwrapped(np.asarray(end, dtype=float), state.pose[0, 2])
        moved.segment_start = float(time)
        duration = moved.touch_down - moved.segment_start
        moved._coefficients = quintic_coefficients(state.pose[0], state.velocity[0], state.acceleration[0],
                                                   moved.end, duration)
        height = state.height[0]
        moved._vertical = (float(time), quintic_coefficients(height[:1], height[1:2], height[2:3],
                                                             np.array([self.end_height]), duration))
        return moved

    def evaluate(self, times: np.ndarray) -> SwingState:
        """The sole state at `times` [s] (clamped to the swing).  # each (m, 3)"""
        t = np.clip(np.asarray(times, dtype=float), self.lift_off, self.touch_down)
        tau = np.clip(t - self.segment_start, 0.0, self.touch_down - self.segment_start)
        pose, velocity, acceleration = evaluate_polynomial(self._coefficients, tau)
        if self._vertical is not None:
            start, coefficients = self._vertical
            z, dz, ddz = evaluate_polynomial(coefficients, np.clip(t - start, 0.0, self.touch_down - start))
            return SwingState(pose, velocity, acceleration, np.column_stack([z[:, 0], dz[:, 0], ddz[:, 0]]))
        T = self.nominal_duration
        s = (t - self.lift_off) / T
        blend = 10 * s**3 - 15 * s**4 + 6 * s**5
        blend_d = (30 * s**2 - 60 * s**3 + 30 * s**4) / T
        blend_dd = (60 * s - 180 * s**2 + 120 * s**3) / T**2
        bump = 64.0 * s**3 * (1 - s) ** 3
        bump_d = 64.0 * (3 * s**2 * (1 - s) ** 3 - 3 * s**3 * (1 - s) ** 2) / T
        bump_dd = 64.0 * (6 * s * (1 - s) ** 3 - 18 * s**2 * (1 - s) ** 2 + 6 * s**3 * (1 - s)) / T**2
        dz = self.end_height - self.start_height
        h = self.clearance
        height = np.stack([self.start_height + dz * blend + h * bump, dz * blend_d + h * bump_d,
                           dz * blend_dd + h * bump_dd], axis=1)
        return SwingState(pose, velocity, acceleration, height)
