"""Error models of the simulated sensors: what makes a reading of the true state look like a real sensor's.

`SensorModels` takes the true values the simulator computes and returns what the robot's sensors would report, with
the figures of a `legion_description.sensor_config.SensorConfig` (the robot file's `sensors:` block; docs/sensors.md):

- **IMU**: gyroscope `w_m = w + b_g + n_g` with white noise `n_g ~ N(0, (N_g sqrt(B))^2)` (N_g the noise density,
  B the bandwidth) and a bias `b_g` drawn at start (std `gyro_bias`) that random-walks, `b_g += K_g sqrt(dt) N(0, 1)`
  at every reading; the accelerometer likewise. With `attitude_filter`, the orientation is what an onboard attitude
  filter computes from those readings: a complementary (Mahony-type) filter that integrates the measured rate and
  pulls roll and pitch towards the measured gravity direction with the time constant `attitude_time_constant`
  (skipping readings whose magnitude is more than `attitude_gate` off g). Its errors therefore follow from the
  sensors' figures: a tilt offset from the accelerometer bias, lag during accelerations, and a yaw that drifts with
  the gyroscope bias (no magnetometer indoors). It starts aligned with the true orientation (the robot's start-up
  calibration).
- **Joint encoders**: position quantised to `2 pi / counts_per_revolution` (rounded); velocity as the drive computes it,
  the difference of two quantised positions `velocity_window` apart (`(Q(q) - Q(q - qd T)) / T`), plus optional noise.
- **Foot force/torque**: white noise per axis plus an offset drawn once per run (what is left after taring).
- **Depth camera**: stereo noise growing with the square of the range, `sigma_z = s z^2 / (f b)` (s the RMS subpixel
  disparity error, f the focal length [px], b the baseline); missing depth (NaN) where the second imager is occluded
  (`stereo_occlusion`: the band beside the left edge of nearer objects, as wide as the disparity difference), and
  optionally at every depth discontinuity (a pixel whose neighbour is more than `edge_threshold` z nearer or farther,
  widened to `edge_width` pixels), and outside [min_range, max_range]; depth rounded to `depth_unit`. Colour is not
  changed.
- **Camera latency**: `DelayLine` holds what was captured at t until t + latency.

Every figure at 0 leaves that reading exactly as given. Randomness comes from one `numpy` generator seeded with `seed`,
so a run is repeatable; `reset()` starts the same sequence again. Plain numpy: no ROS, no clock (time is passed in).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from legion_common.transforms import matrix_to_quaternion, quaternion_to_matrix
from legion_description.sensor_config import DepthCameraSpec, SensorConfig


class SensorModels:
    """Stateful error models of one robot's sensors (see the module docstring).

    Args:
        config: the sensors' error figures; `SensorConfig.ideal()` for exact readings.
        seed: seed of the random generator.
        sides: the feet that carry a force/torque sensor (offsets are drawn per side).
    """

    def __init__(self, config: SensorConfig, seed: int = 0, sides: Sequence[str] = ("left", "right")):
        self.config = config
        self.seed = int(seed)
        self.sides = tuple(sides)
        self.reset()

    def reset(self) -> None:
        """Start again: same seed, new turn-on biases and offsets drawn from it, no time elapsed."""
        self.rng = np.random.default_rng(self.seed)
        imu, ft, rng = self.config.imu, self.config.force_torque, self.rng
        self.gyro_bias = imu.gyro_bias * rng.standard_normal(3)
        """(3,) [rad/s] current gyroscope bias, in the IMU frame."""
        self.accel_bias = imu.accel_bias * rng.standard_normal(3)
        """(3,) [m/s^2] current accelerometer bias."""
        self.attitude: np.ndarray | None = None
        """(3, 3) the attitude filter's estimate of the IMU's orientation (imu -> world); None before a reading."""
        self.force_offset = {side: ft.force_offset * rng.standard_normal(3) for side in self.sides}
        self.torque_offset = {side: ft.torque_offset * rng.standard_normal(3) for side in self.sides}
        self._imu_time: float | None = None

    # ------------------------------------------------------------------------------------------------ IMU
    def imu(self, time: float, orientation_xyzw: np.ndarray, angular_velocity: np.ndarray,
            linear_acceleration: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The IMU's (orientation (x, y, z, w), angular velocity [rad/s], specific force [m/s^2]) for the true values
        at `time` [s]; biases and the filter's error advance by the time since the last reading."""
        spec, rng = self.config.imu, self.rng
        dt = 0.0 if self._imu_time is None else max(0.0, time - self._imu_time)
        self._imu_time = time
        if dt > 0.0:
            self.gyro_bias = self.gyro_bias + spec.gyro_bias_random_walk * math.sqrt(dt) * rng.standard_normal(3)
            self.accel_bias = self.accel_bias + spec.accel_bias_random_walk * math.sqrt(dt) * rng.standard_normal(3)
        root_bandwidth = math.sqrt(spec.bandwidth)
        gyro = (np.asarray(angular_velocity, dtype=float) + self.gyro_bias
                + spec.gyro_noise_density * root_bandwidth * rng.standard_normal(3))
        accel = (np.asarray(linear_acceleration, dtype=float) + self.accel_bias
                 + spec.accel_noise_density * root_bandwidth * rng.standard_normal(3))
        if not spec.attitude_filter:
            return np.asarray(orientation_xyzw, dtype=float).copy(), gyro, accel
        if self.attitude is None:
            self.attitude = quaternion_to_matrix(orientation_xyzw)
        elif dt > 0.0:
            self.attitude = attitude_filter_step(self.attitude, gyro, accel, dt, spec.attitude_time_constant,
                                                 spec.attitude_gate)
        return matrix_to_quaternion(self.attitude), gyro, accel


    # ------------------------------------------------------------------------------------------------ encoders
    def joints(self, position: np.ndarray, velocity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Encoder position [rad] and drive velocity [rad/s] for the true joint positions and velocities."""
        spec = self.config.encoders
        position = np.asarray(position, dtype=float)
        velocity = np.asarray(velocity, dtype=float)
        if spec.counts_per_revolution > 0:
            step = 2.0 * math.pi / spec.counts_per_revolution
            window = spec.velocity_window
            measured = np.round(position / step) * step
            earlier = np.round((position - velocity * window) / step) * step
            velocity = (measured - earlier) / window
            position = measured
        if spec.velocity_noise > 0.0:
            velocity = velocity + spec.velocity_noise * self.rng.standard_normal(velocity.shape)
        return position, velocity

    # ------------------------------------------------------------------------------------------------ force/torque
    def wrench(self, side: str, force: np.ndarray, torque: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The foot sensor's force [N] and torque [N m] for the true ones (any frame: the noise is isotropic)."""
        spec, rng = self.config.force_torque, self.rng
        force = np.asarray(force, dtype=float) + self.force_offset[side]
        torque = np.asarray(torque, dtype=float) + self.torque_offset[side]
        if spec.force_noise > 0.0:
            force = force + spec.force_noise * rng.standard_normal(3)
        if spec.torque_noise > 0.0:
            torque = torque + spec.torque_noise * rng.standard_normal(3)
        return force, torque

    # ------------------------------------------------------------------------------------------------ depth
    def depth(self, depth: np.ndarray, focal_length: float) -> np.ndarray:
        """The depth camera's image for a true z-depth image [m] (NaN = no return), focal length [px]."""
        return depth_image(depth, focal_length, self.config.depth_camera, self.rng)


def depth_image(depth: np.ndarray, focal_length: float, spec: DepthCameraSpec, rng: np.random.Generator
                ) -> np.ndarray:
    """A stereo depth camera's (H, W) float32 image [m] for a true z-depth image (see the module docstring)."""
    true = np.asarray(depth, dtype=np.float32)
    result = true.copy()
    if spec.subpixel_noise > 0.0:
        sigma = (spec.subpixel_noise / (focal_length * spec.baseline)) * np.square(true)
        result += (sigma * rng.standard_normal(true.shape)).astype(np.float32)
    if spec.stereo_occlusion:
        result[stereo_occlusion(true, focal_length, spec.baseline)] = np.nan
    if spec.edge_threshold > 0.0:
        result[depth_edges(true, spec.edge_threshold, spec.edge_width)] = np.nan
    with np.errstate(invalid="ignore"):
        result[(true < spec.min_range) | (true > spec.max_range)] = np.nan
    if spec.depth_unit > 0.0:
        result = (np.round(result / spec.depth_unit) * spec.depth_unit).astype(np.float32)
    return result


def stereo_occlusion(depth: np.ndarray, focal_length: float, baseline: float) -> np.ndarray:
    """(H, W) bool: pixels of the reference (left) imager that the second imager, `baseline` to its right, cannot
    see. A pixel at column u with disparity d(u) = f b / z(u) lands at u - d(u) in the other image; it is hidden when
    a pixel to its right lands at or left of it: d(u') - u' >= d(u) - u for some u' > u (rectified stereo). NaN
    (no return) hides nothing."""
    with np.errstate(divide="ignore", invalid="ignore"):
        disparity = np.where(np.isfinite(depth) & (depth > 0.0), focal_length * baseline / depth, -np.inf)
    shifted = disparity - np.arange(depth.shape[1], dtype=np.float64)[None, :]
    # Largest `d(u') - u'` strictly to the right of each pixel: a running maximum from the right, shifted by one.
    from_right = np.maximum.accumulate(shifted[:, ::-1], axis=1)[:, ::-1]
    right_of = np.full_like(shifted, -np.inf)
    right_of[:, :-1] = from_right[:, 1:]
    return np.isfinite(disparity) & (right_of >= shifted)


def depth_edges(depth: np.ndarray, threshold: float, width: int = 1) -> np.ndarray:
    """(H, W) bool: pixels within `width` pixels of a depth discontinuity, where two neighbouring pixels (row or
    column) differ by more than `threshold` times the nearer one's depth. NaN pixels make no edge."""
    edges = np.zeros(depth.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        for axis in (0, 1):
            first = depth[:-1, :] if axis == 0 else depth[:, :-1]
            second = depth[1:, :] if axis == 0 else depth[:, 1:]
            jump = np.abs(first - second) > threshold * np.fmin(first, second)
            if axis == 0:
                edges[:-1, :] |= jump
                edges[1:, :] |= jump
            else:
                edges[:, :-1] |= jump
                edges[:, 1:] |= jump
    grown = edges.copy()
    for shift in range(1, width):
        grown[shift:, :] |= edges[:-shift, :]
        grown[:-shift, :] |= edges[shift:, :]
        grown[:, shift:] |= edges[:, :-shift]
        grown[:, :-shift] |= edges[:, shift:]
    return grown


class DelayLine:
    """Holds items captured at a time until `latency` [s] later (a camera's exposure-to-host delay).

    `push(capture_time, item)`; `pop_due(now)` returns, oldest first, the (capture_time, item) pairs whose
    capture_time + latency <= now. The capture time stays with the item: it is the instant the item shows.
    """

    def __init__(self, latency: float):
        if not math.isfinite(latency) or latency < 0.0:
            raise ValueError(f"latency must be a non-negative number of seconds, got {latency!r}")
        self.latency = float(latency)
        self._items: deque[tuple[float, Any]] = deque()

    def push(self, capture_time: float, item: Any) -> None:
        self._items.append((float(capture_time), item))

    def pop_due(self, now: float) -> list[tuple[float, Any]]:
        due = []
        while self._items and self._items[0][0] + self.latency <= now + 1e-9:
            due.append(self._items.popleft())
        return due

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


STANDARD_GRAVITY = 9.80665
"""[m/s^2]"""


def attitude_filter_step(attitude: np.ndarray, gyro: np.ndarray, accel: np.ndarray, dt: float, time_constant: float,
                         gate: float) -> np.ndarray:
    """One step of a complementary (Mahony-type) attitude filter: the orientation estimate (imu -> world) rotated by
    the measured rate plus a correction `(v_measured x v_estimated) / time_constant` that turns the estimated gravity
    direction in the IMU frame towards the accelerometer's, when the accelerometer's magnitude is within `gate` of g.
    Yaw gets no correction.  # (3, 3)

    Runs at every IMU reading (500 Hz), so the 3-vector algebra is done on Python floats (numpy's per-call overhead
    dominates at this size) and the result is kept a rotation by one Newton step of the polar decomposition,
    `R (3 I - R^T R) / 2`, instead of an SVD: for a matrix a rounding error away from a rotation both give the nearest
    rotation to within rounding."""
    wx, wy, wz = float(gyro[0]), float(gyro[1]), float(gyro[2])
    ax, ay, az = float(accel[0]), float(accel[1]), float(accel[2])
    norm = math.sqrt(ax * ax + ay * ay + az * az)
    if norm > 0.0 and abs(norm - STANDARD_GRAVITY) <= gate * STANDARD_GRAVITY:
        mx, my, mz = ax / norm, ay / norm, az / norm
        ex, ey, ez = float(attitude[2, 0]), float(attitude[2, 1]), float(attitude[2, 2])  # the world's up axis in
        wx += (my * ez - mz * ey) / time_constant                                          # the IMU frame
        wy += (mz * ex - mx * ez) / time_constant
        wz += (mx * ey - my * ex) / time_constant
    rate = math.sqrt(wx * wx + wy * wy + wz * wz)
    angle = rate * dt
    if angle < 1e-12:
        return attitude
    kx, ky, kz = wx / rate, wy / rate, wz / rate
    s, c = math.sin(angle), 1.0 - math.cos(angle)
    # Rodrigues: I + sin(angle) K + (1 - cos(angle)) K^2, K the cross-product matrix of the unit axis k.
    step = np.array([[1.0 - c * (ky * ky + kz * kz), c * kx * ky - s * kz, c * kx * kz + s * ky],
                     [c * kx * ky + s * kz, 1.0 - c * (kx * kx + kz * kz), c * ky * kz - s * kx],
                     [c * kx * kz - s * ky, c * ky * kz + s * kx, 1.0 - c * (kx * kx + ky * ky)]])
    result = attitude @ step
    return result @ (1.5 * _EYE3 - 0.5 * (result.T @ result))  # keep it a rotation


_EYE3 = np.eye(3)
