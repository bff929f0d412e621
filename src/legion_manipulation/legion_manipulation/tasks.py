"""Pick and place as state machines, without ROS: what the `manipulation` node runs at every tick.

`Manipulator` holds what each hand holds and runs one task at a time. The node feeds it, at every tick, the robot's
estimated state (`Inputs`: configuration, hand joints, perceived objects, stop flag) and sends out what it returns
(`Outputs`: gripper targets for the whole-body controller's hand tasks, hand commands, payloads, a walk request,
feedback and, at the end, a `TaskResult`). Nothing here reads ground truth or the scene file: parts and containers
come from perception.

Pick (`start_pick`): find the part (by id, or the nearest of a label); choose the hand and the grasp
(`legion_manipulation.grasps`: top-down, thumb wall); check by inverse kinematics (`reach.ArmReach`) that the hand
reaches the pre-grasp and grasp poses, else ask to walk to a standing pose from which it does (once) or fail
OUT_OF_REACH with that pose; then the phases

    approach (minimum-jerk paths to the pre-grasp pose, hand open: a hand lower than it rises straight up first)
    -> pre-shape (settle) -> approach (down to the grasp;
    a hand held up on the way, its thumb on the part, comes down again backed off) -> close (the grasp's synergy)
    -> verify (the hand's joints: blocked fingers hold, a closed hand missed)
    -> lift (payload set; perception: the part rose) -> retreat (the carry pose, held relative to the base)

Place (`start_place`): the target is a part-centre pose in odom or a container that perception reports (the part is
released above its floor); the phases are transport (walk if needed, then above the target with clearance), lower,
release (hand open, payload cleared), retreat (up, then the hand task is released), verify (perception sees the part
at the target or inside the container).

A cancel, a stop (e-stop, fall), stale perception or a slip ends the task with its result code; the hand keeps what it
holds and the arm retreats to the carry pose (or, empty, releases its task so the posture takes it back).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pinocchio as pin

from legion_common.parameters import param
from legion_common.transforms import quaternion_to_matrix, rotation_z, wrap_angle, yaw_from_matrix
from legion_control.errors import ControlError
from legion_control.grasp import GraspMode
from legion_description import DescriptionError, RobotConfig
from legion_manipulation.grasps import (
    GraspPlan,
    PartGeometry,
    PlanningParameters,
    candidate_headings,
    plan_grasp,
    shape_from_label,
    sweep_clearance,
)
from legion_manipulation.paths import MinimumJerkPath, PathClock, PathLimits
from legion_manipulation.reach import ArmReach
from legion_manipulation.verify import GraspMonitor, HandState, VerifyParameters
from legion_model import RobotModel


class Code(enum.IntEnum):
    """Result codes of legion_interfaces/action/Pick and Place."""

    SUCCEEDED = 0
    NOT_FOUND = 1
    OUT_OF_REACH = 2
    NO_APPROACH = 3
    GRASP_MISSED = 4
    SLIPPED = 5
    TIMED_OUT = 6
    CANCELLED = 7
    STOPPED = 8
    BUSY = 9
    INVALID = 10


CONTAINER_WORDS = ("bin", "box_container", "tray")


@dataclass(frozen=True)
class PerceivedObject:
    """One object of `perception/objects`, in odom."""

    id: str
    label: str
    position: np.ndarray
    """Centre [m] (a container: the centre of its opening).  # (3,)"""
    yaw: float
    size: np.ndarray
    """Extent along the object's own x, y, z [m].  # (3,)"""

    @property
    def is_container(self) -> bool:
        return self.label.rsplit("_", 1)[-1] in CONTAINER_WORDS

    def geometry(self) -> PartGeometry | None:
        """The part as the grasp planner takes it, or None for a label of unknown shape."""
        try:
            shape = shape_from_label(self.label)
        except ControlError:
            return None
        x, y, z = (float(s) for s in self.size)
        size = {"box": (x, y, z), "cylinder": (0.5 * max(x, y), z), "sphere": (0.5 * max(x, y, z),)}[shape]
        return PartGeometry(shape, size, np.asarray(self.position, dtype=float), self.yaw)


@dataclass
class Inputs:
    """What the node knows at one tick."""

    time: float
    """[s] of the state's stamp."""
    q: np.ndarray
    """Robot configuration of the hands-locked model (estimated base pose and body joints).  # (nq,)"""
    hand_positions: dict[str, np.ndarray]
    """Side -> its hand's joint positions [rad], in the robot file's hand joint order."""
    hand_velocities: dict[str, np.ndarray]
    hand_efforts: dict[str, np.ndarray]
    """Side -> its hand's joint efforts [N m] (the servos' torques)."""
    objects: dict[str, PerceivedObject]
    """Id -> the newest perceived objects."""
    objects_time: float
    """[s] stamp of the newest `perception/objects` (-inf before the first)."""
    stopped: bool = False
    """E-stop latched or the robot fell."""
    speed_scale: float = 1.0
    """The safety node's factor on arm speed, 0..1: gripper paths run this much slower; 0 holds them."""


@dataclass
class TaskResult:
    code: Code
    message: str
    side: str = ""
    object_id: str = ""
    standing_pose: tuple[float, float, float] | None = None
    verified: bool = False

    @property
    def success(self) -> bool:
        return self.code == Code.SUCCEEDED


@dataclass
class Outputs:
    """What the node sends after one tick."""

    targets: dict[str, pin.SE3 | None] = field(default_factory=dict)
    """Side -> gripper target in odom to stream, or None to release that hand task."""
    carried: dict[str, pin.SE3] = field(default_factory=dict)
    """Side -> gripper target relative to base_footprint (the carry pose, which moves with the robot)."""
    commands: dict[str, tuple[GraspMode, float]] = field(default_factory=dict)
    """Side -> hand command to send (only when it changes)."""
    payloads: dict[str, float] = field(default_factory=dict)
    """Side -> held mass [kg] to send (only when it changes)."""
    walk_to: tuple[float, float, float] | None = None
    """A base_footprint pose (x, y, yaw) in odom to walk to (sent once; `walk_finished` reports the end)."""
    phase: str = ""
    side: str = ""
    distance_remaining: float = 0.0
    result: TaskResult | None = None


@dataclass(frozen=True)
class ManipulationParameters:
    paths: PathLimits = field(default_factory=PathLimits)
    verify: VerifyParameters = field(default_factory=VerifyParameters)
    perception_timeout: float = param(
        1.0, "Older perception is stale: a pick or place does not start on it.", unit="s", low=0.0, high=1000.0
    )
    pre_shape_time: float = param(0.4, "The open hand settles at the pre-grasp pose.", unit="s", low=0.0, high=1000.0)
    close_timeout: float = param(
        3.0, "The hand has settled on a part (or on nothing) within this.", unit="s", low=0.0, high=1000.0
    )
    lift_check: float = param(
        0.03,
        "Perception sees the held part with the hand when it reports a part of its label this close to where the "
        "hand carries it.",
        unit="m",
        low=0.0,
        high=1000.0,
    )
    lift_check_time: float = param(
        1.5, "After the retreat, perception has this long to see the part with the hand (a confirmation).",
        unit="s", low=0.0, high=1000.0
    )
    carry_reach: float = param(
        0.35, "A carried part is this fraction of the arm's length ahead of the shoulder.", low=0.0, high=1.0
    )
    carry_up: float = param(
        0.05, "A carried part is held this much higher than where it was lifted to.", unit="m", low=0.0, high=1.0
    )
    place_clearance: float = param(
        0.06,
        "The part's bottom passes this far above a container's rim (or the target) before it is lowered.",
        unit="m",
        low=0.0,
        high=1000.0,
    )
    release_drop: float = param(
        0.015,
        "The part is released this far above the container's floor (or the target).",
        unit="m",
        low=0.0,
        high=1000.0,
    )
    max_release_raise: float = param(
        0.24, "Into a container, the part may be released up to this much higher than `rim_clearance` over the rim "
        "when the hand does not reach lower.", unit="m", low=0.0, high=1.0
    )
    descent_speed: float = param(
        0.12, "The open hand comes down from the pre-grasp pose around the part at most this fast.", unit="m/s",
        low=0.01, high=2.0
    )
    blocked_lag: float = param(
        0.025,
        "On the way down onto a part, a gripper (its estimated position) this far behind its path is held up by "
        "something: the thumb on the part's near edge (the part is not where perception put it) or the table. The "
        "descent stops before the hand levers the part over or its reaction pushes the robot back; the hand comes "
        "down again backed off along the fingers (`max_regrasps` times), then the pick ends NO_APPROACH. The path "
        "normally leads the gripper by under 1 cm (the palm presses a few mm onto the part's top).",
        unit="m", low=0.005, high=1.0
    )
    max_regrasps: int = param(
        2, "A hand held up on its way down comes down again, backed off by the robot file's `regrasp_step` along the "
        "fingers, at most this many times.", low=0, high=10
    )
    footprint_radius: float = param(
        0.35, "A standing pose keeps obstacles of perception's grid this far from the base (the body and arms).",
        unit="m", low=0.0, high=2.0
    )
    rim_clearance: float = param(
        0.02, "A part put into a container is released with its bottom this far above the rim.", unit="m", low=0.0,
        high=0.5
    )
    release_time: float = param(0.6, "The hand opens for this long before retreating.", unit="s", low=0.0, high=1000.0)
    retreat_back: float = param(
        0.08, "After an aborted pick, the empty hand comes this much back towards the robot ...", unit="m", low=0.0,
        high=1.0
    )
    retreat_up: float = param(0.10, "The empty hand rises this far after releasing.", unit="m", low=0.0, high=1000.0)
    verify_time: float = param(2.0, "Perception has this long to see the placed part.", unit="s", low=0.0, high=1000.0)
    place_tolerance: float = param(
        0.05,
        "A part placed at a pose (not a container) must be seen within this of it.",
        unit="m",
        low=0.0,
        high=1000.0,
    )
    part_density: float = param(
        600.0,
        "The held part's mass is estimated from its perceived volume times this (the payload).",
        unit="kg/m^3",
        low=1.0,
        high=20000.0,
    )
    max_payload: float = param(1.5, "Estimated payloads are capped here.", unit="kg", low=0.0, high=1000.0)
    task_timeout: float = param(
        60.0, "A task that takes longer is aborted (TIMED_OUT).", unit="s", low=1.0, high=3600.0
    )


def carry_pose(reach: ArmReach, params: ManipulationParameters, side: str, base: pin.SE3, held: pin.SE3,
               turn: np.ndarray | None = None, fingers: float | None = None) -> pin.SE3:
    """Where a hand carries a part (odom): close in front of its shoulder (`carry_reach` x the arm's length ahead
    of it, in line with it), `carry_up` above where it is now (`held`, the gripper pose in odom): inside the circle
    the robot's front sweeps when it turns, so that walking does not sweep the part over a table it stands at. The
    hand is first turned about the vertical so that its fingers (gripper z) point `fingers` from the base's heading
    (`PlanningParameters.carry_fingers`; None: as they are), then by `turn` in the gripper frame
    (`PlanningParameters.carry_rotation`; None: not). `base` is base_footprint in odom."""
    shoulder = reach.shoulder_in_base[side]
    ahead = shoulder[0] + params.carry_reach * reach.arm_length[side]
    position = base.act(np.array([ahead, shoulder[1], 0.0]))
    position[2] = held.translation[2] + params.carry_up
    rotation = held.rotation
    if fingers is not None:
        along = base.rotation.T @ rotation[:, 2]
        if math.hypot(along[0], along[1]) > 1e-6:  # fingers pointing straight up or down have no heading to turn
            rotation = rotation_z(wrap_angle(fingers - math.atan2(along[1], along[0]))) @ rotation
    return pin.SE3(rotation if turn is None else rotation @ turn, position)


def planning_parameters(config: RobotConfig) -> PlanningParameters:
    """The grasp planner's hand geometry from the robot file's `grasping:` block (defaults where it is silent).

    Raises:
        DescriptionError: a key the planner does not know, naming the robot file.
    """
    known = {f.name for f in dataclasses.fields(PlanningParameters)}
    unknown = sorted(set(config.grasping) - known)
    if unknown:
        raise DescriptionError(f"{config.source}: 'grasping' has unknown key(s) {unknown}; expected some of "
                               f"{sorted(known)}")
    return PlanningParameters(**config.grasping)


def neighbour_footprints(objects: Iterable[PerceivedObject], part: PerceivedObject
                         ) -> list[tuple[np.ndarray, float, float]]:
    """The perceived parts other than `part` (no containers, finite poses and sizes), as (centre in odom, radius of
    their footprint circle: half the diagonal of their x-y extent, height of their top in odom: centre plus half
    their z extent): what the closing fingers, and for a part reaching above the hand's underside the thumb and the
    wrist, must not strike (`grasps.sweep_clearance`). A track centred inside the part's own footprint is the part
    itself seen twice (perception kept a second track with another label: a red cube also reported as
    `red_cylinder_3` in the sorting shift), not a neighbour: with it, every heading would count as blocked."""
    own = 0.5 * math.hypot(float(part.size[0]), float(part.size[1]))
    return [(o.position, 0.5 * math.hypot(float(o.size[0]), float(o.size[1])),
             float(o.position[2]) + 0.5 * float(o.size[2]))
            for o in objects
            if o.id != part.id and not o.is_container and np.isfinite(o.position).all()
            and np.isfinite(o.size).all() and float(np.linalg.norm(o.position[:2] - part.position[:2])) > own]


def reachable_grasp(reach: ArmReach, q: np.ndarray, part: PartGeometry, side: str, heading: float,
                    neighbours: Sequence[tuple], planning: PlanningParameters,
                    clear_only: bool = False) -> GraspPlan | None:
    """The first grasp of `candidate_headings` (the closing fingers clear of `neighbours`, the least turned from
    `heading` first; with `clear_only`, only those) whose pre-grasp and grasp poses the `side` hand reaches from
    configuration `q` (`reach`: inverse kinematics); None if none does.

    Raises:
        ControlError: a part the hand cannot take (too wide, bad sizes).
    """
    for candidate in candidate_headings(part, side, heading, neighbours, planning):
        if clear_only and neighbours and (sweep_clearance(part, side, candidate, neighbours, planning)
                                          < planning.neighbour_clearance):
            continue
        plan = plan_grasp(part, side, candidate, planning)
        if all(reach.solve(side, q, pin.SE3(plan.rotation, point)).reachable for point in (plan.pre_grasp, plan.grasp)):
            return plan
    return None


def choose_grasp(reach: ArmReach, q: np.ndarray, part: PartGeometry, sides: Sequence[str], heading: float,
                 neighbours: Sequence[tuple], planning: PlanningParameters
                 ) -> tuple[str, GraspPlan] | None:
    """The pick's hand and grasp, as the manipulation node chooses them: the first of `sides` (in order) with a
    reachable grasp whose hand misses the neighbouring parts (`reachable_grasp`); else, of every side's clearest
    reachable grasp, the clearest (`sweep_clearance`; the first of `sides` on a tie); None if no hand reaches one
    from `q`.

    Raises:
        ControlError: the part is one no hand of `sides` can take (too wide, bad sizes).
    """
    errors: list[ControlError] = []
    best: tuple[float, str, GraspPlan] | None = None
    for clear_only in (True, False):
        for side in sides:
            try:
                plan = reachable_grasp(reach, q, part, side, heading, neighbours, planning, clear_only)
            except ControlError as error:
                if clear_only:
                    errors.append(error)
                continue
            if plan is None:
                continue
            if clear_only:
                return side, plan
            gap = sweep_clearance(part, side, plan.heading, neighbours, planning)
            if best is None or gap > best[0]:
                best = (gap, side, plan)
    if best is not None:
        return best[1], best[2]
    if errors and len(errors) == len(sides):
        raise errors[0]
    return None


class TaskError(Exception):
    """A task cannot start or go on: its code and a sentence."""

    def __init__(self, code: Code, message: str, standing_pose: tuple[float, float, float] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.standing_pose = standing_pose


@dataclass
class _Held:
    object_id: str
    label: str
    part: PartGeometry
    part_in_gripper: np.ndarray
    """Part centre in the gripper frame [m].  # (3,)"""
    mass: float
    monitor: GraspMonitor
    """The hand's grip, watched at every tick while it holds the part."""


class Manipulator:
    """Runs pick and place tasks (see the module docstring).

    Args:
        robot: the robot's model with the hands locked.
        hand_synergies: side -> {synergy name -> one position per hand joint} (the robot file's), for the sides with
            a hand.
        hand_limits: side -> (lower, upper) joint limits of its hand joints [rad].
        params: the task tunables.
        planning: the grasp planner's tunables (hand geometry).
    """

    def __init__(
        self,
        robot: RobotModel,
        hand_synergies: dict[str, dict[str, tuple[float, ...]]],
        hand_limits: dict[str, tuple[np.ndarray, np.ndarray]],
        params: ManipulationParameters | None = None,
        planning: PlanningParameters | None = None,
    ) -> None:
        self.robot = robot
        self.params = params or ManipulationParameters()
        self.planning = planning or PlanningParameters()
        """The grasp planner's hand geometry (the robot file's)."""
        self.reach = ArmReach(robot)
        self.sides = tuple(side for side in self.reach.sides if side in hand_synergies)
        self.synergies = {
            side: {k: np.asarray(v, dtype=float) for k, v in s.items()} for side, s in hand_synergies.items()
        }
        self.hand_limits = hand_limits
        self.held: dict[str, _Held] = {}
        """Side -> what it holds."""
        self.carry: dict[str, pin.SE3] = {}
        """Side -> the gripper pose it keeps, relative to the base frame, while it holds a part (or retreats)."""
        self.dropped: list[tuple[float, str, str]] = []
        """(time, side, object id) of every part that left a hand that held it outside a place."""
        self.obstacles: tuple[np.ndarray, np.ndarray, float] | None = None
        """The newest obstacle grid: (occupied cells as a boolean array [row y, column x], the origin (x, y) of cell
        (0, 0) in odom, the cell size [m]); None: none known (every standing pose counts as free)."""
        self.retreats: dict[str, MinimumJerkPath] = {}
        """Side -> the path an empty hand takes out of the way before its task is released."""
        self._task: _Task | None = None
        self.path_clock = PathClock()
        """Slows or holds every gripper path by the safety speed scale."""
        self._commands: dict[str, tuple[GraspMode, float]] = {}
        self._payloads: dict[str, float] = {}

    # ------------------------------------------------------------------------------------------- queries
    @property
    def busy(self) -> bool:
        return self._task is not None

    def holds(self, side: str) -> str:
        """Id of the part the side's hand holds ('' for none)."""
        held = self.held.get(side)
        return held.object_id if held else ""

    # ------------------------------------------------------------------------------------------- tasks
    def start_pick(self, inputs: Inputs, object_id: str = "", label: str = "", side: str = "") -> None:
        """Start a pick; raises TaskError (the task did not start) for a bad or impossible goal."""
        self._check_can_start(inputs, side)
        part = self._find(inputs, object_id, label)
        geometry = part.geometry()
        if geometry is None:
            raise TaskError(Code.INVALID, f"'{part.id}' ({part.label}) is not a part of a known shape")
        sides = [side] if side else self._sides_by_distance(inputs, part.position)
        sides = [s for s in sides if not self.held.get(s)]
        if not sides:
            raise TaskError(Code.BUSY, "both hands hold a part")
        self._task = _PickTask(self, inputs, part, geometry, sides)

    def start_place(self, inputs: Inputs, target: pin.SE3 | None = None, container: str = "", side: str = "") -> None:
        """Start a place at a part-centre pose in odom or into a container; raises TaskError if it cannot start."""
        self._check_idle(inputs, side)
        holding = [s for s in ([side] if side else self.sides) if self.held.get(s)]
        if not holding:
            raise TaskError(Code.GRASP_MISSED, f"the {side + ' hand' if side else 'robot'} holds no part")
        if target is None and not container:
            raise TaskError(Code.INVALID, "a place needs a target pose or a container")
        if target is not None and not (np.isfinite(target.translation).all() and np.isfinite(target.rotation).all()):
            raise TaskError(Code.INVALID, "the target pose is not finite")
        box = None
        if target is None:
            self._check_fresh(inputs)
            box = self._find_container(inputs, container)
        self._task = _PlaceTask(self, inputs, holding[0], target, box)

    def cancel(self, inputs: Inputs) -> TaskResult | None:
        """Cancel the running task: the hand keeps what it holds and retreats. The result, or None if idle."""
        if self._task is None:
            return None
        result = self._task.abort(inputs, Code.CANCELLED, "cancelled")
        self._task = None
        return result

    def walk_finished(self, success: bool, message: str = "") -> None:
        """The walk the last `Outputs.walk_to` asked for has ended."""
        if self._task is not None:
            self._task.walk_finished(success, message)

    def step(self, inputs: Inputs) -> Outputs:
        """One tick: the outputs to send (targets of every hand that holds or moves, commands, result)."""
        out = Outputs()
        held_for = self.path_clock.advance(inputs.time, inputs.speed_scale)
        if self._task is not None and held_for > 0.0:  # a held or slowed task's phase clocks wait with its path
            self._task.start_time += held_for
            self._task.phase_start += held_for
        for side, held in list(self.held.items()):
            if side in inputs.hand_positions and held.monitor.update(
                    inputs.time, inputs.hand_positions[side], inputs.hand_velocities[side],
                                       inputs.hand_efforts[side]) == HandState.EMPTY:
                # the part left the hand (a slip while carrying, a knock): it is no longer held
                del self.held[side]
                out.payloads[side] = 0.0
                self.dropped.append((inputs.time, side, held.object_id))
        if self._task is not None:
            if inputs.stopped:
                out.result = self._task.abort(inputs, Code.STOPPED, "the robot stopped (e-stop or fall)")
            elif inputs.time - self._task.start_time > self.params.task_timeout:
                out.result = self._task.abort(
                    inputs, Code.TIMED_OUT, f"took longer than {self.params.task_timeout:.0f} s"
                )
            else:
                self._task.step(inputs, out)
            if out.result is not None:
                self._task = None
        for side, pose in self.carry.items():
            if side not in out.targets:
                out.carried[side] = pose
        for side, path in list(self.retreats.items()):
            if side in out.targets:
                del self.retreats[side]  # a new task moves this hand
            elif path.done(inputs.time):
                del self.retreats[side]
                out.targets[side] = None
                out.commands[side] = (GraspMode.OPEN, 0.0)
            else:
                out.targets[side] = path.sample(inputs.time)[0]
                out.commands[side] = (GraspMode.OPEN, 0.0)
        for side in list(out.commands):
            if self._commands.get(side) == out.commands[side]:
                del out.commands[side]
            else:
                self._commands[side] = out.commands[side]
        for side in list(out.payloads):
            if self._payloads.get(side) == out.payloads[side]:
                del out.payloads[side]
            else:
                self._payloads[side] = out.payloads[side]
        return out

    # ------------------------------------------------------------------------------------------- helpers
    def _check_idle(self, inputs: Inputs, side: str) -> None:
        """Raise TaskError unless a task may start now with `side` ('' for the planner's choice)."""
        if self._task is not None:
            raise TaskError(Code.BUSY, "another manipulation task is running")
        if inputs.stopped:
            raise TaskError(Code.STOPPED, "the robot is stopped (e-stop or fall)")
        if side and side not in self.sides:
            raise TaskError(Code.INVALID, f"unknown side '{side}': expected one of {list(self.sides)}")

    def _check_can_start(self, inputs: Inputs, side: str) -> None:
        self._check_idle(inputs, side)
        if side and self.held.get(side):
            raise TaskError(Code.BUSY, f"the {side} hand already holds '{self.held[side].object_id}'")
        self._check_fresh(inputs)

    def _check_fresh(self, inputs: Inputs) -> None:
        age = inputs.time - inputs.objects_time
        if not age <= self.params.perception_timeout:
            raise TaskError(
                Code.NOT_FOUND,
                f"perception is stale ({age:.1f} s old)"
                if math.isfinite(age)
                else "no perception/objects received yet",
            )

    def _find(self, inputs: Inputs, object_id: str, label: str) -> PerceivedObject:
        if object_id:
            part = inputs.objects.get(object_id)
            if part is None:
                raise TaskError(Code.NOT_FOUND, f"no part '{object_id}' in perception/objects")
        elif label:
            matches = [o for o in inputs.objects.values() if o.label == label and not o.is_container]
            if not matches:
                raise TaskError(Code.NOT_FOUND, f"no part labelled '{label}' in perception/objects")
            base = inputs.q[:2]
            part = min(matches, key=lambda o: float(np.linalg.norm(o.position[:2] - base)))
        else:
            raise TaskError(Code.INVALID, "a pick needs an object id or a label")
        if not (np.isfinite(part.position).all() and math.isfinite(part.yaw) and np.isfinite(part.size).all()):
            raise TaskError(Code.INVALID, f"perceived pose of '{part.id}' is not finite")
        if any(held.object_id == part.id for held in self.held.values()):
            raise TaskError(Code.INVALID, f"'{part.id}' is already held")
        return part

    def _find_container(self, inputs: Inputs, name: str) -> PerceivedObject:
        box = inputs.objects.get(name)
        if box is None:
            matches = [o for o in inputs.objects.values() if o.label == name and o.is_container]
            if not matches:
                raise TaskError(Code.NOT_FOUND, f"no container '{name}' in perception/objects")
            box = min(matches, key=lambda o: float(np.linalg.norm(o.position[:2] - inputs.q[:2])))
        if not (np.isfinite(box.position).all() and math.isfinite(box.yaw)):
            raise TaskError(Code.INVALID, f"perceived pose of '{box.id}' is not finite")
        return box

    def _sides_by_distance(self, inputs: Inputs, point: np.ndarray) -> list[str]:
        """Free hands, the one whose shoulder is nearest to `point` first."""
        base = self._base(inputs.q)
        distance = {
            side: float(
                np.linalg.norm(
                    (base * pin.SE3(np.eye(3), self.reach.shoulder_in_base[side])).translation[:2] - point[:2]
                )
            )
            for side in self.sides
        }
        return sorted(self.sides, key=distance.get)

    def _base(self, q: np.ndarray) -> pin.SE3:
        """The base_footprint-like frame of configuration q: base position, heading only."""
        yaw = yaw_from_matrix(quaternion_to_matrix(q[3:7]))
        return pin.SE3(rotation_z(yaw), np.array([q[0], q[1], 0.0]))

    def gripper(self, side: str, q: np.ndarray) -> pin.SE3:
        return self.reach.gripper_pose(side, q)

    def is_free(self, x: float, y: float) -> bool:
        """Whether the robot may stand at (x, y) in odom: no occupied cell of the obstacle grid within
        `footprint_radius` (unknown and outside cells count as free)."""
        if self.obstacles is None:
            return True
        occupied, origin, resolution = self.obstacles
        radius = self.params.footprint_radius
        column0, row0 = (np.array([x, y]) - radius - origin) / resolution
        column1, row1 = (np.array([x, y]) + radius - origin) / resolution
        rows, columns = occupied.shape
        r0, r1 = max(math.floor(row0), 0), min(math.ceil(row1), rows)
        c0, c1 = max(math.floor(column0), 0), min(math.ceil(column1), columns)
        if r0 >= r1 or c0 >= c1:
            return True
        ys = origin[1] + (np.arange(r0, r1) + 0.5) * resolution
        xs = origin[0] + (np.arange(c0, c1) + 0.5) * resolution
        near = (xs[None, :] - x) ** 2 + (ys[:, None] - y) ** 2 <= radius**2
        return not bool(np.any(occupied[r0:r1, c0:c1] & near))

    def carry_pose(self, side: str, q: np.ndarray, held: pin.SE3) -> pin.SE3:
        """Where a hand carries a part (odom), from configuration q: `carry_pose`."""
        return carry_pose(self.reach, self.params, side, self._base(q), held, self.planning.carry_rotation(side),
                          self.planning.carry_fingers(side))

    def commanded_posture(self, side: str, mode: GraspMode, closure: float) -> np.ndarray:
        """The hand posture a command leads to (as the whole-body controller's grasp controller computes it)."""
        opened = self.synergies[side]["open"]
        posture = (
            opened if mode == GraspMode.OPEN else opened + closure * (self.synergies[side][mode.name.lower()] - opened)
        )
        lower, upper = self.hand_limits[side]
        return np.clip(posture, lower, upper)

    def estimated_mass(self, part: PartGeometry) -> float:
        if part.shape == "box":
            volume = float(np.prod(part.size))
        elif part.shape == "cylinder":
            volume = math.pi * part.size[0] ** 2 * part.size[1]
        else:
            volume = 4.0 / 3.0 * math.pi * part.size[0] ** 3
        return min(self.params.part_density * volume, self.params.max_payload)


class _Task:
    """Shared machinery of pick and place: phases, paths, the hand monitor, aborting."""

    def __init__(self, owner: Manipulator, inputs: Inputs, side: str) -> None:
        self.owner = owner
        self.params = owner.params
        self.side = side
        self.start_time = inputs.time
        self.phase = ""
        self.phase_start = inputs.time
        self.path: MinimumJerkPath | None = None
        self.walking = False
        self.walk_result: tuple[bool, str] | None = None

    def enter(self, phase: str, inputs: Inputs) -> None:
        self.phase = phase
        self.phase_start = inputs.time

    def move(self, inputs: Inputs, goal: pin.SE3, start: pin.SE3 | None = None, max_speed: float | None = None
             ) -> None:
        """Start a path of the gripper to `goal` from `start` (default: where the gripper is), within the path
        limits (and `max_speed` [m/s] if given)."""
        start = start if start is not None else self.owner.gripper(self.side, inputs.q)
        limits = self.params.paths
        if max_speed is not None:
            limits = dataclasses.replace(limits, max_speed=min(limits.max_speed, max_speed))
        self.path = MinimumJerkPath(start, goal, inputs.time, limits, clock=self.owner.path_clock)

    def follow(self, inputs: Inputs, out: Outputs) -> bool:
        """Stream the current path; True once it has ended."""
        assert self.path is not None
        pose, _ = self.path.sample(inputs.time)
        out.targets[self.side] = pose
        out.distance_remaining = self.path.remaining(inputs.time)
        return self.path.done(inputs.time)

    def walk_finished(self, success: bool, message: str) -> None:
        self.walking = False
        self.walk_result = (success, message)

    def step(self, inputs: Inputs, out: Outputs) -> None:
        raise NotImplementedError

    def abort(self, inputs: Inputs, code: Code, message: str) -> TaskResult:
        raise NotImplementedError

    def retreat_to_carry_or_release(self, inputs: Inputs) -> None:
        """After an abort: a hand that holds a part keeps it at a carry pose above where it is; an empty hand opens,
        rises and comes back towards the robot, then releases its task (the posture takes the arm back)."""
        owner, p = self.owner, self.params
        base = owner._base(inputs.q)
        here = owner.gripper(self.side, inputs.q)
        if self.side in owner.held:
            up = pin.SE3(here.rotation, here.translation + np.array([0.0, 0.0, p.carry_up]))
            owner.carry[self.side] = base.actInv(up)
            return
        owner.carry.pop(self.side, None)
        away = base.rotation @ np.array([-p.retreat_back, 0.0, 0.0]) + np.array([0.0, 0.0, p.retreat_up])
        owner.retreats[self.side] = MinimumJerkPath(
            here, pin.SE3(here.rotation, here.translation + away), inputs.time, p.paths, clock=owner.path_clock
        )


class _PickTask(_Task):
    def __init__(
        self, owner: Manipulator, inputs: Inputs, part: PerceivedObject, geometry: PartGeometry, sides: list[str]
    ) -> None:
        self.part = part
        self.geometry = geometry
        self.plan: GraspPlan | None = None
        self.monitor: GraspMonitor | None = None
        self.seen_with_hand = False
        self.rested_z = float(geometry.position[2])
        self.transit: list[np.ndarray] = []
        """Gripper positions still to go through before the pre-grasp [m]."""
        side, plan, standing = self._choose(owner, inputs, sides)
        super().__init__(owner, inputs, side)
        if plan is None:
            if standing is None:
                raise TaskError(
                    Code.OUT_OF_REACH, f"no hand reaches '{part.id}' from here or from any standing pose facing it"
                )
            self.standing = standing
            self.enter("approach", inputs)
            self.walking = True
            self.walk_request = standing
        else:
            self._begin(inputs, plan)

    def _choose(
        self, owner: Manipulator, inputs: Inputs, sides: list[str]
    ) -> tuple[str, GraspPlan | None, tuple[float, float, float] | None]:
        """The first side whose grasp is reachable; else the nearest side and a standing pose for it."""
        base = owner._base(inputs.q)
        heading = yaw_from_matrix(base.rotation)
        try:
            chosen = choose_grasp(owner.reach, inputs.q, self.geometry, sides, heading, self.neighbours(inputs),
                                  owner.planning)
        except ControlError as error:  # too wide for the hand, bad sizes
            raise TaskError(Code.NO_APPROACH, str(error)) from error
        if chosen is not None:
            return chosen[0], chosen[1], None
        side = sides[0]
        plan_grasp(self.geometry, side, heading, owner.planning)  # a part this hand cannot take raises here
        geometry, planning = self.geometry, owner.planning

        def grasp_at(yaw: float) -> pin.SE3:
            at = plan_grasp(geometry, side, yaw, planning)
            return pin.SE3(at.rotation, at.grasp)

        standing = owner.reach.standing_pose(side, grasp_at, inputs.q, is_free=owner.is_free)
        return side, None, standing

    def neighbours(self, inputs: Inputs) -> list[tuple[np.ndarray, float, float]]:
        """The other perceived parts, as (centre in odom, radius of their footprint circle): what the closing
        fingers must not sweep onto (`neighbour_footprints`)."""
        return neighbour_footprints(inputs.objects.values(), self.part)

    def _reachable_plan(self, owner: Manipulator, inputs: Inputs, side: str, heading: float,
                        clear_only: bool = False) -> GraspPlan | None:
        """The first grasp of `candidate_headings` (the closing fingers clear of the neighbouring parts, the least
        turned from `heading` first; with `clear_only`, only those) whose pre-grasp and grasp poses the `side` hand
        reaches; None if none does. Raises ControlError for a part the hand cannot take (too wide, bad sizes)."""
        return reachable_grasp(owner.reach, inputs.q, self.geometry, side, heading, self.neighbours(inputs),
                               owner.planning, clear_only)

    def _begin(self, inputs: Inputs, plan: GraspPlan) -> None:
        """Start the approach: a hand below the pre-grasp height (the arm hanging at the side, level with the table)
        first rises straight up to it, turning palm down, then moves over to the pre-grasp (`GraspPlan.transit`, as
        the grasp study measured the grasps). Straight from the side to the pre-grasp, the hand swept over the
        table's near edge low: it was held there 20 cm behind its path, and pushed the robot back (a fall in the
        sorting shift)."""
        self.plan = plan
        self.regrasps = 0
        self.enter("approach", inputs)
        self.transit = plan.transit(self.owner.gripper(self.side, inputs.q).translation)
        self.move(inputs, pin.SE3(plan.rotation, self.transit.pop(0)))
        self.stage = "to_pre_grasp"

    def step(self, inputs: Inputs, out: Outputs) -> None:
        owner, p, side = self.owner, self.params, self.side
        if self.walking:
            if getattr(self, "walk_request", None) is not None:
                out.walk_to, self.walk_request = self.walk_request, None
            out.phase, out.side = "approach", side
            return
        if self.walk_result is not None:
            success, message = self.walk_result
            self.walk_result = None
            if not success:
                out.result = self.abort(
                    inputs, Code.OUT_OF_REACH, f"could not walk to a pose in reach: {message}", standing=self.standing
                )
                return
            part = inputs.objects.get(self.part.id)
            if part is not None and part.geometry() is not None:
                self.part, self.geometry = part, part.geometry()
            base = owner._base(inputs.q)
            plan = self._reachable_plan(owner, inputs, side, yaw_from_matrix(base.rotation))
            if plan is None:
                out.result = self.abort(
                    inputs,
                    Code.OUT_OF_REACH,
                    f"'{self.part.id}' is still out of reach after walking",
                    standing=self.standing,
                )
                return
            self.rested_z = float(self.geometry.position[2])
            self._begin(inputs, plan)
        plan = self.plan
        assert plan is not None
        if self.phase in ("approach", "pre-shape"):
            out.commands[side] = (GraspMode.OPEN, 0.0)
        if self.phase == "approach" and self.stage == "to_pre_grasp":
            if self.follow(inputs, out):
                if self.transit:  # risen above the table: now over to the pre-grasp
                    self.move(inputs, pin.SE3(plan.rotation, self.transit.pop(0)), self.path.goal)
                else:
                    self.enter("pre-shape", inputs)
        elif self.phase == "pre-shape":
            out.targets[side] = pin.SE3(plan.rotation, plan.pre_grasp)
            if inputs.time - self.phase_start >= p.pre_shape_time:
                moved = inputs.objects.get(self.part.id)
                if moved is not None and np.linalg.norm(moved.position[:2] - self.part.position[:2]) > 0.02:
                    out.result = self.abort(inputs, Code.NO_APPROACH, f"'{self.part.id}' moved during the approach")
                    return
                self.enter("approach", inputs)
                self.stage = "down"
                self.move(inputs, pin.SE3(plan.rotation, plan.grasp), pin.SE3(plan.rotation, plan.pre_grasp),
                          p.descent_speed)
        elif self.phase == "approach":
            done = self.follow(inputs, out)
            gripper = owner.gripper(side, inputs.q).translation
            lag = float(np.linalg.norm(out.targets[side].translation - gripper))
            if lag > p.blocked_lag:
                above = gripper[2] - plan.grasp[2]
                if self.regrasps < p.max_regrasps:  # the thumb on the part's near edge: back off, come down again
                    self.regrasps += 1
                    self.plan = plan.backed_off(owner.planning.regrasp_step)
                    self.stage = "to_pre_grasp"
                    self.transit = []
                    self.move(inputs, pin.SE3(plan.rotation, self.plan.pre_grasp))
                    out.targets[side] = self.path.sample(inputs.time)[0]
                    out.phase, out.side = self.phase, side
                    return
                out.targets.pop(side)
                out.result = self.abort(
                    inputs, Code.NO_APPROACH, f"the {side} hand was held up {above:.3f} m above the grasp on its way "
                    f"down to '{self.part.id}' ({lag:.3f} m behind its path) {self.regrasps + 1} times: the part is "
                    "not where it was seen")
                return
            if done:
                self.enter("close", inputs)
                commanded = owner.commanded_posture(side, plan.mode, plan.closure)
                self.monitor = GraspMonitor(commanded, p.verify)
                out.commands[side] = (plan.mode, plan.closure)
        elif self.phase in ("close", "verify"):
            out.targets[side] = pin.SE3(plan.rotation, plan.grasp)
            out.commands[side] = (plan.mode, plan.closure)
            assert self.monitor is not None
            state = self.monitor.update(inputs.time, inputs.hand_positions[side], inputs.hand_velocities[side],
                                       inputs.hand_efforts[side])
            if inputs.time - self.phase_start > 0.3 and self.phase == "close":
                self.enter("verify", inputs)
            if state == HandState.EMPTY:
                out.result = self.abort(inputs, Code.GRASP_MISSED, f"the {side} hand closed on nothing")
                return
            if state == HandState.HOLDING:
                mass = owner.estimated_mass(self.geometry)
                grip = pin.SE3(plan.rotation, plan.grasp)
                owner.held[side] = _Held(self.part.id, self.part.label, self.geometry,
                                         grip.actInv(self.geometry.position), mass, self.monitor)
                out.payloads[side] = mass
                self.enter("lift", inputs)
                self.move(inputs, pin.SE3(plan.rotation, plan.lift), grip)
            elif inputs.time - self.phase_start > p.close_timeout:
                out.result = self.abort(inputs, Code.GRASP_MISSED, f"the {side} hand did not settle")
        elif self.phase == "lift":
            out.commands[side] = (plan.mode, plan.closure)
            if side not in owner.held:  # the manipulator's watch of the grip saw the part go
                out.result = self.abort(inputs, Code.SLIPPED, f"'{self.part.id}' slipped out of the {side} hand")
                return
            if self.follow(inputs, out):
                self.enter("retreat", inputs)
                lift = pin.SE3(plan.rotation, plan.lift)
                self.move(inputs, owner.carry_pose(side, inputs.q, lift), lift)
        elif self.phase == "retreat":
            out.commands[side] = (plan.mode, plan.closure)
            if side not in owner.held:  # the manipulator's watch of the grip saw the part go
                out.result = self.abort(inputs, Code.SLIPPED, f"'{self.part.id}' slipped out of the {side} hand")
                return
            done = self.follow(inputs, out)
            # The head camera looks down on the hand, which covers a part it holds from above: perception may keep
            # the part's last pose (hidden) or see it again with the hand (a new track where it is carried). The
            # hand's deflection under the load decides; perception seeing the part with the hand confirms it.
            carried = self.path.sample(inputs.time)[0].act(owner.held[side].part_in_gripper)
            seen = any(o.label == self.part.label and np.linalg.norm(o.position - carried) <= p.lift_check
                       for o in inputs.objects.values())
            self.seen_with_hand = self.seen_with_hand or seen
            wait = 0.0 if self.seen_with_hand else p.lift_check_time
            if done and inputs.time - self.phase_start >= self.path.duration + wait:
                owner.carry[side] = owner._base(inputs.q).actInv(self.path.goal)
                confirmed = " (perception sees it with the hand)" if self.seen_with_hand else ""
                out.result = TaskResult(Code.SUCCEEDED, f"picked '{self.part.id}' with the {side} hand{confirmed}",
                                        side, self.part.id, verified=self.seen_with_hand)
        out.phase, out.side = self.phase, side

    def abort(
        self, inputs: Inputs, code: Code, message: str, standing: tuple[float, float, float] | None = None
    ) -> TaskResult:
        owner = self.owner
        if code in (Code.GRASP_MISSED, Code.SLIPPED):
            owner.held.pop(self.side, None)
            owner._payloads.pop(self.side, None)
        self.retreat_to_carry_or_release(inputs)
        return TaskResult(code, message, self.side, self.part.id, standing_pose=standing)


class _PlaceTask(_Task):
    def __init__(
        self, owner: Manipulator, inputs: Inputs, side: str, target: pin.SE3 | None, container: PerceivedObject | None
    ) -> None:
        super().__init__(owner, inputs, side)
        self.held = owner.held[side]
        self.label = self.held.label
        self.container = container
        p = self.params
        half = self.held.part.half_height
        if container is not None:
            # into a container: released with its bottom `rim_clearance` above the rim, over the middle of the
            # opening; it drops onto the floor (a bin's floor is usually below where the hand reaches)
            rim = container.position[2]
            centre = np.array([container.position[0], container.position[1], rim + half + p.rim_clearance])
            above = rim + half + p.place_clearance
        else:
            assert target is not None
            centre = target.translation + np.array([0.0, 0.0, p.release_drop])
            above = centre[2] + p.place_clearance
        self.release_centre = centre
        self.above_centre = np.array([centre[0], centre[1], max(above, centre[2])])
        self.standing: tuple[float, float, float] | None = None
        self._plan(inputs, first=True)

    def _carry_rotation(self, inputs: Inputs) -> np.ndarray:
        """The held hand's orientation relative to the base as it gripped the part: its carry pose's, turned back
        by the carry's turn (`PlanningParameters.carry_roll`), so that the part is put down palm down."""
        carry = self.owner.carry.get(self.side)
        if carry is not None:
            return carry.rotation @ self.owner.planning.carry_rotation(self.side).T
        return self.owner._base(inputs.q).rotation.T @ self.owner.gripper(self.side, inputs.q).rotation

    def _gripper_for(self, centre: np.ndarray, yaw: float, rotation_in_base: np.ndarray) -> pin.SE3:
        """Gripper pose that puts the held part's centre at `centre`, the hand turned as it carries it relative to a
        base facing `yaw`."""
        rotation = rotation_z(yaw) @ rotation_in_base
        return pin.SE3(rotation, centre - rotation @ self.held.part_in_gripper)

    def _plan(self, inputs: Inputs, first: bool) -> None:
        """Go to the target from here, or ask to walk to where the hand reaches it. Into a container, the part is
        released as low over the rim as the hand reaches (up to `max_release_raise` higher)."""
        reach, p = self.owner.reach, self.params
        in_base = self._carry_rotation(inputs)
        yaw = yaw_from_matrix(self.owner._base(inputs.q).rotation)
        carried = self.owner.gripper(self.side, inputs.q).act(self.held.part_in_gripper)
        raises = np.arange(0.0, p.max_release_raise + 1e-9, 0.03) if self.container is not None else [0.0]
        for raise_ in raises:
            release_centre = self.release_centre + np.array([0.0, 0.0, raise_])
            # the part travels at least as high as it is carried, then comes straight down: clear of walls and rims
            above_centre = self.above_centre + np.array([0.0, 0.0, raise_])
            above_centre[2] = max(above_centre[2], float(carried[2]))
            above = self._gripper_for(above_centre, yaw, in_base)
            release = self._gripper_for(release_centre, yaw, in_base)
            if all(reach.solve(self.side, inputs.q, pose).reachable for pose in (above, release)):
                self.release_at = release_centre
                self.enter("transport", inputs)
                self.move(inputs, above)
                return
        if not first:
            raise TaskError(Code.OUT_OF_REACH, "the target is still out of reach after walking", self.standing)
        for raise_ in raises:
            centre = self.release_centre + np.array([0.0, 0.0, raise_])
            self.standing = reach.standing_pose(
                self.side, lambda standing_yaw, c=centre: self._gripper_for(c, standing_yaw, in_base), inputs.q,
                is_free=self.owner.is_free)
            if self.standing is not None:
                break
        if self.standing is None:
            raise TaskError(Code.OUT_OF_REACH, "no standing pose facing the target brings it within reach")
        self.enter("transport", inputs)
        self.walking = True
        self.walk_request = self.standing

    def step(self, inputs: Inputs, out: Outputs) -> None:
        owner, p, side = self.owner, self.params, self.side
        out.phase, out.side = self.phase, side
        if self.walking:
            if getattr(self, "walk_request", None) is not None:
                out.walk_to, self.walk_request = self.walk_request, None
            return
        if self.walk_result is not None:
            success, message = self.walk_result
            self.walk_result = None
            if not success:
                out.result = self.abort(inputs, Code.OUT_OF_REACH, f"could not walk to a pose in reach: {message}")
                return
            try:
                self._plan(inputs, first=False)
            except TaskError as error:
                out.result = self.abort(inputs, error.code, str(error))
                return
        if self.phase in ("transport", "lower"):
            if side not in owner.held:
                out.result = self.abort(inputs, Code.SLIPPED, f"'{self.held.object_id}' slipped out of the {side} "
                                        "hand on its way to the target")
                return
            out.commands[side] = owner._commands.get(side, (GraspMode.PINCH, 1.0))
        if self.phase == "transport":
            if self.follow(inputs, out):
                self.enter("lower", inputs)
                goal = self.path.goal
                release = pin.SE3(goal.rotation, self.release_at - goal.rotation @ self.held.part_in_gripper)
                self.move(inputs, release, goal)
        elif self.phase == "lower":
            if self.follow(inputs, out):
                self.enter("release", inputs)
                out.commands[side] = (GraspMode.OPEN, 0.0)
                out.payloads[side] = 0.0
                owner.held.pop(side, None)
        elif self.phase == "release":
            out.targets[side] = self.path.goal
            out.commands[side] = (GraspMode.OPEN, 0.0)
            if inputs.time - self.phase_start >= p.release_time:
                self.enter("retreat", inputs)
                goal = pin.SE3(self.path.goal.rotation, self.path.goal.translation + np.array([0, 0, p.retreat_up]))
                self.move(inputs, goal, self.path.goal)
        elif self.phase == "retreat":
            if self.follow(inputs, out):
                owner.carry.pop(side, None)
                out.targets[side] = None
                self.enter("verify", inputs)
        elif self.phase == "verify":
            # tracks may change id when a part moves far: any part of the held one's label where it was put
            label = next((o.label for o in inputs.objects.values() if o.id == self.held.object_id), self.label)
            verified = any(self._inside(o) for o in inputs.objects.values() if o.label == label)
            if verified or inputs.time - self.phase_start >= p.verify_time:
                where = "inside " + self.container.id if self.container is not None else "at the target"
                message = (
                    f"placed '{self.held.object_id}' {where}"
                    if verified
                    else f"released '{self.held.object_id}', but perception does not see it {where}"
                )
                out.result = TaskResult(Code.SUCCEEDED, message, side, self.held.object_id, verified=verified)
        out.phase = self.phase

    def _inside(self, seen: PerceivedObject) -> bool:
        if self.container is None:
            return (
                float(
                    np.linalg.norm(seen.position - self.release_centre + np.array([0.0, 0.0, self.params.release_drop]))
                )
                <= self.params.place_tolerance
            )
        box = self.container
        local = rotation_z(box.yaw).T @ (seen.position - box.position)
        return bool(abs(local[0]) <= 0.5 * box.size[0] and abs(local[1]) <= 0.5 * box.size[1] and local[2] <= 0.0)

    def abort(self, inputs: Inputs, code: Code, message: str) -> TaskResult:
        self.retreat_to_carry_or_release(inputs)
        return TaskResult(code, message, self.side, self.held.object_id, standing_pose=self.standing)
