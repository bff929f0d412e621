"""Fall detection and recovery of the whole-body controller: when to give up balancing for joint damping, and when
the robot stands again.

A fall is a base tilt beyond `fall.max_tilt`, a CoM lower than `fall.min_com_height_ratio` of the standing height
above the lowest sole, or a CoM farther than `fall.com_margin_ratio` x the standing CoM height outside the support
polygon (the stance soles' rectangles plus, while a gait reference swings a sole, the rectangle where it will land).
The robot has recovered when it has stood upright on both flat, level soles, CoM over them and near its standing
height, for `fall.recovery_time`.

Poses are in odom; the monitor takes them as arguments and never reads a clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pinocchio as pin

from legion_control.parameters import FallParameters
from legion_model import sole_corners_in_world
from legion_model.support_polygon import convex_hull_2d

SUPPORT_POLYGON_REFRESH = 0.5
"""[s] the support polygon is recomputed this often (and whenever the stance changes): stance soles do not move."""


class FallMonitor:
    """Decides fallen / recovered from the robot's state (see the module docstring).

    Args:
        params: the fall thresholds.
        standing_com_height: CoM height above the soles in the standing posture [m].
        sole_length, sole_width: the sole rectangle [m].
    """

    def __init__(self, params: FallParameters, standing_com_height: float, sole_length: float,
                 sole_width: float) -> None:
        self.params = params
        self.standing_com_height = standing_com_height
        self.sole_length = sole_length
        self.sole_width = sole_width
        self._cos_max_tilt = math.cos(params.max_tilt)
        self.reset()

    def reset(self) -> None:
        self._upright_since: float | None = None
        self._support_cache: dict[tuple, tuple[float, np.ndarray, np.ndarray]] = {}

    def support_edges(self, now: float, soles: Mapping[str, pin.SE3], landings: Mapping[str, pin.SE3]
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Support polygon of the soles' rectangles and the landing rectangles as half-planes `normals @ p <=
        offsets` (outward unit edge normals), cached for `SUPPORT_POLYGON_REFRESH` per set of sides.  # (k, 2), (k,)
        """
        key = (tuple(soles), tuple(landings))
        cached = self._support_cache.get(key)
        if cached is not None and 0.0 <= now - cached[0] < SUPPORT_POLYGON_REFRESH:
            return cached[1], cached[2]
        poses = list(soles.values()) + list(landings.values())
        corners = [sole_corners_in_world(pose, self.sole_length, self.sole_width)[:, :2] for pose in poses]
        hull = convex_hull_2d(np.vstack(corners))
        edges = np.roll(hull, -1, axis=0) - hull
        normals = np.stack((edges[:, 1], -edges[:, 0]), axis=1)
        normals /= np.linalg.norm(normals, axis=1, keepdims=True)
        offsets = np.sum(normals * hull, axis=1)
        self._support_cache[key] = (now, normals, offsets)
        return normals, offsets

    def distance_outside(self, now: float, point: np.ndarray, soles: Mapping[str, pin.SE3],
                         landings: Mapping[str, pin.SE3]) -> float:
        """Largest signed distance [m] of a ground point from the support polygon's edge lines: its distance outside
        the polygon (at most that near a corner), negative inside (the depth)."""
        normals, offsets = self.support_edges(now, soles, landings)
        return float((normals @ point - offsets).max())

    def fall_reason(self, now: float, base_rotation: np.ndarray, com: np.ndarray, soles: Mapping[str, pin.SE3],
                    stance: Sequence[str], landings: Mapping[str, pin.SE3]) -> str:
        """Why the robot has fallen, or "" if it has not.

        Args:
            now: time [s] (for the support polygon cache).
            base_rotation: the base orientation in odom.  # (3, 3)
            com: the CoM in odom [m].  # (3,)
            soles: side -> every sole's pose in odom.
            stance: the sides that stand.
            landings: side -> where a swinging sole will land (see the module docstring).
        """
        fall = self.params
        upright = float(base_rotation[2, 2])  # cosine of the tilt
        if upright < self._cos_max_tilt:
            tilt = math.acos(max(-1.0, min(1.0, upright)))
            return f"base tilt {tilt:.2f} rad > {fall.max_tilt} rad"
        ground = min(sole.translation[2] for sole in soles.values())
        if com[2] - ground < fall.min_com_height_ratio * self.standing_com_height:
            return f"CoM height {com[2] - ground:.2f} m too low"
        outside = self.distance_outside(now, com[:2], {side: soles[side] for side in stance}, landings)
        if outside > fall.com_margin_ratio * self.standing_com_height:
            return f"CoM {outside:.2f} m outside the support polygon"
        return ""

    def recovered(self, now: float, base_rotation: np.ndarray, com: np.ndarray, soles: Mapping[str, pin.SE3]) -> bool:
        """Whether the robot has stood upright on all its flat, level soles, CoM over them and near its standing
        height, for the recovery time (call once per cycle while fallen)."""
        tilt = math.acos(float(np.clip(base_rotation[2, 2], -1.0, 1.0)))
        poses = list(soles.values())
        flat = all(sole.rotation[2, 2] > math.cos(0.05) for sole in poses)
        level = max(s.translation[2] for s in poses) - min(s.translation[2] for s in poses) < 0.02
        inside = self.distance_outside(now, com[:2], soles, {}) < -0.02
        height = com[2] - min(s.translation[2] for s in poses)
        tall = height > 0.9 * self.standing_com_height
        if tilt < 0.25 * self.params.max_tilt and flat and level and inside and tall:
            if self._upright_since is None:
                self._upright_since = now
            return now - self._upright_since >= self.params.recovery_time
        self._upright_since = None
        return False

    def fell(self) -> None:
        """A fall was declared: recovery starts counting afresh."""
        self._upright_since = None
