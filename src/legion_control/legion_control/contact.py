"""Contact wrench cone of a rectangular sole: the linear inequalities a sole's contact wrench must satisfy.

A sole in flat contact with the ground can only push (unilateral), cannot slip (friction) and cannot tilt (its
centre of pressure stays inside the sole). With a linearised (pyramidal) friction cone of coefficient mu and a sole
rectangle of half-length X (along the sole x axis) and half-width Y, the wrench w = (f, tau) the ground exerts on the
sole, expressed in the sole frame and taken about the sole origin (the rectangle's centre), is feasible exactly when
`U w <= 0` for the 16 rows below (Caron, Pham, Nakamura, "Stability of surface contacts for humanoid robots:
closed-form formulae of the contact wrench cone for rectangular support areas", ICRA 2015):

    |f_x| <= mu f_z,   |f_y| <= mu f_z                    (friction)
    |tau_x| <= Y f_z,  |tau_y| <= X f_z                   (centre of pressure inside the rectangle)
    tau_min <= tau_z <= tau_max                           (yaw torque), with
    tau_min = -mu (X + Y) f_z + |Y f_x - mu tau_x| + |X f_y - mu tau_y|
    tau_max = +mu (X + Y) f_z - |Y f_x + mu tau_x| - |X f_y + mu tau_y|

Each absolute value splits into its two signs, giving 4 + 4 rows for the yaw torque. f_z >= 0 follows from the
friction rows. The centre of pressure is (-tau_y / f_z, tau_x / f_z).
"""

from __future__ import annotations

import math

import numpy as np

from legion_control.errors import ControlError

CONE_ROWS = 16
"""Rows of `wrench_cone_matrix`."""


def wrench_cone_matrix(friction: float, half_length: float, half_width: float) -> np.ndarray:
    """The contact wrench cone U of a rectangular sole, with `U w <= 0` for every feasible contact wrench.

    Args:
        friction: friction coefficient mu of the pyramidal cone (apply an inner approximation of the true
            circular cone, mu / sqrt(2), before calling if the pyramid must lie inside it).
        half_length: X, half the rectangle's length along the sole x axis [m].
        half_width: Y, half the rectangle's width along the sole y axis [m].

    Returns:
        U, for w = (f_x, f_y, f_z, tau_x, tau_y, tau_z) in the sole frame about the sole origin [N, N m].  # (16, 6)

    Raises:
        ControlError: a non-positive or non-finite argument.
    """
    mu, X, Y = friction, half_length, half_width
    if not all(math.isfinite(a) and a > 0.0 for a in (mu, X, Y)):
        raise ControlError(f"wrench cone needs positive friction and sole size, got mu={mu}, X={X}, Y={Y}")
    rows = [
        [1.0, 0.0, -mu, 0.0, 0.0, 0.0],
        [-1.0, 0.0, -mu, 0.0, 0.0, 0.0],
        [0.0, 1.0, -mu, 0.0, 0.0, 0.0],
        [0.0, -1.0, -mu, 0.0, 0.0, 0.0],
        [0.0, 0.0, -Y, 1.0, 0.0, 0.0],
        [0.0, 0.0, -Y, -1.0, 0.0, 0.0],
        [0.0, 0.0, -X, 0.0, 1.0, 0.0],
        [0.0, 0.0, -X, 0.0, -1.0, 0.0],
    ]
    for s1 in (1.0, -1.0):
        for s2 in (1.0, -1.0):
            # tau_z >= tau_min:  -mu (X + Y) f_z + s1 (Y f_x - mu tau_x) + s2 (X f_y - mu tau_y) - tau_z <= 0
            rows.append([s1 * Y, s2 * X, -mu * (X + Y), -s1 * mu, -s2 * mu, -1.0])
            # tau_z <= tau_max:  tau_z + s1 (Y f_x + mu tau_x) + s2 (X f_y + mu tau_y) - mu (X + Y) f_z <= 0
            rows.append([s1 * Y, s2 * X, -mu * (X + Y), s1 * mu, s2 * mu, 1.0])
    return np.array(rows)


def centre_of_pressure(wrench: np.ndarray) -> np.ndarray:
    """Centre of pressure (x, y) in the sole frame [m] of a sole wrench (f, tau) about the sole origin; NaN when
    the normal force is not positive.  # (2,)"""
    fz = wrench[2]
    if fz <= 0.0:
        return np.full(2, np.nan)
    return np.array([-wrench[4] / fz, wrench[3] / fz])
