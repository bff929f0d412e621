"""Planar poses on the floor, as (x [m], y [m], yaw [rad]) arrays, and the few rotations the planner needs.

`compose(a, b)` is `a ⊕ b`: pose `b` given in frame `a`, expressed in the frame `a` is given in. So
`compose(sole_to_odom, offset_in_sole)` is where a point offset from the sole lies in odom, and
`relative(a, b) = inverse(a) ⊕ b` is pose `b` seen from frame `a`.
"""

from __future__ import annotations

import math

import numpy as np


def wrap_angle(angle: float) -> float:
    """The angle in [-pi, pi) [rad]."""
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


def pose2(x: float, y: float, yaw: float) -> np.ndarray:
    """A planar pose (x [m], y [m], yaw [rad]).  # (3,)"""
    return np.array([x, y, yaw], dtype=float)


def rotation2(yaw: float) -> np.ndarray:
    """2D rotation matrix of `yaw` [rad].  # (2, 2)"""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s], [s, c]])


def compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`a ⊕ b`: pose `b` (given in frame `a`) in the frame `a` is given in.  # (3,)"""
    xy = a[:2] + rotation2(a[2]) @ b[:2]
    return np.array([xy[0], xy[1], wrap_angle(a[2] + b[2])])


def inverse(a: np.ndarray) -> np.ndarray:
    """The pose of the parent frame seen from frame `a`.  # (3,)"""
    xy = -(rotation2(a[2]).T @ a[:2])
    return np.array([xy[0], xy[1], wrap_angle(-a[2])])


def relative(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pose `b` seen from frame `a` (both given in the same frame).  # (3,)"""
    xy = rotation2(a[2]).T @ (b[:2] - a[:2])
    return np.array([xy[0], xy[1], wrap_angle(b[2] - a[2])])


def mean_yaw(a: float, b: float) -> float:
    """The yaw halfway between `a` and `b` along the shorter arc [rad]."""
    return wrap_angle(a + 0.5 * wrap_angle(b - a))


def yaw_from_quaternion(x: float, y: float, z: float, w: float) -> float:
    """Heading [rad] of a rotation given as a quaternion (x, y, z, w): the yaw of its x axis projected on the floor."""
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def tilt_from_quaternion(x: float, y: float, z: float, w: float) -> float:
    """Angle [rad] between the rotated z axis and the world z axis."""
    cos_tilt = 1.0 - 2.0 * (x * x + y * y)
    return math.acos(max(-1.0, min(1.0, cos_tilt)))


def quaternion_from_yaw(yaw: float) -> np.ndarray:
    """Level rotation by `yaw` [rad] about z, as a quaternion (x, y, z, w).  # (4,)"""
    return np.array([0.0, 0.0, math.sin(0.5 * yaw), math.cos(0.5 * yaw)])


def yaw_from_rotation(rotation: np.ndarray) -> float:
    """Heading [rad] of a 3x3 rotation matrix (yaw of its x axis projected on the floor)."""
    return math.atan2(rotation[1, 0], rotation[0, 0])
