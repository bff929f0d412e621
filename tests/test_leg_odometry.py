"""Leg odometry against the simulator's ground truth (the reference, in tests only), and its error paths; with the
IMU on the pelvis (Centurion's) and in the torso, behind the waist joints."""

import math

import numpy as np
import pinocchio as pin
import pytest
import yaml

from legion_common.transforms import quaternion_to_matrix, yaw_from_matrix
from legion_description.robot_config import load_robot_config
from legion_description.robot_files import expand_urdf, robot_config_path
from legion_estimation import EstimationError, LegOdometry, LegOdometryParameters
from legion_model import RobotModel
from legion_sim.scene import load_scene
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
        estimate = estimator.update(*measure(sim), stamp=sim.time)
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


@pytest.mark.parametrize("settle_time", [0.03, 0.0])
def test_a_sole_that_slides_just_after_touch_down_moves_neither_position_nor_velocity(model, settle_time):
    """The right sole touches down and slides outward for 20 ms (its hip rolls) while the left one stands still:
    settling for 30 ms, the estimate follows the left sole alone, and the right sole is anchored where it stopped
    (no jump when it starts to count). Anchored at once (settle_time 0), half its slide reads as base motion. Without
    the floor plane (`flat_floor`), which levels every anchor: the slide's few tenths of a millimetre of height would
    move the estimate when the sole starts to count."""
    sim = Simulation.from_names("centurion", "empty", sensor_noise=False)
    sim.step(2)
    positions, _, orientation, _, _ = measure(sim)
    velocities = dict.fromkeys(positions, 0.0)
    gyro = np.zeros(3)
    estimator = LegOdometry(model, LegOdometryParameters(contact_settle_time=settle_time, flat_floor=False))
    period = 0.002
    stamp = 0.0
    for _ in range(50):  # both feet down and settled
        stamp += period
        start = estimator.update(positions, velocities, orientation, gyro, {"left": 600.0, "right": 200.0}, stamp)
    for _ in range(10):  # the right foot is in the air
        stamp += period
        estimator.update(positions, velocities, orientation, gyro, {"left": 800.0, "right": 0.0}, stamp)
    rate = 0.5  # [rad/s] of r_hip_roll while the right sole slides, 20 ms: about 9 mm at the sole
    estimates = []
    for k in range(40):  # touch-down; slides for 20 ms, then still
        stamp += period
        sliding = k < 10
        if sliding:
            positions["r_hip_roll"] -= rate * period
        velocities["r_hip_roll"] = -rate if sliding else 0.0
        estimates.append(estimator.update(positions, velocities, orientation, gyro, {"left": 600.0, "right": 200.0},
                                          stamp))
    assert all(e.contacts == ("left", "right") for e in estimates)
    drift = max(np.linalg.norm(e.position - start.position) for e in estimates)
    speed = max(np.linalg.norm(e.linear_velocity) for e in estimates)
    if settle_time > 0.0:
        assert drift < 1e-9 and speed < 1e-9, (drift, speed)
    else:
        assert drift > 0.002 and speed > 0.1, (drift, speed)


def test_contact_thresholds_are_checked(model):
    with pytest.raises(EstimationError, match="contact_off"):
        LegOdometry(model, LegOdometryParameters(contact_on=50.0, contact_off=80.0))


# ------------------------------------------------------------------------------------------ IMU behind the waist


@pytest.fixture(scope="module")
def torso_imu_config_path(tmp_path_factory):
    """Centurion's configuration with its IMU in the torso (behind waist_yaw and waist_pitch)."""
    data = yaml.safe_load(robot_config_path("centurion").read_text())
    data["frames"]["imu"] = "torso"
    path = tmp_path_factory.mktemp("torso_imu") / "centurion.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def torso_imu_model(torso_imu_config_path):
    return RobotModel.load("centurion", config_path=torso_imu_config_path, lock_hands=True)


def test_the_imu_chain_is_the_waist_for_a_torso_imu_and_empty_for_a_pelvis_imu(model, torso_imu_model):
    assert LegOdometry(model).imu_joints == ()
    assert LegOdometry(torso_imu_model).imu_joints == ("waist_yaw", "waist_pitch")


@pytest.mark.parametrize(("waist_yaw", "waist_pitch"), [(0.0, 0.0), (0.5, 0.0), (0.0, 0.4), (-0.6, 0.3)])
def test_torso_imu_gives_the_base_rotation_and_rate_through_the_waist(torso_imu_model, waist_yaw, waist_pitch):
    """IMU readings computed from the model's kinematics (the torso's orientation, and its angular velocity in its
    own axes, with the waist turning) give back the base's orientation and angular velocity exactly (with the waist
    at zero only the angular velocity depends on the waist: its joint rates)."""
    robot = torso_imu_model
    rng = np.random.default_rng(3)
    base_rotation = pin.rpy.rpyToMatrix(0.1, -0.15, 0.7)
    q = robot.standing_configuration()
    q[:7] = pin.SE3ToXYZQUAT(pin.SE3(base_rotation, np.array([0.2, -0.1, 0.9])))
    q[robot.q_indices(["waist_yaw", "waist_pitch"])] = (waist_yaw, waist_pitch)
    v = np.zeros(robot.nv)
    v[3:6] = (0.3, -0.2, 0.5)  # base angular velocity, base axes
    v[robot.v_indices(["waist_yaw", "waist_pitch"])] = (1.5, -0.8)
    v[robot.v_indices(robot.config.joints("legs", "left"))] = rng.uniform(-0.5, 0.5, 6)
    robot.update(q, v)
    imu = robot.transform_frame_to_world("torso").rotation
    gyro = robot.frame_velocity("torso", pin.LOCAL)[3:]
    estimator = LegOdometry(robot, LegOdometryParameters(initial_yaw=yaw_from_matrix(base_rotation)))
    joints = (robot.joint_positions_from_q(q), robot.joint_velocities_from_v(v))
    estimate = estimator.update(*joints, pin.Quaternion(imu).coeffs(), gyro, {"left": 400.0, "right": 400.0})
    np.testing.assert_allclose(quaternion_to_matrix(estimate.orientation), base_rotation, atol=1e-9)
    np.testing.assert_allclose(estimate.angular_velocity, v[3:6], atol=1e-9)


def test_tracks_the_base_with_a_torso_imu_while_the_waist_turns(torso_imu_config_path, torso_imu_model):
    """In the simulator, with the IMU sensor in the torso, the robot stands and turns and bends its waist: the
    estimate follows the true base (the IMU-in-base rotation taken as fixed would be off by the waist angles)."""
    config = load_robot_config(path=torso_imu_config_path)
    sim = Simulation(config, load_scene("empty"), expand_urdf("centurion"), sensor_noise=False)
    estimator = LegOdometry(torso_imu_model)
    waist = list(config.joints("waist"))
    gains = [config.gains[name] for name in waist]
    stiffness, damping = [g.stiffness for g in gains], [g.damping for g in gains]
    amplitude, omega = np.array([0.4, 0.2]), 2.0 * math.pi / 1.5
    tilt_errors, yaw_errors, rate_errors, position_errors = [], [], [], []
    for _ in range(1000):  # 2 s at 500 Hz
        t = sim.time
        position, velocity = amplitude * math.sin(omega * t), amplitude * omega * math.cos(omega * t)
        ramp = min(1.0, t / 0.5)
        accepted, reason = sim.set_command(waist, ramp * position, ramp * velocity, [0.0, 0.0], stiffness, damping)
        assert accepted, reason
        sim.step(2)
        estimate = estimator.update(*measure(sim))
        truth = sim.ground_truth_base()
        error = quaternion_to_matrix(truth.orientation).T @ quaternion_to_matrix(estimate.orientation)
        tilt_errors.append(math.acos(min(1.0, error[2, 2])))
        yaw_errors.append(abs(math.atan2(error[1, 0], error[0, 0])))
        rate_errors.append(np.linalg.norm(estimate.angular_velocity - truth.angular_velocity))
        position_errors.append(np.linalg.norm(estimate.position - truth.position))
    waist_now = dict(zip(sim.joint_state().names, sim.joint_state().position, strict=True))
    assert max(abs(waist_now[name]) for name in waist) > 0.1, "the waist should have moved"
    assert max(tilt_errors) < 0.005, f"tilt error up to {max(tilt_errors):.4f} rad"
    assert max(yaw_errors) < 0.005, f"yaw error up to {max(yaw_errors):.4f} rad"
    assert np.median(rate_errors) < 0.02, f"angular velocity error {np.median(rate_errors):.4f} rad/s (median)"
    assert max(position_errors) < 0.01, f"position error up to {max(position_errors):.4f} m"


@pytest.mark.parametrize("flat_floor", [True, False])
def test_steps_with_a_kinematic_height_error_do_not_lift_the_estimate_on_a_flat_floor(model, flat_floor):
    """Ten steps, each sole landing 2 mm higher in the base frame than it left (a knee reading off by a little, a sole
    landing on its edge): on a flat floor every anchor is on z = 0 and the height follows the legs; without the floor,
    each step's error adds up (1.3 cm after ten)."""
    sim = Simulation.from_names("centurion", "empty", sensor_noise=False)
    sim.step(2)
    positions, _, orientation, _, _ = measure(sim)
    velocities = dict.fromkeys(positions, 0.0)
    gyro = np.zeros(3)
    estimator = LegOdometry(model, LegOdometryParameters(flat_floor=flat_floor))
    stamp, period = 0.0, 0.002

    def run(forces, ticks=30):
        nonlocal stamp
        estimate = None
        for _ in range(ticks):
            stamp += period
            estimate = estimator.update(positions, velocities, orientation, gyro, forces, stamp)
        return estimate

    start = run({"left": 400.0, "right": 400.0})
    soles = estimator.kinematics.soles_in_base(model.joint_array_of(tuple(positions), np.fromiter(
        positions.values(), dtype=float), default=model.neutral_configuration()[7:]), ("left", "right"))
    knee_rate = {}
    for side, prefix in (("left", "l_"), ("right", "r_")):  # d(sole z in base)/d(knee) by a finite difference
        moved = dict(positions)
        moved[prefix + "knee"] += 1e-4
        joints = model.joint_array_of(tuple(moved), np.fromiter(moved.values(), dtype=float),
                                      default=model.neutral_configuration()[7:])
        knee_rate[side] = (estimator.kinematics.soles_in_base(joints, (side,))[side].translation[2]
                           - soles[side].translation[2]) / 1e-4
    for step in range(10):
        side, other = ("right", "left") if step % 2 == 0 else ("left", "right")
        run({other: 800.0, side: 0.0})  # the side's foot in the air
        positions[side[0] + "_knee"] += 0.002 / knee_rate[side]  # it lands 2 mm higher in the base frame
        run({"left": 400.0, "right": 400.0})
    end = run({"left": 400.0, "right": 400.0})
    rotation = quaternion_to_matrix(end.orientation)
    joints = model.joint_array_of(tuple(positions), np.fromiter(positions.values(), dtype=float),
                                  default=model.neutral_configuration()[7:])
    soles_now = estimator.kinematics.soles_in_base(joints, ("left", "right"))
    sole_heights = [end.position[2] + (rotation @ soles_now[s].translation)[2] for s in ("left", "right")]
    if flat_floor:
        assert max(abs(h) for h in sole_heights) < 0.0011, sole_heights  # the legs disagree by 2 mm at most
    else:
        assert min(sole_heights) > 0.01, sole_heights
    assert abs(end.position[:2] - start.position[:2]).max() < 1e-6
