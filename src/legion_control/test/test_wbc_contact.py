"""The contact wrench cone: exactly the wrenches of corner forces inside their friction pyramids."""

import numpy as np
import pytest

from legion_control.contact import CONE_ROWS, centre_of_pressure, wrench_cone_matrix
from legion_control.errors import ControlError

MU, X, Y = 0.6, 0.11, 0.05


def corner_wrench(forces: np.ndarray) -> np.ndarray:
    """Wrench about the sole origin of forces (4, 3) at the rectangle's corners."""
    corners = np.array([[X, Y, 0.0], [-X, Y, 0.0], [-X, -Y, 0.0], [X, -Y, 0.0]])
    return np.concatenate((forces.sum(axis=0), np.cross(corners, forces).sum(axis=0)))


def test_wrenches_of_corner_forces_in_their_pyramids_are_inside():
    rng = np.random.default_rng(3)
    U = wrench_cone_matrix(MU, X, Y)
    assert U.shape == (CONE_ROWS, 6)
    for _ in range(2000):
        fz = rng.uniform(0.0, 100.0, 4)
        tangential = rng.uniform(-1.0, 1.0, (4, 2)) * MU * fz[:, None]
        wrench = corner_wrench(np.column_stack((tangential, fz)))
        assert np.all(U @ wrench <= 1e-9 * max(1.0, fz.sum()))


def test_the_cone_is_tight_at_its_edges():
    """Each row is reached by some corner-force wrench (the cone is not looser than needed), found by LP."""
    from scipy.optimize import linprog

    U = wrench_cone_matrix(MU, X, Y)
    corners = np.array([[X, Y, 0.0], [-X, Y, 0.0], [-X, -Y, 0.0], [X, -Y, 0.0]])
    # Wrench of stacked corner forces f (12,): w = G f.
    G = np.zeros((6, 12))
    for i, c in enumerate(corners):
        G[:3, 3 * i:3 * i + 3] = np.eye(3)
        G[3:, 3 * i:3 * i + 3] = np.array([[0.0, -c[2], c[1]], [c[2], 0.0, -c[0]], [-c[1], c[0], 0.0]])
    # Pyramid of each corner force, and total normal force 1.
    pyramid = np.zeros((16, 12))
    for i in range(4):
        for k, (a, b) in enumerate(((1, 0), (-1, 0), (0, 1), (0, -1))):
            pyramid[4 * i + k, 3 * i:3 * i + 3] = (a, b, -MU)
    normal = np.zeros((1, 12))
    normal[0, 2::3] = 1.0
    for row in U:
        result = linprog(-(row @ G), A_ub=pyramid, b_ub=np.zeros(16), A_eq=normal, b_eq=[1.0],
                         bounds=[(None, None)] * 12)
        assert result.status == 0
        assert -result.fun == pytest.approx(0.0, abs=1e-7)


def test_a_centre_of_pressure_outside_the_sole_violates_the_cone():
    U = wrench_cone_matrix(MU, X, Y)
    fz = 100.0
    inside = np.array([0.0, 0.0, fz, 0.9 * Y * fz, -0.9 * X * fz, 0.0])
    outside_front = np.array([0.0, 0.0, fz, 0.0, -1.1 * X * fz, 0.0])
    assert np.all(U @ inside <= 0.0)
    assert np.any(U @ outside_front > 0.0)
    assert np.allclose(centre_of_pressure(outside_front), [1.1 * X, 0.0])
    assert np.all(np.isnan(centre_of_pressure(np.zeros(6))))


def test_pulling_and_slipping_violate_the_cone():
    U = wrench_cone_matrix(MU, X, Y)
    assert np.any(U @ np.array([0.0, 0.0, -10.0, 0.0, 0.0, 0.0]) > 0.0)
    assert np.any(U @ np.array([0.7 * 100.0, 0.0, 100.0, 0.0, 0.0, 0.0]) > 0.0)


@pytest.mark.parametrize("args", [(0.0, X, Y), (MU, -X, Y), (MU, X, float("nan"))])
def test_bad_cone_arguments_raise(args):
    with pytest.raises(ControlError):
        wrench_cone_matrix(*args)
