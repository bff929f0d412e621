"""The robot's measured state as the planner needs it, and how to get it from odometry and joint states."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from legion_common.transforms import yaw_from_matrix
from legion_gait.geometry import pose2


@dataclass(frozen=True)
class MeasuredState:
    """The measured state at `time`, in odom."""

    time: float
    """[s] stamp of the odometry it was computed from."""
    com_position: np.ndarray
    """[m]  # (3,)"""
    com_velocity: np.ndarray
    """[m/s]  # (3,)"""
    soles: dict[str, np.ndarray]
    """side -> sole (x [m], y [m], yaw [rad]).  # (3,)"""
    sole_heights: dict[str, float]
    """side -> sole z [m]."""
    base_pose: np.ndarray
    """base_link projected on the floor: (x [m], y [m], yaw [rad]).  # (3,)"""

    def dcm(self, omega: float) -> np.ndarray:
        """Measured divergent component of motion, xy [m]: com + com_velocity / omega.  # (2,)"""
        return self.com_position[:2] + self.com_velocity[:2] / omega


def measured_state(model, time: float, base_position: np.ndarray, base_orientation: np.ndarray,
                   base_linear_velocity: np.ndarray, base_angular_velocity: np.ndarray,
                   joint_positions: Mapping[str, float], joint_velocities: Mapping[str, float]) -> MeasuredState:
    """The planner's view of the robot from odometry and joint states, through the kinematics of `model`.

    Args:
        model: a `legion_model.RobotModel` (its data is overwritten).
        base_position: base_link in odom [m].  # (3,)
        base_orientation: base_link orientation in odom, quaternion (x, y, z, w).  # (4,)
        base_linear_velocity, base_angular_velocity: base twist in base_link axes (as nav_msgs/Odometry gives it)
            [m/s, rad/s].  # (3,), (3,)
        joint_positions, joint_velocities: joint name -> value; joints not named stand at their standing position
            with zero velocity, locked joints are ignored.

    Raises:
        legion_model.ModelError: an unknown joint name or a malformed base pose.
    """
    standing = model.config.standing
    reference_q = np.concatenate([np.zeros(3), [0.0, 0.0, 0.0, 1.0],
                                  [standing.get(name, 0.0) for name in model.joint_names]])
    q = model.q_from_joint_positions(np.concatenate([base_position, base_orientation]), joint_positions,
                                     reference=reference_q)
    v = model.v_from_joint_velocities(np.concatenate([base_linear_velocity, base_angular_velocity]),
                                      joint_velocities, reference=np.zeros(model.nv))
    model.update(q, v)
    soles, heights = {}, {}
    for side in model.config.sides:
        sole = model.transform_sole_to_world(side)
        soles[side] = pose2(sole.translation[0], sole.translation[1], yaw_from_matrix(sole.rotation))
        heights[side] = float(sole.translation[2])
    base = model.transform_base_to_world()
    return MeasuredState(float(time), model.com_position(), model.com_velocity(), soles, heights,
                         pose2(base.translation[0], base.translation[1], yaw_from_matrix(base.rotation)))
