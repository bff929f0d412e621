"""Leg odometry: the floating base's pose and twist in `odom` from the IMU, joint encoders and foot force sensors.

Orientation comes from the IMU (its orientation estimate, rotated from the IMU's link to the base, with the yaw
re-zeroed so the robot starts at the given heading):

    R = R_imu R_ib^T,

with R_ib the IMU's rotation in the base. The IMU may sit on any link (`frames.imu`): for one rigidly on the base R_ib
is a constant; with joints between the two (an IMU in the torso, behind the waist) it is the kinematics of those
joints at the measured positions, every tick. Position and linear velocity come from the feet in contact, with the
kinematic core of `stance_kinematics` (the same one the whole-body controller propagates the base with): when a sole
touches down (its ground reaction force rises above `contact_on` [N]) it is anchored in odom,

    sole_to_odom = base_to_odom * sole_to_base(q),

and while it stays down the base is placed from the anchors of all feet in contact, with the IMU's rotation R:

    p_base = mean_over_contacts(p_sole_odom - R p_sole_base).

A sole that has just touched down is not yet still: for some 30 ms after its force crosses `contact_on` it bounces,
rolls onto its flat and slides sideways (a lateral step lands on its edge), so the stance-foot assumption gives base
velocity errors of up to 0.25 m/s, and an anchor taken then is off by the sole's remaining travel. While another sole
stands settled, a new contact is therefore only *settling* for `contact_settle_time` [s] of measurement time: its anchor
follows the estimate of the settled soles every tick and it takes no part in the position or velocity; after that it
is anchored where it then is and counts like any other (with no settled sole, e.g. at start, every contact counts at
once).

Height: on a flat floor (`flat_floor`, the default: the floor the robot starts on is the plane z = 0 of odom, as the
gait planner assumes when it puts every footstep at the start's floor height) each anchor is put on that plane. Without
it the height drifts with each step's kinematic error (the sole's edge landing first, its sinking into the floor under
the load): +4.4 cm in 140 s of a sorting shift (about 0.8 cm per walk between stations), which lifted everything the
stack puts in odom from the estimate: perception's parts and floor points (floor points above
`obstacles.floor_height` become obstacles) and the soles against the planner's footsteps.

The base velocity follows from the stance feet not moving, with omega_base from the gyro less the rates of the joints
between the IMU and the base (J_imu: the angular rows of the IMU frame's LOCAL Jacobian over the joints; zero for an
IMU on the base):

    omega_base = R_ib (gyro - J_imu qdot),
    v_base = -mean_over_contacts(v_sole_base + omega_base x p_sole_base)      (base axes),

with p_sole_base, v_sole_base from the joint positions and velocities (kinematics with the base fixed). The estimate
drifts where a foot slips (and, without `flat_floor`, in height with each step's kinematic error); it never uses the
simulator's ground truth.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pinocchio as pin

from legion_common.parameters import ParameterError, param, require
from legion_common.transforms import matrix_to_quaternion, quaternion_to_matrix, rotation_z, yaw_from_matrix
from legion_estimation.stance_kinematics import StanceKinematics, anchor_soles, base_pose
from legion_model import BASE_NQ, RobotModel
from legion_model.robot_model import SIDES


class EstimationError(Exception):
    """Input the estimator cannot use (non-finite values, unknown joints, a bad quaternion, bad parameters)."""


@dataclass(frozen=True)
class LegOdometryParameters:
    """Tunables of the leg odometry."""

    contact_on: float = param(120.0, "Ground reaction force along the sole's z above which a foot is in contact "
                                     "(> contact_off).", unit="N", low=0.0, high=1e5)
    contact_off: float = param(60.0, "Force below which a foot in contact leaves it (hysteresis).", unit="N",
                               low=0.0, high=1e5)
    contact_settle_time: float = param(0.03, "After a touch-down, time during which the new contact follows the "
                                       "estimate of the soles already standing instead of giving it (its sole is "
                                       "still bouncing and sliding); 0: at once.", unit="s", low=0.0, high=1.0)
    flat_floor: bool = param(True, "The floor is flat, the plane z = 0 of odom the robot starts on (as the gait "
                                   "planner assumes): every sole in contact is anchored on it, so the height does "
                                   "not drift with each step's kinematic error. False: anchored where the kinematics "
                                   "put it (steps, ramps).")
    initial_x: float = param(0.0, "Base x in odom at start.", unit="m", low=-1e6, high=1e6)
    initial_y: float = param(0.0, "Base y in odom at start.", unit="m", low=-1e6, high=1e6)
    initial_yaw: float = param(0.0, "Base heading in odom at start.", unit="rad", low=-2.0 * math.pi,
                               high=2.0 * math.pi)

    def validated(self) -> LegOdometryParameters:
        require(0.0 <= self.contact_off < self.contact_on, "need 0 <= contact_off < contact_on")
        return self


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


class LegOdometry:
    """Base state estimator from proprioception (see the module docstring).

    Args:
        model: the robot model (hands may be locked); its config names the base, IMU and sole frames.
        parameters: contact thresholds and the starting pose.

    Raises:
        EstimationError: contact thresholds that do not satisfy 0 <= contact_off < contact_on.
    """

    def __init__(self, model: RobotModel, parameters: LegOdometryParameters | None = None) -> None:
        self.model = model
        self.parameters = parameters or LegOdometryParameters()
        try:
            LegOdometryParameters.validated(self.parameters)
        except ParameterError as error:
            raise EstimationError(str(error)) from error
        config = model.config
        self.kinematics = StanceKinematics(model.model, {side: config.sides[side].sole for side in SIDES})
        self._reference_joints = model.neutral_configuration()[BASE_NQ:]
        """Joints a measurement does not name stay at their neutral position."""
        self._imu_frame_id = model.frame_id(config.frames["imu"])
        self.imu_joints = _joints_between_base_and(model, self._imu_frame_id)
        """The joints between the base and the IMU's link (none for an IMU rigidly on the base)."""
        self.kinematics.soles_in_base(self._reference_joints, (), jacobians=True)
        self._rotation_imu_in_base = self.kinematics.frame_rotation(self._imu_frame_id, np.zeros(model.na))[0]
        """The IMU's rotation in the base, for an IMU rigidly on the base (else computed at every tick)."""
        self._yaw_correction: np.ndarray | None = None
        self._anchors: dict[str, pin.SE3] = {}
        self._contact_since: dict[str, float] = {}
        """side -> stamp [s] at which that sole's current contact began."""
        self._position = np.zeros(3)
        self.initialised = False

    def reset(self) -> None:
        """Forget the state: the next update starts again from the initial pose."""
        self._yaw_correction = None
        self._anchors.clear()
        self._contact_since.clear()
        self.initialised = False

    def update(self, joint_positions: Mapping[str, float], joint_velocities: Mapping[str, float],
               imu_orientation: np.ndarray, imu_angular_velocity: np.ndarray,
               sole_forces_z: Mapping[str, float], stamp: float | None = None) -> BaseEstimate:
        """One estimate from one set of synchronised measurements.

        Args:
            joint_positions, joint_velocities: measured joints [rad], [rad/s] (unknown names raise; locked ignored).
            imu_orientation: (4,) orientation (x, y, z, w) of the IMU's link (`frames.imu`) from the IMU's filter.
            imu_angular_velocity: (3,) gyro [rad/s] in the IMU's link axes.
            sole_forces_z: side -> ground reaction force along the sole z axis [N].
            stamp: time of the measurements [s], for the settling of new contacts (`contact_settle_time`); None:
                new contacts count at once.

        Raises:
            EstimationError: a non-finite or malformed measurement; the state is left unchanged.
        """
        gyro = np.asarray(imu_angular_velocity, dtype=float)
        if gyro.shape != (3,) or not np.all(np.isfinite(gyro)):
            raise EstimationError(f"IMU angular velocity is not 3 finite values: {gyro}")
        positions, velocities, forces = (np.fromiter(values.values(), dtype=float, count=len(values))
                                         for values in (joint_positions, joint_velocities, sole_forces_z))
        if not (np.isfinite(positions).all() and np.isfinite(velocities).all() and np.isfinite(forces).all()):
            raise EstimationError("a joint or force measurement is not finite")
        quaternion = np.asarray(imu_orientation, dtype=float)
        norm = math.sqrt(quaternion @ quaternion) if quaternion.shape == (4,) else float("nan")
        if not math.isfinite(norm) or norm < 0.5:
            raise EstimationError(f"IMU orientation is not a unit quaternion: {list(quaternion)}")
        rotation_imu = quaternion_to_matrix(quaternion)
        try:
            joint_angles = self.model.joint_array_of(tuple(joint_positions), positions, default=self._reference_joints)
            joint_rates = self.model.joint_array_of(tuple(joint_velocities), velocities, default=0.0)
        except Exception as error:  # legion_model.ModelError: unknown joint
            raise EstimationError(str(error)) from error

        soles = self.kinematics.soles_in_base(joint_angles, SIDES, jacobians=True)
        if self.imu_joints:  # the IMU's link moves relative to the base: through the joints, at this tick's state
            rotation_imu_in_base, imu_rate = self.kinematics.frame_rotation(self._imu_frame_id, joint_rates)
            omega_base = rotation_imu_in_base @ (gyro - imu_rate)
        else:
            rotation_imu_in_base = self._rotation_imu_in_base
            omega_base = rotation_imu_in_base @ gyro
        rotation = rotation_imu @ rotation_imu_in_base.T  # base_link in the IMU's world
        if self._yaw_correction is None:
            self._yaw_correction = rotation_z(self.parameters.initial_yaw - yaw_from_matrix(rotation))
        rotation = self._yaw_correction @ rotation  # base_link in odom

        contacts = [side for side in SIDES
                    if sole_forces_z.get(side, 0.0) > (self.parameters.contact_off if side in self._anchors
                                                       else self.parameters.contact_on)]
        if not self.initialised:
            self._initialise(rotation, soles, contacts)
        for side in list(self._anchors):
            if side not in contacts:
                del self._anchors[side]
                self._contact_since.pop(side, None)
        new = {side: soles[side] for side in contacts if side not in self._anchors}
        if new:
            self._anchors.update(self._anchored(rotation, new))
            for side in new:
                self._contact_since[side] = stamp if stamp is not None else -math.inf
        # Soles that stand still: those past their settling time; with none, every contact.
        standing = contacts
        if stamp is not None:
            settled_since = stamp - self.parameters.contact_settle_time + 1e-9
            standing = [side for side in contacts if self._contact_since[side] <= settled_since] or contacts
        linear_velocity = np.zeros(3)
        if standing:
            stance = {side: soles[side] for side in standing}
            weights = dict.fromkeys(standing, 1.0)
            anchors = self._anchors if len(standing) == len(self._anchors) else {s: self._anchors[s] for s in standing}
            self._position = base_pose(anchors, stance, weights, rotation=rotation).translation.copy()
            linear_velocity = self.kinematics.base_twist(joint_rates, stance, weights, angular_velocity=omega_base)[:3]
            if len(standing) < len(contacts):
                # A settling sole's anchor follows the settled soles' estimate until it counts itself.
                settling = {side: soles[side] for side in contacts if side not in standing}
                self._anchors.update(self._anchored(rotation, settling))
        return BaseEstimate(position=self._position.copy(), orientation=matrix_to_quaternion(rotation),
                            linear_velocity=linear_velocity, angular_velocity=omega_base, contacts=tuple(contacts))

    def _anchored(self, rotation: np.ndarray, soles: dict[str, pin.SE3]) -> dict[str, pin.SE3]:
        """The soles' poses in odom from the current base estimate, on the floor plane z = 0 with `flat_floor`."""
        anchors = anchor_soles(pin.SE3(rotation, self._position), soles)
        if self.parameters.flat_floor:
            for anchor in anchors.values():
                anchor.translation = np.array([anchor.translation[0], anchor.translation[1], 0.0])
        return anchors

    def _initialise(self, rotation: np.ndarray, soles: dict[str, pin.SE3], contacts: list[str]) -> None:
        """Start at the initial x, y and heading, with the soles in contact (or both) on the ground plane z = 0."""
        feet = contacts or list(SIDES)
        height = -float(np.mean([(rotation @ soles[s].translation)[2] for s in feet]))
        self._position = np.array([self.parameters.initial_x, self.parameters.initial_y, height])
        self.initialised = True


def _joints_between_base_and(model: RobotModel, frame_id: int) -> tuple[str, ...]:
    """Names of the (unlocked) joints on the kinematic chain from the base to a frame of the model, base side first;
    empty for a frame rigidly on the base."""
    pinocchio_model = model.model
    chain = pinocchio_model.supports[pinocchio_model.frames[frame_id].parentJoint]
    return tuple(pinocchio_model.names[joint] for joint in chain[2:])  # after `universe` and the free-flyer root
