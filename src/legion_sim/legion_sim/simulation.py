"""The simulated robot hardware: Legion's hardware interface (docs/interfaces.md, "Hardware interface") over MuJoCo.

`Simulation` owns one MuJoCo model of a robot in a scene. It does what the real robot's joint servos, IMU, ankle
force/torque sensors and head camera do, and nothing a controller should do:

- **Servo law**, at every physics step (default 1 kHz), per actuated joint:
  `tau = effort + stiffness * (position - q) + damping * (velocity - qdot)`, clamped to the joint's URDF effort limit.
- **Commands** (`set_command`) name a subset of joints; the others keep their last command. A malformed command
  (unequal lengths, unknown or repeated joint, non-finite value, negative gain, no joints) is rejected whole and
  counted by reason; the last valid command stays in force.
- **Start**: the robot stands at the scene's start pose in the configuration's standing posture, soles on the floor
  (base height from the kinematics), holding that posture with the configuration's gains plus, as feed-forward, the
  joint torques that carry the robot's weight in that posture on both soles (the *initial hold*), so it stands with
  nobody commanding. Joint impedance alone keeps a humanoid up only if the leg stiffness beats gravity's toppling
  stiffness through three joints in series: measured on Centurion (65 kg), 400 N m/rad topples backwards within
  about 5 s, 500 holds (3 mm drift in 10 s), 800 holds firmly.
- **Protective stop**: on an e-stop (`set_emergency_stop(True)`, latched) or when the watchdog trips, the hardware
  latches the measured joint positions and holds them with the configuration's stiffness and damping (damping times
  `protective_stop_damping_scale`), keeping the torque each joint applied at that instant as feed-forward (a bumpless
  hold: a standing robot keeps carrying its weight instead of sagging by load / stiffness). It ignores commands and
  never goes limp. The hold replaces the stored command, so after the stop clears every joint a new command does not
  name keeps holding where it stopped.
  - The watchdog arms with the first valid command (the initial hold never trips it) and trips when no valid command
    has arrived for longer than `watchdog_timeout` of *simulated* time. A fresh valid command clears a watchdog stop
    (and is applied).
  - `reset_emergency_stop()` clears an e-stop; `set_emergency_stop(False)` does not. After the reset the robot keeps
    holding until the next valid command, which also re-arms the watchdog.
- **Sensors** read after the last step: joint state, IMU, ankle wrenches (in the sole frames), head camera.
  MuJoCo computes sensors at the start of a step, so IMU and wrench values lag the state by one physics step.
  The readings carry the errors of real sensors (`sensor_models`: IMU noise, drifting biases and an attitude filter's
  orientation error; encoder quantisation; force/torque noise and offsets; stereo depth noise and dropouts) with the
  robot file's figures, overridden by the scene's; `sensor_noise=False` makes every sensor ideal. The camera's
  latency is the publisher's business (`camera_latency`). Ground truth (`ground_truth_*`) is always exact.

The servo law, command validation and the stop state machine are the simulator-independent `hardware_rules` (shared
with the Gazebo joint command adapter); this class adds the MuJoCo model, the initial hold, the sensors and pushes.

Nothing here reads a clock or sleeps: time is the simulation's own (`time`), advanced by `step`. Not thread-safe.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import mujoco
import numpy as np

from legion_description.robot_config import SIDES, RobotConfig
from legion_description.robot_files import DescriptionError
from legion_description.sensor_config import SensorConfig
from legion_sim.errors import SimError
from legion_sim.hardware_rules import HardwareRules
from legion_sim.model_builder import (
    HIDDEN_GROUP,
    BuiltModel,
    RobotInWorld,
    SimOptions,
    build_world,
    ft_site_name,
)
from legion_sim.scene import RobotStart, Scene
from legion_sim.sensor_models import SensorModels


@dataclass(frozen=True)
class JointState:
    """Measured state of every actuated joint, in the order of `RobotConfig.all_joints`."""

    names: tuple[str, ...]
    position: np.ndarray
    """(n,) [rad]"""
    velocity: np.ndarray
    """(n,) [rad/s]"""
    effort: np.ndarray
    """(n,) torque the servo applied in the last physics step, after clamping [N m]"""


@dataclass(frozen=True)
class ImuReading:
    """What the IMU on `imu_link` measures."""

    orientation: np.ndarray
    """(4,) orientation of imu_link in the world (odom) frame, quaternion (x, y, z, w)."""
    angular_velocity: np.ndarray
    """(3,) [rad/s] in imu_link."""
    linear_acceleration: np.ndarray
    """(3,) [m/s^2] in imu_link, specific force: +9.81 along the world's up axis when at rest."""


@dataclass(frozen=True)
class Wrench:
    """A wrench in a named frame."""

    force: np.ndarray
    """(3,) [N]"""
    torque: np.ndarray
    """(3,) [N m] about the frame's origin."""


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics of the head camera (no distortion), pixel centres at integer coordinates (ROS convention).

    A point (x, y, z) in the optical frame (z forward, x right, y down) projects to pixel
    u = fx x / z + cx, v = fy y / z + cy.
    """

    width: int
    height: int
    fx: float
    """[px]"""
    fy: float
    """[px]"""
    cx: float
    """[px]"""
    cy: float
    """[px]"""

    @property
    def matrix(self) -> np.ndarray:
        """(3, 3) camera matrix K."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class CameraFrame:
    """One frame of the head camera; depth is registered to rgb (same pixels, same intrinsics)."""

    rgb: np.ndarray
    """(H, W, 3) uint8, row 0 at the top."""
    depth: np.ndarray
    """(H, W) float32 [m] along the optical axis (z-depth); NaN where nothing is within `camera_far`."""
    intrinsics: CameraIntrinsics
    time: float
    """Simulation time of the frame [s]."""


@dataclass(frozen=True)
class BaseState:
    """True pose and twist of the floating base (`base_link`) in the world (odom) frame. Tests and benchmarks only."""

    position: np.ndarray
    """(3,) [m] base_link origin in the world."""
    orientation: np.ndarray
    """(4,) quaternion (x, y, z, w) of base_link in the world."""
    linear_velocity: np.ndarray
    """(3,) [m/s] of the base_link origin, in base_link axes (as nav_msgs/Odometry's twist)."""
    angular_velocity: np.ndarray
    """(3,) [rad/s] in base_link axes."""
    linear_velocity_world: np.ndarray
    """(3,) [m/s] in world axes."""
    angular_velocity_world: np.ndarray
    """(3,) [rad/s] in world axes."""


@dataclass(frozen=True)
class ObjectState:
    """True pose of one scene part. Tests and benchmarks only."""

    id: str
    label: str
    position: np.ndarray
    """(3,) [m] centre of the part in the world."""
    orientation: np.ndarray
    """(4,) quaternion (x, y, z, w) in the world."""
    size: tuple[float, float, float]
    """Bounding box extent in the part's own axes [m] (cylinder: 2r, 2r, h; sphere: 2r, 2r, 2r)."""


@dataclass
class _AppliedWrench:
    body: int
    site: int
    """Site whose origin is the point of application, or -1 for the body origin."""
    force: np.ndarray
    torque: np.ndarray
    end_time: float


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product of two 3-vectors (np.cross costs ~10 us a call on small arrays)."""
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


def _xyzw(wxyz: np.ndarray) -> np.ndarray:
    return np.array([wxyz[1], wxyz[2], wxyz[3], wxyz[0]])


@dataclass(frozen=True)
class RobotSetup:
    """One robot of a simulation: its scene name (namespace; empty for a single robot), config, URDF, start."""

    name: str
    config: RobotConfig
    urdf: str
    """Expanded URDF text."""
    start: RobotStart


class SimRobot:
    """One simulated robot of a `Simulation`: its servos, sensors, stops and ground truth (the hardware interface
    of one robot; see the module docstring). Made by `Simulation`, which owns the model and steps all robots."""

    def __init__(self, world: Simulation, setup: RobotSetup, built: BuiltModel, sensor_noise: bool, seed: int):
        config, scene = setup.config, world.scene
        self.name: str = setup.name
        """The robot's name in the scene (its namespace, `robot_1`); empty for the one robot of a single-robot
        scene."""
        self.config = config
        self.start = setup.start
        """Where the robot's base stands at start and after a reset (world frame)."""
        self.options = world.options
        self._world = world
        try:
            self.sensor_config: SensorConfig = (
                config.sensors.with_overrides(scene.sensors, f"scene {scene.source}") if sensor_noise
                else SensorConfig.ideal())
        except DescriptionError as error:
            raise SimError(str(error)) from error
        """The sensors' error figures in force (all zero with sensor_noise=False)."""
        self.sensors = SensorModels(self.sensor_config, seed, SIDES)
        self._built: BuiltModel = built
        self.model: mujoco.MjModel = world.model
        self.data: mujoco.MjData = world.data
        model = self.model

        # Joint bookkeeping. Internal arrays are in actuator (model) order; the public order is config.all_joints.
        self.joint_names: tuple[str, ...] = tuple(config.all_joints)
        self._index = {name: i for i, name in enumerate(built.joint_names)}
        self._public_to_model = np.array([self._index[name] for name in self.joint_names])
        n = len(built.joint_names)
        self._q = _view(self.data.qpos, built.qpos_adr)
        self._qd = _view(self.data.qvel, built.dof_adr)
        self._ctrl = _view(self.data.ctrl, built.actuator_ids)
        self._limit = built.effort_limit.copy()
        # The command in force, validation, watchdog and e-stop, in model order.
        self._rules = HardwareRules(
            built.joint_names,
            hold_stiffness=np.array([config.gains[name].stiffness for name in built.joint_names]),
            hold_damping=np.array([config.gains[name].damping for name in built.joint_names]),
            effort_limit=self._limit, watchdog_timeout=config.watchdog_timeout,
            stop_damping_scale=config.protective_stop_damping_scale)
        self._standing = np.array([config.standing[name] for name in built.joint_names])
        self._tau = np.zeros(n)

        self.robot_mass: float = float(model.body_subtreemass[built.root_body])
        """Total mass of the robot [kg]."""
        self._sole_sites = {side: model.site(built.name(config.sides[side].sole)).id for side in SIDES}
        self._ft_sites = {side: model.site(built.name(ft_site_name(config.sides[side].ankle))).id for side in SIDES}
        self._imu_adr = {name: int(model.sensor_adr[model.sensor(built.name(name)).id])
                         for name in ("imu_orientation", "imu_angular_velocity", "imu_linear_acceleration")}
        self._ft_adr = {side: (int(model.sensor_adr[model.sensor(built.name(f"{side}_ankle_force")).id]),
                               int(model.sensor_adr[model.sensor(built.name(f"{side}_ankle_torque")).id]))
                        for side in SIDES}
        self._gravity = np.array(model.opt.gravity)
        self._intrinsics = self._camera_intrinsics()

    def place(self) -> None:
        """Put the robot at its start pose in the standing posture, soles on the floor (before `mj_forward`)."""
        model, data = self.model, self.data
        start = self.start
        root = self._built.root_qpos_adr
        data.qpos[root:root + 3] = (start.x, start.y, 0.0)
        data.qpos[root + 3:root + 7] = (math.cos(start.yaw / 2.0), 0.0, 0.0, math.sin(start.yaw / 2.0))
        self._q[:] = self._standing
        mujoco.mj_kinematics(model, data)
        lowest_sole = min(data.site_xpos[site][2] for site in self._sole_sites.values())
        data.qpos[root + 2] = -lowest_sole

    def hold_start(self) -> None:
        """After `mj_forward` at the start pose: the initial hold, counters zeroed, sensors restarted."""
        self._rules.hold(self._standing, self._static_standing_torques())
        self._servo()  # the torques the hold applies from the first step on (what joint_state reports until then)
        self._rules.reset()
        self.sensors.reset()

    @property
    def time(self) -> float:
        """Simulation time [s] since the last reset."""
        return float(self.data.time)

    def _static_standing_torques(self) -> np.ndarray:
        """Joint torques [N m] (model order) that hold the current posture at rest on both soles.

        Static equilibrium with the two sole wrenches w (world axes, at the sole origins) as unknowns:
        `bias = tau + J^T w`, where bias is gravity (qvel = 0) and J (12, nv) stacks the soles' Jacobians. The base's
        six rows have no actuator, which fixes w up to the internal wrench between the feet; the least-norm w is
        taken, then tau is read from the joint rows. Needs mj_forward at the posture.
        """
        model, data = self.model, self.data
        jacobians = []
        for site in self._sole_sites.values():
            translation, rotation = np.zeros((3, model.nv)), np.zeros((3, model.nv))
            mujoco.mj_jacSite(model, data, translation, rotation, site)
            jacobians += [translation, rotation]
        jacobian = np.vstack(jacobians)  # (12, nv)
        bias = data.qfrc_bias.copy()  # (nv,) gravity only at rest
        base = slice(self._built.root_dof_adr, self._built.root_dof_adr + 6)
        wrenches = np.linalg.lstsq(jacobian[:, base].T, bias[base], rcond=None)[0]  # (12,)
        return (bias - jacobian.T @ wrenches)[self._built.dof_adr]

    # ------------------------------------------------------------------------------------------------ stepping

    def _servo(self) -> None:
        """tau = effort + kp (position - q) + kd (velocity - qdot), clamped to +-limit, into data.ctrl."""
        self._rules.torques(self._q, self._qd, out=self._tau)
        self._ctrl[:] = self._tau

    # ------------------------------------------------------------------------------------------------ commands
    def set_command(self, names: Sequence[str], position: Sequence[float], velocity: Sequence[float],
                    effort: Sequence[float], stiffness: Sequence[float], damping: Sequence[float]
                    ) -> tuple[bool, str]:
        """Take a joint command (JointCommand fields; every array has one value per name).

        Returns:
            (accepted, reason): reason is "" when accepted, else `<reason_key>: <detail>` with reason_key one of
            empty, length_mismatch, unknown_joint, duplicate_joint, not_a_number, non_finite, negative_gain,
            out_of_range (each
            counted in `status()["commands_rejected"]`) or emergency_stop (a valid command ignored during an e-stop,
            counted in `status()["commands_ignored"]`).
        """
        return self._rules.set_command(names, position, velocity, effort, stiffness, damping, float(self.data.time))

    # ------------------------------------------------------------------------------------------------ stops
    def set_emergency_stop(self, active: bool) -> None:
        """`True` latches an emergency (protective) stop. `False` does nothing: only `reset_emergency_stop` clears."""
        self._rules.set_emergency_stop(active, self._q, self._tau)

    def reset_emergency_stop(self) -> bool:
        """Clear a latched e-stop; the robot keeps holding until the next valid command (which re-arms the
        watchdog). Returns whether an e-stop was latched."""
        return self._rules.reset_emergency_stop()

    @property
    def stopped(self) -> str:
        """Why the hardware is in a protective stop: "", "emergency_stop" or "watchdog"."""
        return self._rules.stopped

    def status(self) -> dict:
        """Hardware status for `hardware/status` (see `HardwareRules.status`).

        Keys: emergency_stop (bool, latched), protective_stop (bool), stop_reason ("", "emergency_stop",
        "watchdog"), watchdog_armed (bool), watchdog_trips (int), commands_accepted (int), commands_rejected
        (dict reason -> count), commands_rejected_total (int), commands_ignored (int, valid but during an e-stop),
        last_command_age (float [s] or None before the first command), time (float [s]).
        """
        return self._rules.status(self.time)

    # ------------------------------------------------------------------------------------------------ sensors
    def joint_state(self) -> JointState:
        """Position and velocity as the encoders and drives measure them, and the applied effort, of every actuated
        joint (order of `joint_names`)."""
        order = self._public_to_model
        position, velocity = self.sensors.joints(np.array(self._q)[order], np.array(self._qd)[order])
        return JointState(names=self.joint_names, position=position, velocity=velocity,
                          effort=self._tau[order].copy())

    @property
    def effort_limits(self) -> dict[str, float]:
        """Joint name -> effort limit [N m] from the URDF."""
        return {name: float(self._limit[self._index[name]]) for name in self.joint_names}

    def imu(self) -> ImuReading:
        """The IMU on imu_link (see ImuReading), with the IMU's errors."""
        sensordata = self.data.sensordata
        quat, gyro, accel = (self._imu_adr[k] for k in ("imu_orientation", "imu_angular_velocity",
                                                        "imu_linear_acceleration"))
        orientation, angular_velocity, linear_acceleration = self.sensors.imu(
            self.time, _xyzw(sensordata[quat:quat + 4]), sensordata[gyro:gyro + 3].copy(),
            sensordata[accel:accel + 3].copy())
        return ImuReading(orientation=orientation, angular_velocity=angular_velocity,
                          linear_acceleration=linear_acceleration)

    def foot_wrenches(self) -> dict[str, Wrench]:
        """Per side, the wrench the ground (and anything else touching the foot) exerts on the foot, in the sole
        frame: force [N] and torque [N m] about the sole origin.

        Computed like a real driver does from the ankle force/torque sensor: the sensor gives the wrench the leg
        exerts on the foot at the ankle; the foot's own weight below the sensor is compensated statically (the foot's
        inertial forces are not, so a swinging foot reads a few newtons). Standing still, the z forces add up to the
        robot's weight (up to the sensors' noise and offsets).
        """
        data, sensordata = self.data, self.data.sensordata
        wrenches = {}
        for side in SIDES:
            force_adr, torque_adr = self._ft_adr[side]
            site, sole, foot = self._ft_sites[side], self._sole_sites[side], self._built.foot_bodies[side]
            site_rotation = data.site_xmat[site].reshape(3, 3)
            # MuJoCo's force/torque sensor: the wrench the leg (parent) exerts on the foot (child body and its
            # subtree) about the site, in the site frame.
            force_leg_on_foot = site_rotation @ sensordata[force_adr:force_adr + 3]
            torque_leg_on_foot = site_rotation @ sensordata[torque_adr:torque_adr + 3]
            foot_mass = self.model.body_subtreemass[foot]
            weight = foot_mass * self._gravity
            ankle = data.site_xpos[site]
            force = -force_leg_on_foot - weight
            torque_at_ankle = -torque_leg_on_foot - _cross(data.subtree_com[foot] - ankle, weight)
            torque_at_sole = torque_at_ankle + _cross(ankle - data.site_xpos[sole], force)
            sole_rotation = data.site_xmat[sole].reshape(3, 3)
            measured = self.sensors.wrench(side, sole_rotation.T @ force, sole_rotation.T @ torque_at_sole)
            wrenches[side] = Wrench(force=measured[0], torque=measured[1])
        return wrenches

    def contact_wrenches(self) -> dict[str, Wrench]:
        """Per side, the summed contact wrench on the foot body, in the sole frame about the sole origin [N, N m].

        Ground truth for checking `foot_wrenches` (no sensor model); not part of the hardware interface.
        """
        model, data = self.model, self.data
        totals = {side: (np.zeros(3), np.zeros(3)) for side in SIDES}
        foot_of = {body: side for side, body in self._built.foot_bodies.items()}
        local = np.zeros(6)
        for i in range(data.ncon):
            contact = data.contact[i]
            bodies = (model.geom_bodyid[contact.geom1], model.geom_bodyid[contact.geom2])
            for k, body in enumerate(bodies):
                side = foot_of.get(int(body))
                if side is None:
                    continue
                mujoco.mj_contactForce(model, data, i, local)
                frame = contact.frame.reshape(3, 3)  # rows: contact normal (from geom1 to geom2) and tangents
                force_on_geom2 = frame.T @ local[:3]
                force = force_on_geom2 if k == 1 else -force_on_geom2
                sole = self._sole_sites[side]
                totals[side][0][:] += force
                totals[side][1][:] += _cross(contact.pos - data.site_xpos[sole], force)
        wrenches = {}
        for side, (force, torque) in totals.items():
            sole_rotation = data.site_xmat[self._sole_sites[side]].reshape(3, 3)
            wrenches[side] = Wrench(force=sole_rotation.T @ force, torque=sole_rotation.T @ torque)
        return wrenches

    # ------------------------------------------------------------------------------------------------ camera
    def _camera_intrinsics(self) -> CameraIntrinsics:
        width, height = self.options.camera_width, self.options.camera_height
        fovy = math.radians(float(self.model.cam_fovy[self.model.camera(self._built.camera).id]))
        focal = 0.5 * height / math.tan(0.5 * fovy)  # square pixels: MuJoCo widens the view by the aspect ratio
        return CameraIntrinsics(width=width, height=height, fx=focal, fy=focal, cx=(width - 1) / 2.0,
                                cy=(height - 1) / 2.0)

    @property
    def camera_intrinsics(self) -> CameraIntrinsics:
        """Intrinsics of both head camera images (depth is registered to colour)."""
        return self._intrinsics

    def render_camera(self) -> CameraFrame:
        """Render the head camera: colour and z-depth [m] (NaN = nothing within camera_far, or no stereo match: edges,
        out of range), depth with the camera's errors. Headless (EGL)."""
        renderer = self._world._renderer_for_cameras()
        renderer.update_scene(self.data, camera=self._built.camera, scene_option=self._world._scene_option)
        rgb = renderer.render()
        renderer.enable_depth_rendering()
        try:
            depth = renderer.render()
        finally:
            renderer.disable_depth_rendering()
        depth[depth >= self.options.camera_far * (1.0 - 1e-4)] = np.nan
        depth = self.sensors.depth(depth, self._intrinsics.fx)
        return CameraFrame(rgb=rgb, depth=depth, intrinsics=self._intrinsics, time=self.time)

    @property
    def camera_latency(self) -> float:
        """[s] from the instant a camera frame shows (`CameraFrame.time`) to when the camera delivers it."""
        return self.sensor_config.depth_camera.latency

    # ------------------------------------------------------------------------------------------------ ground truth
    def ground_truth_base(self) -> BaseState:
        """True base_link pose and twist in the world (odom) frame. For tests and benchmarks only."""
        data, root = self.data, self._built.root_body
        dof = self._built.root_dof_adr
        rotation = data.xmat[root].reshape(3, 3)
        velocity_world = data.qvel[dof:dof + 3].copy()  # free joint: world-frame linear velocity of the body origin
        omega_local = data.qvel[dof + 3:dof + 6].copy()  # and body-frame angular velocity
        return BaseState(position=data.xpos[root].copy(), orientation=_xyzw(data.xquat[root]),
                         linear_velocity=rotation.T @ velocity_world, angular_velocity=omega_local,
                         linear_velocity_world=velocity_world, angular_velocity_world=rotation @ omega_local)



class Simulation:
    """The simulated hardware of the robots of a scene, stepped together (see the module docstring).

    A single-robot scene has one robot (`robots[0]`, unprefixed names); a scene with a `robots:` list has one per
    entry (`robots[k].name` is its namespace, its model elements are prefixed `<name>/`). The hardware methods of the
    Simulation itself (`joint_state`, `set_command`, `imu`, ...) are those of `robots[0]`, so single-robot code does
    not change.

    Args:
        config: the robot's configuration (joint groups, frames, standing posture, gains, watchdog timeout).
        scene: the scene the robot stands in.
        urdf: the robot's expanded URDF text (`legion_description.robot_files.expand_urdf`).
        options: simulator tunables; defaults if None.
        sensor_noise: apply the sensors' error figures (robot file's `sensors:`, then the scene's); False gives
            exact readings.
        seed: seed of the sensor errors' random generator (a run is repeatable; `reset` restarts the sequence);
            robot k's sensors use seed + k.
        robots: the robots to simulate instead of `config`/`urdf` at the scene's `robot_start` (see `of_robots`).

    Raises:
        SimError: the model cannot be built (see `build_world`), or the scene's sensor figures are invalid.
    """

    def __init__(self, config: RobotConfig | None, scene: Scene, urdf: str | None,
                 options: SimOptions | None = None, sensor_noise: bool = True, seed: int = 0,
                 robots: Sequence[RobotSetup] | None = None):
        if robots is None:
            if config is None or urdf is None:
                raise SimError("Simulation needs a robot config and URDF, or a list of robots")
            robots = [RobotSetup("", config, urdf, scene.robot_start)]
        self.scene = scene
        self.options = options or SimOptions()
        world = build_world([RobotInWorld(r.urdf, r.config, f"{r.name}/" if r.name else "") for r in robots], scene,
                            self.options)
        self.model: mujoco.MjModel = world.model
        self.data: mujoco.MjData = mujoco.MjData(self.model)
        model = self.model
        self._renderer: mujoco.Renderer | None = None
        self.robots: tuple[SimRobot, ...] = tuple(
            SimRobot(self, setup, built, sensor_noise, seed + k)
            for k, (setup, built) in enumerate(zip(robots, world.robots, strict=True)))
        """The simulated robots, in the scene's order."""
        first = self.robots[0]
        self.config = first.config
        """Robot 0's configuration."""
        self._built = first._built
        self.sensor_config = first.sensor_config
        self.sensors = first.sensors
        self.joint_names = first.joint_names
        self.robot_mass = first.robot_mass
        self._moving_people = [(person, int(model.body(person.id).mocapid[0])) for person in scene.people
                               if person.path]
        """(person, mocap index) of the people who walk a path."""
        self._people_bodies = {person.id: model.body(person.id).id for person in scene.people if person.path}
        """Person id -> body of the people who walk (the compiler fuses a still person's body into the world)."""
        self.reset()

    @classmethod
    def of_robots(cls, robots: Sequence[RobotSetup], scene: Scene, options: SimOptions | None = None,
                  sensor_noise: bool = True, seed: int = 0) -> Simulation:
        """Several robots (each with its name, config, URDF and start) in one scene, one physics for all."""
        return cls(None, scene, None, options, sensor_noise, seed, robots=robots)

    @classmethod
    def from_scene(cls, scene: Scene, robot: str = "centurion", options: SimOptions | None = None,
                   sensor_noise: bool = True, seed: int = 0) -> Simulation:
        """The robots of `scene` (its `robots:` list, each robot file defaulting to `robot`; else `robot` alone at
        `robot_start`), validated by `legion_sim.scene_robots.scene_robots`."""
        from legion_sim.scene_robots import scene_robots

        return cls.of_robots([RobotSetup(r.name, r.config, r.urdf, r.start) for r in scene_robots(scene, robot)],
                             scene, options, sensor_noise, seed)

    def robot(self, name: str) -> SimRobot:
        """The robot with this scene name; raises SimError if there is none."""
        for robot in self.robots:
            if robot.name == name:
                return robot
        raise SimError(f"no robot named '{name}' in the simulation; robots: {[r.name for r in self.robots]}")

    @classmethod
    def from_names(cls, robot: str = "centurion", scene: str = "empty", options: SimOptions | None = None,
                   sensor_noise: bool = True, seed: int = 0, **xacro_args: str | bool) -> Simulation:
        """Build from a robot name (config/robots/<robot>.yaml + its URDF xacro) and a scene name or path.

        Raises:
            SimError: anything missing or invalid (description errors are re-raised as SimError).
        """
        from legion_description.robot_config import load_robot_config
        from legion_description.robot_files import DescriptionError, expand_urdf
        from legion_sim.scene import load_scene

        try:
            config = load_robot_config(robot)
            urdf = expand_urdf(robot, **xacro_args)
        except DescriptionError as error:
            raise SimError(str(error)) from error
        return cls(config, load_scene(scene), urdf, options, sensor_noise=sensor_noise, seed=seed)


    def close(self) -> None:
        """Free the renderer (the model and data go with the object)."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def _renderer_for_cameras(self) -> mujoco.Renderer:
        """The renderer every robot's head camera renders with (made on first use; headless EGL)."""
        if self._renderer is None:
            try:
                self._renderer = mujoco.Renderer(self.model, self.options.camera_height, self.options.camera_width)
            except Exception as error:  # the GL backends raise several types
                raise SimError(f"cannot create the camera renderer (MUJOCO_GL={os.environ.get('MUJOCO_GL')!r}; "
                               "MuJoCo reads it when first imported, so set it or import legion_sim before mujoco): "
                               f"{error}") from error
            flags = self._renderer.scene.flags
            for flag in (mujoco.mjtRndFlag.mjRND_SHADOW, mujoco.mjtRndFlag.mjRND_REFLECTION,
                         mujoco.mjtRndFlag.mjRND_SKYBOX):
                flags[flag] = False
            self._scene_option = mujoco.MjvOption()
            self._scene_option.geomgroup[HIDDEN_GROUP] = 0
            self._scene_option.sitegroup[:] = 0
        return self._renderer

    # ------------------------------------------------------------------------------------------------ time, reset
    @property
    def time(self) -> float:
        """Simulation time [s] since the last reset."""
        return float(self.data.time)

    @property
    def timestep(self) -> float:
        """Physics (and servo) period [s]."""
        return float(self.model.opt.timestep)

    def reset(self) -> None:
        """Back to the start: every robot standing at its start pose under the initial hold, parts where the scene
        puts them, time 0, no stop latched, the watchdogs disarmed, all counters zeroed, no applied wrenches."""
        model, data = self.model, self.data
        mujoco.mj_resetData(model, data)
        for robot in self.robots:
            robot.place()
        self._move_people()
        mujoco.mj_forward(model, data)
        for robot in self.robots:
            robot.hold_start()
        self._wrenches: list[_AppliedWrench] = []  # mj_resetData zeroed xfrc_applied

    # ------------------------------------------------------------------------------------------------ stepping
    def step(self, n: int = 1) -> None:
        """Advance `n` physics steps, applying every robot's servo law and watchdog and the applied wrenches at each."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise SimError(f"step count must be a non-negative integer, got {n!r}")
        model, data, robots = self.model, self.data, self.robots
        for _ in range(n):
            if self._moving_people:
                self._move_people()
            if self._wrenches:
                self._apply_wrenches()
            for robot in robots:
                robot._servo()
            mujoco.mj_step(model, data)
            time = float(data.time)
            for robot in robots:
                robot._rules.check_watchdog(time, robot._q, robot._tau)

    def _move_people(self) -> None:
        """Place each walking person where its path has it at the current time (mocap pose, before the step)."""
        time = float(self.data.time)
        for person, mocap in self._moving_people:
            x, y, yaw = person.pose_at(time)
            self.data.mocap_pos[mocap] = (x, y, 0.0)
            self.data.mocap_quat[mocap] = (math.cos(yaw / 2.0), 0.0, 0.0, math.sin(yaw / 2.0))


    # ------------------------------------------------------------------------------------------------ robot 0
    def set_command(self, names: Sequence[str], position: Sequence[float], velocity: Sequence[float],
                    effort: Sequence[float], stiffness: Sequence[float], damping: Sequence[float]
                    ) -> tuple[bool, str]:
        """Robot 0's `SimRobot.set_command`."""
        return self.robots[0].set_command(names, position, velocity, effort, stiffness, damping)

    def set_emergency_stop(self, active: bool) -> None:
        """Robot 0's `SimRobot.set_emergency_stop`."""
        self.robots[0].set_emergency_stop(active)

    def reset_emergency_stop(self) -> bool:
        """Robot 0's `SimRobot.reset_emergency_stop`."""
        return self.robots[0].reset_emergency_stop()

    @property
    def stopped(self) -> str:
        """Robot 0's `SimRobot.stopped`."""
        return self.robots[0].stopped

    def status(self) -> dict:
        """Robot 0's `SimRobot.status`."""
        return self.robots[0].status()

    def joint_state(self) -> JointState:
        """Robot 0's `SimRobot.joint_state`."""
        return self.robots[0].joint_state()

    @property
    def effort_limits(self) -> dict[str, float]:
        """Robot 0's `SimRobot.effort_limits`."""
        return self.robots[0].effort_limits

    def imu(self) -> ImuReading:
        """Robot 0's `SimRobot.imu`."""
        return self.robots[0].imu()

    def foot_wrenches(self) -> dict[str, Wrench]:
        """Robot 0's `SimRobot.foot_wrenches`."""
        return self.robots[0].foot_wrenches()

    def contact_wrenches(self) -> dict[str, Wrench]:
        """Robot 0's `SimRobot.contact_wrenches`."""
        return self.robots[0].contact_wrenches()

    @property
    def camera_intrinsics(self) -> CameraIntrinsics:
        """Robot 0's `SimRobot.camera_intrinsics`."""
        return self.robots[0].camera_intrinsics

    def render_camera(self) -> CameraFrame:
        """Robot 0's `SimRobot.render_camera`."""
        return self.robots[0].render_camera()

    @property
    def camera_latency(self) -> float:
        """Robot 0's `SimRobot.camera_latency`."""
        return self.robots[0].camera_latency

    def ground_truth_base(self) -> BaseState:
        """Robot 0's `SimRobot.ground_truth_base`."""
        return self.robots[0].ground_truth_base()

    # ------------------------------------------------------------------------------------------------ ground truth
    def ground_truth_objects(self) -> list[ObjectState]:
        """True poses of the scene's parts, in scene order. For tests and benchmarks only."""
        data = self.data
        states = []
        for part in self.scene.parts:
            body = self._built.part_bodies[part.id]
            states.append(ObjectState(id=part.id, label=part.label, position=data.xpos[body].copy(),
                                      orientation=_xyzw(data.xquat[body]), size=part.bounding_size))
        return states

    def ground_truth_people(self) -> list[tuple[str, np.ndarray, float]]:
        """(id, position (x, y, 0) [m] of the footprint centre, yaw [rad]) of each person, in scene order. For tests
        and benchmarks only."""
        out = []
        for person in self.scene.people:
            body = self._people_bodies.get(person.id)
            if body is None:
                out.append((person.id, np.array([*person.position, 0.0]), person.yaw))
                continue
            position = self.data.xpos[body]
            w, _, _, z = self.data.xquat[body]
            out.append((person.id, np.array([position[0], position[1], 0.0]), 2.0 * math.atan2(z, w)))
        return out

    # ------------------------------------------------------------------------------------------------ disturbances
    def apply_wrench(self, body_name: str, force_world: Sequence[float], torque_world: Sequence[float],
                     duration: float) -> None:
        """Push a body: apply a force [N] and torque [N m] in world axes at the origin of `body_name` (a model body,
        a part id, or any robot link frame) for `duration` [s] of simulated time from now.

        Raises:
            SimError: unknown body, non-finite or wrongly sized vectors, or a non-positive duration.
        """
        model = self.model
        body = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, body_name)
        site = -1
        if body < 0:
            site = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, body_name)
            if site < 0:
                raise SimError(f"apply_wrench: no body or link frame named '{body_name}'")
            body = int(model.site_bodyid[site])
        if body == 0:
            raise SimError("apply_wrench: the world body cannot be pushed")
        vectors = []
        for label, value in (("force", force_world), ("torque", torque_world)):
            try:
                vector = np.asarray(value, dtype=float)
            except (TypeError, ValueError) as error:
                raise SimError(f"apply_wrench: {label} must be 3 numbers, got {value!r}") from error
            if vector.shape != (3,) or not np.all(np.isfinite(vector)):
                raise SimError(f"apply_wrench: {label} must be 3 finite numbers, got {value!r}")
            vectors.append(vector)
        if not isinstance(duration, (int, float)) or not math.isfinite(duration) or duration <= 0.0:
            raise SimError(f"apply_wrench: duration must be a positive number of seconds, got {duration!r}")
        self._wrenches.append(_AppliedWrench(body=int(body), site=site, force=vectors[0], torque=vectors[1],
                                             end_time=self.time + float(duration)))

    def _apply_wrenches(self) -> None:
        """Write the active wrenches into xfrc_applied (which acts at each body's centre of mass)."""
        data = self.data
        for wrench in self._wrenches:
            data.xfrc_applied[wrench.body] = 0.0
        still_active = []
        for wrench in self._wrenches:
            if data.time >= wrench.end_time - 1e-9:
                continue
            point = data.site_xpos[wrench.site] if wrench.site >= 0 else data.xpos[wrench.body]
            data.xfrc_applied[wrench.body, :3] += wrench.force
            data.xfrc_applied[wrench.body, 3:] += wrench.torque + _cross(point - data.xipos[wrench.body],
                                                                           wrench.force)
            still_active.append(wrench)
        self._wrenches = still_active


def _view(array: np.ndarray, addresses: np.ndarray) -> np.ndarray | _Gather:
    """A numpy view of array[addresses] when the addresses are contiguous (they are for a URDF tree)."""
    if len(addresses) and np.array_equal(addresses, np.arange(addresses[0], addresses[0] + len(addresses))):
        return array[addresses[0]:addresses[0] + len(addresses)]
    return _Gather(array, addresses)


class _Gather:
    """array[addresses] that reads and writes through (the fallback when joint addresses are not contiguous)."""

    def __init__(self, array: np.ndarray, addresses: np.ndarray):
        self._array, self._addresses = array, addresses

    def __array__(self, dtype=None, copy=None):
        values = self._array[self._addresses]
        return values if dtype is None else values.astype(dtype)

    def __setitem__(self, key, value) -> None:
        self._array[self._addresses[key]] = value

    def __getitem__(self, key):
        return self._array[self._addresses[key]]

    def __len__(self) -> int:
        return len(self._addresses)
