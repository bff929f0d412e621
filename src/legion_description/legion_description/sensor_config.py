"""Typed view of a robot's `sensors:` block: the error figures of its IMU, joint encoders, foot force/torque sensors
and head depth camera (docs/sensors.md says which sensors the figures come from).

The block is written like ROS parameters (nested YAML, dotted names such as `imu.gyro_noise_density`) and read with
`legion_common.parameters`, so every figure has a unit and a range and a wrong one is named. A scene may override any
of them (`scene.sensors`, same keys); `with_overrides` applies such a block on top of the robot's figures. Every
figure at 0 is an ideal sensor (`SensorConfig.ideal()`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from legion_common.parameters import ParameterError, flatten_yaml, from_flat, param, require, to_flat
from legion_description.robot_files import DescriptionError


@dataclass(frozen=True)
class ImuSpec:
    """The pelvis IMU: MEMS gyroscope and accelerometer, and the orientation its onboard filter outputs."""

    bandwidth: float = param(100.0, "Bandwidth of the IMU's output filter: white noise std = density * "
                             "sqrt(bandwidth).", unit="Hz", low=1.0, high=10000.0)
    gyro_noise_density: float = param(0.0, "Gyroscope rate noise density (white noise).", unit="rad/s/sqrt(Hz)",
                                      low=0.0, high=0.1)
    gyro_bias: float = param(0.0, "Standard deviation of the gyroscope's residual bias at start, per axis.",
                             unit="rad/s", low=0.0, high=0.1)
    gyro_bias_random_walk: float = param(0.0, "Gyroscope bias random walk (rate random walk): the bias drifts by "
                                         "this times sqrt(t).", unit="rad/s^2/sqrt(Hz)", low=0.0, high=0.01)
    accel_noise_density: float = param(0.0, "Accelerometer noise density (white noise).", unit="m/s^2/sqrt(Hz)",
                                       low=0.0, high=1.0)
    accel_bias: float = param(0.0, "Standard deviation of the accelerometer's residual bias at start, per axis.",
                              unit="m/s^2", low=0.0, high=1.0)
    accel_bias_random_walk: float = param(0.0, "Accelerometer bias random walk.", unit="m/s^3/sqrt(Hz)",
                                          low=0.0, high=0.1)
    attitude_filter: bool = param(False, "The orientation output is an onboard attitude filter's estimate (a "
                                  "complementary filter over these gyroscope and accelerometer readings) instead "
                                  "of the exact orientation.")
    attitude_time_constant: float = param(5.0, "Time constant with which the filter pulls roll and pitch towards "
                                          "the accelerometer's gravity direction; yaw has no reference (no "
                                          "magnetometer indoors) and drifts with the gyroscope bias.", unit="s",
                                          low=0.01, high=1000.0)
    attitude_gate: float = param(0.1, "The filter ignores the accelerometer while its magnitude differs from g "
                                 "by more than this fraction (impacts, fast motion).", low=0.0, high=1.0)


@dataclass(frozen=True)
class EncoderSpec:
    """The joints' absolute position encoders and the drive's velocity estimate."""

    counts_per_revolution: int = param(0, "Encoder resolution; positions are quantised to 2 pi / counts (0: not "
                                       "quantised).", low=0, high=2**30)
    velocity_window: float = param(0.001, "The drive differentiates quantised positions over this window.",
                                   unit="s", low=1e-5, high=0.1)
    velocity_noise: float = param(0.0, "Standard deviation of white noise added to the velocity.", unit="rad/s",
                                  low=0.0, high=1.0)


@dataclass(frozen=True)
class ForceTorqueSpec:
    """The ankle six-axis force/torque sensors."""

    force_noise: float = param(0.0, "Standard deviation of the force noise, per axis.", unit="N", low=0.0, high=100.0)
    torque_noise: float = param(0.0, "Standard deviation of the torque noise, per axis.", unit="N m", low=0.0,
                                high=10.0)
    force_offset: float = param(0.0, "Standard deviation of the force offset left after taring, per axis (drawn "
                                "once per run).", unit="N", low=0.0, high=100.0)
    torque_offset: float = param(0.0, "Standard deviation of the torque offset left after taring, per axis.",
                                 unit="N m", low=0.0, high=10.0)


@dataclass(frozen=True)
class DepthCameraSpec:
    """The head stereo depth camera (the colour image is unchanged)."""

    baseline: float = param(0.05, "Stereo baseline.", unit="m", low=0.001, high=1.0)
    subpixel_noise: float = param(0.0, "RMS disparity error: depth noise sigma_z = subpixel_noise * z^2 / (fx * "
                                  "baseline).", unit="px", low=0.0, high=5.0)
    min_range: float = param(0.0, "Depth below this is missing (NaN): the stereo matcher's minimum depth.",
                             unit="m", low=0.0, high=10.0)
    max_range: float = param(100.0, "Depth beyond this is missing (NaN).", unit="m", low=0.1, high=100.0)
    stereo_occlusion: bool = param(False, "No depth (NaN) where the second imager cannot see what the reference "
                                   "imager sees: the band beside the left edge of a nearer object, as wide as the "
                                   "disparity difference fx * baseline * (1/z_near - 1/z_far).")
    edge_threshold: float = param(0.0, "A pixel whose depth differs from a neighbour's by more than this fraction "
                                  "of its depth is missing (NaN) at the edge (0: no edge dropout).", low=0.0,
                                  high=10.0)
    edge_width: int = param(1, "Width of the missing band on each side of a depth edge.", unit="px", low=1,
                            high=20)
    depth_unit: float = param(0.0, "Depth is rounded to this step (0: not rounded).", unit="m", low=0.0, high=0.1)
    latency: float = param(0.0, "Images are published this long after the instant they show, stamped with that "
                           "instant.", unit="s", low=0.0, high=1.0)

    def validated(self) -> DepthCameraSpec:
        require(self.max_range > self.min_range, "sensors.depth_camera.max_range must exceed min_range")
        return self


@dataclass(frozen=True)
class SensorConfig:
    """The error figures of every simulated sensor; all zero (the defaults) is an ideal sensor."""

    imu: ImuSpec = field(default_factory=ImuSpec)
    encoders: EncoderSpec = field(default_factory=EncoderSpec)
    force_torque: ForceTorqueSpec = field(default_factory=ForceTorqueSpec)
    depth_camera: DepthCameraSpec = field(default_factory=DepthCameraSpec)

    @classmethod
    def ideal(cls) -> SensorConfig:
        """Perfect sensors: no noise, bias, quantisation, dropout or latency."""
        return cls()

    def with_overrides(self, block: Mapping | None, source: Path | str, key: str = "sensors") -> SensorConfig:
        """These figures with a (nested) YAML block's values on top, e.g. a scene's `sensors:`.

        Raises:
            DescriptionError: an unknown key or a wrong value, naming `source` and the key (`sensors.imu.x`).
        """
        if not block:
            return self
        if not isinstance(block, Mapping):
            raise DescriptionError(f"{source}: '{key}' must be a mapping of sensor figures")
        prefix = f"{key}."
        values = to_flat(self, prefix)
        try:
            values.update(flatten_yaml(block, prefix))
            return from_flat(SensorConfig, values, prefix)
        except ParameterError as error:
            raise DescriptionError(f"{source}: {error}") from error


def sensor_config_from_yaml(block: Mapping | None, source: Path | str) -> SensorConfig:
    """A robot file's `sensors:` block -> SensorConfig (figures it leaves out are ideal).

    Raises:
        DescriptionError: an unknown key or a wrong value, naming the file and the key.
    """
    return SensorConfig.ideal().with_overrides(block, source)


__all__ = ["DepthCameraSpec", "EncoderSpec", "ForceTorqueSpec", "ImuSpec", "SensorConfig",
           "sensor_config_from_yaml"]
