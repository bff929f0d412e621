"""The DCM pattern generator (legion_gait.dcm): closed form against the LIPM equations, knot weights, end at rest."""

from __future__ import annotations

import math

import numpy as np
import pytest

from legion_gait.dcm import DcmTrajectory, dcm_weights
from legion_gait.errors import GaitError

OMEGA = math.sqrt(9.81 / 0.9)


def random_knots(rng: np.random.Generator, count: int = 7) -> tuple[np.ndarray, np.ndarray]:
    times = np.concatenate([[0.0], np.cumsum(rng.uniform(0.05, 0.6, count - 1))])
    points = rng.uniform(-0.3, 0.3, (count, 2))
    return times, points


@pytest.mark.parametrize("seed", range(5))
def test_knot_weights_sum_to_one_and_give_the_dcm(seed: int) -> None:
    rng = np.random.default_rng(seed)
    times, points = random_knots(rng)
    weights = dcm_weights(times, OMEGA)
    trajectory = DcmTrajectory(times, points, OMEGA, np.zeros(2))
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(weights @ points, trajectory.knot_dcm[0], atol=1e-12)
    np.testing.assert_allclose(trajectory.evaluate(np.array([0.0])).dcm[0], trajectory.knot_dcm[0], atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_closed_form_satisfies_the_lipm_equations(seed: int) -> None:
    """Finite differences: d/dt com = velocity, d/dt velocity = omega^2 (com - zmp) = acceleration,
    d/dt dcm = omega (dcm - zmp), and dcm = com + velocity / omega, everywhere between the knots."""
    rng = np.random.default_rng(100 + seed)
    times, points = random_knots(rng)
    trajectory = DcmTrajectory(times, points, OMEGA, rng.uniform(-0.2, 0.2, 2))
    h = 1e-6
    t = rng.uniform(times[0], times[-1] + 0.5, 200)
    t = t[np.min(np.abs(t[:, None] - times[None, :]), axis=1) > 10 * h]  # not across a knot
    now, ahead, behind = (trajectory.evaluate(t + d) for d in (0.0, h, -h))
    np.testing.assert_allclose((ahead.com - behind.com) / (2 * h), now.com_velocity, atol=1e-6)
    np.testing.assert_allclose((ahead.com_velocity - behind.com_velocity) / (2 * h), now.com_acceleration,
                               atol=1e-5)
    np.testing.assert_allclose(now.com_acceleration, OMEGA**2 * (now.com - now.zmp), atol=1e-9)
    np.testing.assert_allclose((ahead.dcm - behind.dcm) / (2 * h), OMEGA * (now.dcm - now.zmp), atol=1e-5)
    np.testing.assert_allclose(now.dcm, now.com + now.com_velocity / OMEGA, atol=1e-9)


def test_trajectory_is_continuous_across_knots_and_ends_at_rest() -> None:
    rng = np.random.default_rng(7)
    times, points = random_knots(rng)
    trajectory = DcmTrajectory(times, points, OMEGA, np.array([0.05, -0.02]))
    eps = 1e-9
    before, after = trajectory.evaluate(times[1:-1] - eps), trajectory.evaluate(times[1:-1] + eps)
    for field in ("com", "com_velocity", "com_acceleration", "dcm", "zmp"):
        np.testing.assert_allclose(getattr(before, field), getattr(after, field), atol=1e-6)
    late = trajectory.evaluate(np.array([times[-1], times[-1] + 5.0]))
    np.testing.assert_allclose(late.dcm, np.tile(points[-1], (2, 1)), atol=1e-12)
    np.testing.assert_allclose(late.com[1], points[-1], atol=1e-6)
    np.testing.assert_allclose(late.com_velocity[1], 0.0, atol=1e-6)


def test_a_single_knot_stands_still() -> None:
    trajectory = DcmTrajectory(np.array([1.0]), np.array([[0.1, 0.2]]), OMEGA, np.array([0.1, 0.2]))
    samples = trajectory.evaluate(np.array([0.5, 1.0, 3.0]))
    np.testing.assert_allclose(samples.com, [[0.1, 0.2]] * 3)
    np.testing.assert_allclose(samples.com_velocity, 0.0)


@pytest.mark.parametrize("times, points", [
    (np.array([0.0, 0.0]), np.zeros((2, 2))),
    (np.array([0.0, 1.0]), np.array([[0.0, 0.0], [np.nan, 0.0]])),
    (np.array([0.0, 1.0]), np.zeros((3, 2))),
])
def test_bad_knots_are_rejected(times: np.ndarray, points: np.ndarray) -> None:
    with pytest.raises(GaitError):
        DcmTrajectory(times, points, OMEGA, np.zeros(2))
