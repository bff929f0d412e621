"""Grasp trials in closed loop: the whole-body controller picks one part off the sorting cell's table in MuJoCo, by
contact and friction only (no weld, no attachment, no moving of the part by the simulator).

A trial (`run_trial`): stand 1 s; the hand goes to the pre-grasp pose above the part and comes down to the grasp
pose (`legion_manipulation.grasps`), closes with the plan's synergy, lifts, holds 2 s; the part's pose given to
the planner is the simulator's ground truth offset by a perception-like error. The trial is judged on the ground
truth: lifted (part centre >= 4 cm above where it rested, after the hold), held (it moved with the hand), robot up.

    result = run_trial(PartSpec("red_cube", "box", (0.05, 0.05, 0.05), 0.1, 0.43, 0.15, 0.3), "left")
    result.success
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pinocchio as pin
import yaml

from legion_common.transforms import quaternion_to_matrix, yaw_from_quaternion
from legion_control import ControllerState, HandTarget
from legion_control.grasp import GraspMode, HandCommand
from legion_control.parameters import WbcParameters
from legion_manipulation.grasps import PartGeometry, PlanningParameters, choose_side, plan_grasp
from legion_manipulation.paths import MinimumJerkPath, PathLimits
from legion_manipulation.tasks import ManipulationParameters, planning_parameters
from legion_manipulation.verify import GraspMonitor, HandState, VerifyParameters

TABLE_HEIGHT = 0.75
"""The sorting cell's table top [m] (config/scenes/sorting_cell.yaml)."""
TABLE = {"name": "work_table", "position": [0.60, 0.0], "yaw": 0.0, "size": [0.50, 1.00, TABLE_HEIGHT]}
"""The sorting cell's table (near edge 0.35 m ahead of the robot)."""
LIFT_SUCCESS = 0.04
"""A part counts as lifted when its centre ends this far above where it rested [m]."""
HELD_TOLERANCE = 0.02
"""A part moved with the hand when its position in the gripper frame changed by less than this from the end of the
closing to the end of the hold [m]."""


@dataclass(frozen=True)
class PartSpec:
    """A part on the table (scene file fields)."""

    label: str
    shape: str
    size: tuple[float, ...]
    mass: float
    x: float
    y: float
    yaw: float = 0.0

    def scene_entry(self) -> dict:
        return {"id": "part", "label": self.label, "shape": self.shape, "size": [float(s) for s in self.size],
                "mass": float(self.mass), "position": [float(self.x), float(self.y)], "yaw": float(self.yaw)}


SORTING_CELL_PARTS = (
    PartSpec("red_cube", "box", (0.05, 0.05, 0.05), 0.10, 0.43, 0.15, 0.3),
    PartSpec("blue_cylinder", "cylinder", (0.025, 0.08), 0.12, 0.43, 0.0),
    PartSpec("green_cube", "box", (0.04, 0.04, 0.04), 0.06, 0.43, -0.15, -0.2),
    PartSpec("yellow_sphere", "sphere", (0.03,), 0.08, 0.53, 0.15),
    PartSpec("red_cube", "box", (0.05, 0.05, 0.05), 0.10, 0.53, 0.0, 0.7),
    PartSpec("blue_cylinder", "cylinder", (0.025, 0.08), 0.12, 0.53, -0.15),
)
"""The six parts of config/scenes/sorting_cell.yaml, in its order."""

REACH_X = (0.40, 0.55)
"""Range of part x (ahead of the robot) of the random layouts [m]: the near half of the table, where the sorting
cell puts its parts and the hands reach without stepping."""
REACH_Y = (0.0, 0.22)
"""Range of |y| of the random layouts on the chosen hand's side [m]."""


def random_part(rng: np.random.Generator) -> PartSpec:
    """A part of a random class in the issue's ranges (cubes 3-6 cm, cylinders r 2-3 cm h 6-10 cm, spheres r 2-3.5 cm,
    0.04-0.3 kg), at a random place within reach on the near half of the table and a random yaw."""
    shape = str(rng.choice(["box", "cylinder", "sphere"]))
    if shape == "box":
        side = rng.uniform(0.03, 0.06)
        size: tuple[float, ...] = (side, side, side)
    elif shape == "cylinder":
        size = (rng.uniform(0.02, 0.03), rng.uniform(0.06, 0.10))
    else:
        size = (rng.uniform(0.02, 0.035),)
    y = rng.uniform(*REACH_Y) * rng.choice([-1.0, 1.0])
    return PartSpec(f"random_{shape}", shape, tuple(round(s, 4) for s in size), round(rng.uniform(0.04, 0.3), 3),
                    round(rng.uniform(*REACH_X), 3), round(y, 3), round(rng.uniform(-math.pi, math.pi), 3))


def write_scene(part: PartSpec, directory: Path) -> Path:
    """A scene file with the sorting cell's table and only `part` on it; returns its path."""
    scene = {"name": "grasp_trial", "robot_start": {"x": 0.0, "y": 0.0, "yaw": 0.0}, "floor": {"friction": 0.9},
             "tables": [dict(TABLE)], "parts": [part.scene_entry()]}
    path = directory / "grasp_trial.yaml"
    path.write_text(yaml.safe_dump(scene))
    return path


@dataclass
class TrialResult:
    """What a trial did (ground truth)."""

    part: PartSpec
    side: str
    success: bool = False
    lifted: float = 0.0
    """Part centre height after the hold, above where it rested [m]."""
    slip: float = math.inf
    """Change of the part's position in the gripper frame from the end of the closing to the end of the hold [m]."""
    fallen: bool = False
    """The controller reported a fall or the base dropped."""
    min_base_height: float = math.inf
    """Lowest base height of the run [m]."""
    max_com_error: float = 0.0
    """Largest CoM task error of the run [m]."""
    phases: dict[str, float] = field(default_factory=dict)
    """Phase -> hand position error at its end [m]."""
    monitor: str = ""
    """What the manipulation node's grasp monitor (`legion_manipulation.verify.GraspMonitor`, stack parameters) makes
    of the hand's joints: `held`, `missed` (it judged the closed hand empty without ever seeing a grip: the node's
    GRASP_MISSED) or `slipped` (it saw a grip, then judged the part gone: SLIPPED), with the phase and time it
    decided in; `no approach` if the hand was held up on every descent."""
    min_grip: float = math.inf
    """Smallest grip (norm of the hand joints' efforts, the monitor's measure) from the end of the closing to the
    end of the hold [N m]."""
    regrasps: int = 0
    """How often the hand was held up on its way down and came down again backed off along the fingers."""
    descent_lag: float = 0.0
    """Largest distance of the gripper behind its path on the way down to the grasp [m] (the manipulation node stops
    a pick whose hand lags by more than `ManipulationParameters.blocked_lag`: held up by the part)."""
    note: str = ""


def _perceived(position: np.ndarray, yaw: float, rng: np.random.Generator, error: float, yaw_error: float,
               offset: Sequence[float] | None = None) -> tuple[np.ndarray, float]:
    """The pose with a perception-like error: a random direction of length `error` [m] (or the fixed `offset` in
    odom [m]), a yaw of +-`yaw_error`."""
    direction = rng.normal(size=3)
    direction /= np.linalg.norm(direction)
    error_vector = error * direction if offset is None else np.asarray(offset, dtype=float)
    return position + error_vector, yaw + yaw_error * rng.choice([-1.0, 1.0])


def run_trial(part: PartSpec, side: str | None = None, seed: int = 0, params: WbcParameters | None = None,
              planning: PlanningParameters | None = None, sim_options=None, position_error: float = 0.003,
              yaw_error: float = math.radians(3.0), hold_time: float = 2.0, odometry: str = "truth",
              perception_offset: Sequence[float] | None = None) -> TrialResult:
    """Pick `part` with the `side` hand (None: the hand on the part's side) and judge it (module docstring).

    Args:
        seed: seed of the perception error.
        params: controller parameters; defaults if None.
        planning: grasp planning tunables; the robot file's (`grasping:`) if None.
        sim_options: legion_sim.model_builder.SimOptions (contact parameters); `grasp_sim_options()` if None.
        position_error, yaw_error: perception error added to the true part pose [m, rad].
        perception_offset: a fixed position error in odom [m] instead of the random one of `position_error` (the
            part seen that far from where it is, e.g. along the fingers).
        hold_time: how long the lifted part is held before it is judged [s].
        odometry: the controller's base state, `truth` or `leg` (the stack's leg odometry, one cycle late), as
            `ClosedLoop` takes it. The part pose stays ground truth (plus the perception error) in odom either way.
    """
    from legion_testing.closed_loop import ClosedLoop

    side = side or choose_side((part.x, part.y), (0.0, 0.0), 0.0)
    result = TrialResult(part, side)
    with tempfile.TemporaryDirectory() as directory:
        loop = ClosedLoop(params=params, scene=str(write_scene(part, Path(directory))),
                          sim_options=sim_options if sim_options is not None else grasp_sim_options(),
                          odometry=odometry, odometry_delay=1 if odometry == "leg" else 0)
    pick(loop.cycle, loop.period, loop.sim, loop.controller, result, seed, planning, position_error, yaw_error,
         hold_time, perception_offset)
    loop.controller.set_hand_command(side, HandCommand(GraspMode.OPEN, 0.0))
    loop.sim.close()
    return result


@dataclass(frozen=True)
class PickedPart:
    """What `pick` leaves: the plan it followed and where the part sits in the gripper frame after the hold."""

    orientation: np.ndarray
    """The gripper's orientation in odom during the pick, quaternion (x, y, z, w)."""
    lift: np.ndarray
    """The lifted gripper position in odom [m]."""
    part_in_gripper: np.ndarray
    """The part centre in the gripper frame after the hold [m]."""


def pick(cycle: Callable[[], object], period: float, sim, controller, result: TrialResult, seed: int = 0,
         planning: PlanningParameters | None = None, position_error: float = 0.003,
         yaw_error: float = math.radians(3.0), hold_time: float = 2.0,
         perception_offset: Sequence[float] | None = None) -> PickedPart:
    """Pick `result.part` (the scene's body `part`) with the `result.side` hand on a running loop and fill `result`
    (lifted, slip, balance; `run_trial`'s judgement). `cycle()` runs one control period of `period` [s]
    (controller + physics, returns the controller's report);
    `sim` is the loop's `legion_sim.simulation.Simulation`, `controller` its `WholeBodyController`. The hand keeps
    its grip and its target at the lift pose (re-sent by the caller from then on)."""
    from legion_common.parameters import from_flat, parameter_specs
    from legion_testing.walking_loop import stack_parameters

    node = stack_parameters("manipulation")
    limits = from_flat(PathLimits, {k.removeprefix("paths."): v for k, v in node.items()
                                    if k in {spec.name for spec in parameter_specs(PathLimits, "paths.")}})
    verify = from_flat(VerifyParameters, {k.removeprefix("verify."): v for k, v in node.items()
                                          if k in {spec.name for spec in parameter_specs(VerifyParameters, "verify.")}})
    defaults = ManipulationParameters()
    descent_speed = float(node.get("descent_speed", defaults.descent_speed))
    blocked_lag = float(node.get("blocked_lag", defaults.blocked_lag))
    max_regrasps = int(node.get("max_regrasps", defaults.max_regrasps))

    rng = np.random.default_rng(seed)
    part, side = result.part, result.side
    body = sim.model.body("part").id
    rest = sim.data.xpos[body].copy()
    gripper = controller.robot.config.sides[side].gripper
    hand_index = [sim.joint_names.index(name) for name in controller.hand_joints[side]]
    monitor: list[GraspMonitor] = []

    phase = ["stand"]

    def step() -> None:
        report = cycle()
        if monitor:
            joints = sim.joint_state()
            state = monitor[0].update(sim.time, joints.position[hand_index], joints.velocity[hand_index],
                                      joints.effort[hand_index])
            if state == HandState.HOLDING:
                result.min_grip = min(result.min_grip, monitor[0].grip)
            if not result.monitor and state == HandState.EMPTY:  # never holding: the node's "closed on nothing"
                verdict = "missed" if math.isinf(result.min_grip) else "slipped"
                result.monitor = f"{verdict} ({phase[0]}, {sim.time:.2f} s)"
        if not result.note and np.linalg.norm(sim.data.xpos[body] - rest) > 0.005:
            result.note = f"part first moved in {phase[0]}"
        result.min_base_height = min(result.min_base_height, float(sim.data.qpos[2]))
        result.max_com_error = max(result.max_com_error, report.task_errors.get("com", 0.0))
        if report.state == ControllerState.FALLEN:
            result.fallen = True

    def hold_for(duration: float, target: np.ndarray | None = None) -> None:
        for _ in range(round(duration / period)):
            if target is not None:
                controller.set_hand_target(side, HandTarget(sim.time, target, orientation))
            step()

    def go_to(name: str, target: np.ndarray, timeout: float, tolerance: float = 0.01, settle: float = 0.2,
              max_speed: float | None = None, stop_lag: float | None = None) -> bool:
        """A minimum-jerk gripper path to `target`, within the manipulation node's limits (as the node streams it).
        False (at once) if the gripper falls more than `stop_lag` behind the path (the node's guard on the way
        down)."""
        phase[0] = name
        deadline = sim.time + timeout
        rotation = quaternion_to_matrix(orientation)
        path_limits = replace(limits, max_speed=min(limits.max_speed, max_speed)) if max_speed else limits
        path = MinimumJerkPath(controller.robot.transform_frame_to_world(gripper), pin.SE3(rotation, target),
                               sim.time, path_limits)
        while sim.time < deadline:
            sample = path.sample(sim.time)[0].translation
            if stop_lag is not None:
                lag = float(np.linalg.norm(sample - controller.robot.frame_position(gripper)))
                result.descent_lag = max(result.descent_lag, lag)
                if lag > stop_lag:
                    return False
            controller.set_hand_target(side, HandTarget(sim.time, sample, orientation))
            step()
            if np.linalg.norm(controller.robot.frame_position(gripper) - target) < tolerance:
                break
        hold_for(settle, target)
        result.phases[name] = float(np.linalg.norm(controller.robot.frame_position(gripper) - target))
        return True

    def part_in_gripper() -> np.ndarray:
        pose = controller.robot.transform_frame_to_world(gripper)
        return pose.rotation.T @ (sim.data.xpos[body] - pose.translation)

    controller.set_hand_command(side, HandCommand(GraspMode.OPEN, 0.0))  # pre-shape while standing
    orientation = None
    hold_for(1.0)  # stand
    w, x, y, z = sim.data.xquat[body]  # MuJoCo's (w, x, y, z)
    true_yaw = yaw_from_quaternion((x, y, z, w))
    seen_position, seen_yaw = _perceived(rest, true_yaw, rng, position_error, yaw_error, perception_offset)
    geometry = PartGeometry(part.shape, tuple(part.size), seen_position, seen_yaw)
    planning = planning or planning_parameters(controller.robot.config)
    plan = plan_grasp(geometry, side, preferred_heading=0.0, params=planning)
    orientation = plan.orientation
    *via, _ = plan.transit(controller.robot.frame_position(gripper))
    for point in via:
        go_to("transit", point, 3.0, tolerance=0.03, settle=0.0)
    go_to("pre_grasp", plan.pre_grasp, 4.0)
    while not go_to("grasp", plan.grasp, 3.0, tolerance=0.005, max_speed=descent_speed, stop_lag=blocked_lag):
        # held up on the way down (the thumb on the part): as the node, back off along the fingers and come down again
        if result.regrasps == max_regrasps:  # the node ends the pick NO_APPROACH; the open hand comes away
            result.monitor = "no approach"
            go_to("retreat", plan.pre_grasp, 3.0)
            result.lifted = float(sim.data.xpos[body][2] - rest[2])
            result.fallen = result.fallen or result.min_base_height < 0.7
            return PickedPart(np.asarray(orientation, dtype=float), np.asarray(plan.lift, dtype=float),
                              part_in_gripper())
        result.regrasps += 1
        plan = plan.backed_off(planning.regrasp_step)
        go_to("pre_grasp", plan.pre_grasp, 4.0)
    controller.set_hand_command(side, HandCommand(plan.mode, plan.closure))
    monitor.append(GraspMonitor(controller.grasp.goal(side), verify))
    phase[0] = "close"
    hold_for(1.0, plan.grasp)
    closed = part_in_gripper()
    go_to("lift", plan.lift, 2.0)
    hold_for(hold_time, plan.lift)
    result.phases["hold"] = float(np.linalg.norm(controller.robot.frame_position(gripper) - plan.lift))
    result.lifted = float(sim.data.xpos[body][2] - rest[2])
    held = part_in_gripper()
    result.slip = float(np.linalg.norm(held - closed))
    result.fallen = result.fallen or result.min_base_height < 0.7
    result.monitor = result.monitor or ("held" if monitor[0].state == HandState.HOLDING else "moving")
    result.success = result.lifted >= LIFT_SUCCESS and result.slip < HELD_TOLERANCE and not result.fallen
    return PickedPart(np.asarray(orientation, dtype=float), np.asarray(plan.lift, dtype=float), held)


def grasp_sim_options(**overrides):
    """The simulator options of the grasp study (legion_sim.model_builder.SimOptions defaults, then `overrides`)."""
    from legion_sim.model_builder import SimOptions

    return replace(SimOptions(), **overrides)
