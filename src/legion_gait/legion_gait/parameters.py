"""Typed, range-checked parameters of the gait planner core (the `gait_planner` block of `config/stack.yaml`).

    params = GaitParameters(step_duration=0.45).validated()   # the others keep their defaults

Times are seconds of simulation (ROS) time; every duration is rounded to a whole number of `sample_period`s when the
plan is built, so that contact changes fall on reference samples.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

from legion_common.parameters import require


@dataclass(frozen=True)
class GaitParameters:
    """The tunables of the walking pattern generator, the footstep planner and the command handling."""

    # Timing.
    step_duration: float = 0.5
    """[s] one step: single support (swing) plus the double support that follows it."""
    double_support_ratio: float = 0.2
    """Fraction of `step_duration` in double support."""
    start_duration: float = 0.6
    """[s] double support before the first lift-off, in which the weight shifts onto the first stance foot."""
    stop_duration: float = 0.8
    """[s] double support after the last touch-down, in which the CoM comes to rest between the feet."""
    height_transition_time: float = 0.8
    """[s] time to bring the CoM from its measured height to `com_height` when the planner takes over (the first
    step lifts off when it is done)."""
    idle_time: float = 1.0
    """[s] standing this long without a command, the planner hands balance back to the controller (it stops
    publishing its reference) until the next command or goal."""
    # Pattern generator.
    com_height: float = 0.90
    """[m] CoM height above the soles while walking and standing (the LIPM height: omega = sqrt(g / com_height))."""
    zmp_heel_to_toe: float = 0.03
    """[m] the ZMP travels this far forward along the stance sole during single support (centred on the sole)."""
    zmp_margin: float = 0.02
    """[m] the ZMP the planner may shift to absorb a DCM error keeps this far inside the support polygon."""
    # Swing foot.
    step_height: float = 0.06
    """[m] swing-foot clearance above the higher of its lift-off and touch-down heights."""
    swing_freeze_time: float = 0.08
    """[s] the landing point of a swing foot is not moved any more this close to touch-down."""
    # Footstep limits (step of the swing sole relative to the stance sole, in the stance sole's frame).
    step_width: float = 0.20
    """[m] nominal lateral distance between the sole centres."""
    max_step_forward: float = 0.50
    """[m] longest step forward."""
    max_step_backward: float = 0.20
    """[m] longest step backward."""
    max_step_outward: float = 0.45
    """[m] largest lateral sole distance (stepping out, sideways walking, push recovery)."""
    min_step_width: float = 0.14
    """[m] smallest lateral sole distance (the feet never cross)."""
    min_foot_gap: float = 0.03
    """[m] smallest gap between the two sole rectangles."""
    max_step_yaw_out: float = 0.60
    """[rad] largest rotation of the swing sole away from the stance sole (toe out)."""
    max_step_yaw_in: float = 0.10
    """[rad] largest rotation of the swing sole towards the stance sole (toe in)."""
    # Velocity command.
    max_forward_speed: float = 1.0
    """[m/s] fastest commanded forward speed; faster commands are clamped."""
    max_backward_speed: float = 0.3
    """[m/s]"""
    max_lateral_speed: float = 0.25
    """[m/s]"""
    max_yaw_rate: float = 0.6
    """[rad/s]"""
    max_acceleration: float = 0.5
    """[m/s^2] the step velocity changes by at most this per second when speeding up."""
    max_deceleration: float = 1.5
    """[m/s^2] ... and by at most this when slowing down."""
    max_yaw_acceleration: float = 2.0
    """[rad/s^2]"""
    command_timeout: float = 0.5
    """[s] a velocity command older than this is stale: finish the step and stand with the feet together."""
    absurd_command_factor: float = 5.0
    """A command component beyond this many times its limit is absurd: rejected (the last good command stays) with a
    warning. Components between the limit and this are clamped with a warning."""
    # Planning horizon and feedback.
    plan_horizon: float = 1.6
    """[s] the plan keeps stepping at the commanded velocity this far ahead, then stops (so that a reference that
    is not renewed always ends standing)."""
    sample_period: float = 0.02
    """[s] spacing of the reference samples over `dense_horizon` (and the time grid of the plan)."""
    dense_horizon: float = 0.6
    """[s] the reference window is sampled every `sample_period` this far ahead of now, then every
    `sparse_sample_period` (plus every lift-off and touch-down) to the plan's end: the far part is replaced before it
    is used, unless the planner stops, and then it only has to bring the robot to a stand."""
    sparse_sample_period: float = 0.1
    """[s]"""
    min_swing_duration: float = 0.25
    """[s] shortest swing when landing early to recover from a push."""
    min_double_support_duration: float = 0.04
    """[s] shortest double support, after an early landing."""
    hurry_threshold: float = 0.02
    """[m] when moving the next landing point within the step limits leaves a DCM error larger than this, the
    swing foot lands early (down to min_swing_duration) and the next step starts sooner (step timing adaptation)."""
    dcm_error_threshold: float = 0.03
    """[m] a measured DCM farther than this from the reference re-anchors the plan on the measured state, with the
    next landing point moved to capture it (capture-point feedback)."""
    fall_com_height_ratio: float = 0.6
    """A measured CoM lower than this fraction of `com_height` means a fall: walking stops, goals abort."""
    # walk_to.
    goal_speed: float = 0.5
    """[m/s] cruise speed towards a walk_to goal."""
    goal_yaw_rate: float = 0.6
    """[rad/s] turning rate towards a walk_to goal."""
    goal_approach_distance: float = 0.5
    """[m] closer than this the robot steps omnidirectionally onto the goal pose; farther, it faces its path."""
    goal_position_tolerance: float = 0.03
    """[m] a goal is reached when the measured base is this close to it, standing ..."""
    goal_yaw_tolerance: float = 0.05
    """[rad] ... and turned this close to its heading."""
    goal_max_distance: float = 30.0
    """[m] goals farther than this are rejected."""
    goal_max_corrections: int = 3
    """Corrective stepping sequences after stopping short of the tolerance before the goal is aborted."""
    goal_time_factor: float = 3.0
    """A goal is aborted when it takes longer than this factor times its nominal walking time plus 10 s."""

    DESCRIPTIONS: ClassVar[dict[str, str]] = {
        "step_duration": "One step (single plus double support) [s], 0.2..2.",
        "double_support_ratio": "Fraction of a step in double support, 0.05..0.6.",
        "start_duration": "Double support before the first lift-off when starting [s], 0.2..3.",
        "stop_duration": "Double support after the last touch-down when stopping [s], 0.2..3.",
        "height_transition_time": "Time to bring the CoM to com_height when the planner takes over [s], 0.1..10.",
        "idle_time": "Standing this long without a command ends the planner's reference [s], 0..60.",
        "com_height": "CoM height above the soles while walking and standing [m], 0.3..2.",
        "zmp_heel_to_toe": "Forward ZMP travel along the stance sole in single support [m], 0..0.2.",
        "zmp_margin": "Margin of a shifted ZMP inside the support polygon [m], 0..0.1.",
        "step_height": "Swing-foot clearance [m], 0.01..0.3.",
        "swing_freeze_time": "No landing-point change this close to touch-down [s], 0..0.5.",
        "step_width": "Nominal lateral distance between the sole centres [m], 0.05..1.",
        "max_step_forward": "Longest forward step [m], 0.01..1.5.",
        "max_step_backward": "Longest backward step [m], 0.01..1.",
        "max_step_outward": "Largest lateral sole distance [m], > step_width, ..1.5.",
        "min_step_width": "Smallest lateral sole distance [m], 0..step_width.",
        "min_foot_gap": "Smallest gap between the sole rectangles [m], 0..0.3.",
        "max_step_yaw_out": "Largest toe-out rotation of a step [rad], 0..1.5.",
        "max_step_yaw_in": "Largest toe-in rotation of a step [rad], 0..1.",
        "max_forward_speed": "Fastest forward speed [m/s], 0.01..3.",
        "max_backward_speed": "Fastest backward speed [m/s], 0..2.",
        "max_lateral_speed": "Fastest sideways speed [m/s], 0..2.",
        "max_yaw_rate": "Fastest turning rate [rad/s], 0..3.",
        "max_acceleration": "Largest speed-up of the step velocity [m/s^2], 0.01..10.",
        "max_deceleration": "Largest slow-down of the step velocity [m/s^2], 0.01..10.",
        "max_yaw_acceleration": "Largest change of the step turning rate [rad/s^2], 0.01..20.",
        "command_timeout": "A cmd_vel older than this is stale: stop and stand [s], 0.05..10.",
        "absurd_command_factor": "Commands beyond this many times a limit are rejected, 1..1000.",
        "plan_horizon": "Walking horizon before the plan's closing stop [s], 0.5..10.",
        "sample_period": "Spacing of the reference samples near now [s], 0.002..0.1.",
        "dense_horizon": "How far ahead the reference is sampled every sample_period [s], 0.1..10.",
        "sparse_sample_period": "Spacing of the reference samples beyond dense_horizon [s], 0.002..0.5.",
        "min_swing_duration": "Shortest swing when landing early after a push [s], 0.05..2.",
        "min_double_support_duration": "Shortest double support after an early landing [s], 0.002..1.",
        "hurry_threshold": "DCM error left after moving the landing that makes the robot step sooner [m], 0..1.",
        "dcm_error_threshold": "DCM error that re-anchors the plan and moves the next step [m], 0.005..0.5.",
        "fall_com_height_ratio": "CoM height ratio under which the robot has fallen, 0.1..0.95.",
        "goal_speed": "Cruise speed to a walk_to goal [m/s], 0.05..3.",
        "goal_yaw_rate": "Turning rate to a walk_to goal [rad/s], 0.05..3.",
        "goal_approach_distance": "Omnidirectional approach distance of a walk_to goal [m], 0.05..5.",
        "goal_position_tolerance": "Position tolerance of a walk_to goal [m], 0.005..1.",
        "goal_yaw_tolerance": "Heading tolerance of a walk_to goal [rad], 0.005..1.",
        "goal_max_distance": "Farther walk_to goals are rejected [m], 0.1..1000.",
        "goal_max_corrections": "Corrective stepping sequences before a walk_to goal aborts, 0..20.",
        "goal_time_factor": "Goal timeout as a factor of the nominal walking time, 1..100.",
    }
    RANGES: ClassVar[dict[str, tuple[float, float]]] = {
        "step_duration": (0.2, 2.0), "double_support_ratio": (0.05, 0.6), "start_duration": (0.2, 3.0),
        "stop_duration": (0.2, 3.0), "height_transition_time": (0.1, 10.0), "idle_time": (0.0, 60.0),
        "com_height": (0.3, 2.0),
        "zmp_heel_to_toe": (0.0, 0.2), "zmp_margin": (0.0, 0.1), "step_height": (0.01, 0.3),
        "swing_freeze_time": (0.0, 0.5), "step_width": (0.05, 1.0), "max_step_forward": (0.01, 1.5),
        "max_step_backward": (0.01, 1.0), "max_step_outward": (0.05, 1.5), "min_step_width": (0.0, 1.0),
        "min_foot_gap": (0.0, 0.3), "max_step_yaw_out": (0.0, 1.5), "max_step_yaw_in": (0.0, 1.0),
        "max_forward_speed": (0.01, 3.0), "max_backward_speed": (0.0, 2.0), "max_lateral_speed": (0.0, 2.0),
        "max_yaw_rate": (0.0, 3.0), "max_acceleration": (0.01, 10.0), "max_deceleration": (0.01, 10.0),
        "max_yaw_acceleration": (0.01, 20.0), "command_timeout": (0.05, 10.0), "absurd_command_factor": (1.0, 1000.0),
        "plan_horizon": (0.5, 10.0), "sample_period": (0.002, 0.1),
        "dense_horizon": (0.1, 10.0), "sparse_sample_period": (0.002, 0.5), "dcm_error_threshold": (0.005, 0.5),
        "min_swing_duration": (0.05, 2.0), "min_double_support_duration": (0.002, 1.0), "hurry_threshold": (0.0, 1.0),
        "fall_com_height_ratio": (0.1, 0.95), "goal_speed": (0.05, 3.0), "goal_yaw_rate": (0.05, 3.0),
        "goal_approach_distance": (0.05, 5.0), "goal_position_tolerance": (0.005, 1.0),
        "goal_yaw_tolerance": (0.005, 1.0), "goal_max_distance": (0.1, 1000.0), "goal_max_corrections": (0, 20),
        "goal_time_factor": (1.0, 100.0),
    }

    def validated(self) -> GaitParameters:
        """The parameters, checked against their ranges and against each other.

        Raises:
            legion_common.parameters.ParameterError: a value out of range or inconsistent (the message says which).
        """
        for field in dataclasses.fields(self):
            if field.name not in self.RANGES:
                continue
            value = getattr(self, field.name)
            low, high = self.RANGES[field.name]
            require(isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high,
                    f"{field.name} = {value!r} is outside [{low}, {high}]")
        require(self.min_step_width <= self.step_width <= self.max_step_outward,
                "min_step_width <= step_width <= max_step_outward must hold")
        require(self.min_swing_duration <= self.swing_duration, "min_swing_duration must not exceed the swing")
        require(self.min_double_support_duration <= self.double_support_duration,
                "min_double_support_duration must not exceed the double support")
        require(self.sparse_sample_period >= self.sample_period, "sparse_sample_period must be >= sample_period")
        require(self.zmp_heel_to_toe < self.max_step_forward, "zmp_heel_to_toe must be shorter than a step")
        require(self.swing_duration >= 2 * self.sample_period and self.double_support_duration >= self.sample_period,
                "single and double support must each last at least two and one sample_period")
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


GRAVITY = 9.81
"""[m/s^2]"""
