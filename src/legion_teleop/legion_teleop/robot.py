"""What teleop needs from the robot's kinematics (legion_model, no ROS): which neck joints pan and tilt the head, and
the selected gripper's pose in `base_footprint` (the origin of an arm jog).

Nothing here names a joint: the neck joints come from the robot file's `joint_groups.neck`, their roles from how
each turns the camera frame at the standing posture.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pinocchio as pin

from legion_common.transforms import yaw_from_matrix
from legion_model import RobotModel
from legion_teleop.teleop import HeadJoints

_STEP = 1e-4
"""[rad] finite-difference step of a neck joint."""


def head_joints(model: RobotModel) -> HeadJoints:
    """The neck joints that pan (turn about the vertical) and tilt (nod) the camera, with their signs, standing
    positions and limits; empty names for a robot without a neck. Each neck joint's rotation axis, in base axes at
    the standing posture, is found by turning it a little: the one most about z pans, the one most about y of the
    rest tilts."""
    config = model.config
    neck = config.joints("neck") if config.has_group("neck") else ()
    if not neck:
        return HeadJoints()
    camera = config.frames["camera"]
    q0 = model.standing_configuration()
    q0[:7] = [0, 0, 0, 0, 0, 0, 1]
    model.update(q0)
    rotation0 = model.transform_frame_to_world(camera).rotation
    axes = {}
    for joint in neck:
        q = q0.copy()
        q[model.q_index[joint]] += _STEP
        model.update(q)
        rotation = model.transform_frame_to_world(camera).rotation
        axes[joint] = pin.log3(rotation @ rotation0.T) / _STEP  # world = base axes here
    pan = max(neck, key=lambda j: abs(axes[j][2]))
    rest = [j for j in neck if j != pan]
    tilt = max(rest, key=lambda j: abs(axes[j][1])) if rest else ""
    limits = {j: (float(model.joint_limits.lower[model.v_index[j] - 6]),
                  float(model.joint_limits.upper[model.v_index[j] - 6])) for j in neck}
    return HeadJoints(
        pan=pan if abs(axes[pan][2]) > 0.5 else "",
        tilt=tilt if tilt and abs(axes[tilt][1]) > 0.5 else "",
        pan_sign=float(np.sign(axes[pan][2]) or 1.0),
        # A positive rotation about +y turns the camera's x axis downwards: looking up is the opposite.
        tilt_sign=float(-np.sign(axes[tilt][1]) or 1.0) if tilt else 1.0,
        home={j: float(config.standing.get(j, 0.0)) for j in neck},
        limits=limits,
    )


def gripper_in_footprint(model: RobotModel, side: str, base_in_odom: pin.SE3,
                         joint_positions: Mapping[str, float]) -> pin.SE3:
    """The side's gripper frame in `base_footprint` (REP-120: the base on the floor, heading only), from the base
    pose in `odom` (the state estimator's) and the measured joint positions [rad]; joints not measured stand as in
    the standing posture."""
    q = model.q_from_joint_positions(base_in_odom, joint_positions, reference=model.standing_configuration())
    model.update(q)
    gripper_in_odom = model.transform_frame_to_world(model.config.sides[side].gripper)
    yaw = yaw_from_matrix(base_in_odom.rotation)
    footprint_in_odom = pin.SE3(pin.utils.rpyToMatrix(0.0, 0.0, yaw),
                                np.array([base_in_odom.translation[0], base_in_odom.translation[1], 0.0]))
    return footprint_in_odom.inverse() * gripper_in_odom


def jogged(origin: pin.SE3, offset: tuple[float, float, float]) -> pin.SE3:
    """The gripper target `offset` [m] along the axes of the gripper frame `origin` (any parent frame)."""
    return origin * pin.SE3(np.eye(3), np.asarray(offset, dtype=float))
