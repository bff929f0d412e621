"""The inverse-dynamics QP: its solutions obey the equation of motion, the contact wrench cones, the torque and
acceleration limits, and drive tasks to convergence; infeasible problems are relaxed or reported."""

from __future__ import annotations

import numpy as np
import pinocchio as pin
import pytest

from legion_control.contact import wrench_cone_matrix
from legion_control.inverse_dynamics import AccelerationTask, Contact, DynamicsTerms, InverseDynamicsQP
from legion_control.qp_solvers import make_solver
from legion_model import RobotModel

LWA = pin.LOCAL_WORLD_ALIGNED
MIN_FORCE = 15.0


def cone(robot: RobotModel) -> tuple[np.ndarray, np.ndarray]:
    U = wrench_cone_matrix(0.7 / np.sqrt(2.0), 0.5 * robot.config.sole_length - 0.01,
                           0.5 * robot.config.sole_width - 0.01)
    U = np.vstack((U, [[0.0, 0.0, -1.0, 0.0, 0.0, 0.0]]))
    upper = np.zeros(len(U))
    upper[-1] = -MIN_FORCE
    return U, upper


def perturbed_state(robot: RobotModel, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    q = robot.standing_configuration()
    q[7:] += rng.normal(0.0, 0.05, robot.na)
    v = rng.normal(0.0, 0.2, robot.nv)
    return q, v


def problem(robot: RobotModel, rng: np.random.Generator, torque_scale: float = 1.0, com_acceleration=None):
    """Contacts on both soles and CoM, base orientation and posture tasks at a random state near standing."""
    q, v = perturbed_state(robot, rng)
    robot.update(q, v)
    model, data = robot.model, robot.data
    U, upper = cone(robot)
    contacts = []
    for side in ("left", "right"):
        frame = robot.frame_id(robot.config.sides[side].sole)
        contacts.append(Contact(side, pin.getFrameJacobian(model, data, frame, pin.LOCAL),
                                pin.getFrameAcceleration(model, data, frame, pin.LOCAL).vector, np.zeros(6), U,
                                upper))
    base = robot.frame_id(robot.config.frames["base"])
    com_target = rng.normal(0.0, 1.0, 3) if com_acceleration is None else np.asarray(com_acceleration)
    tasks = [
        AccelerationTask("com", robot.com_jacobian(), com_target - robot.com_drift(), 100.0),
        AccelerationTask("base", pin.getFrameJacobian(model, data, base, LWA)[3:], rng.normal(0.0, 1.0, 3), 10.0),
        AccelerationTask("posture", robot.selection_matrix, rng.normal(0.0, 5.0, robot.na), 0.1),
    ]
    limit = torque_scale * robot.joint_limits.effort
    terms = DynamicsTerms(robot.mass_matrix(), robot.nonlinear_effects(), limit, np.full(robot.na, -300.0),
                          np.full(robot.na, 300.0))
    return contacts, tasks, terms


@pytest.mark.parametrize("solver", ["daqp", "proxsuite"])
def test_solution_obeys_dynamics_cones_and_limits(robot, solver):
    rng = np.random.default_rng(7)
    qp = InverseDynamicsQP(robot.nv, 6, solver)
    for _ in range(10):
        contacts, tasks, terms = problem(robot, rng)
        solution = qp.solve(terms, contacts, tasks)
        assert solution.ok, solution.status
        generalized = robot.selection_matrix.T @ solution.torque
        for contact in contacts:
            generalized = generalized + contact.jacobian.T @ solution.wrenches[contact.name]
        residual = terms.mass_matrix @ solution.acceleration + terms.nonlinear_effects - generalized
        assert np.max(np.abs(residual)) < 1e-6 * np.max(np.abs(terms.nonlinear_effects))
        for contact in contacts:
            wrench = solution.wrenches[contact.name]
            assert np.all(contact.cone @ wrench <= contact.cone_upper + 1e-6 * max(1.0, wrench[2]))
            assert wrench[2] >= MIN_FORCE - 1e-6
            acceleration = contact.jacobian @ solution.acceleration + contact.drift
            assert np.allclose(acceleration, contact.desired_acceleration, atol=1e-6)
        assert np.all(np.abs(solution.torque) <= terms.torque_limit + 1e-6)
        joint_acceleration = solution.acceleration[6:]
        assert np.all(joint_acceleration >= terms.acceleration_lower - 1e-6)
        assert np.all(joint_acceleration <= terms.acceleration_upper + 1e-6)


def test_tight_torque_limits_bind_and_hold(robot):
    rng = np.random.default_rng(11)
    qp = InverseDynamicsQP(robot.nv, 6)
    contacts, tasks, terms = problem(robot, rng, com_acceleration=[3.0, 0.0, 0.0])
    free = qp.solve(terms, contacts, tasks)
    assert free.ok
    tight = DynamicsTerms(terms.mass_matrix, terms.nonlinear_effects, 0.7 * np.abs(free.torque) + 1.0,
                          terms.acceleration_lower, terms.acceleration_upper)
    limited = qp.solve(tight, contacts, tasks)
    assert limited.ok and not limited.relaxed
    assert np.all(np.abs(limited.torque) <= tight.torque_limit + 1e-6)
    assert np.any(np.isclose(np.abs(limited.torque), tight.torque_limit, atol=1e-4))  # some limit is active


def test_infeasible_limits_are_relaxed_and_contradictions_reported(robot):
    rng = np.random.default_rng(5)
    qp = InverseDynamicsQP(robot.nv, 6)
    contacts, tasks, terms = problem(robot, rng)
    # Holding the robot up with 1 N m per joint and (almost) no joint acceleration is impossible: the limits are
    # dropped, the rest still holds.
    weak = DynamicsTerms(terms.mass_matrix, terms.nonlinear_effects, np.full(robot.na, 1.0),
                         np.full(robot.na, -0.1), np.full(robot.na, 0.1))
    assert not qp.solve(weak, contacts, tasks).ok
    relaxed = qp.solve(weak, contacts, tasks, relax_limits=True)
    assert relaxed.ok and relaxed.relaxed
    # A cone that wants f_z >= 1 and f_z <= 0 has no solution at all.
    impossible = Contact("left", contacts[0].jacobian, contacts[0].drift, np.zeros(6),
                         np.array([[0.0, 0.0, -1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]]),
                         np.array([-1.0, 0.0]))
    failed = qp.solve(terms, [impossible, contacts[1]], tasks, relax_limits=True)
    assert not failed.ok
    assert np.all(failed.torque == 0.0) and np.all(np.isfinite(failed.acceleration))


def test_fixed_base_arm_converges_to_a_target_within_torque_limits():
    """Toy case: Pinocchio's 6-DoF sample manipulator, fixed base, end-effector position task, simulated by ABA."""
    model = pin.buildSampleModelManipulator()
    data = model.createData()
    frame = model.getFrameId("effector_body") if model.existFrame("effector_body") else model.nframes - 1
    pin.framesForwardKinematics(model, data, pin.neutral(model) + 0.5)
    target = data.oMf[frame].translation.copy()  # reachable: where another configuration puts the effector
    q = pin.neutral(model) + 0.3
    v = np.zeros(model.nv)
    limit = np.full(model.nv, 50.0)
    qp = InverseDynamicsQP(model.nv, 0, make_solver("daqp"))
    dt = 0.002
    for _ in range(int(3.0 / dt)):
        pin.computeAllTerms(model, data, q, v)
        pin.updateFramePlacements(model, data)
        J = pin.getFrameJacobian(model, data, frame, LWA)[:3]
        drift = pin.getFrameClassicalAcceleration(model, data, frame, LWA).linear
        velocity = pin.getFrameVelocity(model, data, frame, LWA).linear
        error = target - data.oMf[frame].translation
        tasks = [AccelerationTask("effector", J, 100.0 * error - 20.0 * velocity - drift, 1.0),
                 AccelerationTask("posture", np.eye(model.nv), -5.0 * v, 1e-3)]
        M = data.M.copy()
        M[np.tril_indices(model.nv, -1)] = M.T[np.tril_indices(model.nv, -1)]
        terms = DynamicsTerms(M, data.nle.copy(), limit, np.full(model.nv, -100.0), np.full(model.nv, 100.0))
        solution = qp.solve(terms, [], tasks)
        assert solution.ok
        assert np.all(np.abs(solution.torque) <= limit + 1e-6)
        a = pin.aba(model, data, q, v, solution.torque)
        assert np.allclose(a, solution.acceleration, atol=1e-6)  # the QP's acceleration is the true one
        v = v + a * dt
        q = pin.integrate(model, q, v * dt)
    pin.framesForwardKinematics(model, data, q)
    assert np.linalg.norm(target - data.oMf[frame].translation) < 1e-3
