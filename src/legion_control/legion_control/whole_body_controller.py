"""The whole-body controller core: balance and task tracking for a humanoid by task-space inverse dynamics.

Per control cycle (`update`), from the joint state and the base state (`set_base_state`, from `odom`):

1. estimate q, v (`OdomAnchoredEstimator`: the last odom propagated with leg kinematics) and update the Pinocchio
   model once;
2. read the references at this time: CoM, base orientation and contacts from the gait reference (or, without one,
   balance in place over the current soles), plus a balance offset, the hand targets and the posture reference;
3. build and solve the inverse-dynamics QP (`InverseDynamicsQP`): floating-base dynamics, stance soles held with
   their wrenches in the contact wrench cones, torque and joint limits; CoM, base orientation, swing soles, hands,
   angular momentum and posture as weighted tasks;
4. turn its joint accelerations and torques into a joint command: feed-forward torque plus position and velocity
   targets integrated from the accelerations, with moderate gains, so that the joint servos absorb latency;
5. drive the hands with the grasp controller (joint space, not in the QP);
6. watch for a fall (base tilt, CoM outside the support polygon, CoM too low, or unavoidable: the capture point
   beyond a step's reach outside the support polygon; `fall_monitor`) and then command the robot file's protective
   fall posture with its compliant gains (`fall:`), or joint damping only for a robot whose file gives none.

A bad reference (non-finite, unreachable) is rejected by its setter with a ControlError: the last good one stays in
force and the rejection is reported in the following cycles' reports. An infeasible QP is solved again without the
torque and joint limits; if that fails too, the last good command is repeated with targets at the measured state.
The command is checked to be finite before it is returned; it never holds a NaN.

Nothing here reads a clock, sleeps or publishes: time and state come in as arguments, commands and reports go out.
"""

from __future__ import annotations

import enum
import itertools
import math
import time as timing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pinocchio as pin

from legion_common.transforms import mean_yaw, quaternion_to_matrix, rotation_z, yaw_from_matrix
from legion_control.base_estimator import OdomAnchoredEstimator
from legion_control.contact import centre_of_pressure, wrench_cone_matrix
from legion_control.errors import ControlError
from legion_control.fall_monitor import FallMonitor, StepReach
from legion_control.grasp import GraspController, HandCommand
from legion_control.inverse_dynamics import AccelerationTask, Contact, DynamicsTerms, InverseDynamicsQP, Solution
from legion_control.parameters import WbcParameters
from legion_control.references import BalanceOffset, BaseState, GaitSample, HandTarget, ReferenceBook
from legion_gait.dimensions import resolve
from legion_gait.parameters import GaitParameters
from legion_gait.robot_geometry import RobotGeometry
from legion_model import BASE_NV, RobotModel

GRAVITY = 9.81
"""[m/s^2]"""
LWA = pin.LOCAL_WORLD_ALIGNED
SLIP_AXES = np.array([1.0, 1.0, 0.0, 0.0, 0.0, 1.0])
"""Components of a stance sole's pose error (sole frame: x, y, z, roll, pitch, yaw) that the contact stiffness
corrects: sliding and turning on the ground. Height, roll and pitch are the ground's business (a compliant contact
sinks and tilts a little under load; pulling against that only distorts the body)."""
MAX_TARGET_DEVIATION = 0.15
"""[rad] the integrated joint targets stay this close to the measured positions."""


class ControllerState(enum.Enum):
    WAITING = "waiting"
    """No base state yet: the joints hold the standing posture."""
    BALANCING = "balancing"
    FALLEN = "fallen"
    """A fall was detected (or is unavoidable): the protective fall posture (or joint damping only), until the robot
    stands upright on both soles again."""


class FallResponse(enum.Enum):
    """What the controller commands while fallen."""

    POSTURE = "protective fall posture"
    """The robot file's protective fall posture, with its compliant gains."""
    DAMPING = "joint damping only"
    """Joint damping only (a robot file without a `fall:` block)."""


@dataclass
class JointCommandArrays:
    """A JointCommand's arrays, one entry per name."""

    names: tuple[str, ...]
    position: np.ndarray
    """[rad]"""
    velocity: np.ndarray
    """[rad/s]"""
    effort: np.ndarray
    """[N m]"""
    stiffness: np.ndarray
    """[N m/rad]"""
    damping: np.ndarray
    """[N m s/rad]"""

    def is_finite(self) -> bool:
        return bool(np.isfinite(np.concatenate((self.position, self.velocity, self.effort, self.stiffness,
                                                self.damping))).all())


@dataclass
class CycleReport:
    """What one cycle did, for `diagnostics` and tests."""

    time: float
    state: ControllerState
    model_update_time: float = 0.0
    """[s] state estimation and model update."""
    qp_build_time: float = 0.0
    """[s] references, tasks, contacts and QP assembly."""
    qp_solve_time: float = 0.0
    """[s] inside the QP solver."""
    total_time: float = 0.0
    """[s] the whole cycle."""
    cpu_time: float = 0.0
    """[s] CPU time of the whole cycle on this thread: `total_time` without the time other processes took the CPU."""
    qp_status: str = ""
    qp_relaxed: bool = False
    qp_iterations: int = 0
    base_source: str = "none"
    task_errors: dict[str, float] = field(default_factory=dict)
    """Task name -> error norm [m or rad]."""
    contact_forces: dict[str, np.ndarray] = field(default_factory=dict)
    """side -> wrench (f, tau) in the sole frame about its origin, as the QP planned it [N, N m]."""
    centres_of_pressure: dict[str, np.ndarray] = field(default_factory=dict)
    """side -> CoP (x, y) in the sole frame [m]."""
    warnings: list[str] = field(default_factory=list)
    fall_reason: str = ""
    fall_response: FallResponse | None = None
    """While fallen: what the command does."""
    capture_point_outside: float = 0.0
    """[m] the capture point's distance outside the support polygon (negative: inside) at the last fall check."""
    capture_point_reach: float = 0.0
    """[m] a step's reach in that direction (0: no capture-point check)."""


def _norm(vector: np.ndarray) -> float:
    """Euclidean norm of a small vector: what `np.linalg.norm` computes (the square root of the dot product), without
    its overhead."""
    return math.sqrt(vector @ vector)


def _step_reach(robot: RobotModel) -> StepReach:
    """The robot's longest steps from its walking dimensions as the gait planner resolves them with its default
    ratios: the robot file's `walking:` block, the rest derived from the model's size (`legion_gait.dimensions`)."""
    dimensions = resolve(GaitParameters(), RobotGeometry.from_model(robot))
    return StepReach.from_walking({key: getattr(dimensions, key) for key in
                                   ("max_step_forward", "max_step_backward", "max_step_outward", "step_width")})


def _heading_of(rotations: Sequence[np.ndarray]) -> float:
    """Mean heading [rad] of one or two frames (their x axes projected on the floor)."""
    yaws = [yaw_from_matrix(rotation) for rotation in rotations]
    return yaws[0] if len(yaws) == 1 else mean_yaw(yaws[0], yaws[1])


class WholeBodyController:
    """The controller core (see the module docstring).

    Args:
        robot: the robot model with the hands locked (the QP's model); its configuration names joints and frames.
        params: tunables.
        solver: QP solver name (`daqp` by default; see `qp_solvers`).

    Raises:
        ControlError: the model has hand joints in it, or the grasp postures do not fit the hands.
    """

    def __init__(self, robot: RobotModel, params: WbcParameters | None = None, solver: str = "daqp") -> None:
        self.robot = robot
        self.params = params or WbcParameters()
        config = robot.config
        self.config = config
        self.sides: tuple[str, ...] = tuple(config.sides)
        self.sole_frames = {side: config.sides[side].sole for side in self.sides}
        self.gripper_frames = {side: config.sides[side].gripper for side in self.sides}
        self.hand_joints = {side: hand.joints for side, hand in config.hands.items()}
        """Side -> its hand's joints, for the sides that have a hand."""
        body_hands = [name for names in self.hand_joints.values() for name in names if name in robot.v_index]
        if body_hands:
            raise ControlError(f"the whole-body model must have the hands locked; it has {body_hands[:3]}...")
        self.body_joints: tuple[str, ...] = robot.joint_names
        self.nv, self.na = robot.nv, robot.na
        self.model, self.data = robot.model, robot.data
        self._sole_ids = {side: robot.frame_id(frame) for side, frame in self.sole_frames.items()}
        self._gripper_ids = {side: robot.frame_id(frame) for side, frame in self.gripper_frames.items()}
        self._base_id = robot.frame_id(config.frames["base"])

        limits = robot.joint_limits
        self._q_lower, self._q_upper = limits.lower, limits.upper
        self._v_limit = limits.velocity
        self._v_max = self.params.limits.velocity_scale * limits.velocity
        self._v_min = -self._v_max
        self._q_upper_inner = limits.upper - self.params.limits.position_margin
        self._q_lower_inner = limits.lower + self.params.limits.position_margin
        self._tau_limit = limits.effort
        self._joint_damping = np.array(robot.model.damping[BASE_NV:])
        self._hold_stiffness = np.array([config.gains[n].stiffness for n in self.body_joints])
        self._hold_damping = np.array([config.gains[n].damping for n in self.body_joints])
        self._standing = np.array([config.standing.get(n, 0.0) for n in self.body_joints])
        self._hand_names = tuple(n for names in self.hand_joints.values() for n in names)
        self._hand_stiffness = np.array([config.gains[n].stiffness for n in self._hand_names])
        self._hand_damping = np.array([config.gains[n].damping for n in self._hand_names])
        self.command_names: tuple[str, ...] = self.body_joints + self._hand_names

        q_standing = robot.standing_configuration()
        robot.update(q_standing)
        com = robot.com_position()
        soles = [robot.transform_sole_to_world(side) for side in self.sides]
        middle = np.mean([sole.translation for sole in soles], axis=0)
        self.standing_com_height = float(com[2] - middle[2])
        """Height of the CoM above the soles in the standing posture [m]."""
        self.standing_com_offset = rotation_z(-_heading_of([sole.rotation for sole in soles])) @ (com - middle)
        """CoM of the standing posture from the soles' midpoint, in their heading frame [m]: where balancing in
        place puts the CoM."""
        free_frame = config.frames.get("torso") or config.frames["base"]
        self._free_frame_id = robot.frame_id(free_frame)
        torso_standing = robot.transform_frame_to_world(free_frame)
        self.free_gripper_offset = {
            side: torso_standing.actInv(robot.transform_frame_to_world(frame)).translation
            for side, frame in self.gripper_frames.items()}
        """Side -> the gripper's position in the torso frame (the base's for a robot file without a torso frame) in
        the standing posture [m]: where a free hand is held while the other hand works."""
        self._reach_limit = {side: self._reach(side) for side in self.sides}
        self._payload: dict[str, float] = {}
        """Side -> the mass its hand holds [kg] (`set_payload`)."""
        self._reach_origin_id = {side: robot.model.getJointId(self._reach_chain(side)[0]) for side in self.sides}
        self.half_length = 0.5 * config.sole_length
        self.half_width = 0.5 * config.sole_width
        self.step_reach = _step_reach(robot)
        """The robot's longest steps (its walking dimensions, as the gait planner resolves them)."""
        self.fall_monitor = FallMonitor(self.params.fall, self.standing_com_height, config.sole_length,
                                        config.sole_width, self.step_reach)
        posture = config.fall_posture
        self.fall_response = FallResponse.DAMPING if posture is None else FallResponse.POSTURE
        if posture is not None:
            self._fall_posture = np.array([posture.joint_positions[n] for n in self.body_joints])
            self._fall_stiffness = np.array([posture.gains[n].stiffness for n in self.body_joints])
            self._fall_damping = np.array([posture.gains[n].damping for n in self.body_joints])
            self._fall_time = posture.time

        full = robot.full_model  # the hand joints' limits are in the model with every joint
        hand_q = {name: full.joints[full.getJointId(name)].idx_q for name in self._hand_names}
        self.grasp = GraspController({side: (hand.joints, hand.synergies) for side, hand in config.hands.items()},
                                     {name: float(full.lowerPositionLimit[i]) for name, i in hand_q.items()},
                                     {name: float(full.upperPositionLimit[i]) for name, i in hand_q.items()},
                                     self.params.grasp, config.standing)

        group_weights = self.params.posture_weights
        self._posture_weight = self.params.posture.weight * np.array(
            [getattr(group_weights, config.group_of.get(n, "arms"), 1.0) for n in self.body_joints])
        self.qp = InverseDynamicsQP(self.nv, BASE_NV, solver, self.params.limits.regularization)
        self.references = ReferenceBook(
            self.params.references, self.params.hand, self.sides, self.standing_com_height, self._standing,
            self._q_lower + self.params.limits.position_margin, self._q_upper - self.params.limits.position_margin,
            {name: self.robot.v_index[name] - BASE_NV for name in self.body_joints}, self._hand_names)
        self.estimator = OdomAnchoredEstimator(robot, self.sole_frames, self.params.estimator.blend_time)
        self._configure_cones()
        self.reset()

    # ------------------------------------------------------------------------------------------------ setup
    def _reach_chain(self, side: str) -> tuple[str, ...]:
        """Joints that move a gripper: the waist's (if the robot has a waist) and its arm's."""
        return self.config.joints("waist") + self.config.joints("arms", side)

    def _reach(self, side: str) -> float:
        """Upper bound of the distance from the first waist joint (the shoulder, without a waist) to the gripper
        frame [m]: the sum of the distances between consecutive joint origins along the waist and the arm, then to
        the gripper (at the neutral configuration; link lengths do not depend on it)."""
        model = self.robot.model
        data = model.createData()
        pin.framesForwardKinematics(model, data, pin.neutral(model))
        chain = self._reach_chain(side)
        points = [data.oMi[model.getJointId(name)].translation for name in chain]
        points.append(data.oMf[self._gripper_ids[side]].translation)
        return float(sum(np.linalg.norm(b - a) for a, b in itertools.pairwise(points)))

    def _configure_cones(self) -> None:
        contact = self.params.contact
        margin = contact.cop_margin
        cone = wrench_cone_matrix(contact.friction / math.sqrt(2.0), self.half_length - margin,
                                  self.half_width - margin)
        least_force = np.array([[0.0, 0.0, -1.0, 0.0, 0.0, 0.0]])
        self._cone = np.vstack((cone, least_force))  # (17, 6)
        self._cone_upper = np.zeros(len(self._cone))
        self._cone_upper[-1] = -contact.min_normal_force_ratio * self.robot.mass * GRAVITY
        self._wrench_weight = np.array([contact.force_weight] * 3 + [contact.torque_weight] * 3)

    def reset(self) -> None:
        """Forget state and references: wait for a base state, then balance in place."""
        self.state = ControllerState.WAITING
        self.estimator.reset()
        self.references.reset()
        self._last_time: float | None = None
        self._now = 0.0
        self._q_target: np.ndarray | None = None
        self._v_target: np.ndarray | None = None
        self._last_command: JointCommandArrays | None = None
        self._measured = self._standing.copy()
        """The last finite measured joint positions [rad] (what a last-resort hold holds)."""
        self._contact_poses: dict[str, pin.SE3] = {}
        self._stance: tuple[str, ...] = self.sides
        self._fall_reason = ""
        self._fall_start: tuple[float, np.ndarray] | None = None
        """(time [s], measured joint positions [rad]) when the fall was declared: where the fall posture starts."""
        self.fall_monitor.reset()
        self._joint_index_cache: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}

    # ------------------------------------------------------------------------------------------------ inputs
    def _reject(self, key: str, error: ControlError) -> None:
        self.references.reject(key, error, self._now)

    def set_base_state(self, base: BaseState) -> None:
        """Odometry: the base pose and twist at `base.time` (odom -> base_link).

        Raises:
            ControlError: non-finite values or a non-unit quaternion (the message is ignored).
        """
        values = np.concatenate((base.position, base.orientation, base.linear_velocity, base.angular_velocity))
        if values.shape != (13,) or not np.isfinite(values).all() or not math.isfinite(base.time):
            error = ControlError("odometry with non-finite or malformed values ignored")
            self._reject("odom", error)
            raise error
        quaternion = values[3:7]
        norm = math.sqrt(quaternion @ quaternion)  # np.linalg.norm's operations, without its overhead
        if abs(norm - 1.0) > 1e-3:
            error = ControlError(f"odometry orientation is not a unit quaternion (norm {norm:.4f}); ignored")
            self._reject("odom", error)
            raise error
        self.estimator.add_odometry(BaseState(base.time, np.asarray(base.position, dtype=float),
                                              np.asarray(base.orientation, dtype=float) / norm,
                                              np.asarray(base.linear_velocity, dtype=float),
                                              np.asarray(base.angular_velocity, dtype=float)))

    def set_gait_reference(self, samples: Sequence[GaitSample]) -> None:
        """A new gait reference replaces the old one; no samples means balance in place on the current soles.

        Raises:
            ControlError: a malformed sample, times that do not increase, a CoM height outside the allowed range,
                or a CoM or swing sole too far from the soles (the last good reference stays in force).
        """
        self.references.set_gait(samples, self._now)

    def set_balance_offset(self, offset: BalanceOffset) -> None:
        """Offset of the CoM reference (see `BalanceOffset`); it stays until replaced.

        Raises:
            ControlError: non-finite or out-of-range offset (the last good one stays in force).
        """
        self.references.set_balance_offset(offset, self._now)

    def set_hand_target(self, side: str, target: HandTarget | None) -> None:
        """Send a gripper frame to a pose in odom (or relative to base_footprint), or release the hand task (None).

        Raises:
            ControlError: unknown side; a non-finite target (the hand task is released); a target out of the
                arm's reach (the last good target stays in force).
        """
        if side not in self.sides:
            raise ControlError(f"no hand on side '{side}'")
        balancing = self.state == ControllerState.BALANCING
        self.references.set_hand_target(side, target, self._now, self.data.oMf[self._gripper_ids[side]],
                                        self.data.oMi[self._reach_origin_id[side]].translation if balancing
                                        else None,
                                        self._reach_limit[side], self._footprint())

    def _footprint(self) -> pin.SE3:
        """base_footprint in odom (REP-120) from the current base estimate: the base on the floor, heading only."""
        base = self.data.oMf[self._base_id]
        return pin.SE3(rotation_z(_heading_of([base.rotation])), np.array([base.translation[0],
                                                                             base.translation[1], 0.0]))

    def set_payload(self, side: str, mass: float) -> None:
        """The mass [kg] a hand holds (0: none), whose weight the balance and the arm's torques then carry.

        Raises:
            ControlError: unknown side, or a mass that is not finite or outside [0, `hand.max_payload`].
        """
        if side not in self.sides:
            raise ControlError(f"no hand on side '{side}'")
        most = self.params.hand.max_payload
        if not isinstance(mass, (int, float)) or not math.isfinite(mass) or not 0.0 <= mass <= most:
            raise ControlError(f"payload must be a mass in [0, {most}] kg, got {mass!r}")
        if mass > 0.0:
            self._payload[side] = float(mass)
        else:
            self._payload.pop(side, None)

    def set_hand_command(self, side: str, command: HandCommand) -> None:
        """Open, power grasp or pinch, with a closure level (see `grasp`).

        Raises:
            ControlError: the robot has no hand on `side`.
        """
        self.grasp.set_command(side, command)

    def set_posture_reference(self, positions: Mapping[str, float]) -> None:
        """Joint positions [rad] that replace the standing posture's for the named joints (none: standing posture).

        Raises:
            ControlError: an unknown joint or a non-finite position (the last good posture stays in force).
        """
        self.references.set_posture(positions, self._now)

    # ------------------------------------------------------------------------------------------------ the cycle
    def _joint_indices(self, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        cached = self._joint_index_cache.get(names)
        if cached is None:
            where = {name: i for i, name in enumerate(names)}
            missing = [n for n in self.body_joints if n not in where]
            if missing:
                raise ControlError(f"joint state lacks joints {missing[:5]}")
            body = np.array([where[n] for n in self.body_joints])
            hands = np.array([where.get(n, -1) for n in self._hand_names])
            cached = (body, hands)
            self._joint_index_cache[names] = cached
        return cached

    def update(self, time: float, names: Sequence[str], positions: Sequence[float],
               velocities: Sequence[float]) -> tuple[JointCommandArrays, CycleReport]:
        """One control cycle: the command that answers the joint state stamped `time`, and a report.

        Args:
            time: stamp of the joint state [s].
            names, positions, velocities: the joint state (any order; hands may be included).

        Raises:
            ControlError: the joint state lacks a body joint or its arrays differ in length (no command can be
                computed; the caller should keep the hardware's last command).
        """
        start = timing.perf_counter()
        self._cpu_start = timing.thread_time()
        names = tuple(names)
        positions = np.asarray(positions, dtype=float)
        velocities = np.asarray(velocities, dtype=float)
        if positions.shape != (len(names),) or velocities.shape != (len(names),):
            raise ControlError(f"joint state arrays have lengths {positions.shape}, {velocities.shape} for "
                               f"{len(names)} names")
        body_index, _ = self._joint_indices(names)
        q_joints = positions[body_index]
        v_joints = velocities[body_index]
        period = 1.0 / self.params.control_rate
        dt = period if self._last_time is None else min(max(time - self._last_time, 0.25 * period), 4.0 * period)
        self._last_time = time
        self._now = time
        report = CycleReport(time=time, state=self.state)
        hand_targets = self.grasp.update(dt)

        if not (np.isfinite(q_joints).all() and np.isfinite(v_joints).all()):
            report.warnings.append("joint state is not finite: repeating the last command")
            command = self._last_command or self._hold_command(self._measured, hand_targets)
            return self._finish(command, report, start)
        self._measured = q_joints

        estimate = self.estimator.estimate(time, q_joints, v_joints, self._stance)
        report.base_source = self.estimator.source
        if estimate is None:
            self.state = ControllerState.WAITING
            report.state = self.state
            report.warnings.append("waiting for odom: holding the standing posture")
            return self._finish(self._hold_command(self._standing, hand_targets), report, start)
        q, v = estimate
        self.robot.update(q, v)
        report.model_update_time = timing.perf_counter() - start

        if self.state == ControllerState.WAITING:
            self._start_balancing(q_joints, v_joints)
        elif self.state == ControllerState.FALLEN:
            if self.fall_monitor.recovered(time, self.data.oMf[self._base_id].rotation, self.data.com[0],
                                           self._soles_in_odom(), self.data.vcom[0]):
                # A reference from before the fall is stale: balance in place until a new one.
                self.references.gait = None
                self._start_balancing(q_joints, v_joints)
                report.warnings.append("upright on both soles again: balancing")
            else:
                report.state = self.state
                report.fall_reason = self._fall_reason
                report.fall_response = self.fall_response
                return self._finish(self._fallen_command(time, q_joints, hand_targets), report, start)

        fall = self.fall_monitor.fall_reason(time, self.data.oMf[self._base_id].rotation, self.data.com[0],
                                             self._soles_in_odom(), self._stance,
                                             self.references.landing_poses(self._stance, time), self.data.vcom[0])
        report.capture_point_outside = self.fall_monitor.capture_outside
        report.capture_point_reach = self.fall_monitor.capture_reach
        if fall:
            self.state = ControllerState.FALLEN
            self._fall_reason = fall
            self._fall_start = (time, q_joints.copy())
            self.fall_monitor.fell()
            report.state = self.state
            report.fall_reason = fall
            report.fall_response = self.fall_response
            report.warnings.append(f"fall detected ({fall}): {self.fall_response.value}")
            return self._finish(self._fallen_command(time, q_joints, hand_targets), report, start)

        build_start = timing.perf_counter()
        contacts, tasks, terms = self._build(time, q, v, dt, report)
        solution = self.qp.solve(terms, contacts, tasks, relax_limits=True)
        report.qp_build_time = timing.perf_counter() - build_start - solution.solve_time
        report.qp_solve_time = solution.solve_time
        report.qp_status = solution.status
        report.qp_relaxed = solution.relaxed
        report.qp_iterations = solution.iterations
        if solution.relaxed and solution.ok:
            report.warnings.append("QP infeasible with torque and joint limits: solved without them")
        if not solution.ok:
            report.warnings.append(f"QP failed ({solution.status}): repeating the last torques")
            command = self._fallback_command(q_joints, v_joints, hand_targets)
            return self._finish(command, report, start)
        self.estimator.loads = {side: float(wrench[2]) for side, wrench in solution.wrenches.items()}
        for side, wrench in solution.wrenches.items():
            report.contact_forces[side] = wrench
            report.centres_of_pressure[side] = centre_of_pressure(wrench)
        command = self._command(solution, q_joints, v_joints, dt, hand_targets)
        return self._finish(command, report, start)

    def _finish(self, command: JointCommandArrays, report: CycleReport, start: float
                ) -> tuple[JointCommandArrays, CycleReport]:
        if not command.is_finite():
            report.warnings.append("computed command was not finite: holding the measured posture instead")
            command = self._hold_command(self._measured, {s: t.copy() for s, t in self.grasp.targets.items()})
        else:
            self._last_command = command
        report.warnings.extend(self.references.rejection_warnings(self._now))
        report.total_time = timing.perf_counter() - start
        report.cpu_time = timing.thread_time() - self._cpu_start
        return command, report

    # ------------------------------------------------------------------------------------------------ states
    def _start_balancing(self, q_joints: np.ndarray, v_joints: np.ndarray) -> None:
        self.state = ControllerState.BALANCING
        self._stance = self.sides if self.references.gait is None else self._stance
        self._contact_poses = {side: self.data.oMf[self._sole_ids[side]].copy() for side in self._stance}
        self._q_target = q_joints.copy()
        self._v_target = v_joints.copy()
        self.references.start_com_blend(self._now, self.data.com[0])
        self.references.release_hands()

    def _soles_in_odom(self) -> dict[str, pin.SE3]:
        return {side: self.data.oMf[self._sole_ids[side]] for side in self.sides}

    # ------------------------------------------------------------------------------------------------ references
    def _heading(self, sides: Sequence[str]) -> float:
        return _heading_of([self.data.oMf[self._sole_ids[side]].rotation for side in sides])

    def _reference(self, time: float) -> tuple[GaitSample | None, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                              np.ndarray]:
        """(gait sample or None, CoM position, velocity, acceleration, base rotation, base angular velocity)."""
        gait = self.references.gait
        sample = gait.sample(time) if gait is not None else None
        if sample is not None:
            stance = tuple(side for side in self.sides if sample.soles[side].in_contact)
        else:
            stance = self.sides
        self._update_stance(stance)
        heading = self._heading(self._stance)
        if sample is None:
            soles = [self.data.oMf[self._sole_ids[side]].translation for side in self._stance]
            base_rotation = rotation_z(heading)
            com = sum(soles) / len(soles) + base_rotation @ self.standing_com_offset
            com_velocity, com_acceleration = np.zeros(3), np.zeros(3)
            base_angular_velocity = np.zeros(3)
        else:
            com, com_velocity, com_acceleration = (sample.com_position.copy(), sample.com_velocity.copy(),
                                                   sample.com_acceleration.copy())
            base_rotation = (rotation_z(heading) if sample.base_orientation is None
                             else quaternion_to_matrix(sample.base_orientation))
            base_angular_velocity = sample.base_angular_velocity
        ground = min(self.data.oMf[self._sole_ids[side]].translation[2] for side in self._stance)
        com, com_velocity, com_acceleration = self.references.shaped_com(time, com, com_velocity, com_acceleration,
                                                                         heading, ground)
        return sample, com, com_velocity, com_acceleration, base_rotation, base_angular_velocity

    def _update_stance(self, stance: tuple[str, ...]) -> None:
        if stance == self._stance:
            return
        for side in stance:
            if side not in self._stance:  # touch-down: hold the sole where it landed
                self._contact_poses[side] = self.data.oMf[self._sole_ids[side]].copy()
        for side in self._stance:
            if side not in stance:
                self._contact_poses.pop(side, None)
        self._stance = stance

    # ------------------------------------------------------------------------------------------------ the QP
    def _acceleration_bounds(self, q_joints: np.ndarray, v_joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        limits = self.params.limits
        T = limits.position_horizon
        # Stop before the position limit within T: q + v T + a T^2 / 2 inside [lower + margin, upper - margin].
        ahead = q_joints + v_joints * T
        upper_q = (self._q_upper_inner - ahead) * (2.0 / (T * T))
        lower_q = (self._q_lower_inner - ahead) * (2.0 / (T * T))
        # Reach at most the scaled velocity limit within the velocity horizon.
        upper_v = (self._v_max - v_joints) * (1.0 / limits.velocity_horizon)
        lower_v = (self._v_min - v_joints) * (1.0 / limits.velocity_horizon)
        a_max = limits.max_joint_acceleration
        upper = np.minimum(np.minimum(upper_q, upper_v), a_max)
        lower = np.maximum(np.maximum(lower_q, lower_v), -a_max)
        # Where the bounds cross (a joint already beyond a limit), take their middle: push back, not fail.
        crossed = lower > upper
        if crossed.any():
            middle = 0.5 * (lower[crossed] + upper[crossed])
            lower[crossed] = middle - 1e-3
            upper[crossed] = middle + 1e-3
        return lower, upper

    def _build(self, time: float, q: np.ndarray, v: np.ndarray, dt: float, report: CycleReport
               ) -> tuple[list[Contact], list[AccelerationTask], DynamicsTerms]:
        params = self.params
        model, data = self.model, self.data
        q_joints, v_joints = q[7:], v[BASE_NV:]
        sample, com_ref, com_vel_ref, com_acc_ref, base_rot_ref, base_omega_ref = self._reference(time)

        contacts: list[Contact] = []
        load = (self.robot.mass + sum(self._payload.values())) * GRAVITY / max(len(self._stance), 1)
        wrench_reference = np.array([0.0, 0.0, load, 0.0, 0.0, 0.0])
        cp = params.contact
        slip_stiffness = cp.stiffness * SLIP_AXES
        for side in self._stance:
            frame_id = self._sole_ids[side]
            J = pin.getFrameJacobian(model, data, frame_id, pin.LOCAL)
            drift = pin.getFrameAcceleration(model, data, frame_id, pin.LOCAL).vector
            desired = np.zeros(6)
            if cp.stiffness > 0.0 or cp.damping > 0.0:
                twist = pin.getFrameVelocity(model, data, frame_id, pin.LOCAL).vector
                error = pin.log6(data.oMf[frame_id].actInv(self._contact_poses[side])).vector
                desired = slip_stiffness * error - cp.damping * twist
            contacts.append(Contact(side, J, drift, desired, self._cone, self._cone_upper, wrench_reference,
                                    self._wrench_weight))

        tasks: list[AccelerationTask] = []
        # Centre of mass.
        com, com_velocity = data.com[0], data.vcom[0]
        com_drift = data.dAg[:3] @ v / self.robot.mass
        gains = params.com
        com_error = com_ref - com
        tasks.append(AccelerationTask(
            "com", data.Jcom, com_acc_ref + gains.stiffness * com_error + gains.damping * (com_vel_ref - com_velocity)
            - com_drift, gains.weight))
        report.task_errors["com"] = _norm(com_error)

        # Base orientation.
        gains = params.base_orientation
        base = data.oMf[self._base_id]
        J_base = pin.getFrameJacobian(model, data, self._base_id, LWA)[3:]
        omega = pin.getFrameVelocity(model, data, self._base_id, LWA).angular
        base_drift = pin.getFrameClassicalAcceleration(model, data, self._base_id, LWA).angular
        orientation_error = pin.log3(base_rot_ref @ base.rotation.T)
        tasks.append(AccelerationTask(
            "base_orientation", J_base,
            gains.stiffness * orientation_error + gains.damping * (base_omega_ref - omega) - base_drift, gains.weight))
        report.task_errors["base_orientation"] = _norm(orientation_error)

        # Swing soles.
        if sample is not None:
            gains = params.swing_foot
            for side in self.sides:
                if side in self._stance:
                    continue
                sole_ref = sample.soles[side]
                frame_id = self._sole_ids[side]
                pose = data.oMf[frame_id]
                error = np.concatenate((sole_ref.position - pose.translation,
                                        pin.log3(quaternion_to_matrix(sole_ref.orientation) @ pose.rotation.T)))
                velocity = pin.getFrameVelocity(model, data, frame_id, LWA).vector
                drift = pin.getFrameClassicalAcceleration(model, data, frame_id, LWA).vector
                tasks.append(AccelerationTask(
                    f"{side}_sole", pin.getFrameJacobian(model, data, frame_id, LWA),
                    sole_ref.acceleration + gains.stiffness * error + gains.damping * (sole_ref.velocity - velocity)
                    - drift, gains.weight))
                report.task_errors[f"{side}_sole"] = _norm(error[:3])

        # Hands.
        hand = params.hand
        hand_weight = None
        footprint = self._footprint() if any(self.references.hand_tracks.values()) else None
        free = []
        for side in self.sides:
            track = self.references.hand_reference(side, dt, self._now, footprint)
            if track is None:
                free.append(side)
                continue
            if hand_weight is None:
                hand_weight = np.array([hand.position_weight] * 3 + [hand.orientation_weight] * 3)
            frame_id = self._gripper_ids[side]
            pose = data.oMf[frame_id]
            error = np.concatenate((track.position - pose.translation, pin.log3(track.orientation @ pose.rotation.T)))
            velocity = pin.getFrameVelocity(model, data, frame_id, LWA).vector
            drift = pin.getFrameClassicalAcceleration(model, data, frame_id, LWA).vector
            tasks.append(AccelerationTask(
                f"{side}_hand", pin.getFrameJacobian(model, data, frame_id, LWA),
                hand.stiffness * error + hand.damping * (track.velocity - velocity) - drift, hand_weight))
            report.task_errors[f"{side}_hand"] = _norm(track.position - pose.translation)
        if hand_weight is not None and hand.free_weight > 0.0:
            for side in free:
                tasks.append(self._free_hand_task(side, report))

        # Angular momentum about the CoM.
        momentum = params.angular_momentum
        if momentum.weight > 0.0:
            angular_momentum = data.Ag[3:] @ v
            tasks.append(AccelerationTask("angular_momentum", data.Ag[3:],
                                          -momentum.damping * angular_momentum - data.dAg[3:] @ v, momentum.weight))

        # Posture.
        gains = params.posture
        posture_error = self.references.posture - q_joints
        tasks.append(AccelerationTask("posture", None, gains.stiffness * posture_error - gains.damping * v_joints,
                                      self._posture_weight, selection=slice(BASE_NV, self.nv)))
        # RMS: np.sqrt(np.mean(posture_error ** 2)), the same operations without np.mean's overhead.
        report.task_errors["posture"] = math.sqrt(float(np.add.reduce(posture_error * posture_error))
                                                  / len(posture_error))

        lower, upper = self._acceleration_bounds(q_joints, v_joints)
        nonlinear = data.nle
        for side, mass in self._payload.items():
            # A held part's weight acts at the gripper: M a + h - J_g^T (0, 0, -m g) = S^T tau + J_c^T f.
            jacobian = pin.getFrameJacobian(model, data, self._gripper_ids[side], LWA)
            nonlinear = nonlinear + (mass * GRAVITY) * jacobian[2]
        terms = DynamicsTerms(data.M, nonlinear, params.limits.torque_scale * self._tau_limit, lower, upper)
        return contacts, tasks, terms

    # ------------------------------------------------------------------------------------------------ commands
    def _command(self, solution: Solution, q_joints: np.ndarray, v_joints: np.ndarray, dt: float,
                 hand_targets: Mapping[str, np.ndarray]) -> JointCommandArrays:
        cmd = self.params.command
        acceleration = solution.acceleration[BASE_NV:]
        leak = 0.0 if cmd.leak_time <= 0.0 else math.exp(-dt / cmd.leak_time)
        q_from = q_joints + leak * (self._q_target - q_joints)
        v_from = v_joints + leak * (self._v_target - v_joints)
        self._v_target = v_from + acceleration * dt
        self._q_target = q_from + v_from * dt + 0.5 * acceleration * dt * dt
        self._q_target = np.minimum(np.maximum(self._q_target, q_joints - MAX_TARGET_DEVIATION),
                                    q_joints + MAX_TARGET_DEVIATION)  # np.clip's result, without its overhead
        effort = solution.torque + cmd.friction_compensation * self._joint_damping * v_joints
        return self._assemble(self._q_target, self._v_target, effort, cmd.stiffness_scale * self._hold_stiffness,
                              cmd.damping_scale * self._hold_damping, hand_targets)

    def _assemble(self, position: np.ndarray, velocity: np.ndarray, effort: np.ndarray, stiffness: np.ndarray,
                  damping: np.ndarray, hand_targets: Mapping[str, np.ndarray]) -> JointCommandArrays:
        grasp = self.params.grasp
        na = self.na
        block = np.empty((5, len(self.command_names)))  # one allocation; the command's arrays are its rows
        block[0, :na] = position
        start = na
        for side in self.hand_joints:
            targets = hand_targets[side]
            block[0, start:start + len(targets)] = targets
            start += len(targets)
        block[1:3, na:] = 0.0
        block[1, :na] = velocity
        block[2, :na] = effort
        block[3, :na] = stiffness
        block[3, na:] = grasp.stiffness_scale * self._hand_stiffness
        block[4, :na] = damping
        block[4, na:] = grasp.damping_scale * self._hand_damping
        return JointCommandArrays(self.command_names, block[0], block[1], block[2], block[3], block[4])

    def _free_hand_task(self, side: str, report: CycleReport) -> AccelerationTask:
        """Holds a free gripper at its standing place relative to the torso while the other hand works: the relative
        position of the gripper and that point of the torso, so that the QP does not swing the free arm as a
        counterweight into the work (a weak posture task let it, 40 cm). Relative to the torso, not the pelvis: the
        waist stays free for the working hand's reach. Position only; the posture task keeps the wrist."""
        model, data = self.model, self.data
        hand = self.params.hand
        frame_id = self._free_frame_id
        torso = data.oMf[frame_id]
        target = torso.act(self.free_gripper_offset[side])
        lever = target - torso.translation
        J_torso = pin.getFrameJacobian(model, data, frame_id, LWA)
        torso_velocity = pin.getFrameVelocity(model, data, frame_id, LWA)
        torso_drift = pin.getFrameClassicalAcceleration(model, data, frame_id, LWA)
        omega = torso_velocity.angular
        # The point of the torso at the target: velocity v + w x r, drift a + alpha x r + w x (w x r).
        J_point = J_torso[:3] - pin.skew(lever) @ J_torso[3:]
        point_velocity = torso_velocity.linear + np.cross(omega, lever)
        point_drift = torso_drift.linear + np.cross(torso_drift.angular, lever) + np.cross(omega,
                                                                                            np.cross(omega, lever))
        gripper_id = self._gripper_ids[side]
        position = data.oMf[gripper_id].translation
        velocity = pin.getFrameVelocity(model, data, gripper_id, LWA).linear
        drift = pin.getFrameClassicalAcceleration(model, data, gripper_id, LWA).linear
        error = target - position
        report.task_errors[f"{side}_hand_free"] = _norm(error)
        return AccelerationTask(
            f"{side}_hand_free", pin.getFrameJacobian(model, data, gripper_id, LWA)[:3] - J_point,
            hand.stiffness * error + hand.damping * (point_velocity - velocity) - (drift - point_drift),
            hand.free_weight)

    def _hold_command(self, posture: np.ndarray, hand_targets: Mapping[str, np.ndarray]) -> JointCommandArrays:
        """Hold a posture with the robot's position-hold gains and no feed-forward (waiting for odom: the standing
        posture, as the hardware holds it before the first command; last resort: the measured posture)."""
        zeros = np.zeros(self.na)
        return self._assemble(posture, zeros, zeros, self._hold_stiffness, self._hold_damping, hand_targets)

    def _fallen_command(self, time: float, q_joints: np.ndarray, hand_targets: Mapping[str, np.ndarray]
                        ) -> JointCommandArrays:
        """The behaviour after a fall: the protective fall posture, else joint damping only."""
        if self.fall_response == FallResponse.POSTURE and self._fall_start is not None:
            return self._fall_posture_command(time, hand_targets)
        return self._damping_command(q_joints, hand_targets)

    def _fall_posture_command(self, time: float, hand_targets: Mapping[str, np.ndarray]) -> JointCommandArrays:
        """Targets from the posture at the fall to the robot file's fall posture over its time (a smooth step:
        zero velocity at both ends), with its compliant gains and no feed-forward torque."""
        since, start = self._fall_start
        s = min(max((time - since) / self._fall_time, 0.0), 1.0) if self._fall_time > 0.0 else 1.0
        blend = s * s * (3.0 - 2.0 * s)
        rate = (6.0 * s * (1.0 - s) / self._fall_time) if 0.0 < s < 1.0 else 0.0
        change = self._fall_posture - start
        zeros = np.zeros(self.na)
        return self._assemble(start + blend * change, rate * change, zeros, self._fall_stiffness,
                              self._fall_damping, hand_targets)

    def _damping_command(self, q_joints: np.ndarray, hand_targets: Mapping[str, np.ndarray]) -> JointCommandArrays:
        """After a fall, for a robot without a fall posture: joint damping only (no stiffness, no feed-forward)."""
        zeros = np.zeros(self.na)
        return self._assemble(q_joints, zeros, zeros, zeros, self.params.fall.damping_scale * self._hold_damping,
                              hand_targets)

    def _fallback_command(self, q_joints: np.ndarray, v_joints: np.ndarray,
                          hand_targets: Mapping[str, np.ndarray]) -> JointCommandArrays:
        """The QP failed: the last good torques, with targets at the measured state."""
        cmd = self.params.command
        last = self._last_command
        effort = last.effort[:self.na] if last is not None else np.zeros(self.na)
        self._q_target, self._v_target = q_joints.copy(), v_joints.copy()
        return self._assemble(q_joints, v_joints, effort, cmd.stiffness_scale * self._hold_stiffness,
                              cmd.damping_scale * self._hold_damping, hand_targets)
