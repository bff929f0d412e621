"""Task-space inverse dynamics as one weighted QP, in the manner of TSID's acceleration-force formulation.

Decision variables x = (vdot, w_1, ..., w_k): the generalized acceleration (nv) and the 6D contact wrench of each
contact (the wrench the ground exerts on the contact frame, in that frame's axes, about its origin). The joint
torques are not separate variables: the actuated rows of the equation of motion give them as an affine function of x,

    M vdot + h = S^T tau + sum_i J_i^T w_i        (J_i: LOCAL frame Jacobian of contact i, (6, nv))
    =>  tau = M_a vdot + h_a - sum_i J_ia^T w_i   (the rows of the actuated joints)

so the torque limits are linear inequalities on x and the torque is read back after the solve (TSID's
InverseDynamicsFormulationAccForce does the same). The problem is

    minimise    sum_t || W_t^1/2 (J_t vdot - a_t) ||^2 + sum_i || R_i^1/2 (w_i - w_i,ref) ||^2 + eps ||vdot||^2
    subject to  M_u vdot + h_u = sum_i J_iu^T w_i           (unactuated rows: floating-base dynamics, 6 or 0)
                J_i vdot + drift_i = a_i,des                  (each contact holds: desired contact acceleration)
                U_i w_i <= u_i                                (contact wrench cone and least normal force)
                -tau_max <= tau(x) <= tau_max                 (joint torque limits)
                vdot_min <= vdot_a <= vdot_max                (joint position, velocity, acceleration limits)

The module knows nothing about robots, sides or references: the controller hands it numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from legion_control.errors import ControlError
from legion_control.qp_solvers import INFINITY, QpProblem, QpResult, QpSolver, make_solver


@dataclass
class AccelerationTask:
    """A weighted least-squares task on the generalized acceleration: J vdot ~ target."""

    name: str
    jacobian: np.ndarray | None
    """J.  # (k, nv); None for a joint-space task on `vdot[selection]` (J = rows `selection` of the identity)."""
    target: np.ndarray
    """Desired value of J vdot: the desired task acceleration minus the drift dJ/dt v.  # (k,)"""
    weight: np.ndarray | float
    """Per-row weight, or one weight for all rows."""
    selection: slice | None = None
    """For a joint-space task (`jacobian` None): the entries of vdot it is about."""

    def matrix(self, nv: int) -> np.ndarray:
        """J as a dense matrix.  # (k, nv)"""
        if self.jacobian is not None:
            return self.jacobian
        J = np.zeros((len(self.target), nv))
        J[:, self.selection] = np.eye(len(self.target))
        return J


@dataclass
class Contact:
    """A rigid 6D contact: its frame must accelerate as asked, and its wrench must lie in its cone."""

    name: str
    jacobian: np.ndarray
    """LOCAL frame Jacobian J (spatial twist of the contact frame in its own axes = J v).  # (6, nv)"""
    drift: np.ndarray
    """dJ/dt v, LOCAL spatial acceleration at zero vdot.  # (6,)"""
    desired_acceleration: np.ndarray
    """Desired LOCAL spatial acceleration of the contact frame (0 for a contact that holds).  # (6,)"""
    cone: np.ndarray
    """Inequality rows U on the wrench.  # (r, 6)"""
    cone_upper: np.ndarray
    """Their right-hand side u (U w <= u).  # (r,)"""
    wrench_reference: np.ndarray = field(default_factory=lambda: np.zeros(6))
    """Wrench the regularisation pulls towards [N, N m].  # (6,)"""
    wrench_weight: np.ndarray = field(default_factory=lambda: np.full(6, 1e-5))
    """Regularisation weight per wrench component.  # (6,)"""


@dataclass
class DynamicsTerms:
    """The equation of motion and the limits of one control cycle."""

    mass_matrix: np.ndarray
    """M(q).  # (nv, nv)"""
    nonlinear_effects: np.ndarray
    """h(q, v): Coriolis, centrifugal and gravity terms.  # (nv,)"""
    torque_limit: np.ndarray
    """Symmetric torque bound of each actuated joint [N m].  # (na,)"""
    acceleration_lower: np.ndarray
    """Lower bound of each actuated joint's acceleration [rad/s^2].  # (na,)"""
    acceleration_upper: np.ndarray
    """Upper bound of each actuated joint's acceleration [rad/s^2].  # (na,)"""


@dataclass
class Solution:
    """What one solve returns."""

    ok: bool
    status: str
    acceleration: np.ndarray
    """vdot.  # (nv,)"""
    wrenches: dict[str, np.ndarray]
    """Contact name -> wrench (f, tau) in the contact frame about its origin [N, N m]."""
    torque: np.ndarray
    """Actuated joint torques [N m].  # (na,)"""
    build_time: float = 0.0
    """[s] spent assembling the QP."""
    solve_time: float = 0.0
    """[s] spent in the solver."""
    iterations: int = 0
    relaxed: bool = False
    """Solved without the torque and joint limits (the full problem was infeasible)."""


class _Workspace:
    """Preallocated QP arrays for one number of contacts (their zero blocks stay zero from cycle to cycle)."""

    def __init__(self, nv: int, nu: int, k: int, cone_rows: int) -> None:
        n = nv + 6 * k
        na = nv - nu
        n_eq = nu + 6 * k
        n_in = cone_rows + na
        self.cone_rows = cone_rows
        self.problem = QpProblem(np.zeros((n, n)), np.zeros(n), np.zeros((n_eq + n_in, n)),
                                 np.full(nv + n_eq + n_in, -INFINITY), np.full(nv + n_eq + n_in, INFINITY), nv, n_eq)
        self.diagonal = np.arange(nv, n)
        self.H_diagonal = self.problem.H.reshape(-1)[::n + 1]
        """A writable view of H's diagonal."""


class InverseDynamicsQP:
    """Builds and solves the QP of the module docstring for a model with `n_unactuated` leading velocity entries
    without actuators (6 for a floating base, 0 for a fixed base) and `nv - n_unactuated` actuated joints.

    Args:
        nv: velocity dimension.
        n_unactuated: number of leading, unactuated entries of v.
        solver: QP solver name (see `qp_solvers.make_solver`) or adapter.
        acceleration_regularization: eps, weight of ||vdot||^2 that keeps the Hessian positive definite.
    """

    def __init__(self, nv: int, n_unactuated: int, solver: str | QpSolver = "daqp",
                 acceleration_regularization: float = 1e-5) -> None:
        if not 0 <= n_unactuated < nv:
            raise ControlError(f"n_unactuated must be in [0, nv), got {n_unactuated} for nv={nv}")
        self.nv = nv
        self.n_unactuated = n_unactuated
        self.na = nv - n_unactuated
        self.solver = make_solver(solver) if isinstance(solver, str) else solver
        self.acceleration_regularization = float(acceleration_regularization)
        self._regularization = np.eye(nv) * self.acceleration_regularization
        self._indices = np.arange(nv)
        self._workspaces: dict[tuple[int, int], _Workspace] = {}
        self.last_problem: QpProblem | None = None
        """The problem of the last `solve` (a view of the workspace, overwritten by the next solve)."""

    def build(self, terms: DynamicsTerms, contacts: list[Contact], tasks: list[AccelerationTask]) -> QpProblem:
        """Assemble the QP (see the module docstring) into the workspace; returns it (valid until the next build)."""
        nv, nu = self.nv, self.n_unactuated
        k = len(contacts)
        cone_rows = sum(len(c.cone_upper) for c in contacts)
        workspace = self._workspaces.get((k, cone_rows))
        if workspace is None:
            workspace = self._workspaces[(k, cone_rows)] = _Workspace(nv, nu, k, cone_rows)
        problem = workspace.problem
        H, g, A, lower, upper = problem.H, problem.g, problem.A, problem.lower, problem.upper
        n_eq = problem.n_eq

        # Cost: tasks on vdot, regularisation on vdot and on the wrenches.
        dense = [task for task in tasks if task.jacobian is not None]
        if dense:
            m = sum(len(task.target) for task in dense)
            J = np.empty((m, nv))
            b = np.empty(m)
            w = np.empty(m)
            row = 0
            for task in dense:
                rows = slice(row, row + len(task.target))
                J[rows] = task.jacobian
                b[rows] = task.target
                w[rows] = task.weight
                row = rows.stop
            Jw = J.T * w  # (nv, m)
            np.matmul(Jw, J, out=H[:nv, :nv])
            np.matmul(Jw, b, out=g[:nv])
            np.negative(g[:nv], out=g[:nv])
        else:
            H[:nv, :nv] = 0.0
            g[:nv] = 0.0
        H[:nv, :nv] += self._regularization
        H_diagonal = workspace.H_diagonal
        for task in tasks:
            if task.jacobian is None:  # identity rows: only the diagonal block changes
                indices = self._indices[task.selection]
                H_diagonal[indices] += task.weight
                g[indices] -= task.weight * task.target
        for i, contact in enumerate(contacts):
            H_diagonal[nv + 6 * i:nv + 6 * i + 6] = contact.wrench_weight
            g[nv + 6 * i:nv + 6 * i + 6] = -contact.wrench_weight * contact.wrench_reference

        # Rows of A: floating-base dynamics, contact accelerations (equalities); cones, torques (inequalities).
        M, h = terms.mass_matrix, terms.nonlinear_effects
        bounds = nv  # first row bound after the box bounds
        A[:nu, :nv] = M[:nu]
        upper[bounds:bounds + nu] = -h[:nu]
        tau_rows = slice(n_eq + workspace.cone_rows, n_eq + workspace.cone_rows + self.na)
        A[tau_rows, :nv] = M[nu:]  # tau = M_a vdot + h_a - sum J_ia^T w_i
        row = n_eq
        for i, contact in enumerate(contacts):
            block = slice(nv + 6 * i, nv + 6 * i + 6)
            JT = contact.jacobian.T  # (nv, 6)
            A[:nu, block] = -JT[:nu]
            A[tau_rows, block] = -JT[nu:]
            A[nu + 6 * i:nu + 6 * i + 6, :nv] = contact.jacobian
            upper[bounds + nu + 6 * i:bounds + nu + 6 * i + 6] = contact.desired_acceleration - contact.drift
            r = len(contact.cone_upper)
            A[row:row + r, block] = contact.cone
            upper[bounds + row:bounds + row + r] = contact.cone_upper
            row += r
        lower[bounds:bounds + n_eq] = upper[bounds:bounds + n_eq]
        h_a = h[nu:]
        lower[bounds + tau_rows.start:bounds + tau_rows.stop] = -terms.torque_limit - h_a
        upper[bounds + tau_rows.start:bounds + tau_rows.stop] = terms.torque_limit - h_a
        lower[nu:nv] = terms.acceleration_lower
        upper[nu:nv] = terms.acceleration_upper
        self.last_problem = problem
        return problem

    def solve(self, terms: DynamicsTerms, contacts: list[Contact], tasks: list[AccelerationTask], *,
              relax_limits: bool = False) -> Solution:
        """Assemble and solve the QP; on failure with the limits, `relax_limits` solves once more without them.

        Returns:
            The solution; `ok` is False (and the arrays are zero) when even the relaxed problem has none.
        """
        start = time.perf_counter()
        problem = self.build(terms, contacts, tasks)
        build_time = time.perf_counter() - start

        start = time.perf_counter()
        result: QpResult = self.solver.solve(problem)
        relaxed = False
        if not result.ok and relax_limits:
            relaxed = True
            result = self.solver.solve(self._without_limits(problem))
        solve_time = time.perf_counter() - start

        nv, na, nu = self.nv, self.na, self.n_unactuated
        if not result.ok:
            return Solution(False, result.status, np.zeros(nv), {c.name: np.zeros(6) for c in contacts},
                            np.zeros(na), build_time, solve_time, result.iterations, relaxed)
        x = result.x
        tau_start = problem.n_eq + (len(problem.A) - problem.n_eq - na)
        torque = problem.A[tau_start:] @ x + terms.nonlinear_effects[nu:]
        wrenches = {c.name: x[nv + 6 * i:nv + 6 * i + 6].copy() for i, c in enumerate(contacts)}
        return Solution(True, result.status, x[:nv].copy(), wrenches, torque, build_time, solve_time,
                        result.iterations, relaxed)

    def _without_limits(self, problem: QpProblem) -> QpProblem:
        """The problem without joint acceleration bounds and torque limits (cones and equalities kept)."""
        relaxed = problem.copy()
        relaxed.lower[self.n_unactuated:self.nv] = -INFINITY
        relaxed.upper[self.n_unactuated:self.nv] = INFINITY
        relaxed.lower[-self.na:] = -INFINITY
        relaxed.upper[-self.na:] = INFINITY
        return relaxed
