"""Leg odometry: the floating base's pose and twist in `odom` from the IMU, joint encoders and foot force sensors.

Orientation comes from the IMU (its orientation estimate, rotated from `imu_link` to the base, with the yaw re-zeroed
so the robot starts at the given heading). Position comes from the feet in contact: when a sole touches down
(its ground reaction force rises above `contact_on` [N]) its world position is anchored,

    p_sole_world = p_base_world + R_world_base p_sole_base,

and while it stays down the base is placed from the anchors of all feet in contact:

    p_base_world = mean_over_contacts(p_sole_world - R_world_base p_sole_base).

The base velocity follows from the stance feet not moving (v_sole_world = 0):

    v_base_world = -mean_over_contacts(R_world_base (v_sole_base + omega_base x p_sole_base)),

with p_sole_base, v_sole_base from the joint positions and velocities (forward kinematics with the base fixed) and
omega_base from the gyro. The estimate drifts where a foot slips and, in height, with each step's kinematic error;
it never uses the simulator's ground truth.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pinocchio as pin

from legion_model import RobotModel
from legion_model.robot_model import SIDES


class EstimationError(Exception):
    """Input the estimator cannot use (non-finite values, unknown joints, a bad quaternion)."""


@dataclass(frozen=True)
class LegOdometryParameters:
    """Tunables of the leg odometry."""

    contact_on: float = 120.0
    """Ground reaction force along the sole's z above which a foot is in contact [N]."""
    contact_off: float = 60.0
    """Force below which a foot in contact leaves it [N] (hysteresis)."""
    initial_x: float = 0.0
    """Base x in `odom` at start [m]."""
    initial_y: float = 0.0
    """Base y in `odom` at start [m]."""
    initial_yaw: float = 0.0
    """Base heading in `odom` at start [rad]."""


@dataclass(frozen=True)
class BaseEstimate:
    """The base state in `odom`."""

    position: np.ndarray
    """(3,) base_link origin in odom [m]."""
    orientation: np.ndarray
    """(4,) quaternion (x, y, z, w) of base_link in odom."""
    linear_velocity: np.ndarray
    """(3,) [m/s] of the base_link origin, in base_link axes (as nav_msgs/Odometry's twist)."""
    angular_velocity: np.ndarray
    """(3,) [rad/s] in base_link axes."""
    contacts: tuple[str, ...]
    """Sides whose sole is in contact."""


def _quaternion_matrix(xyzw: np.ndarray) -> np.ndarray:
    x, y, z, w = xyzw
    norm = math.sqrt(x * x + y * y + z * z + w * w)
    if not math.isfinite(norm) or norm < 0.5:
        raise EstimationError(f"IMU orientation is not a unit quaternion: {list(xyzw)}")
    return pin.Quaternion(w / norm, x / norm, y / norm, z / norm).toRotationMatrix()


def _yaw(rotation: np.ndarray) -> float:
    return math.atan2(rotation[1, 0], rotation[0, 0])


def _rot_z(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


class LegOdometry:
    """Base state estimator from proprioception (see the module docstring).

    Args:
        model: the robot model (hands may be locked); its config names the base, IMU and sole frames.
        parameters: contact thresholds and the starting pose.
    """

    def __init__(self, model: RobotModel, parameters: LegOdometryParameters | None = None) -> None:
        self.model = model
        self.parameters = parameters or LegOdometryParameters()
        if not 0.0 <= self.parameters.contact_off < self.parameters.contact_on:
            raise EstimationError("contact thresholds need 0 <= contact_off < contact_on")
        config = model.config
        self._soles = {side: config.sides[side].sole for side in SIDES}
        self._v = np.zeros(model.nv)
        self._reference = model.neutral_configuration()
        """Joints a measurement does not name stay at their neutral position."""
        # Fixed rotation of imu_link in base_link, from the model at any configuration.
        model.update(model.neutral_configuration())
        self._rotation_imu_in_base = model.transform_frame_to_frame(config.frames["imu"],
                                                                   config.frames["base"]).rotation.copy()
        self._yaw_correction: np.ndarray | None = None
        self._anchors: dict[str, np.ndarray] = {}
        self._position = np.zeros(3)
        self.initialised = False

    def reset(self) -> None:
        """Forget the state: the next update starts again from the initial pose."""
        self._yaw_correction = None
        self._anchors.clear()
        self.initialised = False

    def update(self, joint_positions: Mapping[str, float], joint_velocities: Mapping[str, float],
               imu_orientation: np.ndarray, imu_angular_velocity: np.ndarray,
               sole_forces_z: Mapping[str, float]) -> BaseEstimate:
        """One estimate from one set of synchronised measurements.

        Args:
            joint_positions, joint_velocities: measured joints [rad], [rad/s] (unknown names raise; locked ignored).
            imu_orientation: (4,) imu_link orientation (x, y, z, w) from the IMU's filter.
            imu_angular_velocity: (3,) gyro [rad/s] in imu_link.
            sole_forces_z: side -> ground reaction force along the sole z axis [N].

        Raises:
            EstimationError: a non-finite or malformed measurement; the state is left unchanged.
        """
        gyro = np.asarray(imu_angular_velocity, dtype=float)
        if gyro.shape != (3,) or not np.all(np.isfinite(gyro)):
            raise EstimationError(f"IMU angular velocity is not 3 finite values: {gyro}")
        for values in (joint_positions, joint_velocities, sole_forces_z):
            if not all(math.isfinite(v) for v in values.values()):
                raise EstimationError("a joint or force measurement is not finite")
        rotation_imu = _quaternion_matrix(np.asarray(imu_orientation, dtype=float))
        try:
            q = self.model.q_from_joint_positions(np.array([0, 0, 0, 0, 0, 0, 1.0]), joint_positions,
                                                  reference=self._reference)
            self._v[:6] = 0.0
            self._v[6:] = self.model.joint_array(joint_velocities, default=0.0)
        except Exception as error:  # legion_model.ModelError: unknown joint
            raise EstimationError(str(error)) from error
        model = self.model
        model.update(q, self._v)

        rotation = rotation_imu @ self._rotation_imu_in_base.T  # base_link in the IMU's world
        if self._yaw_correction is None:
            self._yaw_correction = _rot_z(self.parameters.initial_yaw - _yaw(rotation))
        rotation = self._yaw_correction @ rotation  # base_link in odom
        omega_base = self._rotation_imu_in_base @ gyro

        soles_in_base = {side: model.frame_position(frame) for side, frame in self._soles.items()}
        sole_velocities = {side: model.frame_velocity(frame)[:3] for side, frame in self._soles.items()}
        contacts = [side for side in SIDES
                    if sole_forces_z.get(side, 0.0) > (self.parameters.contact_off if side in self._anchors
                                                       else self.parameters.contact_on)]
        if not self.initialised:
            self._initialise(rotation, soles_in_base, contacts)
        for side in list(self._anchors):
            if side not in contacts:
                del self._anchors[side]
        for side in contacts:
            if side not in self._anchors:
                self._anchors[side] = self._position + rotation @ soles_in_base[side]
        velocity_world = np.zeros(3)
        if contacts:
            self._position = np.mean([self._anchors[s] - rotation @ soles_in_base[s] for s in contacts], axis=0)
            velocity_world = -np.mean([rotation @ (sole_velocities[s] + np.cross(omega_base, soles_in_base[s]))
                                       for s in contacts], axis=0)
        quaternion = pin.Quaternion(rotation)
        return BaseEstimate(position=self._position.copy(),
                            orientation=np.array([quaternion.x, quaternion.y, quaternion.z, quaternion.w]),
                            linear_velocity=rotation.T @ velocity_world, angular_velocity=omega_base,
                            contacts=tuple(contacts))

    def _initialise(self, rotation: np.ndarray, soles_in_base: dict[str, np.ndarray], contacts: list[str]) -> None:
        """Start at the initial x, y and heading, with the soles in contact (or both) on the ground plane z = 0."""
        feet = contacts or list(SIDES)
        height = -float(np.mean([(rotation @ soles_in_base[s])[2] for s in feet]))
        self._position = np.array([self.parameters.initial_x, self.parameters.initial_y, height])
        self.initialised = True
