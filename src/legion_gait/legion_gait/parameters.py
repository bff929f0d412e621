"""Typed, range-checked parameters of the gait planner core (the `gait_planner` block of `config/stack.yaml`).

    params = from_flat(GaitParameters, {"step_duration": 0.45})   # the others keep their defaults, all checked

Times are seconds of simulation (ROS) time; every duration is rounded to a whole number of `sample_period`s when the
plan is built, so that contact changes fall on reference samples. Each field's range is checked by
`legion_common.parameters.from_flat` / `declare_parameters`; `validated()` checks the fields against each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from legion_common.parameters import param, require

GRAVITY = 9.81
"""[m/s^2]"""
ROBOT_DIMENSIONS = ("com_height", "step_width", "min_step_width", "max_step_outward", "max_step_forward",
                    "max_step_backward", "step_height", "min_foot_gap", "zmp_heel_to_toe")
"""Fields in metres that depend on the robot's size: 0 takes them from the robot (`legion_gait.dimensions`)."""
_FROM_ROBOT = ("0 (default): the robot file's walking.<name>, else derived from the model by the `dimensions` "
               "ratios.")


@dataclass(frozen=True)
class DimensionRatios:
    """Walking dimensions of a robot whose file does not give them, as fractions of its own size: robot-independent
    defaults (`legion_gait.dimensions.resolve`)."""

    com_height: float = param(0.947, "CoM height, as a fraction of the standing posture's CoM height above the soles.",
                              low=0.5, high=1.05)
    step_width: float = param(1.0, "Nominal step width, as a fraction of the lateral distance between the hips.",
                              low=0.3, high=3.0)
    min_step_width: float = param(0.7, "Narrowest step width, as a fraction of the nominal step width.", low=0.0,
                                  high=1.0)
    max_step_outward: float = param(2.25, "Widest step, as a fraction of the nominal step width.", low=1.0, high=5.0)
    max_step_forward: float = param(0.53, "Longest step forward, as a fraction of the leg length (the first leg "
                                          "joint's height above the sole with the leg straight).", low=0.05, high=1.5)
    max_step_backward: float = param(0.21, "Longest step backward, as a fraction of the leg length.", low=0.05,
                                     high=1.0)
    step_height: float = param(0.064, "Swing clearance, as a fraction of the leg length.", low=0.01, high=0.3)
    min_foot_gap: float = param(0.3, "Smallest gap between the soles, as a fraction of the sole width.", low=0.0,
                                high=2.0)
    zmp_heel_to_toe: float = param(0.14, "ZMP travel in single support, as a fraction of the sole length.", low=0.0,
                                   high=0.8)


@dataclass(frozen=True)
class NavigationParameters:
    """How walk_to plans around obstacles (`legion_gait.navigation`): the costmap from the `map` and
    `perception/obstacles` grids, the global path, the heading along it and when to replan. The robot's footprint
    itself is robot-specific: the robot file's `walking.footprint`."""

    resolution: float = param(0.05, "Cell side of the planning costmap (coarsened when the area would exceed "
                                    "max_cells).", unit="m", low=0.01, high=0.5)
    max_cells: int = param(60000, "Largest planning costmap; a larger area is planned on coarser cells.", low=1000,
                           high=1000000)
    padding: float = param(1.5, "The planning area is the box around the robot and the goal grown by this.", unit="m",
                           low=0.2, high=20.0)
    occupied_threshold: int = param(50, "An input grid cell at or above this value (0..100) is occupied; -1 "
                                        "(unknown) and lower values are traversable.", low=1, high=100)
    inflation_margin: float = param(0.15, "The path cost decays from the robot's inscribed radius (lethal within) to "
                                          "its circumscribed radius plus this margin.", unit="m", low=0.0, high=2.0)
    cost_weight: float = param(4.0, "A cell of full inflation cost counts as (1 + cost_weight) times its length in "
                                    "the path search.", low=0.0, high=100.0)
    footprint_padding: float = param(0.05, "The oriented footprint (robot file: walking.footprint) grown by this "
                                           "must stay clear of occupied cells at every pose along the path.",
                                     unit="m", low=0.0, high=0.5)
    heading_bins: int = param(24, "Headings considered along the path (360 degrees divided into this many).", low=8,
                              high=72)
    path_sample: float = param(0.1, "Spacing of the path poses whose heading is planned and whose footprint is "
                                    "checked.", unit="m", low=0.02, high=0.5)
    lookahead: float = param(0.35, "The robot steps towards the point this far ahead along the path (shorter: it "
                                   "cuts corners less).", unit="m", low=0.1, high=3.0)
    speed: float = param(0.3, "Top speed along the path (the last stretch onto the goal uses goal_speed); slower "
                               "than goal_speed: near obstacles the robot stops and turns more often.", unit="m/s",
                         low=0.05, high=3.0)
    heading_lead: float = param(0.15, "The robot turns towards the planned heading this far ahead along the path "
                                      "(turns happen where the heading plan put them).", unit="m", low=0.0, high=1.0)
    turn_slowdown: float = param(0.5, "With this much heading left to turn, the robot stops advancing and turns in "
                                      "place; with less, it advances proportionally.", unit="rad", low=0.05, high=3.2)
    replan_period: float = param(1.0, "Shortest time between two replans after the grids changed (a blocked path is "
                                      "replanned at once).", unit="s", low=0.0, high=60.0)
    replan_improvement: float = param(0.15, "A replanned path replaces the current one only when it is cheaper by "
                                            "this fraction (or the current one is blocked).", low=0.0, high=1.0)
    max_deviation: float = param(0.3, "A robot farther than this from its path replans from where it is.", unit="m",
                                 low=0.05, high=5.0)
    grid_timeout: float = param(5.0, "A perception/obstacles grid older than this is dropped (the map is kept).",
                                unit="s", low=0.1, high=600.0)
    goal_tolerance: float = param(0.10, "A goal whose footprint overlaps an obstacle is moved to the nearest pose "
                                        "(same heading) this close that is clear; farther, the goal is rejected "
                                        "(odometry drifts against the map, perception's grid is a little coarse).",
                                  unit="m", low=0.0, high=1.0)
    detour_attempts: int = param(4, "When the oriented footprint does not fit at some poses of the best path (a gap "
                                    "wider than the inscribed radius but narrower than the robot), the cells there "
                                    "are closed and the path is planned again, at most this many times.",
                                 low=0, high=20)
    detour_radius: float = param(0.15, "Radius of the area closed around each pose where the footprint did not fit.",
                                 unit="m", low=0.02, high=1.0)


@dataclass(frozen=True)
class GaitParameters:
    """The tunables of the walking pattern generator, the footstep planner and the command handling."""

    # Timing.
    step_duration: float = param(0.5, "One step: single support (swing) plus the double support that follows it.",
                                 unit="s", low=0.2, high=2.0)
    double_support_ratio: float = param(0.2, "Fraction of step_duration in double support.", low=0.05, high=0.6)
    start_duration: float = param(0.6, "Double support before the first lift-off, in which the weight shifts onto "
                                       "the first stance foot.", unit="s", low=0.2, high=3.0)
    stop_duration: float = param(0.8, "Double support after the last touch-down, in which the CoM comes to rest "
                                      "between the feet.", unit="s", low=0.2, high=3.0)
    height_transition_time: float = param(
        0.8, "Time to bring the CoM from its measured height to com_height when the planner takes over (the first "
             "step lifts off when it is done).", unit="s", low=0.1, high=10.0)
    idle_time: float = param(
        1.0, "Standing this long without a command, the planner hands balance back to the controller (it stops "
             "publishing its reference) until the next command or goal.", unit="s", low=0.0, high=60.0)
    # Pattern generator.
    com_height: float = param(0.0, "CoM height above the soles while walking and standing (the LIPM height: omega = "
                                   f"sqrt(g / com_height)). {_FROM_ROBOT}", unit="m", low=0.0, high=2.0)
    zmp_heel_to_toe: float = param(0.0, "The ZMP travels this far forward along the stance sole during single "
                                        f"support (centred on the sole). {_FROM_ROBOT}", unit="m", low=0.0, high=0.2)
    zmp_margin: float = param(0.02, "A ZMP the planner shifts to absorb a DCM error keeps this far inside the support "
                                    "polygon.", unit="m", low=0.0, high=0.1)
    # Swing foot.
    step_height: float = param(0.0, "Swing-foot clearance above the higher of its lift-off and touch-down heights. "
                                    f"{_FROM_ROBOT}", unit="m", low=0.0, high=0.3)
    swing_freeze_time: float = param(0.08, "The landing point of a swing foot is not moved any more this close to "
                                           "touch-down, and a swing landing early after a push still gets this long "
                                           "to come down.", unit="s", low=0.0, high=0.5)
    # Footstep limits (step of the swing sole relative to the stance sole, in the stance sole's frame).
    step_width: float = param(0.0, f"Nominal lateral distance between the sole centres. {_FROM_ROBOT}", unit="m",
                              low=0.0, high=1.0)
    max_step_forward: float = param(0.0, f"Longest step forward. {_FROM_ROBOT}", unit="m", low=0.0, high=1.5)
    max_step_backward: float = param(0.0, f"Longest step backward. {_FROM_ROBOT}", unit="m", low=0.0, high=1.0)
    max_step_outward: float = param(0.0, "Largest lateral sole distance (stepping out, sideways walking, push "
                                         f"recovery); more than step_width. {_FROM_ROBOT}", unit="m", low=0.0,
                                    high=1.5)
    min_step_width: float = param(0.0, "Smallest lateral sole distance (the feet never cross); at most step_width. "
                                       f"{_FROM_ROBOT}", unit="m", low=0.0, high=1.0)
    min_foot_gap: float = param(0.0, f"Smallest gap between the two sole rectangles. {_FROM_ROBOT}", unit="m",
                                low=0.0, high=0.3)
    max_step_yaw_out: float = param(0.60, "Largest rotation of the swing sole away from the stance sole (toe out).",
                                    unit="rad", low=0.0, high=1.5)
    max_step_yaw_in: float = param(0.10, "Largest rotation of the swing sole towards the stance sole (toe in).",
                                   unit="rad", low=0.0, high=1.0)
    # Velocity command.
    max_forward_speed: float = param(1.0, "Fastest commanded forward speed; faster commands are clamped.",
                                     unit="m/s", low=0.01, high=3.0)
    max_backward_speed: float = param(0.3, "Fastest commanded backward speed.", unit="m/s", low=0.0, high=2.0)
    max_lateral_speed: float = param(0.25, "Fastest commanded sideways speed.", unit="m/s", low=0.0, high=2.0)
    max_yaw_rate: float = param(0.6, "Fastest commanded turning rate.", unit="rad/s", low=0.0, high=3.0)
    max_acceleration: float = param(0.5, "The step velocity changes by at most this per second when speeding up.",
                                    unit="m/s^2", low=0.01, high=10.0)
    max_deceleration: float = param(1.5, "The step velocity changes by at most this per second when slowing down.",
                                    unit="m/s^2", low=0.01, high=10.0)
    max_yaw_acceleration: float = param(2.0, "Largest change of the step turning rate per second.", unit="rad/s^2",
                                        low=0.01, high=20.0)
    command_timeout: float = param(0.5, "A velocity command older than this is stale: finish the step and stand with "
                                        "the feet together.", unit="s", low=0.05, high=10.0)
    absurd_command_factor: float = param(
        5.0, "A command component beyond this many times its limit is absurd: rejected (the last good command stays) "
             "with a warning. Components between the limit and this are clamped with a warning.", low=1.0,
        high=1000.0)
    # Planning horizon and feedback.
    plan_horizon: float = param(1.6, "The plan keeps stepping at the commanded velocity this far ahead, then stops "
                                     "(so that a reference that is not renewed always ends standing).", unit="s",
                                low=0.5, high=10.0)
    sample_period: float = param(0.02, "Spacing of the reference samples over dense_horizon (and the time grid of "
                                       "the plan).", unit="s", low=0.002, high=0.1)
    dense_horizon: float = param(
        0.6, "The reference window is sampled every sample_period this far ahead of now, then every "
             "sparse_sample_period (plus every lift-off and touch-down) to the plan's end.", unit="s", low=0.1,
        high=10.0)
    sparse_sample_period: float = param(0.1, "Spacing of the reference samples beyond dense_horizon.", unit="s",
                                        low=0.002, high=0.5)
    min_swing_duration: float = param(0.25, "Shortest swing when landing early to recover from a push.", unit="s",
                                      low=0.05, high=2.0)
    min_double_support_duration: float = param(0.04, "Shortest double support, after an early landing.", unit="s",
                                               low=0.002, high=1.0)
    hurry_threshold: float = param(
        0.02, "When moving the next landing point within the step limits leaves a DCM error larger than this, the "
              "swing foot lands early (down to min_swing_duration, and not sooner than swing_freeze_time from now) "
              "and the next step starts sooner.", unit="m", low=0.0, high=1.0)
    dcm_error_threshold: float = param(
        0.03, "A measured DCM farther than this from the reference re-anchors the plan on the measured state, with "
              "the next landing point moved to capture it (capture-point feedback).", unit="m", low=0.005, high=0.5)
    fall_com_height_ratio: float = param(0.6, "A measured CoM lower than this fraction of com_height means a fall: "
                                              "walking stops, goals abort.", low=0.1, high=0.95)
    # walk_to.
    goal_speed: float = param(0.5, "Cruise speed towards a walk_to goal.", unit="m/s", low=0.05, high=3.0)
    goal_yaw_rate: float = param(0.6, "Turning rate towards a walk_to goal.", unit="rad/s", low=0.05, high=3.0)
    goal_approach_distance: float = param(0.5, "Closer than this the robot steps omnidirectionally onto the goal "
                                               "pose; farther, it faces its path.", unit="m", low=0.05, high=5.0)
    goal_position_tolerance: float = param(0.03, "A goal is reached when the measured base is this close to it, "
                                                 "standing, and turned within goal_yaw_tolerance.", unit="m",
                                           low=0.005, high=1.0)
    goal_yaw_tolerance: float = param(0.05, "Heading tolerance of a walk_to goal.", unit="rad", low=0.005, high=1.0)
    goal_max_distance: float = param(30.0, "Farther walk_to goals are rejected.", unit="m", low=0.1, high=1000.0)
    goal_max_corrections: int = param(3, "Corrective stepping sequences after stopping short of the tolerance before "
                                         "the goal is aborted.", low=0, high=20)
    goal_time_factor: float = param(3.0, "A goal is aborted when it takes longer than this factor times its nominal "
                                         "walking time plus 10 s.", low=1.0, high=100.0)
    dimensions: DimensionRatios = field(default_factory=DimensionRatios)
    """Ratios that derive the robot dimensions left at 0 from the robot's size."""
    navigation: NavigationParameters = field(default_factory=NavigationParameters)
    """walk_to around obstacles: costmap, path, heading, replanning."""

    def validated(self) -> GaitParameters:
        """The parameters, checked against each other (each field's range is checked by `from_flat`).

        Raises:
            legion_common.parameters.ParameterError: inconsistent values (the message says which).
        """
        require(self.sparse_sample_period >= self.sample_period, "sparse_sample_period must be >= sample_period")
        require(self.min_swing_duration <= self.swing_duration, "min_swing_duration must not exceed the swing")
        require(self.min_double_support_duration <= self.double_support_duration,
                "min_double_support_duration must not exceed the double support")
        require(self.swing_duration >= 2 * self.sample_period and self.double_support_duration >= self.sample_period,
                "single and double support must each last at least two and one sample_period")
        if not self.has_dimensions:
            return self  # checked again once `legion_gait.dimensions.resolve` has filled in the robot's dimensions
        require(self.min_step_width <= self.step_width <= self.max_step_outward,
                "min_step_width <= step_width <= max_step_outward must hold")
        require(self.zmp_heel_to_toe < self.max_step_forward, "zmp_heel_to_toe must be shorter than a step")
        require(self.max_forward_speed * self.step_duration <= self.max_step_forward + 1e-9,
                f"max_forward_speed * step_duration ({self.max_forward_speed * self.step_duration:.3f} m) must not "
                f"exceed max_step_forward ({self.max_step_forward} m)")
        require(self.max_backward_speed * self.step_duration <= self.max_step_backward + 1e-9,
                "max_backward_speed * step_duration must not exceed max_step_backward")
        require(2.0 * self.max_lateral_speed * self.step_duration <= self.max_step_outward - self.step_width + 1e-9,
                "2 * max_lateral_speed * step_duration must not exceed max_step_outward - step_width")
        require(2.0 * self.max_yaw_rate * self.step_duration <= self.max_step_yaw_out + 1e-9,
                "2 * max_yaw_rate * step_duration must not exceed max_step_yaw_out")
        return self

    @property
    def has_dimensions(self) -> bool:
        """Whether every robot dimension (`ROBOT_DIMENSIONS`) is set (non-zero)."""
        return all(getattr(self, name) > 0.0 for name in ROBOT_DIMENSIONS)

    @property
    def double_support_duration(self) -> float:
        """[s]"""
        return self.step_duration * self.double_support_ratio

    @property
    def swing_duration(self) -> float:
        """[s] single support."""
        return self.step_duration - self.double_support_duration

    @property
    def omega(self) -> float:
        """Natural frequency of the linear inverted pendulum, sqrt(g / com_height) [1/s]."""
        return math.sqrt(GRAVITY / self.com_height)
