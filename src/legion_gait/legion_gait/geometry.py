"""Planar poses on the floor, as (x [m], y [m], yaw [rad]) arrays: composition, inverse and relative poses.

`compose(a, b)` is `a ⊕ b`: pose `b` given in frame `a`, expressed in the frame `a` is given in. So
`compose(sole_to_odom, offset_in_sole)` is where a point offset from the sole lies in odom, and
`relative(a, b) = inverse(a) ⊕ b` is pose `b` seen from frame `a`. Angles, quaternions and rotation matrices are
`legion_common.transforms`.
"""

from __future__ import annotations

import math

import numpy as np

from legion_common.transforms import wrap_angle


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
