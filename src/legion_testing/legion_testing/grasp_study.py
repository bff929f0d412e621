"""Grasp trials in closed loop: the whole-body controller picks one part off the sorting cell's table in MuJoCo, by
contact and friction only (no weld, no attachment, no moving of the part by the simulator).

A trial (`run_trial`): stand 1 s; the hand goes to the pre-grasp pose above the part and comes down to the grasp
pose (`legion_manipulation.grasps`), closes with the plan's synergy, lifts, holds 2 s; the part's pose given to
the planner is the simulator's ground truth offset by a perception-like error. The trial is judged on the ground
truth: lifted (part centre >= 4 cm above where it rested, after the hold), held (it moved with the hand), robot up.

A trial may have neighbouring parts on the table (`random_layout`: the picked part plus others, seeded, spaced as
the sorting cell spaces them or closer): the hand and grasp are then chosen as the manipulation node chooses them
(`legion_manipulation.tasks.choose_grasp`: finger headings whose closing sweep clears the other parts' perceived
footprints, the least turned first, each checked for reach by inverse kinematics), and the neighbours are judged
too: moved more than `NEIGHBOUR_TOLERANCE` or tipped over.

    result = run_trial(PartSpec("red_cube", "box", (0.05, 0.05, 0.05), 0.1, 0.43, 0.15, 0.3), "left")
    result.success
    layout = random_layout(np.random.default_rng(3))
    result = run_trial(layout.part, neighbours=layout.neighbours)
    result.success, result.heading, result.clear, result.neighbours_disturbed
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
from legion_manipulation.grasps import PartGeometry, PlanningParameters, choose_side, plan_grasp, sweep_clearance
from legion_manipulation.paths import MinimumJerkPath, PathLimits
from legion_manipulation.reach import ArmReach
from legion_manipulation.tasks import (
    ManipulationParameters,
    PerceivedObject,
    choose_grasp,
    neighbour_footprints,
    planning_parameters,
)
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
NEIGHBOUR_TOLERANCE = 0.01
"""A neighbouring part counts as disturbed when it ends the trial farther than this from where it rested [m] (or
tipped over)."""
TIPPED = math.radians(30.0)
"""A neighbouring box or cylinder counts as tipped over when its axis ends the trial this far from the vertical."""


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

    @property
    def footprint_radius(self) -> float:
        """Radius of the circle around the part's footprint on the table [m] (box: half its diagonal)."""
        if self.shape == "box":
            return 0.5 * math.hypot(self.size[0], self.size[1])
        return float(self.size[0])

    @property
    def extent(self) -> tuple[float, float, float]:
        """Extent along the part's own x, y, z [m], as perception reports a part's size."""
        if self.shape == "box":
            return (float(self.size[0]), float(self.size[1]), float(self.size[2]))
        if self.shape == "cylinder":
            return (2.0 * self.size[0], 2.0 * self.size[0], float(self.size[1]))
        return (2.0 * self.size[0],) * 3

    def scene_entry(self, part_id: str = "part") -> dict:
        return {"id": part_id, "label": self.label, "shape": self.shape, "size": [float(s) for s in self.size],
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


LAYOUT_X = (0.40, 0.60)
"""Range of x of the neighbouring parts of a random layout [m]: the sorting cell's two rows (0.43, 0.53) and a
little beyond, on the near half of the table."""
LAYOUT_Y = 0.25
"""Largest |y| of the neighbouring parts of a random layout [m] (either side of the robot)."""


@dataclass(frozen=True)
class Layout:
    """A table layout: the part to pick and the others around it."""

    part: PartSpec
    neighbours: tuple[PartSpec, ...]


def spacing_ok(a: PartSpec, b: PartSpec, min_spacing: float, min_gap: float) -> bool:
    """Whether two parts are far enough apart: centres at least `min_spacing` apart and their footprint circles at
    least `min_gap` apart [m]."""
    distance = math.hypot(a.x - b.x, a.y - b.y)
    return distance >= max(min_spacing, a.footprint_radius + b.footprint_radius + min_gap)


def random_layout(rng: np.random.Generator, neighbours: int | tuple[int, int] = (3, 5), min_spacing: float = 0.08,
                  min_gap: float = 0.03, attempts: int = 200) -> Layout:
    """The picked part (`random_part`, drawn first: the same part as the single-part study of the same seed) and
    `neighbours` others (a count, or an inclusive range drawn from) of random classes, sizes, masses and yaws in the
    same ranges, at x in `LAYOUT_X`, |y| <= `LAYOUT_Y`, each at least `min_spacing` [m] from every other part's
    centre and `min_gap` [m] between footprint circles (`spacing_ok`; the sorting cell spaces its parts 10-15 cm
    apart). A neighbour that finds no free place in `attempts` draws is left out (the layout has fewer)."""
    part = random_part(rng)
    count = neighbours if isinstance(neighbours, int) else int(rng.integers(neighbours[0], neighbours[1] + 1))
    placed: list[PartSpec] = []
    for _ in range(count):
        drawn = random_part(rng)  # class, size, mass and yaw
        for _attempt in range(attempts):
            candidate = replace(drawn, x=round(float(rng.uniform(*LAYOUT_X)), 3),
                                y=round(float(rng.uniform(-LAYOUT_Y, LAYOUT_Y)), 3))
            if all(spacing_ok(candidate, other, min_spacing, min_gap) for other in (part, *placed)):
                placed.append(candidate)
                break
    return Layout(part, tuple(placed))


def neighbour_id(index: int) -> str:
    """Scene id of the index-th neighbouring part (the picked part is `part`)."""
    return f"neighbour_{index}"


def write_scene(part: PartSpec, directory: Path, neighbours: Sequence[PartSpec] = ()) -> Path:
    """A scene file with the sorting cell's table, `part` (id `part`) and the `neighbours` (`neighbour_id`) on it;
    returns its path."""
    scene = {"name": "grasp_trial", "robot_start": {"x": 0.0, "y": 0.0, "yaw": 0.0}, "floor": {"friction": 0.9},
             "tables": [dict(TABLE)],
             "parts": [part.scene_entry()] + [p.scene_entry(neighbour_id(i)) for i, p in enumerate(neighbours)]}
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
    neighbours: tuple[PartSpec, ...] = ()
    """The other parts on the table."""
    heading: float = math.nan
    """Direction of the fingers the grasp was planned with about the vertical [rad] (0: the robot's heading)."""
    sweep_gap: float = math.inf
    """Least gap between the closing fingers' sweep and the other parts' perceived footprints at that heading [m]
    (`legion_manipulation.grasps.sweep_clearance`); inf without neighbours."""
    clear: bool = True
    """The sweep kept the planner's `neighbour_clearance` from every neighbour (as perceived)."""
    reachable: bool = True
    """The chosen grasp passed the node's reach check (`ArmReach`); False: no hand reached one, the trial went on
    with the robot-heading grasp (the node would have walked)."""
    neighbour_shift: tuple[float, ...] = ()
    """Per neighbour, its distance from where it rested at the end of the trial [m] (ground truth)."""
    neighbour_tipped: tuple[bool, ...] = ()
    """Per neighbour, whether it ended tipped over (box or cylinder axis more than `TIPPED` from the vertical)."""
    neighbour_note: str = ""
    """When a neighbour first moved more than `NEIGHBOUR_TOLERANCE`."""

    @property
    def neighbours_disturbed(self) -> int:
        """Neighbours that ended more than `NEIGHBOUR_TOLERANCE` from where they rested or tipped over."""
        return sum(shift > NEIGHBOUR_TOLERANCE or tipped
                   for shift, tipped in zip(self.neighbour_shift, self.neighbour_tipped, strict=True))

    @property
    def failure(self) -> str:
        """Category of a failed trial ("" if it succeeded): `fall`; `no approach` (held up on every descent);
        `missed` (the grasp monitor never saw a grip: the node's GRASP_MISSED); `dropped` (seen gripped, not lifted
        4 cm at the end: SLIPPED); `not lifted` (otherwise below 4 cm); `slid in hand` (lifted, but moved 2 cm or
        more in the hand)."""
        if self.success:
            return ""
        if self.fallen:
            return "fall"
        if self.monitor == "no approach":
            return "no approach"
        if self.monitor.startswith("missed"):
            return "missed"
        if self.lifted < LIFT_SUCCESS:
            return "dropped" if self.monitor.startswith("slipped") else "not lifted"
        return "slid in hand"


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
              perception_offset: Sequence[float] | None = None, neighbours: Sequence[PartSpec] = ()) -> TrialResult:
    """Pick `part` with the `side` hand (None: the hand the manipulation node would choose, the one on the part's
    side first) and judge it (module docstring).

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
        neighbours: other parts on the table (`random_layout`); perceived with the same error as the part.
    """
    from legion_testing.closed_loop import ClosedLoop

    if side is None:  # the node's order: the hand whose shoulder is nearer to the part first
        nearer = choose_side((part.x, part.y), (0.0, 0.0), 0.0)
        sides: tuple[str, ...] = (nearer, "right" if nearer == "left" else "left")
    else:
        sides = (side,)
    result = TrialResult(part, sides[0], neighbours=tuple(neighbours))
    with tempfile.TemporaryDirectory() as directory:
        loop = ClosedLoop(params=params, scene=str(write_scene(part, Path(directory), neighbours)),
                          sim_options=sim_options if sim_options is not None else grasp_sim_options(),
                          odometry=odometry, odometry_delay=1 if odometry == "leg" else 0)
    pick(loop.cycle, loop.period, loop.sim, loop.controller, result, seed, planning, position_error, yaw_error,
         hold_time, perception_offset, sides=sides)
    loop.controller.set_hand_command(result.side, HandCommand(GraspMode.OPEN, 0.0))
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
         perception_offset: Sequence[float] | None = None, sides: Sequence[str] | None = None) -> PickedPart:
    """Pick `result.part` (the scene's body `part`) on a running loop and fill `result` (lifted, slip, balance,
    neighbours; `run_trial`'s judgement). The hand and grasp are the manipulation node's choice
    (`legion_manipulation.tasks.choose_grasp`) among `sides` (default: `result.side` alone), with the other parts
    of `result.neighbours` (the scene's `neighbour_id` bodies) as perceived; `result.side` is set to the hand
    chosen. `cycle()` runs one control period of `period` [s] (controller + physics, returns the controller's
    report); `sim` is the loop's `legion_sim.simulation.Simulation`, `controller` its `WholeBodyController`. The
    hand keeps its grip and its target at the lift pose (re-sent by the caller from then on)."""
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
    part = result.part
    sides = tuple(sides or (result.side,))
    side = sides[0]
    body = sim.model.body("part").id
    rest = sim.data.xpos[body].copy()
    others = [sim.model.body(neighbour_id(i)).id for i in range(len(result.neighbours))]
    others_rest = [sim.data.xpos[b].copy() for b in others]
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
        if not result.neighbour_note:
            for i, (b, at) in enumerate(zip(others, others_rest, strict=True)):
                if np.linalg.norm(sim.data.xpos[b] - at) > NEIGHBOUR_TOLERANCE:
                    result.neighbour_note = f"{neighbour_id(i)} first moved in {phase[0]} ({sim.time:.2f} s)"
                    break
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

    def judge_neighbours() -> None:
        result.neighbour_shift = tuple(float(np.linalg.norm(sim.data.xpos[b] - at))
                                       for b, at in zip(others, others_rest, strict=True))
        result.neighbour_tipped = tuple(
            spec.shape != "sphere" and float(sim.data.xmat[b].reshape(3, 3)[2, 2]) < math.cos(TIPPED)
            for b, spec in zip(others, result.neighbours, strict=True))

    def yaw_of(index: int) -> float:
        w, x, y, z = sim.data.xquat[index]  # MuJoCo's (w, x, y, z)
        return yaw_from_quaternion((x, y, z, w))

    for hand in sides:
        controller.set_hand_command(hand, HandCommand(GraspMode.OPEN, 0.0))  # pre-shape while standing
    orientation = None
    hold_for(1.0)  # stand
    seen_position, seen_yaw = _perceived(rest, yaw_of(body), rng, position_error, yaw_error, perception_offset)
    geometry = PartGeometry(part.shape, tuple(part.size), seen_position, seen_yaw)
    seen_others = []
    for i, (b, spec) in enumerate(zip(others, result.neighbours, strict=True)):
        position, yaw = _perceived(sim.data.xpos[b].copy(), yaw_of(b), rng, position_error, yaw_error)
        seen_others.append(PerceivedObject(neighbour_id(i), spec.label, position, yaw, np.array(spec.extent)))
    footprints = neighbour_footprints(
        seen_others, PerceivedObject("part", part.label, seen_position, seen_yaw, np.array(part.extent)))
    planning = planning or planning_parameters(controller.robot.config)
    # the manipulation node's choice of hand and heading, from the robot's configuration as the controller has it
    q = controller.robot.q.copy()
    heading = yaw_from_quaternion(q[3:7])
    chosen = choose_grasp(ArmReach(controller.robot), q, geometry, sides, heading, footprints, planning)
    if chosen is None:  # no hand reaches a grasp from here (the node would walk): the robot-heading grasp
        result.reachable = False
        plan = plan_grasp(geometry, side, preferred_heading=heading, params=planning)
    else:
        side, plan = chosen
    result.side = side
    gripper = controller.robot.config.sides[side].gripper
    hand_index = [sim.joint_names.index(name) for name in controller.hand_joints[side]]
    result.heading = plan.heading
    result.sweep_gap = sweep_clearance(geometry, side, plan.heading, footprints, planning)
    result.clear = result.sweep_gap >= planning.neighbour_clearance
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
            judge_neighbours()
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
    judge_neighbours()
    return PickedPart(np.asarray(orientation, dtype=float), np.asarray(plan.lift, dtype=float), held)


def grasp_sim_options(**overrides):
    """The simulator options of the grasp study (legion_sim.model_builder.SimOptions defaults, then `overrides`)."""
    from legion_sim.model_builder import SimOptions

    return replace(SimOptions(), **overrides)
