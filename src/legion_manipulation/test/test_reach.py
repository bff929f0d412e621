"""Arm reach by inverse kinematics on Centurion's model, and standing poses for out-of-reach points."""

import numpy as np
import pinocchio as pin
import pytest

from legion_manipulation.reach import ArmReach
from legion_model import RobotModel


@pytest.fixture(scope="module")
def reach():
    return ArmReach(RobotModel.load("centurion", lock_hands=True))


def test_a_pose_the_arm_can_take_is_reached_within_limits(reach):
    q0 = reach.robot.standing_configuration()
    q = q0.copy()
    index = reach.robot.q_indices(["r_shoulder_pitch", "r_elbow"])
    q[index] = [-0.6, 0.9]
    target = reach.gripper_pose("right", q)
    result = reach.solve("right", q0, target)
    assert result.reachable and result.position_error < 0.01
    model = reach.model
    assert np.all(result.q >= model.lowerPositionLimit - 1e-9) and np.all(result.q <= model.upperPositionLimit + 1e-9)
    assert np.allclose(result.q[:7], q0[:7])  # the base stays


def test_a_point_far_away_is_out_of_reach_and_a_standing_pose_brings_it_in(reach):
    q0 = reach.robot.standing_configuration()
    point = np.array([1.2, -0.3, 0.8])
    down = pin.SE3(pin.rpy.rpyToMatrix(0.0, np.pi / 2, 0.0), point)
    assert not reach.solve("right", q0, down, position_only=True).reachable
    x, y, yaw = reach.standing_pose("right", down, q0, position_only=True)
    moved = q0.copy()
    moved[:2] = [x, y]
    moved[3:7] = pin.Quaternion(pin.rpy.rpyToMatrix(0.0, 0.0, yaw)).coeffs()
    assert reach.solve("right", moved, down, position_only=True).reachable
    assert 0.2 < np.hypot(point[0] - x, point[1] - y) < 0.8
