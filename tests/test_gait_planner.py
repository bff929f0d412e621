"""The planner core (legion_gait.planner) with an ideal robot that tracks the reference: walking, the ZMP in the
support polygon, every plan ending standing, stale commands, bad commands, goals, cancel, capture-point feedback."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
import yaml

from legion_common.parameters import ParameterError, flatten_yaml, from_flat, parameter_specs
from legion_gait.dimensions import resolve as resolve_dimensions
from legion_gait.errors import GaitError
from legion_gait.footsteps import sole_corners
from legion_gait.gait_planner_node import NodeParameters
from legion_gait.geometry import relative
from legion_gait.parameters import ROBOT_DIMENSIONS, GaitParameters
from legion_gait.planner import GaitPhase, GaitPlanner, GoalStatus
from legion_gait.robot_geometry import RobotGeometry
from legion_model.support_polygon import SupportPolygon, convex_hull_2d
from legion_testing.ideal_walker import IdealWalker, standing_state

PARAMS = resolve_dimensions(GaitParameters(), RobotGeometry())
DIMENSIONS = {name: getattr(PARAMS, name) for name in ROBOT_DIMENSIONS}


def zmp_outside_support(output) -> float:
    """Largest distance [m] of a sampled ZMP outside the soles in contact at that sample (<= 0: inside)."""
    samples = output.samples
    worst = -math.inf
    for i in range(len(samples)):
        corners = [sole_corners(sole.pose[i], 0.22, 0.10) for sole in samples.soles.values() if sole.in_contact[i]]
        support = SupportPolygon(vertices=convex_hull_2d(np.vstack(corners)))
        worst = max(worst, -support.signed_distance(samples.zmp[i, :2]))
    return worst


def feet_together(soles: dict[str, np.ndarray]) -> bool:
    rel = relative(soles["right"], soles["left"])
    return abs(rel[0]) < 0.01 and abs(rel[1] - PARAMS.step_width) < 0.01 and abs(rel[2]) < 0.02


# ------------------------------------------------------------------------------------------------ walking
def test_walks_at_the_commanded_speed_with_the_zmp_in_the_support_polygon() -> None:
    walker = IdealWalker()
    outputs = walker.run(8.0, command=(0.5, 0.0, 0.0))
    assert all(output.phase == GaitPhase.WALKING for output in outputs[2:])
    # The ZMP of every plan stays in the support polygon of the soles in contact (the pattern generator's promise).
    assert max(zmp_outside_support(output) for output in outputs[::4]) < 1e-6
    # Steady speed (after the acceleration ramp) is the command.
    com = {round(o.time, 6): o.samples.com_position[0] for o in outputs}
    speed = (com[7.5][0] - com[4.5][0]) / 3.0
    assert speed == pytest.approx(0.5, rel=0.02)
    assert abs(com[7.5][1]) < 0.05


def test_every_plan_ends_standing_and_the_reference_is_continuous() -> None:
    walker = IdealWalker()
    outputs = walker.run(5.0, command=(0.8, 0.0, 0.2))
    for output in outputs:
        samples = output.samples
        assert samples.time[0] <= output.time + 1e-9 < samples.time[1]
        assert np.all(np.diff(samples.time) > 0)
        assert all(sole.in_contact[-1] for sole in samples.soles.values())
        np.testing.assert_allclose(samples.com_velocity[-1], 0.0, atol=0.01)
        assert feet_together({side: sole.pose[-1] for side, sole in samples.soles.items()})
    for before, after in itertools.pairwise(outputs):  # the next plan starts where the last one was
        at = np.array([after.time])
        np.testing.assert_allclose(before.plan.lipm.evaluate(at).com, after.plan.lipm.evaluate(at).com, atol=1e-9)
        np.testing.assert_allclose(before.plan.lipm.evaluate(at).dcm, after.plan.lipm.evaluate(at).dcm, atol=2e-3)


def test_starts_from_standing_and_stands_when_the_command_goes_stale() -> None:
    walker = IdealWalker()
    first = walker.step()
    assert first.phase in (GaitPhase.STANDING, GaitPhase.STOPPING) and not first.footsteps
    walker.run(3.0, command=(0.5, 0.0, 0.0))
    outputs = walker.run(4.0)  # no more cmd_vel
    stale = [w for o in outputs for w in o.warnings if "stale" in w]
    assert len(stale) == 1
    assert outputs[-1].phase == GaitPhase.STANDING
    assert feet_together(outputs[-1].soles)
    # It finished the step in flight and closed the feet: at most two more steps after the command went stale.
    stale_time = next(o.time for o in outputs if o.warnings)
    landed_after = {(s.side, round(s.touch_down, 6)) for o in outputs if o.time >= stale_time for s in o.footsteps}
    assert len(landed_after) <= 2


def test_a_zero_command_stops_too_and_a_new_one_restarts() -> None:
    walker = IdealWalker()
    walker.run(3.0, command=(0.4, 0.0, 0.0))
    assert walker.run(3.0, command=(0.0, 0.0, 0.0))[-1].phase == GaitPhase.STANDING
    outputs = walker.run(2.0, command=(0.0, 0.2, 0.0))
    assert outputs[-1].phase == GaitPhase.WALKING


# ------------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("linear, angular, accepted, words", [
    ((math.nan, 0.0, 0.0), (0.0, 0.0, 0.0), False, "non-finite"),
    ((0.0, 0.0, 0.0), (0.0, 0.0, math.inf), False, "non-finite"),
    ((50.0, 0.0, 0.0), (0.0, 0.0, 0.0), False, "absurd"),
    ((1.5, 0.0, 0.0), (0.0, 0.0, 0.0), True, "clamped to 1"),
    ((0.0, -0.4, 0.0), (0.0, 0.0, 0.0), True, "clamped to -0.25"),
])
def test_bad_commands_are_rejected_or_clamped_with_a_warning(linear, angular, accepted, words) -> None:
    walker = IdealWalker()
    walker.step()
    walker.planner.set_velocity_command(0.0, (0.3, 0.0, 0.0), (0.0, 0.0, 0.0))
    warnings = walker.planner.set_velocity_command(0.05, linear, angular)
    assert any(words in warning for warning in warnings), warnings
    velocity = walker.planner.command.velocity
    if accepted:
        lower = np.array([-0.3, -0.25, -0.6])
        upper = np.array([1.0, 0.25, 0.6])
        assert np.all(velocity >= lower - 1e-12) and np.all(velocity <= upper + 1e-12)
        assert walker.planner.command.time == 0.05
    else:
        np.testing.assert_allclose(velocity, [0.3, 0.0, 0.0])  # the last good command stays
    assert walker.step().warnings == warnings  # also reported by the next update (for diagnostics)


def test_combined_commands_are_scaled_into_what_the_steps_allow() -> None:
    walker = IdealWalker()
    walker.planner.set_velocity_command(0.0, (1.0, 0.25, 0.0), (0.0, 0.0, 0.6))
    velocity = walker.planner.command.velocity
    assert np.sum((velocity / np.array([1.0, 0.25, 0.6])) ** 2) == pytest.approx(1.0)
    assert velocity[0] / velocity[2] == pytest.approx(1.0 / 0.6)  # direction kept


def test_parameters_are_checked() -> None:
    assert from_flat(GaitParameters) == GaitParameters()
    assert not GaitParameters().has_dimensions and PARAMS.has_dimensions
    with pytest.raises(ParameterError, match="max_step_forward"):
        from_flat(GaitParameters, {"max_forward_speed": 1.5, "max_step_forward": 0.5} | DIMENSIONS)
    with pytest.raises(ParameterError, match="com_height"):
        from_flat(GaitParameters, {"com_height": -1.0})
    with pytest.raises(ParameterError, match="min_step_width"):
        from_flat(GaitParameters, DIMENSIONS | {"min_step_width": 0.3})
    with pytest.raises(ParameterError, match="goal_max_corrections"):
        from_flat(GaitParameters, {"goal_max_corrections": 2.5})
    with pytest.raises(ParameterError, match="com_height"):  # the planner checks what it is given
        GaitPlanner(GaitParameters(com_height=-1.0), RobotGeometry())


def test_robot_dimensions_come_from_the_robot_file_else_from_its_size() -> None:
    small = RobotGeometry(sole_length=0.16, sole_width=0.07, standing_com_height=0.62, hip_width=0.14,
                          leg_length=0.6, walking={"step_height": 0.05})
    params = resolve_dimensions(GaitParameters(), small)
    assert params.com_height == pytest.approx(0.947 * 0.62)
    assert params.step_width == pytest.approx(0.14) and params.min_step_width == pytest.approx(0.7 * 0.14)
    assert params.max_step_forward == pytest.approx(0.53 * 0.6) and params.step_height == 0.05
    assert params.min_foot_gap == pytest.approx(0.3 * 0.07) and params.zmp_heel_to_toe == pytest.approx(0.14 * 0.16)
    # the shared 1 m/s limit is lowered to what 0.32 m steps in 0.5 s allow
    assert params.max_forward_speed == pytest.approx(0.53 * 0.6 / 0.5)
    assert resolve_dimensions(GaitParameters(com_height=0.55), small).com_height == 0.55  # a set parameter wins
    walker = IdealWalker(GaitParameters(), small)
    walker.planner.set_velocity_command(0.0, (1.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    walker.run(3.0)
    assert walker.planner.params.com_height == pytest.approx(0.947 * 0.62)


def test_every_parameter_is_described_with_its_range() -> None:
    for spec in parameter_specs(GaitParameters):
        assert spec.description, spec.name
        assert spec.low is not None and spec.high is not None and spec.low <= spec.default <= spec.high, spec.name


def test_the_stack_configuration_names_only_planner_parameters(request: pytest.FixtureRequest) -> None:
    stack = yaml.safe_load((request.config.rootpath / "config" / "stack.yaml").read_text())
    block = flatten_yaml(stack["/**/gait_planner"]["ros__parameters"])
    node_only = {spec.name for spec in parameter_specs(NodeParameters)}
    names = {spec.name for spec in parameter_specs(GaitParameters)}
    assert set(block) - node_only <= names
    from_flat(GaitParameters, {key: value for key, value in block.items() if key in names})
    from_flat(NodeParameters, {key: value for key, value in block.items() if key in node_only})


# ------------------------------------------------------------------------------------------------ walk_to
def quaternion(yaw: float) -> tuple[float, float, float, float]:
    return (0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2))


def test_walk_to_reaches_a_goal_three_metres_away_turned_ninety_degrees() -> None:
    walker = IdealWalker()
    walker.step()
    progress = walker.planner.set_goal(walker.time, "odom", (3.0, 0.0, 0.0), quaternion(math.pi / 2))
    for _ in range(600):
        walker.step()
        if progress.done:
            break
    assert progress.status == GoalStatus.SUCCEEDED, progress.message
    assert progress.distance_remaining < PARAMS.goal_position_tolerance
    assert abs(progress.angle_remaining) < PARAMS.goal_yaw_tolerance
    assert progress.steps_taken > 8
    assert walker.planner.phase == GaitPhase.STANDING


@pytest.mark.parametrize("frame, position, orientation, words", [
    ("map", (1.0, 0.0, 0.0), quaternion(0.0), "frame"),
    ("odom", (math.nan, 0.0, 0.0), quaternion(0.0), "non-finite"),
    ("odom", (1.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0), "zero quaternion"),
    ("odom", (1.0, 0.0, 0.0), (0.3, 0.0, 0.0, 0.95), "tilted"),
    ("odom", (1.0, 0.0, 1.2), quaternion(0.0), "floor"),
    ("", (100.0, 0.0, 0.0), quaternion(0.0), "farther"),
])
def test_goals_that_cannot_be_reached_are_rejected_with_a_reason(frame, position, orientation, words) -> None:
    walker = IdealWalker()
    walker.step()
    with pytest.raises(GaitError, match=words):
        walker.planner.set_goal(0.0, frame, position, orientation)
    assert walker.planner.progress is None


def test_a_goal_needs_a_robot_state() -> None:
    walker = IdealWalker()
    with pytest.raises(GaitError, match="no robot state"):
        walker.planner.set_goal(0.0, "odom", (1.0, 0.0, 0.0), quaternion(0.0))


def test_cancel_stops_safely_and_a_new_goal_preempts() -> None:
    walker = IdealWalker()
    walker.step()
    first = walker.planner.set_goal(walker.time, "odom", (2.0, 0.0, 0.0), quaternion(0.0))
    walker.run(1.0)
    second = walker.planner.set_goal(walker.time, "odom", (3.0, 0.0, 0.0), quaternion(0.0))
    assert first.status == GoalStatus.ABORTED and "preempted" in first.message
    walker.run(2.0)
    assert walker.planner.phase == GaitPhase.WALKING
    walker.planner.cancel_goal()
    outputs = walker.run(3.0)
    assert second.status == GoalStatus.CANCELED
    assert outputs[-1].phase == GaitPhase.STANDING and feet_together(outputs[-1].soles)
    assert second.final_pose is not None and 0.2 < second.final_pose[0] < 2.5


def test_velocity_commands_are_ignored_while_a_goal_is_active() -> None:
    walker = IdealWalker()
    walker.step()
    walker.planner.set_goal(walker.time, "odom", (1.0, 0.0, 0.0), quaternion(0.0))
    warnings = walker.planner.set_velocity_command(walker.time, (0.0, 0.2, 0.0), (0.0, 0.0, 0.0))
    assert any("walk_to goal is active" in warning for warning in warnings)
    assert walker.planner.command is None


# ------------------------------------------------------------------------------------------------ feedback
def walk_into_a_swing(walker: IdealWalker) -> None:
    """Walk at 0.5 m/s for 3 s, then on until a swing foot is 0.05-0.1 s into its swing."""
    walker.run(3.0, command=(0.5, 0.0, 0.0))
    for _ in range(20):
        plan = walker.planner.plan
        flight = plan.in_flight(walker.time)
        if flight is not None and 0.05 <= walker.time - plan.footsteps[flight].lift_off <= 0.1 + 1e-9:
            return
        walker.step((0.5, 0.0, 0.0))
    raise AssertionError("no swing found")


@pytest.mark.parametrize("push", [0.3, -0.3])
def test_a_lateral_push_moves_the_next_landing_towards_it(push: float) -> None:
    """A DCM error of 0.3 m/s / omega (20 N s on 65 kg) in single support: the plan re-anchors on the measured state
    and the next landing point moves sideways with the push (or the robot steps sooner when it cannot)."""
    walker = IdealWalker()
    walk_into_a_swing(walker)
    in_flight = walker.planner.plan.in_flight(walker.time)
    assert in_flight is not None
    before = walker.planner.plan.footsteps[in_flight]
    walker.disturb(np.array([0.0, push, 0.0]))
    output = walker.step((0.5, 0.0, 0.0))
    assert any("re-anchored" in event for event in output.events)
    assert any("capture-point feedback" in event or "stepping sooner" in event for event in output.events)
    assert np.sign(output.step_adjustment[1]) == np.sign(push)
    after = next(step for step in output.footsteps if step.side == before.side)
    assert (after.pose[1] - before.pose[1]) * np.sign(push) > 0.0 or after.touch_down < before.touch_down
    # The robot (ideal here) keeps walking, and the ZMP of the new plan is in the support polygon.
    assert zmp_outside_support(output) < 1e-6
    outputs = walker.run(3.0, command=(0.5, 0.0, 0.0))
    assert outputs[-1].phase == GaitPhase.WALKING


def test_a_push_towards_the_stance_foot_makes_the_robot_step_sooner() -> None:
    walker = IdealWalker()
    walk_into_a_swing(walker)
    step = walker.planner.plan.footsteps[walker.planner.plan.in_flight(walker.time)]
    towards_stance = -walker.geometry.side_sign[step.side]
    walker.disturb(np.array([0.0, 0.35 * towards_stance, 0.0]))
    output = walker.step((0.5, 0.0, 0.0))
    assert any("stepping sooner" in event for event in output.events), output.events
    landed = next(s for s in output.footsteps if s.side == step.side)
    assert landed.touch_down < step.touch_down and landed.hurried


def test_a_push_late_in_a_swing_lands_it_no_sooner_than_the_freeze_time() -> None:
    """Hurried late in its swing, the foot still gets swing_freeze_time to come down: a landing sooner than that asks
    the leg for accelerations the stance foot cannot react (on Centurion in MuJoCo it tipped the robot over)."""
    walker = IdealWalker()
    walker.run(3.0, command=(0.5, 0.0, 0.0))
    freeze = walker.planner.params.swing_freeze_time
    for _ in range(20):
        plan = walker.planner.plan
        flight = plan.in_flight(walker.time)
        if flight is not None and freeze < plan.footsteps[flight].touch_down - walker.time < 2.0 * freeze - 1e-9:
            break
        walker.step((0.5, 0.0, 0.0))
    else:
        raise AssertionError("no late swing found")
    step = plan.footsteps[flight]
    assert walker.time - step.lift_off >= walker.planner.min_swing_time  # only the freeze time bounds the landing
    walker.disturb(np.array([0.0, -0.5 * walker.geometry.side_sign[step.side], 0.0]))  # more than the landing absorbs
    now = walker.time
    output = walker.step((0.5, 0.0, 0.0))
    assert any("stepping sooner" in event for event in output.events), output.events
    landed = next(s for s in output.footsteps if s.side == step.side)
    assert landed.hurried and now + freeze - 1e-9 <= landed.touch_down < step.touch_down


def test_a_fall_stops_planning_and_aborts_the_goal() -> None:
    walker = IdealWalker()
    walker.step()
    progress = walker.planner.set_goal(walker.time, "odom", (2.0, 0.0, 0.0), quaternion(0.0))
    fallen = standing_state(walker.time)
    fallen = dataclasses.replace(fallen, com_position=np.array([0.0, 0.0, 0.3]))
    output = walker.planner.update(walker.time, fallen)
    assert output.phase == GaitPhase.FALLEN and output.samples is None
    assert progress.status == GoalStatus.ABORTED and "fell" in progress.message
    with pytest.raises(GaitError, match="fallen"):
        walker.planner.set_goal(walker.time, "odom", (2.0, 0.0, 0.0), quaternion(0.0))
    output = walker.planner.update(walker.time + 0.05, standing_state(walker.time + 0.05))
    assert output.phase != GaitPhase.FALLEN


def test_waits_for_a_first_state() -> None:
    walker = IdealWalker()
    assert walker.planner.update(0.0, None) is None


def test_the_planner_drives_the_robot_only_while_it_walks() -> None:
    walker = IdealWalker()
    assert not walker.step().active  # idle: the controller balances on its own
    taking_over = walker.step((0.3, 0.0, 0.0))
    assert taking_over.active and any("taking over" in event for event in taking_over.events)
    assert all(output.active for output in walker.run(2.0, command=(0.3, 0.0, 0.0)))
    outputs = walker.run(5.0)
    standing = [output for output in outputs if output.phase == GaitPhase.STANDING]
    assert standing[0].active  # it holds the stand for idle_time ...
    assert not outputs[-1].active  # ... then hands balance back
    first_lift_off = min(step.lift_off for step in taking_over.footsteps)
    assert first_lift_off >= taking_over.time + PARAMS.height_transition_time - 1e-9
