"""The kinematic base estimator: still soles give the base twist and pose; late odometry is anchored in the past."""

from __future__ import annotations

import numpy as np
import pinocchio as pin

from legion_control.base_estimator import TWIST_FILTER, OdomAnchoredEstimator
from legion_control.references import BaseState

SIDES = ("left", "right")


def soles(robot):
    return {side: robot.config.sides[side].sole for side in SIDES}


def sole_still_velocities(robot, q: np.ndarray, base_twist: np.ndarray, rng) -> np.ndarray:
    """Joint velocities that keep both soles still while the base moves with `base_twist` (base frame)."""
    model, data = robot.model, robot.model.createData()
    pin.computeJointJacobians(model, data, q)
    pin.framesForwardKinematics(model, data, q)
    v = np.zeros(robot.nv)
    v[:6] = base_twist
    v[6:] = rng.normal(0.0, 0.3, robot.na)  # arms, waist, neck: anything
    for side in SIDES:
        J = pin.getFrameJacobian(model, data, robot.frame_id(robot.config.sides[side].sole), pin.LOCAL)
        legs = robot.v_indices(robot.config.joints("legs", side))
        others = np.setdiff1d(np.arange(robot.nv), legs)
        v[legs] = np.linalg.solve(J[:, legs], -J[:, others] @ v[others])
    return v


def odometry(q: np.ndarray, twist: np.ndarray, time: float) -> BaseState:
    return BaseState(time, q[:3].copy(), q[3:7].copy(), twist[:3].copy(), twist[3:].copy())


def test_still_soles_give_the_base_twist(robot):
    rng = np.random.default_rng(2)
    estimator = OdomAnchoredEstimator(robot, soles(robot), blend_time=0.0)
    q = robot.standing_configuration()
    estimator.add_odometry(odometry(q, np.zeros(6), 0.0))
    estimator.estimate(0.0, q[7:], np.zeros(robot.na), SIDES)
    base_twist = np.array([0.05, -0.03, 0.02, 0.1, -0.05, 0.2])
    v_true = sole_still_velocities(robot, q, base_twist, rng)
    for k in range(1, len(TWIST_FILTER) + 1):
        _, v_est = estimator.estimate(k * 0.002, q[7:], v_true[6:], SIDES)
    assert estimator.source == "kinematics"
    assert np.allclose(v_est[:6], base_twist, atol=1e-9)


def test_the_base_pose_keeps_the_soles_on_their_anchors(robot):
    rng = np.random.default_rng(4)
    estimator = OdomAnchoredEstimator(robot, soles(robot), blend_time=0.0)
    q0 = robot.standing_configuration()
    estimator.add_odometry(odometry(q0, np.zeros(6), 0.0))
    estimator.estimate(0.0, q0[7:], np.zeros(robot.na), SIDES)
    anchors = {side: pose.copy() for side, pose in estimator.anchors.items()}
    joints = q0[7:] + rng.normal(0.0, 0.02, robot.na)
    q1, _ = estimator.estimate(0.002, joints, np.zeros(robot.na), SIDES)
    robot.update(q1)
    for side in SIDES:  # both anchors cannot hold exactly after arbitrary joint changes: the estimate splits it
        error = pin.log6(robot.transform_sole_to_world(side).actInv(anchors[side])).vector
        assert np.linalg.norm(error) < 0.05
    # With only one stance sole, that sole is exactly on its anchor.
    estimator.estimate(0.004, joints, np.zeros(robot.na), ("left",))
    q2, _ = estimator.estimate(0.006, joints + 0.01, np.zeros(robot.na), ("left",))
    robot.update(q2)
    assert robot.transform_sole_to_world("left").isApprox(anchors["left"], 1e-9)


def test_late_odometry_is_anchored_with_the_joints_of_its_stamp(robot):
    estimator = OdomAnchoredEstimator(robot, soles(robot), blend_time=0.0)
    q0 = robot.standing_configuration()
    q0[:3] += [0.3, -0.2, 0.0]
    estimator.estimate(0.0, q0[7:], np.zeros(robot.na), SIDES)  # joints of t = 0, no odometry yet
    joints1 = q0[7:].copy()
    joints1[robot.v_index[robot.config.joints("legs", "left")[3]] - 6] += 0.05  # left knee bends
    estimator.add_odometry(odometry(q0, np.zeros(6), 0.0))  # arrives a cycle late
    q1, _ = estimator.estimate(0.002, joints1, np.zeros(robot.na), ("right",))
    robot.update(q0)
    right_at_0 = robot.transform_sole_to_world("right")
    robot.update(q1)
    assert robot.transform_sole_to_world("right").isApprox(right_at_0, 1e-9)


def test_without_stance_the_odometry_is_extrapolated(robot):
    estimator = OdomAnchoredEstimator(robot, soles(robot))
    q = robot.standing_configuration()
    twist = np.array([0.5, 0.0, 0.0, 0.0, 0.0, 0.0])
    estimator.add_odometry(odometry(q, twist, 0.0))
    q1, v1 = estimator.estimate(0.1, q[7:], np.zeros(robot.na), ())
    assert estimator.source == "extrapolated"
    assert np.allclose(q1[:3], q[:3] + np.array([0.05, 0.0, 0.0]))
    assert np.allclose(v1[:6], twist)


def test_nothing_before_the_first_odometry(robot):
    estimator = OdomAnchoredEstimator(robot, soles(robot))
    q = robot.standing_configuration()
    assert estimator.estimate(0.0, q[7:], np.zeros(robot.na), SIDES) is None
