"""The gait planner core: from a velocity command or a goal pose and the measured state, a footstep plan and the
CoM/swing-foot reference the whole-body controller follows. No ROS, no clock: time and state come in as arguments.

Every `update(now, measured)` replans from `now`:

1. Landings: each footstep whose touch-down has passed is recorded at the measured sole pose, so later steps are
   planned from where the foot really is.
2. Mode: a walk_to goal if one is active; else the velocity command if it is fresh (younger than `command_timeout`)
   and not zero; else stop.
3. Footsteps: the step in flight keeps its timing; later steps are generated one by one from the stance sole
   (`footsteps`), at a step velocity that approaches the command within the acceleration limits, each clamped to
   the step limits, until `plan_horizon`; then a closing step brings the feet side by side. Every plan therefore ends
   standing: a reference that is not renewed stops the robot.
4. ZMP knots (heel to toe on each stance sole in single support, sliding to the next sole in double support, to the
   feet's midpoint at the end) and the DCM trajectory over them (`dcm`).
5. Continuity and capture-point feedback: the DCM at `now` is linear in the ZMP knots (`dcm.dcm_weights`). The knots
   are moved, least squares and each within its support polygon, so that the new plan's DCM at `now` equals the
   previous plan's (the reference stays continuous) or, when the measured DCM is farther than `dcm_error_threshold`
   from it, the measured one less that threshold (the plan re-anchors on the measured state, CoM included). What the
   polygons cannot absorb moves the next landing point (the swing foot in flight, unless it is about to land, else
   the next footstep) by what the DCM's sensitivity to it says, within the step limits (capture-point step
   adjustment). If more than `hurry_threshold` still remains, the swing foot lands early (but not sooner than
   `swing_freeze_time` from now) and the next step follows after the shortest double support (step timing
   adaptation). A push is thus absorbed by stepping.
6. Safety: `set_speed_scale` (the safety node's speed scale, 0..1) multiplies the step velocity a command or a goal
   asks for, within the same acceleration limits. At 0 (a protective or emergency stop) the mode is `stop`: the robot
   finishes the step in flight, closes its feet and stands (stop category 2); a walk_to goal stays active, its
   deadline paused, and is resumed when the scale rises again.
7. Idle: until the first command or goal, and from `idle_time` after standing again, the planner only follows the
   measured state and its output is marked inactive (the node then publishes no reference; the controller balances
   on its own). Taking over, it starts from the measured state and lowers the CoM to `com_height` before the first
   lift-off.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field, replace

import numpy as np

from legion_common.transforms import wrap_angle
from legion_gait.commands import VelocityCommand, WalkGoal, check_goal, check_twist
from legion_gait.dcm import DcmTrajectory, dcm_weights
from legion_gait.dimensions import resolve as resolve_dimensions
from legion_gait.errors import GaitError
from legion_gait.footsteps import (
    Footstep,
    StepLimits,
    clamp_step,
    feet_frame,
    feet_pose,
    feet_together,
    landing_for_displacement,
    sole_corners,
    step_displacement,
    step_within_limits,
)
from legion_gait.geometry import compose, inverse, pose2, relative
from legion_gait.navigation import Footprint, GridLayer, NavigationError, Navigator, NavPath, Speeds
from legion_gait.parameters import GaitParameters
from legion_gait.plan import GaitPlan, GaitSamples, HeightProfile
from legion_gait.robot_geometry import RobotGeometry
from legion_gait.state import MeasuredState
from legion_gait.swing import SwingTrajectory
from legion_model.support_polygon import closest_point_in_polygon, convex_hull_2d

MAX_PLANNED_STEPS = 40
"""Safety bound on the footsteps of one plan."""
TAIL_SAMPLES = (0.25, 0.5, 1.0)
"""[s] after the plan's end, samples at these delays show the CoM settling (then the controller holds the last)."""
AT_GOAL_POSITION = 0.005
"""[m] a sole this close to its goal placement needs no step (must be well below goal_position_tolerance)."""
AT_GOAL_YAW = 0.01
"""[rad]"""
STILL_SPEED = 0.05
"""[m/s] a measured CoM slower than this counts as standing still."""
BASE_OFFSET_FILTER = 0.2
"""Weight of a new measurement in the low-pass filtered base-over-feet offset."""
SENSITIVITY_PROBE = 0.01
"""[m] landing shift used to measure how the DCM at `now` depends on the next landing point."""
MIN_LANDING_GAIN = 0.02
"""A landing point whose shift moves the DCM at `now` by less than this fraction of it is not moved for feedback."""
SUPPORT_CACHE_SIZE = 256
"""Support polygons kept for reuse (they change only when a foot lands)."""
TURN_CREEP_SPEED = 0.05
"""[m/s] walk_to creeps on at this speed to where a planned turn in place begins (it turns from there)."""
PATH_PULL_GAIN = 0.8
"""[1/s] walk_to steps back onto its path at this rate times the distance off it."""
PATH_PULL_SPEED = 0.08
"""[m/s] at most this fast."""
RESIDUAL_TOLERANCE = 1e-3
"""[m] DCM residuals smaller than this are left to the controller."""


class GaitPhase(enum.Enum):
    STANDING = "standing"
    WALKING = "walking"
    STOPPING = "stopping"
    """Finishing the last steps and settling, no new steps."""
    FALLEN = "fallen"
    """The measured CoM is too low: no plan until the robot stands up again."""


class GoalStatus(enum.Enum):
    ACTIVE = "active"
    CANCELING = "canceling"
    SUCCEEDED = "succeeded"
    ABORTED = "aborted"
    CANCELED = "canceled"


@dataclass
class GoalProgress:
    """A walk_to goal and how it goes."""

    goal: WalkGoal
    status: GoalStatus = GoalStatus.ACTIVE
    distance_remaining: float = math.inf
    """[m] measured base to goal."""
    angle_remaining: float = math.pi
    """[rad] goal heading minus measured base heading."""
    steps_taken: int = 0
    corrections: int = 0
    message: str = ""
    final_pose: np.ndarray | None = None
    """Measured base (x, y, yaw) when it finished."""
    start_base: np.ndarray = field(default_factory=lambda: np.zeros(3))
    """Measured base (x, y, yaw) when it was accepted."""
    held: float = 0.0
    """[s] spent held by a safety stop (not counted against the goal's deadline)."""

    @property
    def done(self) -> bool:
        return self.status in (GoalStatus.SUCCEEDED, GoalStatus.ABORTED, GoalStatus.CANCELED)


@dataclass(frozen=True)
class PlannerOutput:
    """The result of one `update`."""

    time: float
    phase: GaitPhase
    plan: GaitPlan | None
    """None after a fall."""
    samples: GaitSamples | None
    """The reference window from the last sample time at or before `time` to the plan's end (standing)."""
    footsteps: tuple[Footstep, ...]
    """The footstep in flight and the planned ones."""
    soles: dict[str, np.ndarray]
    """side -> where that sole stands or last landed (x, y, yaw)."""
    warnings: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    """Notable decisions of this update (re-anchoring, step adjustment, goal transitions)."""
    dcm_error: float = 0.0
    """[m] measured DCM minus the previous reference's, at the measurement time (0 without a measurement)."""
    step_adjustment: np.ndarray = field(default_factory=lambda: np.zeros(2))
    """[m] how far the next landing point moved for capture-point feedback in this update.  # (2,)"""
    active: bool = True
    """The planner drives the robot (walking, settling, or standing less than `idle_time`): its reference is to be
    published. Idle, it only follows the measured state and the controller balances on its own."""


@dataclass
class _Build:
    """Footsteps, swings and ZMP knots of a candidate plan (before the DCM is solved)."""

    footsteps: list[Footstep]
    swings: list[SwingTrajectory]
    knot_times: list[float]
    knot_points: list[np.ndarray]
    """Nominal ZMP knots; knot 0 (at now) is the centre of the support polygon."""
    knot_supports: list[np.ndarray]
    """Per knot, the support polygon it may move in (shrunk by zmp_margin, counter-clockwise).  # (k, 2) each"""
    adjustable: int | None
    """Index in footsteps of the step whose landing may move for feedback."""
    final_soles: dict[str, np.ndarray]
    hurried: bool = False
    """The timing was shortened to step sooner."""


def _grid(value: float, period: float) -> float:
    """`value` [s] rounded to a whole number of periods."""
    return round(value / period) * period


def _grid_up(value: float, period: float) -> float:
    return math.ceil(value / period - 1e-9) * period


class GaitPlanner:
    """The planner core (see the module docstring).

    Args:
        params: gait parameters (their ranges and `validated()` are checked here).
        geometry: the robot's sole size, sides and base offset (`RobotGeometry.from_model`).
        odom_frame: name of the world frame goals are given in.

    Raises:
        legion_common.parameters.ParameterError: invalid parameters.
    """

    def __init__(self, params: GaitParameters, geometry: RobotGeometry, odom_frame: str = "odom") -> None:
        params = resolve_dimensions(params, geometry)
        self.params = params
        self.geometry = geometry
        self.odom_frame = odom_frame
        self.limits = StepLimits.from_parameters(params, geometry)
        dt = params.sample_period
        self.sample_period = dt
        self.swing_time = max(_grid(params.swing_duration, dt), 2 * dt)
        self.double_support_time = max(_grid(params.double_support_duration, dt), dt)
        self.step_period = self.swing_time + self.double_support_time
        self.start_time = max(_grid(params.start_duration, dt), dt)
        self.stop_time = max(_grid(params.stop_duration, dt), dt)
        self.min_swing_time = max(_grid(params.min_swing_duration, dt), 2 * dt)
        self.min_double_support_time = max(_grid(params.min_double_support_duration, dt), dt)
        self.omega = params.omega
        self._support_cache: dict[tuple[float, ...], np.ndarray] = {}
        self.navigator = Navigator(Footprint(*geometry.footprint),
                                   Speeds(params.goal_speed, params.max_backward_speed, params.max_lateral_speed,
                                          params.goal_yaw_rate), params.navigation,
                                   final_stretch=params.goal_approach_distance)
        self.paused = False
        """Walking is paused (supervisor/pause): the robot finishes its step and stands; a walk_to goal waits."""
        self._paused_since = 0.0
        self.reset()

    def reset(self) -> None:
        """Forget the plan, the commands and the goal (e.g. after a simulation reset)."""
        self.plan: GaitPlan | None = None
        self.phase = GaitPhase.STANDING
        self.command: VelocityCommand | None = None
        self.progress: GoalProgress | None = None
        self._soles: dict[str, np.ndarray] = {}
        self._floor = 0.0
        self._recorded: set[tuple[str, float]] = set()
        self._last_side: str | None = None
        self._last_velocity = np.zeros(3)
        self._last_touch_down = -math.inf
        self._base_in_feet = self.geometry.base_in_feet_frame.copy()
        self._warnings: list[str] = []
        self._measured_base: np.ndarray | None = None
        self._stale_reported = True
        self._height: HeightProfile | None = None
        self._idle = True
        self._standing_since: float | None = None
        self.route: NavPath | None = None
        """The walk_to goal's path around obstacles (None: no grid known, the robot walks straight)."""
        self._route_s = 0.0
        self._route_peak = 0.0
        """[m] the farthest progress along the path so far (the heading target's)."""
        self._route_version = -1
        self._route_time = -math.inf
        self._checked: tuple[tuple[float, ...], int, NavPath] | None = None
        self.speed_scale = 1.0
        """The safety node's factor on the step velocity, 0..1 (0: stop and stand; `set_speed_scale`)."""
        self._last_update = -math.inf

    # ------------------------------------------------------------------------------------------------ commands
    def set_velocity_command(self, time: float, linear: tuple[float, float, float],
                             angular: tuple[float, float, float]) -> list[str]:
        """A cmd_vel Twist (base_link axes) at `time` [s]; returns the warnings (also given by the next update).

        A rejected command (non-finite, absurd) leaves the last good one in force until it goes stale.
        """
        command, warnings = check_twist(time, linear, angular, self.params)
        if command is not None:
            if self.progress is not None and not self.progress.done:
                warnings.append("cmd_vel ignored while a walk_to goal is active")
            else:
                self.command = command
                self._stale_reported = False
        self._warnings.extend(warnings)
        return warnings

    def check_goal(self, time: float, frame_id: str, position: tuple[float, float, float],
                   orientation: tuple[float, float, float, float]) -> WalkGoal:
        """A walk_to target (base_footprint pose) as a goal, or GaitError saying why it cannot be reached (no side
        effect but a cached path: for accepting or rejecting an action goal). With grids (`set_grid`), a goal whose
        footprint overlaps an obstacle or that no path reaches raises `NavigationError`."""
        if self.phase == GaitPhase.FALLEN:
            raise GaitError("the robot has fallen: no goal can be reached")
        base = self._measured_base if self.plan is not None else None
        goal = check_goal(time, frame_id, position, orientation, base, self._floor, self.params, self.odom_frame)
        if self.navigator.active:
            start = base if base is not None else goal.pose
            pose, moved = self.navigator.clear_goal(np.asarray(start, float), goal.pose)
            if moved > 0.0:
                self._warnings.append(f"walk_to goal ({goal.pose[0]:.2f}, {goal.pose[1]:.2f}) overlaps an obstacle: "
                                      f"moved {moved * 100:.1f} cm to ({pose[0]:.2f}, {pose[1]:.2f})")
                goal = dataclasses.replace(goal, pose=pose)
            self._path_for(base, goal.pose)
        return goal

    def set_grid(self, name: str, origin: tuple[float, float], resolution: float, data: np.ndarray,
                 time: float) -> bool:
        """An occupancy grid walk_to plans around (`map`, `perception/obstacles`, ...): odom (x, y) of cell (0, 0)'s
        outer corner [m], cell side [m], values (rows along y, columns along x; 100 occupied, 0 free, -1 unknown),
        stamp [s]. Returns whether its contents changed (the path is then checked at the next update).

        Raises:
            NavigationError: not a 2D grid with a positive resolution.
        """
        return self.navigator.set_layer(name, GridLayer((float(origin[0]), float(origin[1])), float(resolution),
                                                        np.asarray(data, dtype=np.int8), float(time)))

    def drop_stale_grid(self, name: str, now: float) -> bool:
        """Forget grid `name` if older than `navigation.grid_timeout`; returns whether it was dropped."""
        return self.navigator.drop_stale(name, now, self.params.navigation.grid_timeout)

    def _path_for(self, base: np.ndarray, goal: np.ndarray) -> NavPath:
        """The path from `base` to `goal` (odom x, y, yaw), cached for the same ends and grids."""
        key = tuple(round(float(v), 4) for v in (*base, *goal))
        if self._checked is not None and self._checked[0] == key and self._checked[1] == self.navigator.version:
            return self._checked[2]
        path = self.navigator.plan(np.asarray(base, float), np.asarray(goal, float))
        self._checked = (key, self.navigator.version, path)
        return path

    def set_goal(self, time: float, frame_id: str, position: tuple[float, float, float],
                 orientation: tuple[float, float, float, float]) -> GoalProgress:
        """Accept a walk_to target (base_footprint pose) or raise GaitError saying why it cannot be reached.

        A goal already active is aborted (preempted). The velocity command is dropped.
        """
        goal = self.check_goal(time, frame_id, position, orientation)
        if self.progress is not None and not self.progress.done:
            self._finish_goal(GoalStatus.ABORTED, "preempted by a new goal")
        self.route = self._path_for(self._measured_base, goal.pose) if self.navigator.active else None
        self._route_s, self._route_peak = 0.0, 0.0
        self._route_version, self._route_time = self.navigator.version, time
        self.progress = GoalProgress(goal, start_base=self._measured_base.copy())
        self.command = None
        return self.progress

    def cancel_goal(self) -> None:
        """Stop walking to the goal: finish the step, stand with the feet together, then report it canceled."""
        if self.progress is not None and not self.progress.done:
            self.progress.status = GoalStatus.CANCELING
            self.progress.message = "canceled"

    @property
    def floor_height(self) -> float:
        """[m] z of the floor the robot stands on (from the first measured state)."""
        return self._floor

    # ------------------------------------------------------------------------------------------------ the cycle
    def set_speed_scale(self, scale: float) -> None:
        """The safety node's speed scale (0..1; a non-finite value is 0: stop)."""
        scale = float(scale)
        self.speed_scale = min(max(scale, 0.0), 1.0) if math.isfinite(scale) else 0.0

    @property
    def safety_hold(self) -> bool:
        """A safety stop holds the robot (speed scale 0)."""
        return self.speed_scale <= 0.0

    def update(self, now: float, measured: MeasuredState | None) -> PlannerOutput | None:
        """Replan at `now` [s] from the measured state (None: none yet, or too old to use).

        Returns None until a first measured state has arrived.
        """
        warnings, self._warnings = self._warnings, []
        events: list[str] = []
        if self.safety_hold and self.progress is not None and self.progress.status == GoalStatus.ACTIVE:
            self.progress.held += min(max(now - self._last_update, 0.0), 1.0)
        self._last_update = now
        if measured is not None:
            self._measured_base = measured.base_pose
            if self._fallen(measured):
                if self.phase != GaitPhase.FALLEN:
                    events.append("fall detected (CoM too low): planning stops until the robot stands again")
                    if self.progress is not None and not self.progress.done:
                        self._finish_goal(GoalStatus.ABORTED, "the robot fell", measured)
                self.phase = GaitPhase.FALLEN
                self.plan = None
                self.command = None
                self._idle = True
                return PlannerOutput(now, self.phase, None, None, (), dict(measured.soles), warnings, events)
            if self.phase == GaitPhase.FALLEN:
                events.append("standing again: planning resumes")
                self.phase = GaitPhase.STANDING
        if self.plan is None:
            if measured is None:
                return None
            self._initialize(now, measured)
        self._record_landings(now, measured)
        self._navigate(now, measured, events)
        mode = self._mode(now, warnings)
        if self._idle:
            # Idle: follow the measured standing robot; take over from it when asked to walk.
            if measured is not None:
                self._initialize(now, measured)
            if mode == "stop":
                plan = self.plan
                return PlannerOutput(now, GaitPhase.STANDING, plan, plan.sample(self._sample_times(now, plan)), (),
                                     {s: p.copy() for s, p in self._soles.items()}, warnings, events, active=False)
            self._idle = False
            self._standing_since = None
            events.append(f"taking over from standing ({mode})")
        plan, dcm_error, adjustment, plan_events = self._replan(now, measured, mode)
        events.extend(plan_events)
        self.plan = plan
        future = tuple(step for step in plan.footsteps if step.touch_down > now)
        if future:
            self.phase = GaitPhase.STOPPING if mode == "stop" else GaitPhase.WALKING
        else:
            self.phase = GaitPhase.STOPPING if now < plan.end_time else GaitPhase.STANDING
        if measured is not None and self.phase == GaitPhase.STANDING:
            self._learn_base_offset(measured)
        self._update_goal(now, measured, events)
        samples = plan.sample(self._sample_times(now, plan))
        output = PlannerOutput(now, self.phase, plan, samples, future, {s: p.copy() for s, p in self._soles.items()},
                               warnings, events, dcm_error, adjustment)
        if self.phase == GaitPhase.STANDING and mode == "stop":
            self._standing_since = now if self._standing_since is None else self._standing_since
            if now - self._standing_since >= self.params.idle_time:
                self._idle = True
                events.append("standing: idle")
        else:
            self._standing_since = None
        return output

    # ------------------------------------------------------------------------------------------------ state
    def _fallen(self, measured: MeasuredState) -> bool:
        floor = min(measured.sole_heights.values())
        return measured.com_position[2] - floor < self.params.fall_com_height_ratio * self.params.com_height

    def _initialize(self, now: float, measured: MeasuredState) -> None:
        """A standing plan from the measured state: the CoM moves over the feet's midpoint at `com_height`."""
        self._soles = {side: pose.copy() for side, pose in measured.soles.items()}
        self._floor = float(np.mean(list(measured.sole_heights.values())))
        self._recorded = set()
        self._last_side, self._last_velocity, self._last_touch_down = None, np.zeros(3), -math.inf
        height = float(measured.com_position[2] - self._floor)
        self._height = HeightProfile(now, height, now + self.params.height_transition_time, self.params.com_height)
        middle = feet_pose(self._soles, self.geometry.side_sign)[:2]
        times = np.array([now, now + self.params.height_transition_time])
        xi = measured.dcm(self.omega)
        weights = dcm_weights(times, self.omega)
        p0 = closest_point_in_polygon((xi - weights[1] * middle) / weights[0], self._support(self._soles))
        lipm = DcmTrajectory(times, np.array([p0, middle]), self.omega, measured.com_position[:2])
        self.plan = GaitPlan(now, self._floor, {s: p.copy() for s, p in self._soles.items()}, (), (), lipm,
                             self._height)
        self.phase = GaitPhase.STANDING

    def _record_landings(self, now: float, measured: MeasuredState | None) -> None:
        """Footsteps whose touch-down has passed: the sole is where it was measured (else where planned)."""
        for step in self.plan.footsteps:
            key = (step.side, round(step.touch_down, 6))
            if step.touch_down > now or key in self._recorded:
                continue
            self._recorded.add(key)
            pose = step.pose
            if measured is not None and measured.time >= step.touch_down - 2.0 * self.sample_period:
                pose = measured.soles[step.side].copy()
            self._soles[step.side] = pose
            self._last_side = step.side
            self._last_velocity = step.velocity.copy()
            self._last_touch_down = step.touch_down
            if self.progress is not None and not self.progress.done:
                self.progress.steps_taken += 1
        if len(self._recorded) > 4 * MAX_PLANNED_STEPS:
            self._recorded = {key for key in self._recorded if key[1] > now - 10.0}

    def _learn_base_offset(self, measured: MeasuredState) -> None:
        """Where the base stands over the feet (for walk_to goals, given for the base), from a still robot."""
        if float(np.linalg.norm(measured.com_velocity[:2])) > STILL_SPEED:
            return
        offset = relative(feet_pose(measured.soles, self.geometry.side_sign), measured.base_pose)
        change = offset - self._base_in_feet
        change[2] = wrap_angle(change[2])
        self._base_in_feet = self._base_in_feet + BASE_OFFSET_FILTER * change

    def set_paused(self, paused: bool, time: float) -> None:
        """Pause walking at `time` [s] (finish the step and stand; cmd_vel and a walk_to goal wait) or resume it (a
        goal's time limit is extended by the time paused)."""
        if paused and not self.paused:
            self._paused_since = time
        elif not paused and self.paused and self.progress is not None and not self.progress.done:
            goal = self.progress.goal
            self.progress.goal = replace(goal, time=goal.time + max(time - self._paused_since, 0.0))
        self.paused = bool(paused)

    def _mode(self, now: float, warnings: list[str]) -> str:
        if self.paused:
            return "stop"
        if self.progress is not None and self.progress.status == GoalStatus.ACTIVE:
            return "stop" if self.safety_hold else "goal"
        if self.safety_hold:
            return "stop"
        command = self.command
        if command is None:
            return "stop"
        if now - command.time > self.params.command_timeout:
            if not self._stale_reported:
                warnings.append(f"cmd_vel is stale ({now - command.time:.2f} s old): finishing the step and "
                                "standing with the feet together")
                self._stale_reported = True
            return "stop"
        return "velocity" if np.any(np.abs(command.velocity) > 1e-4) else "stop"

    # ------------------------------------------------------------------------------------------------ planning
    def _replan(self, now: float, measured: MeasuredState | None, mode: str
                ) -> tuple[GaitPlan, float, np.ndarray, list[str]]:
        prev = self.plan
        events: list[str] = []
        # Target of the DCM at now: the previous reference's, re-anchored on the measurement beyond the threshold.
        ref = prev.lipm.evaluate(np.array([now]))
        xi_target, com_start = ref.dcm[0], ref.com[0]
        dcm_error = 0.0
        reanchored = False
        if measured is not None and measured.time > now - 0.2:
            at = prev.lipm.evaluate(np.array([min(measured.time, now)]))
            error = measured.dcm(self.omega) - at.dcm[0]
            dcm_error = float(np.linalg.norm(error))
            if dcm_error > self.params.dcm_error_threshold:
                share = 1.0 - self.params.dcm_error_threshold / dcm_error
                xi_target = xi_target + share * error
                com_start = com_start + share * (measured.com_position[:2] - at.com[0])
                reanchored = True
        build, points, adjustment, residual = self._feedback(now, mode, prev, reanchored, ref.zmp[0], xi_target,
                                                             hurry=False)
        if residual is not None and float(np.linalg.norm(residual)) > self.params.hurry_threshold:
            hurried = self._feedback(now, mode, prev, reanchored, ref.zmp[0], xi_target, hurry=True)
            if hurried[0].hurried:
                build, points, adjustment, residual = hurried
                events.append(f"stepping sooner: the landing point cannot absorb the DCM error "
                              f"({float(np.linalg.norm(residual if residual is not None else 0.0)):.3f} m left)")
        if np.any(adjustment != 0.0):
            events.append(f"capture-point feedback: next landing moved by ({adjustment[0]:+.3f}, "
                          f"{adjustment[1]:+.3f}) m")
        lipm = DcmTrajectory(np.array(build.knot_times), points, self.omega, com_start)
        plan = GaitPlan(now, self._floor, self._plan_start_soles(now, prev), tuple(build.footsteps),
                        tuple(build.swings), lipm, self._height)
        if reanchored:
            events.append(f"re-anchored on the measured state (DCM error {dcm_error:.3f} m)")
        return plan, dcm_error, adjustment, events

    def _feedback(self, now: float, mode: str, prev: GaitPlan, reanchored: bool, zmp_now: np.ndarray,
                  xi_target: np.ndarray, hurry: bool) -> tuple[_Build, np.ndarray, np.ndarray, np.ndarray | None]:
        """Build the plan and solve its ZMP knots for `xi_target`; if the knots cannot reach it, move the adjustable
        landing point by what the DCM's sensitivity to it says (capture-point feedback).

        Returns:
            The build, its ZMP knots (K+1, 2), the landing adjustment [m] (2,), and the DCM residual left (or None).
        """
        build = self._build(now, mode, prev, None, reanchored, zmp_now, hurry)
        points, residual = self._solve_knots(build, xi_target)
        adjustment = np.zeros(2)
        if residual is None or build.adjustable is None:
            return build, points, adjustment, residual
        nominal_xi = self._nominal_dcm(build)
        gains = []
        for axis in range(2):
            probe = np.zeros(2)
            probe[axis] = SENSITIVITY_PROBE
            shifted = self._build(now, mode, prev, probe, reanchored, zmp_now, hurry)
            gains.append((self._nominal_dcm(shifted)[axis] - nominal_xi[axis]) / SENSITIVITY_PROBE)
        gains = np.array(gains)
        if np.all(np.abs(gains) > MIN_LANDING_GAIN):
            adjustment = np.clip(residual / gains, -self.params.max_step_outward, self.params.max_step_outward)
            build = self._build(now, mode, prev, adjustment, reanchored, zmp_now, hurry)
            points, residual = self._solve_knots(build, xi_target)
        return build, points, adjustment, residual

    def _nominal_dcm(self, build: _Build) -> np.ndarray:
        """The DCM at now of the nominal knots.  # (2,)"""
        weights = dcm_weights(np.array(build.knot_times), self.omega)
        return weights @ np.array(build.knot_points)

    def _solve_knots(self, build: _Build, xi_target: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """ZMP knots that put the plan's DCM at now on `xi_target`, each within its support polygon, moved as
        little as possible from the nominal ones; and the DCM residual left when the polygons do not allow it
        (None if none).  # (K+1, 2)

        The DCM at now is linear in the knots, xi = sum_k w_k p_k. Without the polygons the least-squares move is
        p_k = n_k + w_k lambda (near knots move most); knots that leave their polygon are projected back onto it and
        held, and the rest of the residual goes to the others, a few rounds.
        """
        weights = dcm_weights(np.array(build.knot_times), self.omega)
        points = np.array(build.knot_points, dtype=float)
        free = np.ones(len(points), dtype=bool)
        for _ in range(len(points) + 1):
            residual = xi_target - weights @ points
            denominator = float(np.sum(weights[free] ** 2))
            if float(np.linalg.norm(residual)) < 1e-7 or denominator < 1e-12:
                break
            step = residual / denominator
            for k in np.flatnonzero(free):
                moved = points[k] + weights[k] * step
                inside = closest_point_in_polygon(moved, build.knot_supports[k])
                points[k] = inside
                if not np.allclose(inside, moved, atol=1e-9):
                    free[k] = False
        residual = xi_target - weights @ points
        return points, (residual if float(np.linalg.norm(residual)) > RESIDUAL_TOLERANCE else None)

    def _plan_start_soles(self, now: float, prev: GaitPlan) -> dict[str, np.ndarray]:
        soles = {side: pose.copy() for side, pose in self._soles.items()}
        flight = prev.in_flight(now)
        if flight is not None:
            soles[prev.footsteps[flight].side] = prev.swings[flight].start.copy()
            soles[prev.footsteps[flight].side][2] = wrap_angle(soles[prev.footsteps[flight].side][2])
        return soles

    def _support(self, soles: dict[str, np.ndarray]) -> np.ndarray:
        """Support polygon of the given soles, shrunk by zmp_margin, counter-clockwise.  # (k, 2)"""
        key = tuple(round(float(v), 9) for pose in soles.values() for v in pose)
        hull = self._support_cache.get(key)
        if hull is None:
            margin = self.params.zmp_margin
            length = max(self.geometry.sole_length - 2 * margin, 1e-3)
            width = max(self.geometry.sole_width - 2 * margin, 1e-3)
            corners = [sole_corners(pose, length, width) for pose in soles.values()]
            hull = corners[0] if len(corners) == 1 else convex_hull_2d(np.vstack(corners))
            if len(self._support_cache) > SUPPORT_CACHE_SIZE:
                self._support_cache.clear()
            self._support_cache[key] = hull
        return hull

    def _heel_toe(self, sole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        half = 0.5 * self.params.zmp_heel_to_toe
        return compose(sole, pose2(-half, 0.0, 0.0))[:2], compose(sole, pose2(half, 0.0, 0.0))[:2]

    def _build(self, now: float, mode: str, prev: GaitPlan, adjustment: np.ndarray | None, reanchored: bool,
               zmp_now: np.ndarray, hurry: bool = False) -> _Build:
        """Footsteps, swings and nominal ZMP knots from now (see the module docstring).

        Args:
            adjustment: [m] moves the adjustable landing point (and the steps planned from it); None: no move.
            reanchored: the plan re-anchors on the measured state (a standing plan then settles again).
            zmp_now: the previous plan's ZMP at now: the nominal first knot (projected into the support).
            hurry: land the swing foot as early as allowed and start the next step as soon as allowed.
        """
        params, geometry, dt = self.params, self.geometry, self.sample_period
        min_gap = 0.5 * dt
        soles = {side: pose.copy() for side, pose in self._soles.items()}
        footsteps: list[Footstep] = []
        swings: list[SwingTrajectory] = []
        times: list[float] = [now]
        points: list[np.ndarray] = [np.zeros(2)]
        supports: list[np.ndarray] = []

        def knot(time: float, point: np.ndarray, support: np.ndarray) -> None:
            if time > times[-1] + min_gap:
                times.append(time)
                points.append(np.asarray(point, dtype=float))
                supports.append(support)

        adjustable: int | None = None
        hurried = False
        last_side, velocity = self._last_side, self._last_velocity.copy()
        flight = prev.in_flight(now)
        if flight is not None:
            step, swing = prev.footsteps[flight], prev.swings[flight]
            stance_side = geometry.other(step.side)
            supports.append(self._support({stance_side: soles[stance_side]}))
            if step.touch_down - now > params.swing_freeze_time:
                adjustable = 0
                landing = step.pose
                if adjustment is not None:
                    landing, _ = clamp_step(soles[stance_side], geometry.side_sign[step.side],
                                            step.pose + np.array([adjustment[0], adjustment[1], 0.0]), self.limits)
                # A hurried swing still gets swing_freeze_time to come down: landing sooner than that from mid-swing
                # asks the leg for accelerations the stance foot's contact cannot react (the robot then tips over).
                early = _grid_up(max(now + max(params.swing_freeze_time, 2 * dt), step.lift_off + self.min_swing_time),
                                 dt)
                if hurry and early < step.touch_down - 0.5 * dt:
                    swing = swing.retime(now, early, landing)
                    step = replace(step, pose=np.asarray(landing, dtype=float), touch_down=early, hurried=True)
                    hurried = True
                elif adjustment is not None:
                    swing = swing.retarget(now, landing)
                    step = step.moved_to(landing)
            footsteps.append(step)
            swings.append(swing)
            knot(step.touch_down, self._heel_toe(soles[stance_side])[1], supports[0])
            soles[step.side] = step.pose.copy()
            last_side, velocity = step.side, step.velocity.copy()
            next_lift = step.touch_down + (self.min_double_support_time if step.hurried else self.double_support_time)
        else:
            supports.append(self._support(soles))
            upcoming = [s for s in prev.footsteps if s.lift_off > now]
            if upcoming:
                next_lift = upcoming[0].lift_off
            else:
                next_lift = _grid_up(max(now + self.start_time, self._last_touch_down + self.double_support_time,
                                         self._height.end_time), dt)
            soonest = _grid_up(max(now + dt, self._last_touch_down + self.min_double_support_time), dt)
            if hurry and self._last_side is not None and soonest < next_lift - 0.5 * dt:
                next_lift, hurried = soonest, True
        horizon = now + params.plan_horizon
        goal_feet = None
        if mode == "goal":
            goal_feet = compose(self.progress.goal.pose, inverse(self._base_in_feet))
        lift = next_lift

        def add_step(side: str, landing: np.ndarray, step_velocity: np.ndarray) -> Footstep:
            """Plan the step of `side` lifting off at `lift` onto `landing` (the first adjustable one moved by the
            feedback `adjustment`, every one clamped to the step limits), with its swing and ZMP knots."""
            nonlocal adjustable
            stance_side = geometry.other(side)
            stance = soles[stance_side]
            if adjustable is None and adjustment is not None:
                landing = landing + np.array([adjustment[0], adjustment[1], 0.0])
            landing, _ = clamp_step(stance, geometry.side_sign[side], landing, self.limits)
            if adjustable is None:
                adjustable = len(footsteps)
            step = Footstep(side, landing, self._floor, lift, lift + self.swing_time, step_velocity)
            footsteps.append(step)
            swings.append(SwingTrajectory(soles[side], landing, self._floor, self._floor, step.lift_off,
                                          step.touch_down, params.step_height))
            heel, toe = self._heel_toe(stance)
            stance_support = self._support({stance_side: stance})
            knot(step.lift_off, heel, stance_support)
            knot(step.touch_down, toe, stance_support)
            soles[side] = landing
            return step

        for _ in range(MAX_PLANNED_STEPS):
            if mode in ("velocity", "goal") and lift > horizon:
                break
            if last_side is None:
                side = self._first_side(mode, soles, goal_feet)
                if side is None:
                    break
            else:
                side = geometry.other(last_side)
            landing, new_velocity = self._next_landing(mode, side, soles, velocity, goal_feet)
            if landing is None:
                break
            step = add_step(side, landing, new_velocity)
            last_side, velocity = side, new_velocity
            lift = step.touch_down + self.double_support_time
        # Closing step: stand with the feet side by side.
        if last_side is not None and not self._feet_together(soles):
            side = geometry.other(last_side)
            stance = soles[geometry.other(side)]
            sign = geometry.side_sign[side]
            landing = landing_for_displacement(stance, sign, np.zeros(3), params.step_width)
            if goal_feet is not None:
                target = compose(goal_feet, pose2(0.0, 0.5 * sign * params.step_width, 0.0))
                if step_within_limits(stance, sign, target, self.limits):
                    landing = target
            add_step(side, landing, np.zeros(3))
        middle = feet_pose(soles, geometry.side_sign)[:2]
        if footsteps:
            end = footsteps[-1].touch_down + self.stop_time
        elif reanchored or prev.end_time > now + min_gap:
            end = max(prev.end_time, now + (self.stop_time if reanchored else 0.0))
        else:
            end = now
        knot(end, middle, self._support(soles))
        points[0] = middle if len(times) == 1 else closest_point_in_polygon(zmp_now, supports[0])
        if not footsteps:
            adjustable = None
        return _Build(footsteps, swings, times, points, supports, adjustable, soles, hurried)

    def _feet_together(self, soles: dict[str, np.ndarray]) -> bool:
        return feet_together(soles, self.geometry.side_sign, self.params.step_width, AT_GOAL_POSITION, AT_GOAL_YAW)

    def _first_side(self, mode: str, soles: dict[str, np.ndarray], goal_feet: np.ndarray | None) -> str | None:
        """Which foot starts: the one on the side of a sideways or turning motion, else the rear one."""
        if mode == "velocity":
            desired = self.command.velocity
        elif mode == "goal":
            if self._at_goal(soles, goal_feet):
                return None
            middle = feet_pose(soles, self.geometry.side_sign)
            desired = self._goal_velocity(middle, goal_feet, middle)
        else:
            return None
        sign = self.geometry.side_sign
        sides = list(sign)
        for component in (desired[1], desired[2]):
            if abs(component) > 1e-3:
                return next(side for side in sides if sign[side] * component > 0.0)
        frame = feet_pose(soles, sign)
        ahead = {side: relative(frame, soles[side])[0] * (1.0 if desired[0] >= 0.0 else -1.0) for side in sides}
        rear = min(sides, key=lambda side: ahead[side])
        return rear if abs(ahead[sides[0]] - ahead[sides[1]]) > 0.01 else sides[0]

    def _rate_limited(self, previous: np.ndarray, desired: np.ndarray) -> np.ndarray:
        """The step velocity after `previous`, towards `desired`, within the acceleration limits."""
        p = self.params
        period = self.step_period
        out = previous.copy()
        for axis, (accel, decel) in enumerate(((p.max_acceleration, p.max_deceleration),
                                               (p.max_acceleration, p.max_deceleration),
                                               (p.max_yaw_acceleration, p.max_yaw_acceleration))):
            speeding_up = abs(desired[axis]) > abs(previous[axis]) and desired[axis] * previous[axis] >= 0.0
            limit = (accel if speeding_up else decel) * period
            out[axis] = previous[axis] + float(np.clip(desired[axis] - previous[axis], -limit, limit))
        return out

    def _next_landing(self, mode: str, side: str, soles: dict[str, np.ndarray], velocity: np.ndarray,
                      goal_feet: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
        """Landing pose (before clamping) and step velocity of the next step of `side`, or None to stop stepping."""
        sign = self.geometry.side_sign[side]
        stance = soles[self.geometry.other(side)]
        width = self.params.step_width
        if mode == "goal":
            if self._at_goal(soles, goal_feet):
                return None, np.zeros(3)
            target = compose(goal_feet, pose2(0.0, 0.5 * sign * width, 0.0))
            frame = feet_frame(stance, sign, width)
            middle = feet_pose(soles, self.geometry.side_sign)
            desired = self.speed_scale * self._goal_velocity(frame, goal_feet, middle)
            new_velocity = self._rate_limited(velocity, desired)
            direct = relative(frame, compose(goal_feet, pose2(0.0, 0.0, 0.0)))
            step_speed = np.abs(direct) / self.step_period
            slow_enough = bool(np.all(step_speed[:2] <= np.abs(new_velocity[:2]) + self.params.max_deceleration
                                      * self.step_period + 1e-6))
            if (step_within_limits(stance, sign, target, self.limits) and slow_enough
                    and self._following(feet_pose(soles, self.geometry.side_sign)) is None):
                return target, np.zeros(3)
        else:
            desired = self.speed_scale * self.command.velocity if mode == "velocity" else np.zeros(3)
            new_velocity = self._rate_limited(velocity, desired)
            if mode == "stop" and np.all(np.abs(new_velocity) < 1e-3):
                return None, np.zeros(3)
        displacement = step_displacement(new_velocity, sign, self.step_period)
        return landing_for_displacement(stance, sign, displacement, width), new_velocity

    def _at_goal(self, soles: dict[str, np.ndarray], goal_feet: np.ndarray) -> bool:
        width = self.params.step_width
        for side, pose in soles.items():
            target = compose(goal_feet, pose2(0.0, 0.5 * self.geometry.side_sign[side] * width, 0.0))
            rel = relative(target, pose)
            if math.hypot(rel[0], rel[1]) > AT_GOAL_POSITION or abs(rel[2]) > AT_GOAL_YAW:
                return False
        return True

    def _goal_velocity(self, frame: np.ndarray, goal_feet: np.ndarray, middle: np.ndarray) -> np.ndarray:
        """Step velocity (forward, left, yaw rate) that takes the feet frame towards the goal: along the path around
        obstacles when there is one (`_path_velocity`, from `middle`, the soles' midpoint), else facing the straight
        line when far; stepping omnidirectionally onto the goal pose within `goal_approach_distance` (of path)."""
        p = self.params
        following = self._following(middle)
        if following is not None:
            return self._path_velocity(frame, *following)
        rel = relative(frame, goal_feet)
        distance = math.hypot(rel[0], rel[1])
        cover = 2.0 * self.step_period  # a leading and a trailing step
        if distance > p.goal_approach_distance:
            heading = math.atan2(rel[1], rel[0])
            yaw_rate = float(np.clip(heading / cover, -p.goal_yaw_rate, p.goal_yaw_rate))
            # Slow down in time to arrive at rest: v^2 <= 2 a d over the distance left to the approach zone.
            brake = math.sqrt(2.0 * p.max_deceleration * 0.5 * (distance - 0.5 * p.goal_approach_distance))
            forward = min(p.goal_speed, brake) * max(math.cos(heading), 0.0) ** 2 if abs(heading) < 0.6 else 0.0
            return np.array([forward, 0.0, yaw_rate])
        velocity = rel / cover
        speed = math.hypot(velocity[0], velocity[1])
        if speed > p.goal_speed:
            velocity[:2] *= p.goal_speed / speed
        velocity[2] = float(np.clip(velocity[2], -p.goal_yaw_rate, p.goal_yaw_rate))
        lower = np.array([-p.max_backward_speed, -p.max_lateral_speed, -p.max_yaw_rate])
        upper = np.array([p.max_forward_speed, p.max_lateral_speed, p.max_yaw_rate])
        return np.clip(velocity, lower, upper)

    # ------------------------------------------------------------------------------------------------ navigation
    def _following(self, middle: np.ndarray) -> tuple[np.ndarray, float] | None:
        """(base pose, arc length) when the robot whose soles' midpoint is `middle` should follow the path (more than
        goal_approach_distance of it left), else None (no path, or the last stretch: stepping onto the goal). The
        midpoint of both soles does not sway from step to step as a stance sole does."""
        route = self.route
        if route is None:
            return None
        base = compose(middle, self._base_in_feet)
        s = route.project(base[:2], self._route_s - 0.2, self._route_s + 2.0)
        if route.length - s <= self.params.goal_approach_distance:
            return None
        return base, s

    def _path_velocity(self, frame: np.ndarray, base: np.ndarray, s: float) -> np.ndarray:
        """Step velocity (in `frame`'s axes) that follows the path from base pose `base` at arc length s: along the
        chord to the point `lookahead` ahead at the top speed of that direction (forward, backward and sideways
        limits: an ellipse), plus a gentle pull back onto the path (PATH_PULL_GAIN x the cross-track error, at most
        PATH_PULL_SPEED); turning towards the planned heading `heading_lead` ahead, advancing less the more there is
        to turn (none from `turn_slowdown` on), and slowing down to arrive at rest at the last stretch and before a
        turn in place ahead (where the planned heading changes by more than `turn_slowdown`)."""
        p, nav = self.params, self.params.navigation
        route = self.route
        cover = 2.0 * self.step_period
        heading_error = wrap_angle(route.heading_at(max(s, self._route_peak) + nav.heading_lead) - base[2])
        yaw_rate = float(np.clip(heading_error / cover, -p.goal_yaw_rate, p.goal_yaw_rate))
        here = route.point_at(s)
        chord = route.point_at(s + nav.lookahead) - here
        length = float(np.hypot(*chord))
        if length < 1e-6:
            return np.array([0.0, 0.0, yaw_rate])
        tangent = chord / length
        normal = np.array([-tangent[1], tangent[0]])
        cross = float(np.dot(base[:2] - here, normal))
        pull = -float(np.clip(PATH_PULL_GAIN * cross, -PATH_PULL_SPEED, PATH_PULL_SPEED))
        c, s_ = math.cos(frame[2]), math.sin(frame[2])

        def in_frame(vector: np.ndarray) -> np.ndarray:
            return np.array([c * vector[0] + s_ * vector[1], -s_ * vector[0] + c * vector[1]])

        along = in_frame(tangent)
        top = float(self.navigator.speeds.along(np.array(math.atan2(along[1], along[0]))))
        remaining = route.length - s
        # Arrive at rest at the last stretch, and (creeping the last bit) where a turn in place the heading plan put
        # ahead begins.
        brake = min(math.sqrt(p.max_deceleration * max(remaining - 0.5 * p.goal_approach_distance, 0.0)),
                    math.sqrt(p.max_deceleration * max(route.next_turn(s, nav.turn_slowdown) - nav.heading_lead - s,
                                                       0.0)) + TURN_CREEP_SPEED)
        advance = max(0.0, 1.0 - abs(heading_error) / nav.turn_slowdown)
        # Turning and stepping share the step limits (as cmd_vel's ellipsoid): the turn keeps its rate.
        share = math.sqrt(max(0.0, 1.0 - (yaw_rate / p.goal_yaw_rate) ** 2))
        velocity = along * min(top, brake, nav.speed) * advance + in_frame(normal) * pull
        speeds = self.navigator.speeds
        longitudinal = speeds.forward if velocity[0] >= 0.0 else speeds.backward
        load = math.hypot(velocity[0] / longitudinal, velocity[1] / speeds.lateral)
        if load > share:
            velocity *= share / load
        return np.array([velocity[0], velocity[1], yaw_rate])

    def _navigate(self, now: float, measured: MeasuredState | None, events: list[str]) -> None:
        """Follow the progress along the path; replan when the grids changed (at once if the path is now blocked,
        else at most every `replan_period`, keeping the current path unless the new one is clearly cheaper) or the
        robot strayed from it; abort the goal when no path is left."""
        progress, route = self.progress, self.route
        if progress is None or progress.done or progress.status != GoalStatus.ACTIVE or measured is None:
            return
        nav = self.params.navigation
        base, goal = measured.base_pose, progress.goal.pose
        if route is None:
            if not self.navigator.active:
                return
            route = self.route = NavPath(np.array([base[:2], goal[:2]]), np.array([0.0, 1e-9]),
                                         np.array([base[2], goal[2]]), np.array([base[:2], goal[:2]]))
            self._route_version = -1  # a grid arrived while walking straight: plan at once
        self._route_s = route.project(base[:2], self._route_s - 0.2, self._route_s + 2.0)
        # The heading target never goes back along the path: a robot turning in place where a turn begins (its feet
        # moving a little about it) keeps the turned heading as its target.
        self._route_peak = max(self._route_peak, self._route_s)
        strayed = route.distance_to(base, self._route_s) > nav.max_deviation
        changed = self._route_version != self.navigator.version
        if not (strayed or changed):
            return
        blocked = strayed or self._route_version == -1 or self.navigator.blocked(route, self._route_s, base, goal)
        if not blocked:
            if now - self._route_time < nav.replan_period:
                return  # checked again at the next grid change after the period
            near, self.route = self.navigator.changed_near(route, self._route_s, goal)
            route = self.route
            self._route_version = self.navigator.version
            if not near:
                return
        self._route_version, self._route_time = self.navigator.version, now
        try:
            path = self.navigator.plan(base, goal)
        except NavigationError as error:
            if blocked:
                self._finish_goal(GoalStatus.ABORTED, f"path blocked: {error}", measured)
                events.append(f"walk_to aborted: {error}")
            return
        if not blocked:
            current = self.navigator.cost(route, self._route_s, base, goal)
            if self.navigator.cost(path, 0.0, base, goal) > (1.0 - nav.replan_improvement) * current:
                return
        self.route, self._route_s, self._route_peak = path, 0.0, 0.0
        reason = "strayed from the path" if strayed else "path blocked" if blocked else "a cheaper path"
        events.append(f"walk_to replanned ({reason}): {path.length:.2f} m, {len(path.waypoints)} waypoints")

    # ------------------------------------------------------------------------------------------------ goal
    def _update_goal(self, now: float, measured: MeasuredState | None, events: list[str]) -> None:
        progress = self.progress
        if progress is None or progress.done:
            return
        if measured is not None:
            rel = relative(progress.goal.pose, measured.base_pose)
            progress.distance_remaining = math.hypot(rel[0], rel[1])
            progress.angle_remaining = -rel[2]
        if self.paused and progress.status == GoalStatus.ACTIVE:
            return  # waits, standing, until resumed
        if progress.status == GoalStatus.CANCELING:
            if self.phase == GaitPhase.STANDING:
                self._finish_goal(GoalStatus.CANCELED, "canceled: standing with the feet together", measured)
                events.append("walk_to canceled")
            return
        p = self.params
        start = progress.goal.time
        if self.phase != GaitPhase.STANDING or measured is None:
            if now - start - progress.held > self._goal_deadline(progress):
                self._finish_goal(GoalStatus.ABORTED, f"timed out after {now - start - progress.held:.1f} s, "
                                  f"{progress.distance_remaining:.2f} m from the goal", measured)
                events.append("walk_to aborted: timeout")
            return
        if float(np.linalg.norm(measured.com_velocity[:2])) > STILL_SPEED:
            return
        if (progress.distance_remaining <= p.goal_position_tolerance
                and abs(progress.angle_remaining) <= p.goal_yaw_tolerance):
            self._finish_goal(GoalStatus.SUCCEEDED, f"reached: {progress.distance_remaining:.3f} m, "
                              f"{math.degrees(progress.angle_remaining):.1f} deg from the goal", measured)
            events.append("walk_to succeeded")
            return
        goal_feet = compose(progress.goal.pose, inverse(self._base_in_feet))
        if not self._at_goal(self._soles, goal_feet):
            return  # the next update plans the remaining steps
        progress.corrections += 1
        if progress.corrections > p.goal_max_corrections:
            self._finish_goal(GoalStatus.ABORTED, f"stopped {progress.distance_remaining:.3f} m and "
                              f"{math.degrees(progress.angle_remaining):.1f} deg from the goal after "
                              f"{p.goal_max_corrections} corrections", measured)
            events.append("walk_to aborted: could not settle within tolerance")
            return
        # Where the base really stands over the feet differs from the estimate: learn it and step again.
        self._base_in_feet = relative(feet_pose(measured.soles, self.geometry.side_sign), measured.base_pose)
        events.append(f"walk_to correction {progress.corrections}: {progress.distance_remaining:.3f} m, "
                      f"{math.degrees(progress.angle_remaining):.1f} deg left")

    def _goal_deadline(self, progress: GoalProgress) -> float:
        """[s] after the goal's start: the factor times the nominal time (walking plus half a turn) plus 10 s."""
        p = self.params
        distance = math.hypot(*(progress.goal.pose[:2] - progress.start_base[:2]))
        if self.route is not None:
            distance = max(distance, self.route.length + 0.5 * abs(wrap_angle(progress.goal.pose[2]
                                                                              - progress.start_base[2])))
        return p.goal_time_factor * (distance / p.goal_speed + math.pi / p.goal_yaw_rate) + 10.0

    def _finish_goal(self, status: GoalStatus, message: str, measured: MeasuredState | None = None) -> None:
        progress = self.progress
        progress.status = status
        progress.message = message
        if measured is not None:
            progress.final_pose = measured.base_pose.copy()

    # ------------------------------------------------------------------------------------------------ samples
    def _sample_times(self, now: float, plan: GaitPlan) -> np.ndarray:
        """Sample times of the reference window: every sample_period from the last grid time at or before now over
        dense_horizon, then every sparse_sample_period, every lift-off and touch-down, the plan's end, and a few
        settling samples after it.  # (m,)"""
        dt, sparse = self.sample_period, self.params.sparse_sample_period
        start = math.floor(now / dt + 1e-9) * dt
        end = plan.end_time
        dense_end = min(start + self.params.dense_horizon, end)
        times = [*np.arange(start, dense_end + 1e-9, dt).tolist()]
        times += np.arange(math.ceil(dense_end / sparse) * sparse, end, sparse).tolist()
        times += [t for step in plan.footsteps for t in (step.lift_off, step.touch_down) if start < t < end]
        times += [end, *(end + delay for delay in TAIL_SAMPLES)]
        times = np.unique(np.round(np.array(times), 9))
        return times[times >= start - 1e-9]
