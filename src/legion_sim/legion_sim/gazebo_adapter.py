"""The Gazebo joint command adapter's core (no ROS): Legion's hardware interface on top of gz_ros2_control.

On Gazebo the robot's joints are driven by gz_ros2_control's effort command interfaces (one
`effort_controllers/JointGroupEffortController` for every joint, `legion_sim.gazebo_controllers`), and its sensors
are bridged from Gazebo by ros_gz_bridge (`config/gazebo_bridge.yaml`). `JointCommandAdapter` supplies what Gazebo
lacks to be the same hardware as the MuJoCo simulator and the real robot (docs/interfaces.md, "Hardware interface"):

- the JointCommand servo law, validation, watchdog and e-stop, i.e. `hardware_rules.HardwareRules` over the measured
  joint state, turned into one effort per joint (in `RobotConfig.all_joints` order) at the adapter's servo rate;
  before the first command it holds the standing posture with the configuration's gains plus the torques that carry
  the robot's weight there (the same initial hold as the MuJoCo simulator);
- the foot wrenches: Gazebo's ankle force/torque sensors (urdf/centurion/gazebo.xacro) report the wrench the foot
  exerts on the leg, in the ankle frame about the ankle; the interface wants the wrench the ground exerts on the foot,
  in the sole frame about the sole origin. `ground_wrench_in_sole` converts, compensating the foot's own weight
  statically as a real driver does (like the MuJoCo simulator; the foot's inertial forces are not compensated, so a
  swinging foot reads a few newtons). The foot's orientation comes from the IMU and the joint positions.

Plain numpy and Pinocchio (through legion_model); times are passed in [s] by the caller. Not thread-safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pinocchio as pin

from legion_common.transforms import quaternion_to_matrix
from legion_description.robot_config import SIDES, RobotConfig
from legion_model import BASE_NQ, RobotModel
from legion_sim.errors import SimError
from legion_sim.hardware_rules import HardwareRules

GRAVITY = 9.81
"""[m/s^2] magnitude of gravity in the Gazebo world (legion_sim.gazebo_world writes `0 0 -9.81`)."""


@dataclass(frozen=True)
class FootGeometry:
    """The fixed geometry of one foot below its ankle force/torque sensor, in the ankle (sensor) frame."""

    rotation_sole_to_ankle: np.ndarray
    """(3, 3) the sole frame's axes in the ankle frame (maps sole coordinates to ankle coordinates)."""
    sole_in_ankle: np.ndarray
    """(3,) [m] origin of the sole frame in the ankle frame."""
    mass: float
    """[kg] everything below the sensor (the foot)."""
    com_in_ankle: np.ndarray
    """(3,) [m] its centre of mass in the ankle frame."""


def foot_geometry(robot: RobotModel, ankle: str, sole: str) -> FootGeometry:
    """Foot geometry from the robot model: the sensor sits on the joint that carries the `ankle` frame, which must
    coincide with that joint's frame (Gazebo measures the joint wrench at the joint origin, in the child link's
    axes); everything in that joint's subtree is the foot.

    Raises:
        SimError: the ankle frame is offset from its joint's frame.
    """
    model = robot.model
    data = model.createData()
    q = pin.neutral(model)
    pin.forwardKinematics(model, data, q)
    pin.updateFramePlacements(model, data)
    ankle_id = robot.frame_id(ankle)
    joint = model.frames[ankle_id].parentJoint
    if not model.frames[ankle_id].placement.isIdentity(1e-9):
        raise SimError(f"frame '{ankle}' is not at the origin of joint '{model.names[joint]}', where Gazebo's "
                       "force/torque sensor measures")
    subtree = [j for j in range(1, model.njoints) if joint in model.supports[j]]
    mass = sum(model.inertias[j].mass for j in subtree)
    com_world = sum(model.inertias[j].mass * data.oMi[j].act(model.inertias[j].lever) for j in subtree) / mass
    world_to_ankle = data.oMf[ankle_id].inverse()
    sole_in_ankle = world_to_ankle * data.oMf[robot.frame_id(sole)]
    return FootGeometry(rotation_sole_to_ankle=sole_in_ankle.rotation.copy(),
                        sole_in_ankle=sole_in_ankle.translation.copy(), mass=float(mass),
                        com_in_ankle=world_to_ankle.act(com_world))


def ground_wrench_in_sole(geometry: FootGeometry, force_foot_on_leg: np.ndarray, torque_foot_on_leg: np.ndarray,
                          gravity_in_ankle: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The wrench the ground exerts on the foot, from the ankle sensor's reading.

    The sensor gives the wrench w_fl = (f, t) the foot exerts on the leg, in the ankle frame about the ankle origin,
    so the leg exerts -w_fl on the foot. The foot at rest: ground + leg + weight = 0, hence
    `f_ground = f - m g` and, about the ankle, `t_ground = t - c x (m g)` (c: the foot's centre of mass); moved to the
    sole origin s: `t_sole = t_ground - s x f_ground`; both then in sole axes.

    Args:
        geometry: the foot (see `foot_geometry`).
        force_foot_on_leg: (3,) [N] in the ankle frame.
        torque_foot_on_leg: (3,) [N m] about the ankle origin, in the ankle frame.
        gravity_in_ankle: (3,) [m/s^2] the gravity vector in the ankle frame; None for no weight compensation.

    Returns:
        (force [N], torque [N m] about the sole origin), both (3,) in the sole frame.
    """
    force = np.asarray(force_foot_on_leg, dtype=float)
    torque = np.asarray(torque_foot_on_leg, dtype=float)
    if gravity_in_ankle is not None:
        weight = geometry.mass * np.asarray(gravity_in_ankle, dtype=float)
        force = force - weight
        torque = torque - np.cross(geometry.com_in_ankle, weight)
    torque_at_sole = torque - np.cross(geometry.sole_in_ankle, force)
    rotation = geometry.rotation_sole_to_ankle
    return rotation.T @ force, rotation.T @ torque_at_sole


class JointCommandAdapter:
    """Legion's hardware rules over a simulator's effort interface, plus the foot wrench conversion.

    Feed it the measured joint state (`set_joint_state`), the IMU orientation (`set_imu_orientation`), commands
    (`set_command`) and stops; call `servo(time)` at the servo rate for the efforts to send, in `joint_names` order.

    Args:
        config: the robot's configuration (joints, frames, standing posture, gains, watchdog).
        robot: the robot's model with no locked joints (`RobotModel.from_config(config, urdf)`), for the effort
            limits, the initial hold's torques and the feet's geometry.

    Raises:
        SimError: the model lacks a joint of the configuration, or a foot's sensor frame is misplaced.
    """

    def __init__(self, config: RobotConfig, robot: RobotModel):
        self.config = config
        self.robot = robot
        self.joint_names: tuple[str, ...] = tuple(config.all_joints)
        missing = [name for name in self.joint_names if name not in robot.joint_names]
        if missing:
            raise SimError(f"robot '{config.name}': the model has no joint(s) {missing[:5]} (locked or absent)")
        n = len(self.joint_names)
        self._q_index = robot.q_indices(self.joint_names)  # (n,) where each joint sits in the model's q
        effort_limit = robot.joint_limits.effort[self._q_index - BASE_NQ]
        self.rules = HardwareRules(
            self.joint_names,
            hold_stiffness=np.array([config.gains[name].stiffness for name in self.joint_names]),
            hold_damping=np.array([config.gains[name].damping for name in self.joint_names]),
            effort_limit=effort_limit, watchdog_timeout=config.watchdog_timeout,
            stop_damping_scale=config.protective_stop_damping_scale)
        self.standing = np.array([config.standing[name] for name in self.joint_names])
        """(n,) [rad] the standing posture."""
        q_standing = robot.standing_configuration()
        robot.update(q_standing)
        body_torques, _ = robot.static_contact_torques()
        self.standing_torques = body_torques[self._q_index - BASE_NQ]
        """(n,) [N m] joint torques that carry the robot standing on both soles in the standing posture."""
        self.rules.hold(self.standing, self.standing_torques)

        self.position = self.standing.copy()
        """(n,) [rad] last measured joint positions (the standing posture until the first measurement)."""
        self.velocity = np.zeros(n)
        """(n,) [rad/s] last measured joint velocities."""
        self.effort = self.standing_torques.copy()
        """(n,) [N m] the efforts of the last `servo` (the initial hold's at the standing posture until then)."""
        self.has_state = False
        """Whether a joint state naming every joint has been received."""
        self._measured = np.zeros(n, dtype=bool)
        self._index = {name: i for i, name in enumerate(self.joint_names)}
        self._state_layout: tuple[tuple[str, ...], np.ndarray, np.ndarray] | None = None
        self._dropped_states = 0

        self.feet = {side: foot_geometry(robot, config.sides[side].ankle, config.sides[side].sole) for side in SIDES}
        self._imu_rotation: np.ndarray | None = None  # (3, 3) imu_link -> world, from the IMU
        self._gravity_in_ankle: dict[str, np.ndarray] | None = None  # cached until the state or the IMU changes

    # ------------------------------------------------------------------------------------------------ inputs
    def set_joint_state(self, names: Sequence[str], position: Sequence[float], velocity: Sequence[float]) -> int:
        """Store a measured joint state (any order, any subset; joints the robot does not actuate are ignored; a
        missing or short velocity array reads as zero). A state whose positions do not match its names or hold a
        non-finite value is dropped whole (counted in `status()["joint_states_dropped"]`): the servo law keeps the
        last good measurement rather than send a NaN effort. Returns how many of the robot's joints it named."""
        names = tuple(names)
        if self._state_layout is None or self._state_layout[0] != names:
            pairs = [(i, self._index[name]) for i, name in enumerate(names) if name in self._index]
            source = np.array([i for i, _ in pairs], dtype=int)
            target = np.array([j for _, j in pairs], dtype=int)
            self._state_layout = (names, source, target)
        _, source, target = self._state_layout
        position = np.asarray(position, dtype=float)
        velocity = np.asarray(velocity, dtype=float) if len(velocity) == len(names) else np.zeros(len(names))
        if position.shape != (len(names),) or not (np.all(np.isfinite(position[source]))
                                                    and np.all(np.isfinite(velocity[source]))):
            self._dropped_states += 1
            return 0
        self.position[target] = position[source]
        self.velocity[target] = velocity[source]
        self._measured[target] = True
        self.has_state = self.has_state or bool(self._measured.all())
        self._gravity_in_ankle = None
        return len(target)

    def set_imu_orientation(self, orientation_xyzw: Sequence[float]) -> None:
        """Store the IMU's orientation (imu_link in the world frame, quaternion x, y, z, w)."""
        if np.linalg.norm(orientation_xyzw) > 0.5:  # a zero quaternion means "orientation not measured": ignored
            self._imu_rotation = quaternion_to_matrix(orientation_xyzw)
            self._gravity_in_ankle = None

    def set_command(self, names: Sequence[str], position: Sequence[float], velocity: Sequence[float],
                    effort: Sequence[float], stiffness: Sequence[float], damping: Sequence[float], time: float
                    ) -> tuple[bool, str]:
        """A JointCommand received at `time` [s]; see `HardwareRules.set_command`."""
        return self.rules.set_command(names, position, velocity, effort, stiffness, damping, time)

    def set_emergency_stop(self, active: bool) -> None:
        """`True` latches an e-stop holding the last measured positions; `False` does nothing."""
        self.rules.set_emergency_stop(active, self.position, self.effort)

    def reset_emergency_stop(self) -> bool:
        """Clear a latched e-stop (the robot keeps holding until the next valid command); whether one was latched."""
        return self.rules.reset_emergency_stop()

    # ------------------------------------------------------------------------------------------------ outputs
    def servo(self, time: float) -> tuple[np.ndarray, bool]:
        """One servo period at `time` [s]: the watchdog, then the servo law on the last measured state.

        Returns:
            (efforts (n,) [N m] in `joint_names` order, whether the watchdog tripped now).
        """
        tripped = self.rules.check_watchdog(time, self.position, self.effort)
        self.rules.torques(self.position, self.velocity, out=self.effort)
        return self.effort, tripped

    def gravity_in_ankles(self) -> dict[str, np.ndarray]:
        """Per side, the gravity vector [m/s^2] in the ankle frame, from the last IMU orientation and joint positions
        (with no IMU message yet, the pelvis is taken as level)."""
        if self._gravity_in_ankle is None:
            robot = self.robot
            q = robot.neutral_configuration()
            q[self._q_index] = self.position
            robot.update(q)  # base at the origin: "world" below is the base_link frame
            imu_to_base = robot.transform_frame_to_world(self.config.frames["imu"]).rotation
            base_to_world = (self._imu_rotation @ imu_to_base.T) if self._imu_rotation is not None else np.eye(3)
            gravity_world = np.array([0.0, 0.0, -GRAVITY])
            self._gravity_in_ankle = {}
            for side in SIDES:
                ankle_to_world = base_to_world @ robot.transform_frame_to_world(self.config.sides[side].ankle).rotation
                self._gravity_in_ankle[side] = ankle_to_world.T @ gravity_world
        return self._gravity_in_ankle

    def foot_wrench(self, side: str, force_foot_on_leg: Sequence[float], torque_foot_on_leg: Sequence[float],
                    compensate_weight: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """The ground's wrench on the foot of `side` in its sole frame, from its ankle sensor's reading (see
        `ground_wrench_in_sole`): (force [N], torque [N m]), (3,) each."""
        gravity = self.gravity_in_ankles()[side] if compensate_weight else None
        return ground_wrench_in_sole(self.feet[side], np.asarray(force_foot_on_leg, dtype=float),
                                     np.asarray(torque_foot_on_leg, dtype=float), gravity)

    def status(self, time: float) -> dict:
        """`HardwareRules.status` plus `joint_state_received` (bool) and `joint_states_dropped` (int)."""
        return self.rules.status(time) | {"joint_state_received": self.has_state,
                                          "joint_states_dropped": self._dropped_states}
