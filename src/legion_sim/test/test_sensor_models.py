"""Sensor error models: the statistics each model promises (seeded), depth dropout, latency, and the simulator's
read-out with the robot's figures (noise on) and without (exact)."""

import math

import numpy as np
import pytest

from legion_common.transforms import (
    matrix_to_quaternion,
    quaternion_from_yaw,
    quaternion_to_matrix,
    tilt_from_quaternion,
    yaw_from_quaternion,
)
from legion_description.sensor_config import (
    DepthCameraSpec,
    EncoderSpec,
    ForceTorqueSpec,
    ImuSpec,
    SensorConfig,
)
from legion_sim.errors import SimError
from legion_sim.scene import parse_scene
from legion_sim.sensor_models import DelayLine, SensorModels, depth_edges, depth_image, stereo_occlusion

RATE = 500.0
DT = 1.0 / RATE
LEVEL = np.array([0.0, 0.0, 0.0, 1.0])
GRAVITY = np.array([0.0, 0.0, 9.81])


def _imu_run(spec: ImuSpec, seconds: float, seed: int = 1, orientation=LEVEL):
    models = SensorModels(SensorConfig(imu=spec), seed=seed)
    readings = [models.imu(i * DT, orientation, np.zeros(3), GRAVITY) for i in range(int(seconds * RATE) + 1)]
    return models, readings


def test_gyro_and_accel_white_noise_have_density_times_root_bandwidth_std():
    spec = ImuSpec(bandwidth=100.0, gyro_noise_density=1.4e-4, accel_noise_density=1.7e-3)
    _, readings = _imu_run(spec, 20.0)
    gyro = np.array([r[1] for r in readings])
    accel = np.array([r[2] for r in readings]) - GRAVITY
    assert np.std(gyro, axis=0) == pytest.approx([1.4e-3] * 3, rel=0.05)
    assert np.std(accel, axis=0) == pytest.approx([1.7e-2] * 3, rel=0.05)
    assert np.abs(np.mean(gyro, axis=0)).max() < 1e-4  # no bias configured


def test_gyro_bias_is_drawn_at_start_and_random_walks():
    spec = ImuSpec(gyro_bias=1e-3, gyro_bias_random_walk=1e-4)
    starts, ends = [], []
    for seed in range(200):
        models, _ = _imu_run(spec, 4.0, seed=seed)
        starts.append(SensorModels(SensorConfig(imu=spec), seed=seed).gyro_bias)
        ends.append(models.gyro_bias)
    starts, ends = np.array(starts), np.array(ends)
    assert np.std(starts) == pytest.approx(1e-3, rel=0.1)
    # the walk's increment over T has std K sqrt(T) = 1e-4 * 2
    assert np.std(ends - starts) == pytest.approx(2e-4, rel=0.1)


def test_gyro_reading_carries_the_bias():
    models, readings = _imu_run(ImuSpec(gyro_bias=1e-2), 0.2)
    assert readings[-1][1] == pytest.approx(models.gyro_bias, abs=1e-12)


def test_attitude_filter_tilt_follows_the_accelerometer_bias_and_yaw_drifts_with_the_gyro_bias():
    spec = ImuSpec(gyro_bias=2e-3, accel_bias=0.02, attitude_filter=True, attitude_time_constant=2.0)
    models, readings = _imu_run(spec, 30.0, orientation=quaternion_from_yaw(0.4))
    assert tilt_from_quaternion(readings[0][0]) < 1e-9  # starts aligned (start-up calibration)
    # After many time constants roll and pitch settle where the biased accelerometer puts gravity (a gyro bias
    # about a level axis adds time_constant * bias, the filter's steady-state lag).
    bias = models.accel_bias
    expected = math.hypot(math.atan2(math.hypot(bias[0], bias[1]), 9.81 + bias[2]), 0.0)
    tilts = np.array([tilt_from_quaternion(r[0]) for r in readings[-2500:]])
    assert np.mean(tilts) == pytest.approx(expected, abs=2.0 * 2e-3 * 2.0 + 1e-4)
    assert np.ptp(tilts) < 1e-3  # no growth once settled
    # Yaw has no reference: it is the integral of the gyro bias about the vertical.
    yaw_error = math.remainder(yaw_from_quaternion(readings[-1][0]) - 0.4, math.tau)
    assert yaw_error == pytest.approx(models.gyro_bias[2] * 30.0, rel=0.05)
    assert abs(yaw_error) > 1e-3


def test_attitude_filter_corrects_a_tilted_start_and_ignores_impacts():
    from legion_sim.sensor_models import attitude_filter_step

    tilted = quaternion_to_matrix([math.sin(0.05), 0.0, 0.0, math.cos(0.05)])  # 0.1 rad about x
    attitude = tilted
    for _ in range(int(10.0 * RATE)):  # level and at rest; five time constants of 2 s
        attitude = attitude_filter_step(attitude, np.zeros(3), GRAVITY, DT, 2.0, 0.1)
    assert tilt_from_quaternion(matrix_to_quaternion(attitude)) == pytest.approx(0.1 * math.exp(-5.0), rel=0.05)
    # An impact (|a| far from g) does not pull the estimate.
    kicked = attitude_filter_step(tilted, np.zeros(3), np.array([30.0, 0.0, 9.81]), DT, 2.0, 0.1)
    assert np.allclose(kicked, tilted)


def _attitude_filter_step_by_svd(attitude, gyro, accel, dt, time_constant, gate):
    """The filter step written with numpy vectors and an SVD to stay a rotation (the original formulation)."""
    from legion_sim.sensor_models import STANDARD_GRAVITY

    rate = np.asarray(gyro, dtype=float).copy()
    norm = float(np.linalg.norm(accel))
    if norm > 0.0 and abs(norm - STANDARD_GRAVITY) <= gate * STANDARD_GRAVITY:
        rate += np.cross(np.asarray(accel, dtype=float) / norm, attitude[2, :]) / time_constant
    angle = float(np.linalg.norm(rate)) * dt
    if angle < 1e-12:
        return attitude
    axis = rate / np.linalg.norm(rate)
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    u, _, vt = np.linalg.svd(attitude @ (np.eye(3) + math.sin(angle) * k + (1.0 - math.cos(angle)) * (k @ k)))
    return u @ vt


def test_attitude_filter_step_matches_the_svd_formulation_to_rounding():
    from legion_sim.sensor_models import attitude_filter_step

    rng = np.random.default_rng(3)
    fast = reference = quaternion_to_matrix([0.1, -0.2, 0.3, 0.9])
    for _ in range(20000):  # 40 s at 500 Hz of a shaken IMU, impacts (gated) included
        gyro, accel = rng.normal(0.0, 0.5, 3), GRAVITY + rng.normal(0.0, 0.6, 3)
        fast = attitude_filter_step(fast, gyro, accel, DT, 5.0, 0.1)
        reference = _attitude_filter_step_by_svd(reference, gyro, accel, DT, 5.0, 0.1)
    assert np.abs(fast - reference).max() < 1e-12
    assert np.abs(fast.T @ fast - np.eye(3)).max() < 1e-15 and np.linalg.det(fast) > 0.0


def test_encoder_positions_are_quantised_and_velocity_is_differentiated():
    counts = 2**17
    step = 2 * math.pi / counts
    models = SensorModels(SensorConfig(encoders=EncoderSpec(counts_per_revolution=counts, velocity_window=0.001)))
    rng = np.random.default_rng(3)
    true = rng.uniform(-2.0, 2.0, 20000)
    velocity = rng.uniform(-1.0, 1.0, 20000)
    position, measured_velocity = models.joints(true, velocity)
    assert np.allclose(np.round(position / step) * step, position, atol=1e-12, rtol=0)
    errors = position - true
    assert np.abs(errors).max() <= step / 2 + 1e-12
    assert np.std(errors) == pytest.approx(step / math.sqrt(12), rel=0.05)  # uniform quantisation error
    velocity_errors = measured_velocity - velocity
    assert np.abs(velocity_errors).max() <= step / 0.001 + 1e-9  # at most one count over the window
    assert np.mean(np.abs(velocity_errors)) > 0.1 * step / 0.001
    standing = models.joints(true, np.zeros_like(true))[1]
    assert not standing.any()  # a joint at rest reads exactly 0 rad/s


def test_force_torque_noise_and_offset():
    spec = ForceTorqueSpec(force_noise=0.8, torque_noise=0.025, force_offset=2.0, torque_offset=0.05)
    models = SensorModels(SensorConfig(force_torque=spec), seed=5)
    true_force, true_torque = np.array([1.0, -2.0, 320.0]), np.array([0.5, -0.3, 0.0])
    readings = [models.wrench("left", true_force, true_torque) for _ in range(20000)]
    forces = np.array([f for f, _ in readings])
    torques = np.array([t for _, t in readings])
    assert np.std(forces, axis=0) == pytest.approx([0.8] * 3, rel=0.05)
    assert np.std(torques, axis=0) == pytest.approx([0.025] * 3, rel=0.05)
    assert np.mean(forces, axis=0) - true_force == pytest.approx(models.force_offset["left"], abs=0.03)
    assert not np.allclose(models.force_offset["left"], models.force_offset["right"])
    offsets = np.array([SensorModels(SensorConfig(force_torque=spec), seed=s).force_offset["right"]
                        for s in range(300)])
    assert np.std(offsets) == pytest.approx(2.0, rel=0.1)


def test_depth_noise_grows_with_the_square_of_the_range():
    spec = DepthCameraSpec(baseline=0.05, subpixel_noise=0.08)
    rng = np.random.default_rng(0)
    for z in (0.5, 1.0, 2.0, 4.0):
        true = np.full((200, 200), z, dtype=np.float32)
        noisy = depth_image(true, 400.0, spec, rng)
        assert np.std(noisy - true) == pytest.approx(0.08 * z * z / (400.0 * 0.05), rel=0.05)
        assert abs(np.mean(noisy - true)) < 1e-3 * z * z


def test_stereo_occlusion_band_is_the_disparity_difference_left_of_a_nearer_object():
    f, b = 400.0, 0.05
    depth = np.full((3, 60), 1.0, dtype=np.float32)
    depth[:, 30:40] = 0.5  # a nearer object: disparity 40 px against 20 px behind it
    hidden = stereo_occlusion(depth, f, b)
    # f b (1/0.5 - 1/1.0) = 20 px of background left of the object's left edge are hidden; nothing else.
    assert hidden[0, 10:30].all() and not hidden[0, :10].any() and not hidden[0, 30:].any()
    assert (hidden == hidden[0]).all()
    flat = np.full((4, 50), 2.0, dtype=np.float32)
    assert not stereo_occlusion(flat, f, b).any()
    slope = np.linspace(1.0, 3.0, 50, dtype=np.float32)[None, :].repeat(2, axis=0)  # a floor receding to the right
    assert not stereo_occlusion(slope, f, b).any()
    spec = DepthCameraSpec(stereo_occlusion=True)
    assert np.isnan(depth_image(depth, f, spec, np.random.default_rng(0))[0, 10:30]).all()


def test_depth_missing_at_edges_and_out_of_range():
    true = np.full((40, 60), 2.0, dtype=np.float32)
    true[10:30, 20:40] = 1.0  # a box 1 m nearer than the wall
    true[0, 0] = 0.1  # nearer than min_range
    true[39, 59] = 12.0  # beyond max_range
    true[35, 5] = np.nan  # no return
    spec = DepthCameraSpec(min_range=0.28, max_range=10.0, edge_threshold=0.05, edge_width=2)
    image = depth_image(true, 400.0, spec, np.random.default_rng(0))
    missing = np.isnan(image)
    assert missing[0, 0] and missing[39, 59] and missing[35, 5]
    # the box outline: two pixels each side of the jump are missing, the inside and the wall far away are not
    assert missing[20, 18:22].all() and missing[20, 38:42].all() and missing[8:12, 30].all()
    assert not missing[20, 17] and not missing[20, 22] and not missing[20, 30] and not missing[5, 50]
    # a smooth slope (a floor seen at a grazing angle) is no edge
    slope = np.tile(np.linspace(1.0, 3.0, 100, dtype=np.float32), (10, 1))
    assert not depth_edges(slope, 0.05, 2).any()
    # rounding to the depth unit
    rounded = depth_image(true, 400.0, DepthCameraSpec(depth_unit=0.001), np.random.default_rng(0))
    assert np.nanmax(np.abs(rounded * 1000.0 - np.round(rounded * 1000.0))) < 1e-3


def test_delay_line_delivers_after_the_latency_with_the_capture_time():
    line = DelayLine(0.05)
    line.push(0.1, "frame at 0.1")
    line.push(0.2, "frame at 0.2")
    assert line.pop_due(0.148) == []
    assert line.pop_due(0.150) == [(0.1, "frame at 0.1")]
    assert line.pop_due(0.249) == []
    assert line.pop_due(0.3) == [(0.2, "frame at 0.2")]
    assert len(line) == 0
    immediate = DelayLine(0.0)
    immediate.push(1.0, "x")
    assert immediate.pop_due(1.0) == [(1.0, "x")]
    with pytest.raises(ValueError):
        DelayLine(-0.1)


def test_ideal_models_change_nothing():
    models = SensorModels(SensorConfig.ideal(), seed=9)
    q = quaternion_from_yaw(0.3)
    w, a = np.array([0.1, -0.2, 0.3]), np.array([0.5, 0.1, 9.8])
    for i in range(3):
        orientation, gyro, accel = models.imu(i * DT, q, w, a)
        assert np.array_equal(orientation, q) and np.array_equal(gyro, w) and np.array_equal(accel, a)
    position, velocity = np.array([0.1, 0.2]), np.array([0.3, -0.4])
    measured_position, measured_velocity = models.joints(position, velocity)
    assert np.array_equal(measured_position, position) and np.array_equal(measured_velocity, velocity)
    force, torque = models.wrench("right", np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]))
    assert np.array_equal(force, [1.0, 2.0, 3.0]) and np.array_equal(torque, [4.0, 5.0, 6.0])
    depth = np.array([[1.0, np.nan], [2.0, 3.0]], dtype=np.float32)
    assert np.array_equal(models.depth(depth, 400.0), depth, equal_nan=True)


def test_seeded_and_reset_runs_repeat():
    config = SensorConfig(imu=ImuSpec(gyro_noise_density=1e-3, gyro_bias=1e-3, gyro_bias_random_walk=1e-4,
                                      attitude_filter=True))
    first = SensorModels(config, seed=4)
    run = [first.imu(i * DT, LEVEL, np.zeros(3), GRAVITY)[1] for i in range(50)]
    first.reset()
    again = [first.imu(i * DT, LEVEL, np.zeros(3), GRAVITY)[1] for i in range(50)]
    other = SensorModels(config, seed=5)
    different = [other.imu(i * DT, LEVEL, np.zeros(3), GRAVITY)[1] for i in range(50)]
    assert np.array_equal(run, again)
    assert not np.allclose(run, different)


def test_scene_overrides_are_checked_and_named():
    base = {"name": "s", "robot_start": {"x": 0.0}}
    scene = parse_scene(base | {"sensors": {"depth_camera": {"latency": 0.1}}}, "s.yaml")
    assert SensorConfig().with_overrides(scene.sensors, "s.yaml").depth_camera.latency == 0.1
    with pytest.raises(SimError, match=r"s\.yaml.*sensors\.imu\.no_such_figure"):
        parse_scene(base | {"sensors": {"imu": {"no_such_figure": 1.0}}}, "s.yaml")
    with pytest.raises(SimError, match=r"sensors\.encoders\.velocity_noise"):
        parse_scene(base | {"sensors": {"encoders": {"velocity_noise": -1.0}}}, "s.yaml")
    with pytest.raises(SimError, match=r"'sensors' has unknown key"):
        parse_scene(base | {"sensors": {"lidar": {}}}, "s.yaml")


def test_simulation_reads_out_with_the_robots_figures(tiny_robot, empty_scene):
    """With noise on, readings differ from the truth by about the configured figures; with it off they are exact."""
    import dataclasses

    from legion_sim.simulation import Simulation

    config, urdf = tiny_robot
    figures = SensorConfig(imu=ImuSpec(gyro_noise_density=1e-3, attitude_filter=True),
                           encoders=EncoderSpec(counts_per_revolution=4096),
                           force_torque=ForceTorqueSpec(force_noise=1.0))
    noisy_config = dataclasses.replace(config, sensors=figures)
    noisy = Simulation(noisy_config, empty_scene, urdf, seed=7)
    exact = Simulation(noisy_config, empty_scene, urdf, sensor_noise=False)
    try:
        assert exact.sensor_config == SensorConfig.ideal() and noisy.sensor_config == figures
        for sim in (noisy, exact):
            sim.step(20)
        step = 2 * math.pi / 4096
        measured, true = noisy.joint_state().position, exact.joint_state().position
        assert np.abs(measured - true).max() <= step / 2 + 1e-9
        assert np.allclose(np.round(measured / step) * step, measured)
        gyro_error = noisy.imu().angular_velocity - exact.imu().angular_velocity
        assert 0.0 < np.abs(gyro_error).max() < 0.1
        force_error = noisy.foot_wrenches()["left"].force - exact.foot_wrenches()["left"].force
        assert 0.0 < np.abs(force_error).max() < 6.0
        truth = exact.ground_truth_base()
        assert np.array_equal(noisy.ground_truth_base().position, truth.position)  # ground truth stays exact
    finally:
        noisy.close()
        exact.close()


def test_centurion_file_figures():
    from legion_description import load_robot_config

    sensors = load_robot_config("centurion").sensors
    assert sensors.encoders.counts_per_revolution == 2**19
    assert sensors.imu.gyro_noise_density == pytest.approx(0.008 * math.pi / 180, rel=0.02)
    assert sensors.imu.attitude_filter and sensors.imu.attitude_time_constant > 0.0
    assert sensors.depth_camera.latency > 0.0 and sensors.depth_camera.subpixel_noise > 0.0
    assert sensors.force_torque.force_noise > 0.0
