"""Leg odometry against the simulator's ground truth (the reference, in tests only), and its error paths."""

import math

import numpy as np
import pytest

from legion_estimation import EstimationError, LegOdometry, LegOdometryParameters
from legion_model import RobotModel
from legion_sim.simulation import Simulation


@pytest.fixture(scope="module")
def model():
    return RobotModel.load("centurion", lock_hands=True)


def measure(sim):
    joints, imu, wrenches = sim.joint_state(), sim.imu(), sim.foot_wrenches()
    return (dict(zip(joints.names, joints.position, strict=True)),
            dict(zip(joints.names, joints.velocity, strict=True)),
            imu.orientation, imu.angular_velocity, {side: w.force[2] for side, w in wrenches.items()})


@pytest.mark.parametrize(("sensor_noise", "max_position_error", "max_tilt_error"), [(False, 0.005, 1e-6),
                                                                                      (True, 0.006, 0.004)],
                         ids=["exact_sensors", "robot_sensors"])
def test_tracks_the_base_through_a_sway_on_both_feet_and_one(model, sensor_noise, max_position_error,
                                                             max_tilt_error):
    """The robot holds its posture, is pushed sideways (it sways on its ankles), and then shifts its weight. With the
    robot's sensor figures (docs/sensors.md) the error is the attitude filter's tilt error times the base height."""
    sim = Simulation.from_names("centurion", "empty", sensor_noise=sensor_noise)
    estimator = LegOdometry(model)
    position_errors, velocity_errors, single_support = [], [], 0
    for k in range(1500):  # 3 s at 500 Hz
        if k == 250:
            sim.apply_wrench("base_link", [0.0, 60.0, 0.0], [0.0, 0.0, 0.0], 0.2)
        sim.step(2)
        estimate = estimator.update(*measure(sim))
        truth = sim.ground_truth_base()
        position_errors.append(np.linalg.norm(estimate.position - truth.position))
        velocity_errors.append(np.linalg.norm(estimate.linear_velocity - truth.linear_velocity))
        assert 2.0 * math.acos(min(1.0, abs(float(estimate.orientation @ truth.orientation)))) < max_tilt_error
        single_support += len(estimate.contacts) == 1
    moved = np.linalg.norm(sim.ground_truth_base().position[:2])
    assert moved > 0.002 or single_support > 0, "the push should have moved the robot"
    assert max(position_errors) < max_position_error, f"position error up to {max(position_errors):.4f} m"
    assert np.median(velocity_errors) < 0.01 and max(velocity_errors) < 0.1


def test_starts_at_the_initial_pose(model):
    sim = Simulation.from_names("centurion", "empty")
    estimator = LegOdometry(model, LegOdometryParameters(initial_x=1.0, initial_y=-2.0, initial_yaw=math.pi / 2))
    sim.step(2)
    estimate = estimator.update(*measure(sim))
    truth = sim.ground_truth_base()
    assert estimate.position[:2] == pytest.approx([1.0, -2.0], abs=1e-9)
    assert estimate.position[2] == pytest.approx(truth.position[2], abs=0.002)  # soles on z = 0
    x, y, z, w = estimate.orientation
    assert math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)) == pytest.approx(math.pi / 2, abs=1e-3)


@pytest.mark.parametrize("corrupt", ["nan_joint", "unknown_joint", "bad_quaternion", "nan_gyro", "nan_force"])
def test_bad_measurements_raise_and_keep_the_state(model, corrupt):
    sim = Simulation.from_names("centurion", "empty")
    estimator = LegOdometry(model)
    sim.step(2)
    good = estimator.update(*measure(sim))
    positions, velocities, orientation, gyro, forces = measure(sim)
    if corrupt == "nan_joint":
        positions[next(iter(positions))] = float("nan")
    elif corrupt == "unknown_joint":
        positions["no_such_joint"] = 0.0
    elif corrupt == "bad_quaternion":
        orientation = np.zeros(4)
    elif corrupt == "nan_gyro":
        gyro = np.array([0.0, float("nan"), 0.0])
    else:
        forces["left"] = float("inf")
    with pytest.raises(EstimationError):
        estimator.update(positions, velocities, orientation, gyro, forces)
    again = estimator.update(*measure(sim))
    assert np.allclose(again.position, good.position, atol=1e-6)


def test_contact_thresholds_are_checked(model):
    with pytest.raises(EstimationError, match="contact_off"):
        LegOdometry(model, LegOdometryParameters(contact_on=50.0, contact_off=80.0))
