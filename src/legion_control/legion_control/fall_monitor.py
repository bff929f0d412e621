"""Fall detection and recovery of the whole-body controller: when to give up balancing for the protective fall
posture (or joint damping), and when the robot stands again.

A fall is a base tilt beyond `fall.max_tilt`, a CoM lower than `fall.min_com_height_ratio` of the standing height
above the lowest sole, or a CoM farther than `fall.com_margin_ratio` x the standing CoM height outside the support
polygon (the stance soles' rectangles plus, while a gait reference swings a sole, the rectangle where it will land):
a fall that has happened. A fall is also declared when it can no longer be prevented: the capture point (divergent
component of motion, CoM + CoM velocity / omega with omega = sqrt(g / CoM height above the lowest sole)) has been
outside that support polygon for `fall.capture_time`, farther than the longest step the robot can take in that
direction (`StepReach`, from its walking dimensions) times `fall.capture_reach_scale`, with the base (the IMU's
attitude) tilted at least `fall.capture_min_tilt`. A push the robot can still step out of leaves the capture point
within a step of the support; a push it cannot puts it beyond, where it keeps diverging, well before the base has
tilted far. The tilt condition keeps wrong joint states (a wrong CoM velocity) from folding a standing robot.
The robot has recovered when it has stood upright on both flat, level soles, CoM over them and near its standing
height, for `fall.recovery_time`.

Poses are in odom; the monitor takes them as arguments and never reads a clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pinocchio as pin

from legion_control.parameters import FallParameters
from legion_model import sole_corners_in_world
from legion_model.support_polygon import convex_hull_2d

SUPPORT_POLYGON_REFRESH = 0.5
"""[s] the support polygon is recomputed this often (and whenever the stance changes): stance soles do not move."""
GRAVITY = 9.81
"""[m/s^2]"""


@dataclass(frozen=True)
class StepReach:
    """How far one step moves the support polygon's edge outwards [m], in the robot's heading frame: forward and
    backward, the longest step relative to the stance sole (the gait planner's `max_step_forward`,
    `max_step_backward`); sideways, the widest lateral sole distance less the nominal one (`max_step_outward -
    step_width`)."""

    forward: float
    backward: float
    lateral: float

    def along(self, direction: np.ndarray) -> float:
        """Reach [m] along a ground direction in the heading frame (a unit vector (x, y)): the ellipse through the
        forward (or backward) and lateral reaches."""
        along_x = self.forward if direction[0] >= 0.0 else self.backward
        scaled = math.hypot(direction[0] / along_x, direction[1] / self.lateral)
        return 1.0 / scaled if scaled > 0.0 else min(along_x, self.lateral)

    @classmethod
    def from_walking(cls, dimensions: Mapping[str, float]) -> StepReach:
        """From walking dimensions [m] (`max_step_forward`, `max_step_backward`, `max_step_outward`, `step_width`:
        the keys of a robot file's `walking:` block, or the gait planner's resolved dimensions)."""
        return cls(forward=float(dimensions["max_step_forward"]), backward=float(dimensions["max_step_backward"]),
                   lateral=max(float(dimensions["max_step_outward"]) - float(dimensions["step_width"]), 1e-3))


class FallMonitor:
    """Decides fallen / recovered from the robot's state (see the module docstring).

    Args:
        params: the fall thresholds.
        standing_com_height: CoM height above the soles in the standing posture [m].
        sole_length, sole_width: the sole rectangle [m].
        step_reach: the robot's longest steps (None: no capture-point criterion).
    """

    def __init__(self, params: FallParameters, standing_com_height: float, sole_length: float,
                 sole_width: float, step_reach: StepReach | None = None) -> None:
        self.params = params
        self.standing_com_height = standing_com_height
        self.sole_length = sole_length
        self.sole_width = sole_width
        self.step_reach = step_reach
        self._cos_max_tilt = math.cos(params.max_tilt)
        self.reset()

    def reset(self) -> None:
        self._upright_since: float | None = None
        self._beyond_reach_since: float | None = None
        self.capture_outside = 0.0
        """[m] the capture point's distance outside the support polygon at the last `fall_reason` (negative
        inside; 0 before the first or without a CoM velocity)."""
        self.capture_reach = 0.0
        """[m] the step reach in that direction (times `capture_reach_scale`)."""
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

    def capture_point(self, com: np.ndarray, com_velocity: np.ndarray, ground: float) -> np.ndarray:
        """The capture point on the ground (x, y) [m]: CoM + CoM velocity / omega, omega = sqrt(g / CoM height above
        `ground`) (the height at least a tenth of the standing one)."""
        height = max(float(com[2]) - ground, 0.1 * self.standing_com_height)
        return com[:2] + com_velocity[:2] * math.sqrt(height / GRAVITY)

    def _beyond_reach(self, now: float, com: np.ndarray, com_velocity: np.ndarray, ground: float,
                      heading: np.ndarray, support: Mapping[str, pin.SE3], landings: Mapping[str, pin.SE3]) -> str:
        """The capture-point criterion (see the module docstring): its reason once it has held for `capture_time`,
        else ""."""
        point = self.capture_point(com, com_velocity, ground)
        normals, offsets = self.support_edges(now, support, landings)
        distances = normals @ point - offsets
        edge = int(np.argmax(distances))
        outside = float(distances[edge])
        normal = normals[edge]
        direction = np.array([heading @ normal, heading[0] * normal[1] - heading[1] * normal[0]])
        reach = self.params.capture_reach_scale * self.step_reach.along(direction)
        self.capture_outside, self.capture_reach = outside, reach
        if outside <= reach:
            self._beyond_reach_since = None
            return ""
        if self._beyond_reach_since is None:
            self._beyond_reach_since = now
        if now - self._beyond_reach_since + 1e-9 < self.params.capture_time:
            return ""
        return f"capture point {outside:.2f} m outside the support, beyond the {reach:.2f} m reach"

    def fall_reason(self, now: float, base_rotation: np.ndarray, com: np.ndarray, soles: Mapping[str, pin.SE3],
                    stance: Sequence[str], landings: Mapping[str, pin.SE3],
                    com_velocity: np.ndarray | None = None) -> str:
        """Why the robot has fallen (or will, unavoidably), or "" if it has not. Call once per cycle: the
        capture-point criterion counts how long it has held.

        Args:
            now: time [s] (for the support polygon cache and the capture-point criterion's duration).
            base_rotation: the base orientation in odom.  # (3, 3)
            com: the CoM in odom [m].  # (3,)
            soles: side -> every sole's pose in odom.
            stance: the sides that stand.
            landings: side -> where a swinging sole will land (see the module docstring).
            com_velocity: the CoM velocity in odom [m/s] (None: no capture-point criterion).  # (3,)
        """
        fall = self.params
        upright = float(base_rotation[2, 2])  # cosine of the tilt
        if upright < self._cos_max_tilt:
            tilt = math.acos(max(-1.0, min(1.0, upright)))
            return f"base tilt {tilt:.2f} rad > {fall.max_tilt} rad"
        ground = min(sole.translation[2] for sole in soles.values())
        if com[2] - ground < fall.min_com_height_ratio * self.standing_com_height:
            return f"CoM height {com[2] - ground:.2f} m too low"
        support = {side: soles[side] for side in stance}
        outside = self.distance_outside(now, com[:2], support, landings)
        if outside > fall.com_margin_ratio * self.standing_com_height:
            return f"CoM {outside:.2f} m outside the support polygon"
        if com_velocity is None or self.step_reach is None or not fall.capture_point:
            return ""
        heading = base_rotation[:2, 0]
        norm = math.hypot(heading[0], heading[1])
        heading = heading / norm if norm > 1e-6 else np.array([1.0, 0.0])
        reason = self._beyond_reach(now, com, com_velocity, ground, heading, support, landings)
        if reason and upright > math.cos(fall.capture_min_tilt):
            return ""  # not tipping (yet): the CoM velocity alone, from the joint encoders, does not fold the robot
        return reason

    def recovered(self, now: float, base_rotation: np.ndarray, com: np.ndarray, soles: Mapping[str, pin.SE3],
                  com_velocity: np.ndarray | None = None) -> bool:
        """Whether the robot has stood upright on all its flat, level soles, CoM (and, given the CoM velocity, the
        capture point) over them and near its standing height, for the recovery time (call once per cycle while
        fallen)."""
        tilt = math.acos(float(np.clip(base_rotation[2, 2], -1.0, 1.0)))
        poses = list(soles.values())
        flat = all(sole.rotation[2, 2] > math.cos(0.05) for sole in poses)
        level = max(s.translation[2] for s in poses) - min(s.translation[2] for s in poses) < 0.02
        inside = self.distance_outside(now, com[:2], soles, {}) < -0.02
        if inside and com_velocity is not None:
            ground = min(s.translation[2] for s in poses)
            inside = self.distance_outside(now, self.capture_point(com, com_velocity, ground), soles, {}) < 0.0
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
        self._beyond_reach_since = None
