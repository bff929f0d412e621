"""Carry trials in closed loop: pick a part off the sorting cell's table (`grasp_study.pick`), bring it to the carry
pose the manipulation node uses (`legion_manipulation.tasks.carry_pose`, then held relative to base_footprint), and
walk with it (the gait planner as `WalkingLoop` runs it, with walk_to goals as the stack's navigation sends them),
by contact and friction only: no weld, no attachment.

A trial (`run_carry`) is judged on the ground truth after every motion: the part is still in the hand (its centre
moved less than `CARRY_TOLERANCE` in the gripper frame since the carry began) and the robot is up. It also logs
what explains a slip (`MotionRecord`): the part's drift in the hand, the gripper's tracking error and acceleration,
the hand joints' efforts against their limits, and the hand's contact forces on the part.

    result = run_carry(SORTING_CELL_PARTS[0], "left")
    result.success, [m.held for m in result.motions]
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import mujoco
import numpy as np
import pinocchio as pin

from legion_common.parameters import from_flat, parameter_specs
from legion_common.transforms import matrix_to_quaternion, quaternion_from_yaw, quaternion_to_matrix
from legion_control import HandTarget
from legion_description import load_robot_config
from legion_gait.errors import GaitError
from legion_manipulation.grasps import PlanningParameters
from legion_manipulation.paths import MinimumJerkPath
from legion_manipulation.reach import ArmReach
from legion_manipulation.tasks import ManipulationParameters, carry_pose, planning_parameters
from legion_testing.grasp_study import PartSpec, TrialResult, pick, write_scene

CARRY_TOLERANCE = 0.03
"""A part is still in the hand when its centre moved less than this in the gripper frame since the carry began [m]."""


@dataclass(frozen=True)
class Motion:
    """One walk_to goal relative to where the robot stands (base_footprint axes)."""

    name: str
    forward: float = 0.0
    """[m]"""
    left: float = 0.0
    """[m]"""
    turn: float = 0.0
    """[rad], counter-clockwise."""


CARRY_MOTIONS = (
    Motion("turn_left", turn=math.pi / 2),   # in place, at the table (where one part was lost)
    Motion("forward", forward=1.0),
    Motion("side_left", left=0.5),
    Motion("side_right", left=-0.5),
    Motion("turn_right", turn=-math.pi / 2),
)
"""The study's walk: a 90 degree turn each way, 1 m forward, a 0.5 m sidestep each way (turning first, so that the
forward walk leads along the table and not into it)."""


@dataclass
class MotionRecord:
    """What one motion did (ground truth unless said otherwise)."""

    motion: Motion
    reached: bool = False
    """The planner reported the goal reached."""
    held: bool = False
    """The part is still in the hand at the end of the motion (`CARRY_TOLERANCE`)."""
    drift: float = 0.0
    """Largest distance of the part from where it sat in the gripper frame when the carry began [m]."""
    max_hand_error: float = 0.0
    """Largest position error of the hand task (controller's report) [m]."""
    max_gripper_acceleration: float = 0.0
    """Largest gripper acceleration in odom, 10 ms finite differences, gravity excluded [m/s^2]."""
    max_effort_ratio: float = 0.0
    """Largest |effort| / effort limit over the hand's joints."""
    min_grip_force: float = math.inf
    """Smallest total normal force of the hand's contacts on the part [N]."""
    max_grip_force: float = 0.0
    duration: float = 0.0
    """[s] simulated."""
    trace: list[tuple] = field(default_factory=list)
    """With `run_carry(trace=True)`, every 50 ms: (time [s], planner phase, part offset in the gripper frame from
    the carry's start [m] (3,), hand contact normal force [N], hand task error [m], gripper acceleration [m/s^2])."""


@dataclass
class CarryResult:
    """A carry trial."""

    part: PartSpec
    side: str
    pick: TrialResult
    success: bool = False
    fallen: bool = False
    motions: list[MotionRecord] = field(default_factory=list)
    carry_in_footprint: np.ndarray | None = None
    """The carry pose's gripper position in base_footprint [m]."""
    note: str = ""


def _manipulation_parameters() -> ManipulationParameters:
    """ManipulationParameters from the `manipulation` block of config/stack.yaml."""
    from legion_testing.walking_loop import stack_parameters

    names = {spec.name for spec in parameter_specs(ManipulationParameters)}
    return from_flat(ManipulationParameters, {k: v for k, v in stack_parameters("manipulation").items()
                                              if k in names})


def _estimated_mass(part: PartSpec, params: ManipulationParameters) -> float:
    """The payload the manipulation node sends: the perceived volume x `part_density` (as `Manipulator`)."""
    if part.shape == "box":
        volume = float(np.prod(part.size))
    elif part.shape == "cylinder":
        volume = math.pi * part.size[0] ** 2 * part.size[1]
    else:
        volume = 4.0 / 3.0 * math.pi * part.size[0] ** 3
    return min(params.part_density * volume, params.max_payload)


def run_carry(part: PartSpec, side: str, seed: int = 0, motions: tuple[Motion, ...] = CARRY_MOTIONS,
              wbc_overrides: dict[str, object] | None = None, manipulation: ManipulationParameters | None = None,
              motion_timeout: float = 12.0, trace: bool = False, planning: PlanningParameters | None = None
              ) -> CarryResult:
    """Pick `part` with the `side` hand, go to the carry pose, walk `motions` (module docstring).

    Args:
        seed: seed of the pick's perception error.
        wbc_overrides: flat controller parameters over config/stack.yaml's (`WalkingLoop`).
        manipulation: the manipulation node's parameters (carry pose, paths); config/stack.yaml's if None.
        motion_timeout: a goal not reached within this is given up [s].
        trace: keep `MotionRecord.trace`.
        planning: the grasp planner's hand geometry (the carry's turn of the hand); the robot file's if None.
    """
    from legion_testing.walking_loop import WalkingLoop

    params = manipulation or _manipulation_parameters()
    planning = planning or planning_parameters(load_robot_config("centurion"))
    with tempfile.TemporaryDirectory() as directory:
        walker = WalkingLoop(wbc_overrides=wbc_overrides, scene=str(write_scene(part, Path(directory))))
    loop, sim, controller = walker.loop, walker.loop.sim, walker.loop.controller
    result = CarryResult(part, side, TrialResult(part, side))
    picked = pick(loop.cycle, loop.period, sim, controller, result.pick, seed, planning)
    if not result.pick.success:
        result.note = "pick failed"
        sim.close()
        return result
    controller.set_payload(side, _estimated_mass(part, params))

    robot = controller.robot
    gripper = robot.config.sides[side].gripper
    body = sim.model.body("part").id
    robot_bodies = _robot_bodies(sim.model, body)
    hand_joints = controller.hand_joints[side]
    limits = sim.effort_limits
    limit = np.array([limits[name] for name in hand_joints])
    joint_order = {name: i for i, name in enumerate(sim.joint_state().names)}
    hand_index = np.array([joint_order[name] for name in hand_joints])

    def footprint() -> pin.SE3:
        x, y, yaw = walker.base_pose()
        return pin.SE3(quaternion_to_matrix(quaternion_from_yaw(yaw)), np.array([x, y, 0.0]))

    def gripper_pose() -> pin.SE3:
        return robot.transform_frame_to_world(gripper)

    def part_in_gripper() -> np.ndarray:
        pose = gripper_pose()
        return pose.rotation.T @ (sim.data.xpos[body] - pose.translation)

    # To the carry pose, as the pick task's retreat: a minimum-jerk path in odom, then held in base_footprint.
    lift = pin.SE3(quaternion_to_matrix(picked.orientation), picked.lift)
    goal = carry_pose(ArmReach(robot), params, side, footprint(), lift, planning.carry_rotation(side),
                      planning.carry_fingers(side))
    path = MinimumJerkPath(gripper_pose(), goal, sim.time, params.paths)
    while sim.time < path.start_time + path.duration + 0.5:
        along = path.sample(sim.time)[0]
        controller.set_hand_target(side, HandTarget(sim.time, along.translation, matrix_to_quaternion(along.rotation)))
        _plan_if_due(walker)
        loop.cycle()
    carried = footprint().actInv(goal)
    result.carry_in_footprint = carried.translation.copy()
    carried_orientation = matrix_to_quaternion(carried.rotation)
    start = part_in_gripper()

    positions: list[np.ndarray] = []
    cycles = [0]

    def on_cycle(record: MotionRecord) -> None:
        controller.set_hand_target(side, HandTarget(sim.time, carried.translation, carried_orientation,
                                                    in_base_footprint=True))
        report = loop.cycle()
        record.drift = max(record.drift, float(np.linalg.norm(part_in_gripper() - start)))
        record.max_hand_error = max(record.max_hand_error, report.task_errors.get(f"{side}_hand", 0.0))
        effort = sim.joint_state().effort[hand_index]
        record.max_effort_ratio = max(record.max_effort_ratio, float(np.max(np.abs(effort) / limit)))
        force = _contact_force(sim.model, sim.data, body, robot_bodies)
        record.min_grip_force = min(record.min_grip_force, force)
        record.max_grip_force = max(record.max_grip_force, force)
        positions.append(gripper_pose().translation.copy())
        lag = 5  # cycles: 10 ms at 500 Hz
        if len(positions) > 2 * lag:
            second_difference = positions[-1] - 2 * positions[-1 - lag] + positions[-1 - 2 * lag]
            acceleration = float(np.linalg.norm(second_difference)) / (lag * loop.period) ** 2
            record.max_gripper_acceleration = max(record.max_gripper_acceleration, acceleration)
        else:
            acceleration = 0.0
        cycles[0] += 1
        if trace and cycles[0] % 25 == 0:
            phase = walker.last_output.phase.value if walker.last_output is not None else ""
            record.trace.append((sim.time, phase, part_in_gripper() - start, force,
                                 report.task_errors.get(f"{side}_hand", 0.0), acceleration))
            del positions[0]

    for motion in motions:
        record = MotionRecord(motion)
        result.motions.append(record)
        began = sim.time
        x, y, yaw = walker.base_pose()
        heading = np.array([math.cos(yaw), math.sin(yaw)])
        normal = np.array([-heading[1], heading[0]])
        target = np.array([x, y]) + motion.forward * heading + motion.left * normal
        try:
            progress = walker.planner.set_goal(sim.time, "odom", (float(target[0]), float(target[1]), 0.0),
                                               tuple(quaternion_from_yaw(yaw + motion.turn)))
        except GaitError as error:
            result.note = f"{motion.name}: goal rejected: {error}"
            break
        deadline = sim.time + motion_timeout
        fallen = False
        while sim.time < deadline and not progress.done:
            if not _run(walker, on_cycle, record):
                fallen = True
                break
        # let the robot come to rest before the next goal
        if not fallen:
            settle = sim.time + 1.0
            while sim.time < settle:
                if not _run(walker, on_cycle, record):
                    fallen = True
                    break
        record.reached = progress.status.name == "SUCCEEDED"
        record.duration = sim.time - began
        record.held = bool(np.linalg.norm(part_in_gripper() - start) < CARRY_TOLERANCE)
        result.fallen = fallen or walker.fallen()
        if result.fallen or not record.held:
            break
    result.success = (not result.fallen and len(result.motions) == len(motions)
                      and all(m.held for m in result.motions))
    sim.close()
    return result


def _run(walker, on_cycle, record: MotionRecord) -> bool:
    """One control cycle of the walking loop with the carry's hand target and logging; a planner tick when due.
    Returns False if the robot fell."""
    if _plan_if_due(walker) and walker.fallen():
        return False
    on_cycle(record)
    return True


def _plan_if_due(walker) -> bool:
    """A planner tick if one is due (as `WalkingLoop.run`); returns whether it ran."""
    if walker.time + 1e-9 < walker._next_plan:
        return False
    walker._next_plan = walker.time + walker.planner_period
    walker.plan_tick()
    return True


def _robot_bodies(model: mujoco.MjModel, part_body: int) -> set[int]:
    """Bodies of the robot (those under a body with a free joint that is not the part)."""
    bodies = set()
    for body in range(model.nbody):
        root = int(model.body_rootid[body])
        if root != 0 and root != part_body and root != int(model.body_rootid[part_body]):
            bodies.add(body)
    return bodies


def _contact_force(model: mujoco.MjModel, data: mujoco.MjData, part_body: int, robot_bodies: set[int]) -> float:
    """Total normal force of the robot's contacts on the part [N]."""
    total = 0.0
    wrench = np.zeros(6)
    for i in range(data.ncon):
        contact = data.contact[i]
        a, b = int(model.geom_bodyid[contact.geom1]), int(model.geom_bodyid[contact.geom2])
        if (a == part_body and b in robot_bodies) or (b == part_body and a in robot_bodies):
            mujoco.mj_contactForce(model, data, i, wrench)
            total += abs(float(wrench[0]))
    return total


def summary_row(result: CarryResult) -> str:
    """One line per trial: part, hand, per motion held/drift and the logged extremes."""
    p = result.part
    head = f"{p.label:<14} {p.shape:<8} {p.mass:4.2f} kg {result.side:<5} {'OK  ' if result.success else 'FAIL'}"
    if not result.pick.success:
        return f"{head}  pick failed ({result.pick.note})"
    cells = []
    for m in result.motions:
        reached = "" if m.reached else " (goal not reached)"
        cells.append(f"{m.motion.name}:{'held' if m.held else 'LOST'}{reached} {m.duration:.1f} s "
                     f"drift {m.drift * 100:.1f} cm "
                     f"err {m.max_hand_error * 100:.1f} cm acc {m.max_gripper_acceleration:.1f} "
                     f"eff {m.max_effort_ratio:.2f} grip {m.min_grip_force:.1f}-{m.max_grip_force:.1f} N")
    return head + ("  FALLEN" if result.fallen else "") + "\n    " + "\n    ".join(cells) + (
        f"\n    {result.note}" if result.note else "")

