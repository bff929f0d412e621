"""Minimum-jerk gripper paths: rest to rest, within the limits, exact ends; slowed and held by the safety scale."""

import numpy as np
import pinocchio as pin
import pytest

from legion_manipulation.paths import MinimumJerkPath, PathClock, PathLimits, minimum_jerk


def test_profile_starts_and_ends_at_rest():
    assert minimum_jerk(0.0) == (0.0, 0.0)
    assert minimum_jerk(1.0) == pytest.approx((1.0, 0.0))
    assert minimum_jerk(0.5)[0] == pytest.approx(0.5)
    assert minimum_jerk(-1.0) == (0.0, 0.0) and minimum_jerk(2.0)[0] == 1.0


def test_path_keeps_its_limits_and_reaches_the_goal():
    limits = PathLimits(max_speed=0.2, max_acceleration=0.4, max_angular_speed=0.5, max_angular_acceleration=1.0)
    start = pin.SE3(np.eye(3), np.array([0.3, 0.1, 0.9]))
    goal = pin.SE3(pin.rpy.rpyToMatrix(0.0, 0.8, 0.3), np.array([0.5, -0.1, 0.8]))
    path = MinimumJerkPath(start, goal, 2.0, limits)
    dt = 0.002
    times = np.arange(2.0, path.end_time + dt, dt)
    positions = np.array([path.sample(t)[0].translation for t in times])
    speeds = np.linalg.norm(np.diff(positions, axis=0), axis=1) / dt
    accelerations = np.abs(np.diff(speeds)) / dt
    assert speeds.max() <= 0.2 * 1.01 and accelerations.max() <= 0.4 * 1.05
    angles = [pin.log3(path.sample(t)[0].rotation.T @ path.sample(t + dt)[0].rotation) for t in times[:-1]]
    assert max(np.linalg.norm(a) for a in angles) / dt <= 0.5 * 1.01
    end, velocity = path.sample(path.end_time + 1.0)
    assert end.isApprox(goal) and np.allclose(velocity, 0.0)
    assert path.sample(0.0)[0].isApprox(start)
    assert path.remaining(2.0) == pytest.approx(path.distance) and path.remaining(path.end_time) == 0.0
    _, middle_velocity = path.sample(2.0 + path.duration / 2)
    assert np.linalg.norm(middle_velocity) == pytest.approx(1.875 * path.distance / path.duration)


def test_a_path_runs_at_the_safety_scale_and_holds_at_zero():
    start = pin.SE3(np.eye(3), np.array([0.3, 0.1, 0.9]))
    goal = pin.SE3(np.eye(3), np.array([0.6, 0.1, 0.9]))
    clock = PathClock()
    path = MinimumJerkPath(start, goal, 0.0, PathLimits(), clock=clock)
    free = MinimumJerkPath(start, goal, 0.0, PathLimits())
    dt, t = 0.02, 0.0
    clock.advance(t, 1.0)
    while t < 0.5 * path.duration:  # full speed: as the unscaled path
        t += dt
        clock.advance(t, 1.0)
        assert np.allclose(path.sample(t)[0].translation, free.sample(t)[0].translation)
    held_at = path.sample(t)[0].translation
    for _ in range(100):  # protective stop: the gripper holds where it is
        t += dt
        clock.advance(t, 0.0)
        assert np.allclose(path.sample(t)[0].translation, held_at)
        assert not path.done(t)
    assert clock.lag == pytest.approx(100 * dt)
    before = path.remaining(t)
    for _ in range(10):  # half speed: half the progress of full speed over the same time
        t += dt
        clock.advance(t, 0.5)
    half = before - path.remaining(t)
    reference = free.remaining(t - clock.lag - 10 * dt * 0.5) - free.remaining(t - clock.lag)
    assert half == pytest.approx(reference, rel=1e-6) and half > 0.0
    while not path.done(t):
        t += dt
        clock.advance(t, 1.0)
    assert path.end_time == pytest.approx(free.end_time + clock.lag)
    assert np.allclose(path.sample(t)[0].translation, goal.translation)


def test_a_bad_scale_holds():
    clock = PathClock()
    clock.advance(0.0, 1.0)
    assert clock.advance(0.1, float("nan")) == pytest.approx(0.1)
    assert clock.advance(0.2, 7.0) == 0.0  # clamped to 1
