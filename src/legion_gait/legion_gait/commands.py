"""What the planner is asked to do: a velocity command (cmd_vel) or a goal pose (walk_to), checked and clamped.

Both checks return or raise with a message a person can act on; the node logs it and reports it on `diagnostics`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from legion_common.transforms import tilt_from_quaternion, yaw_from_quaternion
from legion_gait.errors import GaitError
from legion_gait.geometry import pose2
from legion_gait.parameters import GaitParameters

GOAL_MAX_TILT = 0.1
"""[rad] a walk_to goal orientation tilted more than this from level is not a pose on the floor."""
GOAL_MAX_HEIGHT = 0.25
"""[m] a walk_to goal farther than this above or below the floor is not a pose on the floor."""


@dataclass(frozen=True)
class VelocityCommand:
    """A checked velocity command."""

    time: float
    """[s] when it arrived; it goes stale `command_timeout` later."""
    velocity: np.ndarray
    """(forward [m/s], left [m/s], yaw rate [rad/s]) in the robot's heading frame, within the limits.  # (3,)"""


def velocity_limits(params: GaitParameters) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of (forward, left, yaw rate) [m/s, m/s, rad/s].  # (3,), (3,)"""
    upper = np.array([params.max_forward_speed, params.max_lateral_speed, params.max_yaw_rate])
    lower = np.array([-params.max_backward_speed, -params.max_lateral_speed, -params.max_yaw_rate])
    return lower, upper


def check_twist(time: float, linear: tuple[float, float, float], angular: tuple[float, float, float],
                params: GaitParameters) -> tuple[VelocityCommand | None, list[str]]:
    """A cmd_vel Twist as a velocity command, or None if it must be rejected; with warnings.

    - any non-finite component: rejected (the last good command stays in force until it goes stale);
    - forward, sideways or yaw rate beyond `absurd_command_factor` times its limit: rejected as absurd;
    - beyond its limit but not absurd: clamped to the limit, with a warning;
    - linear.z, angular.x and angular.y have no meaning for walking and are ignored;
    - the clamped (forward, left, yaw rate) is then scaled down, keeping its direction, onto the ellipsoid
      sum (v_i / limit_i)^2 <= 1, because the step limits do not allow all three maxima at once.
    """
    values = [*linear, *angular]
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        return None, [f"cmd_vel rejected: non-finite value in linear={tuple(linear)} angular={tuple(angular)}; "
                      "the last good command stays until it goes stale"]
    lower, upper = velocity_limits(params)
    names = ("linear.x", "linear.y", "angular.z")
    velocity = np.array([linear[0], linear[1], angular[2]], dtype=float)
    warnings: list[str] = []
    factor = params.absurd_command_factor
    for name, value, low, high in zip(names, velocity, lower, upper, strict=True):
        limit = max(high, -low)
        if abs(value) > factor * max(limit, 1e-3):
            return None, [f"cmd_vel rejected: {name} = {value:g} is absurd (more than {factor:g} times its limit "
                          f"{limit:g}); the last good command stays until it goes stale"]
        if value > high or value < low:
            warnings.append(f"cmd_vel {name} = {value:g} clamped to {float(np.clip(value, low, high)):g}")
    velocity = np.clip(velocity, lower, upper)
    scale = np.where(velocity >= 0.0, upper, -lower)
    norm = math.sqrt(float(np.sum(np.where(scale > 0.0, velocity / np.where(scale > 0.0, scale, 1.0), 0.0) ** 2)))
    if norm > 1.0:
        velocity = velocity / norm
    return VelocityCommand(float(time), velocity), warnings


@dataclass(frozen=True)
class WalkGoal:
    """A checked walk_to goal."""

    pose: np.ndarray
    """Target of base_footprint (base_link projected on the floor) in odom: (x [m], y [m], yaw [rad]).  # (3,)"""
    time: float
    """[s] when it was accepted."""


def check_goal(time: float, frame_id: str, position: tuple[float, float, float],
               orientation: tuple[float, float, float, float], base_pose: np.ndarray | None, floor_height: float,
               params: GaitParameters, odom_frame: str = "odom") -> WalkGoal:
    """A walk_to target as a goal, or GaitError saying why it cannot be reached.

    Args:
        frame_id: the target's frame; only `odom_frame` (or empty, meaning odom; a leading "/" is ignored) is
            accepted.
        position: target position [m].
        orientation: target orientation quaternion (x, y, z, w); it must be (nearly) level.
        base_pose: the robot's current base_footprint (x, y, yaw) in odom, or None if not known yet.
        floor_height: z of the floor under the robot [m].

    Raises:
        GaitError: wrong frame, non-finite values, a zero quaternion, a target off the floor (too high, too low or
            tilted), farther than `goal_max_distance`, or no robot state yet.
    """
    if frame_id.lstrip("/") not in ("", odom_frame):
        raise GaitError(f"goal frame '{frame_id}' is not supported: give the target in '{odom_frame}'")
    values = [*position, *orientation]
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        raise GaitError("goal has a non-finite position or orientation")
    norm = math.sqrt(sum(v * v for v in orientation))
    if norm < 1e-6:
        raise GaitError("goal orientation is a zero quaternion")
    qx, qy, qz, qw = (v / norm for v in orientation)
    tilt = tilt_from_quaternion((qx, qy, qz, qw))
    if tilt > GOAL_MAX_TILT:
        raise GaitError(f"goal orientation is tilted {tilt:.2f} rad from level: not a pose on the floor")
    if abs(position[2] - floor_height) > GOAL_MAX_HEIGHT:
        raise GaitError(f"goal z = {position[2]:.2f} m is {position[2] - floor_height:+.2f} m from the floor: "
                        "only goals on the floor the robot stands on can be reached")
    if base_pose is None:
        raise GaitError("no robot state yet (odom and joint_states): cannot plan to a goal")
    distance = math.hypot(position[0] - base_pose[0], position[1] - base_pose[1])
    if distance > params.goal_max_distance:
        raise GaitError(f"goal is {distance:.1f} m away, farther than goal_max_distance = "
                        f"{params.goal_max_distance:g} m")
    return WalkGoal(pose2(position[0], position[1], yaw_from_quaternion((qx, qy, qz, qw))), float(time))
