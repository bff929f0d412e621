"""The kinematic core: still soles give the base twist (checked against finite differences of the sole poses), the
anchored soles give the base pose, and the gyro variant agrees with the kinematic one."""

from __future__ import annotations

import numpy as np
import pinocchio as pin
import pytest

from legion_estimation.stance_kinematics import StanceKinematics, anchor_soles, base_pose, load_weights
from legion_model import RobotModel

SIDES = ("left", "right")


@pytest.fixture(scope="module")
def robot():
    return RobotModel.load("centurion", lock_hands=True)


@pytest.fixture
def kinematics(robot):
    return StanceKinematics(robot.model, {side: robot.config.sides[side].sole for side in SIDES})


def test_one_sole_base_twist_keeps_that_sole_still(robot, kinematics):
    """Move the joints by qdot dt and the base by the returned twist: the sole does not move (to first order)."""
    rng = np.random.default_rng(7)
    joints = robot.standing_configuration()[7:] + rng.normal(0.0, 0.05, robot.na)
    qdot = rng.normal(0.0, 0.3, robot.na)
    soles = kinematics.soles_in_base(joints, ("left",), jacobians=True)
    twist = kinematics.base_twist(qdot, soles, {"left": 1.0})
    dt = 1e-6
    later = StanceKinematics(robot.model, {"left": robot.config.sides["left"].sole}).soles_in_base(
        joints + qdot * dt, ("left",))
    before = soles["left"]
    after = pin.exp6(twist * dt) * later["left"]  # base moved by twist dt, sole in the new base frame
    assert np.linalg.norm(pin.log6(before.actInv(after)).vector) / dt < 1e-4


def test_a_measured_angular_velocity_equal_to_the_kinematic_one_changes_nothing(robot, kinematics):
    rng = np.random.default_rng(3)
    joints = robot.standing_configuration()[7:] + rng.normal(0.0, 0.02, robot.na)
    qdot = rng.normal(0.0, 0.3, robot.na)
    soles = kinematics.soles_in_base(joints, SIDES, jacobians=True)
    weights = load_weights(SIDES, {"left": 300.0, "right": 100.0})
    for side in SIDES:
        alone = kinematics.base_twist(qdot, {side: soles[side]}, weights)
        with_gyro = kinematics.base_twist(qdot, {side: soles[side]}, weights, angular_velocity=alone[3:])
        assert np.allclose(with_gyro, alone, atol=1e-12)


def test_the_base_pose_puts_one_anchored_sole_exactly_on_its_anchor(robot, kinematics):
    rng = np.random.default_rng(5)
    joints = robot.standing_configuration()[7:]
    base_to_odom = pin.SE3(pin.exp3(rng.normal(0.0, 0.1, 3)), rng.normal(0.0, 1.0, 3))
    anchors = anchor_soles(base_to_odom, kinematics.soles_in_base(joints, SIDES))
    moved = kinematics.soles_in_base(joints + rng.normal(0.0, 0.02, robot.na), SIDES)
    pose = base_pose({"left": anchors["left"]}, moved, {"left": 1.0, "right": 1.0})
    assert (pose * moved["left"]).isApprox(anchors["left"], 1e-9)
    # Unchanged joints: both anchors agree, and so does the IMU-rotation variant.
    still = kinematics.soles_in_base(joints, SIDES)
    assert base_pose(anchors, still, {"left": 0.3, "right": 0.7}).isApprox(base_to_odom, 1e-9)
    assert base_pose(anchors, still, {"left": 1.0, "right": 1.0},
                     rotation=base_to_odom.rotation).isApprox(base_to_odom, 1e-9)


def test_load_weights():
    assert load_weights(SIDES, {"left": 0.0, "right": 0.0}) == {"left": 0.5, "right": 0.5}
    weights = load_weights(SIDES, {"left": 1000.0, "right": 0.0})
    assert weights["left"] == 1.0 and weights["right"] == pytest.approx(0.05)
