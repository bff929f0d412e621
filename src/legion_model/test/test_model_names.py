"""Joint name maps and q/v <-> name conversions: exact round trips, and a ModelError for every misuse."""

from __future__ import annotations

import numpy as np
import pinocchio as pin
import pytest

from legion_model import BASE_NQ, BASE_NV, ModelError, RobotModel


def test_index_maps_cover_unlocked_joints_in_order(robot: RobotModel) -> None:
    config = robot.config
    assert set(robot.joint_names) | set(robot.locked_joints) == set(config.all_joints)
    assert not set(robot.joint_names) & set(robot.locked_joints)
    assert robot.nq == BASE_NQ + robot.na and robot.nv == BASE_NV + robot.na
    assert [robot.q_index[name] for name in robot.joint_names] == list(range(BASE_NQ, robot.nq))
    assert [robot.v_index[name] for name in robot.joint_names] == list(range(BASE_NV, robot.nv))
    for name in robot.joint_names:
        joint = robot.model.joints[robot.model.getJointId(name)]
        assert (joint.idx_q, joint.idx_v) == (robot.q_index[name], robot.v_index[name])
    names = list(reversed(robot.joint_names[:5]))
    np.testing.assert_array_equal(robot.q_indices(names), [robot.q_index[n] for n in names])
    np.testing.assert_array_equal(robot.v_indices(names), [robot.v_index[n] for n in names])


def test_configuration_round_trip_is_exact(robot: RobotModel) -> None:
    rng = np.random.default_rng(20)
    positions = {name: float(rng.uniform(-1.0, 1.0)) for name in robot.joint_names}
    base = pin.SE3(pin.Quaternion(rng.normal(size=4)).normalized().matrix(), rng.normal(size=3))
    q = robot.q_from_joint_positions(base, positions)
    assert q.shape == (robot.nq,)
    assert robot.joint_positions_from_q(q) == positions  # exact
    assert robot.base_pose_from_q(q).isApprox(base, 1e-12)
    np.testing.assert_array_equal(robot.q_from_joint_positions(q[:7], robot.joint_positions_from_q(q)), q)
    np.testing.assert_allclose(robot.q_from_joint_positions(base.homogeneous, positions), q, atol=1e-15)
    for name, value in positions.items():
        assert q[robot.q_index[name]] == value


def test_velocity_round_trip_is_exact(robot: RobotModel) -> None:
    rng = np.random.default_rng(21)
    velocities = {name: float(rng.normal()) for name in robot.joint_names}
    base_velocity = rng.normal(size=6)
    v = robot.v_from_joint_velocities(base_velocity, velocities)
    assert robot.joint_velocities_from_v(v) == velocities
    np.testing.assert_array_equal(robot.base_velocity_from_v(v), base_velocity)
    np.testing.assert_array_equal(robot.joint_array(velocities), v[BASE_NV:])
    assert robot.joint_dict(v[BASE_NV:]) == velocities


def test_partial_values_keep_the_reference_and_locked_names_are_ignored(robot: RobotModel) -> None:
    reference = robot.standing_configuration()
    first = robot.joint_names[0]
    hardware_state = {first: 0.25} | dict.fromkeys(robot.locked_joints, 9.0)  # joint_states names every joint
    q = robot.q_from_joint_positions(reference[:7], hardware_state, reference=reference)
    expected = reference.copy()
    expected[robot.q_index[first]] = 0.25
    np.testing.assert_array_equal(q, expected)
    np.testing.assert_array_equal(robot.joint_array({first: 1.0}, default=0.5),
                                  [1.0] + [0.5] * (robot.na - 1))


def test_unknown_missing_and_locked_names_raise_model_error(robot: RobotModel) -> None:
    positions = dict.fromkeys(robot.joint_names, 0.0)
    with pytest.raises(ModelError, match="no joint 'not_a_joint'"):
        robot.q_from_joint_positions(pin.SE3.Identity(), positions | {"not_a_joint": 0.0})
    with pytest.raises(ModelError, match=robot.joint_names[-1]):
        robot.q_from_joint_positions(pin.SE3.Identity(), {n: 0.0 for n in robot.joint_names[:-1]})
    with pytest.raises(ModelError, match="no joint 'not_a_joint'"):
        robot.q_indices(["not_a_joint"])
    with pytest.raises(ModelError, match="no frame 'not_a_frame'"):
        robot.frame_jacobian("not_a_frame")
    with pytest.raises(ModelError, match="unknown side"):
        robot.transform_sole_to_world("middle")
    for locked in list(robot.locked_joints)[:1]:
        with pytest.raises(ModelError, match="locked"):
            robot.v_indices([locked])


def test_malformed_vectors_raise_model_error(robot: RobotModel) -> None:
    positions = dict.fromkeys(robot.joint_names, 0.0)
    with pytest.raises(ModelError, match="unit quaternion"):
        robot.q_from_joint_positions(np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0]), positions)
    with pytest.raises(ModelError, match="base pose"):
        robot.q_from_joint_positions(np.zeros(3), positions)
    with pytest.raises(ModelError, match="update expects"):
        robot.update(np.zeros(robot.nq + 1))
    with pytest.raises(ModelError, match="v must have shape"):
        robot.joint_velocities_from_v(np.zeros(robot.nv - 1))
    with pytest.raises(ModelError, match="joint values"):
        robot.joint_dict(np.zeros(robot.na + 2))


def test_joint_array_of_a_joint_state_in_any_order_matches_the_dict_form(robot: RobotModel) -> None:
    """Names in any order, locked ones among them, the same names again (the cached index map), then other names:
    always the values a dict of the same pairs gives, and the same errors."""
    rng = np.random.default_rng(22)
    names = list(robot.joint_names) + list(robot.locked_joints)
    for order in (rng.permutation(len(names)), rng.permutation(len(names)), np.arange(len(names))[::-1]):
        state = [names[i] for i in order]
        values = rng.normal(size=len(state))
        expected = robot.joint_array(dict(zip(state, values, strict=True)))
        for _ in range(2):  # the second call reuses the cached map
            np.testing.assert_array_equal(robot.joint_array_of(state, values), expected)
        np.testing.assert_array_equal(robot.joint_array_of(state, values), [values[state.index(n)]
                                                                            for n in robot.joint_names])
    partial = [robot.joint_names[2], robot.joint_names[0]]
    np.testing.assert_array_equal(robot.joint_array_of(partial, np.array([2.0, 1.0]), default=0.5),
                                  [1.0, 0.5, 2.0] + [0.5] * (robot.na - 3))
    with pytest.raises(ModelError, match=robot.joint_names[1]):
        robot.joint_array_of(partial, np.array([2.0, 1.0]))
    with pytest.raises(ModelError, match="no joint 'not_a_joint'"):
        robot.joint_array_of([*partial, "not_a_joint"], np.zeros(3), default=0.0)
    with pytest.raises(ModelError, match="values of shape"):
        robot.joint_array_of(partial, np.zeros(3), default=0.0)
