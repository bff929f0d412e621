"""Rotations and poses on numpy arrays: quaternions (x, y, z, w), rotation matrices, yaw and tilt.

Quaternions are in ROS order (x, y, z, w). Nothing here imports ROS.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


class TransformError(ValueError):
    """A quaternion or pose that is not finite or not a rotation."""


def wrap_angle(angle: float, period: float = 2.0 * math.pi) -> float:
    """`angle` wrapped into [-period/2, period/2) [rad] (period pi/2 for a square's symmetry, pi for a rectangle's)."""
    return (angle + period / 2.0) % period - period / 2.0


def mean_yaw(a: float, b: float) -> float:
    """The yaw halfway between `a` and `b` along the shorter arc [rad]."""
    return wrap_angle(a + 0.5 * wrap_angle(b - a))


def quaternion_to_matrix(quaternion_xyzw: Sequence[float] | np.ndarray) -> np.ndarray:
    """Quaternion (x, y, z, w) -> rotation matrix; the quaternion is normalised first.  # (3, 3)

    Raises:
        TransformError: not four finite numbers, or (almost) zero norm.
    """
    q = np.asarray(quaternion_xyzw, dtype=np.float64)
    norm = float(np.linalg.norm(q)) if q.shape == (4,) else float("nan")
    if not math.isfinite(norm) or norm < 1e-6:
        raise TransformError(f"invalid quaternion {q.tolist()}")
    x, y, z, w = q / norm
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def matrix_to_quaternion(rotation: np.ndarray) -> np.ndarray:
    """Rotation matrix -> unit quaternion (x, y, z, w) with w >= 0.  # (4,)"""
    m = np.asarray(rotation, dtype=np.float64)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 2.0 * math.sqrt(trace + 1.0)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, 0.25 * s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = 2.0 * math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s, (m[1, 0] - m[0, 1]) / s]
    result = np.array(q)
    result /= np.linalg.norm(result)
    return -result if result[3] < 0 else result


def quaternion_from_yaw(yaw: float) -> np.ndarray:
    """Level rotation by `yaw` [rad] about z, as a quaternion (x, y, z, w).  # (4,)"""
    return np.array([0.0, 0.0, math.sin(0.5 * yaw), math.cos(0.5 * yaw)])


def yaw_from_quaternion(quaternion_xyzw: Sequence[float] | np.ndarray) -> float:
    """Heading [rad] of a rotation given as a quaternion (x, y, z, w): the yaw of its x axis projected on the
    floor."""
    x, y, z, w = (float(v) for v in quaternion_xyzw)
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def tilt_from_quaternion(quaternion_xyzw: Sequence[float] | np.ndarray) -> float:
    """Angle [rad] between the rotated z axis and the world z axis."""
    x, y, z, w = (float(v) for v in quaternion_xyzw)
    norm2 = x * x + y * y + z * z + w * w
    cos_tilt = 1.0 - 2.0 * (x * x + y * y) / (norm2 if norm2 > 0.0 else 1.0)
    return math.acos(max(-1.0, min(1.0, cos_tilt)))


def rotation_z(yaw: float) -> np.ndarray:
    """Rotation matrix about z by `yaw` [rad].  # (3, 3)"""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def yaw_from_matrix(rotation: np.ndarray) -> float:
    """Heading [rad] of a rotation matrix: the yaw of its x axis projected on the floor."""
    return math.atan2(rotation[1, 0], rotation[0, 0])


def pose_to_matrix(position: Sequence[float] | np.ndarray, quaternion_xyzw: Sequence[float] | np.ndarray
                   ) -> np.ndarray:
    """Position [m] and orientation -> homogeneous transform (frame -> parent).  # (4, 4)

    Raises:
        TransformError: a position that is not three finite numbers, or an invalid quaternion.
    """
    transform = np.eye(4)
    transform[:3, :3] = quaternion_to_matrix(quaternion_xyzw)
    position = np.asarray(position, dtype=np.float64)
    if position.shape != (3,) or not np.isfinite(position).all():
        raise TransformError(f"invalid position {position.tolist()}")
    transform[:3, 3] = position
    return transform


def invert_transform(transform: np.ndarray) -> np.ndarray:
    """Inverse of a homogeneous rigid transform.  # (4, 4)"""
    rotation = transform[:3, :3]
    inverse = np.eye(4)
    inverse[:3, :3] = rotation.T
    inverse[:3, 3] = -rotation.T @ transform[:3, 3]
    return inverse
