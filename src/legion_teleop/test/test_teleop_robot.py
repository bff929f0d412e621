"""What teleop takes from the kinematics: the neck's pan and tilt joints and their signs, found by turning each joint;
the gripper in base_footprint, which the base's position and heading in odom do not change; the jog along the
gripper's own axes."""

from __future__ import annotations

import math

import numpy as np
import pinocchio as pin
import pytest

from legion_model import RobotModel
from legion_teleop.robot import gripper_in_footprint, head_joints, jogged


@pytest.fixture(scope="module")
def model() -> RobotModel:
    return RobotModel.load("centurion")


def test_the_neck_joints_and_their_signs_come_from_the_kinematics(model) -> None:
    head = head_joints(model)
    assert (head.pan, head.tilt) == ("neck_yaw", "neck_pitch")
    assert set(head.home) == set(model.config.joints("neck"))
    # Check the signs against the camera itself: "up" raises the optical axis, "left" turns it towards +y.
    camera = model.config.frames["camera"]
    q = model.standing_configuration()
    q[:7] = [0, 0, 0, 0, 0, 0, 1]
    model.update(q)
    forward0 = model.transform_frame_to_world(camera).rotation[:, 0]
    for joint, sign, axis in ((head.tilt, head.tilt_sign, 2), (head.pan, head.pan_sign, 1)):
        moved = q.copy()
        moved[model.q_index[joint]] += 0.2 * sign
        model.update(moved)
        forward = model.transform_frame_to_world(camera).rotation[:, 0]
        assert forward[axis] > forward0[axis] + 0.1, joint
    lower, upper = head.limits["neck_pitch"]
    assert lower < 0.0 < upper


def test_the_gripper_in_base_footprint_does_not_depend_on_where_the_robot_stands(model) -> None:
    joints = model.config.standing
    at_origin = gripper_in_footprint(model, "right", pin.SE3(np.eye(3), np.array([0.0, 0.0, 0.9])), joints)
    rotation = pin.utils.rpyToMatrix(0.0, 0.0, 1.1)
    elsewhere = gripper_in_footprint(model, "right", pin.SE3(rotation, np.array([3.0, -2.0, 0.9])), joints)
    assert np.allclose(at_origin.homogeneous, elsewhere.homogeneous, atol=1e-9)
    assert at_origin.translation[0] > 0.0 and at_origin.translation[1] < 0.0  # in front, on the right
    assert 0.3 < at_origin.translation[2] < 1.5  # above the floor


def test_a_jog_moves_along_the_grippers_own_axes(model) -> None:
    origin = pin.SE3(pin.utils.rpyToMatrix(0.3, -0.2, math.pi / 3), np.array([0.3, -0.2, 0.8]))
    target = jogged(origin, (0.05, 0.0, -0.02))
    expected = origin.translation + origin.rotation @ np.array([0.05, 0.0, -0.02])
    assert np.allclose(target.translation, expected)
    assert np.allclose(target.rotation, origin.rotation)
