"""Dense QP solvers behind one call, for the whole-body controller and its benchmark.

The problem (`QpProblem`, stacked as daqp takes it), with x of size n:

    minimise    0.5 x^T H x + g^T x
    subject to  A_eq x = b_eq                      (n_eq rows)
                l_in <= A_in x <= u_in             (n_in rows; +-INFINITY for a one-sided row)
                lb <= x[:n_box] <= ub              (box bounds on the leading variables)

`daqp` (dual active set, the default: fastest on these sizes, see bench/bench_control.py) is called natively;
`proxsuite` (dense, warm-started with the previous solution as an explicit initial guess) natively; any other name
goes through `qpsolvers` (e.g. `quadprog`, `piqp`, `osqp`, `clarabel` when installed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from legion_control.errors import ControlError

INFINITY = 1e30
"""What stands for an infinite bound (daqp's DAQP_INF)."""


@dataclass
class QpProblem:
    """A QP in stacked form (daqp's layout; the other adapters read the views below).

    Rows of `A` are the equalities first, then the inequalities; `lower` and `upper` hold the box bounds of the first
    `n_box` variables, then the bounds of the rows of `A` (equal for an equality). Infinite bounds are +-INFINITY.
    """

    H: np.ndarray
    """(n, n) positive definite."""
    g: np.ndarray
    """(n,)"""
    A: np.ndarray
    """(n_eq + n_in, n)"""
    lower: np.ndarray
    """(n_box + n_eq + n_in,)"""
    upper: np.ndarray
    """(n_box + n_eq + n_in,)"""
    n_box: int
    n_eq: int

    @property
    def A_eq(self) -> np.ndarray:  # noqa: N802 (the math name)
        return self.A[:self.n_eq]

    @property
    def b_eq(self) -> np.ndarray:
        return self.upper[self.n_box:self.n_box + self.n_eq]

    @property
    def A_in(self) -> np.ndarray:  # noqa: N802 (the math name)
        return self.A[self.n_eq:]

    @property
    def l_in(self) -> np.ndarray:
        return self.lower[self.n_box + self.n_eq:]

    @property
    def u_in(self) -> np.ndarray:
        return self.upper[self.n_box + self.n_eq:]

    @property
    def lb(self) -> np.ndarray:
        return self.lower[:self.n_box]

    @property
    def ub(self) -> np.ndarray:
        return self.upper[:self.n_box]

    def copy(self) -> QpProblem:
        return QpProblem(self.H.copy(), self.g.copy(), self.A.copy(), self.lower.copy(), self.upper.copy(),
                         self.n_box, self.n_eq)


@dataclass
class QpResult:
    """Outcome of one QP solve."""

    x: np.ndarray | None
    """Solution, or None when the solver failed.  # (n,)"""
    ok: bool
    status: str
    """Solver's own word for the outcome (`optimal`, `infeasible`, ...)."""
    iterations: int = 0


class QpSolver:
    """Base of the solver adapters: `solve(problem)` -> QpResult."""

    name = "base"

    def solve(self, problem: QpProblem) -> QpResult:
        raise NotImplementedError


_DAQP_STATUS = {1: "optimal", 2: "soft_optimal", -1: "infeasible", -2: "cycling", -3: "unbounded",
                -4: "iteration_limit", -5: "nonconvex", -6: "overdetermined_initial_active_set"}


class DaqpSolver(QpSolver):
    """daqp's dual active-set solver (dense), on the stacked problem as it is. Equalities have sense 5."""

    name = "daqp"

    def __init__(self) -> None:
        import daqp

        self._solve = daqp.solve
        self._sense_cache: dict[tuple[int, int, int], np.ndarray] = {}

    def solve(self, problem: QpProblem) -> QpResult:
        n_box, n_eq = problem.n_box, problem.n_eq
        key = (n_box, n_eq, len(problem.upper))
        sense = self._sense_cache.get(key)
        if sense is None:
            sense = np.zeros(len(problem.upper), dtype=np.intc)
            sense[n_box:n_box + n_eq] = 5
            self._sense_cache[key] = sense
        x, _, flag, info = self._solve(problem.H, problem.g, problem.A, problem.upper, problem.lower, sense.copy())
        ok = (flag == 1 or flag == 2) and bool(np.isfinite(x).all())
        return QpResult(x if ok else None, ok, _DAQP_STATUS.get(flag, f"exitflag {flag}"),
                        int(info.get("iterations", 0)))


class ProxsuiteSolver(QpSolver):
    """proxsuite's dense proximal solver, with the previous solution as an explicit initial guess when the size
    has not changed (its WARM_START_WITH_PREVIOUS_RESULT gave false infeasibility when every matrix changes)."""

    name = "proxsuite"

    def __init__(self, eps_abs: float = 1e-7) -> None:
        import proxsuite

        self._proxqp = proxsuite.proxqp
        self._eps_abs = eps_abs
        self._previous: np.ndarray | None = None

    def solve(self, problem: QpProblem) -> QpResult:
        n = len(problem.g)
        C = np.vstack((np.eye(n)[:problem.n_box], problem.A_in))
        lower = np.concatenate((problem.lb, problem.l_in))
        upper = np.concatenate((problem.ub, problem.u_in))
        qp = self._proxqp.dense.QP(n, problem.n_eq, C.shape[0])
        qp.settings.eps_abs = self._eps_abs
        qp.settings.verbose = False
        qp.init(problem.H, problem.g, problem.A_eq, problem.b_eq, C, lower, upper)
        if self._previous is not None and len(self._previous) == n:
            qp.settings.initial_guess = self._proxqp.InitialGuess.WARM_START
            qp.solve(self._previous, None, None)
        else:
            qp.solve()
        status = qp.results.info.status
        ok = status == self._proxqp.PROXQP_SOLVED and bool(np.all(np.isfinite(qp.results.x)))
        x = qp.results.x.copy() if ok else None
        self._previous = x
        return QpResult(x, ok, str(status).rsplit(".", 1)[-1].lower(), int(qp.results.info.iter))


class QpsolversSolver(QpSolver):
    """Any solver `qpsolvers` knows (`quadprog`, `piqp`, `osqp`, `clarabel`, ...), through its generic API."""

    def __init__(self, name: str) -> None:
        import qpsolvers

        if name not in qpsolvers.available_solvers:
            raise ControlError(f"QP solver '{name}' is not installed; available: {qpsolvers.available_solvers}")
        self.name = name
        self._solve = qpsolvers.solve_qp

    def solve(self, problem: QpProblem) -> QpResult:
        n = len(problem.g)
        A_in, l_in, u_in = problem.A_in, problem.l_in, problem.u_in
        finite_upper = u_in < INFINITY
        finite_lower = l_in > -INFINITY
        G = np.vstack((A_in[finite_upper], -A_in[finite_lower]))
        h = np.concatenate((u_in[finite_upper], -l_in[finite_lower]))
        lower = np.full(n, -np.inf)
        upper = np.full(n, np.inf)
        lower[:problem.n_box] = np.where(problem.lb > -INFINITY, problem.lb, -np.inf)
        upper[:problem.n_box] = np.where(problem.ub < INFINITY, problem.ub, np.inf)
        x = self._solve(problem.H, problem.g, G, h, problem.A_eq, problem.b_eq, lower, upper, solver=self.name)
        ok = x is not None and bool(np.all(np.isfinite(x)))
        return QpResult(x if ok else None, ok, "optimal" if ok else "failed")


def make_solver(name: str) -> QpSolver:
    """A solver adapter by name: `daqp`, `proxsuite`, or any `qpsolvers` solver name.

    Raises:
        ControlError: the solver is not installed.
    """
    try:
        if name == "daqp":
            return DaqpSolver()
        if name == "proxsuite":
            return ProxsuiteSolver()
        return QpsolversSolver(name)
    except ImportError as error:
        raise ControlError(f"QP solver '{name}' cannot be imported: {error}") from error
