"""Swing-foot trajectories (legion_gait.swing): boundary conditions, clearance, smooth re-targeting and retiming."""

from __future__ import annotations

import numpy as np
import pytest

from legion_gait.swing import SwingTrajectory, evaluate_polynomial, quintic_coefficients

START = np.array([0.0, 0.1, 0.0])
END = np.array([0.45, 0.15, 0.3])


def swing() -> SwingTrajectory:
    return SwingTrajectory(START, END, 0.0, 0.0, lift_off=1.0, touch_down=1.4, clearance=0.06)


def test_quintic_meets_its_boundary_conditions() -> None:
    rng = np.random.default_rng(0)
    p0, v0, a0, p1 = rng.normal(size=(4, 3))
    c = quintic_coefficients(p0, v0, a0, p1, 0.7)
    p, v, a = evaluate_polynomial(c, np.array([0.0, 0.7]))
    np.testing.assert_allclose([p[0], v[0], a[0]], [p0, v0, a0], atol=1e-12)
    np.testing.assert_allclose([p[1], v[1], a[1]], [p1, np.zeros(3), np.zeros(3)], atol=1e-9)


def test_swing_leaves_and_lands_at_rest_with_clearance() -> None:
    trajectory = swing()
    ends = trajectory.evaluate(np.array([1.0, 1.4]))
    np.testing.assert_allclose(ends.pose, [START, END], atol=1e-12)
    np.testing.assert_allclose(ends.velocity, 0.0, atol=1e-9)
    np.testing.assert_allclose(ends.height, 0.0, atol=1e-9)  # z, dz, ddz
    middle = trajectory.evaluate(np.array([1.2]))
    assert middle.height[0, 0] == pytest.approx(0.06)
    heights = trajectory.evaluate(np.linspace(1.0, 1.4, 101)).height[:, 0]
    assert heights.min() >= -1e-12


def test_swing_derivatives_match_finite_differences() -> None:
    trajectory = swing().retarget(1.15, END + np.array([0.05, -0.1, -0.2]))
    t = np.linspace(1.17, 1.38, 15)
    h = 1e-6
    now, ahead, behind = (trajectory.evaluate(t + d) for d in (0.0, h, -h))
    np.testing.assert_allclose((ahead.pose - behind.pose) / (2 * h), now.velocity, atol=1e-5)
    np.testing.assert_allclose((ahead.velocity - behind.velocity) / (2 * h), now.acceleration, atol=1e-3)
    np.testing.assert_allclose((ahead.height[:, 0] - behind.height[:, 0]) / (2 * h), now.height[:, 1], atol=1e-5)


@pytest.mark.parametrize("method", ["retarget", "retime"])
def test_changing_a_swing_in_flight_is_smooth_and_lands_where_asked(method: str) -> None:
    original = swing()
    new_end = END + np.array([0.0, 0.12, 0.0])
    changed = (original.retarget(1.2, new_end) if method == "retarget"
               else original.retime(1.2, 1.3, new_end))
    at_change = [trajectory.evaluate(np.array([1.2])) for trajectory in (original, changed)]
    for field in ("pose", "velocity", "acceleration", "height"):
        np.testing.assert_allclose(getattr(at_change[0], field), getattr(at_change[1], field), atol=1e-9)
    landing = changed.evaluate(np.array([changed.touch_down]))
    np.testing.assert_allclose(landing.pose[0], new_end, atol=1e-9)
    np.testing.assert_allclose(landing.velocity[0], 0.0, atol=1e-9)
    np.testing.assert_allclose(landing.height[0], 0.0, atol=1e-9)
    assert changed.touch_down == (1.4 if method == "retarget" else 1.3)


def test_retime_cannot_land_in_the_past() -> None:
    with pytest.raises(ValueError):
        swing().retime(1.2, 1.1, END)


def test_yaw_takes_the_short_way_round() -> None:
    trajectory = SwingTrajectory(np.array([0.0, 0.0, 3.0]), np.array([0.0, 0.0, -3.0]), 0.0, 0.0, 0.0, 0.4, 0.05)
    yaws = trajectory.evaluate(np.linspace(0.0, 0.4, 41)).pose[:, 2]
    assert np.all(np.diff(yaws) >= -1e-12)  # +3 rad -> +3.28 rad (= -3 rad), not back through 0
    assert np.ptp(yaws) == pytest.approx(2 * np.pi - 6.0)
