"""Jacobians, velocities and drift terms agree with finite differences taken on the configuration manifold."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pinocchio as pin
import pytest

from legion_model import RobotModel
from legion_model.testing import random_state

STEP = 1e-6
"""Finite-difference step [rad, m, s]."""
TOLERANCE = 1e-5
"""Largest accepted difference, relative to max(1, largest entry)."""
REFERENCES = [pin.LOCAL_WORLD_ALIGNED, pin.LOCAL, pin.WORLD]


def displacement(origin: pin.SE3, moved: pin.SE3, reference: pin.ReferenceFrame) -> np.ndarray:
    """Displacement from pose `origin` to pose `moved` as a 6-vector in the axes `reference` names: the log of the
    relative pose in the moving frame (LOCAL), the translation and world-axes rotation vector (LOCAL_WORLD_ALIGNED),
    or the log of the relative pose at the world origin (WORLD)."""
    if reference == pin.LOCAL:
        return pin.log6(origin.actInv(moved)).vector
    if reference == pin.LOCAL_WORLD_ALIGNED:
        return np.concatenate([moved.translation - origin.translation,
                               pin.log3(moved.rotation @ origin.rotation.T)])
    return pin.log6(moved * origin.inverse()).vector


def assert_close(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    scale = max(1.0, float(np.abs(expected).max()))
    error = float(np.abs(actual - expected).max())
    assert error <= TOLERANCE * scale, f"{what}: max error {error:.3g} (scale {scale:.3g})"


def central_difference_along(robot: RobotModel, q: np.ndarray, direction: np.ndarray,
                             quantity: Callable[[], np.ndarray]) -> np.ndarray:
    """d/dt quantity(q + t direction) at t = 0 (pin.integrate on the free-flyer), v held at `direction`."""
    robot.update(pin.integrate(robot.model, q, STEP * direction), direction)
    after = quantity()
    robot.update(pin.integrate(robot.model, q, -STEP * direction), direction)
    before = quantity()
    return (after - before) / (2.0 * STEP)


@pytest.mark.parametrize("reference", REFERENCES, ids=str)
def test_frame_jacobian_matches_finite_differences(robot: RobotModel, frames: list[str],
                                                   reference: pin.ReferenceFrame) -> None:
    rng = np.random.default_rng(1)
    q, _ = random_state(robot, rng)
    robot.update(q)
    jacobians = {frame: robot.frame_jacobian(frame, reference) for frame in frames}  # (6, nv) each
    origins = {frame: robot.transform_frame_to_world(frame) for frame in frames}
    numerical = {frame: np.zeros((6, robot.nv)) for frame in frames}
    for i in range(robot.nv):
        step = np.zeros(robot.nv)
        step[i] = STEP
        robot.update(pin.integrate(robot.model, q, step))
        after = {frame: displacement(origins[frame], robot.transform_frame_to_world(frame), reference)
                 for frame in frames}
        robot.update(pin.integrate(robot.model, q, -step))
        for frame in frames:
            before = displacement(origins[frame], robot.transform_frame_to_world(frame), reference)
            numerical[frame][:, i] = (after[frame] - before) / (2.0 * STEP)
    for frame in frames:
        assert jacobians[frame].shape == (6, robot.nv)
        assert_close(jacobians[frame], numerical[frame], f"J {frame} {reference}")


def test_com_jacobian_matches_finite_differences(robot: RobotModel) -> None:
    rng = np.random.default_rng(2)
    q, _ = random_state(robot, rng)
    robot.update(q)
    jacobian = robot.com_jacobian()  # (3, nv)
    numerical = np.column_stack([central_difference_along(robot, q, column, robot.com_position)
                                 for column in np.eye(robot.nv)])
    assert jacobian.shape == (3, robot.nv)
    assert_close(jacobian, numerical, "J_com")


@pytest.mark.parametrize("reference", REFERENCES, ids=str)
def test_frame_velocity_and_drift_match_finite_differences(robot: RobotModel, frames: list[str],
                                                           reference: pin.ReferenceFrame) -> None:
    """frame_velocity = J v, and frame_drift = d/dt (J v) along q(t) = q + t v with v constant."""
    rng = np.random.default_rng(3)
    q, v = random_state(robot, rng)
    for frame in frames:
        robot.update(q, v)
        jacobian = robot.frame_jacobian(frame, reference)
        assert_close(robot.frame_velocity(frame, reference), jacobian @ v, f"v {frame} {reference}")
        drift = robot.frame_drift(frame, reference)
        jacobian_rate = robot.frame_jacobian_time_variation(frame, reference)
        numerical_jacobian_rate = central_difference_along(
            robot, q, v, lambda frame=frame: robot.frame_jacobian(frame, reference))
        assert_close(drift, numerical_jacobian_rate @ v, f"drift {frame} {reference}")
        assert_close(jacobian_rate, numerical_jacobian_rate, f"dJ/dt {frame} {reference}")


def test_com_and_centroidal_drift_match_finite_differences(robot: RobotModel) -> None:
    rng = np.random.default_rng(4)
    q, v = random_state(robot, rng)
    robot.update(q, v)
    com_drift, momentum_drift = robot.com_drift(), robot.centroidal_momentum_drift()
    assert_close(robot.com_velocity(), robot.com_jacobian() @ v, "CoM velocity")
    assert_close(robot.centroidal_momentum(), robot.centroidal_momentum_matrix() @ v, "h_G = A_G v")
    assert_close(com_drift, central_difference_along(robot, q, v, lambda: robot.com_jacobian() @ v), "CoM drift")
    assert_close(momentum_drift, central_difference_along(robot, q, v, lambda: robot.centroidal_momentum_matrix() @ v),
                 "centroidal drift")


def test_centroidal_momentum_is_that_of_the_bodies(robot: RobotModel) -> None:
    """h_G from the model equals the sum over bodies of their momenta, moved to the CoM: checks A_G independently."""
    rng = np.random.default_rng(5)
    q, v = random_state(robot, rng)
    robot.update(q, v)
    data = robot.model.createData()
    pin.forwardKinematics(robot.model, data, q, v)
    total = pin.Force.Zero()
    for joint_id in range(1, robot.model.njoints):
        body_momentum = robot.model.inertias[joint_id] * data.v[joint_id]  # in the joint frame
        total += data.oMi[joint_id].act(body_momentum)  # world frame, about the world origin
    about_com = pin.SE3(np.eye(3), robot.com_position()).actInv(total)
    assert_close(robot.centroidal_momentum(), about_com.vector, "h_G")
    assert_close(robot.centroidal_momentum()[:3], robot.mass * robot.com_velocity(), "linear momentum")
