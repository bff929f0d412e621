"""The references the whole-body controller takes, as small typed carriers, and their checks.

All poses are in the world (`odom`) frame; quaternions are (x, y, z, w); sides are the robot configuration's names
(`left`, `right`). Times are simulation/ROS times [s].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pinocchio as pin

from legion_control.errors import ControlError


@dataclass(frozen=True)
class BaseState:
    """The floating base's state, as `odom` gives it (odom -> base_link)."""

    time: float
    """[s]"""
    position: np.ndarray
    """base_link origin in odom [m].  # (3,)"""
    orientation: np.ndarray
    """base_link orientation in odom, quaternion (x, y, z, w).  # (4,)"""
    linear_velocity: np.ndarray
    """Velocity of the base_link origin in base_link axes [m/s].  # (3,)"""
    angular_velocity: np.ndarray
    """Angular velocity in base_link axes [rad/s].  # (3,)"""


@dataclass(frozen=True)
class SoleReference:
    """One side's part of a gait sample."""

    in_contact: bool
    """True: the sole stands and the controller keeps it where it is; False: it swings and tracks `pose`."""
    position: np.ndarray
    """Sole origin in odom [m].  # (3,)"""
    orientation: np.ndarray
    """Sole orientation in odom, quaternion (x, y, z, w).  # (4,)"""
    velocity: np.ndarray
    """Sole origin velocity and angular velocity, odom axes [m/s, rad/s].  # (6,)"""
    acceleration: np.ndarray
    """Sole origin acceleration and angular acceleration, odom axes [m/s^2, rad/s^2].  # (6,)"""


@dataclass(frozen=True)
class GaitSample:
    """The gait planner's reference at one instant."""

    time: float
    """[s]"""
    com_position: np.ndarray
    """[m] odom.  # (3,)"""
    com_velocity: np.ndarray
    """[m/s]  # (3,)"""
    com_acceleration: np.ndarray
    """[m/s^2]  # (3,)"""
    base_orientation: np.ndarray | None
    """base_link orientation in odom (x, y, z, w), or None: level, facing the soles' mean heading.  # (4,)"""
    base_angular_velocity: np.ndarray
    """[rad/s] odom axes.  # (3,)"""
    soles: dict[str, SoleReference]
    """side -> that sole's reference."""


def _finite(name: str, values: np.ndarray, size: int) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.shape != (size,) or not np.all(np.isfinite(array)):
        raise ControlError(f"{name} must be {size} finite numbers, got {values!r}")
    return array


def _unit_quaternion(name: str, quaternion: np.ndarray) -> np.ndarray:
    q = _finite(name, quaternion, 4)
    norm = float(np.linalg.norm(q))
    if abs(norm - 1.0) > 1e-3:
        raise ControlError(f"{name} must be a unit quaternion (x, y, z, w), got norm {norm:.4f}")
    return q / norm


def checked_gait_sample(sample: GaitSample) -> GaitSample:
    """The sample with its arrays checked (finite, right sizes, unit quaternions) and quaternions normalised.

    Raises:
        ControlError: a non-finite or malformed value, or a sample in which no sole stands.
    """
    if not math.isfinite(sample.time):
        raise ControlError(f"gait sample time must be finite, got {sample.time}")
    soles = {}
    for side, sole in sample.soles.items():
        soles[side] = SoleReference(
            bool(sole.in_contact), _finite(f"{side} sole position", sole.position, 3),
            _unit_quaternion(f"{side} sole orientation", sole.orientation),
            _finite(f"{side} sole velocity", sole.velocity, 6),
            _finite(f"{side} sole acceleration", sole.acceleration, 6))
    if not any(sole.in_contact for sole in soles.values()):
        raise ControlError(f"gait sample at t={sample.time:.3f} s has no sole in contact (no flight phases)")
    orientation = None if sample.base_orientation is None else _unit_quaternion("base orientation",
                                                                                  sample.base_orientation)
    return GaitSample(sample.time, _finite("CoM position", sample.com_position, 3),
                      _finite("CoM velocity", sample.com_velocity, 3),
                      _finite("CoM acceleration", sample.com_acceleration, 3), orientation,
                      _finite("base angular velocity", sample.base_angular_velocity, 3), soles)


class GaitTrajectory:
    """A time series of gait samples, interpolated in time.

    Between two samples, CoM position, velocity and acceleration and swing sole motion are interpolated linearly
    (orientations by slerp); contact flags are those of the earlier sample. Before the first sample the first one
    holds; after the last one the last one holds, at rest (zero velocities and accelerations).

    Raises:
        ControlError: no samples, a malformed sample, or times that do not strictly increase.
    """

    def __init__(self, samples: Sequence[GaitSample]) -> None:
        if not samples:
            raise ControlError("a gait trajectory needs at least one sample")
        self.samples = [checked_gait_sample(s) for s in samples]
        self.times = np.array([s.time for s in self.samples])
        if np.any(np.diff(self.times) <= 0.0):
            raise ControlError("gait sample times must strictly increase")
        sides = set(self.samples[0].soles)
        if any(set(s.soles) != sides for s in self.samples):
            raise ControlError("every gait sample must name the same sides")

    @property
    def end_time(self) -> float:
        return float(self.times[-1])

    def sample(self, time: float) -> GaitSample:
        """The reference at `time` [s] (see the class docstring)."""
        samples, times = self.samples, self.times
        if time <= times[0]:
            return samples[0]
        if time >= times[-1]:
            last = samples[-1]
            zero3, zero6 = np.zeros(3), np.zeros(6)
            soles = {side: SoleReference(s.in_contact, s.position, s.orientation, zero6, zero6)
                     for side, s in last.soles.items()}
            return GaitSample(time, last.com_position, zero3, zero3, last.base_orientation, zero3, soles)
        i = int(np.searchsorted(times, time, side="right")) - 1
        a, b = samples[i], samples[i + 1]
        s = (time - times[i]) / (times[i + 1] - times[i])

        def lerp(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            return x + s * (y - x)

        soles = {}
        for side, sa in a.soles.items():
            sb = b.soles[side]
            soles[side] = SoleReference(sa.in_contact, lerp(sa.position, sb.position),
                                        slerp(sa.orientation, sb.orientation, s), lerp(sa.velocity, sb.velocity),
                                        lerp(sa.acceleration, sb.acceleration))
        if a.base_orientation is None or b.base_orientation is None:
            orientation = a.base_orientation
        else:
            orientation = slerp(a.base_orientation, b.base_orientation, s)
        return GaitSample(time, lerp(a.com_position, b.com_position), lerp(a.com_velocity, b.com_velocity),
                          lerp(a.com_acceleration, b.com_acceleration), orientation,
                          lerp(a.base_angular_velocity, b.base_angular_velocity), soles)


def slerp(a: np.ndarray, b: np.ndarray, s: float) -> np.ndarray:
    """Spherical interpolation of unit quaternions (x, y, z, w), s in [0, 1].  # (4,)"""
    qa = pin.Quaternion(a[3], a[0], a[1], a[2])
    qb = pin.Quaternion(b[3], b[0], b[1], b[2])
    q = qa.slerp(float(s), qb)
    return np.array([q.x, q.y, q.z, q.w])


@dataclass(frozen=True)
class BalanceOffset:
    """An offset of the CoM reference from where balancing would put it (for leaning, swaying, squatting)."""

    time: float
    """When it was sent [s]."""
    offset: np.ndarray
    """[m] in the robot's heading frame (x forward, y left, z up; heading = the stance soles' mean yaw).  # (3,)"""
    velocity: np.ndarray
    """Rate of the offset [m/s] (feed-forward), same axes.  # (3,)"""
    acceleration: np.ndarray
    """[m/s^2] (feed-forward), same axes.  # (3,)"""


def checked_balance_offset(offset: BalanceOffset, max_horizontal: float, max_lowering: float,
                           max_raising: float) -> BalanceOffset:
    """The offset, checked for finite values and range.

    Raises:
        ControlError: non-finite values, or an offset beyond the given bounds [m].
    """
    position = _finite("CoM offset", offset.offset, 3)
    velocity = _finite("CoM offset velocity", offset.velocity, 3)
    acceleration = _finite("CoM offset acceleration", offset.acceleration, 3)
    horizontal = float(np.hypot(position[0], position[1]))
    if horizontal > max_horizontal:
        raise ControlError(f"CoM offset of {horizontal:.3f} m sideways/forwards exceeds {max_horizontal} m")
    if not -max_lowering <= position[2] <= max_raising:
        raise ControlError(f"vertical CoM offset {position[2]:.3f} m is outside [-{max_lowering}, {max_raising}] m")
    return BalanceOffset(float(offset.time), position, velocity, acceleration)


@dataclass(frozen=True)
class HandTarget:
    """Where a gripper frame should go, in odom."""

    time: float
    """When it was sent [s]; older than `hand.target_timeout` means stale."""
    position: np.ndarray
    """[m]  # (3,)"""
    orientation: np.ndarray
    """(x, y, z, w)  # (4,)"""


def checked_hand_target(target: HandTarget) -> HandTarget:
    """The target with finite values and a normalised quaternion.

    Raises:
        ControlError: non-finite values or a quaternion that is not of unit length.
    """
    return HandTarget(float(target.time), _finite("hand target position", target.position, 3),
                      _unit_quaternion("hand target orientation", target.orientation))
