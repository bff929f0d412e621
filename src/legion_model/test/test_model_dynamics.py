"""Dynamics terms: M symmetric positive definite, M a + h = RNEA, gravity, reduced models, limits, selection."""

from __future__ import annotations

import numpy as np
import pinocchio as pin

from legion_model import RobotModel
from legion_model.testing import random_state


def test_mass_matrix_is_symmetric_positive_definite(robot: RobotModel) -> None:
    rng = np.random.default_rng(10)
    for _ in range(3):
        q, v = random_state(robot, rng)
        robot.update(q, v)
        mass_matrix = robot.mass_matrix()  # (nv, nv)
        assert mass_matrix.shape == (robot.nv, robot.nv)
        np.testing.assert_allclose(mass_matrix, mass_matrix.T, rtol=0.0, atol=1e-12)
        assert np.linalg.eigvalsh(mass_matrix).min() > 0.0
        # The free-flyer block holds the total mass: linear base inertia = m I.
        np.testing.assert_allclose(mass_matrix[:3, :3], robot.mass * np.eye(3), atol=1e-9)


def test_mass_matrix_and_nonlinear_effects_agree_with_rnea(robot: RobotModel) -> None:
    rng = np.random.default_rng(11)
    for _ in range(3):
        q, v = random_state(robot, rng)
        a = rng.uniform(-2.0, 2.0, robot.nv)
        robot.update(q, v)
        expected = pin.rnea(robot.model, robot.model.createData(), q, v, a)
        np.testing.assert_allclose(robot.mass_matrix() @ a + robot.nonlinear_effects(), expected, atol=1e-8)
        np.testing.assert_allclose(robot.inverse_dynamics(q, v, a), expected, atol=1e-8)
        zero = np.zeros(robot.nv)
        np.testing.assert_allclose(robot.generalized_gravity(), pin.rnea(robot.model, robot.model.createData(),
                                                                          q, zero, zero), atol=1e-8)


def test_gravity_is_weight_on_base_and_nonlinear_effects_at_rest(robot: RobotModel) -> None:
    q = robot.standing_configuration()
    robot.update(q)
    gravity = robot.generalized_gravity()
    np.testing.assert_allclose(robot.nonlinear_effects(), gravity, atol=1e-10)
    # Base level at standing: holding the robot takes an upward force of m g on the base (base axes ~ world axes).
    base_rotation = robot.transform_base_to_world().rotation
    np.testing.assert_allclose(base_rotation @ gravity[:3], [0.0, 0.0, robot.mass * 9.81], atol=1e-6)


def test_update_does_not_leak_between_cycles(robot: RobotModel) -> None:
    """Getters after update(q2, v2) depend on (q2, v2) only, not on an earlier state; returned arrays are copies."""
    rng = np.random.default_rng(12)
    q1, v1 = random_state(robot, rng)
    q2, v2 = random_state(robot, rng)
    robot.update(q2, v2)
    sole = robot.config.sides["left"].sole

    def outputs() -> tuple[np.ndarray, ...]:
        return (robot.mass_matrix(), robot.nonlinear_effects(), robot.com_drift(), robot.frame_drift(sole),
                robot.frame_jacobian(sole), robot.centroidal_momentum_matrix())

    reference = outputs()
    robot.update(q1, v1)
    robot.update(q2, v2)
    again = outputs()
    for first, second in zip(reference, again, strict=True):
        np.testing.assert_array_equal(first, second)
    again[0][:] = 0.0
    assert np.abs(robot.mass_matrix()).max() > 0.0
    np.testing.assert_array_equal(robot.q, q2)
    np.testing.assert_array_equal(robot.v, v2)


def test_reduced_model_moves_locked_joints_rigidly(whole_robot: RobotModel) -> None:
    """With the hands locked, mass, CoM and frames equal those of the whole robot with the hands at the lock."""
    config = whole_robot.config
    locks = {name: 0.1 * (i % 5) for i, name in enumerate(config.hand_joints)}
    body = RobotModel(config, whole_robot.full_model, locks)
    assert body.na == whole_robot.na - len(config.hand_joints)
    assert set(body.joint_names) == set(whole_robot.joint_names) - set(config.hand_joints)
    np.testing.assert_allclose(body.mass, whole_robot.mass, rtol=1e-12)

    rng = np.random.default_rng(13)
    q_body, _ = random_state(body, rng)
    positions = body.joint_positions_from_q(q_body) | locks
    q_whole = whole_robot.q_from_joint_positions(body.base_pose_from_q(q_body), positions)
    body.update(q_body)
    whole_robot.update(q_whole)
    np.testing.assert_allclose(body.com_position(), whole_robot.com_position(), atol=1e-12)
    for side in ("left", "right"):
        gripper = config.sides[side].gripper
        np.testing.assert_allclose(body.transform_frame_to_world_matrix(gripper),
                                   whole_robot.transform_frame_to_world_matrix(gripper), atol=1e-12)
        # The body model's leg Jacobian is the whole model's, restricted to the unlocked joints' columns.
        sole = config.sides[side].sole
        columns = np.concatenate([np.arange(6), whole_robot.v_indices(body.joint_names)])
        np.testing.assert_allclose(body.frame_jacobian(sole), whole_robot.frame_jacobian(sole)[:, columns], atol=1e-12)


def test_joint_limits_and_selection_follow_v_order(robot: RobotModel) -> None:
    limits = robot.joint_limits
    for field in (limits.lower, limits.upper, limits.velocity, limits.effort):
        assert field.shape == (robot.na,)
    assert np.all(limits.lower <= limits.upper)
    model = robot.model
    for i, name in enumerate(robot.joint_names):
        joint = model.joints[model.getJointId(name)]
        assert limits.lower[i] == model.lowerPositionLimit[joint.idx_q]
        assert limits.upper[i] == model.upperPositionLimit[joint.idx_q]
        assert limits.velocity[i] == model.velocityLimit[joint.idx_v]
        assert limits.effort[i] == model.effortLimit[joint.idx_v]
    selection = robot.selection_matrix  # (na, nv)
    v = np.arange(robot.nv, dtype=float)
    np.testing.assert_array_equal(selection @ v, v[robot.actuated_slice])
    np.testing.assert_array_equal(selection @ v, v[robot.v_indices(robot.joint_names)])


def test_generated_robot_limits_come_from_its_urdf(generated_robot) -> None:
    robot = RobotModel.load(generated_robot.name, config_path=generated_robot.config_path)
    knee = robot.joint_names.index("left_knee_joint")
    assert (robot.joint_limits.lower[knee], robot.joint_limits.upper[knee]) == (-0.05, 2.4)
    assert robot.joint_limits.effort[knee] == 150.0
